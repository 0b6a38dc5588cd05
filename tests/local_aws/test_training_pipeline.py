"""The synthesized training state machine, executed by moto's interpreter with the real job scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from fraud_core.config import load_config
from local_aws.cloudformation.deploy import StackDeployment, deploy_assembly
from local_aws.runtime import LocalAws, local_aws
from local_aws.stepfunctions.executions import ExecutionResult, run_execution
from mlops_demo.history import training_history, write_archive, write_labels

CONFIG = load_config("sandbox")
N = 20_000  # ~200 frauds over the window: enough for a meaningful PR-AUC, small enough for seconds
# Runs whose outcome depends on model quality pin their as-of: the same data every day, not the
# current calendar's (an unpinned run once drew a weak sample and the gate rightly rejected it).
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
PINNED = {"as_of": "2026-06-01T00:00:00.000Z"}


@pytest.fixture()
def pipeline(assemblies: dict[str, Path], tmp_path: Path) -> Iterator[tuple[LocalAws, dict[str, StackDeployment]]]:
    with local_aws(workdir=tmp_path) as aws:
        stacks = {s.artifact_id: s for s in deploy_assembly(aws, assemblies["sandbox"])}
        yield aws, stacks


def _alerts_queue(aws: LocalAws, topic_arn: str) -> str:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def _messages(aws: LocalAws, url: str) -> list[str]:
    got = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"])["Message"] for m in got]


def _load(aws: LocalAws, stacks: dict[str, StackDeployment], labels_transform=None, seed: int = 5,
          now: datetime | None = AS_OF, scenario: str = "baseline") -> None:
    data = stacks["DataFoundation"].outputs
    batch = training_history(CONFIG, N, seed=seed, now=now, scenario=scenario)
    labels = batch.labels()
    if labels_transform:
        labels = labels_transform(labels)
    s3 = aws.client("s3")
    write_archive(s3, data["RawBucketName"], batch.encoded())
    write_labels(s3, data["LabelsBucketName"], labels)


def _run(aws: LocalAws, stacks: dict[str, StackDeployment], name: str, payload: dict | None = PINNED,
         ) -> ExecutionResult:
    return run_execution(aws, stacks["TrainingPipeline"].outputs["TrainingStateMachineArn"], name, payload)


def _packages(aws: LocalAws, stacks: dict[str, StackDeployment]) -> list[dict]:
    group = stacks["TrainingPipeline"].outputs["ModelPackageGroupName"]
    sm = aws.client("sagemaker")
    summaries = sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    return [sm.describe_model_package(ModelPackageName=s["ModelPackageArn"]) for s in summaries]


@pytest.mark.slow
def test_pipeline_trains_gates_and_registers_an_approved_model(pipeline) -> None:
    aws, stacks = pipeline
    inbox = _alerts_queue(aws, stacks["DataFoundation"].outputs["AlertsTopicArn"])
    _load(aws, stacks)
    result = _run(aws, stacks, "first-run")

    assert result.status == "SUCCEEDED", result.cause
    assert result.states[:9] == ["AsOfGiven?", "UseGivenAsOf", "FindChampion", "ChampionExists?",
                                 "PreprocessInputsWithoutChampion", "PreprocessInputs", "Preprocess", "WaitPreprocess",
                                 "DescribePreprocess"]
    assert {"Train", "Evaluate", "ApplyQualityGate", "Register", "NotifyRegistered"} <= set(result.states)
    assert result.transitions <= 200, "Standard workflows bill per transition"
    gate = result.output["gate"]
    assert gate["passed"] is True and gate["status"] == "Approved", gate
    assert gate["candidate_pr_auc"] > 0.3

    (package,) = _packages(aws, stacks)
    assert package["ModelApprovalStatus"] == "Approved"
    meta = package["CustomerMetadataProperties"]
    assert meta["pipeline_run"] == "first-run" and float(meta["pr_auc"]) == pytest.approx(gate["candidate_pr_auc"])
    assert meta["code"].startswith("s3://cdk-hnb659fds-assets-")
    stats_uri = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    bucket, key = stats_uri[5:].split("/", 1)
    evaluation = json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert evaluation["candidate"]["pr_auc"] == pytest.approx(gate["candidate_pr_auc"])
    assert evaluation["champion"] is None
    model_uri = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    bucket, key = model_uri[5:].split("/", 1)
    assert aws.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    assert any("registered" in m and "Approved" in m for m in _messages(aws, inbox))
    assert {j.final_status for j in aws.jobs.jobs.values()} == {"Completed"}
    gate_call = aws.lambdas.invocations[-1]
    assert gate_call["ok"] and '"message":"gate decision"' in gate_call["logs"], "the function's log, not stdout"


def _scramble_older_labels(labels: list[dict]) -> list[dict]:
    """Shuffle fraud labels of the oldest 75% (train/validation windows): the candidate learns noise,
    while the newest rows (the test window both models are scored on) keep their true labels."""
    ordered = sorted(labels, key=lambda r: r["event_time"])
    cut = int(len(ordered) * 0.75)
    rng = np.random.default_rng(0)
    flags = rng.permutation([r["is_fraud"] for r in ordered[:cut]])
    return [{**r, "is_fraud": int(f)} for r, f in zip(ordered[:cut], flags, strict=True)] + ordered[cut:]


@pytest.mark.slow
def test_a_model_worse_than_the_champion_is_rejected_with_the_reason(pipeline) -> None:
    aws, stacks = pipeline
    _load(aws, stacks)
    assert _run(aws, stacks, "champion-run").output["gate"]["status"] == "Approved"

    _load(aws, stacks, labels_transform=_scramble_older_labels)  # same keys: replaces the inputs
    result = _run(aws, stacks, "worse-run")

    assert result.status == "SUCCEEDED", result.cause  # a rejection is a decision, not a failure
    gate = result.output["gate"]
    assert gate["passed"] is False and gate["status"] == "Rejected"
    assert "champion" in gate["reason"] and "rejected" in gate["reason"]
    statuses = sorted(p["ModelApprovalStatus"] for p in _packages(aws, stacks))
    assert statuses == ["Approved", "Rejected"], "nothing new is approved"
    rejected = next(p for p in _packages(aws, stacks) if p["ModelApprovalStatus"] == "Rejected")
    assert gate["reason"] in rejected["ModelPackageDescription"]


@pytest.mark.slow
def test_a_failing_job_fails_the_execution_and_notifies_with_job_and_cause(pipeline) -> None:
    aws, stacks = pipeline
    inbox = _alerts_queue(aws, stacks["DataFoundation"].outputs["AlertsTopicArn"])
    _load(aws, stacks, labels_transform=lambda labels: [{**r, "is_fraud": 0} for r in labels])
    result = _run(aws, stacks, "no-fraud-run")

    assert result.status == "FAILED"
    assert result.error == "TrainingPipelineFailed"
    assert "no-fraud-run-preprocess" in result.cause and "positive" in result.cause
    assert "Train" not in result.states and result.states[-1] == "PipelineFailed"
    messages = _messages(aws, inbox)
    assert any("no-fraud-run-preprocess" in m and "positive" in m for m in messages), messages
    assert not _packages(aws, stacks)


@pytest.mark.slow
def test_amounts_in_cents_never_become_a_model_and_the_alert_says_why(pipeline) -> None:
    aws, stacks = pipeline
    inbox = _alerts_queue(aws, stacks["DataFoundation"].outputs["AlertsTopicArn"])
    _load(aws, stacks, scenario="units_break")
    result = _run(aws, stacks, "cents-run")

    assert result.status == "FAILED"
    assert "data quality" in result.cause and "cents instead of dollars" in result.cause, result.cause
    assert "Train" not in result.states
    assert any("data quality" in m and "amount" in m for m in _messages(aws, inbox))
    assert not _packages(aws, stacks), "no model is trained, let alone approved, on amounts in cents"


@pytest.mark.slow
def test_a_throttled_create_call_is_retried_and_the_run_succeeds(pipeline) -> None:
    aws, stacks = pipeline
    _load(aws, stacks, now=None)  # the default path: as-of = the execution's start time
    aws.jobs.inject_api_error("CreateTrainingJob", "ThrottlingException", "Rate exceeded", times=1)
    clock_before = aws.clock.elapsed_seconds
    result = _run(aws, stacks, "throttled-run", payload=None)
    assert result.states[:3] == ["AsOfGiven?", "UseStartTimeAsOf", "FindChampion"]

    assert result.status == "SUCCEEDED", result.cause
    history = aws.client("stepfunctions").get_execution_history(executionArn=result.arn)["events"]
    failures = [e["taskFailedEventDetails"]["error"] for e in history if e["type"] == "TaskFailed"]
    assert failures == ["SageMaker.ThrottlingException"]
    # The retry interval passed on the simulated clock, not the wall clock.
    assert aws.clock.elapsed_seconds - clock_before >= 5


@pytest.mark.slow
def test_a_pinned_as_of_reruns_on_exactly_the_same_data(pipeline) -> None:
    aws, stacks = pipeline
    as_of = AS_OF
    data = stacks["DataFoundation"].outputs
    batch = training_history(CONFIG, N, seed=5, now=as_of)
    write_archive(aws.client("s3"), data["RawBucketName"], batch.encoded())
    write_labels(aws.client("s3"), data["LabelsBucketName"], batch.labels())
    arn = stacks["TrainingPipeline"].outputs["TrainingStateMachineArn"]
    first = run_execution(aws, arn, "pinned-1", {"as_of": "2026-06-01T00:00:00.000Z"})
    second = run_execution(aws, arn, "pinned-2", {"as_of": "2026-06-01T00:00:00.000Z"})

    assert first.status == second.status == "SUCCEEDED", (first.cause, second.cause)
    assert "UseGivenAsOf" in first.states
    assert first.output["run"]["as_of"] == "2026-06-01T00:00:00.000Z"
    evaluations = [json.loads(aws.client("s3").get_object(
        Bucket=data["CuratedBucketName"], Key=f"runs/{name}/evaluation/evaluation.json")["Body"].read())
        for name in ("pinned-1", "pinned-2")]
    assert evaluations[0]["test_window"] == evaluations[1]["test_window"]
    assert evaluations[0]["test_window"]["end"] < "2026-05-03"  # label maturity: 30 days before as_of
    assert evaluations[0]["candidate"]["pr_auc"] == evaluations[1]["candidate"]["pr_auc"]

"""The quality monitor on the local AWS: decisions whose labels matured, judged against what the live model's
evaluation promised; a regression raises the quality alarm, which starts retraining with the reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from monitoring_kit import finished, training_runs

from benchmarks.local_serving import Serving
from mlops_demo.backfill import land_served_month
from mlops_demo.explain import explain_transaction


def _outputs(serving: Serving, stack: str) -> dict[str, str]:
    return serving.stacks[stack].outputs


def _land_matured_traffic(serving: Serving, scenario: str) -> list[dict[str, Any]]:
    buckets = {b: _outputs(serving, "DataFoundation")[f"{b.capitalize()}BucketName"]
               for b in ("decisions", "raw", "labels")}
    return land_served_month(serving.aws.client, buckets, serving.endpoint, serving.aws.clock.now(), scenario)


def _run_quality_monitor(serving: Serving) -> dict[str, Any]:
    arn = _outputs(serving, "Monitoring")["QualityMonitorStateMachineArn"]
    serving.aws.client("stepfunctions").start_execution(stateMachineArn=arn, name="quality-check")
    (run, *_) = finished(serving, arn)
    assert run["status"] == "SUCCEEDED", run.get("cause")
    serving.aws.clock.advance(120)  # the alarm evaluates its period; EventBridge delivers what it causes
    finished(serving, _outputs(serving, "Monitoring")["QualityMonitorStateMachineArn"])
    return json.loads(run["output"])


@pytest.mark.slow
def test_a_new_fraud_pattern_lowers_recall_on_matured_labels_and_the_quality_alarm_starts_retraining(
        serving: Serving) -> None:
    serving.serve()
    decisions = _land_matured_traffic(serving, "concept_drift")
    output = _run_quality_monitor(serving)
    verdict = output["verdict"]
    print(verdict)  # shown by pytest -s, and when an assertion below fails
    assert verdict["verdict"] == "regressed" and "recall" in verdict["regressed_metrics"], verdict
    assert output["window"]["files"] >= 2
    name = _outputs(serving, "Monitoring")["QualityAlarmName"]
    state = serving.aws.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]
    assert state == "ALARM"
    (retrain,) = [r for r in training_runs(serving) if r["name"].startswith("quality-")]
    started = json.loads(retrain["input"])
    assert started["trigger"] == "quality" and "recall" in started["reason"], started

    # Debugging one miss: a fraud the model approved, as `mlops-demo explain` shows it.
    frauds = _frauds(serving)
    missed = next(d for d in decisions if d["decision"] == "approve" and d["transaction_id"] in frauds)
    story = explain_transaction(serving.aws.client, "sandbox", missed["transaction_id"])
    text = "\n".join(story.lines(30))
    print(text)
    assert "decision approve" in text and "label: fraud" in text and "model package arn:" in text
    assert story.explanation is not None and len(story.explanation.contributions) == 5
    assert story.captured is not None and story.captured["transaction_id"] == missed["transaction_id"]


def _frauds(serving: Serving) -> set[str]:
    labels = serving.aws.client("s3").get_object(Bucket=_outputs(serving, "DataFoundation")["LabelsBucketName"],
                                                 Key="labels/backfill.jsonl")["Body"].read().splitlines()
    return {json.loads(line)["transaction_id"] for line in labels if json.loads(line)["is_fraud"]}

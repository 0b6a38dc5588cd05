"""The retrain trigger's handler with fake AWS clients: the cool-down, one run at a time, the data-quality block,
and the reason it passes to the training pipeline."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
ALARM_EVENT = {"detail": {"alarmName": "mlops-demo-sandbox-drift", "state": {"value": "ALARM"}}}


def _load_handler() -> Any:
    spec = importlib.util.spec_from_file_location("retrain_trigger_handler",
                                                  ROOT / "lambdas" / "retrain_trigger" / "handler.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["retrain_trigger_handler"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class FakeAws:
    """Step Functions, CloudWatch, S3 and SNS, as far as the trigger calls them (boto3's parameter names)."""

    def __init__(self, last_start: datetime | None, running: int = 0, data_quality: str = "OK",
                 schema: str = "OK") -> None:
        self.last_start, self.running, self.data_quality, self.schema = last_start, running, data_quality, schema
        self.started: list[dict] = []
        self.published: list[str] = []

    def list_executions(self, stateMachineArn: str, **kwargs: Any) -> dict:
        if kwargs.get("statusFilter") == "RUNNING":
            return {"executions": [{"startDate": NOW}] * self.running}
        return {"executions": [{"startDate": self.last_start}] if self.last_start else []}

    def start_execution(self, stateMachineArn: str, input: str, name: str = "rollback") -> dict:
        self.started.append(json.loads(input))
        return {"executionArn": f"{stateMachineArn}:{name}"}

    def describe_alarms(self, AlarmNames: list[str]) -> dict:
        states = {"dq": self.data_quality, "schema": self.schema}
        return {"MetricAlarms": [{"AlarmName": n, "StateValue": states[n], "StateReason": "Threshold Crossed"}
                                 for n in AlarmNames]}

    def get_object(self, Bucket: str, Key: str) -> dict:
        report = {"reason": "drift: amount PSI 0.360, KS 0.250",
                  "data_quality": {"violations": ["units: amount: ... (observed 83x)"] if self.data_quality == "ALARM"
                                   else []}}
        return {"Body": io.BytesIO(json.dumps(report).encode())}

    def publish(self, TopicArn: str, Subject: str, Message: str) -> None:
        self.published.append(Message)


class FakeSageMaker:
    """The live model (package 2, deployed `deployed_days` ago) and its known-good predecessor (package 1)."""

    def __init__(self, deployed_days: float) -> None:
        self.deployed = (NOW - timedelta(days=deployed_days)).isoformat()

    def describe_endpoint(self, EndpointName: str) -> dict:
        return {"EndpointConfigName": "c2"}

    def describe_endpoint_config(self, EndpointConfigName: str) -> dict:
        return {"ProductionVariants": [{"ModelName": "m2"}]}

    def describe_model(self, ModelName: str) -> dict:
        return {"PrimaryContainer": {"ModelPackageName": "pkg/2", "ModelDataUrl": "s3://m/training-jobs/j2/x"}}

    def get_paginator(self, name: str) -> Any:
        class Pages:
            def paginate(self, **_: Any) -> list[dict]:
                return [{"ModelPackageSummaryList": [{"ModelPackageArn": "pkg/1"}, {"ModelPackageArn": "pkg/2"}]}]
        return Pages()

    def describe_model_package(self, ModelPackageName: str) -> dict:
        when = self.deployed if ModelPackageName == "pkg/2" else "2026-01-01T00:00:00+00:00"
        return {"ModelPackageArn": ModelPackageName, "ModelApprovalStatus": "Approved",
                "CustomerMetadataProperties": {"deployment_status": "deployed", "deployed_at": when}}


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "retrain-trigger", 256, "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:retrain-trigger"


@pytest.fixture()
def trigger(monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in {"TRAINING_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:1:stateMachine:t",
                       "COOLDOWN_HOURS": "12", "DATA_QUALITY_ALARMS": "dq,schema",
                       "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:1:alerts", "MONITORING_BUCKET": "curated",
                       "QUALITY_ALARM": "q", "ENDPOINT_NAME": "ep", "MODEL_PACKAGE_GROUP": "g",
                       "QUALITY_ROLLBACK_DAYS": "45",
                       "DEPLOY_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:1:stateMachine:deploy"}.items():
        monkeypatch.setenv(key, value)
    module = _load_handler()
    monkeypatch.setattr(module.time, "time", lambda: NOW.timestamp())
    return module


def _run(trigger: Any, aws: FakeAws, event: dict = ALARM_EVENT, deployed_days: float = 100) -> dict:
    trigger._clients.update({name: aws for name in ("stepfunctions", "cloudwatch", "s3", "sns")})
    trigger._clients["sagemaker"] = FakeSageMaker(deployed_days)
    return trigger.handler(event, Context())


QUALITY_EVENT = {"detail": {"alarmName": "q", "state": {"value": "ALARM"}}}


def test_a_quality_regression_soon_after_a_deployment_rolls_back_to_the_known_good_predecessor(trigger: Any) -> None:
    aws = FakeAws(last_start=None)
    out = _run(trigger, aws, QUALITY_EVENT, deployed_days=40)
    assert out["execution_arn"] == "arn:aws:states:us-east-1:1:stateMachine:deploy:rollback"
    assert aws.started == [{"rollback": True, "reason": "quality regression: drift: amount PSI 0.360, KS 0.250"}]
    assert "back to pkg/1" in aws.published[0]


def test_a_quality_regression_of_an_established_model_retrains(trigger: Any) -> None:
    aws = FakeAws(last_start=None)
    out = _run(trigger, aws, QUALITY_EVENT, deployed_days=60)
    assert out["started"] and aws.started[0]["trigger"] == "quality"


def test_drift_after_the_cool_down_starts_training_with_the_verdict_as_reason(trigger: Any) -> None:
    aws = FakeAws(last_start=NOW - timedelta(hours=13))
    out = _run(trigger, aws)
    assert out["started"] and aws.started == [{"trigger": "drift", "reason": "drift: amount PSI 0.360, KS 0.250"}]
    assert out["execution_arn"].endswith(":drift-20261203T100000")


def test_drift_within_the_cool_down_starts_nothing_and_says_until_when(trigger: Any) -> None:
    aws = FakeAws(last_start=NOW - timedelta(hours=2))
    out = _run(trigger, aws)
    assert not out["started"] and aws.started == []
    assert "cool-down of 12 h" in aws.published[0] and "lasts until 2026-12-03T20:00:00Z" in aws.published[0]


def test_a_run_in_progress_or_a_data_quality_alarm_holds_retraining(trigger: Any) -> None:
    running = FakeAws(last_start=None, running=1)
    assert not _run(trigger, running)["started"] and "in progress" in running.published[0]
    broken = FakeAws(last_start=None, data_quality="ALARM")
    assert not _run(trigger, broken)["started"] and "units: amount" in broken.published[0]


def test_a_transition_out_of_alarm_is_ignored(trigger: Any) -> None:
    aws = FakeAws(last_start=None)
    out = _run(trigger, aws, {"detail": {"state": {"value": "OK"}}})
    assert not out["started"] and aws.started == [] and aws.published == []


def test_a_flood_of_records_the_scorer_refused_blocks_retraining_too(trigger: Any) -> None:
    aws = FakeAws(last_start=None, schema="ALARM")
    assert not _run(trigger, aws)["started"]
    assert "blocked: the data-quality alarm is in ALARM" in aws.published[0]

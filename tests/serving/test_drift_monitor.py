"""The monitoring stack on the local AWS: the hourly drift monitor over captured traffic, its alarms, retraining on
drift, and the data-quality block. Everything runs as synthesized: schedule, state machine, job, Lambdas, alarms."""

from __future__ import annotations

import json
from typing import Any

import pytest
from monitoring_kit import alerts, finished, messages, training_runs

from benchmarks.local_serving import Serving
from fraud_core.simulator import simulate

HOUR = 3600.0


def _send(serving: Serving, scenario: str, n: int = 1_500) -> None:
    """Live traffic of `scenario` straight to the endpoint (captured at 100% in sandbox), in 100-record requests;
    records the schema refuses (amounts in cents above its limit) are left out, as the scorer dead-letters them."""
    records = [r for r in simulate(n, seed=5, scenario=scenario, start=serving.aws.clock.now(), days=1).records()
               if r["amount"] <= 100_000]
    runtime = serving.aws.client("sagemaker-runtime")
    for i in range(0, n, 100):
        runtime.invoke_endpoint(EndpointName=serving.endpoint, ContentType="application/json",
                                Body=json.dumps({"instances": records[i:i + 100]}))


def _hours(serving: Serving, hours: int) -> list[dict[str, Any]]:
    """Let `hours` of simulated time pass, an hour at a time, each hour's monitor run finishing before the next;
    returns the monitor runs started meanwhile, newest first."""
    monitor = serving.stacks["Monitoring"].outputs["DriftMonitorStateMachineArn"]
    before = {e["executionArn"] for e in finished(serving, monitor)}
    for _ in range(hours):
        serving.aws.clock.advance(HOUR)
        finished(serving, monitor)
    return [e for e in finished(serving, monitor) if e["executionArn"] not in before]


def _alarm(serving: Serving, output: str) -> str:
    name = serving.stacks["Monitoring"].outputs[output]
    return serving.aws.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]


@pytest.mark.slow
def test_covariate_shift_is_detected_on_the_shifted_features_and_starts_retraining_with_the_reason(
        serving: Serving) -> None:
    inbox = alerts(serving)
    serving.serve()
    (quiet,) = _hours(serving, 1)
    assert quiet["status"] == "SUCCEEDED" and "nothing to monitor: no capture" in quiet["output"]

    _send(serving, "covariate_shift")
    runs = _hours(serving, 2)
    verdict = json.loads(runs[-1]["output"])["verdict"]
    assert verdict["verdict"] == "drift", verdict
    assert set(verdict["drifted"]) == {"amount", "log_amount", "customer_amount_sum_24h"}
    assert verdict["data_quality_violations"] == 0
    assert _alarm(serving, "DriftAlarmName") == "ALARM" and _alarm(serving, "DataQualityAlarmName") == "OK"
    (retrain,) = training_runs(serving)
    reason = json.loads(retrain["input"])
    assert reason["trigger"] == "drift" and reason["reason"].startswith("drift: amount PSI")
    assert any("ALARM" in m and "mlops-demo-sandbox-drift" in m for m in messages(serving, inbox))


@pytest.mark.slow
def test_units_break_in_live_traffic_pages_and_blocks_retraining_saying_why(serving: Serving) -> None:
    inbox = alerts(serving)
    serving.serve()
    _send(serving, "units_break")
    runs = _hours(serving, 2)
    verdict = json.loads(runs[0]["output"])["verdict"]
    assert verdict["data_quality_violations"] >= 1
    assert _alarm(serving, "DataQualityAlarmName") == "ALARM"
    assert training_runs(serving) == [], "no model is trained on cents"
    received = messages(serving, inbox)
    assert any("mlops-demo-sandbox-data-quality" in m and "ALARM" in m for m in received)
    assert _alarm(serving, "DriftAlarmName") == "ALARM", "amounts x100 move the amount distribution too"
    blocked = [m for m in received if m.startswith("mlops-demo: retraining not started")]
    assert blocked and "blocked: the data-quality alarm is in ALARM" in blocked[0]
    assert "units: amount" in blocked[0], "the message says which check failed"

"""The drift monitor's pure parts: the hours a window reads, its manifest, the metrics a verdict becomes, and
whether a drift alarm may retrain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fraud_core.monitoring import (
    MonitorInputError,
    capture_manifest,
    hour_prefixes,
    metric_data,
    model_version,
    parse_run_event,
    window_hours,
)
from fraud_core.retrain_policy import decide_retrain, quality_action

NOW = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)


def test_a_window_reads_every_hour_it_touches_and_not_the_hour_it_ends_on() -> None:
    assert window_hours(NOW, 2) == [datetime(2026, 12, 3, 9, tzinfo=UTC), datetime(2026, 12, 3, 10, tzinfo=UTC)]
    assert window_hours(NOW.replace(minute=0), 1) == [datetime(2026, 12, 3, 9, tzinfo=UTC)]
    assert hour_prefixes(["datacapture/ep/primary/"], window_hours(NOW, 1)) == ["datacapture/ep/primary/2026/12/03/10/"]
    with pytest.raises(ValueError, match="window hours: must be >= 1"):
        window_hours(NOW, 0)


def test_the_manifest_names_keys_relative_to_the_common_prefix_and_refuses_others() -> None:
    keys = ["datacapture/ep/primary/2026/12/03/10/a.jsonl"]
    assert capture_manifest("b", "datacapture/ep", keys) == [{"prefix": "s3://b/datacapture/ep/"},
                                                             "primary/2026/12/03/10/a.jsonl"]
    with pytest.raises(ValueError, match="not under the prefix"):
        capture_manifest("b", "datacapture/other", keys)


def _report(verdict: str) -> dict:
    return {"verdict": verdict, "rows": 900, "features": [{"feature": "amount", "psi": 0.4, "ks": 0.3,
                                                           "null_rate": 0.0},
                                                          {"feature": "merchant_category", "psi": 0.01, "ks": None,
                                                           "null_rate": 0.0}],
            "prediction": {"psi": 0.05}, "data_quality": {"violations": ["units: amount: ..."]}}


def test_a_verdict_becomes_drift_and_quality_metrics_and_per_feature_statistics() -> None:
    data = {(d["MetricName"], tuple(x["Value"] for x in d["Dimensions"][1:])): d["Value"]
            for d in metric_data(_report("drift"), "ep", NOW)}
    assert data[("DriftDetected", ())] == 1.0 and data[("DataQualityViolations", ())] == 1.0
    assert data[("FeaturePSI", ("amount",))] == 0.4 and ("FeatureKS", ("merchant_category",)) not in data
    assert data[("PredictionPSI", ())] == 0.05 and data[("MonitoredRows", ())] == 900


def test_an_insufficient_window_publishes_its_row_count_only_so_the_alarms_keep_their_state() -> None:
    assert [d["MetricName"] for d in metric_data(_report("insufficient_data"), "ep", NOW)] == ["MonitoredRows"]


def test_data_quality_blocks_retraining_before_anything_else() -> None:
    decision = decide_retrain(now=NOW, running=1, last_started=NOW, cooldown_hours=12, data_quality_alarm="ALARM",
                              data_quality_reason="units: amount")
    assert not decision.start and decision.reason.startswith("blocked: the data-quality alarm is in ALARM: units")


def test_one_run_at_a_time_and_a_cool_down_after_the_last_start() -> None:
    assert "1 training run(s) in progress" in decide_retrain(
        now=NOW, running=1, last_started=None, cooldown_hours=12, data_quality_alarm="OK").reason
    held = decide_retrain(now=NOW, running=0, last_started=NOW - timedelta(hours=11, minutes=59), cooldown_hours=12,
                          data_quality_alarm="OK")
    assert not held.start and "lasts until 2026-12-03T10:31:00Z" in held.reason
    assert decide_retrain(now=NOW, running=0, last_started=NOW - timedelta(hours=12), cooldown_hours=12,
                          data_quality_alarm="INSUFFICIENT_DATA").start
    assert decide_retrain(now=NOW, running=0, last_started=None, cooldown_hours=12, data_quality_alarm="OK").start


@pytest.mark.parametrize(("event", "field"), [({"time": "2026-12-03T10:00:00Z"}, "<event>"),
                                              ({"run": "r", "time": "yesterday"}, "time"),
                                              ({"run": "r", "time": "2026-12-03T10:00:00"}, "time")])
def test_a_monitor_step_refuses_input_naming_the_field(event: dict, field: str) -> None:
    with pytest.raises(MonitorInputError, match=f"^{field}: must"):
        parse_run_event(event)
    assert parse_run_event({"run": "r", "time": "2026-12-03T10:00:00Z"}) == (datetime(2026, 12, 3, 10, tzinfo=UTC),
                                                                             "r")


def test_the_model_version_is_the_training_job_that_made_the_artifact() -> None:
    assert model_version("s3://m/training-jobs/abc-train/output/model.tar.gz") == "abc-train"
    with pytest.raises(MonitorInputError, match="model data URL: must be"):
        model_version("s3://m/elsewhere/model.tar.gz")


def test_a_quality_regression_of_a_new_model_rolls_back_and_of_an_old_one_retrains() -> None:
    recent = quality_action(now=NOW, live_deployed_at=NOW - timedelta(days=40), rollback_days=45,
                            rollback_target="arn:pkg/1")
    assert not recent.start and recent.reason.startswith("rollback:") and "back to arn:pkg/1" in recent.reason
    old = quality_action(now=NOW, live_deployed_at=NOW - timedelta(days=46), rollback_days=45,
                         rollback_target="arn:pkg/1")
    assert old.start and "deployed more than 45 days ago" in old.reason
    alone = quality_action(now=NOW, live_deployed_at=NOW - timedelta(days=40), rollback_days=45, rollback_target=None)
    assert alone.start and "no known-good predecessor" in alone.reason

"""One typed configuration per deployment profile.

Stacks, Lambda handlers, job scripts and the local runtime all read this module, so a profile is
*data* (the tables at the bottom), never `if profile == "prod"` branches scattered through code.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args, get_type_hints

RemovalPolicyName = Literal["destroy", "retain"]
DeploymentStrategy = Literal["all_at_once", "canary"]


class ConfigError(ValueError):
    """A configuration value is missing, unknown or outside its allowed values."""

    def __init__(self, key: str, rule: str, value: Any = None) -> None:
        self.key, self.rule, self.value = key, rule, value
        suffix = "" if value is None else f" (got {value!r})"
        super().__init__(f"config '{key}': {rule}{suffix}")


# key -> (lower bound, upper bound) for integer and float settings.
_RANGES: dict[str, tuple[float, float]] = {
    "raw_retention_days": (1, 3650),
    "curated_retention_days": (1, 3650),
    "capture_retention_days": (1, 3650),
    "decisions_retention_days": (1, 3650),
    "labels_retention_days": (1, 3650),
    "noncurrent_version_days": (1, 365),
    "log_retention_days": (1, 3653),
    "kinesis_shard_count": (1, 50),
    "kinesis_retention_hours": (24, 8760),
    "firehose_buffer_seconds": (0, 900),
    "firehose_buffer_mib": (1, 128),
    "endpoint_instance_count": (1, 10),
    "endpoint_max_instance_count": (1, 40),
    "canary_traffic_percent": (1, 50),
    "bake_minutes": (0, 60),  # WaitIntervalInSeconds and TerminationWaitInSeconds are at most 3600
    "capture_sampling_percent": (1, 100),
    "endpoint_poll_seconds": (5, 600),
    "deployment_timeout_minutes": (10, 240),  # UpdateEndpoint's MaximumExecutionTimeoutInSeconds: 600-14400
    "alarm_period_seconds": (10, 3600),
    "alarm_evaluation_periods": (1, 10),
    "alarm_datapoints_to_alarm": (1, 10),
    "max_5xx_rate_percent": (0.0, 100.0),
    "max_4xx_rate_percent": (0.0, 100.0),
    "max_model_latency_p99_ms": (1.0, 60_000.0),
    "scoring_batch_size": (1, 1000),  # one endpoint request per batch: the inference handler takes <= 1000
    "scoring_batching_window_seconds": (0, 300),
    "scoring_max_retries": (0, 10_000),
    "scoring_max_record_age_seconds": (60, 604_800),
    "scoring_iterator_age_alarm_seconds": (10, 86_400),
    "scoring_memory_mb": (128, 10_240),
    "pr_auc_floor": (0.0, 1.0),
    "champion_tolerance": (0.0, 0.5),
    "cost_false_negative": (0.01, 1e6),
    "cost_false_positive": (0.01, 1e6),
    "job_poll_seconds": (1, 3600),
    "job_timeout_minutes": (5, 1440),
    "pipeline_timeout_minutes": (10, 2880),
    "training_window_days": (1, 365),
    "label_maturity_days": (0, 120),
    "monitoring_window_hours": (1, 168),
    "drift_psi_threshold": (0.01, 5.0),
    "drift_ks_threshold": (0.01, 1.0),
    "drift_min_rows": (100, 10_000_000),
    "max_null_rate_increase": (0.0, 1.0),
    "max_unseen_category_share": (0.0, 1.0),
    "retrain_cooldown_hours": (0, 720),
    "quality_window_days": (1, 90),
    "quality_tolerance": (0.0, 0.5),
    "quality_min_frauds": (1, 100_000),
    "quality_rollback_days": (0, 365),
    "max_schema_violation_percent": (0.0, 100.0),
}

SCHEDULE_KEYS = ("training_schedule", "monitoring_schedule", "quality_schedule")
_SCHEDULE = re.compile(r"rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\)")

# CloudWatch Logs only accepts these retention values.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                      2557, 2922, 3288, 3653)


@dataclass(frozen=True)
class ProfileConfig:
    name: str
    removal_policy: RemovalPolicyName
    # S3 lifecycle: current objects expire after N days; old versions after noncurrent_version_days.
    raw_retention_days: int
    curated_retention_days: int
    capture_retention_days: int
    decisions_retention_days: int
    labels_retention_days: int
    noncurrent_version_days: int
    log_retention_days: int
    kinesis_shard_count: int
    kinesis_retention_hours: int
    firehose_buffer_seconds: int
    firehose_buffer_mib: int
    # Serving: one real-time endpoint, updated by blue/green deployments guarded by alarms (ADR 0006).
    endpoint_instance_type: str
    endpoint_instance_count: int
    endpoint_max_instance_count: int  # target-tracking scales up to this; equal to the count: no scaling
    deployment_strategy: DeploymentStrategy
    canary_traffic_percent: int  # share of the new fleet's instances that take traffic first (whole instances)
    bake_minutes: int  # baking period after each traffic shift, alarms watched
    capture_sampling_percent: int  # data capture of requests and responses, for the drift job
    endpoint_poll_seconds: int
    deployment_timeout_minutes: int
    alarm_period_seconds: int
    alarm_evaluation_periods: int
    alarm_datapoints_to_alarm: int
    max_5xx_rate_percent: float  # server errors per invocation, percent
    max_4xx_rate_percent: float  # client errors per invocation, percent (a model rejecting valid traffic)
    max_model_latency_p99_ms: float
    # Streaming scoring: the Lambda on the transactions stream and its event source mapping (ADR 0007).
    scoring_batch_size: int
    scoring_batching_window_seconds: int
    scoring_max_retries: int
    scoring_max_record_age_seconds: int  # then the batch goes to the on-failure queue for a redrive
    scoring_iterator_age_alarm_seconds: int
    scoring_memory_mb: int
    # Training pipeline: quality gate, costs for threshold choice, SageMaker jobs, schedule.
    pr_auc_floor: float
    champion_tolerance: float
    cost_false_negative: float  # cost of a missed fraud (chargeback), in dollars
    cost_false_positive: float  # cost of a false alarm (review + customer friction), in dollars
    auto_approve: bool
    training_schedule: str  # EventBridge expression, e.g. "rate(1 day)"; "off" disables the schedule
    processing_instance_type: str
    training_instance_type: str
    job_poll_seconds: int
    job_timeout_minutes: int
    pipeline_timeout_minutes: int
    training_window_days: int
    label_maturity_days: int
    # Monitoring: the drift job over the last window of captured traffic, its thresholds, and retraining on drift
    # (ADR 0008). Thresholds are effect sizes with a minimum sample size, never p-values.
    monitoring_schedule: str  # EventBridge expression; "off" disables scheduled drift runs
    monitoring_window_hours: int  # captured traffic of the last N hours, per run
    drift_psi_threshold: float  # a feature (or the score) drifted at PSI >= this ...
    drift_ks_threshold: float  # ... or binned KS >= this (numeric only)
    drift_min_rows: int  # below this a window is "insufficient data", never "stable"
    max_null_rate_increase: float  # data quality: null rate above the training baseline's, absolute
    max_unseen_category_share: float  # data quality: share of traffic in categories training never saw
    max_schema_violation_percent: float  # data quality: records the scorer refused (dead letters), % per hour
    retrain_cooldown_hours: int  # no drift-triggered retraining within N hours of the last pipeline start
    # Model quality on matured labels: decisions whose labels matured (label_maturity_days) against what the live
    # model's evaluation promised at registration.
    quality_schedule: str  # EventBridge expression; "off" disables the quality monitor's schedule
    quality_window_days: int  # matured decisions of the last N days (by event time) per run
    quality_tolerance: float  # a metric regressed when it falls more than this below the promise (absolute)
    quality_min_frauds: int  # fewer labelled frauds in the window: "insufficient labels", never judged
    quality_rollback_days: int  # a regression of a model deployed within N days rolls back; later, it retrains

    @classmethod
    def from_mapping(cls, name: str, values: Mapping[str, Any]) -> ProfileConfig:
        """Build and validate a profile; every error names the key and the rule."""
        known = [f.name for f in fields(cls) if f.name != "name"]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(unknown[0], f"unknown key; allowed keys: {', '.join(known)}")
        missing = [k for k in known if values.get(k) is None]
        if missing:
            raise ConfigError(missing[0], "missing value; every profile must set it")
        hints = get_type_hints(cls)
        for key in known:
            _check(key, hints[key], values[key])
        # Cross-field rules: the pipeline must outlive its three jobs (an execution timeout sends no
        # notification), and training needs raw data as old as label maturity plus the window.
        if values["pipeline_timeout_minutes"] <= 3 * values["job_timeout_minutes"]:
            raise ConfigError("pipeline_timeout_minutes", "must exceed 3 x job_timeout_minutes (three jobs run in "
                              "sequence)", values["pipeline_timeout_minutes"])
        needed = values["label_maturity_days"] + values["training_window_days"]
        if values["raw_retention_days"] < needed:
            raise ConfigError("raw_retention_days", f"must be >= label_maturity_days + training_window_days "
                              f"({needed}): training reads data that old", values["raw_retention_days"])
        _check_serving(values)
        _check_monitoring(values)
        return cls(name=name, **{k: values[k] for k in known})

    def with_overrides(self, overrides: Mapping[str, Any]) -> ProfileConfig:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"}
        values.update(overrides)
        return ProfileConfig.from_mapping(self.name, values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_serving(values: Mapping[str, Any]) -> None:
    """Cross-field rules of serving, each from an AWS constraint."""
    count = values["endpoint_instance_count"]
    if values["deployment_strategy"] == "canary":
        canary = count * values["canary_traffic_percent"] / 100
        if canary < 1 or canary > count / 2:
            raise ConfigError("canary_traffic_percent", f"with canary, must select at least one of the "
                              f"{count} instances and at most half of them (a canary is whole instances)",
                              values["canary_traffic_percent"])
    # Provisioning the new fleet takes minutes, then each traffic step and the final wait bake.
    steps = 2 if values["deployment_strategy"] == "canary" else 1
    needed = values["bake_minutes"] * (steps + 1) + 20
    if values["deployment_timeout_minutes"] < needed:
        raise ConfigError("deployment_timeout_minutes", f"must cover provisioning (20 min allowance) and "
                          f"{steps + 1} bakes of bake_minutes ({needed} min)", values["deployment_timeout_minutes"])
    if values["endpoint_max_instance_count"] < count:
        raise ConfigError("endpoint_max_instance_count", f"must be >= endpoint_instance_count ({count})",
                          values["endpoint_max_instance_count"])
    if values["alarm_datapoints_to_alarm"] > values["alarm_evaluation_periods"]:
        raise ConfigError("alarm_datapoints_to_alarm", "must be <= alarm_evaluation_periods (M out of N)",
                          values["alarm_datapoints_to_alarm"])
    age, retention = values["scoring_max_record_age_seconds"], values["kinesis_retention_hours"] * 3600
    if age + 3600 > retention:
        raise ConfigError("scoring_max_record_age_seconds", f"must leave at least an hour of stream retention "
                          f"({retention} s) for a redrive to read discarded records back", age)
    period = values["alarm_period_seconds"]
    if period not in (10, 20, 30) and period % 60:
        raise ConfigError("alarm_period_seconds", "must be 10, 20, 30 or a multiple of 60 (CloudWatch periods)",
                          period)


def _check_monitoring(values: Mapping[str, Any]) -> None:
    """The drift run reads captured traffic: the window must still be in the capture bucket."""
    window, kept = values["monitoring_window_hours"], values["capture_retention_days"] * 24
    if window > kept:
        raise ConfigError("monitoring_window_hours", f"must be <= capture_retention_days x 24 ({kept} h): the "
                          "window is read from the capture bucket", window)
    first = values["label_maturity_days"] + values["quality_window_days"]
    if values["quality_rollback_days"] < first:
        raise ConfigError("quality_rollback_days", f"must be >= label_maturity_days + quality_window_days ({first}):"
                          " a model's own decisions are first judged that long after its deployment",
                          values["quality_rollback_days"])
    # The quality window ends label_maturity_days ago; its decisions must still be kept.
    oldest = values["label_maturity_days"] + values["quality_window_days"]
    if oldest > values["decisions_retention_days"]:
        raise ConfigError("decisions_retention_days", f"must be >= label_maturity_days + quality_window_days "
                          f"({oldest}): the quality monitor reads decisions that old",
                          values["decisions_retention_days"])


def _check(key: str, hint: Any, value: Any) -> None:
    choices = get_args(hint)
    if choices:  # a Literal: one of a fixed set of strings
        if value not in choices:
            raise ConfigError(key, f"must be one of {', '.join(choices)}", value)
        return
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, "must be true or false", value)
        return
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, "must be an integer", value)
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, "must be a number", value)
    elif hint is str and (not isinstance(value, str) or not value):
        raise ConfigError(key, "must be a non-empty string", value)
    if key in _RANGES:
        lo, hi = _RANGES[key]
        if not lo <= value <= hi:
            raise ConfigError(key, f"must be between {lo:g} and {hi:g}", value)
    if key in SCHEDULE_KEYS and value != "off" and not _SCHEDULE.fullmatch(value):
        raise ConfigError(key, 'must be "off", rate(N unit) or cron(...)', value)
    if key == "log_retention_days" and value not in LOG_RETENTION_DAYS:
        raise ConfigError(key, f"must be one of CloudWatch's retention values {LOG_RETENTION_DAYS}", value)


PROFILES: dict[str, dict[str, Any]] = {
    # Cheapest safe footprint: one shard, one small instance, short retention, destroyable.
    "sandbox": {
        "removal_policy": "destroy",
        "raw_retention_days": 90,  # training reads transactions 30-58 days old (label maturity + window)
        "curated_retention_days": 30,
        "capture_retention_days": 7,
        "decisions_retention_days": 45,  # the quality monitor reads decisions label_maturity_days + 7 days old
        "labels_retention_days": 60,
        "noncurrent_version_days": 3,
        "log_retention_days": 7,
        "kinesis_shard_count": 1,
        "kinesis_retention_hours": 24,
        "firehose_buffer_seconds": 60,
        "firehose_buffer_mib": 5,
        "endpoint_instance_type": "ml.t2.medium",
        "endpoint_instance_count": 1,
        "endpoint_max_instance_count": 1,
        "deployment_strategy": "all_at_once",  # one instance cannot host a canary
        "canary_traffic_percent": 50,
        "bake_minutes": 5,
        "capture_sampling_percent": 100,
        "endpoint_poll_seconds": 30,
        "deployment_timeout_minutes": 60,
        "alarm_period_seconds": 60,
        "alarm_evaluation_periods": 3,
        "alarm_datapoints_to_alarm": 2,
        "max_5xx_rate_percent": 1.0,
        "max_4xx_rate_percent": 5.0,
        "max_model_latency_p99_ms": 100.0,
        "scoring_batch_size": 100,
        "scoring_batching_window_seconds": 5,  # low volume: fuller batches, fewer invocations
        "scoring_max_retries": 3,
        "scoring_max_record_age_seconds": 3600,
        "scoring_iterator_age_alarm_seconds": 300,
        "scoring_memory_mb": 512,
        "pr_auc_floor": 0.30,
        "champion_tolerance": 0.02,
        "cost_false_negative": 150.0,
        "cost_false_positive": 5.0,
        "auto_approve": True,
        "training_schedule": "off",  # sandbox trains on demand only: no surprise bills
        "processing_instance_type": "ml.t3.medium",
        "training_instance_type": "ml.m5.large",
        "job_poll_seconds": 30,
        "job_timeout_minutes": 60,
        "pipeline_timeout_minutes": 240,
        "training_window_days": 28,
        "label_maturity_days": 30,
        "monitoring_schedule": "rate(1 hour)",  # a processing job an hour (billed per second of ml.t3.medium)
        "monitoring_window_hours": 24,  # a full daily cycle of traffic per run
        "drift_psi_threshold": 0.2,
        "drift_ks_threshold": 0.15,
        "drift_min_rows": 500,
        "max_null_rate_increase": 0.05,
        "max_unseen_category_share": 0.05,
        "max_schema_violation_percent": 2.0,  # the poison scenario's ~1% is a producer bug to see, not a flood
        "retrain_cooldown_hours": 12,
        "quality_schedule": "rate(1 day)",
        "quality_window_days": 7,
        "quality_tolerance": 0.05,
        "quality_min_frauds": 30,
        "quality_rollback_days": 45,  # a model's own decisions first mature after 30 days: its first two weeks
    },
    # Production shape: data retained, canary on several instances, longer audit trail.
    "prod": {
        "removal_policy": "retain",
        "raw_retention_days": 400,
        "curated_retention_days": 400,
        "capture_retention_days": 90,
        "decisions_retention_days": 400,
        "labels_retention_days": 730,
        "noncurrent_version_days": 30,
        "log_retention_days": 90,
        "kinesis_shard_count": 2,
        "kinesis_retention_hours": 168,
        "firehose_buffer_seconds": 300,
        "firehose_buffer_mib": 64,
        "endpoint_instance_type": "ml.m5.large",
        "endpoint_instance_count": 4,
        "endpoint_max_instance_count": 8,
        "deployment_strategy": "canary",
        "canary_traffic_percent": 25,  # one of four instances
        "bake_minutes": 15,
        "capture_sampling_percent": 25,
        "endpoint_poll_seconds": 30,
        "deployment_timeout_minutes": 120,
        "alarm_period_seconds": 60,
        "alarm_evaluation_periods": 3,
        "alarm_datapoints_to_alarm": 2,
        "max_5xx_rate_percent": 1.0,
        "max_4xx_rate_percent": 5.0,
        "max_model_latency_p99_ms": 50.0,
        "scoring_batch_size": 100,  # the request shape the autoscaling target was measured with (capacity.md)
        "scoring_batching_window_seconds": 1,
        "scoring_max_retries": 5,
        "scoring_max_record_age_seconds": 21_600,
        "scoring_iterator_age_alarm_seconds": 120,
        "scoring_memory_mb": 1024,
        "pr_auc_floor": 0.40,
        "champion_tolerance": 0.01,
        "cost_false_negative": 150.0,
        "cost_false_positive": 5.0,
        "auto_approve": False,  # a person approves what serves production traffic
        "training_schedule": "rate(7 days)",
        "processing_instance_type": "ml.m5.xlarge",
        "training_instance_type": "ml.m5.xlarge",
        "job_poll_seconds": 60,
        "job_timeout_minutes": 120,
        "pipeline_timeout_minutes": 480,
        "training_window_days": 90,
        "label_maturity_days": 30,
        "monitoring_schedule": "rate(1 hour)",
        "monitoring_window_hours": 24,  # a full daily cycle: hour-of-day mix does not read as drift
        "drift_psi_threshold": 0.2,
        "drift_ks_threshold": 0.15,
        "drift_min_rows": 2000,
        "max_null_rate_increase": 0.02,
        "max_unseen_category_share": 0.02,
        "max_schema_violation_percent": 2.0,
        "retrain_cooldown_hours": 72,
        "quality_schedule": "rate(1 day)",
        "quality_window_days": 7,
        "quality_tolerance": 0.03,
        "quality_min_frauds": 100,
        "quality_rollback_days": 60,
    },
}

DEFAULT_PROFILE = "sandbox"


def load_config(profile: str | None = None, overrides: Mapping[str, Any] | None = None) -> ProfileConfig:
    """The validated config for `profile` (default sandbox), with optional per-key overrides."""
    name = profile or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ConfigError("profile", f"unknown profile; allowed values: {', '.join(PROFILES)}", name)
    values = dict(PROFILES[name])
    values.update(overrides or {})
    return ProfileConfig.from_mapping(name, values)

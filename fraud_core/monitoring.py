"""The drift monitor's pure parts: which captured files a run reads, and what it publishes to CloudWatch.

A scheduled run of the drift monitor (stacks/monitoring_stack.py) looks at the last ``window_hours`` of the
endpoint's data capture. SageMaker writes capture files under
``<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/`` by the hour of the request ("Capture data from real-time
endpoint", https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html), so the
window is a list of hour prefixes per variant, and the processing job reads exactly those files through a
manifest (S3DataType ManifestFile: the first entry is the common prefix, the rest keys relative to it,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_S3DataSource.html).

The verdict becomes CloudWatch metrics in one namespace, with the endpoint as a dimension: 0/1 for drift
and a count of data-quality violations (what the alarms watch), and per feature PSI, KS and null rate (what
the dashboard plots). An "insufficient data" window publishes its row count only, so the alarms, which treat
missing data as "keep the current state", neither fire nor clear on a quiet hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Final

NAMESPACE: Final = "MlopsDemo/Monitoring"
DRIFT_METRIC: Final = "DriftDetected"  # 1 when the window drifted, 0 when stable
DATA_QUALITY_METRIC: Final = "DataQualityViolations"
ROWS_METRIC: Final = "MonitoredRows"
FEATURE_METRICS: Final = (("FeaturePSI", "psi"), ("FeatureKS", "ks"), ("FeatureNullRate", "null_rate"))
PREDICTION_METRIC: Final = "PredictionPSI"
PUT_METRIC_DATA_MAX: Final = 1000  # MetricData entries per PutMetricData request
# The latest report of each monitor (kind: drift | quality), beside the runs' reports in the curated bucket: written
# by the metrics step, read by the retrain trigger for the reason it passes on.
LATEST_REPORT_KEY: Final = "monitoring/latest/{kind}_report.json"


class MonitorInputError(ValueError):
    """A monitor step's input is not what its state machine sends; the message names the field and the rule."""


def parse_run_event(event: Any) -> tuple[datetime, str]:
    """(time, run) of a monitor's PlanWindow input {"time": <ISO-8601 with zone>, "run": <execution name>}."""
    if not isinstance(event, dict) or not isinstance(event.get("run"), str) or not event["run"]:
        raise MonitorInputError(f"<event>: must be a JSON object with run (non-empty string); got {event!r}")
    try:
        when = datetime.fromisoformat(str(event.get("time", "")).replace("Z", "+00:00"))
    except ValueError:
        raise MonitorInputError(f"time: must be an ISO-8601 timestamp (got {event.get('time')!r})") from None
    if when.tzinfo is None:
        raise MonitorInputError(f"time: must carry a time zone, e.g. 2026-12-03T10:00:00Z (got {event['time']!r})")
    return when, event["run"]


def window_hours(end: datetime, hours: int) -> list[datetime]:
    """The whole hours a window of ``hours`` ending at ``end`` touches, oldest first (UTC)."""
    if hours < 1:
        raise ValueError(f"window hours: must be >= 1 (got {hours})")
    end = end.astimezone(timezone.utc)
    last = end.replace(minute=0, second=0, microsecond=0)
    if last == end:  # a window ending on the hour does not include that hour
        last -= timedelta(hours=1)
    return [last - timedelta(hours=h) for h in range(hours - 1, -1, -1)]


def hour_prefixes(variant_prefixes: Iterable[str], hours: Sequence[datetime]) -> list[str]:
    """``<variant prefix>yyyy/mm/dd/hh/`` for every variant and hour."""
    return [f"{v.rstrip('/')}/{h:%Y/%m/%d/%H}/" for v in variant_prefixes for h in hours]


def capture_manifest(bucket: str, base_prefix: str, keys: Sequence[str]) -> list[Any]:
    """A ManifestFile input: the common prefix, then every key relative to it."""
    base = base_prefix.rstrip("/") + "/"
    outside = [k for k in keys if not k.startswith(base)]
    if outside:
        raise ValueError(f"capture manifest: key {outside[0]!r} is not under the prefix {base!r}")
    return [{"prefix": f"s3://{bucket}/{base}"}, *(k[len(base):] for k in keys)]


def metric_data(report: Mapping[str, Any], endpoint: str, at: datetime) -> list[dict[str, Any]]:
    """PutMetricData entries for one drift report (``sagemaker_jobs/drift.py``'s drift_report.json)."""
    endpoint_dim = {"Name": "EndpointName", "Value": endpoint}

    def datum(name: str, value: float, unit: str = "None", **dims: str) -> dict[str, Any]:
        extra = [{"Name": k, "Value": v} for k, v in dims.items()]
        return {"MetricName": name, "Dimensions": [endpoint_dim, *extra], "Timestamp": at,
                "Value": float(value), "Unit": unit}

    data = [datum(ROWS_METRIC, report["rows"], "Count")]
    if report["verdict"] == "insufficient_data":
        return data
    data.append(datum(DRIFT_METRIC, 1.0 if report["verdict"] == "drift" else 0.0))
    data.append(datum(DATA_QUALITY_METRIC, len(report.get("data_quality", {}).get("violations", [])), "Count"))
    for feature in report["features"]:
        for metric, key in FEATURE_METRICS:
            if feature.get(key) is not None:
                data.append(datum(metric, feature[key], Feature=feature["feature"]))
    if report.get("prediction"):
        data.append(datum(PREDICTION_METRIC, report["prediction"]["psi"]))
    return data


def chunks(items: Sequence[Any], size: int = PUT_METRIC_DATA_MAX) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


# --- model quality -------------------------------------------------------------------------------------------
QUALITY_REGRESSED_METRIC: Final = "QualityRegressed"  # 1 when the window regressed against the promise, else 0
QUALITY_METRICS: Final = (("ModelRecall", "recall"), ("ModelPrecision", "precision"), ("ModelPRAUC", "pr_auc"))
MATURED_METRIC: Final = "MaturedDecisions"


def quality_window(as_of: datetime, label_maturity_days: float, window_days: int) -> tuple[datetime, datetime]:
    """Event times whose labels have matured by ``as_of``: the ``window_days`` before the maturity cutoff."""
    end = as_of.astimezone(timezone.utc) - timedelta(days=label_maturity_days)
    return end - timedelta(days=window_days), end


def model_version(model_data_url: str) -> str:
    """The training job that made a model (``.../training-jobs/<job>/output/model.tar.gz``): what the inference
    code answers as ``model_version`` and the scorer writes on every decision."""
    _, found, rest = model_data_url.partition("/training-jobs/")
    if not found or "/" not in rest:
        raise MonitorInputError(f"model data URL: must be .../training-jobs/<job>/output/model.tar.gz "
                                f"(got {model_data_url!r})")
    return rest.split("/", 1)[0]


def day_prefixes(template: str, start: datetime, end: datetime) -> list[str]:
    """``template`` (a strftime pattern, e.g. ``decisions/date=%Y-%m-%d/``) for every UTC day in [start, end]."""
    day = start.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    while day <= end:
        out.append(day.strftime(template))
        day += timedelta(days=1)
    return out


def quality_metric_data(report: Mapping[str, Any], endpoint: str, at: datetime) -> list[dict[str, Any]]:
    """PutMetricData entries for one quality report (``sagemaker_jobs/model_quality.py``'s quality_report.json).

    Insufficient labels publish the matured count only: the quality alarm keeps its state, as for drift."""
    dims = [{"Name": "EndpointName", "Value": endpoint}]

    def datum(name: str, value: float, unit: str = "None") -> dict[str, Any]:
        return {"MetricName": name, "Dimensions": dims, "Timestamp": at, "Value": float(value), "Unit": unit}

    data = [datum(MATURED_METRIC, report["counts"]["joined"], "Count")]
    if report["verdict"] == "insufficient_labels":
        return data
    data.append(datum(QUALITY_REGRESSED_METRIC, 1.0 if report["verdict"] == "regressed" else 0.0))
    data += [datum(name, report["overall"][key]) for name, key in QUALITY_METRICS
             if report["overall"].get(key) is not None]
    return data

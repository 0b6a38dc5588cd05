"""Drift and quality monitors, last step: publish a job's report as CloudWatch metrics (the alarms and the dashboard
read them) and keep it as the latest of its kind (the retrain trigger passes its reason to the training pipeline).

Thin by design: the metrics are fraud_core.monitoring.metric_data (drift) and quality_metric_data (quality).
Input: {"kind": "drift" | "quality", "report_uri": s3://.../<report>.json, "model_package_arn": ...}. Output:
{"verdict", "reason", "drifted", "data_quality_violations", "regressed_metrics"}.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from fraud_core.monitoring import LATEST_REPORT_KEY, NAMESPACE, chunks, metric_data, quality_metric_data

logger = Logger(service="monitoring")
_clients: dict[str, Any] = {}
PUBLISHERS = {"drift": metric_data, "quality": quality_metric_data}


def _client(name: str) -> Any:
    if name not in _clients:
        _clients[name] = boto3.client(name)
    return _clients[name]


def _split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"report_uri: must be s3://bucket/key (got {uri!r})")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    kind = event.get("kind", "drift")
    if kind not in PUBLISHERS:
        raise ValueError(f"kind: must be one of {', '.join(PUBLISHERS)} (got {kind!r})")
    bucket, key = _split(str(event.get("report_uri", "")))
    # Stamped when published, not at the window's end: an alarm evaluates the latest period, and a datapoint
    # back-dated by the job's run time would land in a period already evaluated (and be missed).
    at = datetime.fromtimestamp(time.time(), UTC)
    s3 = _client("s3")
    report = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    for part in chunks(PUBLISHERS[kind](report, os.environ["ENDPOINT_NAME"], at)):
        _client("cloudwatch").put_metric_data(Namespace=NAMESPACE, MetricData=list(part))
    latest = {**report, "report_uri": event["report_uri"], "model_package_arn": event.get("model_package_arn", "")}
    s3.put_object(Bucket=bucket, Key=LATEST_REPORT_KEY.format(kind=kind), Body=json.dumps(latest).encode())
    violations = report.get("data_quality", {}).get("violations", [])
    logger.info(f"{kind} verdict", extra={"verdict": report["verdict"], "reason": report["reason"]})
    return {"verdict": report["verdict"], "reason": report["reason"], "drifted": report.get("drifted", []),
            "data_quality_violations": len(violations), "regressed_metrics": report.get("regressed_metrics", [])}

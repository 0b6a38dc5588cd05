"""Quality monitor, first step: which matured decisions this run judges, with their transactions, and what the live
model promised.

Thin by design: the window is fraud_core.monitoring.quality_window (training's label-maturity rule), the live model
fraud_core.live_model. Input: {"time": <ISO-8601 as-of>, "run": <execution name>}. Writes manifests of the window's
decision and raw-transaction objects to s3://$MANIFEST_BUCKET/monitoring/<run>/. Output: {"ready", "reason",
"decisions_manifest", "transactions_manifest", "evaluation_uri", "model_package_arn", "model_version", "as_of",
"window_start", "window_end", "files"}; the job judges only the live model's decisions (model_version), so right
after a deployment, before its decisions' labels mature, the verdict is "insufficient labels", never the previous
model's quality held against the new model's promise. "ready" is false when nothing serves or no decision of the
window was kept.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from fraud_core.live_model import live_model
from fraud_core.monitoring import (
    MonitorInputError,
    capture_manifest,
    day_prefixes,
    model_version,
    parse_run_event,
    quality_window,
)

logger = Logger(service="monitoring")
_clients: dict[str, Any] = {}
DECISIONS_PREFIX = "decisions/date=%Y-%m-%d/"  # fraud_core.scoring.decisions_key: by event date
RAW_PREFIX = "transactions/year=%Y/month=%m/day=%d/"  # the Firehose archive's prefix (data foundation stack)


def _client(name: str) -> Any:
    if name not in _clients:
        _clients[name] = boto3.client(name)
    return _clients[name]



def _keys(bucket: str, prefixes: list[str]) -> list[str]:
    paginator, keys = _client("s3").get_paginator("list_objects_v2"), []
    for prefix in prefixes:
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def _manifest(run: str, name: str, bucket: str, base: str, keys: list[str]) -> str:
    out_bucket, key = os.environ["MANIFEST_BUCKET"], f"monitoring/{run}/{name}.manifest"
    _client("s3").put_object(Bucket=out_bucket, Key=key, Body=json.dumps(capture_manifest(bucket, base, keys)).encode())
    return f"s3://{out_bucket}/{key}"


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    as_of, run = parse_run_event(event)
    start, end = quality_window(as_of, float(os.environ["LABEL_MATURITY_DAYS"]), int(os.environ["WINDOW_DAYS"]))
    out: dict[str, Any] = {"ready": False, "decisions_manifest": "", "transactions_manifest": "", "files": 0,
                           "evaluation_uri": "", "model_package_arn": "", "model_version": "",
                           "as_of": f"{as_of:%Y-%m-%dT%H:%M:%SZ}",
                           "window_start": f"{start:%Y-%m-%dT%H:%M:%SZ}", "window_end": f"{end:%Y-%m-%dT%H:%M:%SZ}"}
    sm = _client("sagemaker")
    serving = live_model(sm, os.environ["ENDPOINT_NAME"])
    if serving is None or not serving.package_arn:
        return {**out, "reason": "nothing to judge: no registered model serves"}
    package = sm.describe_model_package(ModelPackageName=serving.package_arn)
    out.update(model_package_arn=serving.package_arn, model_version=model_version(serving.model_data_url),
               evaluation_uri=package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"])
    decisions_bucket, raw_bucket = os.environ["DECISIONS_BUCKET"], os.environ["RAW_BUCKET"]
    decisions = _keys(decisions_bucket, day_prefixes(DECISIONS_PREFIX, start, end))
    if not decisions:
        return {**out, "reason": f"nothing to judge: no decisions with event times from {out['window_start']} to "
                                 f"{out['window_end']} (labels mature after the label-maturity days)"}
    transactions = _keys(raw_bucket, day_prefixes(RAW_PREFIX, start, end))
    if not transactions:  # the stream archives every transaction it scores: their absence is a fault to see
        raise MonitorInputError(f"transactions: {len(decisions):,} decision files in the window, but the archive "
                                f"s3://{raw_bucket}/transactions/ holds nothing from {out['window_start']} to "
                                f"{out['window_end']}")
    out.update(decisions_manifest=_manifest(run, "decisions", decisions_bucket, "decisions/", decisions),
               transactions_manifest=_manifest(run, "transactions", raw_bucket, "transactions/", transactions),
               files=len(decisions) + len(transactions))
    logger.info("quality window", extra={"decisions": len(decisions), "transactions": len(transactions),
                                         "start": out["window_start"], "end": out["window_end"]})
    return {**out, "ready": True, "reason": f"{len(decisions):,} decision and {len(transactions):,} transaction "
                                            f"files from {out['window_start']} to {out['window_end']}"}

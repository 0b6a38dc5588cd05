"""Drift monitor, first step: which captured traffic this run reads, and which model's baseline it compares with.

Thin by design: the window and manifest are fraud_core.monitoring, the live model fraud_core.live_model.
Input: {"time": <ISO-8601 end of the window>, "run": <execution name>}. Writes the run's capture manifest to
s3://$MANIFEST_BUCKET/monitoring/<run>/capture.manifest. Output: {"ready", "reason", "manifest_uri", "files",
"model_data_url", "model_package_arn", "window_start", "window_end"}; "ready" is false when nothing serves or
nothing was captured in the window (a result, not an error: the monitor then ends without a job).
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from fraud_core.live_model import live_model
from fraud_core.monitoring import capture_manifest, hour_prefixes, parse_run_event, window_hours

logger = Logger(service="monitoring")
_clients: dict[str, Any] = {}  # created on first use, reused across invocations; tests inject their own


def _client(name: str) -> Any:
    if name not in _clients:
        _clients[name] = boto3.client(name)
    return _clients[name]



def _keys(s3: Any, bucket: str, prefixes: list[str]) -> list[str]:
    keys: list[str] = []
    for prefix in prefixes:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def _variants(s3: Any, bucket: str, endpoint_prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=endpoint_prefix, Delimiter="/")
    return [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    end, run = parse_run_event(event)
    hours = int(os.environ["WINDOW_HOURS"])
    endpoint, bucket = os.environ["ENDPOINT_NAME"], os.environ["CAPTURE_BUCKET"]
    start = end - timedelta(hours=hours)
    out: dict[str, Any] = {"ready": False, "manifest_uri": "", "files": 0, "model_data_url": "",
                           "model_package_arn": "", "window_start": f"{start:%Y-%m-%dT%H:%M:%SZ}",
                           "window_end": f"{end:%Y-%m-%dT%H:%M:%SZ}"}
    serving = live_model(_client("sagemaker"), endpoint)
    if serving is None:
        return {**out, "reason": f"nothing to monitor: endpoint {endpoint} does not exist"}
    out.update(model_data_url=serving.model_data_url, model_package_arn=serving.package_arn or "")
    s3 = _client("s3")
    endpoint_prefix = f"{os.environ['CAPTURE_PREFIX'].strip('/')}/{endpoint}/"
    keys = _keys(s3, bucket, hour_prefixes(_variants(s3, bucket, endpoint_prefix), window_hours(end, hours)))
    if not keys:
        return {**out, "reason": f"nothing to monitor: no capture under s3://{bucket}/{endpoint_prefix} in the "
                                 f"{hours} h before {out['window_end']}"}
    manifest_bucket = os.environ["MANIFEST_BUCKET"]
    manifest_key = f"monitoring/{run}/capture.manifest"
    s3.put_object(Bucket=manifest_bucket, Key=manifest_key,
                  Body=json.dumps(capture_manifest(bucket, endpoint_prefix, keys)).encode())
    logger.info("capture window", extra={"files": len(keys), "start": out["window_start"], "end": out["window_end"],
                                         "package": serving.package_arn})
    return {**out, "ready": True, "files": len(keys), "manifest_uri": f"s3://{manifest_bucket}/{manifest_key}",
            "reason": f"{len(keys):,} capture files of the {hours} h before {out['window_end']}"}

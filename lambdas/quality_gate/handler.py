"""Quality gate of the training pipeline: read evaluation.json, apply the gate policy, return the decision.

Thin by design: the policy is fraud_core.gate.decide; this handler only parses, reads S3 and logs.
Configuration comes from the environment the stack sets from the profile config.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from fraud_core.gate import decide

logger = Logger(service="quality-gate")
_s3 = None  # created on first use, reused across invocations; tests inject their own


def _client() -> Any:
    global _s3
    if _s3 is None:
        _s3 = boto3.client("s3")
    return _s3


class GateInputError(ValueError):
    pass


def _require(event: dict[str, Any], field: str) -> str:
    value = event.get(field)
    if not isinstance(value, str) or not value:
        raise GateInputError(f"{field}: required non-empty string (got {value!r})")
    return value


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise GateInputError("<event>: must be a JSON object with evaluation_bucket and evaluation_key")
    bucket, key = _require(event, "evaluation_bucket"), _require(event, "evaluation_key")
    body = _client().get_object(Bucket=bucket, Key=key)["Body"].read()
    evaluation = json.loads(body)
    decision = decide(
        evaluation,
        floor=float(os.environ["PR_AUC_FLOOR"]),
        tolerance=float(os.environ["CHAMPION_TOLERANCE"]),
        auto_approve=os.environ["AUTO_APPROVE"] == "true",
    )
    result = dataclasses.asdict(decision)
    logger.info("gate decision", extra={"decision": result, "evaluation": f"s3://{bucket}/{key}"})
    return result

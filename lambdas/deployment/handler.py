"""Deploy workflow helper: find the package to roll back to (the live one's predecessor that deployed cleanly).

Thin by design: the choice is fraud_core.deployment.choose_rollback_target; this handler reads the endpoint and
the registry. Input: {"endpoint_name": ..., "model_package_group": ...}. Output: {"package_arn", "rollback_of"}.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger

from fraud_core.deployment import NoRollbackTarget, choose_rollback_target
from fraud_core.live_model import group_packages, live_model

logger = Logger(service="deployment")
_sagemaker = None  # created on first use, reused across invocations; tests inject their own


def _client() -> Any:
    global _sagemaker
    if _sagemaker is None:
        _sagemaker = boto3.client("sagemaker")
    return _sagemaker


class RollbackInputError(ValueError):
    pass


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not isinstance(event, dict) or not all(isinstance(event.get(k), str) and event[k]
                                              for k in ("endpoint_name", "model_package_group")):
        raise RollbackInputError("<event>: must be a JSON object with endpoint_name and model_package_group "
                                 f"(non-empty strings); got {event!r}")
    sm = _client()
    serving = live_model(sm, event["endpoint_name"])
    live = serving.package_arn if serving else None
    try:
        target = choose_rollback_target(group_packages(sm, event["model_package_group"]), live)
    except NoRollbackTarget as err:
        logger.warning("no rollback target", extra={"live": live})
        raise NoRollbackTarget(str(err)) from None
    logger.info("rollback target", extra={"live": live, "target": target.arn})
    return {"package_arn": target.arn, "rollback_of": live or ""}

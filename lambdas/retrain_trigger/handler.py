"""Drift or quality alarm -> training pipeline, unless data quality blocks it, a run is in progress, or the cool-down
holds.

Thin by design: the decision is fraud_core.retrain_policy.decide_retrain. Input: the EventBridge "CloudWatch
Alarm State Change" event of the drift alarm or of the quality alarm ($QUALITY_ALARM). Starts the training pipeline
with {"trigger": "drift" | "quality", "reason": <that monitor's latest verdict>} or publishes why it did not to the
alerts topic. A quality regression of a model deployed within $QUALITY_ROLLBACK_DAYS that has a known-good
predecessor starts the deploy workflow's rollback instead (fraud_core.retrain_policy.quality_action).
Output: {"started", "reason", "execution_arn"}.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from fraud_core.deployment import NoRollbackTarget, choose_rollback_target
from fraud_core.live_model import group_packages, live_model
from fraud_core.monitoring import LATEST_REPORT_KEY
from fraud_core.retrain_policy import decide_retrain, quality_action

logger = Logger(service="monitoring")
_clients: dict[str, Any] = {}


def _client(name: str) -> Any:
    if name not in _clients:
        _clients[name] = boto3.client(name)
    return _clients[name]


def _latest_report(kind: str) -> dict[str, Any]:
    try:
        body = _client("s3").get_object(Bucket=os.environ["MONITORING_BUCKET"],
                                        Key=LATEST_REPORT_KEY.format(kind=kind))["Body"].read()
        return dict(json.loads(body))
    except Exception as err:  # the report is informative; its absence must not stop a retrain
        logger.warning("no latest report", extra={"kind": kind, "error": str(err)})
        return {}


def _data_quality() -> tuple[str, str]:
    """ALARM when any data-quality alarm ($DATA_QUALITY_ALARMS: the served window's checks, the share of records
    the scorer refused) is in ALARM, with the names of those that are."""
    names = [n for n in os.environ["DATA_QUALITY_ALARMS"].split(",") if n]
    alarms = _client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    firing = [a["AlarmName"] for a in alarms if a["StateValue"] == "ALARM"]
    if firing:
        return "ALARM", ", ".join(firing)
    return ("OK", "") if alarms else ("INSUFFICIENT_DATA", "")


def _executions(sfn: Any, machine: str) -> tuple[int, datetime | None]:
    running = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]
    recent = sfn.list_executions(stateMachineArn=machine, maxResults=1)["executions"]
    return len(running), (recent[0]["startDate"] if recent else None)


def _live_and_predecessor() -> dict[str, Any]:
    """When the live package was deployed, and the known-good package the deploy workflow would roll back to."""
    sm = _client("sagemaker")
    live = live_model(sm, os.environ["ENDPOINT_NAME"])
    packages = group_packages(sm, os.environ["MODEL_PACKAGE_GROUP"])
    state = next((p for p in packages if live and p.arn == live.package_arn), None)
    deployed_at = datetime.fromisoformat(state.deployed_at.replace("Z", "+00:00")) if state and state.deployed_at \
        else None
    try:
        target: str | None = choose_rollback_target(packages, live.package_arn if live else None).arn
    except NoRollbackTarget:
        target = None
    return {"live_deployed_at": deployed_at, "rollback_days": float(os.environ["QUALITY_ROLLBACK_DAYS"]),
            "rollback_target": target}


def _roll_back(reason: str, verdict: str) -> dict[str, Any]:
    """The serving issue's rollback: the deploy workflow puts the previous known-good package back."""
    out = _client("stepfunctions").start_execution(
        stateMachineArn=os.environ["DEPLOY_STATE_MACHINE_ARN"],
        input=json.dumps({"rollback": True, "reason": f"quality regression: {verdict}"}))
    _client("sns").publish(TopicArn=os.environ["ALERTS_TOPIC_ARN"], Subject="mlops-demo: rolling back on quality",
                           Message=f"{reason}. Quality: {verdict}")
    return {"started": False, "reason": reason, "execution_arn": out["executionArn"]}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    detail = event.get("detail") or {}
    if detail.get("state", {}).get("value") != "ALARM":
        return {"started": False, "reason": "ignored: not a transition into ALARM", "execution_arn": ""}
    kind = "quality" if detail.get("alarmName") == os.environ.get("QUALITY_ALARM") else "drift"
    report = _latest_report(kind)
    verdict = str(report.get("reason") or f"{kind} alarm (the latest {kind} report could not be read)")
    now = datetime.fromtimestamp(time.time(), UTC)  # time.time(): the local AWS's clock while a handler runs
    if kind == "quality":
        action = quality_action(now=now, **_live_and_predecessor())
        logger.info("quality action", extra={"retrain": action.start, "reason": action.reason})
        if not action.start:
            return _roll_back(action.reason, verdict)
    sfn, machine = _client("stepfunctions"), os.environ["TRAINING_STATE_MACHINE_ARN"]
    running, last = _executions(sfn, machine)
    dq_state, dq_reason = _data_quality()
    drift_report = report if kind == "drift" else _latest_report("drift")  # its data_quality names the breakage
    dq_reason = "; ".join(drift_report.get("data_quality", {}).get("violations", [])) or dq_reason
    decision = decide_retrain(now=now, running=running, last_started=last,
                              cooldown_hours=float(os.environ["COOLDOWN_HOURS"]), data_quality_alarm=dq_state,
                              data_quality_reason=dq_reason)
    logger.info("retrain decision", extra={"start": decision.start, "reason": decision.reason, "drift": verdict})
    if not decision.start:
        _client("sns").publish(TopicArn=os.environ["ALERTS_TOPIC_ARN"], Subject="mlops-demo: retraining not started",
                               Message=f"{kind.capitalize()} alarm {detail.get('alarmName', '')}: retraining "
                                       f"{decision.reason}. {kind.capitalize()}: {verdict}")
        return {"started": False, "reason": decision.reason, "execution_arn": ""}
    name = f"{kind}-{now:%Y%m%dT%H%M%S}"
    out = sfn.start_execution(stateMachineArn=machine, name=name,
                              input=json.dumps({"trigger": kind, "reason": verdict}))
    return {"started": True, "reason": verdict, "execution_arn": out["executionArn"]}

"""EventBridge delivery to the targets moto cannot call (Step Functions, Lambda), on the simulated clock.

moto 5.2.5 matches rules and delivers only to SQS, CloudWatch Logs, archives and other buses; for any
other target it raises NotImplementedError inside PutEvents. Here every matched event is delivered
asynchronously, as EventBridge does: a delivery is scheduled on the clock "now" (it runs at the next
advance, or at the next tick in serve mode), with the target's input as EventBridge builds it
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html): `Input`
(constant JSON), `InputPath` (a JSONPath into the event), `InputTransformer`, or the whole event.
Failed deliveries are retried with backoff within the target's RetryPolicy (default 185 attempts,
24 hours) and then go to its DeadLetterConfig queue, or are recorded as dropped.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from local_aws.clock import SimulatedClock

DEFAULT_RETRY = {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86_400}


@dataclass
class Delivery:
    rule: str
    target_arn: str
    event: dict[str, Any]
    payload: Any
    attempts: int = 0
    first_at: float = 0.0
    outcome: str = "pending"  # delivered | dead-lettered | dropped
    result: str = ""


@dataclass
class EventTargets:
    aws: Any
    deliveries: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def clock(self) -> SimulatedClock:
        return self.aws.clock

    def schedule(self, rule_name: str, target: dict[str, Any], event: dict[str, Any]) -> None:
        """Called from inside PutEvents for a matched rule: queue the delivery, never run it inline."""
        delivery = Delivery(rule_name, target["Arn"], event, target_input(target, event),
                            first_at=self.clock.elapsed_seconds)
        with self._lock:
            self.deliveries.append(delivery)
        self.clock.call_at(self.clock.elapsed_seconds, lambda: self._attempt(delivery, target),
                           f"eventbridge: {rule_name} -> {target['Arn'].rsplit(':', 1)[-1]}")

    def _attempt(self, delivery: Delivery, target: dict[str, Any]) -> None:
        delivery.attempts += 1
        try:
            delivery.result = self._send(delivery.target_arn, delivery.payload)
            delivery.outcome = "delivered"
            return
        except Exception as err:  # a failed delivery is retried or dead-lettered, as EventBridge does
            delivery.result = f"{type(err).__name__}: {err}"
        policy = {**DEFAULT_RETRY, **(target.get("RetryPolicy") or {})}
        age = self.clock.elapsed_seconds - delivery.first_at
        if delivery.attempts <= int(policy["MaximumRetryAttempts"]) and age < float(policy["MaximumEventAgeInSeconds"]):
            backoff = min(2.0 ** delivery.attempts, 300.0)
            self.clock.call_later(backoff, lambda: self._attempt(delivery, target),
                                  f"eventbridge: retry {delivery.rule}")
            return
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        if dlq:
            self._send_to_queue(dlq, delivery)
            delivery.outcome = "dead-lettered"
        else:
            delivery.outcome = "dropped"

    def _send(self, arn: str, payload: Any) -> str:
        service = arn.split(":")[2]
        body = json.dumps(payload)
        if service == "states":
            out = self.aws.client("stepfunctions").start_execution(stateMachineArn=arn, name=str(uuid.uuid4()),
                                                                   input=body)
            return str(out["executionArn"])
        if service == "lambda":
            out = self.aws.client("lambda").invoke(FunctionName=arn, Payload=body.encode())
            if out.get("FunctionError"):
                raise RuntimeError(f"the function failed: {out['Payload'].read().decode()[:500]}")
            return f"invoked {arn}"
        raise NotImplementedError(f"EventBridge target {arn}: only Step Functions and Lambda targets are emulated "
                                  "here (moto delivers SQS, Logs and bus targets itself)")

    def _send_to_queue(self, queue_arn: str, delivery: Delivery) -> None:
        sqs = self.aws.client("sqs")
        url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(delivery.event), MessageAttributes={
            "ERROR_MESSAGE": {"DataType": "String", "StringValue": delivery.result[:256] or "unknown"},
            "RULE_ARN": {"DataType": "String", "StringValue": delivery.rule},
            "TARGET_ARN": {"DataType": "String", "StringValue": delivery.target_arn}})


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What EventBridge sends a target: Input, InputPath, InputTransformer, or the event itself."""
    if target.get("Input"):
        return json.loads(target["Input"])
    if target.get("InputPath"):
        return _json_path(event, target["InputPath"])
    transformer = target.get("InputTransformer")
    if transformer:
        from moto.events.models import EventTemplateParser

        rendered = EventTemplateParser.parse(input_template=transformer.get("InputTemplate"),
                                             input_paths_map=transformer.get("InputPathsMap", {}), event=event)
        return rendered
    return event


def _json_path(document: Any, path: str) -> Any:
    """The JSONPath subset InputPath takes: $ or $.a.b (definite paths)."""
    if path == "$":
        return document
    node = document
    for part in path.removeprefix("$.").split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node

"""What the monitoring tests on the local AWS share: the on-call inbox, waiting for a state machine's runs, the
training runs an alarm started."""

from __future__ import annotations

import json
import time
from typing import Any

from benchmarks.local_serving import Serving


def alerts(serving: Serving) -> str:
    sqs = serving.aws.client("sqs")
    url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    serving.aws.client("sns").subscribe(TopicArn=serving.stacks["DataFoundation"].outputs["AlertsTopicArn"],
                                        Protocol="sqs", Endpoint=arn)
    return url


def messages(serving: Serving, url: str) -> list[str]:
    sqs, out = serving.aws.client("sqs"), []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        out += [json.loads(m["Body"])["Subject"] + ": " + json.loads(m["Body"])["Message"] for m in got]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                         for i, m in enumerate(got)])
    return out


def finished(serving: Serving, machine_arn: str, timeout_s: float = 120.0) -> list[dict[str, Any]]:
    """Every execution of `machine_arn` once none runs, newest first, described."""
    sfn, deadline = serving.aws.client("stepfunctions"), time.monotonic() + timeout_s
    while any(e["status"] == "RUNNING" for e in sfn.list_executions(stateMachineArn=machine_arn)["executions"]):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{machine_arn} still runs")
        time.sleep(0.02)  # the interpreter's thread runs the execution; its waits move the simulated clock
    described = [sfn.describe_execution(executionArn=e["executionArn"])
                 for e in sfn.list_executions(stateMachineArn=machine_arn)["executions"]]
    return sorted(described, key=lambda d: d["startDate"], reverse=True)


def training_runs(serving: Serving) -> list[dict[str, Any]]:
    arn = serving.stacks["TrainingPipeline"].outputs["TrainingStateMachineArn"]
    sfn = serving.aws.client("stepfunctions")
    return [sfn.describe_execution(executionArn=e["executionArn"])
            for e in sfn.list_executions(stateMachineArn=arn)["executions"]]

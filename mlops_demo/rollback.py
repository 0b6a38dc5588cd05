"""`mlops-demo rollback`: put the previous known-good model back on the endpoint, through the deploy workflow.

Starts the profile's deploy state machine with {"rollback": true, "reason": ...}: it finds the package
deployed before the live one, deploys it (blue/green, guarded like any deployment), then marks the
withdrawn package Rejected with the reason and notifies. Works against AWS (your credentials) or a local
AWS served by `mlops-demo serve` (--endpoint-url).
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3

from stacks.naming import resource_name

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def start_rollback(profile: str, reason: str, *, endpoint_url: str | None = None, region: str | None = None,
                   wait_s: float = 3600.0, poll_s: float = 5.0) -> dict[str, Any]:
    """Start the rollback and wait for it; returns DescribeExecution's answer."""
    sfn = boto3.client("stepfunctions", endpoint_url=endpoint_url, region_name=region)
    account = boto3.client("sts", endpoint_url=endpoint_url, region_name=region).get_caller_identity()["Account"]
    arn = (f"arn:aws:states:{sfn.meta.region_name}:{account}:stateMachine:"
           f"{resource_name(profile, 'deploy')}")
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"rollback": True, "reason": reason}))
    deadline, attempt = time.monotonic() + wait_s, 0
    while True:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] in TERMINAL or time.monotonic() > deadline:
            return described
        time.sleep(min(poll_s, 0.05 * 2 ** attempt))  # a local run ends in seconds, an AWS one in minutes
        attempt += 1

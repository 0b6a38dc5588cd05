"""Step Functions as the AWS CLI meets it: execution names, input validation, paged history, simulated times."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_aws.runtime import LocalAws, local_aws
from local_aws.stepfunctions.executions import run_execution
from local_aws.stepfunctions.hooks import execution_name_error

DEFINITION = {"StartAt": "A", "States": {
    **{s: {"Type": "Pass", "Next": n} for s, n in (("A", "B"), ("B", "C"), ("C", "D"))},
    "D": {"Type": "Wait", "Seconds": 120, "Next": "E"}, "E": {"Type": "Succeed"}}}


@pytest.fixture()
def machine() -> Iterator[tuple[LocalAws, str]]:
    with local_aws() as aws:
        arn = aws.client("stepfunctions").create_state_machine(
            name="m", definition=json.dumps(DEFINITION), roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
        yield aws, arn


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def test_unnamed_executions_get_a_uuid_each_time(machine) -> None:
    aws, arn = machine
    sfn = aws.client("stepfunctions")
    names = {sfn.start_execution(stateMachineArn=arn)["executionArn"].rsplit(":", 1)[1] for _ in range(2)}
    assert len(names) == 2 and all(len(n) == 36 and n.count("-") == 4 for n in names)


@pytest.mark.parametrize("name", ["bad name!", "x" * 81, "a/b", "tab\there", "semi;colon"])
def test_names_aws_rejects_are_rejected_locally(machine, name: str) -> None:
    aws, arn = machine
    code, message = _error(lambda: aws.client("stepfunctions").start_execution(stateMachineArn=arn, name=name))
    assert code in ("InvalidName", "ValidationException"), message
    assert execution_name_error(name) is not None


def test_valid_names_pass_the_rules() -> None:
    assert execution_name_error("demo-7_2026.11.01") is None
    assert execution_name_error("x" * 80) is None


def test_invalid_json_input_is_invalid_execution_input(machine) -> None:
    aws, arn = machine
    code, message = _error(lambda: aws.client("stepfunctions").start_execution(
        stateMachineArn=arn, name="r", input="{not json"))
    assert code == "InvalidExecutionInput" and "Invalid State Machine Execution Input" in message


def test_history_pages_and_reverses_and_carries_simulated_time(machine) -> None:
    aws, arn = machine
    result = run_execution(aws, arn, "paged")
    sfn = aws.client("stepfunctions")
    everything = sfn.get_execution_history(executionArn=result.arn, maxResults=1000)["events"]
    first = sfn.get_execution_history(executionArn=result.arn, maxResults=4)
    assert len(first["events"]) == 4 and first["nextToken"]
    rest = sfn.get_execution_history(executionArn=result.arn, maxResults=1000, nextToken=first["nextToken"])
    assert [e["id"] for e in first["events"] + rest["events"]] == [e["id"] for e in everything]
    newest_first = sfn.get_execution_history(executionArn=result.arn, reverseOrder=True)["events"]
    assert [e["id"] for e in newest_first] == [e["id"] for e in reversed(everything)]
    assert everything[-1]["timestamp"] - everything[0]["timestamp"] >= _seconds(120), "the Wait took simulated time"
    described = sfn.describe_execution(executionArn=result.arn)
    assert described["startDate"].replace(tzinfo=None) >= aws.clock.start.replace(tzinfo=None)


def _seconds(n: int) -> Any:
    from datetime import timedelta

    return timedelta(seconds=n)

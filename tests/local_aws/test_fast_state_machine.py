"""A tiny synthesized state machine through the patched interpreter, in the fast suite.

A Wait, an aws-sdk task that is throttled once (Retry) and then fails for good (Catch), a definite
JSONPath and $$.Execution.StartTime: if a moto upgrade breaks a Step Functions patch, this fails in
seconds, without the slow pipeline tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from local_aws.cloudformation.deploy import deploy_assembly
from local_aws.runtime import local_aws
from local_aws.stepfunctions.executions import run_execution


@pytest.fixture(scope="module")
def tiny_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    app = cdk.App(outdir=str(out), analytics_reporting=False)
    stack = cdk.Stack(app, "Tiny", stack_name="Tiny")
    wait = sfn.Wait(stack, "Wait30", time=sfn.WaitTime.duration(Duration.seconds(30)))
    describe = tasks.CallAwsService(
        stack, "DescribeJob", service="sagemaker", action="describeProcessingJob",
        parameters={"ProcessingJobName.$": "$.jobs[0].name"}, iam_resources=["*"], result_path="$.job")
    describe.add_retry(errors=["SageMaker.ThrottlingException"], interval=Duration.seconds(5), max_attempts=2,
                       backoff_rate=1)
    handled = sfn.Pass(stack, "Handled", parameters={
        "error.$": "$.error.Error", "started.$": "$$.Execution.StartTime", "first.$": "$.jobs[0].name"})
    describe.add_catch(handled, errors=["States.ALL"], result_path="$.error")
    machine = sfn.StateMachine(stack, "Machine", state_machine_name="tiny",
                               definition_body=sfn.DefinitionBody.from_chainable(wait.next(describe)))
    cdk.CfnOutput(stack, "Arn", value=machine.state_machine_arn)
    app.synth()
    return out


def test_wait_retry_catch_and_context_run_as_on_aws(tiny_assembly: Path) -> None:
    with local_aws() as aws:
        (stack,) = deploy_assembly(aws, tiny_assembly)
        aws.jobs.inject_api_error("DescribeProcessingJob", "ThrottlingException", times=1)
        result = run_execution(aws, stack.outputs["Arn"], "tiny-run", {"jobs": [{"name": "no-such-job"}]})

    assert result.status == "SUCCEEDED", result.cause
    assert result.states == ["Wait30", "DescribeJob", "Handled"]
    assert result.simulated_seconds == 35, "the 30 s wait and the 5 s retry interval ran on the simulated clock"
    out = result.output
    assert out["first"] == "no-such-job", "a definite JSONPath selects one value"
    assert out["error"] == "SageMaker.ValidationException", "aws-sdk errors are named <Service>.<Code>"
    assert out["started"].endswith("Z") and json.dumps(out)

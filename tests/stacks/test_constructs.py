"""The reusable constructs on their own, in a throwaway stack: what a future drift or quality job gets for free."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match, Template

from stacks.bundling import ROOT
from stacks.constructs.bundled_function import BundledPythonFunction
from stacks.constructs.failure_notification import FailureNotification
from stacks.constructs.sagemaker_job import PROCESSING, TRANSFORM, SageMakerJob

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _machine(volume_key: str | None, kind: Any = PROCESSING) -> tuple[dict[str, Any], Template]:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    topic = sns.Topic(stack, "Topic")
    failure = FailureNotification(stack, "Failure", topic=topic, topic_key=None, subject="s", what="Run",
                                  error="RunFailed", fail_state_name="RunFailed")
    role = iam.Role(stack, "JobRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    request: dict[str, Any] = {"AppSpecification": {"ImageUri": "image"}}
    if volume_key:
        request["ProcessingResources"] = {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                            "VolumeSizeInGB": 20, "VolumeKmsKeyId": volume_key}}
    job = SageMakerJob(stack, "DriftJob", kind=kind, step="Drift", suffix="drift", role=role, request=request,
                       result_path="$.drift", poll_interval=cdk.Duration.seconds(60), on_failure=failure.start)
    start = sfn.Pass(stack, "Start", parameters={"id": "run"}, result_path="$.run")
    machine = sfn.StateMachine(stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(
        start.next(job).next(sfn.Succeed(stack, "Ok"))))
    template = Template.from_stack(stack)
    (resource,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    parts = resource["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "TOKEN" for p in parts)
    assert machine
    return json.loads(text), template


def test_sagemaker_job_is_create_wait_describe_choice_with_bounded_retried_caught_calls() -> None:
    definition, _ = _machine(KEY)
    states = definition["States"]
    assert {"Drift", "WaitDrift", "DescribeDrift", "DriftFinished?", "DescribeDriftFailure", "DriftJobStopped",
            "DriftDone"} <= set(states)
    assert states["Start"]["Next"] == "Drift" and states["DriftDone"]["Next"] == "Ok"
    choices = {c["StringEquals"]: c["Next"] for c in states["DriftFinished?"]["Choices"]}
    assert choices == {"Completed": "DriftDone", "Failed": "DescribeDriftFailure", "Stopped": "DriftJobStopped"}
    assert states["DriftFinished?"]["Default"] == "WaitDrift" and states["WaitDrift"]["Seconds"] == 60
    for name in ("Drift", "DescribeDrift", "DescribeDriftFailure"):
        assert states[name]["TimeoutSeconds"] == 60 and states[name]["Retry"] and states[name]["Catch"]
    create = states["Drift"]["Parameters"]
    assert create["ProcessingJobName.$"] == "States.Format('{}-drift', $.run.id)"
    assert create["RoleArn"] == "TOKEN"


def test_sagemaker_job_passes_its_role_to_sagemaker_only_and_lets_it_grant_on_the_volume_key() -> None:
    _, template = _machine(KEY)
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([{
        "Action": "iam:PassRole", "Effect": "Allow", "Resource": Match.any_value(),
        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}])}})
    template.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": Match.string_like_regexp("JobRole")}],
        "PolicyDocument": {"Statement": Match.array_with([{
            "Sid": "SageMakerVolumeKeyGrants", "Action": "kms:CreateGrant", "Effect": "Allow", "Resource": KEY,
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}])}})


def test_sagemaker_job_without_a_volume_key_grants_nothing_on_keys() -> None:
    _, template = _machine(None, TRANSFORM)
    assert "kms:CreateGrant" not in json.dumps(template.to_json())
    assert "createTransformJob" in json.dumps(template.to_json())


def test_failure_notification_publishes_then_fails_with_one_error_name_and_grants_the_topic_key() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    key = kms.Key(stack, "Key")
    failure = FailureNotification(stack, "Failure", topic=sns.Topic(stack, "Topic", master_key=key), topic_key=key,
                                  subject="s", what="Run", error="RunFailed", fail_state_name="RunFailed")
    machine = sfn.StateMachine(stack, "M", definition_body=sfn.DefinitionBody.from_chainable(failure.start))
    failure.grant_publish(machine)
    template = Template.from_stack(stack)
    text = json.dumps(template.to_json())
    assert '\\"NotifyFailure\\":' in text and '\\"SummarizeFailure\\"' in text
    assert '\\"Error\\":\\"RunFailed\\"' in text and "$.failure.cause" in text
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Action": ["kms:GenerateDataKey*", "kms:Decrypt"]})])}})


def test_bundled_function_owns_an_encrypted_log_group_with_retention_and_a_role_that_writes_it() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    key = kms.Key(stack, "Key")
    BundledPythonFunction(stack, "Gate", function_name="demo-gate", handler_dir=ROOT / "lambdas" / "quality_gate",
                          description="d", role_description="r", environment={"A": "1"}, log_retention_days=7,
                          log_key=key)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::Logs::LogGroup", {
        "LogGroupName": "/aws/lambda/demo-gate", "RetentionInDays": 7, "KmsKeyId": Match.any_value()})
    template.has_resource_properties("AWS::Lambda::Function", {
        "FunctionName": "demo-gate", "Handler": "handler.handler", "Environment": {"Variables": {"A": "1"}},
        "LoggingConfig": {"LogGroup": Match.any_value()}})
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Action": ["logs:CreateLogStream", "logs:PutLogEvents"]})])}})

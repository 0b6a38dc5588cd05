"""Would the templates deploy and run on a real account? Static checks moto cannot make, for both profiles.

The helpers are in deployability.py; each check here runs over every template of both profiles (so the next
state machine, role or named resource is checked without a new test), and each is shown to fail on a bad
fragment, so a passing run means something.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from deployability import (
    ACCOUNT,
    LONGEST_REGION,
    Assembly,
    iam_findings,
    known_actions,
    name_findings,
    parameter_findings,
    retry_catch_findings,
    state_machines,
    unlisted_types,
)

PROFILES = ("sandbox", "prod")


@pytest.fixture(scope="module")
def resolved(templates: dict[str, dict[str, dict]]) -> dict[str, Assembly]:
    return {profile: Assembly(templates[profile]) for profile in PROFILES}


def _report(findings: list[str]) -> str:
    return "\n".join(f"  {f}" for f in findings)


# --- the real templates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_templates_resolve_with_no_cross_stack_imports(resolved: dict[str, Assembly], profile: str,
                                                       templates: dict[str, dict[str, dict]]) -> None:
    """Stacks name what they use of each other; no Fn::ImportValue locks them together."""
    for stack in ("TrainingPipeline", "Serving", "StreamScoring", "Monitoring"):
        assert "Fn::ImportValue" not in json.dumps(templates[profile][stack]), stack
    machines = {stack: definition for stack, _, definition in state_machines(resolved[profile])}
    assert set(machines) == {"TrainingPipeline", "Serving", "Monitoring"}
    for definition in machines.values():
        text = json.dumps(definition)
        assert f":kms:{LONGEST_REGION}:{ACCOUNT}:key/" in text, "the key ARN is followed into the data stack via SSM"


@pytest.mark.parametrize("profile", PROFILES)
def test_every_task_parameter_fits_its_operation(resolved: dict[str, Assembly], profile: str) -> None:
    found = [f for stack, lid, d in state_machines(resolved[profile]) for f in parameter_findings(d, f"{stack}/{lid}")]
    assert found == [], _report(found)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_retry_and_catch_names_a_real_error(resolved: dict[str, Assembly], profile: str) -> None:
    found = [f for stack, lid, d in state_machines(resolved[profile])
             for f in retry_catch_findings(d, f"{stack}/{lid}")]
    assert found == [], _report(found)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("check", ["known_actions", "rule_star_only_actions_are_granted_on_star",
                                   "rule_pass_role_is_conditioned", "rule_volume_keys_can_be_granted"])
def test_iam(resolved: dict[str, Assembly], profile: str, check: str) -> None:
    found = iam_findings(resolved[profile])[check]
    assert found == [], _report(found)


@pytest.mark.parametrize("profile", PROFILES)
def test_physical_names_fit_aws_limits_in_the_longest_region(resolved: dict[str, Assembly], profile: str) -> None:
    found = name_findings(resolved[profile])
    assert found == [], _report(found)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_resource_type_has_a_name_rule(resolved: dict[str, Assembly], profile: str) -> None:
    assert unlisted_types(resolved[profile]) == [], "add NAME_LIMITS rows (or NO_PHYSICAL_NAME) for these types"


# --- each check can fail ------------------------------------------------------------------------------------------


def _machine_template(states: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    definition = {"StartAt": next(iter(states)), "States": states}
    return {"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": []}}},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}, "DefinitionString": json.dumps(definition)}},
        **(extra or {})}}


def _task(resource: str, parameters: dict[str, Any], errors: list[str] | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    if errors:
        state["Retry"] = [{"ErrorEquals": errors}]
    return state


def _params(state: dict[str, Any]) -> list[str]:
    (_, _, definition), = state_machines(Assembly({"S": _machine_template({"T": state})}))
    return parameter_findings(definition, "S/Machine")


SDK = "arn:aws:states:::aws-sdk:sagemaker:"
GOOD_LIST = {"ModelPackageGroupName": "g", "MaxResults": 1, "SortBy": "CreationTime"}


@pytest.mark.parametrize(("resource", "parameters", "expected"), [
    (SDK + "listModelPackages", {**GOOD_LIST, "MaxResult": 1}, "MaxResult: not a member"),
    (SDK + "listModelPackages", {**GOOD_LIST, "SortBy": "Newest"}, "'Newest' is not one of"),
    (SDK + "listModelPackages", {**GOOD_LIST, "MaxResults": 0}, "below the minimum 1"),
    (SDK + "listModelPackages", {**GOOD_LIST, "MaxResults": "1"}, "must be an integer"),
    (SDK + "listModelPackages", {**GOOD_LIST, "NameContains": "x" * 64}, "above the maximum 63"),
    (SDK + "listModelPackages", {**GOOD_LIST, "NameContains": "bad_name"}, "does not match the pattern"),
    (SDK + "listModelPackages", {**GOOD_LIST, "Nope.$": "$.x"}, "Nope: not a member"),
    (SDK + "describeProcessingJob", {}, "required member ProcessingJobName is missing"),
    (SDK + "describeProcessingJob", {"ProcessingJobName": "run_1-preprocess"}, "does not match the pattern"),
    (SDK + "createProcessingJob", {"ProcessingJobName.$": "$.n", "RoleArn.$": "$.r",
                                   "AppSpecification": {"ImageUri": "i"},
                                   "ProcessingResources": {"ClusterConfig": {
                                       "InstanceCount": 1, "InstanceType": "ml.t3.tiny", "VolumeSizeInGB": 1}}},
     "ProcessingResources.ClusterConfig.InstanceType: 'ml.t3.tiny' is not one of"),
    (SDK + "createProcessingJob", {"ProcessingJobName.$": "$.n", "RoleArn.$": "$.r",
                                   "AppSpecification": {"ImageUri": "i"}, "ProcessingResources.$": "$.p",
                                   "Tags": [{"Key": "k"}]}, "Tags[0]: required member Value is missing"),
    (SDK + "listModelPackage", {}, "sagemaker has no operation ListModelPackage"),
    ("arn:aws:states:::aws-sdk:sagemaker:ListModelPackages", {}, "must be camelCase"),
    ("arn:aws:states:::sqs:sendMessage", {"QueueUrl": "q", "MessageBody": "m"}, "is not in INTEGRATIONS"),
    ("arn:aws:states:::sns:publish", {"Message": {"any": "json"}, "TopicArnn": "t"}, "TopicArnn: not a member"),
    ("arn:aws:states:::lambda:invoke", {"Payload": {"any": "json"}}, "required member FunctionName is missing"),
])
def test_parameter_check_rejects_a_bad_request(resource: str, parameters: dict[str, Any], expected: str) -> None:
    found = _params(_task(resource, parameters))
    assert any(expected in f for f in found), found


def test_parameter_check_accepts_a_good_request_and_json_path_keys() -> None:
    assert _params(_task(SDK + "listModelPackages", {**GOOD_LIST, "ModelApprovalStatus.$": "$.s"})) == []
    assert _params(_task("arn:aws:states:::sns:publish", {"TopicArn": "t", "Message": {"a": 1}})) == []


@pytest.mark.parametrize(("error", "expected"), [
    ("SageMaker.ThrottledException", "sagemaker has no error 'ThrottledException'"),
    ("Sagemaker.ThrottlingException", "unknown service prefix 'Sagemaker'"),
    ("States.Timeoutt", "not a Step Functions error name"),
    ("SNS.ThrottlingExceptionn", "sns has no error"),
])
def test_error_name_check_rejects_a_name_aws_never_raises(error: str, expected: str) -> None:
    definition = {"StartAt": "T", "States": {"T": _task(SDK + "listModelPackages", GOOD_LIST, [error])}}
    found = retry_catch_findings(definition, "S/M")
    assert len(found) == 1 and expected in found[0], found


def test_error_name_check_accepts_modelled_common_and_sdk_names() -> None:
    names = ["SageMaker.ResourceLimitExceededException", "SageMaker.ResourceNotFound", "SageMaker.ThrottlingException",
             "SNS.InternalErrorException", "Lambda.TooManyRequestsException", "Lambda.AWSLambdaException",
             "Lambda.SdkClientException", "States.ALL", "States.TaskFailed", "TrainingPipelineFailed"]
    definition = {"StartAt": "T", "States": {"T": _task(SDK + "listModelPackages", GOOD_LIST, names)}}
    assert retry_catch_findings(definition, "S/M") == []


def _iam(statements: list[dict[str, Any]], extra: dict[str, Any] | None = None,
         states: dict[str, Any] | None = None) -> dict[str, list[str]]:
    template = _machine_template(states or {"P": {"Type": "Pass", "End": True}}, {
        "Policy": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "p", "Roles": [{"Ref": "Role"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}},
        **(extra or {})})
    return iam_findings(Assembly({"S": template}))


def test_unknown_iam_actions_are_found_with_or_without_wildcards() -> None:
    found = _iam([{"Effect": "Allow", "Action": ["sagemaker:ListModelPackage", "s3:GetObjekt*", "s3:GetObject*",
                                                 "sagemaker:listModelPackages"], "Resource": "*"}])["known_actions"]
    assert len(found) == 2 and "sagemaker:ListModelPackage'" in found[0] and "s3:GetObjekt*" in found[1], found
    assert known_actions("kms:GenerateDataKey*") and known_actions("iam:PassRole") == ["iam:PassRole"]


@pytest.mark.parametrize("action", ["sagemaker:ListModelPackages", "ecr:GetAuthorizationToken"])
def test_an_action_authorized_against_star_only_is_found_on_a_narrower_arn(action: str) -> None:
    narrow = {"Effect": "Allow", "Action": action, "Resource": "arn:aws:sagemaker:r:1:model-package-group/g"}
    assert len(_iam([narrow])["rule_star_only_actions_are_granted_on_star"]) == 1
    assert _iam([{**narrow, "Resource": "*"}])["rule_star_only_actions_are_granted_on_star"] == []


@pytest.mark.parametrize("action", ["iam:PassRole", "iam:Pass*", "iam:*", "*"])
def test_pass_role_without_passed_to_service_is_found(action: str) -> None:
    bare = {"Effect": "Allow", "Action": action, "Resource": "arn:aws:iam::1:role/r"}
    assert len(_iam([bare])["rule_pass_role_is_conditioned"]) == 1
    conditioned = {**bare, "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}
    assert _iam([conditioned])["rule_pass_role_is_conditioned"] == []


def test_a_volume_key_without_create_grant_for_the_execution_role_is_found() -> None:
    key = "arn:aws:kms:r:1:key/k"
    job = _task(SDK + "createTrainingJob", {
        "TrainingJobName.$": "$.n", "RoleArn": {"Fn::GetAtt": ["JobRole", "Arn"]},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20,
                           "VolumeKmsKeyId": key}})
    states = {"Train": job}
    extra = {"JobRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": []}}},
             "JobPolicy": {"Type": "AWS::IAM::Policy", "Properties": {
                 "PolicyName": "j", "Roles": [{"Ref": "JobRole"}],
                 "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}]}}}}

    def findings(job_statements: list[dict[str, Any]], caller_statements: list[dict[str, Any]]) -> list[str]:
        fragment = copy.deepcopy(extra)
        fragment["JobPolicy"]["Properties"]["PolicyDocument"]["Statement"] += job_statements
        template = _machine_template({"P": {"Type": "Pass", "End": True}}, fragment)
        definition = {"StartAt": "Train", "States": states}
        # RoleArn is a token in the real templates: render it into the definition as CDK does.
        text = json.dumps(definition).replace('{"Fn::GetAtt": ["JobRole", "Arn"]}', '"@ROLE@"')
        before, after = text.split('"@ROLE@"')
        template["Resources"]["Machine"]["Properties"]["DefinitionString"] = {
            "Fn::Join": ["", [before + '"', {"Fn::GetAtt": ["JobRole", "Arn"]}, '"' + after]]}
        template["Resources"]["Policy"] = {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "p", "Roles": [{"Ref": "Role"}], "PolicyDocument": {"Statement": caller_statements}}}
        return iam_findings(Assembly({"S": template}))["rule_volume_keys_can_be_granted"]

    grant = {"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": key}
    conditioned = {**grant, "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
    assert len(findings([], [])) == 1, "no grant at all"
    assert len(findings([grant], [])) == 1, "a grant without kms:GrantIsForAWSResource"
    assert len(findings([], [conditioned])) == 1, "SageMaker creates a job volume's grant with the execution role"
    assert findings([conditioned], []) == []


def _named(cfn_type: str, props: dict[str, Any]) -> list[str]:
    return name_findings(Assembly({"S": {"Resources": {"R": {"Type": cfn_type, "Properties": props}}}}))


@pytest.mark.parametrize(("cfn_type", "props", "expected"), [
    # 11 + 41 + 12 + 1 + 14 = 79 characters once the longest region and an account are substituted
    ("AWS::S3::Bucket", {"BucketName": {"Fn::Join": ["", ["a-very-long-project-name-and-purpose-here-", {
        "Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]]}}, "must be 3-63 characters"),
    ("AWS::S3::Bucket", {"BucketName": "Upper-Case"}, "must match"),
    ("AWS::StepFunctions::StateMachine", {"StateMachineName": "m" * 81}, "must be 1-80 characters"),
    ("AWS::Lambda::Function", {"FunctionName": "f" * 65}, "must be 1-64 characters"),
    ("AWS::SageMaker::ModelPackageGroup", {"ModelPackageGroupName": "fraud_models"}, "must match"),
    ("AWS::KinesisFirehose::DeliveryStream", {"DeliveryStreamName": "d" * 65}, "must be 1-64 characters"),
    ("AWS::Logs::LogGroup", {"LogGroupName": "/aws/lambda/has space"}, "must match"),
])
def test_name_check_rejects_a_name_aws_refuses(cfn_type: str, props: dict[str, Any], expected: str) -> None:
    found = _named(cfn_type, props)
    assert len(found) == 1 and expected in found[0], found


def test_a_resource_type_without_a_name_rule_is_found() -> None:
    assembly = Assembly({"S": {"Resources": {"Q": {"Type": "AWS::DynamoDB::Table", "Properties": {}}}}})
    assert unlisted_types(assembly) == ["AWS::DynamoDB::Table"]

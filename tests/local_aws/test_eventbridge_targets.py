"""EventBridge on the local AWS: rules deliver to Step Functions, asynchronously on the clock; SageMaker emits
model package state changes; UpdateModelPackage changes only what it names."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from local_aws.runtime import LocalAws, local_aws

PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
ROLE = "arn:aws:iam::123456789012:role/r"


@pytest.fixture()
def aws() -> Iterator[LocalAws]:
    with local_aws() as aws:
        yield aws


def _machine_with_rule(aws: LocalAws, pattern: dict, **target: str) -> str:
    arn = aws.client("stepfunctions").create_state_machine(name="m", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    events = aws.client("events")
    events.put_rule(Name="r", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="r", Targets=[{"Id": "sfn", "Arn": arn, "RoleArn": ROLE, **target}])
    return arn


def _inputs(aws: LocalAws, arn: str) -> list[dict]:
    sfn = aws.client("stepfunctions")
    return [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])
            for e in sfn.list_executions(stateMachineArn=arn)["executions"]]


def test_a_matching_event_starts_the_state_machine_when_the_clock_moves_not_inside_put_events(aws) -> None:
    arn = _machine_with_rule(aws, {"source": ["demo"]}, InputPath="$.detail")
    aws.client("events").put_events(Entries=[{"Source": "demo", "DetailType": "t", "Detail": '{"n": 1}'},
                                             {"Source": "other", "DetailType": "t", "Detail": '{"n": 2}'}])
    assert _inputs(aws, arn) == [], "delivery is asynchronous"
    aws.clock.advance(0)
    assert _inputs(aws, arn) == [{"n": 1}]
    assert [d.outcome for d in aws.events.deliveries] == ["delivered"]


def test_a_disabled_rule_delivers_nothing(aws) -> None:
    arn = _machine_with_rule(aws, {"source": ["demo"]})
    aws.client("events").disable_rule(Name="r")
    aws.client("events").put_events(Entries=[{"Source": "demo", "DetailType": "t", "Detail": "{}"}])
    aws.clock.advance(1)
    assert _inputs(aws, arn) == []


def test_model_package_approval_emits_the_sagemaker_event_and_updates_merge_metadata(aws) -> None:
    arn = _machine_with_rule(aws, {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
                                   "detail": {"ModelApprovalStatus": ["Approved"]}})
    sm = aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="g")
    package = sm.create_model_package(
        ModelPackageGroupName="g", ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={"pipeline_run": "r1"},
        InferenceSpecification={"Containers": [{"Image": "i", "ModelDataUrl": "s3://b/m.tar.gz"}],
                                "SupportedContentTypes": ["application/json"],
                                "SupportedResponseMIMETypes": ["application/json"]})["ModelPackageArn"]
    sm.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved")
    sm.update_model_package(ModelPackageArn=package, CustomerMetadataProperties={"deployment_status": "deployed"})
    aws.clock.advance(0)
    described = sm.describe_model_package(ModelPackageName=package)
    assert described["ModelApprovalStatus"] == "Approved", "a metadata update keeps the approval"
    assert described["CustomerMetadataProperties"] == {"pipeline_run": "r1", "deployment_status": "deployed"}
    details = [i["detail"] for i in _inputs(aws, arn)]
    assert len(details) == 2 and {d["ModelPackageArn"] for d in details} == {package}
    assert all(d["ModelApprovalStatus"] == "Approved" for d in details), "the pending one did not match"

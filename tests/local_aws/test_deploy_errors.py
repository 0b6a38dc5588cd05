"""A deploy that cannot be faithful fails loudly, naming what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_aws.cloudformation.deploy import CloudAssembly, DeployError, prepare_template


def test_unsupported_resource_type_fails_instead_of_being_skipped() -> None:
    with pytest.raises(DeployError, match=r"cannot create \['AWS::AppRunner::Service'\]"):
        prepare_template({"Resources": {"Svc": {"Type": "AWS::AppRunner::Service", "Properties": {}}}})


def test_unknown_custom_resource_fails_with_its_logical_id() -> None:
    with pytest.raises(DeployError, match="Seeder: custom resource Custom::SeedData has no local emulation"):
        prepare_template({"Resources": {"Seeder": {"Type": "Custom::SeedData", "Properties": {}}}})


def test_auto_delete_custom_resource_is_removed_and_reported() -> None:
    template = {"Resources": {
        "B": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "AutoDelete": {"Type": "Custom::S3AutoDeleteObjects", "Properties": {"BucketName": {"Ref": "B"}},
                       "DependsOn": ["B"]},
    }}
    prepared, removed = prepare_template(template)
    assert list(prepared["Resources"]) == ["B"]
    assert removed[0]["LogicalResourceId"] == "AutoDelete" and "cdk destroy" in removed[0]["Reason"]
    assert "AutoDelete" in template["Resources"], "the synthesized template itself is never modified"


def test_resource_that_needs_a_removed_custom_resource_fails() -> None:
    template = {"Resources": {
        "AutoDelete": {"Type": "Custom::S3AutoDeleteObjects", "Properties": {}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::GetAtt": ["AutoDelete", "X"]}}},
    }}
    with pytest.raises(DeployError, match=r"Topic references \['AutoDelete'\]"):
        prepare_template(template)


def test_missing_assembly_says_to_synthesize_first(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="synthesize first"):
        CloudAssembly(tmp_path)

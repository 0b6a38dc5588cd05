"""The synthesized stacks deploy into the local AWS and behave like the templates say."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fraud_core.simulator import simulate
from local_aws.cloudformation.deploy import StackDeployment, deploy_assembly
from local_aws.runtime import LocalAws, local_aws
from mlops_demo.archive import read_archive, transaction_ids
from mlops_demo.producer import put_all


@pytest.fixture(scope="module")
def deployed(assemblies: dict[str, Path]) -> Iterator[tuple[LocalAws, dict[str, StackDeployment]]]:
    with local_aws() as aws:
        stacks = deploy_assembly(aws, assemblies["sandbox"])
        yield aws, {s.artifact_id: s for s in stacks}


def _resolve_name(value: object, aws: LocalAws) -> str:
    """Resolve the Fn::Join bucket-name expressions CDK emits, as CloudFormation would."""
    if isinstance(value, str):
        return value
    sep, parts = value["Fn::Join"]  # type: ignore[index]
    pseudo = {"AWS::AccountId": aws.account_id, "AWS::Region": aws.region}
    return sep.join(p if isinstance(p, str) else pseudo[p["Ref"]] for p in parts)


def _resources(template: dict, rtype: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == rtype}


def test_every_stack_completes_with_every_resource(deployed, templates) -> None:
    aws, stacks = deployed
    assert set(stacks) == set(templates["sandbox"])
    for artifact_id, stack in stacks.items():
        assert stack.status == "CREATE_COMPLETE"
        expected = {k for k, v in templates["sandbox"][artifact_id]["Resources"].items()
                    if not v["Type"].startswith("Custom::")}
        assert {r["LogicalResourceId"] for r in stack.resources} == expected


def test_only_custom_resources_are_reported_not_emulated_with_a_reason(deployed) -> None:
    _, stacks = deployed
    skipped = [item for s in stacks.values() for item in s.not_emulated]
    assert skipped, "sandbox buckets use auto-delete custom resources"
    assert {i["ResourceType"] for i in skipped} == {"Custom::S3AutoDeleteObjects"}
    assert all("cdk destroy" in i["Reason"] for i in skipped)


def test_buckets_exist_with_synthesized_names_and_settings(deployed, templates) -> None:
    aws, _ = deployed
    s3 = aws.client("s3")
    template = templates["sandbox"]["DataFoundation"]
    buckets = _resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 7
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    for logical_id, res in buckets.items():
        props = res["Properties"]
        name = _resolve_name(props["BucketName"], aws)
        assert name in existing, logical_id
        enc = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
        want = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == \
            want["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
        assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == \
            props["PublicAccessBlockConfiguration"]
        versioning = s3.get_bucket_versioning(Bucket=name).get("Status")
        assert versioning == props.get("VersioningConfiguration", {}).get("Status"), name
        rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
        expiry = {r["ID"]: r["Expiration"]["Days"] for r in rules if "Expiration" in r}
        want_expiry = {r["Id"]: r["ExpirationInDays"] for r in props["LifecycleConfiguration"]["Rules"]
                       if "ExpirationInDays" in r}
        assert expiry == want_expiry, name
        policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
        assert any(st["Effect"] == "Deny" and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
                   == "false" for st in policy["Statement"]), name
        if "LoggingConfiguration" in props:
            logging = s3.get_bucket_logging(Bucket=name)["LoggingEnabled"]
            assert logging["TargetPrefix"] == props["LoggingConfiguration"]["LogFilePrefix"]


def test_stream_and_topic_exist_encrypted(deployed, templates) -> None:
    aws, stacks = deployed
    outputs = stacks["DataFoundation"].outputs
    template = templates["sandbox"]["DataFoundation"]
    (stream_props,) = [r["Properties"] for r in _resources(template, "AWS::Kinesis::Stream").values()]
    summary = aws.client("kinesis").describe_stream_summary(StreamName=outputs["TransactionsStreamName"])[
        "StreamDescriptionSummary"]
    assert summary["StreamName"] == stream_props["Name"] == "mlops-demo-sandbox-transactions"
    assert summary["EncryptionType"] == "KMS"
    assert summary["OpenShardCount"] == stream_props["ShardCount"]
    assert summary["RetentionPeriodHours"] == stream_props["RetentionPeriodHours"]
    attrs = aws.client("sns").get_topic_attributes(TopicArn=outputs["AlertsTopicArn"])["Attributes"]
    assert attrs["KmsMasterKeyId"] == outputs["DataKeyArn"]
    assert outputs["AlertsTopicArn"].endswith(":mlops-demo-sandbox-alerts")


def test_records_sent_to_the_stream_arrive_in_the_archive_none_lost(deployed) -> None:
    aws, stacks = deployed
    outputs = stacks["DataFoundation"].outputs
    batch = simulate(1_200, seed=3, scenario="poison")  # poison included: the archive keeps raw bytes
    payloads = [p + b"\n" for p in batch.encoded()]
    report = put_all(aws.client("kinesis"), outputs["TransactionsStreamName"],
                     [(str(i), p) for i, p in enumerate(payloads)])
    assert (report.sent, report.failed, report.batches) == (1_200, 0, 3)

    delivery = aws.firehose.delivery(outputs["ArchiveDeliveryStreamName"])
    aws.clock.advance(delivery.buffer_seconds - 1)
    assert delivery.report.objects_written == [], "nothing is delivered before the buffer interval"
    aws.clock.advance(1)  # the interval has passed since the first record arrived: one object

    keys, archived = read_archive(aws.client("s3"), outputs["RawBucketName"])
    assert len(keys) == 1 and keys[0].startswith("transactions/year=") and keys[0].endswith(".gz")
    assert sorted(archived) == sorted(p.rstrip(b"\n") for p in payloads)
    assert set(transaction_ids(archived)) <= set(batch.transaction_ids())
    head = aws.client("s3").head_object(Bucket=outputs["RawBucketName"], Key=keys[0])
    assert head["ServerSideEncryption"] == "aws:kms"


def test_prod_profile_deploys_beside_sandbox(deployed, assemblies) -> None:
    aws, _ = deployed
    stacks = deploy_assembly(aws, assemblies["prod"])
    assert [s.stack_name for s in stacks] == ["MlopsDemo-prod-DataFoundation", "MlopsDemo-prod-TrainingPipeline",
                                              "MlopsDemo-prod-Serving", "MlopsDemo-prod-StreamScoring",
                                              "MlopsDemo-prod-Monitoring"]
    assert {s.status for s in stacks} == {"CREATE_COMPLETE"}
    assert [s.not_emulated for s in stacks] == [[], [], [], [], []]  # prod retains buckets: no auto-delete resources
    summary = aws.client("kinesis").describe_stream_summary(StreamName="mlops-demo-prod-transactions")
    assert summary["StreamDescriptionSummary"]["RetentionPeriodHours"] == 168

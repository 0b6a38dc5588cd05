"""The patches of moto internals: the registry, the version pin, and what each patch fixes.

If a moto upgrade breaks a patch, these fail first (and the fast state-machine test in test_fast_state_machine)."""

from __future__ import annotations

import json

import pytest
from moto.cloudformation import parsing

from local_aws.cloudformation.models import OUR_MODELS, register_cloudformation_models
from local_aws.iam.conditions import conditions_met
from local_aws.patching import MOTO_VERSION, MotoPatches, MotoVersionError, PatchError, check_moto_version
from local_aws.runtime import LocalAwsError, local_aws


def test_a_different_moto_version_stops_the_local_aws_naming_both_versions() -> None:
    assert check_moto_version() == MOTO_VERSION
    with pytest.raises(MotoVersionError, match=r"written for moto 5\.2\.5, but moto 6\.0\.0 is installed"):
        check_moto_version("6.0.0")


def test_a_patch_of_a_name_moto_no_longer_has_fails_loudly() -> None:
    import moto.kinesis.models as kinesis_models

    patches = MotoPatches()
    with pytest.raises(PatchError, match=r"moto\.kinesis\.models\.Stream\.no_such_method"):
        patches.replace(kinesis_models.Stream, "no_such_method", lambda: None, why="test")
    with pytest.raises(PatchError, match="no longer matches"):
        patches.expect(False, "a precondition")


def test_uninstall_restores_exactly_what_was_patched() -> None:
    from moto.kinesis.models import Stream
    from moto.stepfunctions.responses import StepFunctionResponse

    before = (Stream.put_record, StepFunctionResponse.start_execution)
    with local_aws() as aws:
        assert Stream.put_record is not before[0]
        assert "moto.kinesis.models.Stream.put_record" in aws.patches.targets()
        assert len(aws.patches.targets()) >= 20
    assert (Stream.put_record, StepFunctionResponse.start_execution) == before


def test_only_one_local_aws_runs_per_process() -> None:
    with local_aws(), pytest.raises(LocalAwsError, match="already running"), local_aws():
        pass


def test_our_models_are_what_moto_uses_for_their_types() -> None:
    handled = register_cloudformation_models()
    model_map = parsing.get_model_map()
    assert set(handled) == {m.cloudformation_type() for m in OUR_MODELS}
    for model in OUR_MODELS:
        assert model_map[model.cloudformation_type()] is model


@pytest.mark.parametrize(("context", "applies"), [
    ({"aws:SecureTransport": "false"}, True),
    ({"aws:SecureTransport": "true"}, False),
    ({}, False),  # a key missing from the request fails its condition, as in IAM
])
def test_tls_only_deny_applies_only_to_plain_http(context: dict[str, str], applies: bool) -> None:
    assert conditions_met({"Bool": {"aws:SecureTransport": "false"}}, context) is applies


def test_unknown_condition_operator_never_matches() -> None:
    assert not conditions_met({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "5"})
    assert conditions_met({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::b*"}}, {"aws:SourceArn": "arn:aws:s3:::bx"})


def _stack(resources: dict) -> str:
    return json.dumps({"Resources": resources})


def test_bucket_policy_deny_without_tls_does_not_block_local_writes_but_unconditional_deny_does() -> None:
    with local_aws() as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket="tls-only")
        s3.put_bucket_policy(Bucket="tls-only", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
            "Resource": ["arn:aws:s3:::tls-only", "arn:aws:s3:::tls-only/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
        s3.put_object(Bucket="tls-only", Key="k", Body=b"ok")
        s3.create_bucket(Bucket="locked")
        s3.put_bucket_policy(Bucket="locked", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::locked/*"}]}))
        with pytest.raises(Exception, match="403|Forbidden|AccessDenied"):
            s3.put_object(Bucket="locked", Key="k", Body=b"no")


def test_cloudformation_creates_skipped_types_and_dropped_properties() -> None:
    template = {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {
                "KeyPolicy": {"Version": "2012-10-17", "Statement": []},
                "Tags": [{"Key": "project", "Value": "x"}]}},
            "Logs": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "logs-bucket"}},
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
                "BucketName": "data-bucket",
                "VersioningConfiguration": {"Status": "Enabled"},
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                   "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                "LifecycleConfiguration": {"Rules": [{"Id": "expire", "Status": "Enabled", "ExpirationInDays": 9}]},
            }},
            "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {
                "Name": "s", "ShardCount": 1,
                "StreamEncryption": {"EncryptionType": "KMS", "KeyId": {"Fn::GetAtt": ["Key", "Arn"]}}}},
            "Group": {"Type": "AWS::SageMaker::ModelPackageGroup",
                      "Properties": {"ModelPackageGroupName": "fraud-models"}},
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
                "AlarmName": "a", "MetricName": "m", "Namespace": "n", "Statistic": "Sum", "Period": 60,
                "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 1,
                "ComparisonOperator": "GreaterThanThreshold"}},
        },
    }
    from local_aws.cloudformation.deploy import prepare_template

    with local_aws() as aws:
        prepared, removed = prepare_template(template)
        assert removed == []
        cfn = aws.client("cloudformation")
        cfn.create_stack(StackName="t", TemplateBody=json.dumps(prepared))
        assert cfn.describe_stacks(StackName="t")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        s3 = aws.client("s3")
        assert s3.get_bucket_versioning(Bucket="data-bucket")["Status"] == "Enabled"
        assert s3.get_bucket_lifecycle_configuration(Bucket="data-bucket")["Rules"][0]["Expiration"]["Days"] == 9
        assert s3.get_public_access_block(Bucket="data-bucket")["PublicAccessBlockConfiguration"]["BlockPublicAcls"]
        stream = aws.client("kinesis").describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]
        assert stream["EncryptionType"] == "KMS"
        groups = aws.client("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"]
        assert [g["ModelPackageGroupName"] for g in groups] == ["fraud-models"]
        alarm = aws.client("cloudwatch").describe_alarms(AlarmNames=["a"])["MetricAlarms"][0]
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 2)


def test_get_records_pages_a_long_shard_in_order_from_any_position() -> None:
    with local_aws() as aws:
        kinesis = aws.client("kinesis")
        kinesis.create_stream(StreamName="s", ShardCount=1)
        for start in range(0, 2500, 500):
            kinesis.put_records(StreamName="s", Records=[{"PartitionKey": "k", "Data": str(i).encode()}
                                                         for i in range(start, start + 500)])
        shard = kinesis.list_shards(StreamName="s")["Shards"][0]["ShardId"]
        iterator = kinesis.get_shard_iterator(StreamName="s", ShardId=shard,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        seen: list[dict] = []
        while (out := kinesis.get_records(ShardIterator=iterator, Limit=1000))["Records"]:
            assert len(out["Records"]) <= 1000
            seen += out["Records"]
            iterator = out["NextShardIterator"]
        assert [int(r["Data"]) for r in seen] == list(range(2500))
        middle = seen[1234]["SequenceNumber"]
        after = kinesis.get_shard_iterator(StreamName="s", ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                           StartingSequenceNumber=middle)["ShardIterator"]
        assert int(kinesis.get_records(ShardIterator=after, Limit=1)["Records"][0]["Data"]) == 1235


def test_sqs_drops_a_message_older_than_the_queue_retention() -> None:
    from moto.sqs.models import sqs_backends

    with local_aws() as aws:
        sqs = aws.client("sqs")
        url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="young")
        backend = sqs_backends[aws.account_id][aws.region]
        assert backend.is_message_valid_based_on_retention_period("q", backend.get_queue("q").messages[0])
        backend.get_queue("q").messages[0].sent_timestamp -= 61_000  # SQS clocks read wall time (docs/local-aws.md)
        assert sqs.receive_message(QueueUrl=url).get("Messages") is None


def test_sqs_counts_visible_in_flight_and_delayed_messages_apart() -> None:
    with local_aws() as aws:
        sqs = aws.client("sqs")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        for body in ("a", "b"):
            sqs.send_message(QueueUrl=url, MessageBody=body)
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=600)
        assert len(sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)["Messages"]) == 1
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                 "ApproximateNumberOfMessagesDelayed"]
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        assert [int(counts[n]) for n in names] == [1, 1, 1]


def test_log_lines_create_their_group_once_and_recreate_it_if_deleted() -> None:
    from local_aws.logs.writer import write_log_lines

    with local_aws() as aws:
        logs, now = aws.client("logs"), int(aws.clock.now().timestamp() * 1000)
        write_log_lines(logs, "/aws/lambda/f", "s1", ["a", "b"], now)
        write_log_lines(logs, "/aws/lambda/f", "s1", ["c"], now + 10)  # the same stream again
        write_log_lines(logs, "/aws/lambda/f", "s2", ["d"], now + 20)
        messages = [e["message"] for e in logs.filter_log_events(logGroupName="/aws/lambda/f")["events"]]
        assert sorted(messages) == ["a", "b", "c", "d"]
        logs.delete_log_group(logGroupName="/aws/lambda/f")
        write_log_lines(logs, "/aws/lambda/f", "s3", ["e"], now + 30)
        assert [e["message"] for e in logs.filter_log_events(logGroupName="/aws/lambda/f")["events"]] == ["e"]

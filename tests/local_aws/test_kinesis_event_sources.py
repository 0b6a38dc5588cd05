"""Kinesis -> Lambda on the local AWS, as Lambda's event source mapping behaves: batches, windows, partial
batch responses, bisect, bounded retries, the on-failure destination, metrics; never inside PutRecord."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest

from local_aws.runtime import LocalAws, local_aws

# Records are JSON {"n": int, "do": "ok" | "fail" | "crash"}: "fail" is reported as a batch item failure
# until the record was seen 3 times; "crash" raises (the whole batch fails). Every call is logged to SQS.
HANDLER = '''
import base64, json, os, boto3
SEEN = {}
def handler(event, context):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="calls")["QueueUrl"]
    records = [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"]]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps([r["n"] for r in records]))
    failures = []
    for raw, rec in zip(event["Records"], records):
        if rec["do"] == "crash":
            raise RuntimeError("crashed on %s" % rec["n"])
        SEEN[rec["n"]] = SEEN.get(rec["n"], 0) + 1
        if rec["do"] == "fail" and SEEN[rec["n"]] < 3:
            failures.append({"itemIdentifier": raw["kinesis"]["sequenceNumber"]})
    return {"batchItemFailures": failures}
'''


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", HANDLER)
    return buf.getvalue()


@pytest.fixture()
def aws() -> Iterator[LocalAws]:
    with local_aws() as aws:
        iam = aws.client("iam")
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        aws.client("kinesis").create_stream(StreamName="s", ShardCount=1)
        aws.client("sqs").create_queue(QueueName="calls")
        aws.client("sqs").create_queue(QueueName="failed")
        aws.client("lambda").create_function(FunctionName="scorer", Runtime="python3.12", Role=role,
                                             Handler="handler.handler", Code={"ZipFile": _zip()}, Timeout=30)
        yield aws


def _mapping(aws: LocalAws, **options) -> None:
    stream = aws.client("kinesis").describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamARN"]
    failed = aws.client("sqs").get_queue_attributes(QueueUrl=_url(aws, "failed"),
                                                    AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("lambda").create_event_source_mapping(
        FunctionName="scorer", EventSourceArn=stream, StartingPosition="TRIM_HORIZON",
        DestinationConfig={"OnFailure": {"Destination": failed}}, **options)


def _url(aws: LocalAws, name: str) -> str:
    return aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def _drain(aws: LocalAws, queue: str) -> list:
    sqs, out = aws.client("sqs"), []
    while True:
        got = sqs.receive_message(QueueUrl=_url(aws, queue), MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        for m in got:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=_url(aws, queue), ReceiptHandle=m["ReceiptHandle"])


def _put(aws: LocalAws, *items: tuple[int, str]) -> None:
    aws.client("kinesis").put_records(StreamName="s", Records=[
        {"PartitionKey": "k", "Data": json.dumps({"n": n, "do": do}).encode()} for n, do in items])


def test_records_are_delivered_in_batches_when_the_clock_moves_never_inside_put_record(aws) -> None:
    _mapping(aws, BatchSize=4, MaximumBatchingWindowInSeconds=0)
    _put(aws, *[(n, "ok") for n in range(10)])
    assert aws.event_sources.invocations == 0, "PutRecords returned before any invocation"
    aws.clock.advance(0)
    assert _drain(aws, "calls") == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_a_partial_batch_waits_for_the_batching_window(aws) -> None:
    _mapping(aws, BatchSize=100, MaximumBatchingWindowInSeconds=5)
    _put(aws, (0, "ok"), (1, "ok"))
    aws.clock.advance(4)
    _put(aws, (2, "ok"))
    assert _drain(aws, "calls") == []
    aws.clock.advance(1)
    assert _drain(aws, "calls") == [[0, 1, 2]]


def test_batch_item_failures_retry_from_the_lowest_failed_record(aws) -> None:
    _mapping(aws, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=5)
    _put(aws, (0, "ok"), (1, "fail"), (2, "ok"))
    aws.clock.advance(10)
    assert _drain(aws, "calls") == [[0, 1, 2], [1, 2], [1, 2]], "checkpointed after 0; 1 succeeds the third time"
    assert _drain(aws, "failed") == []


def test_a_crashing_batch_is_bisected_and_the_poison_record_discarded_to_the_destination(aws) -> None:
    _mapping(aws, BatchSize=4, BisectBatchOnFunctionError=True, MaximumRetryAttempts=1)
    _put(aws, (0, "ok"), (1, "ok"), (2, "crash"), (3, "ok"))
    aws.clock.advance(30)
    calls = _drain(aws, "calls")
    assert calls[:3] == [[0, 1, 2, 3], [0, 1], [2, 3]] and [3] in calls
    assert sorted(n for c in calls if 2 not in c for n in c) == [0, 1, 3], "everything but the poison succeeded"
    (record,) = _drain(aws, "failed")
    info = record["KinesisBatchInfo"]
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted" and info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] and "data" not in json.dumps(info)
    stats = aws.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda", MetricName="Errors", Dimensions=[{"Name": "FunctionName", "Value": "scorer"}],
        StartTime=aws.clock.at(0), EndTime=aws.clock.at(120), Period=60, Statistics=["Sum"])
    assert sum(p["Sum"] for p in stats["Datapoints"]) >= 3


def test_records_older_than_the_maximum_age_are_discarded_as_record_age_exceeded(aws) -> None:
    _mapping(aws, BatchSize=10, MaximumRecordAgeInSeconds=60, MaximumRetryAttempts=-1)
    _put(aws, (0, "crash"))
    aws.clock.advance(120)
    (record,) = _drain(aws, "failed")
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"

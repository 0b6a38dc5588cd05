"""`mlops-demo redrive`: score the batches the scoring function's event source mapping discarded.

Each message on the failed-batches queue is Lambda's invocation record for a Kinesis source: it says which
shard and which sequence numbers (first, last) were discarded and why, but not the records themselves.
The redrive reads those records back from the stream (they must still be within its retention), invokes
the scoring function with them as Lambda would, and deletes the message only when every record was
decided or dead-lettered. Decisions are keyed by shard and first sequence number, so a redrive of a batch
that was partly written already overwrites, never duplicates. Works against AWS or a served local AWS.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from stacks.naming import resource_name


@dataclass
class RedriveReport:
    batches: int = 0
    records: int = 0
    redriven: int = 0  # batches scored and removed from the queue
    kept: list[str] = field(default_factory=list)  # why a batch stays on the queue
    expired: int = 0  # records no longer in the stream (past its retention): lost, counted


def redrive(profile: str, *, endpoint_url: str | None = None, region: str | None = None) -> RedriveReport:
    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint_url, region_name=region)

    sqs, kinesis, lam = client("sqs"), client("kinesis"), client("lambda")
    queue = sqs.get_queue_url(QueueName=resource_name(profile, "scoring-failed-batches"))["QueueUrl"]
    report = RedriveReport()
    while True:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=300)
        if not messages.get("Messages"):
            return report
        for message in messages["Messages"]:
            info = json.loads(message["Body"])["KinesisBatchInfo"]
            records = read_batch(kinesis, info)
            report.batches += 1
            report.records += len(records)
            report.expired += max(0, int(info["batchSize"]) - len(records))
            problem = _interleaved(info, records) or _score(lam, resource_name(profile, "scorer"), info, records)
            if problem:
                report.kept.append(f"{info['shardId']} {info['startSequenceNumber']}: {problem}")
                continue
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            report.redriven += 1
        if report.kept and len(report.kept) >= report.batches:
            return report  # nothing moves: stop instead of receiving the same messages again


def read_batch(kinesis: Any, info: dict[str, Any]) -> list[dict[str, Any]]:
    """The records from startSequenceNumber to endSequenceNumber of one shard, as GetRecords returns them."""
    last = int(info["endSequenceNumber"])
    iterator = kinesis.get_shard_iterator(StreamARN=info["streamArn"], ShardId=info["shardId"],
                                          ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          StartingSequenceNumber=info["startSequenceNumber"])["ShardIterator"]
    out: list[dict[str, Any]] = []
    while iterator:
        page = kinesis.get_records(ShardIterator=iterator, Limit=1000, StreamARN=info["streamArn"])
        for record in page["Records"]:
            if int(record["SequenceNumber"]) > last:
                return out
            out.append(record)
        if not page["Records"]:
            return out
        iterator = page.get("NextShardIterator")
    return out


def _interleaved(info: dict[str, Any], records: list[dict[str, Any]]) -> str:
    """More records in the range than the batch held: the mapping ran concurrent batches per shard
    (ParallelizationFactor > 1), the range mixes in other batches' records, and re-scoring it would decide those
    twice. The stack sets the factor to 1; this guards a mapping changed by hand."""
    if len(records) <= int(info["batchSize"]):
        return ""
    return (f"the range holds {len(records)} records but the batch held {info['batchSize']}: concurrent batches per "
            "shard (ParallelizationFactor > 1); redrive it by hand")


def _score(lam: Any, function: str, info: dict[str, Any], records: list[dict[str, Any]]) -> str:
    """Invoke the scorer as its event source mapping would; '' when every record is done."""
    if not records:
        return ""
    event = {"Records": [{
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": r["PartitionKey"],
                    "sequenceNumber": r["SequenceNumber"], "data": base64.b64encode(r["Data"]).decode(),
                    "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"].timestamp()},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{info['shardId']}:{r['SequenceNumber']}",
        "eventName": "aws:kinesis:record", "eventSourceARN": info["streamArn"]} for r in records]}
    out = lam.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    payload = out["Payload"].read().decode()
    if out.get("FunctionError"):
        return f"the function failed: {payload[:300]}"
    failures = (json.loads(payload) or {}).get("batchItemFailures") or []
    return f"{len(failures)} records still fail (is the endpoint up?)" if failures else ""

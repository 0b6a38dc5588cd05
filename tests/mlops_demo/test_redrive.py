"""`mlops-demo redrive` with fake AWS clients: what it re-scores, what it keeps on the queue and why."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from mlops_demo import redrive as redrive_module

STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/transactions"


class FakeAws:
    def __init__(self, shard: list[int], batches: list[tuple[int, int, int]], failures: int = 0) -> None:
        self.shard = shard  # sequence numbers on the one shard
        self.queue = [{"ReceiptHandle": f"r{i}", "Body": json.dumps({"KinesisBatchInfo": {
            "shardId": "shardId-000000000000", "startSequenceNumber": str(a), "endSequenceNumber": str(b),
            "batchSize": n, "streamArn": STREAM}})} for i, (a, b, n) in enumerate(batches)]
        self.invoked: list[list[str]] = []
        self.failures = failures

    # sqs
    def get_queue_url(self, QueueName: str) -> dict[str, str]:  # noqa: N803
        return {"QueueUrl": QueueName}

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        return {"Messages": list(self.queue)}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:  # noqa: N803
        self.queue = [m for m in self.queue if m["ReceiptHandle"] != ReceiptHandle]

    # kinesis
    def get_shard_iterator(self, StartingSequenceNumber: str, **kwargs: Any) -> dict[str, str]:  # noqa: N803
        return {"ShardIterator": StartingSequenceNumber}

    def get_records(self, ShardIterator: str, **kwargs: Any) -> dict[str, Any]:  # noqa: N803
        records = [{"SequenceNumber": str(s), "PartitionKey": "k", "Data": b'{"x":1}',
                    "ApproximateArrivalTimestamp": datetime(2026, 12, 1, tzinfo=UTC)}
                   for s in self.shard if s >= int(ShardIterator)]
        return {"Records": records, "NextShardIterator": None}

    # lambda
    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        event = json.loads(Payload)
        self.invoked.append([r["kinesis"]["sequenceNumber"] for r in event["Records"]])
        failed = [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in event["Records"][:self.failures]]
        return {"Payload": io.BytesIO(json.dumps({"batchItemFailures": failed}).encode())}


@pytest.fixture()
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeAws:
    aws = FakeAws(shard=[10, 11, 12, 13, 14], batches=[(10, 11, 2)])
    monkeypatch.setattr(redrive_module.boto3, "client", lambda *a, **k: aws)
    return aws


def test_a_discarded_batch_is_read_back_scored_and_removed(fake: FakeAws) -> None:
    report = redrive_module.redrive("sandbox")
    assert fake.invoked == [["10", "11"]]
    assert (report.batches, report.redriven, report.kept, report.expired) == (1, 1, [], 0)
    assert fake.queue == []


def test_a_batch_that_still_fails_stays_on_the_queue_with_the_reason(fake: FakeAws) -> None:
    fake.failures = 1
    report = redrive_module.redrive("sandbox")
    assert report.redriven == 0 and "1 records still fail" in report.kept[0]
    assert len(fake.queue) == 1


def test_a_range_holding_other_batches_records_is_not_rescored(fake: FakeAws) -> None:
    fake.queue = FakeAws(fake.shard, [(10, 13, 2)]).queue  # 4 records in range, 2 in the batch: interleaved
    report = redrive_module.redrive("sandbox")
    assert fake.invoked == [] and "ParallelizationFactor > 1" in report.kept[0]
    assert len(fake.queue) == 1

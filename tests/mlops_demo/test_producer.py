"""The Kinesis producer's no-loss retry behaviour: partial failures are resent, leftovers counted, never dropped."""

from __future__ import annotations

import pytest

from local_aws.clock import SimulatedClock
from mlops_demo.producer import MAX_BATCH_RECORDS, put_all


class FlakyKinesis:
    """Fails the first `failures` entries of every call `fail_calls` times, like a throttled shard."""

    def __init__(self, fail_calls: int, failures: int = 3) -> None:
        self.fail_calls, self.failures = fail_calls, failures
        self.calls: list[int] = []
        self.stored: list[bytes] = []

    def put_records(self, StreamName: str, Records: list[dict]) -> dict:  # boto3's names
        self.calls.append(len(Records))
        failing = self.failures if self.fail_calls > 0 else 0
        self.fail_calls -= 1
        results = []
        for i, rec in enumerate(Records):
            if i < failing:
                results.append({"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"})
            else:
                self.stored.append(rec["Data"])
                results.append({"SequenceNumber": str(len(self.stored)), "ShardId": "shardId-0"})
        return {"FailedRecordCount": failing, "Records": results}


def test_partially_failed_batches_are_retried_until_every_record_is_stored() -> None:
    kinesis, clock = FlakyKinesis(fail_calls=2), SimulatedClock()
    records = [(str(i), f"r{i}".encode()) for i in range(1_001)]
    report = put_all(kinesis, "s", records, sleep=clock.sleep)
    assert sorted(kinesis.stored) == sorted(d for _, d in records)
    assert (report.sent, report.failed, report.retried) == (1_001, 0, 6)
    assert kinesis.calls[:3] == [MAX_BATCH_RECORDS, 3, 3]
    assert clock.elapsed_seconds == pytest.approx(0.1 + 0.2)  # backoff ran on the simulated clock


def test_records_still_failing_after_all_attempts_are_counted_not_dropped_silently() -> None:
    kinesis = FlakyKinesis(fail_calls=100, failures=2)
    report = put_all(kinesis, "s", [(str(i), b"x") for i in range(10)], max_attempts=3)
    assert (report.sent, report.failed) == (8, 2)


def test_batches_respect_the_putrecords_size_limit() -> None:
    kinesis = FlakyKinesis(fail_calls=0)
    big = b"x" * (1024 * 1024)  # 1 MiB records: at most four fit under 5 MiB with their keys
    put_all(kinesis, "s", [(str(i), big) for i in range(9)])
    assert kinesis.calls == [4, 4, 1]

"""Put records on a Kinesis stream in PutRecords batches, retrying only the entries that failed.

Works against the local AWS and a real account alike. PutRecords can partially fail (throttling);
a producer that ignores `FailedRecordCount` loses data silently, so failed entries are resent with
backoff and anything still failing is returned, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_BATCH_RECORDS = 500  # PutRecords limit
MAX_BATCH_BYTES = 5 * 1024 * 1024


@dataclass
class ProduceReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    batches: int = 0


def put_all(kinesis: Any, stream_name: str, records: Sequence[tuple[str, bytes]], *,
            max_attempts: int = 5, sleep: Callable[[float], Any] = lambda s: None,
            on_progress: Callable[[int], Any] | None = None) -> ProduceReport:
    """Send (partition_key, data) pairs; `sleep` is the backoff (pass the simulated clock's)."""
    report = ProduceReport()
    for batch in _batches(records):
        pending = batch
        lost: list[tuple[str, bytes]] = []
        for attempt in range(max_attempts):
            resp = kinesis.put_records(StreamName=stream_name, Records=[
                {"PartitionKey": key, "Data": data} for key, data in pending])
            report.batches += 1
            if not resp.get("FailedRecordCount"):
                break
            pending = [rec for rec, res in zip(pending, resp["Records"], strict=True) if "ErrorCode" in res]
            report.retried += len(pending)
            sleep(min(2.0, 0.1 * 2 ** attempt))
        else:
            lost = pending
        report.failed += len(lost)
        report.sent += len(batch) - len(lost)
        if on_progress:
            on_progress(len(batch))
    return report


def _batches(records: Sequence[tuple[str, bytes]]) -> list[list[tuple[str, bytes]]]:
    batches: list[list[tuple[str, bytes]]] = [[]]
    size = 0
    for key, data in records:
        entry = len(key) + len(data)
        if len(batches[-1]) == MAX_BATCH_RECORDS or size + entry > MAX_BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append((key, data))
        size += entry
    return [b for b in batches if b]

"""Put simulated history where the training pipeline reads it: the raw archive and the labels bucket.

The demo streams transactions through Kinesis and Firehose; tests and benchmarks that only need the
pipeline's inputs write the same layout directly: newline-delimited JSON, gzip, under transactions/.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from fraud_core.config import ProfileConfig
from fraud_core.simulator import TransactionBatch, simulate


def training_history(config: ProfileConfig, n: int, *, seed: int = 0, scenario: str = "baseline",
                     now: datetime | None = None) -> TransactionBatch:
    """Transactions covering the pipeline's training window for a run started `now`.

    The window ends label_maturity_days before the run (chargebacks must have arrived) and spans
    training_window_days; one extra day on each side keeps edge effects out of the window.
    """
    now = now or datetime.now(UTC)
    start = now - timedelta(days=config.label_maturity_days + config.training_window_days + 1)
    return simulate(n, seed=seed, scenario=scenario, start=start, days=config.training_window_days + 1)


def write_archive(s3: Any, bucket: str, payloads: Iterable[bytes], key: str = "transactions/history/part-0000.gz",
                  kms_key: str | None = None) -> str:
    body = gzip.compress(b"".join(p + b"\n" for p in payloads), mtime=0)
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key} if kms_key else {}
    s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)
    return key


def write_archive_by_day(s3: Any, bucket: str, records: Iterable[tuple[str, bytes]],
                         kms_key: str | None = None) -> list[str]:
    """(event_time, payload) pairs as Firehose leaves them: one gzip object per day, date-partitioned keys."""
    days: dict[str, list[bytes]] = {}
    for event_time, payload in records:
        days.setdefault(event_time[:10], []).append(payload)
    keys = []
    for day, payloads in sorted(days.items()):
        year, month, dom = day.split("-")
        keys.append(write_archive(s3, bucket, payloads, f"transactions/year={year}/month={month}/day={dom}/"
                                                        f"history-{day}.gz", kms_key))
    return keys


def write_labels(s3: Any, bucket: str, labels: Iterable[dict[str, Any]], key: str = "labels/chargebacks.jsonl",
                 kms_key: str | None = None) -> str:
    body = "".join(json.dumps(label, separators=(",", ":")) + "\n" for label in labels).encode()
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key} if kms_key else {}
    s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)
    return key

"""A month of served traffic as production would have left it, for stories and tests that cannot wait a month.

Labels mature 30 days after a transaction, so the quality monitor judges decisions at least that old. The demo
and the tests replay transactions of 31-37 days ago through the *live* endpoint (real inference, real data
capture) and leave what the streaming scorer, the Firehose archive and the label feed would have left: decisions
partitioned by event date (fraud_core.scoring.decisions_key), raw transactions by day, and their labels, all
available by now. The replay is the shortcut; everything that judges it afterwards is the real monitor.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fraud_core.scoring import ScoredChunk, StreamRecord, decisions, decisions_jsonl, decisions_key
from fraud_core.simulator import simulate

REQUEST_SIZE = 500


def land_served_month(client: Callable[[str], Any], buckets: dict[str, str], endpoint: str, now: datetime,
                      scenario: str, *, n: int = 4_000, seed: int = 11) -> list[dict[str, Any]]:
    """Score `n` transactions of 31-37 days ago under `scenario` and land decisions, archive and labels in
    `buckets` (purpose -> name: decisions, raw, labels); returns the decisions."""
    batch = simulate(n, seed=seed, scenario=scenario, start=now - timedelta(days=37), days=6)
    records, s3, runtime = batch.records(), client("s3"), client("sagemaker-runtime")
    by_day: dict[str, list[StreamRecord]] = defaultdict(list)
    for i, record in enumerate(records):
        by_day[record["event_time"][:10]].append(StreamRecord(str(i), "backfill", "", 0.0, b"", record))
    decided: list[dict[str, Any]] = []
    for date, day_records in by_day.items():
        day: list[dict[str, Any]] = []
        for i in range(0, len(day_records), REQUEST_SIZE):
            chunk = day_records[i:i + REQUEST_SIZE]
            out = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="application/json", Body=json.dumps(
                {"instances": [r.transaction for r in chunk]}))
            response = json.loads(out["Body"].read())
            day += decisions(ScoredChunk(chunk, response, out.get("InvokedProductionVariant", "primary"), 0.0),
                             now.timestamp() * 1000)
        # As the scorer writes them (fraud_core.scoring): keyed by the first record, partitioned by event date.
        s3.put_object(Bucket=buckets["decisions"], Key=decisions_key(day_records[0]), Body=decisions_jsonl(day))
        y, m, d = date.split("-")
        s3.put_object(Bucket=buckets["raw"], Key=f"transactions/year={y}/month={m}/day={d}/backfill.gz",
                      Body=gzip.compress("".join(json.dumps(r.transaction) + "\n" for r in day_records).encode()))
        decided += day
    s3.put_object(Bucket=buckets["labels"], Key="labels/backfill.jsonl",
                  Body="".join(json.dumps(label) + "\n" for label in batch.labels()).encode())
    return decided

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

from fraud_core.simulator import simulate

REQUEST_SIZE = 500


def land_served_month(client: Callable[[str], Any], buckets: dict[str, str], endpoint: str, now: datetime,
                      scenario: str, *, n: int = 4_000, seed: int = 11) -> list[dict[str, Any]]:
    """Score `n` transactions of 31-37 days ago under `scenario` and land decisions, archive and labels in
    `buckets` (purpose -> name: decisions, raw, labels); returns the decisions."""
    batch = simulate(n, seed=seed, scenario=scenario, start=now - timedelta(days=37), days=6)
    records, s3, runtime = batch.records(), client("s3"), client("sagemaker-runtime")
    decisions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i in range(0, n, REQUEST_SIZE):
        chunk = records[i:i + REQUEST_SIZE]
        out = json.loads(runtime.invoke_endpoint(EndpointName=endpoint, ContentType="application/json",
                                                 Body=json.dumps({"instances": chunk}))["Body"].read())
        for record, p in zip(chunk, out["predictions"], strict=True):
            decisions[record["event_time"][:10]].append({
                "transaction_id": record["transaction_id"], "event_time": record["event_time"], "score": p["score"],
                "decision": "review" if p["is_fraud"] else "approve", "threshold": out["threshold"],
                "model_version": out["model_version"], "variant": "primary", "scored_at": now.isoformat()})
    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_day[record["event_time"][:10]].append(record)
    for day, rows in decisions.items():
        s3.put_object(Bucket=buckets["decisions"], Key=f"decisions/date={day}/shard=backfill/0.jsonl",
                      Body="".join(json.dumps(r) + "\n" for r in rows).encode())
        y, m, d = day.split("-")
        s3.put_object(Bucket=buckets["raw"], Key=f"transactions/year={y}/month={m}/day={d}/backfill.gz",
                      Body=gzip.compress("".join(json.dumps(r) + "\n" for r in by_day[day]).encode()))
    s3.put_object(Bucket=buckets["labels"], Key="labels/backfill.jsonl",
                  Body="".join(json.dumps(label) + "\n" for label in batch.labels()).encode())
    return [d for rows in decisions.values() for d in rows]

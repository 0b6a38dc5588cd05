"""Streaming scoring, the pure part: decode a Kinesis batch, build one endpoint request, turn the answer into
decisions, and name where they go. No AWS calls (the Lambda handler makes them); standard library only, so the
scoring function's bundle needs no compiled packages.

Exactly-once decisions without a lock table: a batch's decisions are one object keyed by the shard and the
first record's sequence number. Lambda retries a batch from the lowest failed record, so any retry of records
already written starts at the same sequence number (same key: the object is overwritten), and a bisected half
that starts there overwrites it with its own records while the other half writes its own key. The handler
writes only the records before the batch's first failure, so no two keys ever hold the same transaction.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, NamedTuple

from fraud_core.schema import RECORD_FIELD, TransactionValidationError, parse_transaction

MAX_INSTANCES_PER_REQUEST = 1000  # the inference handler's limit per request
_COMPACT = json.JSONEncoder(separators=(",", ":")).encode  # built once, not per decision


class StreamRecord(NamedTuple):
    """One Kinesis record of a Lambda event, decoded and validated (a tuple: a batch builds a thousand)."""

    sequence: str
    shard: str
    partition_key: str
    arrival_ms: float
    data: bytes
    transaction: dict[str, Any] | None  # None when invalid
    errors: tuple[dict[str, Any], ...] = ()  # [{"field", "rule", "value"}] when invalid

    @property
    def valid(self) -> bool:
        return self.transaction is not None


def decode(records: Iterable[Mapping[str, Any]]) -> list[StreamRecord]:
    out = []
    for r in records:
        kinesis = r["kinesis"]
        data = base64.b64decode(kinesis["data"])
        where = (str(kinesis["sequenceNumber"]), str(r.get("eventID", "unknown:")).split(":", 1)[0],
                 str(kinesis.get("partitionKey", "")), float(kinesis.get("approximateArrivalTimestamp", 0.0)) * 1000,
                 data)
        try:
            out.append(StreamRecord(*where, parse_transaction(data)))
        except TransactionValidationError as err:
            problems = tuple({"field": e.field, "rule": e.rule, **({"value": repr(e.value)[:80]}
                                                                  if e.field != RECORD_FIELD else {})}
                             for e in err.errors)
            out.append(StreamRecord(*where, None, problems))
    return out


def requests(records: Sequence[StreamRecord]) -> list[tuple[list[StreamRecord], bytes]]:
    """The valid records in endpoint requests of at most MAX_INSTANCES_PER_REQUEST, in stream order.

    A request carries each record's bytes as they came off the stream: validation proved each one a JSON object
    the schema accepts, so re-encoding the parsed copy would only cost time.
    """
    valid = [r for r in records if r.valid]
    chunks = [valid[i:i + MAX_INSTANCES_PER_REQUEST] for i in range(0, len(valid), MAX_INSTANCES_PER_REQUEST)]
    return [(chunk, b'{"instances":[' + b",".join(r.data.strip() for r in chunk) + b"]}") for chunk in chunks]


@dataclass
class ScoredChunk:
    records: list[StreamRecord]
    response: dict[str, Any]
    variant: str
    endpoint_latency_ms: float


def decisions(chunk: ScoredChunk, scored_at_ms: float) -> list[dict[str, Any]]:
    """One decision per transaction: score, decision, the model and variant that answered, latencies."""
    predictions = chunk.response["predictions"]
    if len(predictions) != len(chunk.records):
        raise ValueError(f"response: {len(predictions)} predictions for {len(chunk.records)} transactions")
    scored_at = _iso(scored_at_ms)  # one moment per request: formatted once
    threshold, model, latency = chunk.response.get("threshold"), chunk.response.get("model_version"), \
        round(chunk.endpoint_latency_ms, 3)
    out = []
    for record, p in zip(chunk.records, predictions, strict=True):
        tx = record.transaction or {}
        if p["transaction_id"] != tx.get("transaction_id"):
            raise ValueError(f"response: prediction for {p['transaction_id']!r} where {tx.get('transaction_id')!r} "
                             "was expected (order must be kept)")
        out.append({
            "transaction_id": tx["transaction_id"], "event_time": tx["event_time"], "score": p["score"],
            "decision": "review" if p["is_fraud"] else "approve", "threshold": threshold,
            "model_version": model, "variant": chunk.variant, "scored_at": scored_at,
            "endpoint_latency_ms": latency, "lag_ms": round(scored_at_ms - _epoch_ms(tx["event_time"]), 1),
            "stream": {"shard": record.shard, "sequence": record.sequence},
        })
    return out


def decisions_jsonl(scored: Sequence[Mapping[str, Any]]) -> bytes:
    """The decisions object's body: one compact JSON object per line, each starting with its transaction_id.

    Encoded as one JSON array (one encoder pass, not one per decision), then split between elements: in compact
    JSON, `},{"transaction_id":` occurs only between two decisions, because a quote inside a string is escaped
    and inside an object a comma is followed by a key, never by `{`.
    """
    if not scored:
        return b""
    if any(next(iter(d)) != "transaction_id" for d in scored):
        raise ValueError("a decision must start with its transaction_id")
    return (_COMPACT(list(scored))[1:-1].replace('},{"transaction_id":', '}\n{"transaction_id":') + "\n").encode()


def decisions_key(first: StreamRecord) -> str:
    """decisions/date=<event date of the first record>/shard=<shard>/<first sequence number>.jsonl"""
    event_time = (first.transaction or {}).get("event_time", "")
    date = event_time[:10] if len(event_time) >= 10 else "unknown"
    return f"decisions/date={date}/shard={first.shard}/{first.sequence}.jsonl"


def dead_letter(record: StreamRecord) -> dict[str, Any]:
    """What the dead-letter queue keeps of an invalid record: why, where, and the bytes themselves."""
    return {"reason": "invalid transaction", "errors": list(record.errors), "shard": record.shard,
            "sequence": record.sequence, "partition_key": record.partition_key,
            "data_base64": base64.b64encode(record.data).decode()}


@dataclass
class BatchOutcome:
    """What the handler did with one batch; `failed_from` is the first record Lambda must retry."""

    scored: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    failed_from: int | None = None  # index into the batch
    failure: str = ""


def _epoch_ms(iso: str) -> float:
    text = iso[:-1] + "+00:00" if iso.endswith("Z") else iso
    return datetime.fromisoformat(text).timestamp() * 1000


def _iso(epoch_ms: float) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

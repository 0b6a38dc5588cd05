"""Scoring function on the transactions stream: one endpoint call per batch, one decision per transaction.

Thin by design: decoding, validation, requests, decisions and keys are fraud_core.scoring; this handler calls
AWS. Per batch: invalid records go to the dead-letter queue with the field and rule that failed (not retried);
the valid ones are scored with InvokeEndpoint (at most 1000 per request); the decisions of the records before
the first failure are written as one S3 object (the key makes re-delivery harmless, see fraud_core.scoring);
the first failed record and everything after it are reported as batch item failures (Powertools batch
processing), so Lambda retries them within the event source mapping's bounds. Powertools metrics (EMF):
records scored and rejected, fraud share, endpoint latency, end-to-end lag.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from fraud_core.scoring import (
    BatchOutcome,
    ScoredChunk,
    StreamRecord,
    dead_letter,
    decisions,
    decisions_jsonl,
    decisions_key,
    decode,
)
from fraud_core.scoring import requests as endpoint_requests

logger = Logger(service="scoring")
metrics = Metrics(namespace="MlopsDemo/Scoring", service="scoring")
# A batch whose every record failed (e.g. the endpoint is down) is reported record by record, not raised: raising
# would make it a function error, which bisects a batch that has no bad record and counts as a crash.
processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)
_clients: dict[str, Any] = {}  # created on first use, reused across invocations; tests inject their own


def client(service: str) -> Any:
    if service not in _clients:
        _clients[service] = boto3.client(service)
    return _clients[service]


def score_batch(records: list[StreamRecord]) -> BatchOutcome:
    outcome = BatchOutcome()
    position = {r.sequence: i for i, r in enumerate(records)}
    invalid = [r for r in records if not r.valid]
    unsent = _dead_letter(invalid)
    outcome.rejected = len(invalid) - len(unsent)
    failures = [position[r.sequence] for r in unsent]
    for chunk, body in endpoint_requests(records):
        started = time.perf_counter()  # a duration: monotonic, not the wall clock (which may step)
        try:
            out = client("sagemaker-runtime").invoke_endpoint(EndpointName=os.environ["ENDPOINT_NAME"], Body=body,
                                                             ContentType="application/json")
            response = json.loads(out["Body"].read())
        except Exception as err:  # throttling, 5xx, timeouts, model errors: retried by Lambda, never dropped
            failures.append(position[chunk[0].sequence])
            outcome.failure = f"{type(err).__name__}: {err}"[:500]
            logger.warning("endpoint call failed", extra={"error": outcome.failure, "records": len(chunk)})
            break
        latency_ms = (time.perf_counter() - started) * 1000
        scored = ScoredChunk(chunk, response, out.get("InvokedProductionVariant", ""), latency_ms)
        outcome.scored += decisions(scored, time.time() * 1000)
    outcome.failed_from = min(failures) if failures else None
    if outcome.failed_from is not None:  # everything from the first failure is retried: write only what precedes it
        keep = {r.transaction["transaction_id"] for r in records[:outcome.failed_from] if r.transaction}
        outcome.scored = [d for d in outcome.scored if d["transaction_id"] in keep]
    _write(records, outcome)
    return outcome


def _dead_letter(invalid: list[StreamRecord]) -> list[StreamRecord]:
    """Send invalid records to the DLQ (10 per call); returns those that could not be sent."""
    unsent: list[StreamRecord] = []
    for i in range(0, len(invalid), 10):
        group = invalid[i:i + 10]
        entries = [{"Id": str(n), "MessageBody": json.dumps(dead_letter(r))} for n, r in enumerate(group)]
        try:
            answer = client("sqs").send_message_batch(QueueUrl=os.environ["DEAD_LETTER_QUEUE_URL"], Entries=entries)
        except Exception as err:
            logger.warning("dead-letter queue unavailable", extra={"error": str(err)[:300]})
            unsent += group
            continue
        unsent += [group[int(f["Id"])] for f in answer.get("Failed", [])]
    return unsent


def _write(records: list[StreamRecord], outcome: BatchOutcome) -> None:
    if not outcome.scored:
        return
    body = decisions_jsonl(outcome.scored)
    first = next(r for r in records if r.transaction and r.transaction["transaction_id"] ==
                 outcome.scored[0]["transaction_id"])
    client("s3").put_object(Bucket=os.environ["DECISIONS_BUCKET"], Key=decisions_key(first), Body=body,
                            ContentType="application/x-ndjson")


def _metrics(outcome: BatchOutcome) -> None:
    metrics.add_metric(name="RecordsScored", unit=MetricUnit.Count, value=len(outcome.scored))
    metrics.add_metric(name="RecordsRejected", unit=MetricUnit.Count, value=outcome.rejected)
    if outcome.scored:
        flagged = sum(d["decision"] == "review" for d in outcome.scored)
        metrics.add_metric(name="FraudShare", unit=MetricUnit.Percent, value=100 * flagged / len(outcome.scored))
        metrics.add_metric(name="EndpointLatency", unit=MetricUnit.Milliseconds,
                           value=max(d["endpoint_latency_ms"] for d in outcome.scored))
        metrics.add_metric(name="EndToEndLag", unit=MetricUnit.Milliseconds,
                           value=max(d["lag_ms"] for d in outcome.scored))


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raw = event.get("Records") or []
    records = decode(raw)
    outcome = score_batch(records)
    _metrics(outcome)
    retry = {r.sequence for r in records[outcome.failed_from:]} if outcome.failed_from is not None else set()

    def check(record: KinesisStreamRecord) -> None:
        if record.kinesis.sequence_number in retry:
            raise RuntimeError(f"retry from the first failed record: {outcome.failure or 'dead-letter queue'}")

    logger.info("batch", extra={"records": len(records), "scored": len(outcome.scored), "rejected": outcome.rejected,
                                "retried": len(retry)})
    return process_partial_response(event=event, record_handler=check, processor=processor, context=context)

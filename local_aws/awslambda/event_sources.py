"""Kinesis event source mappings, polled on the simulated clock as Lambda polls them (moto does not).

Semantics followed (Lambda developer guide: "How Lambda processes records from Amazon Kinesis Data Streams",
"Configuring partial batch response", "Retain discarded batch records for a Kinesis Data Streams event
source", https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html and the pages beside it):

- per shard, in order, from a checkpoint: a batch is up to BatchSize records read after it (TRIM_HORIZON /
  LATEST / AT_TIMESTAMP at first); a partial batch waits until MaximumBatchingWindowInSeconds after its
  first record's arrival before it is sent;
- success moves the checkpoint past the batch; with ReportBatchItemFailures, the response's
  `batchItemFailures` move it to just before the lowest failed sequence number and the rest is retried (an
  identifier that is not in the batch fails the whole batch, as Lambda treats it);
- a function error retries the batch; BisectBatchOnFunctionError first splits it in two (splitting does not
  use retry attempts); MaximumRetryAttempts and MaximumRecordAgeInSeconds (-1: unbounded) end the retries;
- a discarded batch goes to the OnFailure destination (SQS or SNS) as Lambda's invocation record: request
  and response context and KinesisBatchInfo (shard, first/last sequence numbers, arrival times, size,
  stream ARN) — the records themselves are not in it: a redrive reads them back from the stream;
- IteratorAge (ms), Invocations and Errors of the function go to CloudWatch (AWS/Lambda).

Differences (docs/local-aws.md): one batch at a time per shard (ParallelizationFactor is not emulated), retries
follow after `retry_delay_s` of simulated time, and a poll runs when records arrive or a timer is due, not
once a second.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.awslambda.models import lambda_backends

KINESIS_SERVICE = "kinesis"


@dataclass
class ShardState:
    checkpoint: str | None = None  # last sequence number done with (processed or discarded)
    pending: deque[list[dict[str, Any]]] = field(default_factory=deque)  # batches to retry, head first
    attempts: int = 0  # failed invocations of the head batch
    started: bool = False


@dataclass
class Discarded:
    mapping: str
    shard: str
    first: str
    last: str
    size: int
    condition: str  # RetryAttemptsExhausted | RecordAgeExceeded


class KinesisEventSources:
    def __init__(self, aws: Any, retry_delay_s: float = 1.0) -> None:
        self.aws, self.retry_delay_s = aws, retry_delay_s
        self.states: dict[tuple[str, str], ShardState] = {}
        self.discarded: list[Discarded] = []
        self.invocations = 0
        self._scheduled: dict[str, float] = {}  # stream ARN -> when a poll is due
        self._lock = threading.RLock()

    @property
    def clock(self) -> Any:
        return self.aws.clock

    # --- scheduling ------------------------------------------------------------------------------------
    def on_stream_activity(self, stream_arn: str, shard_id: str, records: int) -> None:
        self.schedule(stream_arn, self.clock.elapsed_seconds)

    def schedule(self, stream_arn: str, at: float) -> None:
        with self._lock:
            due = self._scheduled.get(stream_arn)
            if due is not None and due <= at:
                return
            self._scheduled[stream_arn] = at
        self.clock.call_at(at, lambda: self._poll(stream_arn, at), f"lambda: poll {stream_arn.rsplit('/', 1)[-1]}")

    def _poll(self, stream_arn: str, due: float) -> None:
        with self._lock:
            if self._scheduled.get(stream_arn) != due:
                return  # superseded by an earlier poll
            del self._scheduled[stream_arn]
            for mapping in self._mappings(stream_arn):
                for shard in self.aws.client("kinesis").list_shards(StreamARN=stream_arn)["Shards"]:
                    self._drain(mapping, stream_arn, shard["ShardId"])

    def _mappings(self, stream_arn: str) -> list[Any]:
        backend = lambda_backends[self.aws.account_id][self.aws.region]
        return [m for m in backend._event_source_mappings.values()
                if m.event_source_arn == stream_arn and m.enabled]

    # --- one shard ---------------------------------------------------------------------------------------
    def _drain(self, mapping: Any, stream_arn: str, shard: str) -> None:
        state = self.states.setdefault((mapping.uuid, shard), ShardState())
        size = int(mapping.batch_size or 100)
        window = float(mapping.max_batch_window or 0)
        while True:
            fresh = not state.pending
            batch = state.pending.popleft() if state.pending else self._read(mapping, stream_arn, shard, state, size)
            if not batch:
                return
            if fresh and len(batch) < size and window > 0:
                due = self._arrival(batch[0]) + window
                if self.clock.elapsed_seconds < due:
                    self.schedule(stream_arn, due)  # gather more until the window closes
                    return
            if not self._process(mapping, stream_arn, shard, state, batch):
                return

    def _process(self, mapping: Any, stream_arn: str, shard: str, state: ShardState,
                 batch: list[dict[str, Any]]) -> bool:
        """Invoke once; True to carry on with the shard, False when a retry was scheduled."""
        failed_at, error = self._invoke(mapping, stream_arn, batch)
        if failed_at is None:
            state.checkpoint, state.attempts = batch[-1]["SequenceNumber"], 0
            return True
        done, rest = batch[:failed_at], batch[failed_at:]
        if done:
            state.checkpoint = done[-1]["SequenceNumber"]
        if error and mapping.bisect_on_error and len(rest) > 1:
            half = len(rest) // 2
            state.pending.extendleft([rest[half:], rest[:half]])  # split, no retry attempt used
            return True
        state.attempts += 1
        condition = self._exhausted(mapping, rest, state.attempts)
        if condition:
            self._discard(mapping, stream_arn, shard, rest, condition, error, state.attempts)
            state.checkpoint, state.attempts = rest[-1]["SequenceNumber"], 0
            return True
        state.pending.appendleft(rest)
        self.schedule(stream_arn, self.clock.elapsed_seconds + self.retry_delay_s)
        return False

    def _read(self, mapping: Any, stream_arn: str, shard: str, state: ShardState,
              size: int) -> list[dict[str, Any]]:
        kinesis = self.aws.client("kinesis")
        kwargs: dict[str, Any] = {"StreamARN": stream_arn, "ShardId": shard}
        if state.checkpoint:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=state.checkpoint)
        elif (mapping.starting_position or "TRIM_HORIZON") == "AT_TIMESTAMP":
            kwargs.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=mapping.starting_position_timestamp)
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
            if mapping.starting_position == "LATEST" and not state.started:
                kwargs.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=self.clock.now())
        state.started = True
        iterator = kinesis.get_shard_iterator(**kwargs)["ShardIterator"]
        records = kinesis.get_records(ShardIterator=iterator, Limit=size, StreamARN=stream_arn)["Records"]
        for record in records:
            record["_shard"] = shard
        return records

    # --- invoking ----------------------------------------------------------------------------------------------
    def _invoke(self, mapping: Any, stream_arn: str, batch: list[dict[str, Any]]) -> tuple[int | None, str]:
        """(index of the first record to retry or None, function error text)."""
        event = {"Records": [self._event_record(stream_arn, r) for r in batch]}
        self.invocations += 1
        out = self.aws.client("lambda").invoke(FunctionName=mapping.function_arn, Payload=json.dumps(event).encode())
        payload = out["Payload"].read().decode()
        self._metrics(mapping.function_arn, batch, errored=bool(out.get("FunctionError")))
        if out.get("FunctionError"):
            return 0, payload[:1000]
        if "ReportBatchItemFailures" not in (mapping.function_response_types or []):
            return None, ""
        try:
            failures = (json.loads(payload) or {}).get("batchItemFailures") or []
            ids = [f["itemIdentifier"] for f in failures]
        except (ValueError, AttributeError, TypeError, KeyError):
            return 0, ""  # an unreadable response fails the whole batch
        if not ids:
            return None, ""
        positions = {r["SequenceNumber"]: i for i, r in enumerate(batch)}
        if any(i not in positions for i in ids):
            return 0, ""
        return min(positions[i] for i in ids), ""

    def _event_record(self, stream_arn: str, record: dict[str, Any]) -> dict[str, Any]:
        shard = self._shard_of(record)
        return {
            "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": record["PartitionKey"],
                        "sequenceNumber": record["SequenceNumber"],
                        "data": base64.b64encode(record["Data"]).decode(),
                        "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp()},
            "eventSource": "aws:kinesis", "eventVersion": "1.0",
            "eventID": f"{shard}:{record['SequenceNumber']}", "eventName": "aws:kinesis:record",
            "invokeIdentityArn": f"arn:aws:iam::{self.aws.account_id}:role/lambda", "awsRegion": self.aws.region,
            "eventSourceARN": stream_arn,
        }

    @staticmethod
    def _shard_of(record: dict[str, Any]) -> str:
        return str(record.get("_shard", "shardId-000000000000"))

    def _arrival(self, record: dict[str, Any]) -> float:
        arrival: datetime = record["ApproximateArrivalTimestamp"]
        return (arrival - self.clock.start).total_seconds()

    def _exhausted(self, mapping: Any, batch: list[dict[str, Any]], attempts: int) -> str | None:
        retries = mapping.max_retry_attempts
        if retries is not None and int(retries) >= 0 and attempts > int(retries):
            return "RetryAttemptsExhausted"
        age = mapping.max_record_age
        if age is not None and int(age) >= 0 and self.clock.elapsed_seconds - self._arrival(batch[0]) > int(age):
            return "RecordAgeExceeded"
        return None

    # --- what leaves the poller ----------------------------------------------------------------------------
    def _discard(self, mapping: Any, stream_arn: str, shard: str, batch: list[dict[str, Any]], condition: str,
                 error: str, attempts: int) -> None:
        first, last = batch[0], batch[-1]
        self.discarded.append(Discarded(mapping.uuid, shard, first["SequenceNumber"], last["SequenceNumber"],
                                        len(batch), condition))
        document = {
            "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": mapping.function_arn,
                               "condition": condition, "approximateInvokeCount": attempts},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                                **({"functionError": "Unhandled"} if error else {})},
            "version": "1.0", "timestamp": _iso(self.clock.now()),
            "KinesisBatchInfo": {"shardId": shard, "startSequenceNumber": first["SequenceNumber"],
                                 "endSequenceNumber": last["SequenceNumber"],
                                 "approximateArrivalOfFirstRecord": _iso(first["ApproximateArrivalTimestamp"]),
                                 "approximateArrivalOfLastRecord": _iso(last["ApproximateArrivalTimestamp"]),
                                 "batchSize": len(batch), "streamArn": stream_arn},
        }
        destination = ((mapping.destination_config or {}).get("OnFailure") or {}).get("Destination")
        if not destination:
            return
        service = destination.split(":")[2]
        if service == "sqs":
            sqs = self.aws.client("sqs")
            url = sqs.get_queue_url(QueueName=destination.rsplit(":", 1)[-1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(document))
        elif service == "sns":
            self.aws.client("sns").publish(TopicArn=destination, Message=json.dumps(document))

    def _metrics(self, function_arn: str, batch: list[dict[str, Any]], errored: bool) -> None:
        name = function_arn.rsplit(":", 1)[-1]
        age_ms = max(0.0, (self.clock.elapsed_seconds - self._arrival(batch[-1])) * 1000)
        dims = [{"Name": "FunctionName", "Value": name}]
        now = self.clock.now().replace(tzinfo=None)
        self.aws.put_metric_data("AWS/Lambda", [
            {"MetricName": "IteratorAge", "Value": age_ms, "Unit": "Milliseconds", "Dimensions": dims,
             "Timestamp": now},
            {"MetricName": "Invocations", "Value": 1.0, "Unit": "Count", "Dimensions": dims, "Timestamp": now},
            {"MetricName": "Errors", "Value": float(errored), "Unit": "Count", "Dimensions": dims, "Timestamp": now}])


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

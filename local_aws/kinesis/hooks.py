"""Kinesis in moto without its Lambda shortcut: records are stored, and readers are told that data arrived.

moto 5.2.5 calls every mapped Lambda function once per record, synchronously, inside PutRecord(s),
ignoring batch size, batch item failures and failure destinations. Here `Stream.put_record` only
stores the record and notifies `StreamActivity` subscribers (readers such as the Firehose delivery),
which read the shard the way AWS's readers do: with GetRecords, on the simulated clock.

moto's shard also finds its last sequence number by listing every record (per put) and serves GetRecords
by scanning from the shard's first record: both quadratic in the shard's length, minutes for 100,000
records. Sequence numbers are consecutive integers here (each put takes the last + 1), so both become
dictionary lookups; a gap (none is ever made) falls back to moto's scan. And moto serializes GetRecords and
PutRecords responses through its generic, model-driven serializer, field by field (about half the cost of
streaming 100,000 records through the scorer); they are written here as the JSON the Kinesis protocol
defines (Data base64, ApproximateArrivalTimestamp epoch seconds), which is what moto's serializer produces.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from moto.kinesis.models import Record, Shard, Stream
from moto.kinesis.responses import KinesisResponse

from local_aws.patching import MotoPatches

Listener = Callable[[str, str, int], Any]  # (stream ARN, shard id, records) -> None


class StreamActivity:
    """Who wants to know that records arrived on a stream (called in the writer's thread: keep it cheap)."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Listener]] = defaultdict(list)
        self._everywhere: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe_all(self, listener: Listener) -> None:
        with self._lock:
            self._everywhere.append(listener)

    def subscribe(self, stream_arn: str, listener: Listener) -> None:
        with self._lock:
            self._listeners[stream_arn].append(listener)

    def unsubscribe(self, stream_arn: str, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners.get(stream_arn, []):
                self._listeners[stream_arn].remove(listener)

    def notify(self, stream_arn: str, shard_id: str, records: int = 1) -> None:
        for listener in [*self._everywhere, *self._listeners.get(stream_arn, ())]:
            listener(stream_arn, shard_id, records)


def install(patches: MotoPatches, activity: StreamActivity) -> None:
    def put_record(self: Stream, partition_key: str, explicit_hash_key: str, data: str) -> tuple[str, str]:
        shard = self.get_shard_for_key(partition_key, explicit_hash_key)
        sequence_number = shard.put_record(partition_key, data, explicit_hash_key)
        activity.notify(self.arn, shard.shard_id)
        return sequence_number, shard.shard_id

    patches.replace(Stream, "put_record", put_record,
                    why="no per-record synchronous Lambda call inside PutRecord; readers poll on the clock")

    _install_shard_index(patches)
    _install_json_responses(patches)


def _install_json_responses(patches: MotoPatches) -> None:
    def get_records(self: KinesisResponse) -> str:
        iterator, records, behind = self.kinesis_backend.get_records(
            self._get_param("StreamARN"), self._get_param("ShardIterator"), self._get_param("Limit"))
        return json.dumps({"NextShardIterator": iterator, "MillisBehindLatest": behind, "Records": [
            {"Data": r.data, "PartitionKey": r.partition_key, "SequenceNumber": str(r.sequence_number),
             "ApproximateArrivalTimestamp": r.created_at} for r in records]})

    def put_records(self: KinesisResponse) -> str:
        return json.dumps(self.kinesis_backend.put_records(
            self._get_param("StreamARN"), self._get_param("StreamName"), self._get_param("Records")))

    for name, method in (("get_records", get_records), ("put_records", put_records)):
        patches.replace(KinesisResponse, name, method,
                        why="the response as JSON directly, not through moto's field-by-field serializer")


def _install_shard_index(patches: MotoPatches) -> None:
    def last(self: Shard) -> int:
        return next(reversed(self.records)) if self.records else 0

    def first(self: Shard) -> int:
        return next(iter(self.records)) if self.records else 0

    patches.replace(Shard, "get_max_sequence_number", last, why="O(1), not a list of every record per put")
    patches.replace(Shard, "get_min_sequence_number", first, why="O(1), not a list of every record")
    scan = Shard.get_records

    def get_records(self: Shard, last_sequence_id: str, limit: int | None) -> tuple[list[Record], int, int]:
        after = int(last_sequence_id)
        if not self.records or after >= last(self):
            return [], after, 0
        n = max(after + 1, first(self))
        if n not in self.records:
            return scan(self, last_sequence_id, limit)
        newest = self.records[last(self)]
        results: list[Record] = []
        while n in self.records and (limit is None or len(results) < limit):
            results.append(self.records[n])
            n += 1
        return results, results[-1].sequence_number, int((newest.created_at - results[-1].created_at) * 1000)

    patches.replace(Shard, "get_records", get_records,
                    why="consecutive sequence numbers: read from the iterator's position, not from the shard's start")

"""Kinesis in moto without its Lambda shortcut: records are stored, and readers are told that data arrived.

moto 5.2.5 calls every mapped Lambda function once per record, synchronously, inside PutRecord(s),
ignoring batch size, batch item failures and failure destinations. Here `Stream.put_record` only
stores the record and notifies `StreamActivity` subscribers (readers such as the Firehose delivery),
which read the shard the way AWS's readers do: with GetRecords, on the simulated clock.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from moto.kinesis.models import Stream

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

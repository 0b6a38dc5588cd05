"""Firehose delivery from a Kinesis-stream source to S3, which moto does not perform, on the simulated clock.

moto stores a delivery stream's configuration but never reads its source stream. `FirehoseService`
follows the documented Firehose semantics, reading every setting from the deployed delivery stream:

- when records arrive on a source stream (local_aws.kinesis.hooks.StreamActivity), a poll is
  scheduled on the clock; it reads the shards with GetRecords;
- records are buffered in arrival order (their ApproximateArrivalTimestamp, on the simulated clock);
  a buffer is delivered when it reaches the size hint, or when the interval hint has passed since
  its first record (a timer at that moment), as Firehose's BufferingHints describe;
- the `AppendDelimiterToRecord` processor, when configured, appends a newline to every record
  (https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html); otherwise records
  are concatenated unchanged, as Firehose does;
- object keys: the `!{timestamp:...}` prefix evaluated with the oldest record's arrival time, then
  `<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<id>`; compression and KMS as configured.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local_aws.clock import SimulatedClock

_JAVA_TO_STRFTIME = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
_NAMESPACE = re.compile(r"!\{(timestamp|firehose):([^}]*)\}")


def evaluate_prefix(prefix: str, arrival: datetime, *, error_type: str = "", random_string: str = "") -> str:
    """Firehose's custom prefix expressions: !{timestamp:<java pattern>} and !{firehose:...}."""

    def repl(m: re.Match[str]) -> str:
        namespace, arg = m.group(1), m.group(2)
        if namespace == "timestamp":
            pattern = re.sub(r"yyyy|MM|dd|HH|mm|ss", lambda t: _JAVA_TO_STRFTIME[t.group(0)], arg)
            return arrival.astimezone(UTC).strftime(pattern)
        if arg == "error-output-type":
            return error_type
        if arg == "random-string":
            return random_string
        raise ValueError(f"Prefix: unsupported expression !{{firehose:{arg}}}")

    return _NAMESPACE.sub(repl, prefix)


@dataclass
class DeliveryReport:
    records_read: int = 0
    records_delivered: int = 0
    objects_written: list[str] = field(default_factory=list)
    bytes_written: int = 0


def _appends_delimiter(dest: dict[str, Any]) -> bool:
    config = dest.get("ProcessingConfiguration") or {}
    return bool(config.get("Enabled")) and any(
        p.get("Type") == "AppendDelimiterToRecord" for p in config.get("Processors", []))


class KinesisToS3Delivery:
    """One delivery stream: its configuration, read positions and buffer."""

    def __init__(self, aws: Any, delivery_stream_name: str, clock: SimulatedClock) -> None:
        self.aws, self.name, self.clock = aws, delivery_stream_name, clock
        desc = aws.client("firehose").describe_delivery_stream(
            DeliveryStreamName=delivery_stream_name)["DeliveryStreamDescription"]
        self.version = desc.get("VersionId", "1")
        source = desc.get("Source", {}).get("KinesisStreamSourceDescription")
        if not source:
            raise ValueError(f"{delivery_stream_name}: not a Kinesis-stream-sourced delivery stream")
        self.stream_arn = source["KinesisStreamARN"]
        dest = desc["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.bucket = dest["BucketARN"].split(":::")[-1]
        self.prefix = dest.get("Prefix", "")
        self.compression = dest.get("CompressionFormat", "UNCOMPRESSED")
        self.delimiter = b"\n" if _appends_delimiter(dest) else b""
        hints = dest.get("BufferingHints", {})
        self.buffer_bytes = int(hints.get("SizeInMBs", 5)) * 1024 * 1024
        self.buffer_seconds = int(hints.get("IntervalInSeconds", 300))
        kms = dest.get("EncryptionConfiguration", {}).get("KMSEncryptionConfig", {})
        self.kms_key = kms.get("AWSKMSKeyARN")
        self._positions: dict[str, str | None] = {}
        self._buffer: list[tuple[datetime, bytes]] = []
        self._opened_at: float | None = None  # simulated seconds of the buffer's first record
        self._buffered = 0
        self._lock = threading.Lock()
        self.report = DeliveryReport()

    @property
    def deadline(self) -> float | None:
        return None if self._opened_at is None else self._opened_at + self.buffer_seconds

    def poll(self) -> int:
        """Read every record now on the source stream; deliver buffers that filled or timed out on the way."""
        with self._lock:
            read = 0
            for arrival, data in self._read_new():
                at = (arrival - self.clock.start).total_seconds()
                if self.deadline is not None and at >= self.deadline:
                    self._flush()
                self._append(at, arrival, data + self.delimiter)
                read += 1
            self.report.records_read += read
            self._flush_if_due()
            return read

    def tick(self) -> None:
        """Deliver the buffer if its interval has passed on the simulated clock."""
        with self._lock:
            self._flush_if_due()

    def _read_new(self) -> list[tuple[datetime, bytes]]:
        kinesis = self.aws.client("kinesis")
        out: list[tuple[datetime, bytes]] = []
        for shard in kinesis.list_shards(StreamARN=self.stream_arn)["Shards"]:
            shard_id = shard["ShardId"]
            after = self._positions.get(shard_id)
            kwargs: dict[str, Any] = {"StreamARN": self.stream_arn, "ShardId": shard_id}
            if after:
                kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=after)
            else:
                kwargs["ShardIteratorType"] = "TRIM_HORIZON"
            iterator = kinesis.get_shard_iterator(**kwargs)["ShardIterator"]
            while iterator:
                resp = kinesis.get_records(ShardIterator=iterator, Limit=10000, StreamARN=self.stream_arn)
                for rec in resp["Records"]:
                    out.append((rec["ApproximateArrivalTimestamp"], rec["Data"]))
                    self._positions[shard_id] = rec["SequenceNumber"]
                if not resp["Records"]:  # caught up with the shard (a full page means there may be more)
                    break
                iterator = resp.get("NextShardIterator")
        out.sort(key=lambda item: item[0])
        return out

    def _append(self, at: float, arrival: datetime, data: bytes) -> None:
        if self._opened_at is None:
            self._opened_at = at
        self._buffer.append((arrival, data))
        self._buffered += len(data)
        if self._buffered >= self.buffer_bytes:
            self._flush()

    def _flush_if_due(self) -> None:
        if self._buffer and self.deadline is not None and self.clock.elapsed_seconds >= self.deadline:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        oldest = min(a for a, _ in self._buffer)
        payload = b"".join(d for _, d in self._buffer)
        digest = hashlib.sha1(payload).hexdigest()
        name = f"{self.name}-{self.version}-{oldest.astimezone(UTC):%Y-%m-%d-%H-%M-%S}-{digest[:8]}-{digest[8:12]}"
        body = payload
        if self.compression == "GZIP":
            body, name = gzip.compress(payload, mtime=0), name + ".gz"
        key = evaluate_prefix(self.prefix, oldest, random_string=digest[:8]) + name
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Body": body}
        if self.kms_key:
            args.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=self.kms_key)
        self.aws.client("s3").put_object(**args)
        self.report.records_delivered += len(self._buffer)
        self.report.objects_written.append(key)
        self.report.bytes_written += len(body)
        self._buffer, self._opened_at, self._buffered = [], None, 0


class FirehoseService:
    """Every Kinesis-sourced delivery stream of the local AWS, delivered on the simulated clock."""

    def __init__(self, aws: Any) -> None:
        self.aws, self.clock = aws, aws.clock
        self.deliveries: dict[str, KinesisToS3Delivery] = {}
        self._pending: set[str] = set()  # source streams with a poll scheduled
        self._flush_timers: dict[str, Any] = {}
        self._lock = threading.Lock()

    def on_stream_activity(self, stream_arn: str, shard_id: str, records: int) -> None:
        with self._lock:
            if stream_arn in self._pending:
                return
            self._pending.add(stream_arn)
        self.clock.call_at(self.clock.elapsed_seconds, lambda: self._poll_source(stream_arn),
                           name=f"firehose: read {stream_arn.rsplit('/', 1)[-1]}")

    def delivery(self, name: str) -> KinesisToS3Delivery:
        if name not in self.deliveries:
            self.deliveries[name] = KinesisToS3Delivery(self.aws, name, self.clock)
        return self.deliveries[name]

    def refresh(self) -> list[KinesisToS3Delivery]:
        names = self.aws.client("firehose").list_delivery_streams(
            DeliveryStreamType="KinesisStreamAsSource")["DeliveryStreamNames"]
        return [self.delivery(n) for n in names]

    def report(self) -> DeliveryReport:
        total = DeliveryReport()
        for d in self.deliveries.values():
            total.records_read += d.report.records_read
            total.records_delivered += d.report.records_delivered
            total.objects_written += d.report.objects_written
            total.bytes_written += d.report.bytes_written
        return total

    def _poll_source(self, stream_arn: str) -> None:
        with self._lock:
            self._pending.discard(stream_arn)
        for delivery in [d for d in self.refresh() if d.stream_arn == stream_arn]:
            delivery.poll()
            self._arm_flush(delivery)

    def _arm_flush(self, delivery: KinesisToS3Delivery) -> None:
        deadline = delivery.deadline
        timer = self._flush_timers.get(delivery.name)
        if deadline is None or (timer is not None and not timer.cancelled and timer.due == deadline):
            return
        if timer is not None:
            timer.cancel()

        def flush() -> None:
            self._flush_timers.pop(delivery.name, None)
            delivery.poll()  # anything that arrived before the deadline joins this object
            self._arm_flush(delivery)

        self._flush_timers[delivery.name] = self.clock.call_at(deadline, flush, name=f"firehose: flush {delivery.name}")

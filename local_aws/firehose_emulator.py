"""Firehose delivery from a Kinesis-stream source to S3, which moto does not perform.

moto stores the delivery stream's configuration but never reads its source stream. This emulator
follows the documented Firehose semantics, reading the configuration from the deployed delivery
stream (so it is the synthesized one): it reads the source stream's shards with GetRecords,
buffers by size and interval on the simulated clock, evaluates the `!{timestamp:...}` prefix with
the arrival time of the oldest record in each object, names objects
`<prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<id>`, compresses as configured and encrypts with
the configured KMS key. Records are concatenated unchanged, as Firehose does.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local_aws.clock import SimulatedClock
from local_aws.runtime import LocalAws

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


class KinesisToS3Delivery:
    def __init__(self, aws: LocalAws, delivery_stream_name: str, clock: SimulatedClock) -> None:
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
        hints = dest.get("BufferingHints", {})
        self.buffer_bytes = int(hints.get("SizeInMBs", 5)) * 1024 * 1024
        self.buffer_seconds = int(hints.get("IntervalInSeconds", 300))
        kms = dest.get("EncryptionConfiguration", {}).get("KMSEncryptionConfig", {})
        self.kms_key = kms.get("AWSKMSKeyARN")
        self._positions: dict[str, str | None] = {}
        self._buffer: list[tuple[datetime, bytes]] = []
        self._buffer_opened_at: float | None = None
        self._buffered = 0
        self.report = DeliveryReport()

    def poll(self) -> int:
        """Read every record now available on the source stream into the buffer; flush full buffers."""
        kinesis = self.aws.client("kinesis")
        shards = kinesis.list_shards(StreamARN=self.stream_arn)["Shards"]
        read = 0
        for shard in shards:
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
                    self._append(rec["ApproximateArrivalTimestamp"], rec["Data"])
                    self._positions[shard_id] = rec["SequenceNumber"]
                read += len(resp["Records"])
                if not resp["Records"] or resp.get("MillisBehindLatest", 0) == 0:
                    break
                iterator = resp.get("NextShardIterator")
        self.report.records_read += read
        return read

    def _append(self, arrival: datetime, data: bytes) -> None:
        if self._buffer_opened_at is None:
            self._buffer_opened_at = self.clock.elapsed_seconds
        self._buffer.append((arrival, data))
        self._buffered += len(data)
        if self._buffered >= self.buffer_bytes:
            self._flush()

    def tick(self) -> None:
        """Flush when the buffer interval has passed on the simulated clock."""
        if self._buffer and self._buffer_opened_at is not None and (
                self.clock.elapsed_seconds - self._buffer_opened_at >= self.buffer_seconds):
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
        self._buffer, self._buffer_opened_at, self._buffered = [], None, 0


@dataclass
class ArchivePump:
    deliveries: list[KinesisToS3Delivery]
    stop: Any  # threading.Event: set it to end the pump

    @property
    def records_read(self) -> int:
        return sum(d.report.records_read for d in self.deliveries)


def start_archive_pump(aws: LocalAws, clock: SimulatedClock, every_s: float = 1.0) -> ArchivePump:
    """For `mlops-demo serve`: deliver every Kinesis-sourced delivery stream in real time, on a daemon thread.

    Each tick reads new records and advances the clock by the real time elapsed, so buffer intervals
    behave as on AWS (a record put with the AWS CLI shows up in S3 after the configured interval).
    """
    import threading
    import time as _time

    names = aws.client("firehose").list_delivery_streams(DeliveryStreamType="KinesisStreamAsSource")
    deliveries = [KinesisToS3Delivery(aws, n, clock) for n in names["DeliveryStreamNames"]]
    stop = threading.Event()

    def loop() -> None:
        last = _time.monotonic()
        while not stop.wait(every_s):
            now = _time.monotonic()
            clock.advance(now - last)
            last = now
            for delivery in deliveries:
                delivery.poll()
                delivery.tick()

    threading.Thread(target=loop, name="firehose-archive-pump", daemon=True).start()
    return ArchivePump(deliveries, stop)

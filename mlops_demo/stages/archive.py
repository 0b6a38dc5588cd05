"""Stage: Firehose archives the stream to S3 once its buffer interval passes; read it back: nothing lost."""

from __future__ import annotations

from dataclasses import dataclass

from local_aws.firehose.delivery import DeliveryReport
from mlops_demo.archive import read_archive, transaction_ids
from mlops_demo.console import Console, tagged
from mlops_demo.stages.context import Row, StoryContext

NAME = "archive"


@dataclass
class ArchiveResult:
    delivery: DeliveryReport
    buffer_seconds: int  # simulated-clock
    bucket: str
    records: int
    objects: int
    missing: int
    duplicates: int

    def summary_rows(self) -> list[Row]:
        return [
            ("records archived in S3", f"{self.records:,} in {self.objects} objects", "measured-local"),
            ("records lost / duplicated", f"{self.missing} / {self.duplicates}", "measured-local"),
            ("simulated: archive buffer interval", f"{self.buffer_seconds} s", "simulated-clock"),
        ]


def title(ctx: StoryContext) -> str:
    return f"Firehose '{ctx.outputs('DataFoundation')['ArchiveDeliveryStreamName']}' archives the stream to S3"


def run(ctx: StoryContext) -> ArchiveResult:
    assert ctx.batch is not None, "the simulate stage runs first"
    out = ctx.outputs("DataFoundation")
    delivery = ctx.local.firehose.delivery(out["ArchiveDeliveryStreamName"])
    ctx.local.clock.advance(delivery.buffer_seconds)  # the buffer interval passes on the simulated clock
    keys, archived = read_archive(ctx.local.client("s3"), out["RawBucketName"])
    ids = transaction_ids(archived)
    return ArchiveResult(delivery=delivery.report, buffer_seconds=delivery.buffer_seconds, bucket=out["RawBucketName"],
                         records=len(archived), objects=len(keys),
                         missing=len(set(ctx.batch.transaction_ids()) - set(ids)), duplicates=len(ids) - len(set(ids)))


def report(console: Console, result: ArchiveResult) -> None:
    d = result.delivery
    console.say(f"    {d.records_delivered:,} records in {len(d.objects_written)} objects, "
                f"{d.bytes_written / 1024:,.0f} KiB gzip, delivered after "
                f"{tagged(f'{result.buffer_seconds} s buffer interval', 'simulated-clock')}")
    if d.objects_written:
        console.say(f"    e.g. s3://{result.bucket}/{d.objects_written[0]}")
    console.say(f"    read back: {result.records:,} records archived; missing {result.missing}, "
                f"duplicated {result.duplicates}")

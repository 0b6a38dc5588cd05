"""Stage: last month's transactions are already in the raw archive, as the Firehose delivery stream left them.

History is bulk-loaded (one gzip object per day under transactions/year=/month=/day=/) rather than replayed
through Kinesis: replaying a month through the stream costs minutes on a laptop and proves nothing the live
traffic does not prove later (the live stages stream through Kinesis into this same archive and into the
scorer). Read back: nothing lost.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from mlops_demo.archive import read_archive
from mlops_demo.console import Console
from mlops_demo.history import write_archive_by_day
from mlops_demo.stages.context import Row, StoryContext

NAME = "archive"


@dataclass
class ArchiveResult:
    bucket: str
    objects: int
    records: int
    missing: int
    duplicates: int

    def summary_rows(self) -> list[Row]:
        return [("history archived in S3", f"{self.records:,} records in {self.objects} daily objects",
                 "measured-local"),
                ("history lost / duplicated", f"{self.missing} / {self.duplicates}", "measured-local")]


def title(ctx: StoryContext) -> str:
    return "Last month's transactions in the raw archive (as the Firehose delivery stream writes it)"


def run(ctx: StoryContext) -> ArchiveResult:
    assert ctx.batch is not None, "the simulate stage runs first"
    out = ctx.outputs("DataFoundation")
    s3 = ctx.local.client("s3")
    records = ctx.batch.records()
    write_archive_by_day(s3, out["RawBucketName"], zip((r["event_time"] for r in records), ctx.batch.encoded(),
                                                        strict=True), kms_key=out["DataKeyArn"])
    keys, archived = read_archive(s3, out["RawBucketName"])
    # Compare bytes, not ids: a poison record without a readable id must come back as written too.
    sent, got = Counter(ctx.batch.encoded()), Counter(archived)
    return ArchiveResult(out["RawBucketName"], len(keys), len(archived),
                         (sent - got).total(), (got - sent).total())


def report(console: Console, r: ArchiveResult) -> None:
    console.say(f"    {r.records:,} records in {r.objects} objects under s3://{r.bucket}/transactions/; "
                f"missing {r.missing}, duplicated {r.duplicates}")

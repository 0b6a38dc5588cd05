"""Stage: replay the simulated transactions through the Kinesis stream with PutRecords (500 per call)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from mlops_demo.console import Console, tagged
from mlops_demo.producer import ProduceReport, put_all
from mlops_demo.stages.context import Row, StoryContext

NAME = "stream"


@dataclass
class StreamResult:
    stream_name: str
    produced: ProduceReport
    seconds: float  # measured-local

    @property
    def rate(self) -> float:
        return self.produced.sent / max(self.seconds, 1e-9)

    def summary_rows(self) -> list[Row]:
        return [("records sent to Kinesis", f"{self.produced.sent:,} ({self.produced.failed} failed)",
                 "measured-local")]


def title(ctx: StoryContext) -> str:
    return f"Replaying them through Kinesis '{ctx.outputs('DataFoundation')['TransactionsStreamName']}' " \
           "(PutRecords, 500 per call)"


def run(ctx: StoryContext) -> StreamResult:
    assert ctx.batch is not None, "the simulate stage runs first"
    stream = ctx.outputs("DataFoundation")["TransactionsStreamName"]
    payloads = ctx.batch.encoded()
    keys = [f"C{c:07d}" for c in ctx.batch.customer_idx.tolist()]
    bar = ctx.console.bar(len(payloads), "records sent")
    started = time.perf_counter()
    # No newline needed: the delivery stream's AppendDelimiterToRecord processor adds one per record.
    records = list(zip(keys, payloads, strict=True))
    produced = put_all(ctx.local.client("kinesis"), stream, records, sleep=ctx.local.clock.sleep,
                       on_progress=bar.advance)
    return StreamResult(stream, produced, time.perf_counter() - started)


def report(console: Console, result: StreamResult) -> None:
    p = result.produced
    console.say(f"    {p.sent:,} sent in {p.batches} calls, {p.failed} failed, "
                f"{tagged(f'{result.rate:,.0f} records/s', 'measured-local')}")

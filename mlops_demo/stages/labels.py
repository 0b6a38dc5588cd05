"""Stage: chargebacks and confirmations land in the labels bucket, days after the transactions (delayed labels)."""

from __future__ import annotations

from dataclasses import dataclass

from fraud_core.simulator import LABEL_CONFIRMATION_DAYS, labels_as_of
from mlops_demo.console import Console
from mlops_demo.history import write_labels
from mlops_demo.stages.context import Row, StoryContext

NAME = "labels"


@dataclass
class LabelsResult:
    landed: int
    frauds: int
    pending: int

    def summary_rows(self) -> list[Row]:
        return [("labels landed", f"{self.landed:,}", "measured-local")]


def title(ctx: StoryContext) -> str:
    return "Chargebacks and confirmations land in the labels bucket (delayed labels)"


def run(ctx: StoryContext) -> LabelsResult:
    assert ctx.batch is not None, "the simulate stage runs first"
    out = ctx.outputs("DataFoundation")
    labels = labels_as_of(ctx.batch, ctx.local.clock.now())
    write_labels(ctx.local.client("s3"), out["LabelsBucketName"], labels, kms_key=out["DataKeyArn"])
    return LabelsResult(landed=len(labels), frauds=sum(label["is_fraud"] for label in labels),
                        pending=len(ctx.batch) - len(labels))


def report(console: Console, result: LabelsResult) -> None:
    console.say(f"    {result.landed:,} labels available now ({result.frauds:,} chargebacks, the rest confirmed "
                f"legitimate after {LABEL_CONFIRMATION_DAYS:.0f} days); {result.pending:,} still pending")

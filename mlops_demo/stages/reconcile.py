"""Stage: the live traffic stops; every transaction sent is accounted for, exactly once.

After the stream drains (the scorer's retries and the Firehose buffer run out on the clock), the redrive
scores any batch the event source mapping discarded. Then every transaction sent to Kinesis must be either
in the decisions exactly once or in the dead-letter queue with the field and rule that failed; anything
else is lost, and the demo fails.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mlops_demo.archive import read_archive
from mlops_demo.console import Console, tagged
from mlops_demo.redrive import RedriveReport, redrive
from mlops_demo.stages.context import Row, StoryContext

NAME = "reconcile"
DRAIN_SECONDS = 600  # longer than the Firehose buffer and the scorer's retry budget


@dataclass
class ReconcileResult:
    sent: int
    decided: int
    duplicated: int
    dead_lettered: int
    lost: int
    archived: int
    redrive: RedriveReport
    reasons: dict[str, int] = field(default_factory=dict)  # "field: rule" -> dead letters

    def summary_rows(self) -> list[Row]:
        return [("live transactions sent to Kinesis", f"{self.sent:,}", "measured-local"),
                ("decided exactly once / duplicated", f"{self.decided:,} / {self.duplicated}", "measured-local"),
                ("dead-lettered with a reason", f"{self.dead_lettered:,}", "measured-local"),
                ("discarded batches redriven", f"{self.redrive.redriven} of {self.redrive.batches}", "measured-local"),
                ("live transactions lost", f"{self.lost}", "measured-local"),
                ("live records archived by Firehose", f"{self.archived:,}", "measured-local")]


def title(ctx: StoryContext) -> str:
    return "Reconciliation: every live transaction decided exactly once, or dead-lettered with its reason"


def run(ctx: StoryContext) -> ReconcileResult | None:
    if ctx.traffic is None:
        return None
    aws = ctx.local
    ctx.traffic.stop()
    aws.clock.advance(DRAIN_SECONDS)
    redriven = redrive(ctx.options.profile)
    sent = list(ctx.traffic.sent)
    decided = _decision_ids(aws, ctx.outputs("DataFoundation")["DecisionsBucketName"])
    letters = _dead_letters(aws, ctx.outputs("StreamScoring")["InvalidRecordsQueueUrl"])
    sent_ids = {_id(p) for p in sent} - {None}
    # Multisets: two poison records can carry the same bytes, and each must be dead-lettered.
    invalid = Counter(p for p in sent if _id(p) is None or p in letters["payloads"])
    lost = len(sent_ids - set(decided) - letters["ids"]) + (invalid - letters["payloads"]).total()
    _, archived = read_archive(aws.client("s3"), ctx.outputs("DataFoundation")["RawBucketName"],
                               prefix=f"transactions/year={aws.clock.now():%Y}")
    live_archived = (Counter(archived) & Counter(p.rstrip(b"\n") for p in sent)).total()
    return ReconcileResult(sent=len(sent), decided=len(set(decided)), duplicated=len(decided) - len(set(decided)),
                           dead_lettered=letters["payloads"].total(), lost=lost, archived=live_archived,
                           redrive=redriven, reasons=letters["reasons"])


def _id(payload: bytes) -> str | None:
    try:
        doc = json.loads(payload)
    except ValueError:
        return None
    return doc.get("transaction_id") if isinstance(doc, dict) and isinstance(doc.get("transaction_id"), str) else None


def _decision_ids(aws: Any, bucket: str) -> list[str]:
    s3, ids = aws.client("s3"), []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="decisions/"):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
            ids += [json.loads(line)["transaction_id"] for line in body.splitlines() if line]
    return ids


def _dead_letters(aws: Any, queue: str) -> dict[str, Any]:
    """Read (without consuming for good) the dead-letter queue: unique by stream sequence number."""
    import base64

    sqs, seen, payloads, ids, reasons = aws.client("sqs"), set(), Counter(), set(), {}
    while True:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=600).get("Messages", [])
        if not got:
            break
        for m in got:
            letter = json.loads(m["Body"])
            if letter["sequence"] in seen:
                continue
            seen.add(letter["sequence"])
            payload = base64.b64decode(letter["data_base64"])
            payloads[payload] += 1
            if (tid := _id(payload)) is not None:
                ids.add(tid)
            key = "; ".join(f"{e['field']}: {e['rule']}" for e in letter["errors"])
            reasons[key] = reasons.get(key, 0) + 1
    return {"payloads": payloads, "ids": ids, "reasons": reasons}


def report(console: Console, r: ReconcileResult | None) -> None:
    if r is None:
        console.say("    skipped: no live traffic ran")
        return
    console.say(f"    {r.sent:,} sent; {r.decided:,} decided exactly once, {r.duplicated} duplicated; "
                f"{r.dead_lettered:,} dead-lettered; {tagged(str(r.lost), 'measured-local')} lost")
    for reason, count in sorted(r.reasons.items(), key=lambda kv: -kv[1])[:5]:
        console.say(f"      dead letter x{count}: {reason}")
    console.say(f"    redrive: {r.redrive.batches} discarded batches, {r.redrive.redriven} scored again, "
                f"{len(r.redrive.kept)} kept, {r.redrive.expired} records past retention")
    console.say(f"    Firehose archived {r.archived:,} of the live records")

"""Streaming scoring on the local AWS, end to end through the synthesized stacks: Kinesis -> event source
mapping -> scoring function -> endpoint -> decisions, under injected faults. Nothing lost, nothing twice."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from benchmarks.local_serving import Serving
from fraud_core.simulator import simulate
from mlops_demo.cli import main
from mlops_demo.producer import put_all


def _decisions(serving: Serving) -> list[dict[str, Any]]:
    s3, bucket = serving.aws.client("s3"), serving.stacks["DataFoundation"].outputs["DecisionsBucketName"]
    out: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="decisions/"):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
            out += [json.loads(line) for line in body.splitlines()]
    return out


def _dead_letters(serving: Serving) -> dict[str, dict[str, Any]]:
    """sequence number -> dead letter (the queue delivers at least once: unique by sequence)."""
    sqs, url = serving.aws.client("sqs"), serving.stacks["StreamScoring"].outputs["InvalidRecordsQueueUrl"]
    out: dict[str, dict[str, Any]] = {}
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=900).get("Messages"):
        for m in got:
            letter = json.loads(m["Body"])
            out[letter["sequence"]] = letter
    return out


def _drain(serving: Serving, seconds: float, step: float = 30.0) -> None:
    t = 0.0
    while t < seconds:
        serving.aws.clock.advance(step)
        t += step


@pytest.mark.slow
def test_100k_transactions_under_faults_are_decided_once_or_dead_lettered_with_the_field(serving: Serving) -> None:
    # A scoring test: the monitors' schedules are switched off, as an operator would during a load test, so that
    # hourly drift jobs over a growing 100k-record capture do not run beside it (tests/serving/test_drift_monitor.py
    # covers them).
    for kind in ("drift", "quality"):
        serving.aws.client("events").disable_rule(Name=f"mlops-demo-sandbox-{kind}-monitor-schedule")
    _, model_url = serving.register("champion-job")
    assert serving.deploys()[0]["status"] == "SUCCEEDED"
    aws = serving.aws
    now = aws.clock.elapsed_seconds
    batch = simulate(100_000, seed=31, scenario="poison", start=aws.clock.now(), days=1)
    aws.faults.inject("InvokeEndpoint", "ThrottlingException", "Rate exceeded", times=25)  # throttling bursts
    aws.hosting.inject_fault(model_url, error_share=0.05)  # endpoint 5xx on 5% of requests
    aws.lambdas.inject_crash("mlops-demo-sandbox-scorer", times=4)  # the runtime dies after a batch's writes
    stream = serving.stacks["DataFoundation"].outputs["TransactionsStreamName"]
    keys = [f"C{c:07d}" for c in batch.customer_idx.tolist()]
    payloads = batch.encoded()
    sent = put_all(aws.client("kinesis"), stream, list(zip(keys, payloads, strict=True)))
    assert (sent.sent, sent.failed) == (len(batch), 0)

    _drain(serving, 600)
    # The endpoint goes down for five simulated minutes in the middle of the stream: every request fails, retries
    # run out, whole batches are discarded to the failed-batches queue.
    aws.hosting.inject_fault(model_url, error_share=1.0, start=aws.clock.elapsed_seconds,
                             end=aws.clock.elapsed_seconds + 300)
    _drain(serving, 3600)
    discarded = len(aws.event_sources.discarded)
    assert discarded > 0, "the outage outlasted the retries of some batches"
    assert main(["redrive", "--profile", "sandbox"]) == 0
    assert aws.clock.elapsed_seconds - now < 3 * 3600, "within the stream's retention"

    decisions = _decisions(serving)
    decided = [d["transaction_id"] for d in decisions]
    assert all(d["endpoint_latency_ms"] > 0 and d["variant"] == "primary" for d in decisions), \
        "each decision says how long the endpoint took and which variant answered"
    letters = _dead_letters(serving)
    assert len(decided) == len(set(decided)), "no transaction decided twice"
    invalid = set(batch.poison_rows)
    letter_payloads = {base64.b64decode(d["data_base64"]) for d in letters.values()}
    ids = set(decided)
    lost = [i for i, p in enumerate(payloads)
            if (i in invalid and p not in letter_payloads) or (i not in invalid and _tid(p) not in ids)]
    assert lost == [], f"{len(lost)} of {len(batch):,} lost"
    assert len(letters) == len(invalid) and all(d["errors"][0]["field"] and d["errors"][0]["rule"]
                                                for d in letters.values())
    assert len(ids) == len(batch) - len(invalid)


def _tid(payload: bytes) -> str:
    return json.loads(payload)["transaction_id"]

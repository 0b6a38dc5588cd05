"""The quality monitor on the local AWS: decisions whose labels matured, judged against what the live model's
evaluation promised; a regression raises the quality alarm, which starts retraining with the reason."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from monitoring_kit import finished, training_runs

from benchmarks.local_serving import Serving
from fraud_core.simulator import simulate
from mlops_demo.explain import explain_transaction


def _outputs(serving: Serving, stack: str) -> dict[str, str]:
    return serving.stacks[stack].outputs


def _land_matured_traffic(serving: Serving, scenario: str, n: int = 4_000) -> list[dict[str, Any]]:
    """Traffic of 31-37 days ago as production would have left it: scored by the live endpoint (decisions by event
    date), archived (raw by day), and labelled (chargebacks and confirmations, all available by now)."""
    now = serving.aws.clock.now()
    batch = simulate(n, seed=11, scenario=scenario, start=now - timedelta(days=37), days=6)
    records, s3 = batch.records(), serving.aws.client("s3")
    runtime = serving.aws.client("sagemaker-runtime")
    decisions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i in range(0, n, 500):
        chunk = records[i:i + 500]
        out = json.loads(runtime.invoke_endpoint(EndpointName=serving.endpoint, ContentType="application/json",
                                                 Body=json.dumps({"instances": chunk}))["Body"].read())
        for record, p in zip(chunk, out["predictions"], strict=True):
            decisions[record["event_time"][:10]].append({
                "transaction_id": record["transaction_id"], "event_time": record["event_time"], "score": p["score"],
                "decision": "review" if p["is_fraud"] else "approve", "threshold": out["threshold"],
                "model_version": out["model_version"], "variant": "primary", "scored_at": now.isoformat()})
    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_day[record["event_time"][:10]].append(record)
    buckets = {b: _outputs(serving, "DataFoundation")[f"{b.capitalize()}BucketName"]
               for b in ("decisions", "raw", "labels")}
    for day, rows in decisions.items():
        s3.put_object(Bucket=buckets["decisions"], Key=f"decisions/date={day}/shard=shardId-000000000000/0.jsonl",
                      Body="".join(json.dumps(r) + "\n" for r in rows).encode())
        y, m, d = day.split("-")
        s3.put_object(Bucket=buckets["raw"], Key=f"transactions/year={y}/month={m}/day={d}/part-0.gz",
                      Body=gzip.compress("".join(json.dumps(r) + "\n" for r in by_day[day]).encode()))
    s3.put_object(Bucket=buckets["labels"], Key="labels/matured.jsonl",
                  Body="".join(json.dumps(label) + "\n" for label in batch.labels()).encode())
    return [d for rows in decisions.values() for d in rows]


def _run_quality_monitor(serving: Serving) -> dict[str, Any]:
    arn = _outputs(serving, "Monitoring")["QualityMonitorStateMachineArn"]
    serving.aws.client("stepfunctions").start_execution(stateMachineArn=arn, name="quality-check")
    (run, *_) = finished(serving, arn)
    assert run["status"] == "SUCCEEDED", run.get("cause")
    serving.aws.clock.advance(120)  # the alarm evaluates its period; EventBridge delivers what it causes
    finished(serving, _outputs(serving, "Monitoring")["QualityMonitorStateMachineArn"])
    return json.loads(run["output"])


@pytest.mark.slow
def test_a_new_fraud_pattern_lowers_recall_on_matured_labels_and_the_quality_alarm_starts_retraining(
        serving: Serving) -> None:
    serving.serve()
    decisions = _land_matured_traffic(serving, "concept_drift")
    output = _run_quality_monitor(serving)
    verdict = output["verdict"]
    print(verdict)  # shown by pytest -s, and when an assertion below fails
    assert verdict["verdict"] == "regressed" and "recall" in verdict["regressed_metrics"], verdict
    assert output["window"]["files"] >= 2
    name = _outputs(serving, "Monitoring")["QualityAlarmName"]
    state = serving.aws.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]
    assert state == "ALARM"
    (retrain,) = [r for r in training_runs(serving) if r["name"].startswith("quality-")]
    started = json.loads(retrain["input"])
    assert started["trigger"] == "quality" and "recall" in started["reason"], started

    # Debugging one miss: a fraud the model approved, as `mlops-demo explain` shows it.
    frauds = _frauds(serving)
    missed = next(d for d in decisions if d["decision"] == "approve" and d["transaction_id"] in frauds)
    story = explain_transaction(serving.aws.client, "sandbox", missed["transaction_id"])
    text = "\n".join(story.lines(30))
    print(text)
    assert "decision approve" in text and "label: fraud" in text and "model package arn:" in text
    assert story.explanation is not None and len(story.explanation.contributions) == 5
    assert story.captured is not None and story.captured["transaction_id"] == missed["transaction_id"]


def _frauds(serving: Serving) -> set[str]:
    labels = serving.aws.client("s3").get_object(Bucket=_outputs(serving, "DataFoundation")["LabelsBucketName"],
                                                 Key="labels/matured.jsonl")["Body"].read().splitlines()
    return {json.loads(line)["transaction_id"] for line in labels if json.loads(line)["is_fraud"]}

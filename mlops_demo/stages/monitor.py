"""Stage: the hourly drift monitor watches the live traffic; its alarms act (retrain on drift, or block it).

Nothing here decides: the monitoring stack's schedule starts the drift monitor every simulated hour, its job
judges the captured traffic against the champion's baseline, CloudWatch evaluates the drift and data-quality
alarms, and EventBridge hands the drift alarm to the retrain trigger. This stage lets simulated hours pass,
one at a time, and reads what happened: each run's verdict, the alarm transitions, the messages on the
alerts topic, and a training run the trigger started. It stops at the first ending (retraining started or
blocked) or after MAX_RUNS runs; the scenario's expected ending (mlops_demo.scenarios) is checked by the CLI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from local_aws.stepfunctions.executions import executions_of, follow_execution
from mlops_demo.backfill import land_served_month
from mlops_demo.console import Console, tagged
from mlops_demo.explain import explain_transaction
from mlops_demo.scenarios import (
    DATA_QUALITY_ALARM,
    DRIFT_ALARM_HELD,
    NO_ALARM,
    RETRAINED_ON_DRIFT,
    RETRAINED_ON_QUALITY,
    RETRAINING_BLOCKED,
    StoryScenario,
    story_scenario,
)
from mlops_demo.stages.context import Row, StoryContext

NAME = "monitor"
HOUR = 3600.0
STEP = 60.0
MAX_RUNS = 2  # monitor runs over the live traffic before the stage ends without an action


@dataclass
class MonitorRun:
    monitor: str  # drift | quality
    at: float  # simulated seconds
    verdict: str
    reason: str
    data_quality: int


@dataclass
class MonitorResult:
    scenario: StoryScenario
    traffic_from: float
    runs: list[MonitorRun] = field(default_factory=list)
    alarms: list[tuple[float, str]] = field(default_factory=list)  # (simulated seconds, "name OLD -> NEW")
    messages: list[str] = field(default_factory=list)  # alerts-topic messages, subject: text
    retrain_arn: str = ""  # a training run the drift alarm started
    label_maturity_days: int = 0
    explained: list[str] = field(default_factory=list)  # `mlops-demo explain` of one live fraud

    def fired(self, suffix: str) -> float | None:
        """When the alarm named ...-<suffix> first went into ALARM, or None."""
        return next((at for at, what in self.alarms if what.split()[0].endswith(f"-{suffix}")
                     and what.endswith("-> ALARM")), None)

    @property
    def ending(self) -> str:
        if self.retrain_arn:
            return RETRAINED_ON_QUALITY if self.retrain_arn.rsplit(":", 1)[-1].startswith("quality-") \
                else RETRAINED_ON_DRIFT
        held = [m for m in self.messages if m.startswith("mlops-demo: retraining not started")]
        if any("retraining blocked" in m for m in held):
            return RETRAINING_BLOCKED
        if held:
            return DRIFT_ALARM_HELD
        if self.fired("data-quality") is not None:
            return DATA_QUALITY_ALARM
        return NO_ALARM

    @property
    def detection_delay(self) -> float | None:
        """Live traffic started -> the first drift or data-quality alarm, simulated seconds."""
        times = [t for t in (self.fired("drift"), self.fired("data-quality"), self.fired("quality")) if t is not None]
        return min(times) - self.traffic_from if times else None

    def summary_rows(self) -> list[Row]:
        rows = [("monitoring ending (expected)", f"{self.ending} ({self.scenario.expected})", "measured-local"),
                ("drift monitor runs over live traffic", f"{sum(r.monitor == 'drift' for r in self.runs)}",
                 "measured-local")]
        if self.detection_delay is not None:
            rows.append(("simulated: live traffic -> first monitoring alarm", f"{self.detection_delay:.0f} s",
                         "simulated-clock"))
        return rows


def title(ctx: StoryContext) -> str:
    s = story_scenario(ctx.options.scenario)
    return f"Monitoring the live traffic ({s.live}: {s.why}): the hourly drift monitor, its alarms and their actions"


def run(ctx: StoryContext) -> MonitorResult | None:
    serve = ctx.results["serve"]
    if not serve.live:
        return None
    aws = ctx.local
    result = MonitorResult(story_scenario(ctx.options.scenario), serve.traffic_from,
                           label_maturity_days=ctx.config.label_maturity_days)
    for _ in range(MAX_RUNS):
        _next_monitor_run(ctx)
        # The verdict's metrics reach the alarms, which evaluate each period; EventBridge delivers what they cause.
        aws.clock.advance(2 * ctx.config.alarm_period_seconds)
        _observe(ctx, result)
        if result.ending in (RETRAINED_ON_DRIFT, RETRAINING_BLOCKED, DRIFT_ALARM_HELD):
            break
    if result.scenario.served_month and result.ending == NO_ALARM:
        _judge_a_served_month(ctx, result)
    result.explained = _explain_a_live_fraud(ctx)
    return result


def _judge_a_served_month(ctx: StoryContext, result: MonitorResult) -> None:
    """The quality monitor over a month of served traffic whose labels matured (mlops_demo.backfill: the story
    cannot wait a month), run now instead of at its daily schedule; its alarm acts as in production."""
    aws, monitoring = ctx.local, ctx.outputs("Monitoring")
    data = ctx.outputs("DataFoundation")
    buckets = {b: data[f"{b.capitalize()}BucketName"] for b in ("decisions", "raw", "labels")}
    land_served_month(aws.client, buckets, ctx.outputs("Serving")["EndpointName"], aws.clock.now(),
                      result.scenario.live)
    arn = aws.client("stepfunctions").start_execution(
        stateMachineArn=monitoring["QualityMonitorStateMachineArn"])["executionArn"]
    follow_execution(aws, arn)
    aws.clock.advance(2 * ctx.config.alarm_period_seconds)
    _observe(ctx, result)


def _explain_a_live_fraud(ctx: StoryContext) -> list[str]:
    """What `mlops-demo explain` says about the first fraud of the live traffic (scored or missed)."""
    live = ctx.live
    if live is None or not live.is_fraud.any():
        return []
    transaction_id = live.transaction_ids()[int(live.is_fraud.argmax())]
    story = explain_transaction(ctx.local.client, ctx.config.name, transaction_id)
    return story.lines(ctx.config.label_maturity_days)


def _next_monitor_run(ctx: StoryContext) -> None:
    """Move the clock a minute at a time until the schedule starts the drift monitor, then follow that run (its
    waits move the clock as the job runs), so every time in the timeline is when it happened."""
    aws = ctx.local
    monitor = ctx.outputs("Monitoring")["DriftMonitorStateMachineArn"]
    before = set(executions_of(aws, monitor))
    for _ in range(int(2 * HOUR / STEP)):
        aws.clock.advance(STEP)
        started = [arn for arn in executions_of(aws, monitor) if arn not in before]
        if started:
            for arn in started:
                follow_execution(aws, arn)
            return
    raise RuntimeError("the drift monitor's schedule did not start a run within two simulated hours")


def _observe(ctx: StoryContext, result: MonitorResult) -> None:
    aws, sfn = ctx.local, ctx.local.client("stepfunctions")
    monitoring = ctx.outputs("Monitoring")
    result.runs = []
    for monitor in ("drift", "quality"):
        for arn in executions_of(aws, monitoring[f"{monitor.capitalize()}MonitorStateMachineArn"]):
            desc = sfn.describe_execution(executionArn=arn)
            at = (desc["startDate"] - aws.clock.start).total_seconds()
            verdict = json.loads(desc.get("output") or "{}").get("verdict")
            if at >= result.traffic_from and verdict:
                result.runs.append(MonitorRun(monitor, at, verdict["verdict"], verdict["reason"],
                                              verdict.get("data_quality_violations", 0)))
    result.runs.sort(key=lambda r: r.at)
    watched = (monitoring["DriftAlarmName"], monitoring["DataQualityAlarmName"], monitoring["QualityAlarmName"])
    result.alarms = [((t.at - aws.clock.start).total_seconds(), f"{t.alarm} {t.old} -> {t.new}")
                     for t in aws.alarms.transitions if t.alarm in watched and t.new != "INSUFFICIENT_DATA"]
    result.messages += _read_inbox(ctx)
    training = ctx.outputs("TrainingPipeline")["TrainingStateMachineArn"]
    result.retrain_arn = next((a for a in executions_of(aws, training)
                               if a.rsplit(":", 1)[-1].startswith(("drift-", "quality-"))), "")


def _read_inbox(ctx: StoryContext) -> list[str]:
    sqs, out = ctx.local.client("sqs"), []
    while got := sqs.receive_message(QueueUrl=ctx.inbox, MaxNumberOfMessages=10).get("Messages", []):
        for message in got:
            body: dict[str, Any] = json.loads(message["Body"])
            subject = str(body.get("Subject", ""))
            # An alarm notification's subject says it all (its message is the alarm as JSON).
            out.append(subject if subject.startswith(("ALARM:", "OK:")) else f"{subject}: {body.get('Message', '')}")
        sqs.delete_message_batch(QueueUrl=ctx.inbox, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
    return out


def report(console: Console, r: MonitorResult | None) -> None:
    if r is None:
        console.say("    skipped: nothing is serving")
        return
    events = [(run.at, f"{run.monitor} monitor: {run.reason}"
               + (f"; {run.data_quality} data-quality violation(s)" if run.data_quality else "")) for run in r.runs]
    events += r.alarms
    for at, what in sorted(events):
        console.say(f"    {tagged(f't+{at - r.traffic_from:6.0f} s', 'simulated-clock')}  {what}")
    for message in r.messages:
        if any(f'-{name}"' in message for name in ("drift", "data-quality", "quality")) \
                or "retraining not started" in message:
            console.say(f"    on-call inbox: {message[:300]}")
    if r.ending == RETRAINED_ON_QUALITY:
        console.say(f"    the retrain trigger started training run {r.retrain_arn.rsplit(':', 1)[-1]} (reason: the "
                    "quality verdict); it learns from the newest matured month, the one that holds the new pattern")
    elif r.retrain_arn:
        console.say(f"    the retrain trigger started training run {r.retrain_arn.rsplit(':', 1)[-1]} (reason: the "
                    "drift verdict). It learns from the matured window (labels take "
                    f"{r.label_maturity_days} days), so it sees the shift only as shifted transactions mature: "
                    "the drift alarm stays in ALARM until then (no new event, so no new run), and the cool-down "
                    "holds an alarm that flaps out of ALARM and back")
    if r.explained:
        console.say("    debugging one live fraud (`mlops-demo explain <transaction id>`):")
        for line in r.explained:
            console.say(f"      {line}")
    delay = r.detection_delay
    console.say(f"    ending: {r.ending} (expected for {r.scenario.name}: {r.scenario.expected})"
                + (f"; first alarm {tagged(f'{delay:.0f} s', 'simulated-clock')} after live traffic began"
                   if delay is not None else ""))

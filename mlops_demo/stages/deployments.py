"""What the serving stages share: follow the deploy workflow runs an event started, and tell a deployment's story.

A deployment's timeline merges what the endpoint did (local_aws hosting timeline) with what the guard alarms
did (CloudWatch alarm transitions), all at simulated-clock times, and counts which fleet answered each request.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from local_aws.stepfunctions.executions import ExecutionResult, executions_of, follow_execution
from mlops_demo.console import Console, tagged
from mlops_demo.stages.context import StoryContext


@dataclass
class DeploymentStory:
    execution: ExecutionResult | None
    events: list[tuple[float, str]] = field(default_factory=list)  # (simulated seconds, what happened)
    answered: Counter[str] = field(default_factory=Counter)  # fleet config -> requests it answered (2xx)
    failed: Counter[str] = field(default_factory=Counter)  # fleet config -> requests that failed (5xx)
    decision_seconds: float | None = None  # first traffic on the new fleet -> rollback started

    @property
    def outcome(self) -> str:
        if self.execution is None:
            return "no deployment ran"
        return self.execution.status + (f" ({self.execution.error})" if self.execution.error else "")


def run_deploys(ctx: StoryContext) -> list[ExecutionResult]:
    """Deliver pending events (a package approval starts the deploy workflow), follow every run they started."""
    aws = ctx.local
    machine = ctx.outputs("Serving")["DeployStateMachineArn"]
    before = set(executions_of(aws, machine))
    aws.clock.advance(0)
    results = []
    while True:  # a run can cause another event (UpdateModelPackage), which starts a no-op run
        new = [arn for arn in executions_of(aws, machine) if arn not in before]
        if not new:
            return [r for r in results if "AlreadyHandled" not in r.states]
        for arn in new:
            before.add(arn)
            results.append(follow_execution(aws, arn))
        aws.clock.advance(0)


def story(ctx: StoryContext, execution: ExecutionResult | None, since: float) -> DeploymentStory:
    """Events from the deployment's start (or `since`, when none ran), requests from `since`."""
    aws = ctx.local
    events_from = execution.started_at if execution is not None else since
    endpoint = ctx.outputs("Serving")["EndpointName"]
    out = DeploymentStory(execution)
    for e in aws.hosting.timeline:
        if e.endpoint == endpoint and e.at >= events_from:
            out.events.append((e.at, f"endpoint {e.event}: {e.detail}"))
    for t in aws.alarms.transitions:
        at = (t.at - aws.clock.start).total_seconds()
        if at >= events_from and t.new != "INSUFFICIENT_DATA":
            out.events.append((at, f"alarm {t.alarm} {t.old} -> {t.new}"))
    # At the same instant, the alarm's transition comes before the rollback it causes.
    out.events.sort(key=lambda item: (item[0], not item[1].startswith("alarm ")))
    for record in aws.hosting.invocations:
        if record.endpoint == endpoint and record.at >= since:
            (out.failed if record.status >= 500 else out.answered)[record.fleet_config] += 1
    shifted = next((at for at, what in out.events if "TrafficShifted" in what), None)
    rolled = next((at for at, what in out.events if "RollingBack" in what), None)
    if shifted is not None and rolled is not None:
        out.decision_seconds = rolled - shifted
    return out


def print_story(console: Console, s: DeploymentStory, start: float, names: dict[str, str]) -> None:
    for at, what in s.events:
        console.say(f"    {tagged(f't+{at - start:5.0f} s', 'simulated-clock')}  {what}")
    for config in sorted(set(s.answered) | set(s.failed)):
        console.say(f"    {names.get(config, config)}: answered {s.answered[config]:,}, failed {s.failed[config]:,} "
                    "requests [measured-local]")
    if s.decision_seconds is not None:
        console.say(f"    rollback decided {tagged(f'{s.decision_seconds:.0f} s', 'simulated-clock')} after the new "
                    "fleet took traffic")
    console.say(f"    deploy workflow: {s.outcome}")


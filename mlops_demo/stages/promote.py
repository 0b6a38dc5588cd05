"""Stage: retrain on the latest data; the candidate passes the gate and is promoted by canary, then bakes clean."""

from __future__ import annotations

from dataclasses import dataclass, field

from mlops_demo.console import Console
from mlops_demo.scenarios import DATA_QUALITY_ALARM, RETRAINING_BLOCKED
from mlops_demo.stages.context import Row, StoryContext
from mlops_demo.stages.deployments import DeploymentStory, print_story, run_deploys, story
from mlops_demo.stages.training import TrainingResult, train

NAME = "promote"


@dataclass
class PromoteResult:
    training: TrainingResult
    story: DeploymentStory
    started_at: float
    champion_config: str
    live_config_after: str

    def summary_rows(self) -> list[Row]:
        return [("retrained candidate", self.training.gate.get("status", self.training.execution.status),
                 "measured-local"),
                ("candidate deployment (canary)", self.story.outcome, "measured-local")]


@dataclass
class PromoteSkipped:
    """Retraining held back by the data-quality alarm."""

    reason: str
    story: DeploymentStory = field(default_factory=lambda: DeploymentStory(None))

    def summary_rows(self) -> list[Row]:
        return [("retrained candidate", "not trained: the data-quality alarm holds retraining", "measured-local")]


def title(ctx: StoryContext) -> str:
    return "Retraining on the latest data: the candidate is gated against the champion and promoted by canary"


def run(ctx: StoryContext) -> PromoteResult | PromoteSkipped | None:
    """None when nothing serves."""
    if not ctx.results["serve"].live:
        return None
    monitor = ctx.results.get("monitor")
    if monitor is not None and monitor.ending in (RETRAINING_BLOCKED, DATA_QUALITY_ALARM):
        return PromoteSkipped(f"skipped: the data-quality alarm holds retraining ({monitor.ending}); a model trained "
                              "now could learn the breakage, so retraining waits until the producer is fixed and the "
                              "alarm clears")
    aws = ctx.local
    endpoint = ctx.outputs("Serving")["EndpointName"]
    champion_config = aws.client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    since = aws.clock.elapsed_seconds
    started = monitor.retrain_arn if monitor is not None else ""  # the drift alarm's run, when it started one
    training = train(ctx, f"retrain-{ctx.options.seed}-{int(aws.clock.now().timestamp())}", verbose=False,
                     started_arn=started)
    deploys = run_deploys(ctx) if training.succeeded and training.gate.get("status") == "Approved" else []
    live_after = aws.client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    return PromoteResult(training, story(ctx, deploys[-1] if deploys else None, since), since, champion_config,
                         live_after)


def report(console: Console, r: PromoteResult | PromoteSkipped | None) -> None:
    if r is None or isinstance(r, PromoteSkipped):
        console.say(f"    {r.reason if r else 'skipped: nothing is serving'}")
        return
    gate = r.training.gate
    console.say(f"    training run {r.training.run_name}: {r.training.execution.status}; "
                f"gate: {gate.get('reason', '?')}")
    names = {r.champion_config: f"old champion ({r.champion_config})"}
    if r.live_config_after != r.champion_config:
        names[r.live_config_after] = f"new champion ({r.live_config_after})"
    print_story(console, r.story, r.started_at, names)

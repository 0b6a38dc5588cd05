"""Stage: retrain on the latest data; the candidate passes the gate and is promoted by canary, then bakes clean."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_demo.console import Console
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


def title(ctx: StoryContext) -> str:
    return "Retraining on the latest data: the candidate is gated against the champion and promoted by canary"


def run(ctx: StoryContext) -> PromoteResult | None:
    if not ctx.results["serve"].live:
        return None
    aws = ctx.local
    endpoint = ctx.outputs("Serving")["EndpointName"]
    champion_config = aws.client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    since = aws.clock.elapsed_seconds
    training = train(ctx, f"retrain-{ctx.options.seed}-{int(aws.clock.now().timestamp())}", verbose=False)
    deploys = run_deploys(ctx) if training.succeeded and training.gate.get("status") == "Approved" else []
    live_after = aws.client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    return PromoteResult(training, story(ctx, deploys[-1] if deploys else None, since), since, champion_config,
                         live_after)


def report(console: Console, r: PromoteResult | None) -> None:
    if r is None:
        console.say("    skipped: nothing is serving")
        return
    gate = r.training.gate
    console.say(f"    training run {r.training.run_name}: {r.training.execution.status}; "
                f"gate: {gate.get('reason', '?')}")
    names = {r.champion_config: f"old champion ({r.champion_config})"}
    if r.live_config_after != r.champion_config:
        names[r.live_config_after] = f"new champion ({r.live_config_after})"
    print_story(console, r.story, r.started_at, names)

"""Stage: the registry's approval event starts the deploy workflow; the champion goes live; live traffic flows.

The package the training pipeline registered as Approved emits "SageMaker Model Package State Change";
the EventBridge rule starts the deploy workflow, which creates the endpoint (first deployment). Then live
card traffic (2 transactions per simulated second) goes into the Kinesis stream: the scoring function's
event source mapping batches it, the function calls the endpoint (the real inference code, data capture on)
once per batch and writes one decision per transaction; Firehose archives the same records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fraud_core.simulator import simulate
from mlops_demo.console import Console, tagged
from mlops_demo.live_traffic import LiveTraffic
from mlops_demo.scenarios import story_scenario
from mlops_demo.stages.context import Row, StoryContext
from mlops_demo.stages.deployments import DeploymentStory, print_story, run_deploys, story

NAME = "serve"
LIVE_SECONDS = 120
TRANSACTIONS_PER_SECOND = 2
LIVE_TRANSACTIONS = 4_000  # enough for every live stage of the story


@dataclass
class ServeResult:
    story: DeploymentStory
    started_at: float
    config: str
    requests: int
    failed: int
    latency_p50_ms: float
    latency_p99_ms: float
    captured: int
    traffic_from: float = 0.0  # simulated seconds when live traffic started

    @property
    def live(self) -> bool:
        return bool(self.config)

    def summary_rows(self) -> list[Row]:
        return [
            ("first deployment", self.story.outcome, "measured-local"),
            ("endpoint requests answered / failed", f"{self.requests - self.failed:,} / {self.failed:,}",
             "measured-local"),
            ("model latency p50 / p99", f"{self.latency_p50_ms:.2f} / {self.latency_p99_ms:.2f} ms", "measured-local"),
        ]


def title(ctx: StoryContext) -> str:
    return "Deploying the approved model: the registry's approval event starts the deploy workflow"


def run(ctx: StoryContext) -> ServeResult:
    aws = ctx.local
    since = aws.clock.elapsed_seconds
    deploys = run_deploys(ctx)
    endpoint = ctx.outputs("Serving")["EndpointName"]
    if not deploys or deploys[-1].status != "SUCCEEDED":  # the gate rejected the model, or the deploy failed
        return ServeResult(story(ctx, deploys[-1] if deploys else None, since), since, "", 0, 0, 0.0, 0.0, 0)
    config = aws.client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    scenario = story_scenario(ctx.options.scenario).live
    live = simulate(LIVE_TRANSACTIONS, seed=ctx.options.seed + 1, scenario=scenario, start=aws.clock.now(), days=1)
    keys = [f"C{c:07d}" for c in live.customer_idx.tolist()]
    ctx.traffic = LiveTraffic(aws, ctx.outputs("DataFoundation")["TransactionsStreamName"],
                              list(zip(keys, live.encoded(), strict=True)), per_second=TRANSACTIONS_PER_SECOND)
    ctx.live = live
    traffic_from = aws.clock.elapsed_seconds
    ctx.traffic.start()
    aws.clock.advance(LIVE_SECONDS)
    served = [r for r in aws.hosting.invocations if r.endpoint == endpoint and r.at >= traffic_from]
    latencies = np.array([r.model_latency_us / 1000 for r in served]) if served else np.zeros(1)
    capture = aws.hosting.endpoints[endpoint].capture
    return ServeResult(story(ctx, deploys[-1] if deploys else None, since), since, config, len(served),
                       sum(r.status >= 500 for r in served), float(np.percentile(latencies, 50)),
                       float(np.percentile(latencies, 99)), capture.captured if capture else 0, traffic_from)


def report(console: Console, r: ServeResult) -> None:
    print_story(console, r.story, r.started_at, {r.config: f"champion ({r.config})"})
    if not r.live:
        console.say("    nothing is serving (no approved model was deployed): the serving stages are skipped")
        return
    console.say(f"    live traffic through Kinesis for {tagged(f'{LIVE_SECONDS} s', 'simulated-clock')}: the scorer "
                f"made {r.requests:,} endpoint requests ({r.failed} failed); model latency p50 "
                f"{tagged(f'{r.latency_p50_ms:.2f} ms', 'measured-local')}, p99 "
                f"{tagged(f'{r.latency_p99_ms:.2f} ms', 'measured-local')} (handler CPU time); {r.captured:,} "
                "captured for the drift job")

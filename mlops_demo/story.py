"""`make demo`: the whole story on the local AWS, stage by stage, every number tagged with its provenance.

Synthesize the real CDK app, deploy its templates into the local AWS, then run the stages of
`mlops_demo.stages.STAGES` in order (replay a month of transactions through Kinesis, archive them
with Firehose, land delayed labels, train, gate and register a model), then print a summary.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fraud_core.config import load_config
from local_aws.clock import SimulatedClock
from local_aws.runtime import local_aws
from mlops_demo.console import Console
from mlops_demo.dashboard import render_dashboard
from mlops_demo.stages import STAGES
from mlops_demo.stages.context import DemoOptions, Row, StoryContext
from mlops_demo.synth import synthesize

__all__ = ["DemoOptions", "DemoResult", "run_demo"]


def story_clock() -> SimulatedClock:
    """The story starts at 00:00 UTC today. Traffic and features follow the hour of the day, so a story started
    at another hour would draw different training windows from the same seed, and the gate's decisions would
    change with the time of day the demo runs; from midnight, a seed tells the same story every day."""
    return SimulatedClock(start=datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0))


@dataclass
class DemoResult:
    results: dict[str, Any] = field(default_factory=dict)  # stage name -> result
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, measured-local

    def get(self, stage: str) -> Any:
        return self.results.get(stage)

    @property
    def lost(self) -> int:
        """History missing from the archive, plus live transactions neither decided nor dead-lettered."""
        archive, reconcile = self.get("archive"), self.get("reconcile")
        return (archive.missing if archive else 0) + (reconcile.lost if reconcile else 0)

    @property
    def training_succeeded(self) -> bool:
        training = self.get("training")
        return bool(training and training.succeeded)

    @property
    def serving_failed(self) -> bool:
        """The gate approved a model, yet the story could not serve it, or a deployment ended unexpectedly."""
        training, serve = self.get("training"), self.get("serve")
        if not training or training.gate.get("status") != "Approved" or serve is None:
            return False
        canary, promote = self.get("canary"), self.get("promote")
        return (not serve.live or (canary is not None and canary.live_config_after != canary.champion_config)
                or (promote is not None and promote.story.execution is not None
                    and promote.story.execution.status != "SUCCEEDED"))

    def summary_rows(self) -> list[Row]:
        rows = [row for result in self.results.values() if result is not None for row in result.summary_rows()]
        return rows + [(f"time: {k}", f"{v:.2f} s", "measured-local") for k, v in self.timings.items()]


def run_demo(options: DemoOptions, console: Console | None = None) -> DemoResult:
    console = console or Console()
    overrides = options.config_overrides()
    config = load_config(options.profile, overrides)
    ctx = StoryContext(options, config, console, assembly=options.workdir / f"cdk.out-{config.name}")
    result = DemoResult()
    wall = time.perf_counter()
    console.say(f"mlops-demo on the local AWS: profile '{config.name}', {options.transactions:,} "
                f"transactions, seed {options.seed}, scenario '{options.scenario}'")
    if overrides:
        console.say(f"demo overrides of the profile (a canary needs two instances; the champion is an hour old when "
                    f"the world changes, younger than the profile's cool-down): {overrides}")
    with console.step(f"Synthesizing the CDK app (profile {config.name}) into {ctx.assembly}"):
        started = time.perf_counter()
        synthesize(config.name, ctx.assembly, overrides or None)
        result.timings["synth"] = time.perf_counter() - started

    with local_aws(serve_port=options.serve_port, workdir=options.workdir / "runtime", clock=story_clock()) as aws:
        ctx.aws = aws
        if aws.endpoint_url:
            console.say(f"    local AWS served at {aws.endpoint_url} (aws --endpoint-url {aws.endpoint_url} ...); "
                        "while the story runs, the demo drives the simulated clock")
        for stage in STAGES:
            with console.step(stage.title(ctx)):
                started = time.perf_counter()
                stage_result = stage.run(ctx)
                result.timings[stage.NAME] = time.perf_counter() - started
                ctx.results[stage.NAME] = result.results[stage.NAME] = stage_result
                stage.report(console, stage_result)
        if ctx.traffic is not None:
            ctx.traffic.stop()
        page = render_dashboard(aws, config.name, options.workdir / "dashboard.html", aws.clock.start, aws.clock.now())
        console.say(f"\nThe CloudWatch dashboard's panels, drawn from the local metrics: {page}")
        result.timings["total"] = time.perf_counter() - wall
        _summary(console, result)
        if options.serve_port is not None and options.linger:
            _linger(console, aws)
    return result


def _summary(console: Console, result: DemoResult) -> None:
    rows = result.summary_rows()
    width = max(len(name) for name, _, _ in rows)
    console.say("\nSummary")
    for name, value, provenance in rows:
        console.say(f"  {name:<{width}}  {value}  [{provenance}]")


def _linger(console: Console, aws: Any) -> None:
    aws.clock.run_in_real_time(1.0)
    console.say(f"\nThe local AWS keeps serving at {aws.endpoint_url} with everything the demo made; the simulated "
                "clock now runs at wall-clock speed. Ctrl-C stops it (everything is in memory and is discarded).")
    threading.Event().wait()

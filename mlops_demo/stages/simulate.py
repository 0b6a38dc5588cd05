"""Stage: simulate a month of card transactions (seeded, with the chosen scenario) over the training window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fraud_core.simulator import TransactionBatch
from mlops_demo.console import Console
from mlops_demo.history import training_history
from mlops_demo.scenarios import story_scenario
from mlops_demo.stages.context import Row, StoryContext

NAME = "simulate"


@dataclass
class SimulateResult:
    batch: TransactionBatch

    def summary_rows(self) -> list[Row]:
        return [("fraud rate in simulated data", f"{self.batch.fraud_rate:.2%}", "measured-local")]


def title(ctx: StoryContext) -> str:
    o = ctx.options
    return (f"Simulating {o.transactions:,} card transactions ({story_scenario(o.scenario).history}) over the "
            f"{ctx.config.training_window_days}-day training window")


def run(ctx: StoryContext) -> SimulateResult:
    o = ctx.options
    history = story_scenario(o.scenario).history
    ctx.batch = training_history(ctx.config, o.transactions, seed=o.seed, scenario=history,
                                 now=ctx.local.clock.now())
    return SimulateResult(ctx.batch)


def report(console: Console, result: SimulateResult) -> None:
    b = result.batch
    console.say(f"    fraud rate {b.fraud_rate:.2%} ({int(b.is_fraud.sum()):,} frauds), events from "
                f"{_day(b.start_ms)} to {_day(b.end_ms)}")


def _day(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d")

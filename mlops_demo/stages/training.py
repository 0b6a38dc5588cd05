"""Stage: the synthesized training state machine runs preprocess -> train -> evaluate -> gate -> register,
with the real SageMaker job scripts run locally, and says what it decided and why."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from local_aws.sagemaker.jobs import JobRecord
from local_aws.stepfunctions.executions import ExecutionResult, follow_execution, run_execution
from mlops_demo.console import Console, tagged
from mlops_demo.stages.context import Row, StoryContext

NAME = "training"


@dataclass
class TrainingResult:
    run_name: str
    execution: ExecutionResult
    jobs: list[JobRecord] = field(default_factory=list)
    evaluation: dict[str, Any] | None = None
    package: dict[str, Any] | None = None

    @property
    def succeeded(self) -> bool:
        return self.execution.status == "SUCCEEDED"

    @property
    def refused_by_data_quality(self) -> bool:
        """The preprocess job refused the window (fraud_core.data_quality): no model was trained."""
        return self.execution.status == "FAILED" and "data quality:" in (self.execution.cause or "")

    @property
    def gate(self) -> dict[str, Any]:
        return (self.execution.output or {}).get("gate", {})

    def summary_rows(self) -> list[Row]:
        pr_auc = (self.evaluation or {}).get("candidate", {}).get("pr_auc")
        status = self.execution.status + (" (data quality refused the window)" if self.refused_by_data_quality else "")
        return [
            ("training pipeline", status, "measured-local"),
            ("model PR-AUC (held-out window)", "-" if pr_auc is None else f"{pr_auc:.3f}", "measured-local"),
            ("gate decision", self.gate.get("status", "-"), "measured-local"),
            ("state transitions (billed)", f"{self.execution.transitions}", "measured-local"),
            ("simulated: training pipeline", f"{self.execution.simulated_seconds:.0f} s", "simulated-clock"),
        ]


def title(ctx: StoryContext) -> str:
    return f"Training pipeline (Step Functions '{ctx.config.name}' definition, SageMaker jobs run locally)"


def run(ctx: StoryContext) -> TrainingResult:
    return train(ctx, f"demo-{ctx.options.seed}-{int(ctx.local.clock.start.timestamp())}", verbose=True)


def train(ctx: StoryContext, run_name: str, *, verbose: bool, started_arn: str = "") -> TrainingResult:
    """One run of the synthesized training pipeline, or the one `started_arn` names (an alarm started it);
    with `verbose`, every state as it is entered."""
    aws = ctx.local
    jobs_before = set(aws.jobs.jobs)
    on_state = ((lambda state, t: ctx.console.say(f"    -> {state:<24} [simulated-clock t+{t:.0f} s]"))
                if verbose else None)
    if started_arn:
        run_name = started_arn.rsplit(":", 1)[-1]
        execution = follow_execution(aws, started_arn, on_state=on_state)
    else:
        execution = run_execution(aws, ctx.outputs("TrainingPipeline")["TrainingStateMachineArn"], run_name,
                                  on_state=on_state)
    result = TrainingResult(run_name, execution, jobs=[j for n, j in aws.jobs.jobs.items() if n not in jobs_before])
    if result.succeeded:
        curated = ctx.outputs("DataFoundation")["CuratedBucketName"]
        body = aws.client("s3").get_object(Bucket=curated, Key=f"runs/{run_name}/evaluation/evaluation.json")["Body"]
        result.evaluation = json.loads(body.read())
        result.package = aws.client("sagemaker").describe_model_package(
            ModelPackageName=execution.output["registered"]["arn"])
    return result


def report(console: Console, r: TrainingResult) -> None:
    for job in r.jobs:
        console.say(f"    job {job.name}: {job.final_status} in {tagged(f'{job.wall_seconds:.1f} s', 'measured-local')}"
                    + (f" - {job.failure_reason}" if job.failure_reason else ""))
    if not r.succeeded:
        console.say(f"    FAILED: {r.execution.error}: {r.execution.cause}")
        return
    _print_evaluation(console, r)


def _print_evaluation(console: Console, r: TrainingResult) -> None:
    ev = r.evaluation or {}
    cand, champ = ev.get("candidate", {}), ev.get("champion")
    window, costs = ev.get("test_window", {}), ev.get("costs", {})

    def num(d: dict[str, Any], key: str, fmt: str = ".3f") -> str:
        return tagged(format(d.get(key, 0.0), fmt), "measured-local")

    console.say(f"    held-out test window {window.get('start', '?')[:10]} .. {window.get('end', '?')[:10]}: "
                f"{window.get('rows', 0):,} transactions, {window.get('positives', 0)} frauds "
                f"(base rate {cand.get('base_rate', 0):.2%})")
    console.say(f"    PR-AUC {num(cand, 'pr_auc')} (primary: a random model scores the base rate), "
                f"ROC-AUC {num(cand, 'roc_auc')}")
    console.say(f"    at the operating threshold {cand.get('threshold', 0):.3g} (chosen on validation for cost: "
                f"missed fraud ${costs.get('false_negative', 0):.0f}, "
                f"false alarm ${costs.get('false_positive', 0):.0f}): "
                f"precision {num(cand, 'precision')}, recall {num(cand, 'recall')}")
    console.say(f"    calibration: Brier {num(cand, 'brier', '.4f')}, ECE {num(cand, 'ece', '.4f')}")
    if champ:
        console.say(f"    champion on the same window: PR-AUC {num(champ, 'pr_auc')}")
    else:
        console.say("    champion: none yet (first model), so only the PR-AUC floor applies")
    console.say(f"    gate: {r.gate.get('reason', '?')}")
    if r.package:
        console.say(f"    registered {r.package['ModelPackageArn']} as {r.package['ModelApprovalStatus']}")
    wall = tagged(f"{r.execution.wall_seconds:.1f} s", "measured-local")
    waits = tagged(f"{r.execution.simulated_seconds:.0f} s", "simulated-clock")
    console.say(f"    {r.execution.transitions} state transitions, {wall} wall, {waits} of waits")

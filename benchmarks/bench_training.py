"""Training pipeline on the local AWS: wall time, model quality on the held-out window, state transitions.

One run of the synthesized state machine over `n` simulated transactions (baseline scenario),
with the real job scripts as local processes.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fraud_core.config import load_config
from local_aws.cloudformation.deploy import deploy_assembly
from local_aws.runtime import local_aws
from local_aws.stepfunctions.executions import run_execution
from mlops_demo.history import training_history, write_archive, write_labels
from mlops_demo.synth import synthesize

N = 200_000
# A pinned "as of" (passed to the state machine) makes the figures reproducible run to run.
AS_OF = datetime(2026, 10, 1, tzinfo=UTC)


def run(n: int = N) -> list[dict[str, Any]]:
    config = load_config("sandbox")
    with tempfile.TemporaryDirectory() as tmp:
        assembly = synthesize("sandbox", Path(tmp) / "cdk.out")
        with local_aws(workdir=Path(tmp) / "runtime") as aws:
            stacks = {s.artifact_id: s for s in deploy_assembly(aws, assembly)}
            data, training = stacks["DataFoundation"].outputs, stacks["TrainingPipeline"].outputs
            batch = training_history(config, n, seed=42, now=AS_OF)
            s3 = aws.client("s3")
            write_archive(s3, data["RawBucketName"], batch.encoded())
            write_labels(s3, data["LabelsBucketName"], batch.labels())
            started = time.perf_counter()
            result = run_execution(aws, training["TrainingStateMachineArn"], "bench-run",
                                   {"as_of": AS_OF.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
            wall = time.perf_counter() - started
            if result.status != "SUCCEEDED":
                raise RuntimeError(f"pipeline {result.status}: {result.cause}")
            body = s3.get_object(Bucket=data["CuratedBucketName"], Key="runs/bench-run/evaluation/evaluation.json")
            cand = json.loads(body["Body"].read())["candidate"]
            jobs = {j.name.rsplit("-", 1)[-1]: round(j.wall_seconds, 2) for j in aws.jobs.jobs.values()}
    base = {"n": n, "scenario": "baseline", "profile": "sandbox", "as_of": AS_OF.date().isoformat(), "seed": 42}
    return [
        {"figure": "training_pipeline_wall", "value": round(wall, 2), "unit": "s", "provenance": "measured-local",
         "jobs_s": jobs, **base},
        {"figure": "training_state_transitions", "value": result.transitions, "unit": "transitions",
         "provenance": "measured-local", **base},
        {"figure": "training_pipeline_simulated_waits", "value": result.simulated_seconds, "unit": "s",
         "provenance": "simulated-clock", **base},
        *[{"figure": f"model_{k}", "value": round(float(cand[k]), 4), "unit": "", "provenance": "measured-local",
           "threshold": cand["threshold"], **base} for k in ("pr_auc", "roc_auc", "precision", "recall", "brier")],
    ]


if __name__ == "__main__":
    for figure in run():
        print(json.dumps(figure))

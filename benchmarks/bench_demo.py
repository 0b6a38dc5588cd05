"""`make demo` timed stage by stage (the default story: 50,000 transactions, sandbox), so each new stage is
added knowing what the whole costs against the design's budget (<= 120 s on 2 cores)."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

from fraud_core.config import load_config
from mlops_demo.console import Console
from mlops_demo.story import DemoOptions, run_demo


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        result = run_demo(DemoOptions(workdir=Path(tmp)), Console(io.StringIO()))
    if result.lost or not result.training_succeeded:
        raise RuntimeError(f"the demo did not tell its story: {result.lost} lost, training "
                           f"{'succeeded' if result.training_succeeded else 'failed'}")
    base = {"transactions": 50_000, "profile": "sandbox", "scenario": "baseline"}
    stages = {k: round(v, 2) for k, v in result.timings.items() if k != "total"}
    canary = result.get("canary")
    if canary is None or canary.story.decision_seconds is None:
        raise RuntimeError("the demo's bad canary was not rolled back by the guard alarms")
    return [
        {"figure": "demo_total_wall", "value": round(result.timings["total"], 2), "unit": "s",
         "provenance": "measured-local", "stages_s": stages, **base},
        *[{"figure": f"demo_stage_{name}", "value": seconds, "unit": "s", "provenance": "measured-local", **base}
          for name, seconds in stages.items()],
        {"figure": "rollback_decision", "value": round(canary.story.decision_seconds), "unit": "s",
         "provenance": "simulated-clock", "what": "traffic shifted to the bad canary -> auto-rollback started",
         "alarm_period_s": load_config("sandbox").alarm_period_seconds, "wall_s_of_canary_stage": stages.get("canary"),
         "requests_failed_on_champion": canary.failed_outside_canary, **base},
    ]


if __name__ == "__main__":
    for figure in run():
        print(json.dumps(figure))

"""`make demo` timed stage by stage (the default story: 50,000 transactions, sandbox), so each new stage is
added knowing what the whole costs against the design's budget (<= 120 s on 2 cores)."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

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
    stream = result.get("stream")
    return [
        {"figure": "demo_total_wall", "value": round(result.timings["total"], 2), "unit": "s",
         "provenance": "measured-local", "stages_s": stages, **base},
        *[{"figure": f"demo_stage_{name}", "value": seconds, "unit": "s", "provenance": "measured-local", **base}
          for name, seconds in stages.items()],
        {"figure": "demo_kinesis_put_throughput", "value": round(stream.rate), "unit": "records/s",
         "provenance": "measured-local", "note": "moto's PutRecords in-process, not an AWS figure", **base},
    ]


if __name__ == "__main__":
    for figure in run():
        print(json.dumps(figure))

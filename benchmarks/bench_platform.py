"""Platform figures: synth time, local deploy time, and the test suite's wall time."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _figure(name: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    return {"figure": name, "value": round(value, 3), "unit": unit, "provenance": "measured-local", **extra}


def run(include_test_suite: bool = True) -> list[dict[str, Any]]:
    from local_aws.cloudformation.deploy import deploy_assembly
    from local_aws.runtime import local_aws
    from mlops_demo.synth import synthesize

    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        # A fresh process, as `make synth` pays: jsii/Node start-up included.
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from mlops_demo.synth import synthesize; from pathlib import Path;"
                        f"synthesize('sandbox', Path({str(Path(tmp) / 'fresh')!r}))"],
                       check=True, cwd=ROOT, capture_output=True)
        figures.append(_figure("synth_cold_process", time.perf_counter() - t, "s", profile="sandbox"))
        t = time.perf_counter()
        assembly = synthesize("sandbox", Path(tmp) / "warm")
        figures.append(_figure("synth_in_process", time.perf_counter() - t, "s", profile="sandbox"))
        with local_aws() as aws:
            t = time.perf_counter()
            stacks = deploy_assembly(aws, assembly)
            figures.append(_figure("local_deploy", time.perf_counter() - t, "s", profile="sandbox",
                                   stacks=len(stacks), resources=sum(len(s.resources) for s in stacks)))
    if include_test_suite:
        t = time.perf_counter()  # as `make test` runs it: two workers
        command = [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile", "-p", "no:cacheprovider"]
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "CI": "1"})
        last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        figures.append(_figure("test_suite_wall", time.perf_counter() - t, "s", cores=os.cpu_count(),
                               result=last, exit_code=proc.returncode))
    return figures

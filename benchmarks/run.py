"""`make bench`: run every benchmark, print one JSON line per figure, rewrite benchmarks/RESULTS.md.

`python -m benchmarks.run --quick` skips the test-suite timing (which runs the whole suite).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("RESULTS.md")
ROOT = Path(__file__).resolve().parent.parent
FIGURE_MARK = "@@figure "

# figure -> (target as text, check) for the numbers the project holds itself to.
TARGETS: dict[str, tuple[str, Any]] = {
    "simulator_throughput": (">= 200,000 transactions/s", lambda v: v >= 200_000),
    "test_suite_wall": ("<= 300 s on 2 cores", lambda v: v <= 300),
    "training_pipeline_wall": ("<= 60 s on 200,000 transactions", lambda v: v <= 60),
    "training_state_transitions": ("<= 200 per run", lambda v: v <= 200),
    "demo_total_wall": ("<= 120 s on 2 cores", lambda v: v <= 120),
    "inference_model_call_p99": ("<= 2 ms in-process", lambda v: v <= 2),
    "inference_invoke_p99": ("<= 2 ms in-process", lambda v: v <= 2),
    "inference_http_p99": ("<= 10 ms over local HTTP", lambda v: v <= 10),
    "inference_http_nodelay_p99": ("<= 10 ms over local HTTP", lambda v: v <= 10),
    "serving_capacity_single_record": ("> 0: some load keeps p99 <= 100 ms", lambda v: v > 0),
    "serving_capacity_batch_100": ("> 0: some load keeps p99 <= 100 ms", lambda v: v > 0),
    "serving_open_loop_p99_single_record": ("<= 100 ms at the autoscaling target's load", lambda v: v <= 100),
    "serving_open_loop_p99_batch_100": ("<= 100 ms at the autoscaling target's load", lambda v: v <= 100),
    "rollback_decision": ("<= 180 s: 3 alarm periods of 60 s", lambda v: v <= 180),
    "drift_stats_1m_x_20_wall": ("<= 1 s on one core", lambda v: v <= 1),
    "drift_stats_1m_x_20_peak_memory": ("<= 512 MiB beyond the input", lambda v: v <= 512),
    "drift_vs_evidently_ratio": (">= 50x Evidently's PSI drift preset, same data", lambda v: v >= 50),
    "drift_psi_max_abs_diff_vs_evidently": ("<= 1e-9 when binned as Evidently bins", lambda v: v <= 1e-9),
    "scoring_handler_throughput": (">= 20,000 records/s on 1,000-record batches", lambda v: v >= 20_000),
    "drift_false_alarm_rate_baseline": ("<= 0.01", lambda v: v <= 0.01),
    "data_quality_false_alarm_rate_baseline": ("<= 0.01", lambda v: v <= 0.01),
}


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def _row(f: dict[str, Any]) -> str:
    target, check = TARGETS.get(f["figure"], ("", None))
    met = "" if check is None else ("yes" if check(f["value"]) else "**no**")
    details = ", ".join(f"{k}={v}" for k, v in f.items()
                        if k not in {"figure", "value", "unit", "provenance", "python", "numpy", "machine"})
    return (f"| {f['figure']} | {f['value']:,} | {f['unit']} | {f.get('provenance', '')} | {target} | {met} "
            f"| {details} |")


def merge_results(figures: list[dict[str, Any]]) -> None:
    """Replace (or append) the rows of `figures` in RESULTS.md, each marked with when it was re-measured; the
    other rows and the header keep the full run's machine and date."""
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    rows = {f["figure"]: _row({**f, "remeasured": when}) for f in figures}
    lines, seen = [], set()
    for line in RESULTS.read_text().splitlines():
        name = line.split("|")[1].strip() if line.startswith("| ") else ""
        if name in rows:
            lines.append(rows[name])
            seen.add(name)
        elif line.startswith("Model-quality figures") and len(seen) < len(rows):
            table_end = next(i for i in range(len(lines) - 1, -1, -1) if lines[i].startswith("|"))
            lines[table_end + 1:table_end + 1] = [r for n, r in rows.items() if n not in seen]
            seen.update(rows)
            lines.append(line)
        else:
            lines.append(line)
    RESULTS.write_text("\n".join(lines) + "\n")


def write_results(figures: list[dict[str, Any]]) -> None:
    lines = [
        "# Benchmark results",
        "",
        "Produced by `make bench` (`python -m benchmarks.run`). Each figure carries its provenance:",
        "`measured-local` (timed or computed on this machine) or `simulated-clock` (time the local AWS",
        "simulated, e.g. Step Functions waits, which is not an AWS duration).",
        "",
        f"- machine: {_machine()}",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "| figure | value | unit | provenance | target | met | details |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [_row(f) for f in figures]
    lines += ["", "Model-quality figures are reproducible: the benchmark pins the run's as-of (execution input",
              "`{\"as_of\": ...}`) and the simulator's seed, so the same data trains the same model every run.",
              "", "Reproduce: `make bench` (about ten minutes on 2 cores; the serving load test takes about six).",
              ""]
    RESULTS.write_text("\n".join(lines))


def _run_isolated(module: str, **kwargs: Any) -> list[dict[str, Any]]:
    """One benchmark in a fresh interpreter: threads, caches and heap a previous one left behind (a load test's
    server, a local AWS's timers) must not slow the next one down, as they did when all ran in one process."""
    code = ("import json, sys\n"
            f"from benchmarks import {module} as bench\n"
            "for figure in bench.run(**json.loads(sys.argv[1])):\n"
            "    print(MARK + json.dumps(figure), flush=True)\n")
    proc = subprocess.Popen([sys.executable, "-c", f"MARK = {FIGURE_MARK!r}\n" + code, json.dumps(kwargs)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    figures = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(FIGURE_MARK):
            figure = json.loads(line[len(FIGURE_MARK):])
            print(json.dumps(figure), flush=True)
            figures.append(figure)
        else:
            print(line, end="", file=sys.stderr)  # the benchmark's own output (logs, progress)
    if proc.wait() != 0:
        raise SystemExit(f"benchmarks.{module} failed with exit code {proc.returncode}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip timing the whole test suite")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--only", default="", help="comma-separated benchmark modules (e.g. bench_drift): re-measure "
                                                   "those and replace their rows in RESULTS.md, marked 'remeasured'")
    args = parser.parse_args()
    benches = (("bench_simulator", {}), ("bench_training", {}), ("bench_serving", {"write": not args.no_write}),
               ("bench_scoring", {}), ("bench_drift", {}), ("bench_monitoring", {}), ("bench_demo", {}),
               ("bench_platform", {"include_test_suite": not args.quick}))
    only = {m.strip() for m in args.only.split(",") if m.strip()}
    unknown = only - {m for m, _ in benches}
    if unknown:
        raise SystemExit(f"--only: unknown benchmark(s) {', '.join(sorted(unknown))}; "
                         f"allowed: {', '.join(m for m, _ in benches)}")
    figures: list[dict[str, Any]] = []
    for module, kwargs in benches:
        if not only or module in only:
            figures += _run_isolated(module, **kwargs)
    if not args.no_write:
        (merge_results if only else write_results)(figures)


if __name__ == "__main__":
    main()

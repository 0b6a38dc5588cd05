"""Simulator throughput: columnar generation, and conversion to dicts / wire bytes.

Run: ``python benchmarks/bench_simulator.py`` - prints one JSON line per figure.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from fraud_core.simulator import simulate

N = 1_000_000
REPEATS = 3


def _best_seconds(fn: Callable[[], Any], repeats: int = REPEATS) -> float:
    # Best of several runs: the least-disturbed measurement of the code, not of the machine's noise.
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run(n: int = N) -> list[dict[str, Any]]:
    simulate(10_000, seed=0)  # warm imports and numpy code paths
    context = {"n": n, "provenance": "measured-local", "repeats": REPEATS,
               "python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine()}
    sim_s = _best_seconds(lambda: simulate(n, seed=0))
    batch = simulate(n, seed=0)
    rec_s = _best_seconds(batch.records)
    enc_s = _best_seconds(batch.encoded)
    return [
        {"figure": "simulator_throughput", "value": round(n / sim_s), "unit": "transactions/s",
         "seconds": round(sim_s, 3), **context},
        {"figure": "simulator_records_throughput", "value": round(n / rec_s), "unit": "records/s",
         "seconds": round(rec_s, 3), **context},
        {"figure": "simulator_encoded_throughput", "value": round(n / enc_s), "unit": "records/s",
         "seconds": round(enc_s, 3), **context},
    ]


if __name__ == "__main__":
    for figure in run():
        print(json.dumps(figure))

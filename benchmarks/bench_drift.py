"""Drift statistics at scale: PSI and binned KS of 1,000,000 rows x 20 features against a training baseline.

The drift job's verdict (``fraud_core.drift_report.numeric_drift``) on one core, with the memory it allocates
beyond its input (tracemalloc peak). Target: <= 1 s and <= 0.5 GB. The baseline (quantile bins of a
reference sample) is built once, as preprocess builds it, and not timed.

Run: ``python -m benchmarks.bench_drift`` - prints one JSON line per figure.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from fraud_core.baseline import DEFAULT_BINS
from fraud_core.drift import _proportions, quantile_bin_edges
from fraud_core.drift_report import numeric_drift

ROWS, FEATURES, REPEATS = 1_000_000, 20, 3


def _data() -> tuple[list[dict[str, Any]], np.ndarray]:
    rng = np.random.default_rng(7)
    reference = rng.lognormal(3.0, 1.0, size=(200_000, FEATURES))
    current = rng.lognormal(3.0, 1.0, size=(ROWS, FEATURES))
    current[:, : FEATURES // 4] *= 1.8  # a quarter shifted, as covariate_shift shifts amounts
    stats = []
    for j in range(FEATURES):
        edges = quantile_bin_edges(reference[:, j], DEFAULT_BINS)
        stats.append({"bin_edges": edges.tolist(), "proportions": _proportions(reference[:, j], edges).tolist()})
    return stats, current


def run() -> list[dict[str, Any]]:
    stats, current = _data()
    columns = [np.ascontiguousarray(current[:, j]) for j in range(FEATURES)]  # as the job holds them

    def verdicts() -> list[Any]:
        return [numeric_drift(f"f{j}", stats[j], columns[j]) for j in range(FEATURES)]

    with threadpool_limits(1):
        verdicts()  # warm-up
        times = []
        for _ in range(REPEATS):
            t = time.perf_counter()
            result = verdicts()
            times.append(time.perf_counter() - t)
        tracemalloc.start()
        verdicts()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    flagged = sum(v.drifted for v in result)
    base = {"rows": ROWS, "features": FEATURES, "cores": 1, "provenance": "measured-local",
            "drifted_features": flagged, "shifted_features": FEATURES // 4}
    return [
        {"figure": "drift_stats_1m_x_20_wall", "value": round(min(times), 3), "unit": "s",
         "spread": f"{min(times):.3f}..{max(times):.3f}", "repeats": REPEATS, **base},
        {"figure": "drift_stats_1m_x_20_peak_memory", "value": round(peak / 2**20, 1), "unit": "MiB", **base},
    ]


if __name__ == "__main__":
    for figure in run():
        print(json.dumps(figure))

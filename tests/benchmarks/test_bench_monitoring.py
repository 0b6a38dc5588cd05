"""The false-alarm counting of benchmarks/bench_monitoring.py on a tiny setup: no demo runs, no timing."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fraud_core.config import load_config
from fraud_core.data_quality import serving_violations
from fraud_core.drift_report import drift_report

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    # benchmarks/ is not an installed package: load the module from the checkout.
    spec = importlib.util.spec_from_file_location("_bench_monitoring", ROOT / "benchmarks" / "bench_monitoring.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = _load()
ROWS, DAYS = 1_000, 7


@pytest.fixture(scope="module")
def setup() -> tuple[dict[str, Any], Any, Any]:
    thresholds, limits = bench.limits_of(load_config("sandbox"))
    return bench.training_baseline(rows=5_000, days=DAYS), thresholds, limits


def test_counts_agree_with_judging_each_window(setup: tuple[dict[str, Any], Any, Any]) -> None:
    baseline, thresholds, limits = setup
    counts = bench.count_windows(baseline, "baseline", 4, thresholds, limits, rows=ROWS, training_days=DAYS)
    drift = quality = 0
    for i in range(4):
        x = bench.window_features("baseline", i, ROWS, DAYS)
        report = drift_report(baseline, x, limits=thresholds)
        drift += report.verdict == "drift"
        quality += bool(serving_violations(x, report, baseline, limits))
    assert (counts.windows, counts.drift, counts.data_quality) == (4, drift, quality)
    assert counts.rate(counts.drift) == drift / 4
    assert 0 < counts.max_ks[0] < 1 and counts.max_ks[1]


def test_a_units_break_is_flagged_in_every_window(setup: tuple[dict[str, Any], Any, Any]) -> None:
    baseline, thresholds, limits = setup
    counts = bench.count_windows(baseline, "units_break", 2, thresholds, limits, rows=ROWS, training_days=DAYS)
    assert (counts.drift, counts.data_quality, counts.either) == (2, 2, 2)
    assert counts.violations["units:amount"] == 2
    figures = {f["figure"]: f for f in bench._window_figures(counts, {"window_rows": ROWS})}
    assert figures["data_quality_detection_rate_units_break"]["value"] == 1.0


def test_false_alarm_figures_carry_counts_and_a_bound() -> None:
    counts = bench.WindowCounts("baseline")
    for verdict, violations in (("stable", []), ("drift", []), ("stable", ["nulls:amount"]), ("stable", [])):
        counts.add(verdict, ["amount"] if verdict == "drift" else [], violations, {"amount": 0.1}, {"amount": 0.05})
    figures = {f["figure"]: f for f in bench._window_figures(counts, {"window_rows": ROWS})}
    drift, quality = figures["drift_false_alarm_rate_baseline"], figures["data_quality_false_alarm_rate_baseline"]
    assert (drift["value"], drift["flagged"], drift["windows"]) == (0.25, 1, 4)
    assert (quality["value"], quality["violations"], drift["flagged_by_either"]) == (0.25, {"nulls:amount": 1}, 2)
    assert 0.25 < drift["upper_bound_95"] < 1
    assert math.isnan(bench.WindowCounts("baseline").rate(0))  # no windows, no rate


def test_upper_bound_matches_the_closed_form_at_zero() -> None:
    assert bench.upper_bound_95(0, 1_000) == pytest.approx(1 - 0.05 ** (1 / 1_000))
    assert bench.upper_bound_95(0, 200) > 0.01 > bench.upper_bound_95(0, 1_000)  # why the bench runs 1,000
    assert bench.upper_bound_95(3, 3) == 1.0
    assert math.isclose(bench.upper_bound_95(1, 4), 0.7514, abs_tol=1e-3)

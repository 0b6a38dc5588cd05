"""Monitoring quality: how often the drift verdict and the data-quality checks cry wolf on unchanged traffic,
how often they catch each simulated change, and how long the demo's monitoring takes to raise an alarm.

False alarms and detection: a baseline as training builds it (``build_baseline`` on 20,000 baseline
transactions over 28 days; no ``prediction`` section, as no model scores them, so the score's drift is not
judged here) against many windows of 2,000 transactions, each simulated as one day (a day of sandbox capture;
the demo's live day holds 4,000, and a smaller window is the noisier, harder case), with its own seed and a
start date spread over the three weeks after the training window. Each window is judged as the drift job
judges it (``drift_report`` and ``serving_violations`` with the sandbox profile's thresholds).
``drift_false_alarm_rate_baseline`` and ``data_quality_false_alarm_rate_baseline`` are the shares of baseline
windows flagged, target <= 1%; with 0 alarms in n windows the one-sided 95% upper bound is 1 - 0.05^(1/n), so
1,000 windows (bound 0.3%) can show the target where 200 (bound 1.5%) could not. The scenario windows reuse
the seeds and dates of the first baseline windows (the simulator draws a scenario's transactions from the
baseline's stream and changes only what the scenario injects), so a detection rate compares like with like.

Detection delay: the demo (``run_demo``, sandbox profile, 20,000 transactions) for covariate_shift, units_break
and nulls; ``MonitorResult.detection_delay`` is live traffic start -> first drift or data-quality alarm, in
simulated seconds. It is bounded by the monitoring schedule (rate(1 hour): the next run starts within an hour),
the drift job's own run, and one alarm period (the verdict alarms evaluate one 60 s period). A demo run takes
one to five minutes of wall time on 2 cores, each in its own interpreter; ``run(include_demo=False)`` skips
them.

The window figures are reproducible (fixed seeds). The delays move by about a minute between runs (covariate_shift:
3,210..3,270 s over three runs): how much simulated time the stages before monitoring take, and so the schedule's
phase against the start of live traffic, is not fixed.

Run: ``python -m benchmarks.bench_monitoring`` - prints one JSON line per figure.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np

from fraud_core.baseline import build_baseline
from fraud_core.config import ProfileConfig, load_config
from fraud_core.data_quality import ServingLimits, serving_violations
from fraud_core.drift_report import DriftThresholds, drift_report
from fraud_core.features import build_features
from fraud_core.simulator import simulate

PROFILE: Final = "sandbox"
TRAINING_ROWS, TRAINING_DAYS, TRAINING_SEED = 20_000, 28, 0
TRAINING_START: Final = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW_ROWS, WINDOW_SPAN_DAYS, WINDOW_SEED = 2_000, 21, 1_000  # window i: seed WINDOW_SEED + i, day i % span
BASELINE_WINDOWS, SCENARIO_WINDOWS = 1_000, 50
SCENARIOS: Final = ("covariate_shift", "units_break", "nulls", "new_merchant_category", "concept_drift")
DEMO_SCENARIOS: Final = ("covariate_shift", "units_break", "nulls")
DEMO_TRANSACTIONS: Final = 20_000
DEMO_TIMEOUT_S: Final = 900
ROOT: Final = Path(__file__).resolve().parent.parent
_OUTCOME_MARK: Final = "@@monitor "


@dataclass
class WindowCounts:
    """What the drift verdict and the data-quality checks said over a series of windows."""

    scenario: str
    windows: int = 0
    drift: int = 0  # verdict "drift"
    data_quality: int = 0  # any serving violation
    either: int = 0
    insufficient: int = 0  # verdict "insufficient_data"
    drifted_features: Counter[str] = field(default_factory=Counter)  # windows in which each feature drifted
    violations: Counter[str] = field(default_factory=Counter)  # windows with each "check:field"
    max_psi: tuple[float, str] = (0.0, "")  # largest judged PSI over all windows, and its feature
    max_ks: tuple[float, str] = (0.0, "")

    def add(self, verdict: str, drifted: list[str], violations: list[str], psi: dict[str, float],
            ks: dict[str, float]) -> None:
        self.windows += 1
        self.drift += verdict == "drift"
        self.insufficient += verdict == "insufficient_data"
        self.data_quality += bool(violations)
        self.either += verdict == "drift" or bool(violations)
        self.drifted_features.update(drifted)
        self.violations.update(set(violations))
        for name, value in psi.items():
            self.max_psi = max(self.max_psi, (value, name))
        for name, value in ks.items():
            self.max_ks = max(self.max_ks, (value, name))

    def rate(self, flagged: int) -> float:
        return flagged / self.windows if self.windows else math.nan


def upper_bound_95(flagged: int, windows: int) -> float:
    """One-sided 95% Clopper-Pearson upper bound of a rate seen as flagged/windows."""
    if flagged >= windows:
        return 1.0
    if flagged == 0:
        return 1.0 - 0.05 ** (1.0 / windows)
    from scipy.stats import beta

    return float(beta.ppf(0.95, flagged + 1, windows - flagged))


def limits_of(config: ProfileConfig) -> tuple[DriftThresholds, ServingLimits]:
    """The thresholds the drift job gets from the profile (stacks pass them as the job's arguments)."""
    return (DriftThresholds(config.drift_psi_threshold, config.drift_ks_threshold, config.drift_min_rows),
            ServingLimits(config.max_null_rate_increase, config.max_unseen_category_share))


def training_baseline(rows: int = TRAINING_ROWS, days: int = TRAINING_DAYS,
                      seed: int = TRAINING_SEED) -> dict[str, Any]:
    """The drift baseline as training writes it, from baseline traffic (features only: no model, no scores)."""
    batch = simulate(rows, seed=seed, start=TRAINING_START, days=days)
    return build_baseline(build_features(batch.records()))


def window_features(scenario: str, i: int, rows: int = WINDOW_ROWS, training_days: int = TRAINING_DAYS) -> np.ndarray:
    """Window i: one simulated day after the training window, its own seed."""
    start = TRAINING_START + timedelta(days=training_days + i % WINDOW_SPAN_DAYS)
    return build_features(simulate(rows, seed=WINDOW_SEED + i, scenario=scenario, start=start, days=1).records())


def count_windows(baseline: dict[str, Any], scenario: str, windows: int, thresholds: DriftThresholds,
                  limits: ServingLimits, rows: int = WINDOW_ROWS, training_days: int = TRAINING_DAYS) -> WindowCounts:
    """Judge `windows` windows of `scenario` traffic as the drift job does, and count what was flagged."""
    counts = WindowCounts(scenario)
    for i in range(windows):
        features = window_features(scenario, i, rows, training_days)
        report = drift_report(baseline, features, limits=thresholds)
        found = serving_violations(features, report, baseline, limits)
        judged = report.judged()
        counts.add(report.verdict, report.drifted, [f"{v.check}:{v.field}" for v in found],
                   {f.feature: f.psi for f in judged}, {f.feature: f.ks for f in judged if f.ks is not None})
    return counts


def _window_figures(counts: WindowCounts, setup: dict[str, Any]) -> list[dict[str, Any]]:
    baseline = counts.scenario == "baseline"
    kind = "false_alarm" if baseline else "detection"
    shared = {"windows": counts.windows, "insufficient_data_windows": counts.insufficient,
              "flagged_by_either": counts.either, **(setup if baseline else {"window_rows": setup["window_rows"]})}
    out = []
    for check, flagged, extra in (
            ("drift", counts.drift, {"drifted_features": dict(counts.drifted_features.most_common()),
                                     "max_psi": f"{counts.max_psi[0]:.3f} ({counts.max_psi[1]})",
                                     "max_ks": f"{counts.max_ks[0]:.3f} ({counts.max_ks[1]})"}),
            ("data_quality", counts.data_quality, {"violations": dict(counts.violations.most_common())})):
        figure = {"figure": f"{check}_{kind}_rate_{counts.scenario}", "value": round(counts.rate(flagged), 4),
                  "unit": "share of windows", "provenance": "measured-local", "flagged": flagged, **extra}
        if baseline:
            figure["upper_bound_95"] = round(upper_bound_95(flagged, counts.windows), 4)
        out.append({**figure, **shared})
    return out


def window_figures(baseline_windows: int = BASELINE_WINDOWS,
                   scenario_windows: int = SCENARIO_WINDOWS) -> list[dict[str, Any]]:
    config = load_config(PROFILE)
    thresholds, limits = limits_of(config)
    baseline = training_baseline()
    setup = {"window_rows": WINDOW_ROWS, "window_days": 1, "training_rows": TRAINING_ROWS,
             "training_days": TRAINING_DAYS, "profile": PROFILE, "psi": thresholds.psi, "ks": thresholds.ks,
             "min_rows": thresholds.min_rows, "max_null_rate_increase": limits.max_null_rate_increase,
             "max_unseen_share": limits.max_unseen_share, "prediction_drift": "not judged (no model)"}
    started = time.perf_counter()
    figures = _window_figures(count_windows(baseline, "baseline", baseline_windows, thresholds, limits), setup)
    for scenario in SCENARIOS:
        figures += _window_figures(count_windows(baseline, scenario, scenario_windows, thresholds, limits), setup)
    figures[0]["wall_s_all_windows"] = round(time.perf_counter() - started, 1)
    return figures


def monitor_outcome(scenario: str, transactions: int = DEMO_TRANSACTIONS) -> dict[str, Any] | None:
    """One demo run; what its monitor stage saw (None when nothing served). Call it in a fresh interpreter: a
    second run_demo in the same process saw no drift-monitor run at all (units_break and nulls ended no_alarm after
    a covariate_shift run, yet reach their expected endings alone)."""
    from mlops_demo.console import Console
    from mlops_demo.story import DemoOptions, run_demo

    with tempfile.TemporaryDirectory() as tmp:
        result = run_demo(DemoOptions(scenario=scenario, transactions=transactions, workdir=Path(tmp)),
                          Console(io.StringIO()))
    monitor = result.get("monitor")
    if monitor is None:
        return None
    return {"delay": monitor.detection_delay, "ending": monitor.ending,
            "monitor_runs": [f"t+{r.at - monitor.traffic_from:.0f} s {r.verdict}, {r.data_quality} dq"
                             for r in monitor.runs]}


def _demo_figure(scenario: str) -> dict[str, Any]:
    from mlops_demo.scenarios import story_scenario

    config = load_config(PROFILE)
    expected = story_scenario(scenario).expected
    figure: dict[str, Any] = {
        "figure": f"detection_delay_{scenario}", "value": math.nan, "unit": "s", "provenance": "simulated-clock",
        "what": "live traffic started -> first drift or data-quality alarm (MonitorResult.detection_delay)",
        "expected_ending": expected, "transactions": DEMO_TRANSACTIONS, "profile": PROFILE,
        "bound": f"monitoring_schedule {config.monitoring_schedule} + the drift job's run + one alarm period "
                 f"({config.alarm_period_seconds} s)",
        "note": "the schedule's phase against the start of live traffic moves by about a minute between runs"}
    code = (f"import json\nfrom benchmarks.bench_monitoring import monitor_outcome\n"
            f"print({_OUTCOME_MARK!r} + json.dumps(monitor_outcome({scenario!r})))")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=DEMO_TIMEOUT_S, check=False)
    figure["demo_wall_s"] = round(time.perf_counter() - started, 1)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(_OUTCOME_MARK)]
    if proc.returncode != 0 or not lines:  # a failed run is a result to record, not to hide
        return {**figure, "ending": "demo failed", "exit_code": proc.returncode,
                "error": (proc.stderr.strip().splitlines() or ["(no output)"])[-1][:300]}
    outcome = json.loads(lines[-1][len(_OUTCOME_MARK):])
    if outcome is None:
        return {**figure, "ending": "monitor stage skipped (nothing served)"}
    delay = outcome["delay"]
    return {**figure, "value": math.nan if delay is None else round(delay), "ending": outcome["ending"],
            "ending_as_expected": outcome["ending"] == expected, "monitor_runs": outcome["monitor_runs"]}


def run(include_demo: bool = True, baseline_windows: int = BASELINE_WINDOWS,
        scenario_windows: int = SCENARIO_WINDOWS) -> list[dict[str, Any]]:
    figures = window_figures(baseline_windows, scenario_windows)
    if include_demo:
        figures += [_demo_figure(scenario) for scenario in DEMO_SCENARIOS]
    return figures


if __name__ == "__main__":
    for figure in run():
        print(json.dumps(figure), flush=True)

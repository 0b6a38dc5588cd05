"""The drift verdict against a training baseline: shifted features flagged, stable ones not, effect sizes only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from fraud_core.baseline import build_baseline
from fraud_core.drift_report import MIN_ROWS, drift_report
from fraud_core.features import FEATURE_NAMES, build_features
from fraud_core.simulator import simulate

START = datetime(2026, 6, 1, tzinfo=UTC)


def _features(scenario: str, seed: int, n: int = 5_000) -> np.ndarray:
    batch = simulate(n, seed=seed, scenario=scenario, start=START, days=7)
    return build_features([json.loads(p) for p in batch.encoded()])


@pytest.fixture(scope="module")
def baseline() -> dict:
    return build_baseline(_features("baseline", seed=1, n=20_000), scores=np.linspace(0, 1, 20_000))


@pytest.mark.parametrize("scenario", ["baseline", "concept_drift", "nulls"])
def test_traffic_like_training_is_stable(baseline: dict, scenario: str) -> None:
    report = drift_report(baseline, _features(scenario, seed=2))
    assert report.verdict == "stable", report.reason()
    assert report.reason().startswith("stable: no feature reached PSI 0.2 or KS 0.15 over 5,000 rows")


def test_a_covariate_shift_flags_the_shifted_features_only(baseline: dict) -> None:
    report = drift_report(baseline, _features("covariate_shift", seed=2))
    assert report.verdict == "drift"
    assert set(report.drifted) == {"amount", "log_amount", "customer_amount_sum_24h"}
    assert report.reason().startswith("drift: amount PSI 0.")


def test_a_new_category_is_drift_with_its_share(baseline: dict) -> None:
    report = drift_report(baseline, _features("new_merchant_category", seed=2))
    category = next(f for f in report.features if f.feature == "merchant_category")
    assert category.drifted and report.drifted == ["merchant_category"]
    assert 0.1 < category.unseen_share < 0.2  # the scenario moves 15% of traffic to a new category


def test_a_change_in_spread_alone_is_caught(baseline: dict) -> None:
    x = _features("baseline", seed=2)
    j = FEATURE_NAMES.index("distance_from_home_km")
    median = np.nanmedian(x[:, j])
    x[:, j] = median + (x[:, j] - median) * 3  # same median, three times the spread
    assert "distance_from_home_km" in drift_report(baseline, x).drifted


def test_score_drift_counts(baseline: dict) -> None:
    x = _features("baseline", seed=2)
    assert drift_report(baseline, x, scores=np.linspace(0, 1, len(x))).verdict == "stable"
    report = drift_report(baseline, x, scores=np.linspace(0.5, 1, len(x)))
    assert report.drifted == ["prediction"] and report.prediction is not None and report.prediction.psi > 0.2


def test_too_few_rows_is_never_called_stable(baseline: dict) -> None:
    report = drift_report(baseline, _features("covariate_shift", seed=2)[: MIN_ROWS - 1])
    assert report.verdict == "insufficient_data" and report.drifted == []
    assert report.reason() == f"insufficient data: {MIN_ROWS - 1} rows < {MIN_ROWS}"


def test_a_matrix_of_another_shape_or_a_foreign_baseline_is_refused(baseline: dict) -> None:
    with pytest.raises(ValueError, match="features: must be a 2-D array with 12 columns"):
        drift_report(baseline, np.zeros((10, 3)))
    with pytest.raises(ValueError, match="baseline.feature_names"):
        drift_report({**baseline, "feature_names": ["x"]}, _features("baseline", seed=2))

"""Data-quality checks that refuse a training window: a units change upstream, with no champion needed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from fraud_core.data_quality import MIN_ROWS_WITH_HISTORY, units_violations, window_violations
from fraud_core.features import FEATURE_NAMES, build_features
from fraud_core.simulator import simulate

START = datetime(2026, 6, 1, tzinfo=UTC)


def _features(scenario: str, n: int = 5_000) -> np.ndarray:
    batch = simulate(n, seed=3, scenario=scenario, start=START, days=7)
    return build_features([json.loads(p) for p in batch.encoded()])


@pytest.mark.parametrize("scenario", ["baseline", "covariate_shift", "concept_drift", "nulls"])
def test_healthy_and_drifted_windows_pass(scenario: str) -> None:
    assert window_violations(_features(scenario)) == []


def test_amounts_in_cents_are_refused_naming_the_field_the_rule_and_the_ratio() -> None:
    (violation,) = window_violations(_features("units_break"))
    assert (violation.check, violation.field) == ("units", "amount")
    assert "cents instead of dollars" in violation.message()
    assert "within 0.1x..10x" in violation.message()
    assert float(violation.observed.split("x")[0]) > 50


def test_amounts_in_thousands_are_refused_too() -> None:
    features = _features("baseline")
    features[:, FEATURE_NAMES.index("amount_to_avg_24h")] /= 1000
    (violation,) = units_violations(features)
    assert "thousands of dollars" in violation.message()


def test_the_check_abstains_without_enough_customer_history() -> None:
    features = _features("units_break")
    history = features[:, FEATURE_NAMES.index("customer_txn_count_24h")]
    keep = np.flatnonzero(history > 0)[: MIN_ROWS_WITH_HISTORY - 1]
    few = np.vstack([features[history == 0], features[keep]])
    assert units_violations(few) == []
    assert units_violations(np.vstack([few, features[np.flatnonzero(history > 0)[-1:]]])) != []

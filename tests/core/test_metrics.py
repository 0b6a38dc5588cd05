"""Metrics: equal to scikit-learn's where it has them, brute-force checked where it does not."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from fraud_core import metrics


def _cases(n_cases: int = 40) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    out = []
    for k in range(n_cases):
        n = int(rng.integers(5, 400))
        y = (rng.random(n) < 0.1).astype(int)
        y[0], y[1] = 1, 0  # both classes present
        p = rng.random(n) if k % 2 else np.round(rng.random(n), 1)  # every other case full of ties
        out.append((y, p))
    return out


def test_pr_auc_and_roc_auc_equal_sklearn_including_ties() -> None:
    for y, p in _cases():
        assert metrics.pr_auc(y, p) == pytest.approx(average_precision_score(y, p), abs=1e-12)
        assert metrics.roc_auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)


def test_pr_auc_of_a_perfect_ranking_is_one_and_of_random_scores_is_near_the_base_rate() -> None:
    y = np.array([0] * 98 + [1, 1])
    assert metrics.pr_auc(y, np.arange(100.0)) == 1.0
    rng = np.random.default_rng(1)
    y = (rng.random(200_000) < 0.01).astype(int)
    assert metrics.pr_auc(y, rng.random(y.size)) == pytest.approx(0.01, abs=0.003)


def test_cost_optimal_threshold_matches_brute_force_and_flags_the_same_rows() -> None:
    for y, p in _cases(20):
        threshold, cost = metrics.cost_optimal_threshold(y, p, cost_fn=150.0, cost_fp=5.0)
        candidates = np.r_[np.unique(p), np.inf]
        brute = [(150 * np.sum((p < t) & (y == 1)) + 5 * np.sum((p >= t) & (y == 0))) / y.size for t in candidates]
        assert cost == pytest.approx(min(brute))
        assert metrics.expected_cost(y, p, threshold, 150.0, 5.0) == pytest.approx(cost)


def test_when_false_alarms_cost_more_than_all_fraud_nothing_is_flagged() -> None:
    y, p = np.array([0, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1])
    threshold, cost = metrics.cost_optimal_threshold(y, p, cost_fn=1.0, cost_fp=100.0)
    assert threshold > 0.9 and cost == pytest.approx(1.0 / 4)
    op = metrics.precision_recall_at(y, p, threshold)
    assert op.tp + op.fp == 0


def test_precision_recall_at_a_threshold() -> None:
    y = np.array([1, 1, 0, 0, 1, 0])
    p = np.array([0.9, 0.6, 0.6, 0.2, 0.1, 0.05])
    op = metrics.precision_recall_at(y, p, 0.5)  # flags 0.9, 0.6, 0.6: two frauds, one legit
    assert (op.tp, op.fp, op.fn, op.tn) == (2, 1, 1, 2)
    assert op.precision == pytest.approx(2 / 3) and op.recall == pytest.approx(2 / 3)
    assert op.f1 == pytest.approx(2 / 3)
    assert metrics.precision_recall_at(y, p, 0.95).precision == 0.0  # nothing flagged


def test_calibration_brier_reliability_and_ece() -> None:
    y, p = np.array([0, 1, 0, 1]), np.array([0.0, 1.0, 0.0, 1.0])
    assert metrics.brier(y, p) == 0.0 and metrics.expected_calibration_error(y, p) == 0.0
    assert metrics.brier(y, np.full(4, 0.5)) == 0.25

    rng = np.random.default_rng(2)
    p = rng.random(100_000) * 0.3
    y = (rng.random(p.size) < p).astype(int)  # calibrated by construction
    assert metrics.expected_calibration_error(y, p) < 0.01
    assert metrics.expected_calibration_error(y, np.minimum(p * 3, 1)) > 0.1  # over-confident by 3x
    table = metrics.reliability_table(y, p, n_bins=10)
    assert [r["bin_lo"] for r in table[:3]] == [0.0, 0.1, 0.2] and sum(r["count"] for r in table) == p.size
    assert table[5]["count"] == 0 and table[5]["mean_predicted"] is None  # empty bins stay, as None
    assert table[2]["observed_rate"] == pytest.approx(table[2]["mean_predicted"], abs=0.01)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: metrics.pr_auc([], []), "y: must not be empty"),
    (lambda: metrics.pr_auc([0, 1], [0.5]), "p: must have the same length as y"),
    (lambda: metrics.pr_auc([0, 0, 0], [0.1, 0.2, 0.3]),
     "y: needs at least one positive label (fraud) to compute PR-AUC"),
    (lambda: metrics.roc_auc([1, 1], [0.1, 0.2]), "y: needs at least one negative label (legit) to compute ROC-AUC"),
    (lambda: metrics.pr_auc([0, 2], [0.1, 0.2]), "y: labels must be 0 or 1"),
    (lambda: metrics.pr_auc([0, 1], [0.1, float("nan")]), "p: scores must be finite"),
    (lambda: metrics.brier([0, 1], [0.1, 1.5]), "p: must be probabilities in [0, 1]"),
    (lambda: metrics.cost_optimal_threshold([0, 1], [0.1, 0.2], 0, 5), "cost_fn: must be a finite number > 0"),
    (lambda: metrics.reliability_table([0, 1], [0.1, 0.2], n_bins=0), "n_bins: must be an integer >= 1"),
])
def test_bad_inputs_name_the_argument_and_the_rule(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call()

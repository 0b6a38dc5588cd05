"""Drift statistics on cases with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fraud_core.drift import (
    UNSEEN_CATEGORY,
    categorical_psi,
    ks_statistic,
    null_rate,
    psi,
    quantile_bin_edges,
)


def test_quantile_edges_split_the_reference_into_equal_bins() -> None:
    ref = np.arange(1000.0)
    edges = quantile_bin_edges(ref, 10)
    assert len(edges) == 9
    counts = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=10)
    assert np.all(counts == 100)


def test_quantile_edges_collapse_on_ties() -> None:
    mostly_zero = np.array([0] * 95 + [1, 2, 3, 4, 5])
    assert quantile_bin_edges(mostly_zero, 10).tolist() == [0.0]
    with pytest.raises(ValueError, match="n_bins: must be an integer >= 2"):
        quantile_bin_edges(mostly_zero, 1)


def test_psi_is_zero_for_the_same_distribution_and_matches_the_formula() -> None:
    ref = np.random.default_rng(0).normal(size=10_000)
    assert psi(ref, ref) == pytest.approx(0.0, abs=1e-12)
    # One edge at 0.5: reference split 50/50, current 90/10.
    ref2 = np.array([0.0] * 50 + [1.0] * 50)
    cur2 = np.array([0.0] * 90 + [1.0] * 10)
    expected = 0.4 * math.log(0.9 / 0.5) + (-0.4) * math.log(0.1 / 0.5)
    assert psi(ref2, cur2, edges=np.array([0.5])) == pytest.approx(expected)
    assert psi(ref2, cur2, n_bins=2) == pytest.approx(expected)


def test_psi_outer_bins_are_open_so_a_big_shift_scores_high_and_finite() -> None:
    ref = np.random.default_rng(1).uniform(0, 1, 5_000)
    cur = ref + 100.0  # entirely above the reference's maximum
    value = psi(ref, cur, n_bins=10, eps=1e-4)
    # All current mass in the top bin (ref share 0.1), every other bin clipped at eps.
    expected = (1 - 0.1) * math.log(1 / 0.1) + 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert value == pytest.approx(expected, rel=1e-3)


def test_psi_rule_of_thumb_on_shifted_normals() -> None:
    rng = np.random.default_rng(2)
    ref = rng.normal(0, 1, 50_000)
    assert psi(ref, rng.normal(0, 1, 50_000)) < 0.01
    assert 0.1 < psi(ref, rng.normal(0.5, 1, 50_000)) < 0.4
    assert psi(ref, rng.normal(2, 1, 50_000)) > 1.0


def test_nulls_are_left_to_null_rate() -> None:
    ref = [1.0, 2.0, 3.0, 4.0] * 100
    cur = [1.0, 2.0, None, 3.0, 4.0, float("nan")] * 100
    assert psi(ref, cur) == pytest.approx(0.0, abs=1e-12)
    assert ks_statistic(ref, cur) == 0.0
    assert null_rate(cur) == pytest.approx(2 / 6)
    assert null_rate(np.array(cur, dtype=float)) == pytest.approx(2 / 6)
    assert null_rate(["a", None, "b", "c"]) == 0.25
    assert null_rate([]) == 0.0


@pytest.mark.parametrize("bad", [[], [None, float("nan")]])
def test_all_null_input_is_an_error_naming_the_argument(bad: list) -> None:
    with pytest.raises(ValueError, match="current: needs at least one non-null value"):
        psi([1.0, 2.0], bad)
    with pytest.raises(ValueError, match="reference: needs at least one non-null value"):
        ks_statistic(bad, [1.0])


def test_ks_known_cases() -> None:
    assert ks_statistic([1, 2, 3], [1, 2, 3]) == 0.0
    assert ks_statistic([1, 2, 3], [10, 11]) == 1.0
    assert ks_statistic([1, 2, 3], [2, 3, 4]) == pytest.approx(1 / 3)
    assert ks_statistic([0, 0, 0, 1], [0, 1, 1, 1]) == pytest.approx(0.5)  # ties handled


def test_ks_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    cases = [
        (rng.normal(size=3_000), rng.normal(0.1, 1.2, size=2_000)),
        (rng.poisson(2, 5_000).astype(float), rng.poisson(2.3, 4_000).astype(float)),  # heavy ties
        (rng.exponential(size=10), rng.exponential(size=7)),
    ]
    for ref, cur in cases:
        assert ks_statistic(ref, cur) == pytest.approx(stats.ks_2samp(ref, cur).statistic, abs=1e-12)


def test_categorical_psi_known_values_and_unseen_pooling() -> None:
    ref = ["a"] * 50 + ["b"] * 50
    assert categorical_psi(ref, ref) == pytest.approx(0.0, abs=1e-12)
    cur = ["a"] * 90 + ["b"] * 10
    assert categorical_psi(ref, cur) == pytest.approx(0.4 * math.log(1.8) - 0.4 * math.log(0.2))
    # Three unseen categories pool into one bucket: the same as one new category with their share.
    three_new = ["a"] * 40 + ["b"] * 40 + ["x"] * 10 + ["y"] * 5 + ["z"] * 5
    one_new = ["a"] * 40 + ["b"] * 40 + [UNSEEN_CATEGORY] * 20
    eps = 1e-4
    expected = 2 * (-0.1) * math.log(0.4 / 0.5) + (0.2 - eps) * math.log(0.2 / eps)
    assert categorical_psi(ref, three_new) == pytest.approx(expected)
    assert categorical_psi(ref, one_new) == pytest.approx(expected)
    assert categorical_psi(np.array(ref), np.array(three_new)) == pytest.approx(expected)


def test_categorical_psi_ignores_nulls_and_rejects_empty() -> None:
    assert categorical_psi(["a", "b"], ["a", None, "b"]) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="reference_labels"):
        categorical_psi([None], ["a"])
    with pytest.raises(ValueError, match="current_labels"):
        categorical_psi(["a"], [])

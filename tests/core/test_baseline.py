"""Drift baseline: what the drift job needs, in the same bins fraud_core.drift uses."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fraud_core.baseline import build_baseline, score_baseline
from fraud_core.drift import _psi_from_proportions, psi
from fraud_core.features import FEATURE_NAMES, build_features
from fraud_core.simulator import simulate


@pytest.fixture(scope="module")
def features() -> np.ndarray:
    return build_features(simulate(20_000, seed=4, scenario="nulls").records())


def test_baseline_is_json_with_bins_shares_null_rates_and_categories(features: np.ndarray) -> None:
    doc = json.loads(json.dumps(build_baseline(features, window={"start": "a", "end": "b"}), allow_nan=False))
    assert doc["version"] == 1 and doc["rows"] == len(features) and doc["window"] == {"start": "a", "end": "b"}
    assert doc["feature_names"] == list(FEATURE_NAMES) and doc["prediction"] is None
    dist = doc["numeric"]["distance_from_home_km"]
    assert dist["null_rate"] == pytest.approx(0.4, abs=0.01)  # the 'nulls' scenario
    assert len(dist["proportions"]) == len(dist["bin_edges"]) + 1 and sum(dist["proportions"]) == pytest.approx(1)
    assert doc["numeric"]["customer_txn_count_1h"]["bin_edges"] == sorted(set(
        doc["numeric"]["customer_txn_count_1h"]["bin_edges"]))  # ties collapse edges
    cats = doc["categorical"]["merchant_category"]
    assert cats["null_rate"] == 0.0 and sum(cats["frequencies"].values()) == pytest.approx(1)
    assert set(cats["frequencies"]) <= {"grocery", "fuel", "restaurant", "online_retail", "travel", "electronics",
                                        "entertainment", "health", "utilities", "cash_withdrawal"}


def test_psi_from_the_baseline_equals_psi_from_the_raw_reference(features: np.ndarray) -> None:
    doc = build_baseline(features)
    j = FEATURE_NAMES.index("amount")
    current = features[:5_000, j] * 1.8  # inflated amounts
    amount = doc["numeric"]["amount"]
    edges = np.array(amount["bin_edges"])
    cur = np.bincount(np.searchsorted(edges, current, side="right"), minlength=len(edges) + 1) / current.size
    from_baseline = _psi_from_proportions(np.array(amount["proportions"]), cur, 1e-4)
    assert from_baseline == pytest.approx(psi(features[:, j], current))
    assert from_baseline > 0.25


def test_prediction_section_and_input_checks(features: np.ndarray) -> None:
    scores = np.random.default_rng(0).beta(0.5, 20, 1000)
    doc = build_baseline(features, scores=scores)
    assert doc["prediction"]["count"] == 1000 and sum(doc["prediction"]["proportions"]) == pytest.approx(1)
    with pytest.raises(ValueError, match="features: must be a 2-D array with 12 columns"):
        build_baseline(features[:, :3])
    with pytest.raises(ValueError, match="scores: must not be empty"):
        score_baseline([])

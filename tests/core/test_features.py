"""The one feature implementation: values a reader can check by hand, and robustness to bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fraud_core.features import (
    CATEGORICAL_FEATURES,
    CATEGORICAL_INDICES,
    FEATURE_NAMES,
    UNKNOWN_CATEGORY_CODE,
    build_features,
    category_name,
    epoch_ms,
)
from fraud_core.schema import MERCHANT_CATEGORIES
from fraud_core.simulator import simulate

RECORD = {
    "transaction_id": "t-1", "event_time": "2026-01-05T03:15:00.000Z",  # a Monday, 03:15 UTC
    "customer_id": "C0000001", "terminal_id": "T000001", "merchant_category": "electronics",
    "amount": 300.0, "currency": "USD", "card_present": False, "distance_from_home_km": 812.5,
    "customer_txn_count_1h": 2, "customer_txn_count_24h": 4, "customer_amount_sum_24h": 200.0,
}


def _row(**changes: object) -> dict[str, float]:
    x = build_features([{**RECORD, **changes}])
    assert x.shape == (1, len(FEATURE_NAMES)) and x.dtype == np.float64
    return dict(zip(FEATURE_NAMES, x[0].tolist(), strict=True))


def test_values_for_one_record_match_hand_computation() -> None:
    f = _row()
    assert f["amount"] == 300.0 and f["log_amount"] == pytest.approx(math.log1p(300.0))
    assert (f["hour_of_day"], f["is_night"], f["day_of_week"]) == (3.0, 1.0, 0.0)
    assert f["card_present"] == 0.0 and f["distance_from_home_km"] == 812.5
    assert (f["customer_txn_count_1h"], f["customer_txn_count_24h"], f["customer_amount_sum_24h"]) == (2, 4, 200)
    assert f["amount_to_avg_24h"] == pytest.approx(300.0 / (200.0 / 4))  # 6x the customer's recent average
    assert f["merchant_category"] == MERCHANT_CATEGORIES.index("electronics")
    assert _row(event_time="2026-01-11T14:00:00Z")["day_of_week"] == 6.0  # Sunday, no fraction
    assert _row(event_time="2026-01-11T14:00:00Z")["is_night"] == 0.0


def test_nulls_and_missing_history_become_nan_not_made_up_numbers() -> None:
    f = _row(distance_from_home_km=None)
    assert math.isnan(f["distance_from_home_km"]) and not math.isnan(f["amount"])
    f = _row(customer_txn_count_24h=0, customer_amount_sum_24h=0.0)
    assert math.isnan(f["amount_to_avg_24h"])  # no history: unknown, not 'infinitely unusual'
    f = _row(event_time="not a time")
    assert math.isnan(f["hour_of_day"]) and math.isnan(f["is_night"]) and math.isnan(f["day_of_week"])


def test_unknown_categories_get_their_own_code_instead_of_raising() -> None:
    assert _row(merchant_category="lottery")["merchant_category"] == UNKNOWN_CATEGORY_CODE
    assert _row(merchant_category=["not", "a", "string"])["merchant_category"] == UNKNOWN_CATEGORY_CODE
    assert math.isnan(_row(merchant_category=None)["merchant_category"])
    assert _row(merchant_category="crypto_exchange")["merchant_category"] == MERCHANT_CATEGORIES.index(
        "crypto_exchange")
    assert category_name(UNKNOWN_CATEGORY_CODE) == "<unknown>" and category_name(float("nan")) == "null"


def test_categorical_indices_point_at_the_categorical_columns() -> None:
    assert [FEATURE_NAMES[i] for i in CATEGORICAL_INDICES] == list(CATEGORICAL_FEATURES) == ["merchant_category"]


def test_simulated_records_featurize_consistently_with_the_batch_columns() -> None:
    batch = simulate(5_000, seed=2, scenario="nulls")
    x = build_features(batch.records())
    col = {name: x[:, i] for i, name in enumerate(FEATURE_NAMES)}
    np.testing.assert_array_equal(col["amount"], batch.amount)
    np.testing.assert_array_equal(col["distance_from_home_km"], batch.distance_km)  # NaN where null
    np.testing.assert_array_equal(col["merchant_category"], batch.category_code)
    np.testing.assert_array_equal(col["hour_of_day"], (batch.event_ms // 3_600_000) % 24)
    np.testing.assert_array_equal(epoch_ms([r["event_time"] for r in batch.records()[:10]]), batch.event_ms[:10])


def test_no_records_gives_an_empty_matrix_with_every_column() -> None:
    assert build_features([]).shape == (0, len(FEATURE_NAMES))

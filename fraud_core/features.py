"""The one feature implementation: training, evaluation and online scoring all call ``build_features``.

Training/serving skew usually comes from two copies of the feature code drifting apart, so there
is one copy, and model artifacts record ``FEATURE_NAMES`` so a loader can refuse a mismatch.

Input records are wire-format transactions (see ``fraud_core.schema``). Columns are extracted once
and computed with numpy, so 200k records featurize in well under a second. Nulls become NaN, which
HistGradientBoosting routes to its learned missing-value branch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from fraud_core.schema import MERCHANT_CATEGORIES

FEATURE_NAMES: Final = (
    "amount",
    "log_amount",
    "hour_of_day",
    "is_night",
    "day_of_week",
    "card_present",
    "distance_from_home_km",
    "customer_txn_count_1h",
    "customer_txn_count_24h",
    "customer_amount_sum_24h",
    "amount_to_avg_24h",
    "merchant_category",
)
CATEGORICAL_FEATURES: Final = ("merchant_category",)
# Column indices, the form HistGradientBoostingClassifier(categorical_features=...) takes for arrays.
CATEGORICAL_INDICES: Final = tuple(FEATURE_NAMES.index(n) for n in CATEGORICAL_FEATURES)

CATEGORY_CODES: Final[Mapping[str, int]] = {c: i for i, c in enumerate(MERCHANT_CATEGORIES)}
# Any category the schema does not know gets this code instead of raising, so evaluating (or
# scoring) data with a category never seen in training degrades gracefully.
UNKNOWN_CATEGORY_CODE: Final = len(MERCHANT_CATEGORIES)
UNKNOWN_CATEGORY: Final = "<unknown>"

NIGHT_HOURS: Final = (0, 6)  # [start, end) UTC: legit traffic sleeps, compromised cards do not
_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday; Monday = 0


def category_name(code: float) -> str:
    """Inverse of the merchant_category code (NaN -> 'null'), for reports and baselines."""
    if code != code:
        return "null"
    code = int(code)
    return MERCHANT_CATEGORIES[code] if 0 <= code < len(MERCHANT_CATEGORIES) else UNKNOWN_CATEGORY


def epoch_ms(values: Sequence[Any]) -> np.ndarray:
    """ISO-8601 UTC strings ('...Z') -> float epoch milliseconds; None or unparseable -> NaN.

    Parses the whole column with numpy datetime64 (fast path); only when some value is bad does it
    fall back to one value at a time so the bad ones become NaN instead of failing the column.
    """
    stripped = [v[:-1] if isinstance(v, str) and v.endswith("Z") else v for v in values]
    try:
        parsed = np.array(stripped, dtype="datetime64[ms]")
    except (ValueError, TypeError):
        parsed = np.array([_one_datetime(v) for v in stripped], dtype="datetime64[ms]")
    out = parsed.astype(np.int64).astype(np.float64)
    out[np.isnat(parsed)] = np.nan
    return out


def _one_datetime(value: Any) -> np.datetime64:
    if not isinstance(value, str):
        return np.datetime64("NaT", "ms")
    try:
        return np.datetime64(value, "ms")
    except ValueError:
        return np.datetime64("NaT", "ms")


def _column(records: Sequence[Mapping[str, Any]], name: str) -> np.ndarray:
    # float dtype turns None into NaN and True/False into 1/0 in one C-level conversion.
    try:
        return np.array([r.get(name) for r in records], dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([_as_float(r.get(name)) for r in records], dtype=np.float64)


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def category_codes(values: Sequence[Any]) -> np.ndarray:
    """merchant_category strings -> float codes; None -> NaN, unknown strings -> UNKNOWN_CATEGORY_CODE."""
    codes = CATEGORY_CODES
    unknown = UNKNOWN_CATEGORY_CODE
    return np.array([np.nan if v is None else codes.get(v, unknown) if isinstance(v, str) else unknown
                     for v in values], dtype=np.float64)


def build_features(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Feature matrix (len(records) x len(FEATURE_NAMES), float64) in ``FEATURE_NAMES`` order."""
    n = len(records)
    if n == 0:
        return np.empty((0, len(FEATURE_NAMES)))
    amount = _column(records, "amount")
    t = epoch_ms([r.get("event_time") for r in records])
    count_24h = _column(records, "customer_txn_count_24h")
    sum_24h = _column(records, "customer_amount_sum_24h")

    hour = np.floor(t / _HOUR_MS) % 24
    day_of_week = (np.floor(t / _DAY_MS) + _EPOCH_WEEKDAY) % 7
    is_night = np.where(np.isnan(hour), np.nan, (hour >= NIGHT_HOURS[0]) & (hour < NIGHT_HOURS[1]))
    # Amount relative to the customer's recent average: undefined without history (NaN), rather
    # than a made-up average that would look like a real, very small one.
    avg_24h = sum_24h / np.maximum(count_24h, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((count_24h > 0) & (avg_24h > 0), amount / avg_24h, np.nan)
        log_amount = np.log1p(np.where(amount >= 0, amount, np.nan))

    columns = {
        "amount": amount,
        "log_amount": log_amount,
        "hour_of_day": hour,
        "is_night": is_night,
        "day_of_week": day_of_week,
        "card_present": _column(records, "card_present"),
        "distance_from_home_km": _column(records, "distance_from_home_km"),
        "customer_txn_count_1h": _column(records, "customer_txn_count_1h"),
        "customer_txn_count_24h": count_24h,
        "customer_amount_sum_24h": sum_24h,
        "amount_to_avg_24h": ratio,
        "merchant_category": category_codes([r.get("merchant_category") for r in records]),
    }
    return np.column_stack([columns[name] for name in FEATURE_NAMES])

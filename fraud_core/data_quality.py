"""Data-quality checks on a window of feature rows, apart from drift.

Drift asks whether traffic changed; these ask whether a window is fit to learn from at all, whatever the
model. A failed check refuses the window: no model is trained on it, and the reason names the field, the rule
and what was observed.

Units: a producer that starts sending amounts in cents (the simulator's ``units_break``) leaves every record
valid, so the schema cannot see it, and a model trained on it can still clear the PR-AUC floor. It shows
inside each record, though: the customer's 24-hour aggregates are computed upstream in dollars, so
``amount_to_avg_24h`` (this amount over the customer's recent average) sits near 1 on healthy data (median
0.83 over a month of simulated traffic) and near 100 when amounts are in cents. The check needs no champion
and no baseline, so it protects the first model too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from fraud_core.drift_report import DriftReport
from fraud_core.features import FEATURE_NAMES, category_name

# The median ratio of an amount to the customer's own 24-hour average must lie within this band: a factor of
# 10 either way is far outside what spending varies by (simulated month: 10th..90th percentile 0.24..2.7),
# and a units change is a factor of 100 (cents) or 1,000.
UNITS_RATIO_BAND: Final = (0.1, 10.0)
MIN_ROWS_WITH_HISTORY: Final = 100  # below this, a median says little: the check abstains

_RATIO = FEATURE_NAMES.index("amount_to_avg_24h")
_HISTORY = FEATURE_NAMES.index("customer_txn_count_24h")


@dataclass(frozen=True, slots=True)
class Violation:
    check: str
    field: str
    rule: str
    observed: str

    def message(self) -> str:
        return f"{self.check}: {self.field}: {self.rule} (observed {self.observed})"


def units_violations(features: np.ndarray) -> list[Violation]:
    """The units check over a feature matrix in ``FEATURE_NAMES`` order; [] when it passes or abstains."""
    ratio, history = features[:, _RATIO], features[:, _HISTORY]
    usable = ratio[(history > 0) & np.isfinite(ratio)]
    if usable.size < MIN_ROWS_WITH_HISTORY:
        return []
    median = float(np.median(usable))
    low, high = UNITS_RATIO_BAND
    if low <= median <= high:
        return []
    hint = "amounts in cents instead of dollars?" if median > high else "amounts in thousands of dollars?"
    return [Violation(
        "units", "amount",
        f"the median ratio of an amount to the customer's 24-hour average amount (amount_to_avg_24h, computed "
        f"upstream in dollars) must be within {low:g}x..{high:g}x; {hint}",
        f"{median:.3g}x over {usable.size:,} transactions with 24-hour history")]


def window_violations(features: np.ndarray, champion_baseline: Mapping[str, Any] | None = None,
                      limits: ServingLimits | None = None) -> list[Violation]:
    """Every data-quality check that refuses a training window: units always, and against the current champion's
    training baseline (when there is one) the same null-rate and new-category checks as served traffic gets."""
    found = units_violations(features)
    if champion_baseline is not None:
        found += baseline_violations(features, champion_baseline, limits or ServingLimits(), "the champion's")
    return found


@dataclass(frozen=True, slots=True)
class ServingLimits:
    """How far a window's nulls and new categories may stray from a model's training baseline."""

    max_null_rate_increase: float = 0.05  # absolute: 0.05 = five more rows in a hundred arrive without the field
    max_unseen_share: float = 0.05  # traffic in categories the model never saw in training


def baseline_violations(features: np.ndarray, baseline: Mapping[str, Any], limits: ServingLimits,
                        whose: str = "the training") -> list[Violation]:
    """Null rates and unseen-category shares of a feature matrix against a baseline (fraud_core.baseline)."""
    found = []
    for j, name in enumerate(FEATURE_NAMES):
        column = features[:, j]
        null_rate = float(np.isnan(column).mean()) if column.size else 0.0
        section = baseline.get("categorical", {}).get(name) or baseline.get("numeric", {}).get(name) or {}
        before = float(section.get("null_rate") or 0.0)
        if null_rate - before > limits.max_null_rate_increase:
            found.append(Violation(
                "nulls", name, f"the null rate may rise at most {limits.max_null_rate_increase:g} above {whose} "
                f"baseline's {before:.3f}", f"{null_rate:.3f} over {column.size:,} rows"))
        if name in baseline.get("categorical", {}):
            known = column[~np.isnan(column)]
            seen = set(baseline["categorical"][name]["frequencies"])
            codes, counts = np.unique(known, return_counts=True)  # name each category once, not each row
            new = sum(c for v, c in zip(codes.tolist(), counts.tolist(), strict=True) if category_name(v) not in seen)
            unseen = new / known.size if known.size else 0.0
            if unseen > limits.max_unseen_share:
                found.append(Violation(
                    "unseen_categories", name, f"at most {limits.max_unseen_share:g} of the rows may be in categories "
                    f"{whose} model never saw in training", f"{unseen:.3f}"))
    return found


def serving_violations(features: np.ndarray, report: DriftReport, baseline: Mapping[str, Any],
                       limits: ServingLimits) -> list[Violation]:
    """Data quality of a served window against the serving model's baseline: units, null rates, new categories.

    Judged only on a window large enough for the drift verdict (below it, the report says insufficient data).
    """
    if report.verdict == "insufficient_data":
        return []
    return units_violations(features) + baseline_violations(features, baseline, limits)

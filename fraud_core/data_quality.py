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
from fraud_core.features import FEATURE_NAMES

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


def window_violations(features: np.ndarray) -> list[Violation]:
    """Every data-quality check that refuses a training window."""
    return units_violations(features)


@dataclass(frozen=True, slots=True)
class ServingLimits:
    """How far a served window's nulls and new categories may stray from the serving model's baseline."""

    max_null_rate_increase: float = 0.05  # absolute: 0.05 = five more rows in a hundred arrive without the field
    max_unseen_share: float = 0.05  # traffic in categories the model never saw in training


def serving_violations(features: np.ndarray, report: DriftReport, baseline: Mapping[str, Any],
                       limits: ServingLimits) -> list[Violation]:
    """Data quality of a served window against the serving model's baseline: units, null rates, new categories.

    Judged only on a window large enough for the drift verdict (below it, the report says insufficient data).
    """
    if report.verdict == "insufficient_data":
        return []
    found = units_violations(features)
    sections = {**baseline.get("numeric", {}), **baseline.get("categorical", {})}
    for f in report.features:
        before = float(sections.get(f.feature, {}).get("null_rate") or 0.0)
        if f.null_rate - before > limits.max_null_rate_increase:
            found.append(Violation(
                "nulls", f.feature, f"the null rate may rise at most {limits.max_null_rate_increase:g} above the "
                f"training baseline's {before:.3f}", f"{f.null_rate:.3f} over {report.rows:,} rows"))
        if f.unseen_share is not None and f.unseen_share > limits.max_unseen_share:
            found.append(Violation(
                "unseen_categories", f.feature, f"at most {limits.max_unseen_share:g} of the traffic may be in "
                "categories the model never saw in training", f"{f.unseen_share:.3f}"))
    return found

"""Why one transaction scored what it did: occlusion against the training baseline.

Method ("occlusion", one feature at a time): score the transaction's feature row as it is, then once per
feature with only that feature replaced by its *baseline value*, the typical training value from the
model's own ``baseline.json`` (``fraud_core.baseline``): the median for a numeric feature, the most frequent
category for a categorical one. A feature's ``score_delta`` is ``score - score with that feature at its
baseline``: positive when its actual value pushed the score up. Features are ranked by ``|score_delta|``.
All rows are scored in one call of the model's own ``predict_proba_features``, so the explanation uses
exactly the scoring path (calibration offset included) and works for any model the artifact can hold.

The baseline stores no median as such; it is recovered from the inner decile edges: the largest edge with
at most half of the training values below it, which is the 0.5 quantile itself (exact for continuous
features, the majority value for 0/1 ones). A feature null in more than half of the training rows has a
null baseline (missing is what is typical), and so has one the baseline has no values for.

Limits, so an explanation is read for what it is:

- one-at-a-time: interactions are not attributed, and the deltas do not add up to
  ``score - baseline_score`` (the score of the all-baseline row, reported alongside);
- redundant features share or hide credit: ``amount``, ``log_amount`` and ``amount_to_avg_24h`` carry
  the same signal, and a tree that split on one of them gives the others a delta of 0 even though the
  transaction's amount mattered; replacing one alone can also build a row no real transaction has;
- deltas are in probability, so near 0 or 1 the sigmoid compresses them: a small delta on a very high score
  can still be a large change in log-odds;
- the reference is one typical transaction; "what drove the score" means "compared with a typical one".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np

from fraud_core.features import (
    CATEGORICAL_FEATURES,
    CATEGORY_CODES,
    FEATURE_NAMES,
    UNKNOWN_CATEGORY_CODE,
    build_features,
    category_name,
)
from fraud_core.model_artifact import LoadedModel

METHOD: Final = "occlusion"
DEFAULT_TOP_K: Final = 5
_EPS: Final = 1e-9  # float slack when finding the decile edge that is the median


def _numeric_median(stats: Mapping[str, Any]) -> float:
    """The training median from a numeric baseline section (inner quantile edges and bin shares)."""
    edges = np.asarray(stats.get("bin_edges") or [], dtype=np.float64)
    shares = np.asarray(stats.get("proportions") or [], dtype=np.float64)
    if edges.size == 0 or shares.size != edges.size + 1 or float(stats.get("null_rate") or 0.0) > 0.5:
        return math.nan
    below = np.cumsum(shares)[:-1]  # below[j]: share of training values < edges[j] (bin k is [e[k-1], e[k]))
    at_most_half = np.flatnonzero(below <= 0.5 + _EPS)
    return float(edges[at_most_half[-1]] if at_most_half.size else edges[0])


def _categorical_mode(stats: Mapping[str, Any]) -> float:
    frequencies: Mapping[str, float] = stats.get("frequencies") or {}
    if not frequencies or float(stats.get("null_rate") or 0.0) > 0.5:
        return math.nan
    mode = max(frequencies, key=lambda c: frequencies[c])
    return float(CATEGORY_CODES.get(mode, UNKNOWN_CATEGORY_CODE))


def baseline_row(baseline: Mapping[str, Any]) -> np.ndarray:
    """The typical training transaction as a feature row (``FEATURE_NAMES`` order; NaN where null is typical)."""
    if list(baseline.get("feature_names", [])) != list(FEATURE_NAMES):
        raise ValueError("baseline.feature_names: must equal FEATURE_NAMES (a baseline of another feature set)")
    row = []
    for name in FEATURE_NAMES:
        if name in CATEGORICAL_FEATURES:
            row.append(_categorical_mode((baseline.get("categorical") or {}).get(name) or {}))
        else:
            row.append(_numeric_median((baseline.get("numeric") or {}).get(name) or {}))
    return np.array(row, dtype=np.float64)


def _shown(name: str, value: float) -> float | str | None:
    """A feature value as a reader wants it: a category's name, None for null (JSON has no NaN)."""
    if name in CATEGORICAL_FEATURES:
        return None if value != value else category_name(value)
    return None if not math.isfinite(value) else float(value)


@dataclass(frozen=True, slots=True)
class Contribution:
    feature: str
    value: float | str | None  # the transaction's value (category name for a categorical feature)
    baseline_value: float | str | None  # what it was replaced with
    score_delta: float  # score - score with this feature at its baseline value


@dataclass(frozen=True, slots=True)
class Explanation:
    transaction_id: str
    score: float
    threshold: float
    baseline_score: float  # every feature at its baseline value
    contributions: list[Contribution] = field(default_factory=list)  # top-k by |score_delta|, largest first
    method: str = METHOD

    @property
    def flagged(self) -> bool:
        return self.score >= self.threshold

    def reason(self) -> str:
        """One line, e.g. 'score 0.91 >= threshold 0.40, driven by distance_from_home_km=950 (+0.62 vs 3.1)'."""
        top = ", ".join(f"{c.feature}={_text(c.value)} ({c.score_delta:+.2g} vs {_text(c.baseline_value)})"
                        for c in self.contributions[:3])
        sign = ">=" if self.flagged else "<"
        return f"{self.transaction_id}: score {self.score:.4g} {sign} threshold {self.threshold:.4g}" + \
            (f", driven by {top}" if top else "")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flagged": self.flagged, "reason": self.reason()}


def _text(value: float | str | None) -> str:
    return "null" if value is None else value if isinstance(value, str) else f"{value:.4g}"


def explain(transaction_id: str, features: Any, model: LoadedModel, top_k: int = DEFAULT_TOP_K) -> Explanation:
    """The ``top_k`` features that moved one transaction's score most, by occlusion (see the module docstring).

    ``features`` is the transaction's row of ``build_features`` (shape (n_features,) or (1, n_features));
    ``model`` a ``LoadedModel`` whose ``baseline`` gives the replacement values.
    """
    row = np.asarray(features, dtype=np.float64)
    if row.ndim == 2 and row.shape[0] == 1:
        row = row[0]
    if row.shape != (len(FEATURE_NAMES),):
        raise ValueError(f"features: must be one row of {len(FEATURE_NAMES)} values in FEATURE_NAMES order"
                         f" (got shape {np.shape(features)})")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k: must be an integer >= 1 (got {top_k!r})")
    reference = baseline_row(model.baseline)
    # Row 0: the transaction; row j+1: feature j at its baseline value; last row: every feature at baseline.
    rows = np.vstack([row, np.tile(row, (len(FEATURE_NAMES), 1)), reference])
    rows[np.arange(1, len(FEATURE_NAMES) + 1), np.arange(len(FEATURE_NAMES))] = reference
    scores = model.predict_proba_features(rows)
    deltas = scores[0] - scores[1:-1]
    order = sorted(range(len(FEATURE_NAMES)), key=lambda j: (-abs(deltas[j]), j))  # ties: FEATURE_NAMES order
    contributions = [Contribution(FEATURE_NAMES[j], _shown(FEATURE_NAMES[j], row[j]),
                                  _shown(FEATURE_NAMES[j], reference[j]), float(deltas[j])) for j in order[:top_k]]
    return Explanation(transaction_id, float(scores[0]), model.threshold, float(scores[-1]), contributions)


def explain_record(record: Mapping[str, Any], model: LoadedModel, top_k: int = DEFAULT_TOP_K) -> Explanation:
    """``explain`` for one wire-format transaction, featurized with the code training uses."""
    return explain(str(record.get("transaction_id", "")), build_features([record])[0], model, top_k)

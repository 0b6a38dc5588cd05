"""Drift baseline: the training window's feature and score distributions, as JSON.

The drift job compares captured traffic with this document, so it stores exactly what PSI, KS
summaries and null-rate alarms need: per numeric feature the inner quantile bin edges
(``fraud_core.drift.quantile_bin_edges``) and the share of training rows in each bin, with the
same bin convention as ``fraud_core.drift`` (bin k holds [edge[k-1], edge[k]); outer bins are
open-ended); per categorical feature the category shares; null rates kept apart from both.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from fraud_core.drift import _proportions, quantile_bin_edges
from fraud_core.features import CATEGORICAL_FEATURES, FEATURE_NAMES, category_name

BASELINE_VERSION: Final = 1
DEFAULT_BINS: Final = 10


def _numeric_stats(values: np.ndarray, n_bins: int) -> dict[str, Any]:
    finite = values[~np.isnan(values)]
    null_rate = float(1.0 - finite.size / values.size)
    if finite.size == 0:
        return {"bin_edges": [], "proportions": [], "null_rate": null_rate, "mean": None, "std": None,
                "min": None, "max": None}
    edges = quantile_bin_edges(finite, n_bins)
    return {
        "bin_edges": edges.tolist(),
        "proportions": _proportions(finite, edges).tolist(),
        "null_rate": null_rate,
        "mean": float(finite.mean()),
        "std": float(finite.std()),
        "min": float(finite.min()),
        "max": float(finite.max()),
    }


def _categorical_stats(codes: np.ndarray) -> dict[str, Any]:
    known = codes[~np.isnan(codes)]
    values, counts = np.unique(known, return_counts=True)
    return {
        "frequencies": {category_name(v): float(c / known.size) for v, c in zip(values, counts, strict=True)},
        "null_rate": float(1.0 - known.size / codes.size),
    }


def score_baseline(scores: Any, n_bins: int = DEFAULT_BINS) -> dict[str, Any]:
    """Prediction-score distribution (for prediction drift): quantile bins like a numeric feature."""
    arr = np.asarray(scores, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError("scores: must not be empty")
    stats = _numeric_stats(arr, n_bins)
    stats["count"] = int(arr.size)
    return stats


def build_baseline(features: np.ndarray, *, scores: Any = None, n_bins: int = DEFAULT_BINS,
                   window: dict[str, Any] | None = None) -> dict[str, Any]:
    """Baseline document for a feature matrix in ``FEATURE_NAMES`` column order.

    ``scores`` (the model's training-window predictions) adds the ``prediction`` section;
    ``window`` (e.g. start/end times) is recorded as provenance.
    """
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(FEATURE_NAMES):
        raise ValueError(f"features: must be a 2-D array with {len(FEATURE_NAMES)} columns in FEATURE_NAMES order"
                         f" (got shape {x.shape})")
    if x.shape[0] == 0:
        raise ValueError("features: needs at least one row")
    numeric, categorical = {}, {}
    for j, name in enumerate(FEATURE_NAMES):
        if name in CATEGORICAL_FEATURES:
            categorical[name] = _categorical_stats(x[:, j])
        else:
            numeric[name] = _numeric_stats(x[:, j], n_bins)
    return {
        "version": BASELINE_VERSION,
        "rows": int(x.shape[0]),
        "window": window or {},
        "feature_names": list(FEATURE_NAMES),
        "numeric": numeric,
        "categorical": categorical,
        "prediction": None if scores is None else score_baseline(scores, n_bins),
    }

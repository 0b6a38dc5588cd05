"""Drift statistics: PSI (numeric and categorical), two-sample KS, null rate. Pure numpy.

Nulls (None/NaN) are dropped before PSI and KS and measured separately by ``null_rate``: a
feature going null is a data-quality incident with its own alarm, and folding it into PSI would
make the two indistinguishable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from typing import Any, Final

import numpy as np

# Label under which categorical_psi pools every category the reference never saw; pooling keeps
# the score bounded when garbage values each appear once.
UNSEEN_CATEGORY: Final = "<unseen>"


def _finite(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()  # None becomes NaN here
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        raise ValueError(f"{name}: needs at least one non-null value")
    return arr


def null_rate(values: Any) -> float:
    """Share of values that are None or NaN (0.0 for an empty input)."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return float(np.isnan(values).mean()) if values.size else 0.0
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    if not items:
        return 0.0
    return sum(v is None or (isinstance(v, float) and v != v) for v in items) / len(items)


def quantile_bin_edges(reference: Any, n_bins: int = 10) -> np.ndarray:
    """Inner bin edges at the reference's 1/n_bins .. (n_bins-1)/n_bins quantiles, deduplicated.

    The outer bins are open-ended (values below the first edge or above the last still count),
    so a shifted current sample piles into them instead of falling out. Ties in the reference
    (e.g. a count feature that is mostly 0) collapse edges, giving fewer, wider bins.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 2:
        raise ValueError(f"n_bins: must be an integer >= 2 (got {n_bins!r})")
    ref = _finite(reference, "reference")
    return np.unique(np.quantile(ref, np.arange(1, n_bins) / n_bins))


def _proportions(values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    # Bin k holds [edge[k-1], edge[k]); bin 0 is (-inf, edge[0]) and the last is [edge[-1], inf).
    idx = np.searchsorted(inner_edges, values, side="right")
    return np.bincount(idx, minlength=len(inner_edges) + 1) / values.size


def _psi_from_proportions(ref: np.ndarray, cur: np.ndarray, eps: float) -> float:
    # Clipping to eps keeps an empty bin on either side finite; it caps, not removes, its weight.
    ref = np.maximum(ref, eps)
    cur = np.maximum(cur, eps)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def psi(reference: Any, current: Any, n_bins: int = 10, eps: float = 1e-4,
        edges: np.ndarray | None = None) -> float:
    """Population stability index of ``current`` against ``reference``.

    Bins come from reference quantiles (``quantile_bin_edges``) unless inner ``edges`` are given.
    Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 significant shift.
    """
    ref = _finite(reference, "reference")
    cur = _finite(current, "current")
    if not eps > 0:
        raise ValueError(f"eps: must be > 0 (got {eps!r})")
    inner = quantile_bin_edges(ref, n_bins) if edges is None else np.asarray(edges, dtype=np.float64)
    return _psi_from_proportions(_proportions(ref, inner), _proportions(cur, inner), eps)


def ks_statistic(reference: Any, current: Any) -> float:
    """Two-sample Kolmogorov-Smirnov D = max |F_ref(x) - F_cur(x)| (nulls dropped).

    Both empirical CDFs only step at sample points, so evaluating them at every point of both
    samples (via searchsorted into the sorted samples) gives the exact supremum in O(n log n).
    """
    ref = np.sort(_finite(reference, "reference"))
    cur = np.sort(_finite(current, "current"))
    points = np.concatenate([ref, cur])
    cdf_ref = np.searchsorted(ref, points, side="right") / ref.size
    cdf_cur = np.searchsorted(cur, points, side="right") / cur.size
    return float(np.max(np.abs(cdf_ref - cdf_cur)))


def _category_counts(labels: Iterable[Hashable | None]) -> tuple[Counter[Hashable], int]:
    items = labels.tolist() if isinstance(labels, np.ndarray) else labels
    counts = Counter(v for v in items if v is not None and not (isinstance(v, float) and v != v))
    return counts, sum(counts.values())


def categorical_psi(reference_labels: Iterable[Hashable | None], current_labels: Iterable[Hashable | None],
                    eps: float = 1e-4) -> float:
    """PSI over category shares (nulls dropped). One bucket per reference category, plus one
    pooled ``UNSEEN_CATEGORY`` bucket for everything the reference never saw, so a new
    category (or a flood of junk values) scores as drift."""
    ref_counts, ref_total = _category_counts(reference_labels)
    cur_counts, cur_total = _category_counts(current_labels)
    if ref_total == 0:
        raise ValueError("reference_labels: needs at least one non-null value")
    if cur_total == 0:
        raise ValueError("current_labels: needs at least one non-null value")
    cats = list(ref_counts)
    ref = np.array([ref_counts[c] for c in cats] + [0]) / ref_total
    seen = np.array([cur_counts.get(c, 0) for c in cats])
    cur = np.append(seen, cur_total - seen.sum()) / cur_total
    return _psi_from_proportions(ref, cur, eps)

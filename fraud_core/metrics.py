"""Binary-classification metrics for an imbalanced problem, in numpy only.

numpy rather than sklearn.metrics so the same code runs where sklearn is too heavy to ship (the
model-quality Lambda). ``pr_auc`` and ``roc_auc`` equal sklearn's ``average_precision_score`` and
``roc_auc_score`` (tests hold them to it). Every function validates its inputs and names the
argument and the rule it broke.

Convention: a transaction is flagged as fraud when its score is >= the threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


def _check(y: Any, p: Any, *, need_positive: str | None = None, need_negative: str | None = None,
           ) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y)
    p_arr = np.asarray(p, dtype=np.float64)
    if y_arr.ndim != 1 or p_arr.ndim != 1:
        raise ValueError("y, p: must be one-dimensional arrays")
    if y_arr.size == 0:
        raise ValueError("y: must not be empty")
    if y_arr.size != p_arr.size:
        raise ValueError(f"p: must have the same length as y (got {p_arr.size} scores for {y_arr.size} labels)")
    if not np.isin(y_arr, (0, 1)).all():
        raise ValueError("y: labels must be 0 or 1")
    if not np.isfinite(p_arr).all():
        raise ValueError("p: scores must be finite numbers (no NaN or infinity)")
    y_arr = y_arr.astype(np.int8)
    if need_positive and not y_arr.any():
        raise ValueError(f"y: needs at least one positive label (fraud) to compute {need_positive}")
    if need_negative and y_arr.all():
        raise ValueError(f"y: needs at least one negative label (legit) to compute {need_negative}")
    return y_arr, p_arr


def _curve(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct thresholds descending, true positives, false positives) flagged at each threshold."""
    order = np.argsort(-p, kind="mergesort")
    p_sorted, y_sorted = p[order], y[order]
    # Last index of each run of tied scores: a threshold flags a whole tie group or none of it.
    last = np.r_[np.flatnonzero(np.diff(p_sorted)), y_sorted.size - 1]
    tps = np.cumsum(y_sorted, dtype=np.int64)[last]
    fps = (last + 1) - tps
    return p_sorted[last], tps, fps


def pr_auc(y: Any, p: Any) -> float:
    """Average precision: sum over thresholds of (recall step) x precision, as sklearn computes it.

    The primary metric for fraud: unlike ROC-AUC it is dominated by how clean the top of the
    ranking is, which is what investigators see. A random model scores the base rate.
    """
    y_arr, p_arr = _check(y, p, need_positive="PR-AUC")
    _, tps, fps = _curve(y_arr, p_arr)
    precision = tps / (tps + fps)
    recall_step = np.diff(np.r_[0, tps]) / tps[-1]
    return float(np.sum(recall_step * precision))


def roc_auc(y: Any, p: Any) -> float:
    """Area under the ROC curve (trapezoidal over distinct thresholds, so ties count one half)."""
    y_arr, p_arr = _check(y, p, need_positive="ROC-AUC", need_negative="ROC-AUC")
    _, tps, fps = _curve(y_arr, p_arr)
    tpr = np.r_[0, tps] / tps[-1]
    fpr = np.r_[0, fps] / fps[-1]
    # Trapezoids written out (not np.trapezoid) so this runs on numpy 1.x in SageMaker's images.
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """Confusion counts and rates at one threshold. Precision is 0.0 when nothing is flagged."""

    threshold: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    tn: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def precision_recall_at(y: Any, p: Any, threshold: float) -> OperatingPoint:
    """Precision, recall, F1 and the confusion matrix when flagging every score >= ``threshold``."""
    y_arr, p_arr = _check(y, p, need_positive="recall")
    if not np.isfinite(threshold):
        raise ValueError(f"threshold: must be a finite number (got {threshold!r})")
    flagged = p_arr >= threshold
    tp = int(np.count_nonzero(flagged & (y_arr == 1)))
    fp = int(np.count_nonzero(flagged)) - tp
    fn = int(np.count_nonzero(y_arr)) - tp
    tn = y_arr.size - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return OperatingPoint(float(threshold), precision, recall, f1, tp, fp, fn, tn)


def _check_costs(cost_fn: float, cost_fp: float) -> None:
    for name, value in (("cost_fn", cost_fn), ("cost_fp", cost_fp)):
        if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
            raise ValueError(f"{name}: must be a finite number > 0 (got {value!r})")


def expected_cost(y: Any, p: Any, threshold: float, cost_fn: float, cost_fp: float) -> float:
    """Average cost per transaction, (cost_fn * FN + cost_fp * FP) / n, at ``threshold``."""
    _check_costs(cost_fn, cost_fp)
    op = precision_recall_at(y, p, threshold)
    return (cost_fn * op.fn + cost_fp * op.fp) / (op.tp + op.fp + op.fn + op.tn)


def cost_optimal_threshold(y: Any, p: Any, cost_fn: float, cost_fp: float) -> tuple[float, float]:
    """The threshold minimising cost_fn * FN + cost_fp * FP, and that minimum as cost per transaction.

    Every distinct score is a candidate (one sort, then cumulative counts), plus 'flag nothing'.
    The returned threshold sits halfway between the chosen score and the next lower one: it flags
    exactly the same rows here, and is less brittle on new data than a value equal to one score.
    """
    _check_costs(cost_fn, cost_fp)
    y_arr, p_arr = _check(y, p, need_positive="a cost-optimal threshold")
    scores, tps, fps = _curve(y_arr, p_arr)
    positives = tps[-1]
    costs = np.r_[cost_fn * positives, cost_fn * (positives - tps) + cost_fp * fps]
    best = int(np.argmin(costs))  # ties go to the fewest flags (the higher threshold)
    if best == 0:  # flagging nothing is cheapest: threshold just above the top score
        threshold = float(np.nextafter(scores[0], np.inf))
    else:
        k = best - 1
        lower = scores[k + 1] if k + 1 < scores.size else scores[k]
        threshold = float((scores[k] + lower) / 2) if lower < scores[k] else float(scores[k])
    return threshold, float(costs[best] / y_arr.size)


def brier(y: Any, p: Any) -> float:
    """Mean squared error of the probability: lower is better; needs probabilities in [0, 1]."""
    y_arr, p_arr = _check(y, p)
    _check_probabilities(p_arr)
    return float(np.mean((p_arr - y_arr) ** 2))


def _check_probabilities(p: np.ndarray) -> None:
    if p.min() < 0 or p.max() > 1:
        raise ValueError("p: must be probabilities in [0, 1]")


def _check_bins(n_bins: int) -> None:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins: must be an integer >= 1 (got {n_bins!r})")


def reliability_table(y: Any, p: Any, n_bins: int = 10) -> list[dict[str, Any]]:
    """Equal-width probability bins: count, mean predicted probability and observed fraud rate.

    A calibrated model has mean_predicted close to observed_rate in every populated bin. Empty
    bins are kept (count 0, means None) so tables from different runs line up row by row.
    """
    y_arr, p_arr = _check(y, p)
    _check_probabilities(p_arr)
    _check_bins(n_bins)
    idx = np.minimum((p_arr * n_bins).astype(np.int64), n_bins - 1)  # p == 1.0 joins the top bin
    count = np.bincount(idx, minlength=n_bins)
    sum_p = np.bincount(idx, weights=p_arr, minlength=n_bins)
    sum_y = np.bincount(idx, weights=y_arr, minlength=n_bins)
    rows = []
    for k in range(n_bins):
        c = int(count[k])
        rows.append({
            "bin_lo": k / n_bins,
            "bin_hi": (k + 1) / n_bins,
            "count": c,
            "mean_predicted": float(sum_p[k] / c) if c else None,
            "observed_rate": float(sum_y[k] / c) if c else None,
        })
    return rows


def expected_calibration_error(y: Any, p: Any, n_bins: int = 10) -> float:
    """Count-weighted mean |mean_predicted - observed_rate| over the reliability table's bins."""
    table = reliability_table(y, p, n_bins)
    n = sum(r["count"] for r in table)
    return float(sum(r["count"] * abs(r["mean_predicted"] - r["observed_rate"]) for r in table if r["count"]) / n)

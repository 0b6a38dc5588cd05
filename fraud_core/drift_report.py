"""Drift verdict: a window of served feature rows against the serving model's training baseline.

The verdict rests on effect sizes with a minimum sample size, never on p-values: at tens of thousands of
rows a p-value flags differences nobody should act on. Per numeric feature it uses two effect sizes
computed on the baseline's own quantile bins (``fraud_core.baseline``):

- PSI, which weighs every bin, so it sees changes in spread and shape, not only in the mean;
- binned KS, the largest gap between the two cumulative bin distributions (the two-sample KS statistic
  evaluated at the bin edges, a lower bound of the exact one, which would need the training rows).

Per categorical feature, PSI over category shares with every category the baseline never saw pooled into
one bucket, and that bucket's share reported as ``unseen_share``. The model's score gets the same numeric
treatment when the baseline has a ``prediction`` section. Nulls are left to data quality (their rates are
reported, not folded into PSI).

Thresholds (the ADR gives the reasoning): PSI >= 0.2 is the conventional "significant shift" (0.1-0.25
moderate, > 0.25 large); binned KS >= 0.15 means some threshold on the feature moved 15% of the traffic
across it. On simulated data the baseline scenario's largest values over a week of 5,000 rows are 0.025
(PSI) and 0.051 (KS), and covariate_shift's amount reaches 0.36 and 0.25.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final

import numpy as np

from fraud_core.drift import _proportions, _psi_from_proportions
from fraud_core.features import FEATURE_NAMES, category_name

# Calendar features describe when a window was taken, not what traffic looks like: a 24-hour window has one
# day of the week whatever happens, so they are reported but never judged.
CALENDAR_FEATURES: Final = ("hour_of_day", "is_night", "day_of_week")
PSI_ALARM: Final = 0.2
KS_ALARM: Final = 0.15
MIN_ROWS: Final = 500  # below this the verdict is "insufficient data", never "stable"
_EPS: Final = 1e-4


@dataclass(frozen=True, slots=True)
class DriftThresholds:
    """When a feature counts as drifted; each profile sets its own (fraud_core.config), these are the defaults."""

    psi: float = PSI_ALARM
    ks: float = KS_ALARM
    min_rows: int = MIN_ROWS

    def __post_init__(self) -> None:
        for name, value, lo, hi in (("psi", self.psi, 0.0, 10.0), ("ks", self.ks, 0.0, 1.0),
                                    ("min_rows", self.min_rows, 1, 10**9)):
            if not lo < value <= hi:
                raise ValueError(f"drift thresholds: {name} must be in ({lo:g}, {hi:g}] (got {value!r})")


DEFAULT_THRESHOLDS: Final = DriftThresholds()


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    feature: str
    psi: float
    ks: float | None  # None for categorical features
    rows: int
    null_rate: float
    unseen_share: float | None = None  # categorical only: traffic in categories the baseline never saw
    drifted: bool = False


@dataclass(frozen=True, slots=True)
class DriftReport:
    rows: int
    features: list[FeatureDrift] = field(default_factory=list)
    prediction: FeatureDrift | None = None
    thresholds: DriftThresholds = DEFAULT_THRESHOLDS

    @property
    def drifted(self) -> list[str]:
        return [f.feature for f in self.judged() if f.drifted]

    @property
    def verdict(self) -> str:
        """"drift", "stable" or "insufficient_data"."""
        if self.rows < self.thresholds.min_rows:
            return "insufficient_data"
        return "drift" if self.drifted else "stable"

    def judged(self) -> list[FeatureDrift]:
        """Every feature but the calendar ones, then the model's score when the baseline had one."""
        traffic = [f for f in self.features if f.feature not in CALENDAR_FEATURES]
        return [*traffic, *([self.prediction] if self.prediction else [])]

    def reason(self) -> str:
        limits = self.thresholds
        if self.verdict == "insufficient_data":
            return f"insufficient data: {self.rows:,} rows < {limits.min_rows:,}"
        if self.verdict == "stable":
            return f"stable: no feature reached PSI {limits.psi:g} or KS {limits.ks:g} over {self.rows:,} rows"
        worst = [f for f in self.judged() if f.drifted]
        return "drift: " + "; ".join(
            f"{f.feature} PSI {f.psi:.3f}" + ("" if f.ks is None else f", KS {f.ks:.3f}") for f in worst)

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, **asdict(self), "drifted": self.drifted, "reason": self.reason()}


def numeric_drift(name: str, stats: Mapping[str, Any], column: np.ndarray,
                  limits: DriftThresholds = DEFAULT_THRESHOLDS) -> FeatureDrift:
    """PSI and binned KS of one numeric column against its baseline section (bin_edges, proportions)."""
    finite = column[np.isfinite(column)]
    null_rate = 1.0 - finite.size / column.size if column.size else 0.0
    edges, ref = np.asarray(stats["bin_edges"], dtype=np.float64), np.asarray(stats["proportions"])
    if finite.size == 0 or ref.size == 0:
        return FeatureDrift(name, 0.0, 0.0, int(finite.size), null_rate)
    cur = _proportions(finite, edges)
    psi = _psi_from_proportions(ref, cur, _EPS)
    ks = float(np.max(np.abs(np.cumsum(ref) - np.cumsum(cur))))
    return FeatureDrift(name, psi, ks, int(finite.size), null_rate,
                        drifted=finite.size >= limits.min_rows and (psi >= limits.psi or ks >= limits.ks))


def _categorical(name: str, stats: Mapping[str, Any], column: np.ndarray, limits: DriftThresholds) -> FeatureDrift:
    known = column[~np.isnan(column)]
    null_rate = 1.0 - known.size / column.size if column.size else 0.0
    reference: Mapping[str, float] = stats["frequencies"]
    if known.size == 0:
        return FeatureDrift(name, 0.0, None, 0, null_rate, 0.0)
    values, counts = np.unique(known, return_counts=True)
    shares = {category_name(v): c / known.size for v, c in zip(values.tolist(), counts.tolist(), strict=True)}
    cats = list(reference)
    unseen = float(sum(s for c, s in shares.items() if c not in reference))
    ref = np.append([reference[c] for c in cats], 0.0)
    cur = np.append([shares.get(c, 0.0) for c in cats], unseen)
    psi = _psi_from_proportions(ref, cur, _EPS)
    return FeatureDrift(name, psi, None, int(known.size), null_rate, unseen,
                        drifted=known.size >= limits.min_rows and psi >= limits.psi)


def drift_report(baseline: Mapping[str, Any], features: np.ndarray, scores: Any = None,
                 limits: DriftThresholds = DEFAULT_THRESHOLDS) -> DriftReport:
    """Compare a feature matrix (``FEATURE_NAMES`` order) and optionally its scores with ``baseline``."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(FEATURE_NAMES):
        raise ValueError(f"features: must be a 2-D array with {len(FEATURE_NAMES)} columns in FEATURE_NAMES order"
                         f" (got shape {x.shape})")
    if list(baseline.get("feature_names", [])) != list(FEATURE_NAMES):
        raise ValueError("baseline.feature_names: must equal FEATURE_NAMES (a baseline of another feature set)")
    per_feature = []
    for j, name in enumerate(FEATURE_NAMES):
        if name in baseline["categorical"]:
            per_feature.append(_categorical(name, baseline["categorical"][name], x[:, j], limits))
        elif name in CALENDAR_FEATURES:
            per_feature.append(replace(numeric_drift(name, baseline["numeric"][name], x[:, j], limits), drifted=False))
        else:
            per_feature.append(numeric_drift(name, baseline["numeric"][name], x[:, j], limits))
    prediction = None
    if scores is not None and baseline.get("prediction"):
        prediction = numeric_drift("prediction", baseline["prediction"], np.asarray(scores, dtype=np.float64).ravel(),
                                   limits)
    return DriftReport(int(x.shape[0]), per_feature, prediction, limits)

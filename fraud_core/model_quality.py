"""Model quality on matured labels: did the serving model keep what its evaluation promised?

The streaming scorer writes one decision per transaction (``fraud_core.scoring``); chargebacks and
confirmations arrive days to weeks later (``fraud_core.simulator``). This module joins the two and measures
the model where it operates, overall and by slice, against the numbers in the ``evaluation.json`` it was
registered with (``sagemaker_jobs.evaluate``: the ``candidate`` section).

Label maturity, the same rule training uses (``sagemaker_jobs.preprocess``):

- a label counts only if it was available by ``as_of`` (``label_available_time <= as_of``; the latest such
  label of a transaction wins), so a re-run with the same ``as_of`` sees the same labels;
- a decision whose event time is at or after the cutoff ``as_of - label_maturity_days`` is *immature*:
  excluded and counted. Why: frauds are labelled within days, legit transactions only when the chargeback
  window closes, so the recent days hold labelled frauds and unlabelled legit ones; joining them would give
  a fraud-enriched sample where flagged legit transactions are missing, so precision and the fraud rate
  would look higher than they are.
- a mature decision without a label yet is counted (``without_label``) and left out, never taken as legit.

Metrics (``fraud_core.metrics``), per window and per slice: precision and recall of the decisions actually
made (``decision == "review"`` is a flag; it is ``score >= threshold`` at the serving model's threshold),
PR-AUC of the scores, cost ``cost_false_negative * FN + cost_false_positive * FP`` (total and per decision)
and the fraud rate. A metric that is undefined is ``None``, never 0 or NaN: precision when nothing was
flagged, recall and PR-AUC without a labelled fraud.

Slices need the transaction's fields, which decisions do not carry: they come from the raw transactions,
joined by transaction_id. Dimensions: ``merchant_category``, ``card_present`` (``true``/``false``),
``amount_band`` (``AMOUNT_BANDS``) and ``model_version`` (so a canary's variant shows apart from the
champion). A decision whose transaction was not found lands in slice ``unknown`` of every transaction
dimension, so each dimension's slices add up to the window.

Verdict, on the whole window only (the evaluation promised no per-slice numbers):

- ``insufficient_labels`` below ``min_frauds`` labelled frauds (default ``MIN_FRAUDS``): never judge on a
  handful; recall over 10 frauds moves 0.1 per fraud;
- ``regressed`` when recall, precision or PR-AUC is below ``promised - tolerance``;
- ``stable`` otherwise.

The tolerance is absolute (metrics are in [0, 1]). It absorbs window-to-window noise only at a few hundred
labelled frauds: the standard error of a recall of 0.7 is 0.026 over 300 frauds but 0.084 over 30, so each
check reports ``std_error`` (binomial; none for PR-AUC) for the reader to weigh a small window's verdict.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Final

import numpy as np

from fraud_core import metrics
from fraud_core.features import epoch_ms
from fraud_core.schema import RECORD_FIELD, RECORD_RULE

# Amount bands in dollars, [low, high): the card-testing charges (< 20), everyday spend, large purchases and
# the high-amount tail where compromised-card fraud concentrates (fraud_core.simulator).
AMOUNT_BANDS: Final = (
    (0.0, 20.0, "<20"),
    (20.0, 100.0, "20-100"),
    (100.0, 500.0, "100-500"),
    (500.0, math.inf, ">=500"),
)
TRANSACTION_DIMENSIONS: Final = ("merchant_category", "card_present", "amount_band")
SLICE_DIMENSIONS: Final = (*TRANSACTION_DIMENSIONS, "model_version")
UNKNOWN: Final = "unknown"  # slice of a decision whose transaction (or the field) is missing

JUDGED_METRICS: Final = ("recall", "precision", "pr_auc")  # order breaks ties when naming the worst
MIN_FRAUDS: Final = 30  # labelled frauds in the window below which there is no verdict
# Support a slice needs to be named as the weakest: frauds for recall and PR-AUC, flags for precision.
MIN_SLICE_SUPPORT: Final = 10
DEFAULT_TOLERANCE: Final = 0.05
DECISIONS: Final = ("review", "approve")
DAY_MS: Final = 86_400_000

_METRIC_LABELS: Final = {"recall": "recall", "precision": "precision", "pr_auc": "PR-AUC"}
_EPS: Final = 1e-9  # float slack, so a metric exactly at promised - tolerance is not a regression


def maturity_cutoff_ms(as_of_ms: float, label_maturity_days: float) -> float:
    """Event times at or after this are immature: ``as_of - label_maturity_days``, as training cuts its window."""
    return as_of_ms - label_maturity_days * DAY_MS


# --- input records -----------------------------------------------------------------------------------------


@dataclass
class InputCounts:
    """Records of one input: read, unusable (by 'field: rule'), and why the usable ones were left out."""

    read: int = 0
    invalid: int = 0
    invalid_by_rule: Counter[str] = field(default_factory=Counter)

    def reject(self, problems: Sequence[tuple[str, str]]) -> None:
        self.invalid += 1
        self.invalid_by_rule.update(f"{f}: {r}" for f, r in problems)

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "invalid": self.invalid, "invalid_by_rule": dict(self.invalid_by_rule.most_common())}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _id_problem(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    tid = record.get("transaction_id")
    return [] if isinstance(tid, str) and tid else [("transaction_id", "must be a non-empty string")]


def decision_problems(record: Any) -> list[tuple[str, str]]:
    """(field, rule) for everything that stops ``record`` being a decision (event_time is checked when parsed)."""
    if not isinstance(record, dict):
        return [(RECORD_FIELD, RECORD_RULE)]
    problems = _id_problem(record)
    if not isinstance(record.get("event_time"), str):
        problems.append(("event_time", "must be an ISO-8601 UTC timestamp"))
    if not _is_number(record.get("score")):
        problems.append(("score", "must be a finite number"))
    if record.get("decision") not in DECISIONS:
        problems.append(("decision", "must be 'review' or 'approve'"))
    return problems


def label_problems(record: Any) -> list[tuple[str, str]]:
    """(field, rule) for everything that stops ``record`` being a label (times are checked when parsed)."""
    if not isinstance(record, dict):
        return [(RECORD_FIELD, RECORD_RULE)]
    problems = _id_problem(record)
    if record.get("is_fraud") not in (0, 1):  # also accepts true/false, as preprocess does
        problems.append(("is_fraud", "must be 0 or 1"))
    if not isinstance(record.get("label_available_time"), str):
        problems.append(("label_available_time", "must be an ISO-8601 UTC timestamp"))
    return problems


def _parsed_times(records: list[dict[str, Any]], name: str, counts: InputCounts) -> tuple[list[dict[str, Any]],
                                                                                          np.ndarray]:
    """Records whose ``name`` parses (one vectorized parse), and those times in epoch ms; the rest rejected."""
    t = epoch_ms([r[name] for r in records]) if records else np.empty(0)
    bad = np.isnan(t)
    for _ in range(int(bad.sum())):
        counts.reject([(name, "must be an ISO-8601 UTC timestamp")])
    keep = np.flatnonzero(~bad)
    return [records[i] for i in keep.tolist()], t[keep]


@dataclass
class LabelSet:
    """transaction_id -> is_fraud for labels available by as_of, and how many arrived later."""

    labels: dict[str, int]
    counts: InputCounts
    not_yet_available: int


def matured_labels(labels: Iterable[Any], as_of_ms: float) -> LabelSet:
    """Labels available by ``as_of_ms``; of several for one transaction the latest available wins (a
    confirmation may be overturned by a late chargeback), exactly as preprocess reads them for training."""
    counts = InputCounts()
    valid: list[dict[str, Any]] = []
    for record in labels:
        counts.read += 1
        problems = label_problems(record)
        if problems:
            counts.reject(problems)
        else:
            valid.append(record)
    valid, available = _parsed_times(valid, "label_available_time", counts)
    usable = available <= as_of_ms
    out: dict[str, int] = {}
    for i in np.flatnonzero(usable)[np.argsort(available[usable], kind="stable")].tolist():
        out[valid[i]["transaction_id"]] = int(valid[i]["is_fraud"])
    return LabelSet(out, counts, int((~usable).sum()))


@dataclass
class _Decisions:
    """The usable decisions, one per transaction (the first one read wins), as columns."""

    ids: list[str]
    event_ms: np.ndarray
    score: np.ndarray
    flagged: np.ndarray
    model_version: list[str]
    threshold: np.ndarray  # NaN where the decision did not record one
    counts: InputCounts
    duplicates: int


def _read_decisions(records: Iterable[Any]) -> _Decisions:
    # Kinesis delivers at least once, so a transaction sent twice is scored twice: keep the first decision read.
    counts = InputCounts()
    valid: list[dict[str, Any]] = []
    seen: set[str] = set()
    duplicates = 0
    for record in records:
        counts.read += 1
        problems = decision_problems(record)
        if problems:
            counts.reject(problems)
        elif record["transaction_id"] in seen:
            duplicates += 1
        else:
            seen.add(record["transaction_id"])
            valid.append(record)
    valid, t = _parsed_times(valid, "event_time", counts)
    return _Decisions(
        ids=[r["transaction_id"] for r in valid], event_ms=t,
        score=np.array([float(r["score"]) for r in valid], dtype=np.float64),
        flagged=np.array([r["decision"] == "review" for r in valid], dtype=bool),
        model_version=[str(r.get("model_version") or UNKNOWN) for r in valid],
        threshold=np.array([float(r["threshold"]) if _is_number(r.get("threshold")) else np.nan for r in valid],
                           dtype=np.float64),
        counts=counts, duplicates=duplicates)


def amount_band(amount: Any) -> str:
    """The ``AMOUNT_BANDS`` label of an amount in dollars; ``unknown`` when it is not a number >= 0."""
    if not _is_number(amount) or amount < 0:
        return UNKNOWN
    return next(label for lo, hi, label in AMOUNT_BANDS if lo <= amount < hi)


def transaction_slices(transaction: Mapping[str, Any] | None) -> dict[str, str]:
    """The slice values of one transaction in every transaction dimension (``unknown`` when absent)."""
    if transaction is None:
        return dict.fromkeys(TRANSACTION_DIMENSIONS, UNKNOWN)
    category = transaction.get("merchant_category")
    present = transaction.get("card_present")
    return {
        "merchant_category": category if isinstance(category, str) and category else UNKNOWN,
        "card_present": ("true" if present else "false") if isinstance(present, bool) else UNKNOWN,
        "amount_band": amount_band(transaction.get("amount")),
    }


# --- metrics -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SliceQuality:
    """Quality of the decisions in one slice (dimension ``all`` is the whole window); None = undefined."""

    dimension: str
    value: str
    rows: int
    frauds: int
    flagged: int
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    pr_auc: float | None
    fraud_rate: float | None
    total_cost: float
    cost_per_decision: float | None

    def support(self, metric: str) -> int:
        """How many rows a metric rests on: flags for precision, labelled frauds for recall and PR-AUC."""
        return self.flagged if metric == "precision" else self.frauds


def slice_quality(dimension: str, value: str, y: np.ndarray, score: np.ndarray, flagged: np.ndarray,
                  cost_false_negative: float, cost_false_positive: float) -> SliceQuality:
    """Metrics of one slice: labels ``y`` (0/1), ``score`` and ``flagged`` (the decision was 'review')."""
    rows, frauds, n_flagged = int(y.size), int(y.sum()), int(flagged.sum())
    recall = pr_auc = None
    if frauds:
        # The decisions are the operating point: flags as scores 0/1 at threshold 0.5 count exactly them.
        op = metrics.precision_recall_at(y, flagged.astype(np.float64), 0.5)
        tp, fp, fn, tn, recall = op.tp, op.fp, op.fn, op.tn, op.recall
        pr_auc = metrics.pr_auc(y, score)
    else:  # no fraud: every flag is a false positive, recall and PR-AUC are undefined
        tp, fp, fn, tn = 0, n_flagged, 0, rows - n_flagged
    total = cost_false_negative * fn + cost_false_positive * fp
    return SliceQuality(
        dimension, value, rows, frauds, n_flagged, tp, fp, fn, tn,
        precision=tp / n_flagged if n_flagged else None, recall=recall, pr_auc=pr_auc,
        fraud_rate=frauds / rows if rows else None, total_cost=float(total),
        cost_per_decision=total / rows if rows else None)


@dataclass(frozen=True, slots=True)
class MetricCheck:
    """One metric of the window against what the evaluation promised."""

    metric: str
    observed: float | None
    promised: float | None
    tolerance: float
    std_error: float | None  # binomial standard error of the observed value (None for PR-AUC)
    regressed: bool

    @property
    def margin(self) -> float | None:
        """observed - (promised - tolerance): negative when regressed; None when it cannot be judged."""
        if self.observed is None or self.promised is None:
            return None
        return self.observed - (self.promised - self.tolerance)


def _std_error(metric: str, overall: SliceQuality) -> float | None:
    value, n = getattr(overall, metric), overall.support(metric)
    if metric == "pr_auc" or value is None or not n:
        return None
    return math.sqrt(value * (1 - value) / n)


def _check(metric: str, overall: SliceQuality, promised: Mapping[str, float | None], tolerance: float,
           ) -> MetricCheck:
    observed, target = getattr(overall, metric), promised.get(metric)
    regressed = observed is not None and target is not None and observed < target - tolerance - _EPS
    return MetricCheck(metric, observed, target, tolerance, _std_error(metric, overall), regressed)


# --- what was promised ---------------------------------------------------------------------------------------


def promised_metrics(evaluation: Mapping[str, Any]) -> dict[str, float | None]:
    """Precision, recall, PR-AUC, threshold and cost per decision the model was registered with.

    Reads ``evaluation.json``'s ``candidate`` section (the registered model), falling back to the registry's
    ``metrics.binary_classification_metrics`` shape. Raises ValueError naming the field when a value is not a
    number in [0, 1], or when none of the judged metrics is there.
    """
    if not isinstance(evaluation, Mapping):
        raise ValueError("evaluation: must be a JSON object (evaluation.json written by the evaluate job)")
    candidate = evaluation.get("candidate")
    section = evaluation.get("metrics")
    registry = section.get("binary_classification_metrics") if isinstance(section, Mapping) else None
    registry = registry if isinstance(registry, Mapping) else {}
    out: dict[str, float | None] = {}
    for metric in (*JUDGED_METRICS, "threshold", "expected_cost"):
        if isinstance(candidate, Mapping) and metric in candidate:
            where, value = f"evaluation.candidate.{metric}", candidate[metric]
        elif isinstance(registry.get(metric), Mapping):
            where = f"evaluation.metrics.binary_classification_metrics.{metric}.value"
            value = registry[metric].get("value")
        else:
            out[metric] = None
            continue
        bounded = metric != "expected_cost"
        if not _is_number(value) or value < 0 or (bounded and value > 1):
            rule = "a number between 0 and 1" if bounded else "a number >= 0"
            raise ValueError(f"{where}: must be {rule} (got {value!r})")
        out[metric] = float(value)
    if all(out[m] is None for m in JUDGED_METRICS):
        raise ValueError("evaluation.candidate: has none of precision, recall, pr_auc (is this the evaluate job's"
                         " evaluation.json?)")
    return out


# --- the report --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """Where every decision went: excluded (and why) or joined with a matured label."""

    decisions: InputCounts
    duplicate_decisions: int
    other_model_excluded: int  # decisions of another model_version than the one judged
    immature_excluded: int  # event time at or after the maturity cutoff
    without_label: int  # mature, but no label available by as_of
    joined: int
    without_transaction: int  # joined, but no raw transaction: slice 'unknown'
    labels: InputCounts
    labels_usable: int
    labels_not_yet_available: int
    transactions: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "decisions": self.decisions.as_dict(), "duplicate_decisions": self.duplicate_decisions,
            "other_model_excluded": self.other_model_excluded, "immature_excluded": self.immature_excluded,
            "without_label": self.without_label, "joined": self.joined,
            "without_transaction": self.without_transaction,
            "labels": {**self.labels.as_dict(), "usable": self.labels_usable,
                       "not_yet_available": self.labels_not_yet_available},
            "transactions": self.transactions,
        }


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


@dataclass(frozen=True, slots=True)
class QualityReport:
    as_of: str
    maturity_cutoff: str
    label_maturity_days: float
    window_start: str | None  # event times of the joined decisions
    window_end: str | None
    model_version: str | None  # the model judged; None: every model in the decisions
    counts: WindowCounts
    overall: SliceQuality
    slices: list[SliceQuality]
    checks: list[MetricCheck]
    promised: dict[str, float | None]
    costs: dict[str, float]
    tolerance: float
    min_frauds: int
    warnings: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """"regressed", "stable" or "insufficient_labels"."""
        if self.overall.frauds < self.min_frauds:
            return "insufficient_labels"
        return "regressed" if any(c.regressed for c in self.checks) else "stable"

    @property
    def regressed_metrics(self) -> list[str]:
        return [c.metric for c in self.checks if c.regressed] if self.verdict != "insufficient_labels" else []

    def worst_check(self) -> MetricCheck | None:
        """The judged metric furthest below (or closest to) promised - tolerance."""
        judged = [c for c in self.checks if c.margin is not None]
        return min(judged, key=lambda c: c.margin or 0.0) if judged else None

    def worst_slice(self, metric: str) -> SliceQuality | None:
        """The slice with the lowest ``metric`` among those with at least MIN_SLICE_SUPPORT rows behind it."""
        eligible = [s for s in self.slices if getattr(s, metric) is not None and s.support(metric) >= MIN_SLICE_SUPPORT]
        return min(eligible, key=lambda s: getattr(s, metric)) if eligible else None

    def reason(self) -> str:
        """One line: the verdict, the worst metric against its promise and the weakest slice on it."""
        o, c = self.overall, self.counts
        if self.verdict == "insufficient_labels":
            return (f"insufficient labels: {o.frauds:,} labelled frauds < {self.min_frauds:,} among {o.rows:,} matured"
                    f" decisions ({c.immature_excluded:,} immature excluded, {c.without_label:,} without a label"
                    " yet); no verdict")
        worst = self.worst_check()
        if worst is None:  # unreachable with a promised evaluation: promised_metrics insists on one
            return f"stable: nothing promised to compare with over {o.frauds:,} labelled frauds"
        checks = [worst, *(x for x in self.checks if x is not worst and x.margin is not None)]
        if self.verdict == "regressed":
            parts = [f"{_METRIC_LABELS[x.metric]} {_fmt(x.observed)} < promised {_fmt(x.promised)} - tolerance"
                     f" {self.tolerance:g}" for x in checks if x.regressed]
            head = "regressed: " + "; ".join(parts)
        else:
            parts = [f"{_METRIC_LABELS[x.metric]} {_fmt(x.observed)} (promised {_fmt(x.promised)})" for x in checks]
            head = "stable: " + ", ".join(parts) + f" within tolerance {self.tolerance:g}"
        text = f"{head} over {o.rows:,} decisions with {o.frauds:,} labelled frauds"
        weakest = self.worst_slice(worst.metric)
        if weakest is not None:
            text += (f"; weakest slice {weakest.dimension}={weakest.value}: {_METRIC_LABELS[worst.metric]}"
                     f" {_fmt(getattr(weakest, worst.metric))} ({weakest.support(worst.metric):,}"
                     f" {'flags' if worst.metric == 'precision' else 'frauds'})")
        return text

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe (no NaN or infinity: json.dumps(..., allow_nan=False) accepts it)."""
        doc = {
            "verdict": self.verdict, "reason": self.reason(), "regressed_metrics": self.regressed_metrics,
            "as_of": self.as_of, "maturity_cutoff": self.maturity_cutoff,
            "label_maturity_days": self.label_maturity_days,
            "window": {"start": self.window_start, "end": self.window_end}, "model_version": self.model_version,
            "tolerance": self.tolerance, "min_frauds": self.min_frauds, "min_slice_support": MIN_SLICE_SUPPORT,
            "costs": self.costs, "promised": self.promised, "counts": self.counts.as_dict(),
            "overall": asdict(self.overall),
            "checks": [{**asdict(c), "margin": c.margin} for c in self.checks],
            "slices": {d: [asdict(s) for s in self.slices if s.dimension == d] for d in SLICE_DIMENSIONS},
            "amount_bands": [{"band": label, "min": lo, "max": None if math.isinf(hi) else hi}
                             for lo, hi, label in AMOUNT_BANDS],
            "warnings": self.warnings,
        }
        return _json_safe(doc)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _iso(ms: float) -> str:
    moment = datetime.fromtimestamp(ms / 1000, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _check_settings(as_of: datetime, label_maturity_days: float, cost_false_negative: float,
                    cost_false_positive: float, tolerance: float, min_frauds: int) -> None:
    if not isinstance(as_of, datetime) or as_of.tzinfo is None:
        raise ValueError(f"as_of: must be a timezone-aware datetime (got {as_of!r})")
    if not _is_number(label_maturity_days) or label_maturity_days < 0:
        raise ValueError(f"label_maturity_days: must be a number >= 0 (got {label_maturity_days!r})")
    for name, value in (("cost_false_negative", cost_false_negative), ("cost_false_positive", cost_false_positive)):
        if not _is_number(value) or value <= 0:
            raise ValueError(f"{name}: must be a finite number > 0 (got {value!r})")
    if not _is_number(tolerance) or not 0 <= tolerance <= 1:
        raise ValueError(f"tolerance: must be a number between 0 and 1 (got {tolerance!r})")
    if isinstance(min_frauds, bool) or not isinstance(min_frauds, int) or min_frauds < 1:
        raise ValueError(f"min_frauds: must be an integer >= 1 (got {min_frauds!r})")


def _slices(values: Sequence[str], dimension: str, y: np.ndarray, score: np.ndarray, flagged: np.ndarray,
            costs: tuple[float, float]) -> list[SliceQuality]:
    column = np.asarray(values, dtype=object)
    return [slice_quality(dimension, v, y[column == v], score[column == v], flagged[column == v], *costs)
            for v in sorted(set(values))]


def _warnings(d: _Decisions, keep: np.ndarray, promised: Mapping[str, float | None],
              model_version: str | None) -> list[str]:
    out = []
    threshold = promised.get("threshold")
    used = np.unique(d.threshold[keep][~np.isnan(d.threshold[keep])])
    if threshold is not None and (np.abs(used - threshold) > 1e-9).any():
        shown = ", ".join(f"{t:.6g}" for t in used[:5].tolist())
        out.append(f"decisions were made at threshold {shown} but the evaluation promised its precision and recall"
                   f" at {threshold:.6g}: another model or a changed threshold, so they may not be comparable")
    versions = sorted({d.model_version[i] for i in np.flatnonzero(keep).tolist()})
    if model_version is None and len(versions) > 1:
        out.append(f"decisions of {len(versions)} model versions ({', '.join(versions[:5])}) are judged together"
                   " against one evaluation; see slices.model_version, or judge one model_version at a time")
    return out


def quality_report(decisions: Iterable[Any], labels: Iterable[Any], transactions: Iterable[Mapping[str, Any]], *,
                   evaluation: Mapping[str, Any], as_of: datetime, label_maturity_days: float,
                   cost_false_negative: float, cost_false_positive: float, tolerance: float = DEFAULT_TOLERANCE,
                   min_frauds: int = MIN_FRAUDS, model_version: str | None = None) -> QualityReport:
    """Judge the decisions of a window against matured labels and the evaluation they were promised.

    ``decisions``: decision records (``fraud_core.scoring.decisions``); ``labels``: label records
    (transaction_id, is_fraud, label_available_time); ``transactions``: raw transactions, for slices;
    ``evaluation``: the model's evaluation.json; ``model_version``: judge only that model's decisions.
    Records that are not decisions or labels are counted by rule, not fatal. Raises ValueError naming the
    argument for bad settings or an evaluation without promised metrics.
    """
    _check_settings(as_of, label_maturity_days, cost_false_negative, cost_false_positive, tolerance, min_frauds)
    promised = promised_metrics(evaluation)
    as_of_ms = as_of.timestamp() * 1000
    cutoff_ms = maturity_cutoff_ms(as_of_ms, label_maturity_days)
    d = _read_decisions(decisions)
    label_set = matured_labels(labels, as_of_ms)
    by_id = {}
    for tx in transactions:
        by_id.setdefault(tx.get("transaction_id"), tx)  # first copy wins, as preprocess keeps it

    ids = np.asarray(d.ids, dtype=object)
    ours = np.array([model_version is None or v == model_version for v in d.model_version], dtype=bool)
    mature = d.event_ms < cutoff_ms
    labelled = np.array([i in label_set.labels for i in d.ids], dtype=bool)
    keep = ours & mature & labelled
    rows = np.flatnonzero(keep)
    y = np.array([label_set.labels[i] for i in ids[rows].tolist()], dtype=np.int8)
    score, flagged = d.score[rows], d.flagged[rows]
    costs = (float(cost_false_negative), float(cost_false_positive))

    found = [by_id.get(i) for i in ids[rows].tolist()]
    per_tx = [transaction_slices(tx) for tx in found]
    slices = [s for dim in TRANSACTION_DIMENSIONS for s in _slices([p[dim] for p in per_tx], dim, y, score, flagged,
                                                                   costs)]
    slices += _slices([d.model_version[i] for i in rows.tolist()], "model_version", y, score, flagged, costs)
    overall = slice_quality("all", "all", y, score, flagged, *costs)
    t = d.event_ms[rows]
    counts = WindowCounts(
        decisions=d.counts, duplicate_decisions=d.duplicates, other_model_excluded=int((~ours).sum()),
        immature_excluded=int((ours & ~mature).sum()), without_label=int((ours & mature & ~labelled).sum()),
        joined=int(rows.size), without_transaction=sum(tx is None for tx in found), labels=label_set.counts,
        labels_usable=len(label_set.labels), labels_not_yet_available=label_set.not_yet_available,
        transactions=len(by_id))
    return QualityReport(
        as_of=_iso(as_of_ms), maturity_cutoff=_iso(cutoff_ms), label_maturity_days=float(label_maturity_days),
        window_start=_iso(t.min()) if t.size else None, window_end=_iso(t.max()) if t.size else None,
        model_version=model_version, counts=counts, overall=overall, slices=slices,
        checks=[_check(m, overall, promised, tolerance) for m in JUDGED_METRICS], promised=promised,
        costs={"false_negative": costs[0], "false_positive": costs[1]}, tolerance=float(tolerance),
        min_frauds=min_frauds, warnings=_warnings(d, keep, promised, model_version))

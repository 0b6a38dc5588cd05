"""Model quality on matured labels: the maturity rule counted, metrics by hand, slices, and the verdict."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from fraud_core.model_quality import (
    AMOUNT_BANDS,
    MIN_FRAUDS,
    QualityReport,
    SliceQuality,
    amount_band,
    matured_labels,
    promised_metrics,
    quality_report,
)
from fraud_core.simulator import labels_as_of, simulate

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
MATURITY_DAYS = 10  # cutoff 2026-02-19T00:00Z
PROMISE = {"candidate": {"precision": 0.7, "recall": 0.7, "pr_auc": 0.8, "threshold": 0.5}}
COSTS = {"cost_false_negative": 150.0, "cost_false_positive": 5.0}


def _decision(tid: str, score: float, *, day: int = 10, model: str = "m1", threshold: float = 0.5) -> dict[str, Any]:
    return {"transaction_id": tid, "event_time": f"2026-02-{day:02d}T12:00:00.000Z", "score": score,
            "decision": "review" if score >= threshold else "approve", "threshold": threshold,
            "model_version": model, "variant": "primary", "scored_at": f"2026-02-{day:02d}T12:00:01.000Z"}


def _label(tid: str, is_fraud: int, available: str = "2026-02-20T00:00:00.000Z") -> dict[str, Any]:
    return {"transaction_id": tid, "event_time": "2026-02-10T12:00:00.000Z", "is_fraud": is_fraud,
            "label_available_time": available}


def _tx(tid: str, category: str, card_present: bool, amount: float) -> dict[str, Any]:
    return {"transaction_id": tid, "merchant_category": category, "card_present": card_present, "amount": amount}


# Joined: t1..t6. TP t1, t3; FP t2; FN t4; TN t5, t6. Ranked by score: F L F F L L.
DECISIONS = [
    _decision("t1", 0.9), _decision("t2", 0.8), _decision("t3", 0.7), _decision("t4", 0.4),
    _decision("t5", 0.3), _decision("t6", 0.2),
    _decision("t7", 0.6),  # its label arrives after as_of: without label
    _decision("t8", 0.95, day=25),  # after the maturity cutoff: immature, although already labelled
    _decision("t9", 0.1),  # never labelled: without label
    _decision("t1", 0.1),  # the stream delivered t1 twice: the first decision counts
    {"transaction_id": "bad", "event_time": "2026-02-10T12:00:00Z", "score": "high", "decision": "review"},
    {"transaction_id": "t10", "event_time": "not a time", "score": 0.5, "decision": "review"},
    "not an object",
]
LABELS = [
    _label("t1", 1), _label("t3", 1), _label("t4", 1), _label("t6", 0), _label("t8", 1),
    _label("t2", 1, "2026-02-20T00:00:00.000Z"), _label("t2", 0, "2026-02-25T00:00:00.000Z"),  # overturned: 0
    _label("t5", 0, "2026-02-20T00:00:00.000Z"), _label("t5", 1, "2026-03-05T00:00:00.000Z"),  # not yet: stays 0
    _label("t7", 0, "2026-03-02T00:00:00.000Z"),
    {"transaction_id": "t11", "is_fraud": "yes", "label_available_time": "2026-02-20T00:00:00.000Z"},
]
TRANSACTIONS = [
    _tx("t1", "online_retail", False, 750.0), _tx("t2", "grocery", True, 15.0),
    _tx("t3", "online_retail", False, 120.0), _tx("t4", "grocery", True, 20.0),
    _tx("t5", "grocery", True, 99.99),  # t6 has no transaction: slice 'unknown'
]


def _report(decisions: list = DECISIONS, labels: list = LABELS, transactions: list = TRANSACTIONS,
            **kwargs: Any) -> QualityReport:
    settings = {"evaluation": PROMISE, "as_of": AS_OF, "label_maturity_days": MATURITY_DAYS, **COSTS,
                "min_frauds": 1, **kwargs}
    return quality_report(decisions, labels, transactions, **settings)


def _slice(report: QualityReport, dimension: str, value: str) -> SliceQuality:
    return next(s for s in report.slices if (s.dimension, s.value) == (dimension, value))


def test_every_decision_is_joined_or_counted_where_it_went() -> None:
    c = _report().counts
    assert (c.decisions.read, c.decisions.invalid, c.duplicate_decisions) == (13, 3, 1)
    assert c.decisions.invalid_by_rule == {"score: must be a finite number": 1, "<record>: must be a JSON object": 1,
                                           "event_time: must be an ISO-8601 UTC timestamp": 1}
    assert (c.immature_excluded, c.without_label, c.joined, c.without_transaction) == (1, 2, 6, 1)
    assert (c.labels.read, c.labels.invalid, c.labels_usable, c.labels_not_yet_available) == (11, 1, 7, 2)


def test_window_metrics_match_the_hand_computed_values() -> None:
    report = _report()
    o = report.overall
    assert (o.rows, o.frauds, o.flagged, o.tp, o.fp, o.fn, o.tn) == (6, 3, 3, 2, 1, 1, 2)
    assert o.precision == pytest.approx(2 / 3) and o.recall == pytest.approx(2 / 3)
    assert o.pr_auc == pytest.approx((1 / 1 + 2 / 3 + 3 / 4) / 3)  # precision at each fraud's rank
    assert (o.total_cost, o.cost_per_decision, o.fraud_rate) == (155.0, pytest.approx(155 / 6), 0.5)
    assert (report.window_start, report.window_end) == ("2026-02-10T12:00:00.000Z", "2026-02-10T12:00:00.000Z")
    assert report.maturity_cutoff == "2026-02-19T00:00:00.000Z"


def test_the_same_metrics_by_slice_with_undefined_ones_as_none() -> None:
    report = _report()
    online, grocery = _slice(report, "merchant_category", "online_retail"), _slice(report, "merchant_category",
                                                                                    "grocery")
    assert (online.rows, online.frauds, online.precision, online.recall, online.pr_auc) == (2, 2, 1.0, 1.0, 1.0)
    assert (grocery.rows, grocery.frauds, grocery.tp, grocery.fp, grocery.fn) == (3, 1, 0, 1, 1)
    assert (grocery.precision, grocery.recall, grocery.total_cost) == (0.0, 0.0, 155.0)
    unknown = _slice(report, "merchant_category", "unknown")  # t6: no raw transaction
    assert (unknown.rows, unknown.frauds, unknown.precision, unknown.recall, unknown.pr_auc) == (1, 0, None, None, None)
    assert [s.value for s in report.slices if s.dimension == "card_present"] == ["false", "true", "unknown"]
    assert {s.value: s.rows for s in report.slices if s.dimension == "amount_band"} == {
        ">=500": 1, "<20": 1, "100-500": 1, "20-100": 2, "unknown": 1}
    for dimension in ("merchant_category", "card_present", "amount_band", "model_version"):
        assert sum(s.rows for s in report.slices if s.dimension == dimension) == report.overall.rows


def test_amount_bands_are_half_open_and_cover_every_amount() -> None:
    assert [amount_band(a) for a in (0.01, 19.99, 20.0, 99.99, 100.0, 499.99, 500.0, 1e5)] == [
        "<20", "<20", "20-100", "20-100", "100-500", "100-500", ">=500", ">=500"]
    assert [amount_band(a) for a in (None, "12", -1.0, float("nan"), True)] == ["unknown"] * 5
    assert [label for _, _, label in AMOUNT_BANDS] == ["<20", "20-100", "100-500", ">=500"]


def test_within_tolerance_is_stable_and_the_reason_names_the_weakest_slice() -> None:
    report = _report()  # recall 0.667 and precision 0.667 >= 0.7 - 0.05, PR-AUC 0.806 >= 0.8 - 0.05
    assert report.verdict == "stable" and report.regressed_metrics == []
    assert report.reason().startswith("stable: recall 0.667 (promised 0.700), precision 0.667 (promised 0.700),"
                                      " PR-AUC 0.806 (promised 0.800) within tolerance 0.05 over 6 decisions with"
                                      " 3 labelled frauds")
    assert "weakest slice" not in report.reason()  # no slice has MIN_SLICE_SUPPORT frauds to be named


def test_below_promise_minus_tolerance_is_regressed_naming_the_worst_metric() -> None:
    promise = {"candidate": {"precision": 0.7, "recall": 0.9, "pr_auc": 0.95, "threshold": 0.5}}
    report = _report(evaluation=promise)
    assert report.verdict == "regressed" and report.regressed_metrics == ["recall", "pr_auc"]
    assert report.worst_check().metric == "recall"  # 0.667 is 0.183 under 0.85; PR-AUC 0.094 under 0.9
    assert report.reason().startswith("regressed: recall 0.667 < promised 0.900 - tolerance 0.05; PR-AUC 0.806 <"
                                      " promised 0.950 - tolerance 0.05 over 6 decisions")


def test_a_handful_of_frauds_gets_no_verdict_whatever_the_metrics() -> None:
    promise = {"candidate": {"precision": 1.0, "recall": 1.0, "pr_auc": 1.0}}
    report = _report(evaluation=promise, min_frauds=MIN_FRAUDS)
    assert report.verdict == "insufficient_labels" and report.regressed_metrics == []
    assert report.reason() == ("insufficient labels: 3 labelled frauds < 30 among 6 matured decisions (1 immature"
                               " excluded, 2 without a label yet); no verdict")


def _window(n_fraud: int, n_legit: int, flag: bool) -> tuple[list[dict], list[dict], list[dict]]:
    """Scores rank every fraud above every legit one; `flag` decides whether the frauds were sent to review."""
    decisions, labels, transactions = [], [], []
    for i in range(n_fraud + n_legit):
        fraud = i < n_fraud
        score = (0.45 if fraud else 0.05) if not flag else (0.9 if fraud else 0.05)
        tid = f"w{i:04d}"
        decisions.append(_decision(tid, score, day=1 + i % 15))
        labels.append(_label(tid, int(fraud)))
        transactions.append(_tx(tid, "online_retail" if i % 2 else "grocery", bool(i % 3), 10.0 + i))
    return decisions, labels, transactions


def test_a_model_that_flags_nothing_is_regressed_in_recall() -> None:
    decisions, labels, transactions = _window(40, 400, flag=False)
    report = _report(decisions, labels, transactions, min_frauds=MIN_FRAUDS,
                     evaluation={"candidate": {"precision": 0.3, "recall": 0.7, "pr_auc": 0.5, "threshold": 0.5}})
    assert report.overall.flagged == 0 and report.overall.recall == 0.0
    assert report.overall.precision is None  # undefined with no flag, not a second failure
    assert report.overall.pr_auc == 1.0  # the ranking is fine, the operating point is not
    assert report.verdict == "regressed" and report.regressed_metrics == ["recall"]
    assert report.reason().startswith("regressed: recall 0.000 < promised 0.700 - tolerance 0.05 over 440 decisions"
                                      " with 40 labelled frauds; weakest slice ")
    assert report.overall.total_cost == 40 * 150.0


def test_the_same_window_flagging_the_frauds_is_stable() -> None:
    decisions, labels, transactions = _window(40, 400, flag=True)
    report = _report(decisions, labels, transactions, min_frauds=MIN_FRAUDS,
                     evaluation={"candidate": {"precision": 0.3, "recall": 0.7, "pr_auc": 0.5, "threshold": 0.5}})
    assert report.verdict == "stable" and (report.overall.recall, report.overall.precision) == (1.0, 1.0)
    assert "weakest slice" in report.reason()


def test_maturity_matches_the_simulator_labels_and_the_training_cutoff() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batch = simulate(3_000, seed=4, start=start, days=14)
    as_of, maturity = start + timedelta(days=37), 30
    decisions = [_decision(r["transaction_id"], 0.1) | {"event_time": r["event_time"]} for r in batch.records()]
    report = _report(decisions, batch.labels(), batch.records(), as_of=as_of, label_maturity_days=maturity)
    cutoff_ms = (as_of - timedelta(days=maturity)).timestamp() * 1000
    assert report.counts.immature_excluded == int((batch.event_ms >= cutoff_ms).sum())
    assert report.counts.labels_usable == len(labels_as_of(batch, as_of))
    # Every mature transaction's label (legit confirmed at 30 days, fraud sooner) is in by as_of.
    assert report.counts.without_label == 0 and report.counts.joined == int((batch.event_ms < cutoff_ms).sum())
    assert report.overall.frauds == int(batch.is_fraud[batch.event_ms < cutoff_ms].sum())


def test_latest_available_label_wins() -> None:
    as_of_ms = AS_OF.timestamp() * 1000
    labels = matured_labels(LABELS, as_of_ms)
    assert (labels.labels["t2"], labels.labels["t5"]) == (0, 0) and "t7" not in labels.labels
    assert labels.not_yet_available == 2


def test_one_model_version_is_judged_and_mismatches_are_warned() -> None:
    decisions = [*DECISIONS[:6], _decision("t12", 0.9, model="m2", threshold=0.3)]
    labels = [*LABELS, _label("t12", 1)]
    both = _report(decisions, labels)
    assert [s.value for s in both.slices if s.dimension == "model_version"] == ["m1", "m2"]
    assert any("threshold 0.3, 0.5" in w for w in both.warnings)
    assert any("2 model versions (m1, m2)" in w for w in both.warnings)
    one = _report(decisions, labels, model_version="m1")
    assert (one.counts.other_model_excluded, one.overall.rows, one.warnings) == (1, 6, [])


def test_the_report_is_json_without_nan_and_names_its_parts() -> None:
    doc = _report().as_dict()
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text)["verdict"] == "stable"
    assert set(doc) == {"verdict", "reason", "regressed_metrics", "as_of", "maturity_cutoff", "label_maturity_days",
                        "window", "model_version", "tolerance", "min_frauds", "min_slice_support", "costs",
                        "promised", "counts", "overall", "checks", "slices", "amount_bands", "warnings"}
    assert set(doc["slices"]) == {"merchant_category", "card_present", "amount_band", "model_version"}
    recall = doc["checks"][0]
    assert recall["metric"] == "recall" and recall["std_error"] == pytest.approx(np.sqrt(2 / 9 / 3))
    assert recall["margin"] == pytest.approx(2 / 3 - 0.65)


def test_an_empty_window_is_insufficient_not_an_error() -> None:
    report = _report([], [], [])
    assert report.verdict == "insufficient_labels" and report.overall.rows == 0
    assert report.overall.precision is None and report.window_start is None
    json.dumps(report.as_dict(), allow_nan=False)


def test_promised_metrics_come_from_the_candidate_or_the_registry_shape() -> None:
    assert promised_metrics(PROMISE) == {"recall": 0.7, "precision": 0.7, "pr_auc": 0.8, "threshold": 0.5,
                                         "expected_cost": None}
    registry = {"metrics": {"binary_classification_metrics": {"recall": {"value": 0.6}, "auc": {"value": 0.9}}}}
    assert promised_metrics(registry)["recall"] == 0.6
    with pytest.raises(ValueError, match=r"evaluation.candidate.recall: must be a number between 0 and 1"):
        promised_metrics({"candidate": {"recall": 1.7}})
    with pytest.raises(ValueError, match="has none of precision, recall, pr_auc"):
        promised_metrics({"candidate": {"roc_auc": 0.9}})


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("label_maturity_days", -1, "label_maturity_days: must be a number >= 0"),
    ("cost_false_negative", 0, "cost_false_negative: must be a finite number > 0"),
    ("tolerance", 2.0, "tolerance: must be a number between 0 and 1"),
    ("min_frauds", 0, "min_frauds: must be an integer >= 1"),
    ("as_of", datetime(2026, 3, 1), "as_of: must be a timezone-aware datetime"),
])
def test_bad_settings_are_named(setting: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _report(**{setting: value})

"""The simulator: reproducible, realistic enough to learn from, and every scenario measurable."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from fraud_core.drift import categorical_psi, ks_statistic, null_rate, psi
from fraud_core.schema import (
    NEW_MERCHANT_CATEGORY,
    TransactionValidationError,
    parse_transaction,
    validation_errors,
)
from fraud_core.simulator import (
    BASELINE_FRAUD_RATE_BAND,
    COVARIATE_AMOUNT_FACTOR,
    DAY_MS,
    FRAUD_PATTERNS,
    HOUR_MS,
    LABEL_CONFIRMATION_DAYS,
    LABEL_DELAY_CONFIRMATION_DAYS,
    NEW_CATEGORY_SHARE,
    NULL_SHARE,
    POISON_KINDS,
    SCENARIOS,
    TransactionBatch,
    labels_as_of,
    simulate,
)

N = 200_000
START = datetime(2026, 1, 1, tzinfo=UTC)
COLUMNS = ("event_time", "amount", "card_present", "distance_from_home_km", "customer_txn_count_1h",
           "customer_txn_count_24h", "customer_amount_sum_24h", "is_fraud", "label_available_ms")


@pytest.fixture(scope="module")
def base() -> TransactionBatch:
    return simulate(N, seed=1)


@pytest.fixture(scope="module")
def base_other_seed() -> TransactionBatch:
    return simulate(N, seed=2)


@pytest.fixture(scope="module")
def scenario_batches() -> dict[str, TransactionBatch]:
    return {s: simulate(N, seed=1, scenario=s) for s in SCENARIOS}


def _same(a: TransactionBatch, b: TransactionBatch) -> bool:
    return all(np.array_equal(a.column(c), b.column(c), equal_nan=c == "distance_from_home_km")
               for c in COLUMNS) and a.transaction_ids() == b.transaction_ids()


def _features(b: TransactionBatch) -> np.ndarray:
    hour = (b.event_ms // HOUR_MS) % 24
    return np.column_stack([b.amount, b.distance_km, b.txn_count_1h, b.txn_count_24h, b.amount_sum_24h,
                            b.card_present, hour, b.category_code])


# --- reproducibility and shape -------------------------------------------------------------------

def test_same_seed_same_data_different_seed_different_data(base: TransactionBatch) -> None:
    again = simulate(N, seed=1)
    assert _same(base, again)
    small = simulate(2_000, seed=1, scenario="poison")
    assert small.encoded() == simulate(2_000, seed=1, scenario="poison").encoded()
    other = simulate(N, seed=2)
    assert not np.array_equal(base.amount, other.amount)
    assert set(base.transaction_ids()).isdisjoint(other.transaction_ids())


def test_batch_is_time_sorted_in_the_window_with_unique_ids(base: TransactionBatch) -> None:
    assert len(base) == N
    assert np.all(np.diff(base.event_ms) >= 0)
    start_ms = int(START.timestamp() * 1000)
    assert base.event_ms[0] >= start_ms and base.event_ms[-1] < start_ms + 7 * DAY_MS
    ids = base.transaction_ids()
    assert len(set(ids)) == N and max(map(len, ids)) <= 64


def test_columns_are_read_only(base: TransactionBatch) -> None:
    with pytest.raises(ValueError, match="read-only"):
        base.column("amount")[0] = 1.0
    with pytest.raises(ValueError, match="column: unknown column 'hour'; allowed: merchant_category"):
        base.column("hour")


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s not in ("poison", "units_break")])
def test_records_conform_to_the_schema_and_encode_losslessly(scenario: str) -> None:
    batch = simulate(5_000, seed=3, scenario=scenario, days=2.0)
    records = batch.records()
    assert [validation_errors(r) for r in records if validation_errors(r)] == []
    assert [json.loads(e) for e in batch.encoded()] == records


def test_fraud_rate_is_about_one_percent(base: TransactionBatch, base_other_seed: TransactionBatch) -> None:
    lo, hi = BASELINE_FRAUD_RATE_BAND
    for batch in (base, base_other_seed):
        assert lo <= batch.fraud_rate <= hi
        assert batch.fraud_rate == pytest.approx(0.01, abs=0.001)


def test_night_is_quiet_for_customers_but_not_for_fraudsters(base: TransactionBatch) -> None:
    hour = (base.event_ms // HOUR_MS) % 24
    night = (hour >= 1) & (hour < 5)
    fraud = base.is_fraud == 1
    assert night[~fraud].mean() < 0.05  # 4 of 24 hours would be 0.167 if flat
    assert night[fraud].mean() > 3 * night[~fraud].mean()


def test_fraud_looks_like_fraud_on_average(base: TransactionBatch) -> None:
    fraud = base.is_fraud == 1
    assert np.median(base.amount[fraud]) > 2 * np.median(base.amount[~fraud])
    assert np.median(base.distance_km[fraud]) > 10 * np.median(base.distance_km[~fraud])
    assert base.card_present[fraud].mean() < 0.4 < base.card_present[~fraud].mean()
    assert base.txn_count_1h[fraud].mean() > 3 * base.txn_count_1h[~fraud].mean()


def test_velocity_features_match_a_brute_force_count() -> None:
    days = 3.0
    batch = simulate(3_000, seed=4, days=days)
    t, cust, amount = batch.event_ms, batch.customer_idx, batch.amount
    history: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(cust.tolist()):
        history[c].append(i)
    checked = 0
    for i in range(len(batch)):
        # Rows whose window reaches before the batch also count simulated warm-up history.
        if t[i] - DAY_MS < batch.start_ms:
            assert batch.txn_count_24h[i] >= 0
            continue
        prior = [j for j in history[int(cust[i])] if j < i]
        in_1h = [j for j in prior if t[j] >= t[i] - HOUR_MS]
        in_24h = [j for j in prior if t[j] >= t[i] - DAY_MS]
        assert batch.txn_count_1h[i] == len(in_1h)
        assert batch.txn_count_24h[i] == len(in_24h)
        assert batch.amount_sum_24h[i] == pytest.approx(amount[in_24h].sum(), abs=0.011)
        checked += 1
    assert checked > 1_000
    assert np.all(batch.txn_count_1h <= batch.txn_count_24h)


def test_velocity_is_warm_from_the_first_hour(base: TransactionBatch) -> None:
    first_day = base.event_ms < base.start_ms + DAY_MS
    later = base.event_ms >= base.start_ms + 2 * DAY_MS
    assert base.txn_count_24h[first_day].mean() == pytest.approx(base.txn_count_24h[later].mean(), rel=0.05)


# --- learnability: a model can find fraud, and the concept-drift pattern fools it ------------------

@pytest.fixture(scope="module")
def baseline_model(base: TransactionBatch):  # type: ignore[no-untyped-def]
    ensemble = pytest.importorskip("sklearn.ensemble")
    model = ensemble.HistGradientBoostingClassifier(max_iter=60, categorical_features=[7], random_state=0)
    return model.fit(_features(base), base.is_fraud)


def test_fraud_is_learnable_but_not_trivially_separable(baseline_model, base_other_seed) -> None:  # type: ignore[no-untyped-def]
    from sklearn.metrics import average_precision_score

    score = baseline_model.predict_proba(_features(base_other_seed))[:, 1]
    pr_auc = average_precision_score(base_other_seed.is_fraud, score)
    assert 20 * base_other_seed.fraud_rate < pr_auc < 0.95


def test_concept_drift_adds_a_pattern_the_baseline_model_misses(  # type: ignore[no-untyped-def]
    baseline_model, base, scenario_batches
) -> None:
    drifted = scenario_batches["concept_drift"]
    score = baseline_model.predict_proba(_features(drifted))[:, 1]
    old = drifted.fraud_pattern == FRAUD_PATTERNS.index("compromised_card")
    new = drifted.fraud_pattern == FRAUD_PATTERNS.index("grocery_skimming")
    threshold = np.quantile(score[old], 0.5)  # operating point catching half the known fraud
    assert (score[new] >= threshold).mean() < 0.05
    # The segment the new pattern lives in goes from fraud-free to a measurable fraud rate.
    def segment(b: TransactionBatch) -> np.ndarray:
        return (b.column("merchant_category") == "grocery") & b.card_present & (b.amount < 100)

    assert base.is_fraud[segment(base)].mean() < 0.001
    assert drifted.is_fraud[segment(drifted)].mean() > 0.015
    assert drifted.fraud_rate > base.fraud_rate + 0.004
    assert len(drifted) == len(base)


# --- scenarios ------------------------------------------------------------------------------------

def test_scenarios_only_change_what_they_inject(base: TransactionBatch, scenario_batches) -> None:  # type: ignore[no-untyped-def]
    for name in ("covariate_shift", "units_break", "nulls", "poison", "label_delay", "new_merchant_category"):
        b = scenario_batches[name]
        assert np.array_equal(b.event_ms, base.event_ms) and np.array_equal(b.is_fraud, base.is_fraud), name
    assert np.array_equal(scenario_batches["poison"].amount, base.amount)


def test_covariate_shift_is_detected_and_baseline_noise_is_not(  # type: ignore[no-untyped-def]
    base, base_other_seed, scenario_batches
) -> None:
    shifted = scenario_batches["covariate_shift"].amount
    assert np.median(shifted) / np.median(base.amount) == pytest.approx(COVARIATE_AMOUNT_FACTOR, rel=0.02)
    assert psi(base.amount, shifted) > 0.25
    assert psi(base.amount, base_other_seed.amount) < 0.05
    for name in ("amount", "distance_from_home_km", "customer_txn_count_24h", "customer_amount_sum_24h"):
        assert psi(base.column(name), base_other_seed.column(name)) < 0.05, name
        assert ks_statistic(base.column(name), base_other_seed.column(name)) < 0.02, name


def test_new_merchant_category_takes_its_share(base, scenario_batches) -> None:  # type: ignore[no-untyped-def]
    cats = scenario_batches["new_merchant_category"].column("merchant_category")
    assert (cats == NEW_MERCHANT_CATEGORY).mean() == pytest.approx(NEW_CATEGORY_SHARE, abs=0.001)
    assert (base.column("merchant_category") == NEW_MERCHANT_CATEGORY).sum() == 0
    assert categorical_psi(base.column("merchant_category"), cats) > 0.25
    assert not scenario_batches["new_merchant_category"].card_present[cats == NEW_MERCHANT_CATEGORY].any()


def test_units_break_reports_cents(base, scenario_batches) -> None:  # type: ignore[no-untyped-def]
    broken = scenario_batches["units_break"]
    assert np.median(broken.amount) / np.median(base.amount) == pytest.approx(100.0, rel=0.01)
    assert psi(base.amount, broken.amount) > 5.0
    # Velocity aggregates come from another system and stay in dollars.
    assert np.array_equal(broken.amount_sum_24h, base.amount_sum_24h)
    # Most cents values still pass the range check: only drift monitoring catches this break.
    rejected = np.mean([bool(validation_errors(r)) for r in broken.records()[:20_000]])
    assert rejected < 0.01


def test_nulls_blank_out_distance(scenario_batches) -> None:  # type: ignore[no-untyped-def]
    batch = scenario_batches["nulls"]
    assert null_rate(batch.distance_km) == pytest.approx(NULL_SHARE, abs=0.001)
    recs = batch.records()[:2_000]
    assert sum(r["distance_from_home_km"] is None for r in recs) > 600
    assert all(not validation_errors(r) for r in recs)  # nullable: valid, but drift-visible


def test_poison_records_fail_naming_the_right_field(scenario_batches) -> None:  # type: ignore[no-untyped-def]
    batch = scenario_batches["poison"]
    expected = batch.expected_rejections()
    assert len(expected) == pytest.approx(0.01 * N, rel=0.01)
    assert set(expected.values()) == {field for _, field in POISON_KINDS}
    rejected: dict[int, tuple[str, ...]] = {}
    for i, raw in enumerate(batch.encoded()):
        try:
            parse_transaction(raw)
        except TransactionValidationError as exc:
            rejected[i] = exc.fields
    assert rejected == {i: (field,) for i, field in expected.items()}
    # The dict path sees the same poison, except wire-only corruption.
    in_memory = batch.expected_rejections(encoded=False)
    errors = {i: validation_errors(r) for i, r in enumerate(batch.records())}
    assert {i: tuple(e.field for e in errs) for i, errs in errors.items() if errs} == {
        i: (f,) for i, f in in_memory.items()
    }
    assert len(in_memory) < len(expected)


def test_unknown_scenario_names_the_allowed_values() -> None:
    with pytest.raises(ValueError, match=r"scenario: must be one of baseline, covariate_shift, .*'typo'"):
        simulate(10, scenario="typo")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n: must be an integer >= 1"),
        ({"n": 2.5}, "n: must be an integer"),
        ({"n": 10, "days": 0}, "days: must be a finite number > 0"),
        ({"n": 10, "days": float("nan")}, "days: must be"),
        ({"n": 10, "seed": -1}, "seed: must be an integer >= 0"),
        ({"n": 10, "start": datetime(2026, 1, 1)}, "start: must be a timezone-aware datetime"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simulate(**kwargs)


def test_tiny_batches_work() -> None:
    for n in (1, 2, 7):
        batch = simulate(n, seed=9, days=0.01)
        assert len(batch) == n and len(batch.records()) == n


# --- delayed labels -------------------------------------------------------------------------------

def test_labels_arrive_late_and_final_within_the_window(base: TransactionBatch) -> None:
    delay_days = (base.label_available_ms - base.event_ms) / DAY_MS
    fraud = base.is_fraud == 1
    assert np.all(delay_days[~fraud] == LABEL_CONFIRMATION_DAYS)
    assert delay_days[fraud].min() >= 1.0 and delay_days[fraud].max() <= LABEL_CONFIRMATION_DAYS
    assert 4.0 < np.median(delay_days[fraud]) < 10.0


def test_labels_as_of_returns_only_arrived_labels() -> None:
    batch = simulate(20_000, seed=5)
    ids = batch.transaction_ids()
    as_of = START + timedelta(days=10)
    got = labels_as_of(batch, as_of)
    as_of_ms = int(as_of.timestamp() * 1000)
    assert got and all(lab["label_available_time"] <= "2026-01-11T00:00:00.000Z" for lab in got)
    assert all(lab["is_fraud"] == 1 for lab in got)  # legit rows confirm only after 30 days
    arrived = {ids[i] for i in np.flatnonzero(batch.label_available_ms <= as_of_ms)}
    assert {lab["transaction_id"] for lab in got} == arrived
    assert 0 < len(got) < batch.is_fraud.sum()  # some chargebacks are still on their way
    assert labels_as_of(batch, START) == []
    everything = labels_as_of(batch, START + timedelta(days=40))
    assert everything == batch.labels() and sum(lab["is_fraud"] for lab in everything) == batch.is_fraud.sum()
    with pytest.raises(ValueError, match="as_of: must be a timezone-aware datetime"):
        labels_as_of(batch, datetime(2026, 1, 10))


def test_label_delay_scenario_slows_chargebacks(base, scenario_batches) -> None:  # type: ignore[no-untyped-def]
    late = scenario_batches["label_delay"]
    as_of = START + timedelta(days=21)

    def arrived_share(b: TransactionBatch) -> float:
        return sum(lab["is_fraud"] for lab in labels_as_of(b, as_of)) / b.is_fraud.sum()

    assert arrived_share(base) > 0.8
    assert arrived_share(late) < 0.5
    assert np.max(late.label_available_ms - late.event_ms) == LABEL_DELAY_CONFIRMATION_DAYS * DAY_MS

"""Seeded, vectorized card-transaction simulator with injectable drift and data-quality scenarios.

The world: customers live in cities and shop at terminals; each has a spending level, a spread
and category preferences. Legit traffic follows a day/night profile. Fraud comes from
compromised cards: short bursts of mostly card-not-present, high-amount, far-from-home,
night-skewed transactions, sometimes opened by a tiny card-testing charge. Legit traffic has
look-alikes (travel, big purchases, small charges, roaming devices), so fraud is learnable but
not separable. Labels arrive late, as chargebacks do.

Everything is columnar numpy; no per-record Python loop runs in ``simulate``. Random streams are
split so that scenarios are *paired* with the baseline: for the same seed and arguments,
``covariate_shift``, ``units_break``, ``nulls``, ``poison`` and ``label_delay`` produce the same
transactions as ``baseline`` with only the injected effect changed.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final

import numpy as np

from fraud_core.schema import (
    BASELINE_MERCHANT_CATEGORIES,
    MAX_AMOUNT,
    MAX_DISTANCE_KM,
    MERCHANT_CATEGORIES,
    NEW_MERCHANT_CATEGORY,
)

SCENARIOS: Final = (
    "baseline",
    "covariate_shift",  # amounts x1.8 (prices/mix moved; the world changed, aggregates follow)
    "new_merchant_category",  # 15% of transactions move to 'crypto_exchange'
    "concept_drift",  # new fraud pattern: low-amount, card-present, near-home grocery fraud
    "units_break",  # upstream sends amount in cents (x100); velocity aggregates stay in dollars
    "nulls",  # distance_from_home_km is null for 40% of records
    "poison",  # ~1% malformed records that the validator must reject, naming the field
    "label_delay",  # chargebacks arrive ~3x later; labels final after 90 days instead of 30
)

# Baseline fraud share that tests hold the simulator to (measured ~1.0% at n >= 200k).
BASELINE_FRAUD_RATE_BAND: Final = (0.007, 0.015)
FRAUD_PATTERNS: Final = ("none", "compromised_card", "grocery_skimming")

COVARIATE_AMOUNT_FACTOR: Final = 1.8
NEW_CATEGORY_SHARE: Final = 0.15
UNITS_BREAK_FACTOR: Final = 100.0
NULL_SHARE: Final = 0.40
POISON_SHARE: Final = 0.01
# Poison kinds and the field the validator must name for each. 'not_json' exists only on the
# wire (encoded()): a Python dict cannot be invalid JSON, so records() keeps that row intact.
POISON_KINDS: Final = (
    ("wrong_type", "amount"),
    ("missing_field", "customer_id"),
    ("negative_amount", "amount"),
    ("unknown_category", "merchant_category"),
    ("null_required", "card_present"),
    ("bad_timestamp", "event_time"),
    ("extra_field", "amount_cents"),
    ("not_json", "<record>"),
)

# Label timing. Legit transactions are confirmed non-fraud when the chargeback window closes;
# fraud chargebacks arrive lognormally inside it (baseline median 7 days, ~90% within 1-20 days).
LABEL_CONFIRMATION_DAYS: Final = 30.0
CHARGEBACK_MEDIAN_DAYS: Final = 7.0
LABEL_DELAY_CONFIRMATION_DAYS: Final = 90.0  # 'label_delay' scenario
LABEL_DELAY_MEDIAN_DAYS: Final = 21.0
_CHARGEBACK_SIGMA = 0.7
_CHARGEBACK_MIN_DAYS = 1.0

HOUR_MS: Final = 3_600_000
DAY_MS: Final = 24 * HOUR_MS

# --- world parameters (why each value: see the module docstring) ---
_N_CITIES = 25
_MAP_KM = 1500.0
_CITY_SPREAD_KM = 6.0
_TXNS_PER_CUSTOMER_DAY = 2.5
_TXNS_PER_TERMINAL = 25
_BASE_CATS = len(BASELINE_MERCHANT_CATEGORIES)
_CAT = {c: i for i, c in enumerate(MERCHANT_CATEGORIES)}
_CRYPTO = _CAT[NEW_MERCHANT_CATEGORY]
_GROCERY = _CAT["grocery"]
_CASH = _CAT["cash_withdrawal"]
_ONLINE_RETAIL = _CAT["online_retail"]

# Per category (MERCHANT_CATEGORIES order): legit share, P(card present), amount multiplier.
_CAT_SHARE = np.array([0.24, 0.10, 0.16, 0.16, 0.03, 0.04, 0.08, 0.06, 0.05, 0.08, 0.0])
_P_CARD_PRESENT = np.array([0.97, 0.98, 0.93, 0.0, 0.35, 0.55, 0.6, 0.9, 0.15, 1.0, 0.0])
_AMOUNT_MULT = np.array([1.0, 1.3, 0.9, 1.4, 5.0, 3.0, 0.9, 1.3, 2.2, 2.5, 4.0])
_LOG_AMOUNT_MULT = np.log(_AMOUNT_MULT)

# Relative intensity by UTC hour: legit traffic sleeps at night, fraud does not.
_HOURLY_LEGIT = np.array([0.20, 0.12, 0.08, 0.06, 0.06, 0.10, 0.30, 0.65, 1.00, 1.20, 1.30, 1.40,
                          1.60, 1.50, 1.40, 1.40, 1.50, 1.70, 1.80, 1.70, 1.40, 1.00, 0.65, 0.40])
_HOURLY_FRAUD = np.array([1.6, 1.8, 1.9, 1.9, 1.7, 1.3, 1.0, 0.9, 0.9, 0.9, 1.0, 1.0,
                          1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.4])

_LEGIT_SMALL_SHARE = 0.04  # coffee, parking: overlaps the card-testing charges fraud opens with
_LEGIT_TRAVEL_SHARE = 0.04  # card present in another city
_LEGIT_ROAMING_SHARE = 0.06  # online from a device far from home (VPN, travel)
_CNP_NEAR_MEDIAN_KM, _CNP_FAR_MEDIAN_KM = 6.0, 400.0

# Compromised-card fraud: ~1% of transactions, bursts of 1 + Poisson(2).
_FRAUD_SHARE = 0.01
_BURST_EXTRA_MEAN = 2.0
_BURST_GAP_MIN = 6.0
_FRAUD_CP_BURST_SHARE = 0.25
_FRAUD_CP_CATS = np.array([_CASH, _CAT["electronics"], _CAT["fuel"]])
_FRAUD_CP_P = np.array([0.5, 0.3, 0.2])
_FRAUD_CNP_CATS = np.array([_ONLINE_RETAIL, _CAT["electronics"], _CAT["travel"], _CAT["entertainment"]])
_FRAUD_CNP_P = np.array([0.5, 0.3, 0.1, 0.1])
_FRAUD_CARD_TEST_SHARE = 0.35
_FRAUD_FAR_SHARE = 0.65  # share of bursts run from far away (the rest use a local proxy)
_FRAUD_FAR_MEDIAN_KM = 800.0
_FRAUD_LOG_AMOUNT_UPLIFT = (0.9, 0.8)  # mean, std of the extra log-amount over the customer's norm

# 'concept_drift' skimming fraud: ~0.6% of transactions, bursts of 1 + Poisson(1.5) within hours.
_SKIM_SHARE = 0.006
_SKIM_EXTRA_MEAN = 1.5
_SKIM_GAP_MIN = 25.0
_SKIM_MEDIAN_AMOUNT, _SKIM_SIGMA = 50.0, 0.25


@dataclass(frozen=True, slots=True)
class _Population:
    city_weight: np.ndarray
    home_city: np.ndarray
    home_xy: np.ndarray
    activity_cdf: np.ndarray
    log_mu: np.ndarray
    log_sigma: np.ndarray
    cat_cdf_flat: np.ndarray  # row c holds c + cumulative category probabilities of customer c
    term_xy: np.ndarray
    cp_start: np.ndarray  # card-present terminals, indexed by category * _N_CITIES + city
    cp_count: np.ndarray
    online_start: np.ndarray  # online gateway terminals, indexed by category
    online_count: np.ndarray

    @property
    def n_customers(self) -> int:
        return len(self.home_city)

    @property
    def n_terminals(self) -> int:
        return len(self.term_xy)


def _population(seed: int, n_customers: int, n_terminals: int) -> _Population:
    rng = np.random.default_rng([seed, 0, n_customers, n_terminals])
    city_xy = rng.uniform(0.0, _MAP_KM, (_N_CITIES, 2))
    city_weight = 1.0 / np.arange(1, _N_CITIES + 1) ** 0.9  # Zipf-like city sizes
    city_weight /= city_weight.sum()

    home_city = np.searchsorted(np.cumsum(city_weight), rng.random(n_customers) * 0.999999, "right")
    home_xy = city_xy[home_city] + rng.normal(0.0, _CITY_SPREAD_KM, (n_customers, 2))
    activity_cdf = np.cumsum(rng.gamma(1.5, 1.0, n_customers))
    log_mu = rng.normal(3.2, 0.45, n_customers)  # median spend ~$25
    log_sigma = rng.uniform(0.45, 0.8, n_customers)
    prefs = rng.gamma(np.tile(_CAT_SHARE[:_BASE_CATS] * 8.0, (n_customers, 1)))  # Dirichlet rows
    cat_cdf = np.cumsum(prefs, axis=1)
    cat_cdf /= cat_cdf[:, -1:]
    cat_cdf_flat = (cat_cdf + np.arange(n_customers)[:, None]).ravel()

    # Every (category, city) with card-present trade gets at least one terminal, so a local
    # purchase always finds a local terminal; the rest are spread by city size and category.
    n_cats = len(MERCHANT_CATEGORIES)
    cp_share = _CAT_SHARE * (_P_CARD_PRESENT > 0)
    cp_count = np.maximum(1, np.round(0.7 * n_terminals * np.outer(cp_share / cp_share.sum(), city_weight)))
    cp_count = (cp_count * (_P_CARD_PRESENT > 0)[:, None]).astype(np.int64).ravel()
    cnp_share = (_CAT_SHARE + 0.02) * (_P_CARD_PRESENT < 1)
    online_count = np.maximum(3, np.round(0.3 * n_terminals * cnp_share / cnp_share.sum()))
    online_count = (online_count * (_P_CARD_PRESENT < 1)).astype(np.int64)
    cp_start = np.concatenate([[0], np.cumsum(cp_count)[:-1]])
    online_start = cp_count.sum() + np.concatenate([[0], np.cumsum(online_count)[:-1]])
    cp_city = np.repeat(np.tile(np.arange(_N_CITIES), n_cats), cp_count)
    online_city = rng.integers(0, _N_CITIES, int(online_count.sum()))
    term_city = np.concatenate([cp_city, online_city])
    term_xy = city_xy[term_city] + rng.normal(0.0, _CITY_SPREAD_KM, (len(term_city), 2))
    return _Population(city_weight, home_city, home_xy, activity_cdf, log_mu, log_sigma, cat_cdf_flat,
                       term_xy, cp_start, cp_count, online_start, online_count)


@dataclass(slots=True)
class _Rows:
    """Column bundle used while generating; concatenated, then sorted once."""

    t: np.ndarray  # epoch ms
    cust: np.ndarray
    term: np.ndarray
    cat: np.ndarray
    cp: np.ndarray
    amount: np.ndarray
    dist: np.ndarray
    pattern: np.ndarray  # index into FRAUD_PATTERNS; 0 = legit
    delay_z: np.ndarray  # standard-normal draw for the chargeback delay (unused for legit)

    def __len__(self) -> int:
        return len(self.t)

    @staticmethod
    def concat(parts: list[_Rows]) -> _Rows:
        return _Rows(*(np.concatenate([getattr(p, f) for p in parts]) for f in _Rows.__slots__))

    def take(self, idx: np.ndarray) -> _Rows:
        return _Rows(*(getattr(self, f)[idx] for f in _Rows.__slots__))


def _sample_times(rng: np.random.Generator, n: int, t_lo: int, t_hi: int, hourly: np.ndarray) -> np.ndarray:
    """n epoch-ms times in [t_lo, t_hi) from a piecewise-constant hour-of-day intensity."""
    inner = np.arange(t_lo // HOUR_MS + 1, -(-t_hi // HOUR_MS), dtype=np.int64) * HOUR_MS
    edges = np.concatenate([[t_lo], inner, [t_hi]]).astype(np.int64)
    rate = hourly[(edges[:-1] // HOUR_MS) % 24]
    weight = rate * np.diff(edges)
    cdf = np.cumsum(weight)
    u = rng.random(n) * cdf[-1]
    k = np.minimum(np.searchsorted(cdf, u, "right"), len(weight) - 1)
    offset = (u - (cdf[k] - weight[k])) / rate[k]
    return np.minimum(edges[k] + offset.astype(np.int64), edges[k + 1] - 1)


def _pick(rng: np.random.Generator, start: np.ndarray, count: np.ndarray) -> np.ndarray:
    return start + (rng.random(len(start)) * count).astype(np.int64)


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def _dist_to(pop: _Population, cust: np.ndarray, term: np.ndarray) -> np.ndarray:
    d = pop.home_xy[cust] - pop.term_xy[term]
    return np.hypot(d[:, 0], d[:, 1])


def _other_city(rng: np.random.Generator, pop: _Population, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(np.cumsum(pop.city_weight), rng.random(n), "right"), _N_CITIES - 1)


def _finish_amount(amount: np.ndarray, cat: np.ndarray) -> np.ndarray:
    # ATMs dispense multiples of $20; everything else is rounded to cents.
    cash = cat == _CASH
    amount = np.where(cash, np.maximum(20.0, np.round(amount / 20.0) * 20.0), amount)
    return np.clip(np.round(amount, 2), 0.5, MAX_AMOUNT)


def _cp_terminals(rng: np.random.Generator, pop: _Population, cust: np.ndarray, cat: np.ndarray,
                  travel: np.ndarray) -> np.ndarray:
    city = np.where(travel, _other_city(rng, pop, len(cust)), pop.home_city[cust])
    key = cat.astype(np.int64) * _N_CITIES + city
    return _pick(rng, pop.cp_start[key], pop.cp_count[key])


def _legit_rows(rng: np.random.Generator, pop: _Population, n: int, t_lo: int, t_hi: int) -> _Rows:
    t = _sample_times(rng, n, t_lo, t_hi, _HOURLY_LEGIT)
    act = pop.activity_cdf
    cust = np.minimum(np.searchsorted(act, rng.random(n) * act[-1], "right"), len(act) - 1)
    # Per-customer category sampling without an (n x categories) matrix: customer c's CDF sits
    # in (c, c+1] of one flat sorted array, so one searchsorted serves everybody.
    cat = np.searchsorted(pop.cat_cdf_flat, cust + rng.random(n), "right") - cust * _BASE_CATS
    cat = np.minimum(cat, _BASE_CATS - 1).astype(np.int8)
    cp = rng.random(n) < _P_CARD_PRESENT[cat]

    log_amount = pop.log_mu[cust] + _LOG_AMOUNT_MULT[cat] + pop.log_sigma[cust] * rng.standard_normal(n)
    small = rng.random(n) < _LEGIT_SMALL_SHARE
    log_amount[small] = rng.uniform(0.0, np.log(8.0), int(small.sum()))
    amount = _finish_amount(np.exp(log_amount), cat)

    term = np.empty(n, dtype=np.int64)
    dist = np.empty(n)
    travel = rng.random(n) < _LEGIT_TRAVEL_SHARE
    term[cp] = _cp_terminals(rng, pop, cust[cp], cat[cp], travel[cp])
    dist[cp] = _dist_to(pop, cust[cp], term[cp])
    cnp = ~cp
    term[cnp] = _pick(rng, pop.online_start[cat[cnp]], pop.online_count[cat[cnp]])
    dist[cnp] = _cnp_distance(rng, int(cnp.sum()), _LEGIT_ROAMING_SHARE)
    zeros = np.zeros(n)
    return _Rows(t, cust, term, cat, cp, amount, dist, np.zeros(n, np.int8), zeros)


def _cnp_distance(rng: np.random.Generator, n: int, far_share: float, far_median: float = _CNP_FAR_MEDIAN_KM,
                  far: np.ndarray | None = None) -> np.ndarray:
    """Card-not-present 'distance': from home to the device's geolocated IP."""
    if far is None:
        far = rng.random(n) < far_share
    near_d = _lognormal(rng, _CNP_NEAR_MEDIAN_KM, 1.0, n)
    far_d = _lognormal(rng, far_median, 0.8, n)
    return np.where(far, far_d, near_d)


def _bursts(
    rng: np.random.Generator, pop: _Population, n_bursts: int, extra_mean: float, gap_min: float,
    t_lo: int, t_hi: int, hourly: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Burst layout: (burst index per row, position in burst, time, customer) for n_bursts bursts."""
    sizes = 1 + rng.poisson(extra_mean, n_bursts)
    burst = np.repeat(np.arange(n_bursts), sizes)
    first = np.cumsum(sizes) - sizes
    pos = np.arange(len(burst)) - first[burst]
    gaps = rng.exponential(gap_min * 60_000.0, len(burst))
    gaps[first] = 0.0
    cs = np.cumsum(gaps)
    offset = (cs - cs[first][burst]).astype(np.int64)
    duration = offset[first + sizes - 1]
    # Shift a burst back if it would run past the end, so bursts are never truncated.
    start = _sample_times(rng, n_bursts, t_lo, t_hi, hourly)
    start = np.maximum(t_lo, np.minimum(start, t_hi - 1 - duration))
    t = np.clip(start[burst] + offset, t_lo, t_hi - 1)
    cust = rng.integers(0, pop.n_customers, n_bursts)[burst]
    return burst, pos, t, cust


def _compromised_card_rows(rng: np.random.Generator, pop: _Population, n_bursts: int, t_lo: int,
                           t_hi: int) -> _Rows:
    burst, pos, t, cust = _bursts(rng, pop, n_bursts, _BURST_EXTRA_MEAN, _BURST_GAP_MIN, t_lo, t_hi,
                                  _HOURLY_FRAUD)
    n = len(burst)
    cp_burst = (rng.random(n_bursts) < _FRAUD_CP_BURST_SHARE)[burst]
    far_burst = (rng.random(n_bursts) < _FRAUD_FAR_SHARE)[burst]
    card_test = (rng.random(n_bursts) < _FRAUD_CARD_TEST_SHARE)[burst] & (pos == 0)
    cat = np.where(cp_burst, rng.choice(_FRAUD_CP_CATS, n, p=_FRAUD_CP_P),
                   rng.choice(_FRAUD_CNP_CATS, n, p=_FRAUD_CNP_P))
    cat = np.where(card_test, _ONLINE_RETAIL, cat).astype(np.int8)
    cp = cp_burst & ~card_test

    mean, std = _FRAUD_LOG_AMOUNT_UPLIFT
    log_amount = pop.log_mu[cust] + _LOG_AMOUNT_MULT[cat] + rng.normal(mean, std, n)
    log_amount[card_test] = rng.uniform(np.log(0.5), np.log(5.0), int(card_test.sum()))
    amount = _finish_amount(np.exp(log_amount), cat)

    term = np.empty(n, dtype=np.int64)
    dist = np.empty(n)
    term[cp] = _cp_terminals(rng, pop, cust[cp], cat[cp], far_burst[cp])  # cloned card, other city
    dist[cp] = _dist_to(pop, cust[cp], term[cp])
    cnp = ~cp
    term[cnp] = _pick(rng, pop.online_start[cat[cnp]], pop.online_count[cat[cnp]])
    dist[cnp] = _cnp_distance(rng, int(cnp.sum()), 0.0, _FRAUD_FAR_MEDIAN_KM, far=far_burst[cnp])
    return _Rows(t, cust, term, cat, cp, amount, dist, np.ones(n, np.int8), rng.standard_normal(n))


def _skimming_rows(rng: np.random.Generator, pop: _Population, n_bursts: int, t_lo: int, t_hi: int) -> _Rows:
    """The 'concept_drift' pattern: skimmed cards spent at grocery terminals near the victim's
    home, in daytime, at ordinary amounts - everything the baseline model learned fraud is not."""
    _, _, t, cust = _bursts(rng, pop, n_bursts, _SKIM_EXTRA_MEAN, _SKIM_GAP_MIN, t_lo, t_hi, _HOURLY_LEGIT)
    n = len(t)
    cat = np.full(n, _GROCERY, np.int8)
    term = _cp_terminals(rng, pop, cust, cat, np.zeros(n, bool))
    amount = _finish_amount(_lognormal(rng, _SKIM_MEDIAN_AMOUNT, _SKIM_SIGMA, n), cat)
    return _Rows(t, cust, term, cat, np.ones(n, bool), amount, _dist_to(pop, cust, term),
                 np.full(n, 2, np.int8), rng.standard_normal(n))


def _to_crypto(rng: np.random.Generator, pop: _Population, rows: _Rows, idx: np.ndarray) -> None:
    """'new_merchant_category': these legit rows become online crypto-exchange purchases."""
    cust = rows.cust[idx]
    k = len(idx)
    cat = np.full(k, _CRYPTO, np.int8)
    rows.cat[idx] = cat
    rows.cp[idx] = False
    rows.term[idx] = _pick(rng, np.full(k, pop.online_start[_CRYPTO]), np.full(k, pop.online_count[_CRYPTO]))
    log_amount = pop.log_mu[cust] + _LOG_AMOUNT_MULT[_CRYPTO] + pop.log_sigma[cust] * rng.standard_normal(k)
    rows.amount[idx] = _finish_amount(np.exp(log_amount), cat)
    rows.dist[idx] = _cnp_distance(rng, k, _LEGIT_ROAMING_SHARE)


def _velocity(rows: _Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the customer's transaction count in the prior 1 h and 24 h, and amount sum in the
    prior 24 h (this transaction excluded) - what an online feature store would serve at scoring.

    Sort by (customer, time) once; a combined int64 key keeps customers apart, so one
    searchsorted finds every window start and a cumsum gives every window sum.
    """
    order = np.lexsort((rows.t, rows.cust))
    t = rows.t[order]
    t0 = t.min()
    stride = int(t.max() - t0) + DAY_MS + 1  # larger than any window: customers never overlap
    key = rows.cust[order].astype(np.int64) * stride + (t - t0)
    i = np.arange(len(key))
    lo_1h = np.searchsorted(key, key - HOUR_MS, "left")
    lo_24h = np.searchsorted(key, key - DAY_MS, "left")
    cs = np.concatenate([[0.0], np.cumsum(rows.amount[order])])
    sum_24h = np.maximum(0.0, np.round(cs[i] - cs[lo_24h], 2))
    out = [np.empty(len(key), np.int64), np.empty(len(key), np.int64), np.empty(len(key))]
    out[0][order] = np.minimum(i - lo_1h, 1000)
    out[1][order] = np.minimum(i - lo_24h, 10_000)
    out[2][order] = sum_24h
    return out[0], out[1], out[2]


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class TransactionBatch:
    """Columnar result of ``simulate``: one row per transaction, sorted by event time.

    Columns are read-only numpy arrays. ``amount`` and ``distance_from_home_km`` are as reported
    on the wire (so ``units_break`` shows cents and ``nulls`` shows NaN); velocity features are
    computed from true dollar amounts.
    """

    scenario: str
    seed: int
    start_ms: int
    end_ms: int
    id_prefix: str
    n_customers: int
    event_ms: np.ndarray
    customer_idx: np.ndarray
    terminal_idx: np.ndarray
    category_code: np.ndarray  # index into MERCHANT_CATEGORIES
    amount: np.ndarray
    card_present: np.ndarray
    distance_km: np.ndarray  # NaN = null
    txn_count_1h: np.ndarray
    txn_count_24h: np.ndarray
    amount_sum_24h: np.ndarray
    is_fraud: np.ndarray  # int8 0/1, the eventual chargeback outcome
    fraud_pattern: np.ndarray  # index into FRAUD_PATTERNS
    label_available_ms: np.ndarray
    poison_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    poison_kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))  # index into POISON_KINDS

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                object.__setattr__(self, name, _frozen(value))

    def __len__(self) -> int:
        return len(self.event_ms)

    @property
    def fraud_rate(self) -> float:
        return float(self.is_fraud.mean())

    _NUMERIC = {
        "event_time": "event_ms",
        "amount": "amount",
        "card_present": "card_present",
        "distance_from_home_km": "distance_km",
        "customer_txn_count_1h": "txn_count_1h",
        "customer_txn_count_24h": "txn_count_24h",
        "customer_amount_sum_24h": "amount_sum_24h",
        "is_fraud": "is_fraud",
        "fraud_pattern": "fraud_pattern",
        "label_available_ms": "label_available_ms",
    }

    def column(self, name: str) -> np.ndarray:
        """One column by schema name: numbers as read-only arrays ('event_time' in epoch ms,
        nulls as NaN), 'merchant_category' as a string array."""
        if name == "merchant_category":
            return np.asarray(MERCHANT_CATEGORIES)[self.category_code]
        attr = self._NUMERIC.get(name)
        if attr is None:
            allowed = ", ".join(["merchant_category", *self._NUMERIC])
            raise ValueError(f"column: unknown column {name!r}; allowed: {allowed}")
        return getattr(self, attr)

    def transaction_ids(self) -> list[str]:
        return [f"{self.id_prefix}-{i:08d}" for i in range(len(self))]

    def _event_times(self) -> list[str]:
        return _iso(self.event_ms).tolist()

    def _columns(self) -> tuple[list[Any], ...]:
        cust_names = np.array([f"C{c:07d}" for c in range(self.n_customers)])
        term_names = np.array([f"T{t:06d}" for t in range(int(self.terminal_idx.max()) + 1)])
        dist = self.distance_km.tolist()
        if np.isnan(self.distance_km).any():
            dist = [None if d != d else d for d in dist]
        return (
            self.transaction_ids(),
            self._event_times(),
            cust_names[self.customer_idx].tolist(),
            term_names[self.terminal_idx].tolist(),
            np.asarray(MERCHANT_CATEGORIES)[self.category_code].tolist(),
            self.amount.tolist(),
            self.card_present.tolist(),
            dist,
            self.txn_count_1h.tolist(),
            self.txn_count_24h.tolist(),
            self.amount_sum_24h.tolist(),
        )

    def records(self) -> list[dict[str, Any]]:
        """Schema-ordered, JSON-ready dicts. Under 'poison' the rows in ``poison_rows`` are
        malformed dicts (except kind 'not_json', which is corrupted only in ``encoded()``)."""
        out = [
            {
                "transaction_id": a, "event_time": b, "customer_id": c, "terminal_id": d,
                "merchant_category": e, "amount": f, "currency": "USD", "card_present": g,
                "distance_from_home_km": h, "customer_txn_count_1h": i, "customer_txn_count_24h": j,
                "customer_amount_sum_24h": k,
            }
            for a, b, c, d, e, f, g, h, i, j, k in zip(*self._columns(), strict=True)
        ]
        for row, kind in zip(self.poison_rows.tolist(), self.poison_kinds.tolist(), strict=True):
            out[row] = _poisoned(out[row], POISON_KINDS[kind][0])
        return out

    def encoded(self) -> list[bytes]:
        """One compact UTF-8 JSON object per row, as a producer puts it on the stream.

        Built from a template rather than json.dumps (about 5x faster); safe because ids and
        categories are plain ASCII and Python's float repr is valid JSON for finite values.
        """
        a, b, c, d, e, f, g, h, i, j, k = self._columns()
        g = ["true" if x else "false" for x in g]
        h = ["null" if x is None else repr(x) for x in h]
        out = [
            (f'{{"transaction_id":"{a_}","event_time":"{b_}","customer_id":"{c_}","terminal_id":"{d_}",'
             f'"merchant_category":"{e_}","amount":{f_!r},"currency":"USD","card_present":{g_},'
             f'"distance_from_home_km":{h_},"customer_txn_count_1h":{i_},"customer_txn_count_24h":{j_},'
             f'"customer_amount_sum_24h":{k_!r}}}').encode()
            for a_, b_, c_, d_, e_, f_, g_, h_, i_, j_, k_ in zip(a, b, c, d, e, f, g, h, i, j, k,
                                                                 strict=True)
        ]
        if len(self.poison_rows):
            recs = self.records()
            for n, (row, kind) in enumerate(zip(self.poison_rows.tolist(), self.poison_kinds.tolist(),
                                                strict=True)):
                if POISON_KINDS[kind][0] == "not_json":
                    out[row] = _not_json(out[row], n)
                else:
                    out[row] = json.dumps(recs[row], separators=(",", ":")).encode()
        return out

    def expected_rejections(self, *, encoded: bool = True) -> dict[int, str]:
        """Row index -> the field a validator must name, for every poisoned row on that path
        (``encoded=True``: parse_transaction over encoded(); False: validate_transaction over
        records(), where 'not_json' rows are intact)."""
        return {
            row: POISON_KINDS[kind][1]
            for row, kind in zip(self.poison_rows.tolist(), self.poison_kinds.tolist(), strict=True)
            if encoded or POISON_KINDS[kind][0] != "not_json"
        }

    def labels(self) -> list[dict[str, Any]]:
        """Every row's eventual label, with when it becomes known (chargeback or confirmation)."""
        return self._labels(np.arange(len(self)))

    def _labels(self, idx: np.ndarray) -> list[dict[str, Any]]:
        ids = self.transaction_ids()
        ev = _iso(self.event_ms[idx])
        av = _iso(self.label_available_ms[idx])
        return [
            {"transaction_id": ids[i], "event_time": e, "is_fraud": y, "label_available_time": a}
            for i, e, y, a in zip(idx.tolist(), ev.tolist(), self.is_fraud[idx].tolist(), av.tolist(),
                                  strict=True)
        ]


def _iso(ms: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms", timezone="UTC")


def _poisoned(rec: dict[str, Any], kind: str) -> dict[str, Any]:
    bad = dict(rec)
    if kind == "wrong_type":
        bad["amount"] = str(rec["amount"])
    elif kind == "missing_field":
        del bad["customer_id"]
    elif kind == "negative_amount":
        bad["amount"] = -abs(rec["amount"])
    elif kind == "unknown_category":
        bad["merchant_category"] = "lottery"
    elif kind == "null_required":
        bad["card_present"] = None
    elif kind == "bad_timestamp":
        bad["event_time"] = rec["event_time"].replace("T", " ").rstrip("Z")  # a common producer bug
    elif kind == "extra_field":
        bad["amount_cents"] = round(rec["amount"] * 100)
    return bad


def _not_json(good: bytes, n: int) -> bytes:
    # Three realistic shapes of wire garbage: a truncated write, binary noise, a JSON non-object.
    flavour = n % 3
    if flavour == 0:
        return good[: len(good) // 2]
    if flavour == 1:
        return b"\xff\xfe\x00garbage\x00" + good[:8]
    return b"[" + good + b"]"


def labels_as_of(batch: TransactionBatch, as_of: datetime) -> list[dict[str, Any]]:
    """Labels that have arrived by ``as_of`` (label_available_time <= as_of), in event-time order.

    A fraud whose chargeback is still on its way is simply absent, not labelled 0: a job joining
    these must treat 'no label yet' as unknown.
    """
    idx = np.flatnonzero(batch.label_available_ms <= _to_ms(as_of, "as_of"))
    return batch._labels(idx)


def _to_ms(when: datetime, name: str) -> int:
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise ValueError(f"{name}: must be a timezone-aware datetime (got {when!r})")
    return round(when.timestamp() * 1000)


def simulate(
    n: int,
    *,
    seed: int = 0,
    scenario: str = "baseline",
    start: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc),
    days: float = 7.0,
) -> TransactionBatch:
    """Simulate ``n`` transactions over ``days`` from ``start`` under ``scenario``.

    Deterministic in all arguments. Customers (~2.5 transactions/day each) and terminals are
    drawn from the seed; the 24 hours before ``start`` are simulated too (and dropped) so
    velocity features are warm from the first row.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n: must be an integer >= 1 (got {n!r})")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed: must be an integer >= 0 (got {seed!r})")
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario: must be one of {', '.join(SCENARIOS)} (got {scenario!r})")
    if isinstance(days, bool) or not isinstance(days, int | float) or not math.isfinite(days) or days <= 0:
        raise ValueError(f"days: must be a finite number > 0 (got {days!r})")
    n, seed = int(n), int(seed)
    t_lo = _to_ms(start, "start")
    t_hi = t_lo + max(1, round(days * DAY_MS))
    warm_ms = min(DAY_MS, t_hi - t_lo)  # capped so tiny spans do not simulate mostly warm-up

    n_customers = int(np.clip(round(n / (days * _TXNS_PER_CUSTOMER_DAY)), 20, 9_999_999))
    n_terminals = int(np.clip(n // _TXNS_PER_TERMINAL, 2_000, 500_000))
    pop = _population(seed, n_customers, n_terminals)

    # Base stream: identical for every scenario, so scenarios are paired with the baseline.
    clock = [t_lo % 2**64, t_hi % 2**64]  # SeedSequence takes non-negative ints only
    rng = np.random.default_rng([seed, 1, n, *clock])
    fraud = _compromised_card_rows(rng, pop, round(n * _FRAUD_SHARE / (1 + _BURST_EXTRA_MEAN)), t_lo, t_hi)
    fraud = fraud.take(np.arange(min(len(fraud), n // 2)))
    n_legit = n - len(fraud)
    n_warm = round(n_legit * warm_ms / (t_hi - t_lo))
    legit = _legit_rows(rng, pop, n_legit, t_lo, t_hi)
    warm = _legit_rows(rng, pop, n_warm, t_lo - warm_ms, t_lo)

    # Scenario stream: only what the scenario injects.
    srng = np.random.default_rng([seed, 2, SCENARIOS.index(scenario), n, *clock])
    if scenario == "new_merchant_category":
        _to_crypto(srng, pop, legit, srng.choice(n_legit, round(NEW_CATEGORY_SHARE * n), replace=False))
    parts = [legit, fraud]
    if scenario == "concept_drift":
        skim = _skimming_rows(srng, pop, round(n * _SKIM_SHARE / (1 + _SKIM_EXTRA_MEAN)), t_lo, t_hi)
        skim = skim.take(np.arange(min(len(skim), n_legit // 2)))
        keep = np.ones(n_legit, bool)
        keep[srng.choice(n_legit, len(skim), replace=False)] = False  # n stays as asked
        parts = [legit.take(np.flatnonzero(keep)), fraud, skim]
    rows = _Rows.concat([*parts, warm])
    if scenario == "covariate_shift":
        rows.amount = _finish_amount(rows.amount * COVARIATE_AMOUNT_FACTOR, rows.cat)

    count_1h, count_24h, sum_24h = _velocity(rows)
    order = np.argsort(rows.t[: n], kind="stable")  # warm-up rows are last: drop them here
    rows = rows.take(order)
    count_1h, count_24h, sum_24h = count_1h[order], count_24h[order], sum_24h[order]

    is_fraud = (rows.pattern > 0).astype(np.int8)
    if scenario == "label_delay":
        window, median = LABEL_DELAY_CONFIRMATION_DAYS, LABEL_DELAY_MEDIAN_DAYS
    else:
        window, median = LABEL_CONFIRMATION_DAYS, CHARGEBACK_MEDIAN_DAYS
    delay_days = np.clip(median * np.exp(_CHARGEBACK_SIGMA * rows.delay_z), _CHARGEBACK_MIN_DAYS, window)
    delay_ms = np.where(is_fraud == 1, (delay_days * DAY_MS).astype(np.int64), int(window * DAY_MS))

    amount = rows.amount
    if scenario == "units_break":
        amount = np.round(amount * UNITS_BREAK_FACTOR, 2)
    dist = np.clip(np.round(rows.dist, 2), 0.0, MAX_DISTANCE_KM)
    if scenario == "nulls":
        dist[srng.choice(n, round(NULL_SHARE * n), replace=False)] = np.nan
    poison_rows = np.zeros(0, np.int64)
    poison_kinds = np.zeros(0, np.int8)
    if scenario == "poison":
        poison_rows = np.sort(srng.choice(n, max(1, round(POISON_SHARE * n)), replace=False))
        poison_kinds = srng.integers(0, len(POISON_KINDS), len(poison_rows)).astype(np.int8)

    key = f"{seed}|{scenario}|{n}|{t_lo}|{t_hi}"
    return TransactionBatch(
        scenario=scenario,
        seed=seed,
        start_ms=t_lo,
        end_ms=t_hi,
        id_prefix=hashlib.blake2b(key.encode(), digest_size=6).hexdigest(),
        n_customers=n_customers,
        event_ms=rows.t,
        customer_idx=rows.cust.astype(np.int32),
        terminal_idx=rows.term.astype(np.int32),
        category_code=rows.cat.astype(np.int8),
        amount=amount,
        card_present=rows.cp.astype(bool),
        distance_km=dist,
        txn_count_1h=count_1h,
        txn_count_24h=count_24h,
        amount_sum_24h=sum_24h,
        is_fraud=is_fraud,
        fraud_pattern=rows.pattern,
        label_available_ms=rows.t + delay_ms,
        poison_rows=poison_rows,
        poison_kinds=poison_kinds,
    )

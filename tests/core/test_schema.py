"""The wire contract: what a producer may send, and what a consumer is told when it is wrong."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from fraud_core.schema import (
    FIELD_NAMES,
    MERCHANT_CATEGORIES,
    MISSING,
    NEW_MERCHANT_CATEGORY,
    TRANSACTION_SCHEMA,
    TransactionValidationError,
    json_schema,
    parse_transaction,
    validate_transaction,
    validation_errors,
)


def good() -> dict[str, Any]:
    return {
        "transaction_id": "tx-1",
        "event_time": "2026-11-01T13:45:12.123Z",
        "customer_id": "C0000123",
        "terminal_id": "T000456",
        "merchant_category": "grocery",
        "amount": 42.5,
        "currency": "USD",
        "card_present": True,
        "distance_from_home_km": 3.2,
        "customer_txn_count_1h": 0,
        "customer_txn_count_24h": 2,
        "customer_amount_sum_24h": 87.1,
    }


def test_valid_record_passes_and_comes_back_clean() -> None:
    raw = good() | {"amount": 42, "customer_amount_sum_24h": 0}  # JSON ints are fine for numbers
    clean = validate_transaction(raw)
    assert list(clean) == list(FIELD_NAMES)
    assert clean["amount"] == 42.0 and isinstance(clean["amount"], float)
    assert isinstance(clean["customer_amount_sum_24h"], float)
    assert validation_errors(good()) == []


def test_spec_examples_form_a_valid_record() -> None:
    # Keeps the documented examples and the enforced rules from drifting apart.
    assert validate_transaction({f.name: f.example for f in TRANSACTION_SCHEMA})


def test_distance_may_be_null_but_not_absent() -> None:
    assert validate_transaction(good() | {"distance_from_home_km": None})["distance_from_home_km"] is None
    rec = good()
    del rec["distance_from_home_km"]
    with pytest.raises(TransactionValidationError, match=r"^distance_from_home_km: is required$"):
        validate_transaction(rec)


def test_new_category_is_known_so_its_arrival_is_drift_not_rejection() -> None:
    assert NEW_MERCHANT_CATEGORY in MERCHANT_CATEGORIES
    validate_transaction(good() | {"merchant_category": NEW_MERCHANT_CATEGORY})


def test_message_names_field_rule_and_value() -> None:
    with pytest.raises(TransactionValidationError) as info:
        validate_transaction(good() | {"amount": -3.0})
    assert str(info.value) == "amount: must be a number > 0 and <= 100000 (got -3.0)"
    assert isinstance(info.value, ValueError)
    [err] = info.value.errors
    assert (err.field, err.rule, err.value) == ("amount", "must be a number > 0 and <= 100000", -3.0)


@pytest.mark.parametrize(
    ("field", "value", "rule_part"),
    [
        ("amount", True, "must be a number"),  # bool is not a number on the wire
        ("amount", "12.50", "must be a number"),
        ("amount", math.nan, "must be a number"),
        ("amount", math.inf, "must be a number"),
        ("amount", 0, "> 0"),
        ("amount", 100_000.01, "<= 100000"),
        ("customer_txn_count_1h", 1.0, "must be an integer"),
        ("customer_txn_count_1h", True, "must be an integer"),
        ("customer_txn_count_1h", -1, ">= 0"),
        ("customer_txn_count_24h", 10_001, "<= 10000"),
        ("customer_amount_sum_24h", -0.01, ">= 0"),
        ("card_present", 1, "true or false"),
        ("card_present", None, "true or false"),
        ("merchant_category", "lottery", "must be one of"),
        ("merchant_category", "Grocery", "must be one of"),
        ("currency", "EUR", "must be 'USD'"),
        ("event_time", "2026-11-01 13:45:12", "ISO-8601 UTC"),
        ("event_time", "2026-11-01T13:45:12+01:00", "ending in 'Z'"),
        ("event_time", "2026-02-30T10:00:00Z", "ISO-8601"),  # right shape, impossible date
        ("event_time", 1767225600000, "ISO-8601"),
        ("customer_id", "c0000123", "'C' followed by 7 digits"),
        ("terminal_id", "T12", "'T' followed by 6 digits"),
        ("transaction_id", "", "non-empty"),
        ("transaction_id", "x" * 65, "at most 64"),
        ("distance_from_home_km", -1.0, ">= 0"),
        ("distance_from_home_km", 20_000.5, "<= 20000"),
    ],
)
def test_bad_value_is_reported_on_its_field(field: str, value: Any, rule_part: str) -> None:
    with pytest.raises(TransactionValidationError) as info:
        validate_transaction(good() | {field: value})
    assert info.value.fields == (field,)
    assert rule_part in info.value.errors[0].rule
    assert str(info.value).startswith(f"{field}: ")


def test_every_problem_is_reported_at_once_in_schema_order() -> None:
    rec = good() | {"amount": "abc", "currency": "EUR", "amount_cents": 4250}
    del rec["customer_id"]
    errors = validation_errors(rec)
    assert [e.field for e in errors] == ["customer_id", "amount", "currency", "amount_cents"]
    assert errors[0].value is MISSING and str(errors[0]) == "customer_id: is required"
    assert str(errors[3]) == "amount_cents: is not a field of the transaction schema (got 4250)"
    with pytest.raises(TransactionValidationError) as info:
        validate_transaction(rec)
    assert str(info.value).count(";") == 3


@pytest.mark.parametrize("record", [None, [good()], "a string", 42])
def test_non_object_is_rejected_as_a_whole(record: Any) -> None:
    with pytest.raises(TransactionValidationError, match=r"^<record>: must be a JSON object") as info:
        validate_transaction(record)
    assert info.value.errors[0].value == record


def test_huge_bad_value_is_truncated_in_the_message() -> None:
    with pytest.raises(TransactionValidationError) as info:
        validate_transaction(good() | {"merchant_category": "x" * 10_000})
    assert len(str(info.value)) < 500


def test_parse_accepts_bytes_and_str() -> None:
    raw = json.dumps(good())
    assert parse_transaction(raw) == validate_transaction(good())
    assert parse_transaction(raw.encode()) == parse_transaction(bytearray(raw.encode()))


@pytest.mark.parametrize(
    "raw", [b'{"transaction_id": "tx-1", "amo', b"\xff\xfe\x00garbage", b"[1, 2]", b"", "null", b"42"]
)
def test_parse_rejects_anything_but_a_json_object_on_record(raw: bytes | str) -> None:
    with pytest.raises(TransactionValidationError) as info:
        parse_transaction(raw)
    assert [(e.field, e.rule) for e in info.value.errors] == [("<record>", "must be a JSON object")]


def test_parse_rejects_json_nan_on_the_field() -> None:
    raw = json.dumps(good()).replace('"amount": 42.5', '"amount": NaN')
    with pytest.raises(TransactionValidationError, match=r"^amount: .*\(got nan\)$"):
        parse_transaction(raw)


def test_json_schema_export_agrees_with_the_validator() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema())
    bad = [
        good() | {"amount": -1}, good() | {"amount": True}, good() | {"merchant_category": "lottery"},
        good() | {"customer_id": "X1"}, good() | {"extra": 1}, good() | {"card_present": None},
        good() | {"customer_txn_count_1h": 1.5},
    ]
    assert validator.is_valid(good())
    assert validator.is_valid(good() | {"distance_from_home_km": None})
    for rec in bad:
        assert validation_errors(rec) and not validator.is_valid(rec), rec

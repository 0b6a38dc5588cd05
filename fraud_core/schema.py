"""Wire schema of one transaction event on the Kinesis stream, and its validator.

The schema is data (``TRANSACTION_SCHEMA``), so drift baselines, docs and a JSON Schema export
iterate the same field list the validator enforces. Validation collects every problem rather
than stopping at the first, so one dead-letter entry explains everything wrong with a record.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

# 'crypto_exchange' is a known-but-rare category that the baseline simulator never emits: the
# 'new_merchant_category' scenario turns it on, so the shift shows up as covariate drift (a new
# bucket in categorical PSI) instead of a wall of validation failures that would hide it.
BASELINE_MERCHANT_CATEGORIES: Final = (
    "grocery",
    "fuel",
    "restaurant",
    "online_retail",
    "travel",
    "electronics",
    "entertainment",
    "health",
    "utilities",
    "cash_withdrawal",
)
NEW_MERCHANT_CATEGORY: Final = "crypto_exchange"
MERCHANT_CATEGORIES: Final = (*BASELINE_MERCHANT_CATEGORIES, NEW_MERCHANT_CATEGORY)
CURRENCIES: Final = ("USD",)

MAX_AMOUNT: Final = 100_000.0
MAX_DISTANCE_KM: Final = 20_000.0  # about half the Earth's circumference
MAX_TRANSACTION_ID_LENGTH: Final = 64

FieldType = Literal["string", "number", "integer", "boolean"]
RECORD_FIELD: Final = "<record>"  # the field named when the record as a whole is unusable
RECORD_RULE: Final = "must be a JSON object"
REQUIRED_RULE: Final = "is required"
UNKNOWN_FIELD_RULE: Final = "is not a field of the transaction schema"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of the wire format; ``rule`` is the sentence used in error messages."""

    name: str
    type: FieldType
    rule: str
    description: str
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    max_length: int | None = None
    example: Any = None

    @property
    def is_feature(self) -> bool:
        """True for fields a model or drift job consumes (identifiers and timestamps are not)."""
        return self.name in NUMERIC_FEATURES or self.name in CATEGORICAL_FEATURES


TRANSACTION_SCHEMA: Final[tuple[FieldSpec, ...]] = (
    FieldSpec(
        "transaction_id", "string",
        f"must be a non-empty string of at most {MAX_TRANSACTION_ID_LENGTH} characters",
        "Unique id of the transaction; the idempotency key for every write downstream.",
        max_length=MAX_TRANSACTION_ID_LENGTH, example="3f9a1c2b7d40-00000042",
    ),
    FieldSpec(
        "event_time", "string",
        "must be an ISO-8601 UTC timestamp ending in 'Z', e.g. '2026-11-01T13:45:12.123Z'",
        "When the card was used, UTC.",
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$",
        example="2026-11-01T13:45:12.123Z",
    ),
    FieldSpec(
        "customer_id", "string", "must be 'C' followed by 7 digits, e.g. 'C0000123'",
        "Card holder.", pattern=r"^C\d{7}$", example="C0000123",
    ),
    FieldSpec(
        "terminal_id", "string", "must be 'T' followed by 6 digits, e.g. 'T000456'",
        "Point-of-sale terminal or online merchant gateway.", pattern=r"^T\d{6}$", example="T000456",
    ),
    FieldSpec(
        "merchant_category", "string", "must be one of " + ", ".join(repr(c) for c in MERCHANT_CATEGORIES),
        "Merchant category of the terminal.", allowed=MERCHANT_CATEGORIES, example="grocery",
    ),
    FieldSpec(
        "amount", "number", f"must be a number > 0 and <= {MAX_AMOUNT:g}",
        "Transaction amount in dollars (not cents).",
        minimum=0.0, exclusive_minimum=True, maximum=MAX_AMOUNT, example=42.5,
    ),
    FieldSpec("currency", "string", "must be 'USD'", "ISO-4217 currency code.", allowed=CURRENCIES,
              example="USD"),
    FieldSpec("card_present", "boolean", "must be true or false",
              "Chip/swipe at a terminal (true) or card-not-present, e.g. online (false).", example=True),
    FieldSpec(
        "distance_from_home_km", "number", f"must be a number >= 0 and <= {MAX_DISTANCE_KM:g}, or null",
        "Distance from the card holder's home to the terminal (or, online, to the device's location);"
        " null when the location is unknown.",
        nullable=True, minimum=0.0, maximum=MAX_DISTANCE_KM, example=3.2,
    ),
    FieldSpec(
        "customer_txn_count_1h", "integer", "must be an integer >= 0 and <= 1000",
        "The customer's transactions in the hour before this one (this one excluded).",
        minimum=0, maximum=1000, example=0,
    ),
    FieldSpec(
        "customer_txn_count_24h", "integer", "must be an integer >= 0 and <= 10000",
        "The customer's transactions in the 24 hours before this one (this one excluded).",
        minimum=0, maximum=10_000, example=2,
    ),
    FieldSpec(
        "customer_amount_sum_24h", "number", "must be a number >= 0",
        "Sum of the customer's amounts in the 24 hours before this one, dollars.",
        minimum=0.0, example=87.1,
    ),
)

FIELDS: Final[Mapping[str, FieldSpec]] = {f.name: f for f in TRANSACTION_SCHEMA}
FIELD_NAMES: Final = tuple(FIELDS)
NUMERIC_FEATURES: Final = (
    "amount",
    "distance_from_home_km",
    "customer_txn_count_1h",
    "customer_txn_count_24h",
    "customer_amount_sum_24h",
)
CATEGORICAL_FEATURES: Final = ("merchant_category", "card_present")


class _Missing:
    """Marks an absent field in a FieldError (None would be ambiguous with JSON null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field. ``value`` is what was received, or ``MISSING``."""

    field: str
    rule: str
    value: Any = MISSING

    def __str__(self) -> str:
        if self.value is MISSING:
            return f"{self.field}: {self.rule}"
        return f"{self.field}: {self.rule} (got {_short_repr(self.value)})"


class TransactionValidationError(ValueError):
    """A record broke the schema; ``errors`` lists every problem found, in schema order."""

    def __init__(self, errors: list[FieldError]) -> None:
        if not errors:
            raise ValueError("TransactionValidationError needs at least one FieldError")
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(e.field for e in self.errors)


def _short_repr(value: Any, limit: int = 80) -> str:
    # Bounded so a megabyte of garbage cannot blow up a log line or a DLQ message attribute.
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _range_checker(types: type | tuple[type, ...], spec: FieldSpec) -> Callable[[Any], bool]:
    """One flat predicate per numeric field (validation runs per record on the scoring path: no nested calls).

    bool is a subclass of int in Python, but true/false is not a number on the wire. NaN fails every comparison
    and infinity fails the upper bound (math.inf when there is none), so the range check also requires finite.
    """
    lo = -math.inf if spec.minimum is None else spec.minimum
    strict = spec.exclusive_minimum or spec.minimum is None
    hi = spec.maximum
    if strict and hi is not None:
        return lambda v: isinstance(v, types) and type(v) is not bool and lo < v <= hi
    if strict:
        return lambda v: isinstance(v, types) and type(v) is not bool and lo < v < math.inf
    if hi is not None:
        return lambda v: isinstance(v, types) and type(v) is not bool and lo <= v <= hi
    return lambda v: isinstance(v, types) and type(v) is not bool and lo <= v < math.inf


def _checker(spec: FieldSpec) -> Callable[[Any], bool]:
    """Build the predicate for one field once, at import, so validation is a tight loop."""
    if spec.type == "boolean":
        return lambda v: isinstance(v, bool)
    if spec.type == "integer":
        return _range_checker(int, spec)
    if spec.type == "number":
        return _range_checker((int, float), spec)
    if spec.allowed is not None:
        allowed = frozenset(spec.allowed)
        return lambda v: isinstance(v, str) and v in allowed
    if spec.pattern is not None:
        regex = re.compile(spec.pattern)
        if spec.name == "event_time":
            return lambda v: isinstance(v, str) and regex.match(v) is not None and _is_calendar_time(v)
        return lambda v: isinstance(v, str) and regex.match(v) is not None
    max_len = spec.max_length or math.inf
    return lambda v: isinstance(v, str) and 0 < len(v) <= max_len


def _is_calendar_time(v: str) -> bool:
    # The regex accepts '2026-13-45T25:00:00Z'; fromisoformat rejects impossible dates and times.
    try:
        # Python 3.10 (the SageMaker image) does not parse a trailing 'Z'; 3.11 does.
        datetime.fromisoformat(v[:-1] + "+00:00" if v.endswith("Z") else v)
    except ValueError:
        return False
    return True


_MISSING: Final = object()
_CHECKS: Final = tuple((spec.name, spec.nullable, spec.rule, _checker(spec)) for spec in TRANSACTION_SCHEMA)


def validation_errors(record: Any) -> list[FieldError]:
    """Every problem with ``record`` (empty list when valid): missing, wrong type, out of range,
    not allowed, unknown extra field. A non-mapping is reported once, on field '<record>'."""
    if not isinstance(record, dict) and not isinstance(record, Mapping):  # dict first: the ABC check is slow
        return [FieldError(RECORD_FIELD, RECORD_RULE, record)]
    errors: list[FieldError] = []
    for name, nullable, rule, ok in _CHECKS:
        value = record.get(name, _MISSING)
        if value is _MISSING:
            errors.append(FieldError(name, REQUIRED_RULE))
        elif value is None:
            if not nullable:
                errors.append(FieldError(name, rule, None))
        elif not ok(value):
            errors.append(FieldError(name, rule, value))
    if len(record) > len(_CHECKS) or errors:
        # Only scan for extras when the key count says there might be some (the common valid
        # record skips this), or when reporting anyway.
        errors.extend(FieldError(str(k), UNKNOWN_FIELD_RULE, record[k]) for k in record if k not in FIELDS)
    return errors


def validate_transaction(record: Any) -> dict[str, Any]:
    """Return a clean copy of ``record`` in schema order, with number fields as float.

    Raises TransactionValidationError (a ValueError) naming each bad field and its rule, e.g.
    ``amount: must be a number > 0 and <= 100000 (got -3.0)``.
    """
    errors = validation_errors(record)
    if errors:
        raise TransactionValidationError(errors)
    clean = {name: record[name] for name in FIELD_NAMES}
    for name in ("amount", "customer_amount_sum_24h"):
        clean[name] = float(clean[name])
    if clean["distance_from_home_km"] is not None:
        clean["distance_from_home_km"] = float(clean["distance_from_home_km"])
    return clean


def parse_transaction(raw: bytes | bytearray | str) -> dict[str, Any]:
    """Decode one wire record (UTF-8 JSON object) and validate it.

    Undecodable bytes, invalid JSON and JSON that is not an object all fail on field '<record>'
    with rule 'must be a JSON object', so a consumer has one error path for everything.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
        record = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
        raise TransactionValidationError([FieldError(RECORD_FIELD, RECORD_RULE, raw)]) from exc
    return validate_transaction(record)


def json_schema() -> dict[str, Any]:
    """The same contract as a JSON Schema (draft 2020-12) document, for docs and other consumers.

    Three checks cannot be expressed here and live only in ``validate_transaction``: NaN/Infinity
    (Python's json accepts them), calendar validity of ``event_time``, and rejecting 1.0 for an
    integer field (JSON Schema counts it as an integer).
    """
    props: dict[str, Any] = {}
    for spec in TRANSACTION_SCHEMA:
        p: dict[str, Any] = {"type": [spec.type, "null"] if spec.nullable else spec.type,
                             "description": spec.description}
        if spec.allowed is not None:
            p["enum"] = list(spec.allowed)
        if spec.pattern is not None:
            p["pattern"] = spec.pattern
        if spec.type == "string" and spec.allowed is None and spec.pattern is None:
            p["minLength"] = 1
        if spec.max_length is not None:
            p["maxLength"] = spec.max_length
        if spec.minimum is not None:
            p["exclusiveMinimum" if spec.exclusive_minimum else "minimum"] = spec.minimum
        if spec.maximum is not None:
            p["maximum"] = spec.maximum
        props[spec.name] = p
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Card transaction event",
        "type": "object",
        "properties": props,
        "required": list(FIELD_NAMES),
        "additionalProperties": False,
    }

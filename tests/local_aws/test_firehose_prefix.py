"""Firehose prefix semantics (delivery itself runs against the deployed stream in test_local_deploy)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from local_aws.firehose.delivery import evaluate_prefix

ARRIVAL = datetime(2026, 3, 7, 4, 5, 6, tzinfo=UTC)


def test_prefix_timestamps_follow_firehose_java_patterns() -> None:
    prefix = "transactions/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/h=!{timestamp:HH}/"
    assert evaluate_prefix(prefix, ARRIVAL) == "transactions/year=2026/month=03/day=07/h=04/"


def test_error_prefix_names_the_error_type() -> None:
    got = evaluate_prefix("errors/!{firehose:error-output-type}/!{timestamp:yyyy}/", ARRIVAL,
                          error_type="processing-failed")
    assert got == "errors/processing-failed/2026/"


def test_unsupported_prefix_expression_is_rejected() -> None:
    with pytest.raises(ValueError, match="unsupported expression"):
        evaluate_prefix("!{firehose:nope}/", ARRIVAL)

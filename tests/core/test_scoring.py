"""Streaming scoring core: decoding a Kinesis batch, requests, decisions and their exactly-once keys."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraud_core.scoring import (
    MAX_INSTANCES_PER_REQUEST,
    ScoredChunk,
    dead_letter,
    decisions,
    decisions_jsonl,
    decisions_key,
    decode,
)
from fraud_core.scoring import requests as endpoint_requests
from fraud_core.simulator import simulate

TXS = simulate(5, seed=3).records()


def kinesis_event(payloads: list[bytes], shard: str = "shardId-000000000000", first_seq: int = 100) -> list[dict]:
    return [{"kinesis": {"data": base64.b64encode(p).decode(), "sequenceNumber": str(first_seq + i),
                         "partitionKey": "k", "approximateArrivalTimestamp": 1_700_000_000.0 + i},
             "eventID": f"{shard}:{first_seq + i}"} for i, p in enumerate(payloads)]


def test_invalid_records_carry_the_field_and_the_rule_and_the_bytes() -> None:
    records = decode(kinesis_event([json.dumps(TXS[0]).encode(), b"{not json", json.dumps(TXS[1] | {"amount": -1})
                                    .encode()]))
    assert [r.valid for r in records] == [True, False, False]
    assert records[1].errors[0]["field"] == "<record>" and records[2].errors[0]["field"] == "amount"
    letter = dead_letter(records[2])
    assert letter["errors"][0]["rule"].startswith("must be a number > 0") and letter["sequence"] == "102"
    assert base64.b64decode(letter["data_base64"]) == records[2].data


def test_one_request_per_batch_up_to_the_handler_limit_in_stream_order() -> None:
    many = simulate(MAX_INSTANCES_PER_REQUEST + 5, seed=4).records()
    records = decode(kinesis_event([json.dumps(t).encode() for t in many]))
    chunks = endpoint_requests(records)
    assert [len(c) for c, _ in chunks] == [MAX_INSTANCES_PER_REQUEST, 5]
    assert json.loads(chunks[0][1])["instances"][0]["transaction_id"] == many[0]["transaction_id"]


def test_decisions_name_the_model_and_variant_and_keep_order() -> None:
    records = decode(kinesis_event([json.dumps(t).encode() for t in TXS[:2]]))
    response = {"predictions": [{"transaction_id": t["transaction_id"], "score": s, "is_fraud": s > 0.5}
                                for t, s in zip(TXS[:2], (0.9, 0.1), strict=True)],
                "threshold": 0.5, "model_version": "job-1"}
    out = decisions(ScoredChunk(records, response, "primary", 12.5), 1_800_000_000_000)
    assert [d["decision"] for d in out] == ["review", "approve"]
    assert {d["model_version"] for d in out} == {"job-1"} and out[0]["variant"] == "primary"
    assert out[0]["stream"] == {"shard": "shardId-000000000000", "sequence": "100"}
    with pytest.raises(ValueError, match="order must be kept"):
        decisions(ScoredChunk(records, {**response, "predictions": response["predictions"][::-1]}, "p", 1), 0)


def test_a_batch_and_any_retry_starting_at_the_same_record_share_one_key() -> None:
    records = decode(kinesis_event([json.dumps(t).encode() for t in TXS], first_seq=7))
    key = decisions_key(records[0])
    assert key == f"decisions/date={TXS[0]['event_time'][:10]}/shard=shardId-000000000000/7.jsonl"
    assert decisions_key(decode(kinesis_event([json.dumps(TXS[0]).encode()], first_seq=7))[0]) == key
    assert decisions_key(records[2]) != key


_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ['},{"transaction_id":', '"}\n{', "\\", "\u2028", "}{"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_text, _text, st.floats(0, 1) | st.integers(0, 1), st.none() | st.floats(0, 1), _text, _text,
                          _text).map(lambda t: {"transaction_id": t[0], "event_time": t[1], "score": t[2],
                                                "threshold": t[3], "variant": t[4],
                                                "stream": {"shard": t[5], "sequence": t[6]}}), max_size=5))
def test_the_decisions_object_is_one_json_object_per_line_whatever_the_strings(scored: list[dict]) -> None:
    body = decisions_jsonl(scored)
    assert body == "".join(json.dumps(d, separators=(",", ":")) + "\n" for d in scored).encode()
    assert [json.loads(line) for line in body.splitlines()] == scored


def test_a_decision_must_start_with_its_transaction_id() -> None:
    with pytest.raises(ValueError, match="transaction_id"):
        decisions_jsonl([{"score": 0.1, "transaction_id": "t"}])

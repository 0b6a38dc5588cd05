"""The scoring handler with fake AWS clients: partial failures, dead letters, exactly-once decision objects."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fraud_core.simulator import simulate

ROOT = Path(__file__).resolve().parents[2]
TXS = simulate(6, seed=5).records()


def _load_handler() -> Any:
    spec = importlib.util.spec_from_file_location("scoring_handler", ROOT / "lambdas" / "scoring" / "handler.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["scoring_handler"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class FakeRuntime:
    def __init__(self, fail: Exception | None = None) -> None:
        self.fail, self.calls = fail, []

    def invoke_endpoint(self, EndpointName: str, Body: bytes, ContentType: str) -> dict:  # boto3.s parameter names
        self.calls.append(json.loads(Body))
        if self.fail:
            raise self.fail
        preds = [{"transaction_id": t["transaction_id"], "score": 0.9 if i == 0 else 0.1, "is_fraud": i == 0}
                 for i, t in enumerate(json.loads(Body)["instances"])]
        return {"Body": io.BytesIO(json.dumps({"predictions": preds, "threshold": 0.5, "model_version": "m1"})
                                   .encode()), "InvokedProductionVariant": "primary"}


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:
        self.objects[Key] = Body


class FakeSqs:
    def __init__(self) -> None:
        self.messages: list[dict] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        self.messages += [json.loads(e["MessageBody"]) for e in Entries]
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "scorer", 512, "r-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:scorer"


def _event(payloads: list[bytes]) -> dict:
    import base64

    return {"Records": [{"kinesis": {"data": base64.b64encode(p).decode(), "sequenceNumber": str(10 + i),
                                     "partitionKey": "k", "approximateArrivalTimestamp": 1_700_000_000.0,
                                     "kinesisSchemaVersion": "1.0"},
                         "eventID": f"shardId-000000000000:{10 + i}", "eventSource": "aws:kinesis",
                         "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s"}
                        for i, p in enumerate(payloads)]}


@pytest.fixture()
def handler(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("ENDPOINT_NAME", "ep")
    monkeypatch.setenv("DECISIONS_BUCKET", "decisions")
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", "https://sqs/dlq")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Test")
    module = _load_handler()
    module._clients.update({"sagemaker-runtime": FakeRuntime(), "s3": FakeS3(), "sqs": FakeSqs()})
    return module


def test_a_batch_is_one_endpoint_call_one_decisions_object_and_invalid_records_dead_lettered(handler) -> None:
    payloads = [json.dumps(TXS[0]).encode(), b"garbage", json.dumps(TXS[1] | {"merchant_category": "moon"}).encode(),
                json.dumps(TXS[2]).encode()]
    out = handler.handler(_event(payloads), Context())
    assert out == {"batchItemFailures": []}
    assert len(handler._clients["sagemaker-runtime"].calls) == 1
    ((key, body),) = handler._clients["s3"].objects.items()
    assert key.endswith("/shard=shardId-000000000000/10.jsonl")
    decided = [json.loads(line) for line in body.decode().splitlines()]
    assert [d["transaction_id"] for d in decided] == [TXS[0]["transaction_id"], TXS[2]["transaction_id"]]
    letters = handler._clients["sqs"].messages
    assert [m["sequence"] for m in letters] == ["11", "12"]
    assert letters[1]["errors"][0]["field"] == "merchant_category"


def test_an_endpoint_failure_retries_from_the_first_valid_record_and_writes_nothing(handler) -> None:
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "InvokeEndpoint")
    handler._clients["sagemaker-runtime"] = FakeRuntime(fail=throttled)
    out = handler.handler(_event([b"garbage", json.dumps(TXS[0]).encode(), json.dumps(TXS[1]).encode()]), Context())
    assert out == {"batchItemFailures": [{"itemIdentifier": "11"}, {"itemIdentifier": "12"}]}
    assert handler._clients["s3"].objects == {} and len(handler._clients["sqs"].messages) == 1

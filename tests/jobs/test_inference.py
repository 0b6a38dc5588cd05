"""The serving handlers, run inside the emulated scikit-learn container exactly as the image runs them.

The container's toolkit turns any exception from a handler into a generic HTTP 500, so every bad request
must come back as a 4xx that names the field or the body: checked for known cases and fuzzed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraud_core.schema import FIELD_NAMES
from fraud_core.simulator import simulate
from local_aws.sagemaker.container import ContainerSpec, FrameworkContainer

ENV = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
       "PYTHONPATH": "/opt/ml/model/code"}
RECORDS = simulate(20, seed=9).records()


@pytest.fixture(scope="module")
def container(trained, tmp_path_factory: pytest.TempPathFactory) -> FrameworkContainer:
    model_dir = tmp_path_factory.mktemp("model")
    shutil.copytree(trained.model_dir, model_dir, dirs_exist_ok=True)  # with code/, as the training job wrote it
    box = FrameworkContainer(ContainerSpec(model_dir, ENV, network_isolation=True), Path(model_dir) / "scratch")
    box.start()
    return box


def _call(container: FrameworkContainer, body: bytes | str, content_type: str = "application/json",
          accept: str = "application/json") -> tuple[int, dict[str, Any]]:
    response = container.invoke(body if isinstance(body, bytes) else body.encode(), content_type, accept)
    assert response.status != 500, (response.error, body[:200])
    return response.status, json.loads(response.body)


def test_a_batch_is_scored_with_the_models_threshold_and_names_the_model(container: FrameworkContainer) -> None:
    status, out = _call(container, json.dumps({"instances": RECORDS}))
    assert status == 200 and len(out["predictions"]) == 20
    assert out["model_version"] == "local" and 0 < out["threshold"] < 1
    assert all(p["is_fraud"] == (p["score"] >= out["threshold"]) for p in out["predictions"])
    assert [p["transaction_id"] for p in out["predictions"]] == [r["transaction_id"] for r in RECORDS]
    assert _call(container, json.dumps(RECORDS[0]))[0] == 200, "a single transaction object is a batch of one"


@pytest.mark.parametrize(("body", "content_type", "status", "message"), [
    ("{}", "text/csv", 415, "content type: must be application/json"),
    ("not json", "application/json", 400, "<body>: must be JSON"),
    ("[" * 100_000, "application/json", 400, "<body>: must be JSON (nested too deeply)"),
    ('{"instances": []}', "application/json", 400, "instances: must be a list of 1 to 1000"),
    ('{"instances": {"a": 1}}', "application/json", 400, "instances: must be a list"),
    ("null", "application/json", 400, "<record>: must be a JSON object"),
    (json.dumps({"instances": [RECORDS[0], RECORDS[1] | {"amount": -5}]}), "application/json", 400,
     "instances[1].amount: must be a number > 0"),
])
def test_bad_requests_get_a_4xx_naming_the_field_or_the_body(container: FrameworkContainer, body: str,
                                                             content_type: str, status: int, message: str) -> None:
    got, out = _call(container, body, content_type)
    assert got == status and message in out["error"]


def test_a_response_type_the_handler_cannot_produce_is_406(container: FrameworkContainer) -> None:
    assert _call(container, json.dumps(RECORDS[0]), accept="text/csv")[0] == 406


_json = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                                 max_size=5), max_leaves=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300) | _json.map(lambda v: json.dumps(v).encode()))
def test_fuzzed_payloads_never_get_a_5xx(container: FrameworkContainer, body: bytes) -> None:
    status, out = _call(container, body)
    assert status == 200 or (400 <= status < 500 and out["error"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(FIELD_NAMES), _json)
def test_a_record_with_any_value_in_any_field_is_scored_or_rejected_naming_that_field(
        container: FrameworkContainer, field: str, value: Any) -> None:
    record = dict(RECORDS[3]) | {field: value}
    status, out = _call(container, json.dumps(record))
    assert status == 200 or (status == 400 and field in out["error"]), out

"""The serving handlers the registered model package points the SageMaker container at."""

from __future__ import annotations

import json

import pytest

from fraud_core.simulator import simulate
from sagemaker_jobs.inference import InferenceInputError, input_fn, model_fn, output_fn, predict_fn


def test_scores_a_batch_with_the_models_threshold(trained) -> None:
    model = model_fn(str(trained.model_dir))
    records = simulate(50, seed=9).records()
    body, content_type = output_fn(predict_fn(input_fn(json.dumps({"instances": records})), model))
    predictions = json.loads(body)["predictions"]
    assert content_type == "application/json" and len(predictions) == 50
    assert all(0.0 <= p["score"] <= 1.0 for p in predictions)
    assert all(p["is_fraud"] == (p["score"] >= model.threshold) for p in predictions)
    assert [p["transaction_id"] for p in predictions] == [r["transaction_id"] for r in records]


@pytest.mark.parametrize(("body", "content_type", "message"), [
    ("{}", "text/csv", "content type: must be application/json"),
    ("not json", "application/json", "<body>: must be JSON"),
    ('{"instances": []}', "application/json", "instances: must be a list of 1 to 1000"),
])
def test_bad_requests_name_the_problem(body: str, content_type: str, message: str) -> None:
    with pytest.raises(InferenceInputError, match=message):
        input_fn(body, content_type)


def test_invalid_transaction_names_the_field() -> None:
    record = simulate(1, seed=1).records()[0] | {"amount": -5}
    with pytest.raises(InferenceInputError, match="amount"):
        input_fn(json.dumps(record))

"""Inference handlers for the SageMaker scikit-learn serving container (model_fn/input_fn/predict_fn/output_fn).

The registered model package points the container at this module (SAGEMAKER_PROGRAM=inference.py
with the job source bundle as SAGEMAKER_SUBMIT_DIRECTORY). Bad input is rejected with a message
naming the field and the rule; the container turns the exception into an error response.
"""

from __future__ import annotations

import json
from typing import Any

from fraud_core.model_artifact import LoadedModel, load_model_dir
from fraud_core.schema import TransactionValidationError, validate_transaction

CONTENT_TYPE = "application/json"
MAX_RECORDS = 1000  # one Kinesis batch: bounded request size and latency


class InferenceInputError(ValueError):
    pass


def model_fn(model_dir: str) -> LoadedModel:
    return load_model_dir(model_dir)


def input_fn(body: str | bytes, content_type: str = CONTENT_TYPE) -> list[dict[str, Any]]:
    """One transaction object, or {"instances": [...]}, as JSON."""
    if content_type.split(";")[0].strip() != CONTENT_TYPE:
        raise InferenceInputError(f"content type: must be {CONTENT_TYPE} (got {content_type!r})")
    try:
        payload = json.loads(body)
    except ValueError as err:
        raise InferenceInputError(f"<body>: must be JSON ({err})") from None
    records = payload["instances"] if isinstance(payload, dict) and "instances" in payload else [payload]
    if not isinstance(records, list) or not 1 <= len(records) <= MAX_RECORDS:
        raise InferenceInputError(f"instances: must be a list of 1 to {MAX_RECORDS} transactions")
    try:
        return [validate_transaction(r) for r in records]
    except TransactionValidationError as err:
        raise InferenceInputError(str(err)) from None


def predict_fn(records: list[dict[str, Any]], model: LoadedModel) -> list[dict[str, Any]]:
    scores = model.predict_proba(records)
    return [{"transaction_id": r["transaction_id"], "score": float(s), "is_fraud": bool(s >= model.threshold)}
            for r, s in zip(records, scores.tolist(), strict=True)]


def output_fn(predictions: list[dict[str, Any]], accept: str = CONTENT_TYPE) -> tuple[str, str]:
    return json.dumps({"predictions": predictions}), CONTENT_TYPE

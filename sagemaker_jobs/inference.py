"""Serving handlers for the SageMaker scikit-learn container: `model_fn` and `transform_fn`.

Why `transform_fn` and not input_fn/predict_fn/output_fn: the container's toolkit (sagemaker-containers
2.8) turns any exception raised by a user function into HTTP 500 with a generic HTML page, so a client
that sent a bad field would see a server error and the message would reach only the logs. A
`transform_fn` may instead return the toolkit's `worker.Response` with its own status: here 415 for a
wrong content type, 400 naming the field or the body for any other bad request, and 500 only when the
model itself fails. The response names the model that answered (`model_version`: its training job), so
a caller can tell champion from candidate during a canary.
"""

from __future__ import annotations

import json
from typing import Any

from fraud_core.model_artifact import LoadedModel, load_model_dir
from fraud_core.schema import TransactionValidationError, validate_transaction

CONTENT_TYPE = "application/json"
MAX_RECORDS = 1000  # one Kinesis batch: bounded request size and latency
MAX_BODY_BYTES = 6 * 1024 * 1024  # SageMaker's real-time payload limit


class InferenceInputError(ValueError):
    """A request the model cannot answer; `status` is the HTTP status to return."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def model_fn(model_dir: str) -> LoadedModel:
    return load_model_dir(model_dir)


def parse_request(body: str | bytes, content_type: str = CONTENT_TYPE) -> list[dict[str, Any]]:
    """One transaction object, or {"instances": [...]}, as JSON -> validated records."""
    if (content_type or "").split(";")[0].strip() != CONTENT_TYPE:
        raise InferenceInputError(f"content type: must be {CONTENT_TYPE} (got {content_type!r})", 415)
    if len(body) > MAX_BODY_BYTES:
        raise InferenceInputError(f"<body>: must be at most {MAX_BODY_BYTES} bytes (got {len(body)})")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as err:
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        raise InferenceInputError(f"<body>: must be JSON ({reason})") from None
    records = payload["instances"] if isinstance(payload, dict) and "instances" in payload else [payload]
    if not isinstance(records, list) or not 1 <= len(records) <= MAX_RECORDS:
        raise InferenceInputError(f"instances: must be a list of 1 to {MAX_RECORDS} transactions")
    out = []
    for i, record in enumerate(records):
        try:
            out.append(validate_transaction(record))
        except TransactionValidationError as err:
            where = f"instances[{i}]." if len(records) > 1 else ""
            raise InferenceInputError("; ".join(f"{where}{e}" for e in err.errors)) from None
    return out


def predict(records: list[dict[str, Any]], model: LoadedModel) -> dict[str, Any]:
    scores = model.predict_proba(records)
    predictions = [{"transaction_id": r["transaction_id"], "score": float(s), "is_fraud": bool(s >= model.threshold)}
                   for r, s in zip(records, scores.tolist(), strict=True)]
    return {"predictions": predictions, "threshold": model.threshold,
            "model_version": model.meta.get("training_job_name") or "unknown"}


def transform_fn(model: LoadedModel, body: str | bytes, content_type: str, accept: str) -> Any:
    if accept and accept.split(";")[0].strip() not in (CONTENT_TYPE, "*/*"):
        return _response({"error": f"accept: must be {CONTENT_TYPE} (got {accept!r})"}, 406)
    try:
        records = parse_request(body, content_type)
    except InferenceInputError as err:
        return _response({"error": str(err)}, err.status)
    return _response(predict(records, model), 200)


def _response(document: dict[str, Any], status: int) -> Any:
    from sagemaker_containers.beta.framework import worker  # the container's toolkit (provided by the image)

    return worker.Response(response=json.dumps(document), status=status, mimetype=CONTENT_TYPE)

"""Read SageMaker data-capture lines back into the records the endpoint scored and the scores it returned.

One line per captured invocation (the format `local_aws/sagemaker/capture.py` writes and SageMaker documents):
``captureData.endpointInput`` and ``endpointOutput``, each with ``data`` and ``encoding`` (``JSON``, ``CSV``
or ``BASE64``). The input body is the scorer's ``{"instances": [...]}``, the output ``{"predictions": [{"score":
...}, ...]}`` in the same order. A line that cannot be read this way is counted, never silently dropped.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CapturedWindow:
    records: list[dict[str, Any]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    invocations: int = 0
    unreadable: int = 0  # lines (invocations) that were not a capture of this endpoint's contract


def _body(section: dict[str, Any]) -> Any:
    data = section["data"]
    if section.get("encoding") == "BASE64":
        data = base64.b64decode(data).decode("utf-8")
    return json.loads(data)


def _pairs(line: str | bytes) -> tuple[list[dict[str, Any]], list[float]]:
    capture = json.loads(line)["captureData"]
    records = _body(capture["endpointInput"])["instances"]
    scores = [float(p["score"]) for p in _body(capture["endpointOutput"])["predictions"]]
    if not isinstance(records, list) or len(records) != len(scores):
        raise ValueError("instances and predictions differ in number")
    return records, scores


def read_capture(lines: Iterable[str | bytes]) -> CapturedWindow:
    window = CapturedWindow()
    for line in lines:
        if not line.strip():
            continue
        window.invocations += 1
        try:
            records, scores = _pairs(line)
        except (ValueError, KeyError, TypeError, AttributeError):
            window.unreadable += 1
            continue
        window.records += records
        window.scores += scores
    return window

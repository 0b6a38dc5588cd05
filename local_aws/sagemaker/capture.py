"""SageMaker real-time data capture, written to S3 in SageMaker's own format, on the simulated clock.

Format and layout as SageMaker documents them ("Capture data from real-time endpoint",
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html): JSON Lines
under `<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl`, one line per
captured invocation with `captureData.endpointInput` / `endpointOutput` (observedContentType, mode,
data, encoding: JSON or CSV for the content types listed in CaptureContentTypeHeader, BASE64 otherwise)
and `eventMetadata` (eventId, inferenceId when the caller sent one, inferenceTime). Requests are
sampled at InitialSamplingPercentage. Files are written when the first buffered record is
`flush_seconds` old (SageMaker also writes captures in batches, minutes after the request).
"""

from __future__ import annotations

import base64
import json
import random
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from local_aws.clock import SimulatedClock

PutObject = Callable[[str, str, bytes, str | None], Any]  # (bucket, key, body, kms key) -> None


class DataCapture:
    def __init__(self, endpoint_name: str, config: dict[str, Any], clock: SimulatedClock, put: PutObject,
                 flush_seconds: float = 60.0, seed: int = 0) -> None:
        self.endpoint_name, self.config, self.clock, self.put = endpoint_name, config, clock, put
        self.enabled = bool(config.get("EnableCapture", True))
        self.sampling = float(config.get("InitialSamplingPercentage", 100)) / 100.0
        self.modes = {o.get("CaptureMode") for o in config.get("CaptureOptions", [])} or {"Input", "Output"}
        headers = config.get("CaptureContentTypeHeader") or {}
        self.json_types = set(headers.get("JsonContentTypes", []))
        self.csv_types = set(headers.get("CsvContentTypes", []))
        self.bucket, _, prefix = config["DestinationS3Uri"][5:].partition("/")
        self.prefix = prefix.rstrip("/")
        self.kms_key = config.get("KmsKeyId")
        self.flush_seconds = flush_seconds
        self._rng = random.Random(seed)
        self._buffer: dict[tuple[str, str], list[str]] = defaultdict(list)  # (variant, yyyy/mm/dd/hh) -> lines
        self._timer: Any = None
        self._lock = threading.Lock()
        self.captured = 0
        self.files: list[str] = []

    def record(self, variant: str, request: bytes, request_type: str, response: bytes, response_type: str,
               inference_id: str | None = None) -> bool:
        """Buffer one invocation if it is sampled; returns whether it was."""
        if not self.enabled or self._rng.random() >= self.sampling:
            return False
        now = self.clock.now()
        data: dict[str, Any] = {}
        if "Input" in self.modes:
            data["endpointInput"] = self._side(request, request_type, "INPUT")
        if "Output" in self.modes:
            data["endpointOutput"] = self._side(response, response_type, "OUTPUT")
        metadata = {"eventId": str(uuid.uuid4()), "inferenceTime": _iso(now)}
        if inference_id:
            metadata["inferenceId"] = inference_id
        line = json.dumps({"captureData": data, "eventMetadata": metadata, "eventVersion": "0"},
                          separators=(",", ":"))
        with self._lock:
            self._buffer[(variant, now.strftime("%Y/%m/%d/%H"))].append(line)
            self.captured += 1
            if self._timer is None:
                self._timer = self.clock.call_later(self.flush_seconds, self.flush,
                                                    f"data capture: write {self.endpoint_name}")
        return True

    def flush(self) -> list[str]:
        """Write every buffered record now; returns the keys written."""
        with self._lock:
            buffered, self._buffer, self._timer = self._buffer, defaultdict(list), None
        now = self.clock.now()
        written = []
        for (variant, hour), lines in sorted(buffered.items()):
            name = f"{now:%M-%S}-{now.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
            key = "/".join(p for p in (self.prefix, self.endpoint_name, variant, hour, name) if p)
            self.put(self.bucket, key, ("\n".join(lines) + "\n").encode(), self.kms_key)
            written.append(key)
        self.files += written
        return written

    def _side(self, body: bytes, content_type: str, mode: str) -> dict[str, str]:
        base = (content_type or "").split(";")[0].strip()
        if base in self.json_types or base in self.csv_types:
            encoding, data = ("JSON" if base in self.json_types else "CSV"), body.decode("utf-8", errors="replace")
        else:
            encoding, data = "BASE64", base64.b64encode(body).decode()
        return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

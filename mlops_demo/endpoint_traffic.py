"""Live traffic for the endpoint on the simulated clock: a steady stream of transactions through InvokeEndpoint.

While a deployment bakes, requests keep arriving every simulated second, as they would in production, so the
guard alarms see real error rates and latencies and the caller-side outcome of a canary can be counted:
which model answered each request, and how many failed.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


@dataclass
class TrafficWindow:
    """What callers saw between two simulated times."""

    answered: Counter[str] = field(default_factory=Counter)  # model_version -> requests it answered
    failed: Counter[str] = field(default_factory=Counter)  # model_version (or 'unknown') -> failed requests

    @property
    def requests(self) -> int:
        return sum(self.answered.values()) + sum(self.failed.values())


class EndpointTraffic:
    def __init__(self, aws: Any, endpoint: str, records: Sequence[dict[str, Any]], *, per_second: int = 2,
                 batch: int = 1) -> None:
        self.aws, self.endpoint, self.records = aws, endpoint, records
        self.per_second, self.batch = per_second, batch
        self.log: list[tuple[float, str, bool]] = []  # (simulated seconds, model version or error code, ok)
        self._next = 0
        self._timer: Any = None
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._timer is None:
            self._timer = self.aws.clock.call_every(1.0, self._tick, f"traffic to {self.endpoint}")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def window(self, since: float, until: float | None = None) -> TrafficWindow:
        out = TrafficWindow()
        for at, who, ok in list(self.log):
            if at >= since and (until is None or at < until):
                (out.answered if ok else out.failed)[who] += 1
        return out

    def _tick(self) -> None:
        runtime = self.aws.client("sagemaker-runtime")
        for _ in range(self.per_second):
            with self._lock:
                chunk = [self.records[(self._next + i) % len(self.records)] for i in range(self.batch)]
                self._next += self.batch
            body = json.dumps({"instances": chunk} if self.batch > 1 else chunk[0])
            now = self.aws.clock.elapsed_seconds
            try:
                out = runtime.invoke_endpoint(EndpointName=self.endpoint, Body=body, ContentType="application/json")
            except ClientError as err:
                # A model error names the container's status; which model failed is not in the response.
                self.log.append((now, f"error {err.response.get('OriginalStatusCode', err.response['Error']['Code'])}",
                                 False))
                continue
            self.log.append((now, json.loads(out["Body"].read()).get("model_version", "unknown"), True))

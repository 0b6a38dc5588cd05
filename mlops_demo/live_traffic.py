"""Live card traffic on the simulated clock: every simulated second, the next transactions go into the stream.

Producers put records on the transactions stream (PutRecords, partitioned by customer); from there the
Firehose archive and the scoring function read them, as in production. The transactions are simulated for
"now" with the demo's scenario (poison records included when the scenario injects them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlops_demo.producer import put_all


class LiveTraffic:
    def __init__(self, aws: Any, stream: str, records: Sequence[tuple[str, bytes]], per_second: int = 2) -> None:
        self.aws, self.stream, self.records, self.per_second = aws, stream, records, per_second
        self.sent: list[bytes] = []
        self.failed = 0
        self._timer: Any = None

    def start(self) -> None:
        if self._timer is None:
            self._timer = self.aws.clock.call_every(1.0, self._tick, f"live traffic -> {self.stream}")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    @property
    def exhausted(self) -> bool:
        return len(self.sent) >= len(self.records)

    def _tick(self) -> None:
        start = len(self.sent)
        batch = list(self.records[start:start + self.per_second])
        if not batch:
            self.stop()
            return
        report = put_all(self.aws.client("kinesis"), self.stream, batch)
        self.sent += [data for _, data in batch]
        self.failed += report.failed

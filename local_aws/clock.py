"""A simulated clock: time-based behaviour (buffers, bakes, alarm periods) runs in seconds, not minutes.

Every duration measured on it is reported with provenance `simulated-clock`, never as an AWS time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass
class SimulatedClock:
    start: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    elapsed_seconds: float = 0.0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed_seconds)

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError(f"seconds: must be >= 0 (got {seconds})")
        self.elapsed_seconds += seconds
        return self.now()

    sleep = advance  # code written against time.sleep can take the clock's sleep instead

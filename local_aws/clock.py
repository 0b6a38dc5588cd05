"""One simulated clock per local AWS, with timers: buffers, waits, bakes, alarm periods, polls run on it.

Semantics (ADR 0001, "Time"):

- The clock starts at the wall-clock time the local AWS starts and only moves forward.
- `advance(s)` / `advance_to(t)` move it; every timer due on the way fires in due order, and while a
  timer runs, `now()` is its due time. Timers scheduled by a firing timer fire in the same advance
  if they fall due before its target. Timers must not move the clock themselves.
- `sleep(s)` is how emulated services wait (Step Functions Wait states and retry intervals, producer
  backoff): in *driven* mode (the demo and tests) it advances the clock to the moment the sleep
  started plus `s`, so two executions waiting at once overlap instead of adding up; in *real-time*
  mode (`mlops-demo serve`) a ticker advances the clock with wall time times `time_scale`, and
  `sleep` blocks until the ticker reaches the wake-up time.

Every duration read off this clock is reported with provenance `simulated-clock`, never as an AWS time.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

LOG = logging.getLogger("local_aws.clock")


class ClockError(RuntimeError):
    pass


@dataclass(order=True)
class Timer:
    due: float  # seconds since the clock's start
    seq: int
    name: str = field(compare=False)
    callback: Callable[[], Any] = field(compare=False, repr=False)
    every: float | None = field(default=None, compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class SimulatedClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.start = start or datetime.now(UTC).replace(microsecond=0)
        self._now = 0.0
        self._timers: list[Timer] = []
        self._seq = itertools.count()
        self._heap_lock = threading.Lock()
        self._advance_lock = threading.RLock()
        self._moved = threading.Condition()
        self._firing = threading.local()
        self._ticker: _Ticker | None = None
        self.fired: list[tuple[float, str]] = []  # (due, timer name): what ran, in order, for reports and tests
        self.errors: list[tuple[float, str, BaseException]] = []

    # --- reading ---------------------------------------------------------------------------------
    @property
    def elapsed_seconds(self) -> float:
        return self._now

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self._now)

    def at(self, elapsed: float) -> datetime:
        return self.start + timedelta(seconds=elapsed)

    @property
    def realtime(self) -> bool:
        return self._ticker is not None

    # --- timers ----------------------------------------------------------------------------------
    def call_at(self, elapsed: float, callback: Callable[[], Any], name: str) -> Timer:
        """Run `callback` when the clock reaches `elapsed` seconds (at the next advance if already past)."""
        timer = Timer(max(elapsed, self._now), next(self._seq), name, callback)
        with self._heap_lock:
            heapq.heappush(self._timers, timer)
        return timer

    def call_later(self, delay: float, callback: Callable[[], Any], name: str) -> Timer:
        if delay < 0:
            raise ValueError(f"delay: must be >= 0 (got {delay})")
        return self.call_at(self._now + delay, callback, name)

    def call_every(self, period: float, callback: Callable[[], Any], name: str, *, first: float | None = None) -> Timer:
        """Run `callback` every `period` seconds, first at `first` (default: one period from now)."""
        if period <= 0:
            raise ValueError(f"period: must be > 0 (got {period})")
        timer = self.call_at(self._now + period if first is None else first, callback, name)
        timer.every = period
        return timer

    def pending(self) -> list[Timer]:
        with self._heap_lock:
            return sorted(t for t in self._timers if not t.cancelled)

    def next_due(self) -> float | None:
        with self._heap_lock:
            live = [t.due for t in self._timers if not t.cancelled]
        return min(live) if live else None

    # --- moving --------------------------------------------------------------------------------------
    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError(f"seconds: must be >= 0 (got {seconds})")
        return self.advance_to(self._now + seconds)

    def advance_to(self, elapsed: float) -> datetime:
        """Move to `elapsed` seconds after the start (never backwards), firing due timers in order."""
        if getattr(self._firing, "active", False):
            raise ClockError("a timer tried to move the clock; timers run at their due time and must not advance it")
        with self._advance_lock:
            while (timer := self._pop_due(elapsed)) is not None:
                self._set(timer.due)
                self._fire(timer)
            self._set(max(self._now, elapsed))
        return self.now()

    def run_until_idle(self, limit: float) -> datetime:
        """Fire one-shot timers until none is pending within `limit` seconds from now (periodic ones keep going)."""
        end = self._now + limit
        while True:
            with self._heap_lock:
                one_shots = [t.due for t in self._timers if not t.cancelled and t.every is None]
            due = min(one_shots) if one_shots else None
            if due is None or due > end:
                return self.now()
            self.advance_to(due)

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of simulated time (see the module docstring for the two modes)."""
        wake = self._now + max(0.0, seconds)
        if self._ticker is None:
            self.advance_to(wake)
            return
        with self._moved:
            self._moved.wait_for(lambda: self._now >= wake or self._ticker is None)

    def _pop_due(self, limit: float) -> Timer | None:
        with self._heap_lock:
            while self._timers and self._timers[0].cancelled:
                heapq.heappop(self._timers)
            if not self._timers or self._timers[0].due > limit:
                return None
            return heapq.heappop(self._timers)

    def _set(self, elapsed: float) -> None:
        with self._moved:
            self._now = max(self._now, elapsed)
            self._moved.notify_all()

    def _fire(self, timer: Timer) -> None:
        self._firing.active = True
        try:
            timer.callback()
        except Exception as err:  # one failing service must not stop time for the others: recorded, logged
            self.errors.append((timer.due, timer.name, err))
            LOG.exception("timer %r due at %.3f s failed", timer.name, timer.due)
        finally:
            self._firing.active = False
        self.fired.append((timer.due, timer.name))
        if timer.every is not None and not timer.cancelled:
            timer.due += timer.every
            timer.seq = next(self._seq)
            with self._heap_lock:
                heapq.heappush(self._timers, timer)

    # --- real time (serve mode) ------------------------------------------------------------------------
    def run_in_real_time(self, time_scale: float = 1.0, tick_s: float = 0.1) -> None:
        """From now on a background ticker advances the clock by `time_scale` x the wall time that passes."""
        if time_scale <= 0:
            raise ValueError(f"time_scale: must be > 0 (got {time_scale})")
        self.stop_real_time()
        self._ticker = _Ticker(self, time_scale, tick_s)
        self._ticker.start()

    def stop_real_time(self) -> None:
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.stop()
        with self._moved:
            self._moved.notify_all()

    @property
    def time_scale(self) -> float | None:
        return self._ticker.time_scale if self._ticker else None


class _Ticker:
    def __init__(self, clock: SimulatedClock, time_scale: float, tick_s: float) -> None:
        self.clock, self.time_scale, self.tick_s = clock, time_scale, tick_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="simulated-clock-ticker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        origin_wall, origin_sim = time.monotonic(), self.clock.elapsed_seconds
        while not self._stop.wait(self.tick_s):
            target = origin_sim + (time.monotonic() - origin_wall) * self.time_scale
            self.clock.advance_to(target)

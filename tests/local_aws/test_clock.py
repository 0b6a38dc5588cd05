"""The one simulated clock: timers fire in due order at their due time; sleeps overlap; real-time mode."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from local_aws.clock import ClockError, SimulatedClock

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_advancing_fires_due_timers_in_order_each_at_its_due_time() -> None:
    clock = SimulatedClock(START)
    seen: list[tuple[str, float]] = []
    clock.call_at(30, lambda: seen.append(("b", clock.elapsed_seconds)), "b")
    clock.call_at(10, lambda: seen.append(("a", clock.elapsed_seconds)), "a")
    clock.call_at(90, lambda: seen.append(("late", clock.elapsed_seconds)), "late")
    clock.advance(60)
    assert seen == [("a", 10), ("b", 30)]
    assert clock.elapsed_seconds == 60 and clock.now() == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert [name for _, name in clock.fired] == ["a", "b"]


def test_periodic_timers_repeat_and_timers_they_schedule_fire_in_the_same_advance() -> None:
    clock = SimulatedClock(START)
    ticks: list[float] = []
    clock.call_every(60, lambda: ticks.append(clock.elapsed_seconds), "period")
    clock.call_at(5, lambda: clock.call_later(10, lambda: ticks.append(-clock.elapsed_seconds), "child"), "parent")
    clock.advance(180)
    assert ticks == [-15, 60, 120, 180]


def test_cancelled_timers_do_not_fire() -> None:
    clock = SimulatedClock(START)
    timer = clock.call_later(1, lambda: pytest.fail("cancelled"), "x")
    timer.cancel()
    clock.advance(5)
    assert clock.pending() == []


def test_a_timer_may_not_move_the_clock_and_its_error_is_recorded_not_raised() -> None:
    clock = SimulatedClock(START)
    clock.call_at(1, lambda: clock.advance(10), "rogue")
    clock.advance(2)
    ((due, name, err),) = clock.errors
    assert (due, name) == (1, "rogue") and isinstance(err, ClockError)
    assert clock.elapsed_seconds == 2


def test_in_driven_mode_sleep_moves_the_clock_and_fires_what_falls_due() -> None:
    clock = SimulatedClock(START)
    fired = threading.Event()
    clock.call_later(20, fired.set, "due in 20 s")
    clock.sleep(30)
    assert clock.elapsed_seconds == 30 and fired.is_set()


def test_in_real_time_mode_sleep_waits_for_the_ticker() -> None:
    clock = SimulatedClock(START)
    clock.run_in_real_time(time_scale=1000, tick_s=0.005)  # 1 ms of wall time is 1 simulated second
    try:
        fired = threading.Event()
        clock.call_later(20, fired.set, "due in 20 s")
        clock.sleep(30)
        assert clock.elapsed_seconds >= 30 and fired.is_set()
    finally:
        clock.stop_real_time()

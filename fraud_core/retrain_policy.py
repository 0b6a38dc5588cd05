"""Whether a drift alarm may start the training pipeline now: one run at a time, a cool-down, never on bad data.

- A data-quality alarm blocks retraining: a window with broken units or a field gone null is not the world
  changing, it is a producer breaking, and a model trained on it would learn the breakage (ADR 0008). The
  pipeline's own preprocess check refuses such data too; the block stops the run before it costs a job.
- One run at a time: a second run would train on the same window and race the first to the registry.
- The cool-down bounds how often drift can retrain: a drift that a retrained model does not cure would
  otherwise retrain every time the alarm re-fires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RetrainDecision:
    start: bool
    reason: str


def decide_retrain(*, now: datetime, running: int, last_started: datetime | None, cooldown_hours: float,
                   data_quality_alarm: str, data_quality_reason: str = "") -> RetrainDecision:
    """``data_quality_alarm`` is the data-quality alarm's state (OK, ALARM or INSUFFICIENT_DATA)."""
    if data_quality_alarm == "ALARM":
        why = f": {data_quality_reason}" if data_quality_reason else ""
        return RetrainDecision(False, f"blocked: the data-quality alarm is in ALARM{why}; retraining on this "
                                      "data would teach the model the breakage")
    if running:
        return RetrainDecision(False, f"skipped: {running} training run(s) in progress")
    if last_started is not None:
        ready = last_started + timedelta(hours=cooldown_hours)
        if now < ready:
            return RetrainDecision(False, f"skipped: cool-down of {cooldown_hours:g} h after the run started "
                                          f"{last_started:%Y-%m-%dT%H:%M:%SZ} lasts until {ready:%Y-%m-%dT%H:%M:%SZ}")
    return RetrainDecision(True, "started")


def quality_action(*, now: datetime, live_deployed_at: datetime | None, rollback_days: float,
                   rollback_target: str | None) -> RetrainDecision:
    """A quality regression: roll back when the live model is new (its first matured windows) and a known-good
    predecessor exists, else retrain. `start` True means retrain; a rollback is said in the reason.

    The quality monitor judges only the live model's own decisions, which mature label_maturity_days after they
    are made: "soon after a deployment" is the first windows that can be judged at all, not the first hours.
    """
    recent = live_deployed_at is not None and now - live_deployed_at <= timedelta(days=rollback_days)
    if recent and rollback_target:
        return RetrainDecision(False, f"rollback: the live model was deployed {live_deployed_at:%Y-%m-%dT%H:%M:%SZ}, "
                                      f"within {rollback_days:g} days, and regressed on its first matured decisions; "
                                      f"back to {rollback_target}")
    why = "no known-good predecessor" if recent else f"deployed more than {rollback_days:g} days ago"
    return RetrainDecision(True, f"retrain: the live model regressed ({why})")

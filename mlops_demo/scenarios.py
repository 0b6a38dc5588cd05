"""What each `--scenario` means for the story: the traffic the champion learned from, the live traffic it then
meets, and the ending monitoring must reach. The story checks the ending (`mlops-demo demo` exits 1 otherwise),
so a scenario's claim is tested by every run, not described.

Monitoring scenarios change the world *after* the champion was trained: its history is baseline traffic and
the live traffic carries the change. The data-path scenarios (poison records, late labels) are about the data
the pipeline and the scorer read, so their history carries them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fraud_core.simulator import SCENARIOS

# Endings, as the monitor stage observes them (mlops_demo/stages/monitor.py).
NO_ALARM: Final = "no_alarm"  # drift and data-quality alarms stay quiet
RETRAINED_ON_DRIFT: Final = "retrained_on_drift"  # drift alarm -> the retrain trigger started the pipeline
RETRAINING_BLOCKED: Final = "retraining_blocked"  # drift alarm, but data quality in ALARM: no run started
DRIFT_ALARM_HELD: Final = "drift_alarm_held"  # drift alarm; the trigger held retraining (cool-down or a run)
DATA_QUALITY_ALARM: Final = "data_quality_alarm"  # data quality in ALARM, no drift
RETRAINED_ON_QUALITY: Final = "retrained_on_quality"  # quality alarm on matured labels -> retraining started
TRAINING_REFUSED: Final = "training_refused"  # the pipeline refused the first window: nothing serves to monitor


@dataclass(frozen=True)
class StoryScenario:
    name: str
    history: str  # simulator scenario of the training history
    live: str  # simulator scenario of the live traffic
    expected: str  # the ending the monitor stage must observe
    why: str
    served_month: bool = False  # also replay a month of served traffic whose labels matured (quality monitor)


STORY_SCENARIOS: Final = {s.name: s for s in (
    StoryScenario("baseline", "baseline", "baseline", NO_ALARM, "nothing changed: no alarm may fire"),
    StoryScenario("covariate_shift", "baseline", "covariate_shift", RETRAINED_ON_DRIFT,
                  "amounts moved: drift on the amount features starts retraining"),
    StoryScenario("units_break", "baseline", "units_break", RETRAINING_BLOCKED,
                  "a producer sends cents: data quality pages and blocks retraining"),
    StoryScenario("new_merchant_category", "baseline", "new_merchant_category", RETRAINING_BLOCKED,
                  "15% of traffic in a category training never saw: a person decides (new market or bad producer)"),
    StoryScenario("nulls", "baseline", "nulls", DATA_QUALITY_ALARM,
                  "a field arrives null: data quality pages; nulls are not drift"),
    StoryScenario("concept_drift", "baseline", "concept_drift", RETRAINED_ON_QUALITY,
                  "a new fraud pattern with familiar features: the features do not move; matured labels show recall "
                  "falling, and the quality alarm retrains", served_month=True),
    StoryScenario("poison", "poison", "poison", NO_ALARM, "invalid records are dead-lettered, the rest is normal"),
    StoryScenario("label_delay", "label_delay", "label_delay", TRAINING_REFUSED,
                  "legitimate labels arrive after 90 days, not 30: the window has only fraud labels, and the pipeline "
                  "refuses it rather than learn that everything is fraud"),
)}

if set(STORY_SCENARIOS) != set(SCENARIOS):  # a new simulator scenario must say what the story expects of it
    raise RuntimeError(f"story scenarios {sorted(STORY_SCENARIOS)} != simulator scenarios {sorted(SCENARIOS)}")


def story_scenario(name: str) -> StoryScenario:
    return STORY_SCENARIOS[name]

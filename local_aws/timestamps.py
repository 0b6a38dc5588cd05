"""What moto stamps carries the simulated clock's time: records, metrics, log events, jobs, executions.

moto reads wall-clock time in two ways: modules that imported `moto.core.utils.utcnow` by name, and
Step Functions modules that call `datetime.datetime.now(...)` on the `datetime` module. Both are
rebound, per module, to the local AWS's one clock, so a Kinesis arrival time, a metric datapoint, a
history event and a Wait state all agree on what time it is. S3 object dates stay on the wall clock
(nothing here reads them; docs/local-aws.md lists it among the differences).
"""

from __future__ import annotations

import datetime as _datetime
import importlib
import types
from typing import Any

from local_aws.clock import SimulatedClock
from local_aws.patching import MotoPatches

# Modules that did `from moto.core.utils import utcnow` (naive UTC datetimes).
UTCNOW_USERS = (
    "moto.awslambda.models", "moto.cloudwatch.models", "moto.firehose.models", "moto.kinesis.models",
    "moto.logs.models", "moto.sagemaker.models", "moto.stepfunctions.models", "moto.sns.models",
)
# Modules that call datetime.datetime.now(...) through the `datetime` module.
DATETIME_MODULE_USERS = (
    "moto.stepfunctions.parser.models",
    "moto.stepfunctions.parser.backend.execution",
    "moto.stepfunctions.parser.asl.component.state.state",
    "moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp",
    "moto.stepfunctions.parser.asl.eval.event.event_manager",
)


def clock_datetime_module(clock: SimulatedClock) -> types.ModuleType:
    """A stand-in for the `datetime` module whose `datetime.now()` reads `clock` (UTC)."""

    class ClockDatetime(_datetime.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> _datetime.datetime:  # type: ignore[override]
            now = clock.now()
            return now.astimezone(tz) if tz is not None else now.replace(tzinfo=None)

        @classmethod
        def utcnow(cls) -> _datetime.datetime:  # type: ignore[override]
            return clock.now().replace(tzinfo=None)

    shim = types.ModuleType("datetime")
    shim.__dict__.update({k: v for k, v in vars(_datetime).items() if not k.startswith("__")})
    shim.datetime = ClockDatetime  # type: ignore[attr-defined]
    return shim


def install(patches: MotoPatches, clock: SimulatedClock) -> None:
    def utcnow() -> _datetime.datetime:
        return clock.now().replace(tzinfo=None)

    for name in UTCNOW_USERS:
        module = importlib.import_module(name)
        patches.replace(module, "utcnow", utcnow, why="moto stamps the simulated clock's time")
    shim = clock_datetime_module(clock)
    for name in DATETIME_MODULE_USERS:
        module = importlib.import_module(name)
        patches.expect(getattr(module, "datetime", None) is _datetime, f"{name} imports the datetime module")
        patches.replace(module, "datetime", shim, why="Step Functions dates and waits read the simulated clock")

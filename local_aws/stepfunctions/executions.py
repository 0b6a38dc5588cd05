"""Run a state machine on the local AWS and follow it state by state (for the demo and tests)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local_aws.runtime import LocalAws

_ENTERED = "StateEntered"


@dataclass
class ExecutionResult:
    arn: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    states: list[str] = field(default_factory=list)  # names of states entered, in order
    transitions: int = 0  # entered states: what Standard workflows bill
    wall_seconds: float = 0.0
    simulated_seconds: float = 0.0
    started_at: float = 0.0  # simulated-clock seconds since the clock's start


def run_execution(aws: LocalAws, state_machine_arn: str, name: str, payload: dict[str, Any] | None = None, *,
                  on_state: Callable[[str, float], Any] | None = None, timeout_s: float = 600.0) -> ExecutionResult:
    """Start an execution and wait for it; moto's interpreter runs it on a background thread.

    `on_state(name, t)` hears each state as it is entered, `t` being the simulated-clock seconds of its
    history event (when it was entered, not when this follower saw it)."""
    sim_start = aws.clock.elapsed_seconds
    arn = aws.client("stepfunctions").start_execution(stateMachineArn=state_machine_arn, name=name,
                                                      input=json.dumps(payload or {}))["executionArn"]
    return follow_execution(aws, arn, on_state=on_state, timeout_s=timeout_s, since=sim_start)


def follow_execution(aws: LocalAws, arn: str, *, on_state: Callable[[str, float], Any] | None = None,
                     timeout_s: float = 600.0, since: float | None = None) -> ExecutionResult:
    """Wait for a running (or finished) execution, e.g. one an EventBridge rule started."""
    sfn = aws.client("stepfunctions")
    started = time.perf_counter()
    sim_start = aws.clock.elapsed_seconds if since is None else since
    states: list[str] = []
    seen = 0
    while True:
        desc = sfn.describe_execution(executionArn=arn)
        done = desc["status"] != "RUNNING"
        if on_state or done:  # without a listener, the history is read once, at the end
            events = _history(sfn, arn)
            for event in events[seen:]:
                if event["type"].endswith(_ENTERED):
                    states.append(event["stateEnteredEventDetails"]["name"])
                    if on_state:
                        entered = (event["timestamp"] - aws.clock.start).total_seconds()
                        on_state(states[-1], entered)
            seen = len(events)
        if done:
            break
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"execution {arn} still RUNNING after {timeout_s:.0f} s (wall clock)")
        time.sleep(0.02)  # waiting for the interpreter thread, not for simulated time
    return ExecutionResult(
        arn=arn, status=desc["status"], output=json.loads(desc["output"]) if desc.get("output") else None,
        error=desc.get("error"), cause=desc.get("cause"), states=states, transitions=len(states),
        wall_seconds=time.perf_counter() - started, simulated_seconds=aws.clock.elapsed_seconds - sim_start,
        started_at=(desc["startDate"] - aws.clock.start).total_seconds())


def executions_of(aws: LocalAws, state_machine_arn: str) -> list[str]:
    """Execution ARNs of a state machine, oldest first."""
    sfn = aws.client("stepfunctions")
    found = sfn.list_executions(stateMachineArn=state_machine_arn, maxResults=1000)["executions"]
    return [e["executionArn"] for e in sorted(found, key=lambda e: e["startDate"])]


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]

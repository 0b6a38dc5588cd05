"""DescribeAlarms applies every filter it is given, as on AWS (moto 5.2.5 uses only the first of ActionPrefix,
AlarmNamePrefix, AlarmNames, StateValue, so AlarmNames with StateValue=ALARM returned every named alarm)."""

from __future__ import annotations

from typing import Any

from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

from local_aws.patching import MotoPatches


def install(patches: MotoPatches) -> None:
    def describe_alarms(self: CloudWatchResponse) -> Any:
        names = set(self._get_param("AlarmNames", []) or [])
        prefix, actions = self._get_param("AlarmNamePrefix"), self._get_param("ActionPrefix")
        state = self._get_param("StateValue")
        alarms = [a for a in self.cloudwatch_backend.describe_alarms()
                  if (not names or a.name in names) and (not prefix or a.name.startswith(prefix))
                  and (not state or a.state_value == state)
                  and (not actions or any(str(x).startswith(actions) for x in a.alarm_actions or []))]
        return ActionResult({"MetricAlarms": [a for a in alarms if a.rule is None],
                             "CompositeAlarms": [a for a in alarms if a.rule is not None]})

    patches.replace(CloudWatchResponse, "describe_alarms", describe_alarms,
                    why="DescribeAlarms applies all its filters together")

"""CloudWatch Logs fixes: FilterLogEvents honours logStreamNamePrefix (moto 5.2.5 ignores it, so
`aws logs tail --log-stream-name-prefix` showed every stream of the group)."""

from __future__ import annotations

import json
from typing import Any

from moto.logs.responses import LogsResponse

from local_aws.patching import MotoPatches


def install(patches: MotoPatches) -> None:
    original = LogsResponse.filter_log_events

    def filter_log_events(self: LogsResponse) -> Any:
        prefix = self._get_param("logStreamNamePrefix")
        if not prefix or self._get_param("logStreamNames"):
            return original(self)
        group_name = self._get_param("logGroupName")
        group = self.logs_backend.groups.get(group_name)
        names = sorted(n for n in (group.streams if group else {}) if n.startswith(prefix))
        if not names:
            return json.dumps({"events": [], "searchedLogStreams": []})
        events, next_token, searched = self.logs_backend.filter_log_events(
            group_name, names, self._get_param("startTime"), self._get_param("endTime"), self._get_param("limit"),
            self._get_param("nextToken"), self._get_param("filterPattern"), self._get_param("interleaved", False))
        return json.dumps({"events": events, "nextToken": next_token, "searchedLogStreams": searched})

    patches.replace(LogsResponse, "filter_log_events", filter_log_events,
                    why="FilterLogEvents honours logStreamNamePrefix")

"""Put lines into a CloudWatch Logs stream the way a service's log agent would (group and stream created if missing)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

MAX_EVENTS_PER_CALL = 10_000  # PutLogEvents' limit


def write_log_lines(logs: Any, group: str, stream: str, lines: Sequence[str], first_ms: int) -> None:
    """One event per line, timestamps first_ms, first_ms + 1, ... so their order is kept.

    The group is created only when the stream cannot be (its first stream): a failed CreateLogGroup per
    invocation, an exception through botocore each time, was a tenth of the 100,000-record scoring test."""
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    except logs.exceptions.ResourceNotFoundException:
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
    events = [{"timestamp": first_ms + i, "message": line} for i, line in enumerate(lines) if line]
    for start in range(0, len(events), MAX_EVENTS_PER_CALL):
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=events[start:start + MAX_EVENTS_PER_CALL])

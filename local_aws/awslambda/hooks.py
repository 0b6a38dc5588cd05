"""Binds the in-process Lambda runtime into moto (moto would run functions in Docker); each invocation's
output goes to CloudWatch Logs where Lambda puts it: /aws/lambda/<function>, stream YYYY/MM/DD/[$LATEST]<id>."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from moto.awslambda.models import LambdaFunction

from local_aws.awslambda.runtime import InProcessLambdaRunner
from local_aws.clock import SimulatedClock
from local_aws.logs.emf import emf_datapoints
from local_aws.patching import MotoPatches

LogWriter = Callable[[str, str, list[str], int], None]  # (group, stream, lines, first timestamp in ms)
MetricWriter = Callable[[str, list[dict[str, Any]]], None]  # (namespace, PutMetricData data)


def install(patches: MotoPatches, runner: InProcessLambdaRunner, clock: SimulatedClock, write_logs: LogWriter,
            put_metrics: MetricWriter) -> None:
    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        payload = json.loads(event) if isinstance(event, str) else (event or {})
        invocation = runner.invoke(
            function_name=self.function_name, handler=self.handler, code_zip=self.code_bytes,
            code_sha=self.code_sha_256, environment=dict(self.environment_vars), event=payload,
            arn=self.function_arn, memory=self.memory_size, timeout=int(self.timeout))
        now = clock.now()
        stream = f"{now:%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        lines = invocation.log_lines()
        write_logs(f"/aws/lambda/{self.function_name}", stream, lines, int(now.timestamp() * 1000))
        for line in lines:  # embedded metric format lines become metrics, as CloudWatch Logs extracts them
            for namespace, datum in emf_datapoints(line, now):
                put_metrics(namespace, [datum])
        return invocation.payload, invocation.errored, ""

    patches.replace(LambdaFunction, "_invoke_lambda", _invoke_lambda,
                    why="Invoke runs the deployed handler in-process (no Docker) and logs to CloudWatch Logs")

"""Binds the in-process Lambda runtime into moto (moto would run functions in Docker)."""

from __future__ import annotations

import json
from typing import Any

from moto.awslambda.models import LambdaFunction

from local_aws.awslambda.runtime import InProcessLambdaRunner
from local_aws.patching import MotoPatches


def install(patches: MotoPatches, runner: InProcessLambdaRunner) -> None:
    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        payload = json.loads(event) if isinstance(event, str) else (event or {})
        result, errored = runner.invoke(
            function_name=self.function_name, handler=self.handler, code_zip=self.code_bytes,
            code_sha=self.code_sha_256, environment=dict(self.environment_vars), event=payload,
            arn=self.function_arn, memory=self.memory_size, timeout=int(self.timeout))
        return result, errored, ""

    patches.replace(LambdaFunction, "_invoke_lambda", _invoke_lambda,
                    why="Invoke runs the deployed handler in-process (no Docker)")

"""Fixes and clock bindings for moto's Step Functions interpreter, so a definition behaves as on AWS.

- Wait states and Retry intervals wait on the simulated clock instead of sleeping.
- `$$.Execution.StartTime` is an ISO-8601 string, as on AWS.
- A definite JSONPath (names and [n] only) selects one value, not a one-element list.
- aws-sdk task errors are named `<Service>.<ErrorCode>` (SageMaker.ThrottlingException).
- StartExecution: a missing name becomes a UUID, names follow AWS's rules, bad input JSON is
  `InvalidExecutionInput` (moto 5.2.5: name `None`, no checks, an empty error code).
- GetExecutionHistory pages (`maxResults`, default 100, `nextToken`) and honours `reverseOrder`.
"""

from __future__ import annotations

import base64
import importlib
import json
import re
import uuid
from datetime import UTC
from typing import Any

from moto.stepfunctions import exceptions as sfn_errors
from moto.stepfunctions.responses import StepFunctionResponse

from local_aws.clock import SimulatedClock
from local_aws.patching import MotoPatches

# StartExecution `name`: https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
MAX_NAME_LENGTH = 80
_FORBIDDEN_NAME_CHARS = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
MAX_INPUT_BYTES = 256 * 1024
HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX = 100, 1000


def execution_name_error(name: str) -> str | None:
    """Why AWS would reject `name` as an execution name, or None if it is valid."""
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        return f"name: must be 1 to {MAX_NAME_LENGTH} characters (got {len(name)})"
    bad = _FORBIDDEN_NAME_CHARS.search(name)
    if bad:
        return (f"name: must not contain whitespace, brackets, wildcards, control characters or any of "
                f"\"#%\\^|~`$&,;:/ (got {bad.group(0)!r} in {name!r})")
    return None


def install(patches: MotoPatches, clock: SimulatedClock) -> None:
    _install_clock(patches, clock)
    _install_context_object_fix(patches)
    _install_json_path_fix(patches)
    _install_sdk_error_names(patches)
    _install_start_execution(patches)
    _install_history_paging(patches)


def _install_clock(patches: MotoPatches, clock: SimulatedClock) -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        clock.sleep(max(0, wait_seconds))

    class _ClockTime:
        @staticmethod
        def sleep(seconds: float) -> None:
            clock.sleep(seconds)

    patches.replace(wait_function.WaitFunction, "_wait_interval", _wait_interval,
                    why="Wait states wait on the simulated clock")
    patches.replace(retrier_decl, "time", _ClockTime,
                    why="Retry intervals (retrier_decl calls time.sleep) wait on the simulated clock")


def _install_context_object_fix(patches: MotoPatches) -> None:
    """moto 5.2.5 passes a datetime as $$.Execution.StartTime, which fails to serialise wherever a definition
    uses it ("Object of type datetime is not JSON serializable")."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = ExecutionWorker._get_evaluation_environment

    def _get_evaluation_environment(self: Any) -> Any:
        env = original(self)
        execution = env.states.context_object.context_object_data["Execution"]
        start = execution.get("StartTime")
        if hasattr(start, "isoformat"):
            execution["StartTime"] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
                f"{start.microsecond // 1000:03d}Z"
        return env

    patches.replace(ExecutionWorker, "_get_evaluation_environment", _get_evaluation_environment,
                    why="$$.Execution.StartTime is an ISO-8601 string on AWS")


_DEFINITE_PATH = re.compile(r"\$(?:\.[A-Za-z0-9_\-]+|\[\d+\])*")
_JSON_PATH_USERS = (
    "moto.stepfunctions.parser.asl.utils.json_path",
    "moto.stepfunctions.parser.asl.eval.states",
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.intrinsic.argument.argument",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.string_operators",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.numeric",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.boolean_equals",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.timestamp_operators",
)


def _install_json_path_fix(patches: MotoPatches) -> None:
    """moto 5.2.5 returns a one-element list for paths such as $.Containers[0].ModelDataUrl (a workaround
    for its issue 7825), so a definition that works on AWS would pass a list where AWS passes a string."""
    from jsonpath_ng.ext import parse
    from moto.stepfunctions.parser.asl.utils import json_path

    original = json_path.extract_json

    def extract_json(path: str, data: Any) -> Any:
        if _DEFINITE_PATH.fullmatch(path):
            matches = parse(path).find(data)
            if len(matches) == 1:
                return matches[0].value
        return original(path, data)

    # Each user imported the function by name, so each module's reference is replaced.
    for name in _JSON_PATH_USERS:
        module = importlib.import_module(name)
        patches.expect(getattr(module, "extract_json", None) is original,
                       f"{name} imports extract_json from moto.stepfunctions.parser.asl.utils.json_path")
        patches.replace(module, "extract_json", extract_json, why="a definite JSONPath selects one value")


def _install_sdk_error_names(patches: MotoPatches) -> None:
    """moto 5.2.5 names every ClientError after the service (`sagemaker.sagemakerException`), so a Retry
    written for AWS's error names would never match locally."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as sdk,
    )

    patches.replace(sdk, "_SERVICE_ERROR_NAMES", {**sdk._SERVICE_ERROR_NAMES, "sagemaker": "SageMaker", "s3": "S3"},
                    why="aws-sdk errors use the service's PascalCase name")
    original = sdk.StateTaskServiceAwsSdk._normalise_exception_name

    def _normalise_exception_name(norm_service_name: str, ex: Exception) -> str:
        code = getattr(ex, "response", {}).get("Error", {}).get("Code")
        if not code:
            return original(norm_service_name, ex)
        return f"{norm_service_name}.{code}" + ("" if code.endswith("Exception") else "Exception")

    patches.replace(sdk.StateTaskServiceAwsSdk, "_normalise_exception_name", staticmethod(_normalise_exception_name),
                    why="aws-sdk task errors are named <Service>.<ErrorCode>")


def _install_start_execution(patches: MotoPatches) -> None:
    from moto.core.responses import ActionResult

    def start_execution(self: StepFunctionResponse) -> Any:
        name = self._get_param("name")
        if name is None:
            name = str(uuid.uuid4())  # AWS generates a UUID for an unnamed execution
        problem = execution_name_error(name)
        if problem:
            raise sfn_errors.InvalidName(f"Invalid Name: '{name}' ({problem})")
        raw = self._get_param("input", if_none="{}")
        if len(raw.encode()) > MAX_INPUT_BYTES:
            raise sfn_errors.InvalidExecutionInput(f"Invalid State Machine Execution Input: larger than "
                                                   f"{MAX_INPUT_BYTES} bytes")
        try:
            json.loads(raw)
        except ValueError as err:
            raise sfn_errors.InvalidExecutionInput(f"Invalid State Machine Execution Input: '{err}'") from None
        execution = self.stepfunction_backend.start_execution(self._get_param("stateMachineArn"), name, raw)
        return ActionResult({"executionArn": execution.execution_arn, "startDate": execution.start_date})

    patches.replace(StepFunctionResponse, "start_execution", start_execution,
                    why="StartExecution names unnamed executions with a UUID and validates name and input")


def _install_history_paging(patches: MotoPatches) -> None:
    from moto.core.responses import ActionResult

    def get_execution_history(self: StepFunctionResponse) -> Any:
        arn = self._get_param("executionArn")
        size = int(self._get_param("maxResults") or HISTORY_PAGE_DEFAULT)
        if not 0 <= size <= HISTORY_PAGE_MAX:
            raise sfn_errors.ValidationException(f"maxResults: must be between 0 and {HISTORY_PAGE_MAX}")
        size = size or HISTORY_PAGE_DEFAULT  # 0 means the default, as on AWS
        events = list(self.stepfunction_backend.get_execution_history(arn)["events"])
        if self._get_param("reverseOrder"):
            events.reverse()
        start = _decode_token(self._get_param("nextToken"))
        page: dict[str, Any] = {"events": events[start:start + size]}
        if start + size < len(events):
            page["nextToken"] = _encode_token(start + size)
        return ActionResult(page)

    patches.replace(StepFunctionResponse, "get_execution_history", get_execution_history,
                    why="GetExecutionHistory pages and honours reverseOrder")


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError):
        raise sfn_errors.InvalidToken(repr(token)) from None

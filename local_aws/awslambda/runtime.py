"""Lambda functions invoked on the local AWS run in-process (moto would need Docker).

The function's deployed code (the zip moto stored from the CDK asset) is unpacked once per code
hash and its handler imported under a unique module name; the function's environment variables
are applied for the duration of the call. Errors come back as Lambda reports them: a
FunctionError with errorType/errorMessage, which Step Functions maps to a task failure.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str = "local-request"
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"

    timeout_s: int = 3

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_s * 1000  # the whole budget: the local run is not interrupted


class _InvocationLog(io.TextIOBase):
    """A stdout stand-in: loggers created at import (Powertools binds sys.stdout then) keep writing here,
    and each invocation's lines go to that invocation's buffer, as CloudWatch Logs would keep them."""

    def __init__(self) -> None:
        self.buffer_for_call: io.StringIO | None = None

    def write(self, text: str) -> int:
        if self.buffer_for_call is not None:
            self.buffer_for_call.write(text)
        return len(text)


# One sink for the process: Powertools caches loggers by service name, so a handler imported again by a
# later runner keeps writing to the stream the first import bound.
_LOG_SINK = _InvocationLog()


@dataclass
class Invocation:
    function_name: str
    request_id: str
    payload: str  # the result, or Lambda's error document when `errored`
    errored: bool
    logs: str  # what the handler wrote to stdout
    duration_ms: float  # measured-local
    memory_mb: int

    def log_lines(self) -> list[str]:
        """The invocation's CloudWatch Logs events, framed by Lambda's START/END/REPORT lines."""
        rid = self.request_id
        return [f"START RequestId: {rid} Version: $LATEST", *self.logs.splitlines(), f"END RequestId: {rid}",
                f"REPORT RequestId: {rid}\tDuration: {self.duration_ms:.2f} ms\tBilled Duration: "
                f"{max(1, round(self.duration_ms))} ms\tMemory Size: {self.memory_mb} MB"]


class InProcessLambdaRunner:
    """Runs handlers in this process, one invocation at a time. While a handler runs, `time.time()` reads the
    local AWS's simulated clock (when one is given), so times a function computes (lags, timestamps) agree with
    the records and events it reads, and `time.sleep()` returns at once (see `_clock_time`);
    `time.perf_counter()` and `time.monotonic()` stay real."""

    def __init__(self, workdir: Path, now: Any = None) -> None:
        self.workdir = workdir.resolve()
        self.now = now  # () -> epoch seconds on the simulated clock
        self.invocations: list[dict[str, Any]] = []
        self._handlers: dict[str, Any] = {}
        self._log = _LOG_SINK
        self._one_at_a_time = threading.RLock()
        self._crashes: dict[str, int] = {}  # function name -> invocations still to crash

    def inject_crash(self, function_name: str, times: int = 1) -> None:
        """The next `times` invocations run the handler to its end, then the runtime dies before answering:
        every side effect happened, yet Lambda sees a failed invocation (the worst case for duplicates)."""
        self._crashes[function_name] = self._crashes.get(function_name, 0) + times

    def invoke(self, *, function_name: str, handler: str, code_zip: bytes, code_sha: str,
               environment: dict[str, str], event: Any, arn: str, memory: int = 128, timeout: int = 3,
               ) -> Invocation:
        """Run the handler once. Invocations are serialized: stdout is process-wide, and each one's output
        must land in its own log (Lambda runs one event per execution environment at a time anyway)."""
        with self._one_at_a_time:
            fn = self._load(handler, code_zip, code_sha)
            context = LambdaContext(function_name, int(memory), arn, aws_request_id=str(uuid.uuid4()),
                                    log_group_name=f"/aws/lambda/{function_name}", timeout_s=timeout)
            # A function's stdout is its CloudWatch log stream, not the caller's console: keep it per invocation.
            logs = self._log.buffer_for_call = io.StringIO()
            started = time.perf_counter()
            env = {**environment, "AWS_LAMBDA_FUNCTION_NAME": function_name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE":
                   str(memory), "AWS_LAMBDA_LOG_GROUP_NAME": context.log_group_name}
            with _environment(env), redirect_stdout(self._log), _clock_time(self.now):
                try:
                    payload, errored = json.dumps(fn(event, context)), False
                except Exception as err:  # reported as the function's error, as Lambda does
                    payload, errored = json.dumps({"errorType": type(err).__name__, "errorMessage": str(err),
                                                   "stackTrace": traceback.format_exc().splitlines()[-5:]}), True
            if self._crashes.get(function_name, 0) > 0:
                self._crashes[function_name] -= 1
                payload, errored = json.dumps({"errorType": "Runtime.ExitError", "errorMessage":
                                               "RequestId: injected crash: the runtime exited before answering"}), True
            invocation = Invocation(function_name, context.aws_request_id, payload, errored, logs.getvalue(),
                                    (time.perf_counter() - started) * 1000, int(memory))
            self.invocations.append({"function": function_name, "ok": not errored, "logs": invocation.logs,
                                     **({"error": payload} if errored else {})})
            return invocation

    def _load(self, handler: str, code_zip: bytes, code_sha: str) -> Any:
        key = f"{code_sha}:{handler}"
        if key not in self._handlers:
            code_dir = self.workdir / "lambda-code" / code_sha.replace("/", "_")[:32]
            if not code_dir.exists():
                code_dir.mkdir(parents=True)
                with zipfile.ZipFile(io.BytesIO(code_zip)) as zf:
                    zf.extractall(code_dir)
            module_path, _, attr = handler.rpartition(".")
            file = code_dir / (module_path.replace(".", "/") + ".py")
            if not file.exists():
                raise RuntimeError(f"handler {handler!r}: {file.name} not found in the deployed code")
            spec = importlib.util.spec_from_file_location(f"_lambda_{abs(hash(key))}", file)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            # The bundled packages (fraud_core, powertools) are the installed ones, byte for byte: appending
            # (not prepending) the code dir keeps them imported from the environment, never from a
            # temporary copy that disappears with the local AWS.
            sys.path.append(str(code_dir))
            try:
                with redirect_stdout(self._log):  # import-time loggers bind to the invocation log
                    spec.loader.exec_module(module)
            finally:
                sys.path.remove(str(code_dir))
            self._handlers[key] = getattr(module, attr)
        return self._handlers[key]


@contextmanager
def _clock_time(now: Any) -> Iterator[None]:
    """While a handler runs on this thread: time.time() reads the simulated clock, and time.sleep() (an SDK's
    retry backoff, say) returns at once. An invocation takes no simulated time (the clock cannot move inside the
    timer that runs it), so a real sleep would only cost wall time; other threads keep sleeping for real."""
    if now is None:
        yield
        return
    caller, real_time, real_sleep = threading.get_ident(), time.time, time.sleep

    def sleep(seconds: float) -> None:
        if threading.get_ident() != caller:
            real_sleep(seconds)

    time.time, time.sleep = now, sleep
    try:
        yield
    finally:
        time.time, time.sleep = real_time, real_sleep


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

"""The serving contract of a SageMaker framework container (scikit-learn image), emulated in-process.

Follows the open-source serving stack of the scikit-learn 1.4-2 image: `sagemaker_sklearn_container.serving`
over sagemaker-containers 2.8 (`_transformer.Transformer`, `_worker.Worker`, `_modules`), read from
https://github.com/aws/sagemaker-scikit-learn-container and https://github.com/aws/sagemaker-containers:

- start-up: the module named by SAGEMAKER_PROGRAM is imported if it is already importable (PYTHONPATH);
  otherwise the toolkit fetches SAGEMAKER_SUBMIT_DIRECTORY and runs `pip install .` on it, which needs
  the network (pip's build isolation downloads setuptools): under network isolation that start-up fails,
  and so it does here. Then `model_fn(model_dir)` loads the model once;
- a module defines either `transform_fn` or any of `input_fn`/`predict_fn`/`output_fn` (both: an error);
- every user function is wrapped so that any exception it raises becomes a ClientError, which Flask turns
  into HTTP 500 with a generic HTML page: the message reaches only the log. Only the toolkit's *default*
  input_fn/output_fn produce 415/406. A handler that wants to answer 4xx must return a
  `sagemaker_containers.beta.framework.worker.Response` with that status (from `transform_fn`); a tuple
  `(body, content_type)` is a 200;
- the request body reaches the handler as text for application/json and text/csv, bytes otherwise; a
  missing Accept (or */*) means SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT (default application/json).

Inside this process the container's `sagemaker_containers.beta.framework.worker` module is provided by
`toolkit_shim` when the real package is not installed, so handler code runs unchanged.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import tarfile
import threading
import time
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JSON = "application/json"
UTF8_TYPES = ("application/json", "text/csv")
MODEL_DIR = "/opt/ml/model"
FLASK_500_PAGE = (
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n"
    "<p>The server encountered an internal error and was unable to complete your request. Either the server is "
    "overloaded or there is an error in the application.</p>\n")


class ContainerStartupError(RuntimeError):
    """The container did not come up (SageMaker reports it as a failed ping health check)."""


class _Response:
    """sagemaker_containers' worker.Response (a flask.Response): body, status and mimetype."""

    default_mimetype = JSON

    def __init__(self, response: Any = None, accept: str | None = None, status: int = 200,
                 headers: dict[str, str] | None = None, mimetype: str | None = None,
                 direct_passthrough: bool = False) -> None:
        self.response, self.status_code = response, int(status)
        self.headers, self.mimetype = dict(headers or {}), mimetype or self.default_mimetype


def toolkit_shim() -> None:
    """Make `from sagemaker_containers.beta.framework import worker` work in this process, as in the image."""
    if "sagemaker_containers" in sys.modules or importlib.util.find_spec("sagemaker_containers") is not None:
        return  # the real toolkit is installed, or the shim is in place already
    names = ("sagemaker_containers", "sagemaker_containers.beta", "sagemaker_containers.beta.framework")
    modules = {name: sys.modules.get(name) or types.ModuleType(name) for name in names}
    worker = sys.modules.get("sagemaker_containers.beta.framework.worker") or types.ModuleType(
        "sagemaker_containers.beta.framework.worker")
    worker.Response = _Response  # type: ignore[attr-defined]
    modules["sagemaker_containers.beta.framework"].worker = worker  # type: ignore[attr-defined]
    for name, module in modules.items():
        module.__path__ = []  # type: ignore[attr-defined]  # a package, so submodule imports resolve
        sys.modules.setdefault(name, module)
    sys.modules.setdefault("sagemaker_containers.beta.framework.worker", worker)


@dataclass
class ContainerResponse:
    status: int
    body: bytes
    content_type: str
    # measured-local: the handler's CPU time on its thread. On a shared laptop wall time swings with load and
    # would trip latency alarms at random; CPU time is what the model costs (docs/local-aws.md).
    model_latency_us: float
    error: str | None = None  # what the container logged for a 5xx


@dataclass
class ContainerSpec:
    """What a container needs to start: the extracted model artifact and the model's environment."""

    model_dir: Path
    environment: dict[str, str]
    network_isolation: bool = False
    fetch: Callable[[str], bytes] | None = None  # reads an s3:// URI (SAGEMAKER_SUBMIT_DIRECTORY as a tarball)


@dataclass
class FrameworkContainer:
    spec: ContainerSpec
    workdir: Path
    log: list[str] = field(default_factory=list)
    _transform: Callable[..., Any] | None = field(default=None, repr=False)
    _model: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def healthy(self) -> bool:
        return self._transform is not None

    def start(self) -> None:
        """Import the handler module and load the model; ContainerStartupError says why it cannot start."""
        toolkit_shim()
        env = self.spec.environment
        program = env.get("SAGEMAKER_PROGRAM", "")
        if not program.endswith(".py"):
            raise ContainerStartupError(f"SAGEMAKER_PROGRAM must name the handler module file (got {program!r})")
        module = self._import(program[:-3], env)
        fns = {n: getattr(module, n, None) for n in ("model_fn", "input_fn", "predict_fn", "output_fn",
                                                       "transform_fn")}
        if fns["transform_fn"] and (fns["input_fn"] or fns["predict_fn"] or fns["output_fn"]):
            raise ContainerStartupError("UserError: Cannot use transform_fn implementation with input_fn, "
                                        "predict_fn, and/or output_fn")
        if fns["model_fn"] is None:
            raise ContainerStartupError("Please provide a model_fn implementation (the scikit-learn container "
                                        "has no default)")
        try:
            self._model = fns["model_fn"](str(self.spec.model_dir))
        except Exception as err:
            self.log.append(traceback.format_exc())
            raise ContainerStartupError(f"model_fn failed: {type(err).__name__}: {err}") from err
        self._transform = fns["transform_fn"] or _default_transform(fns["input_fn"], fns["predict_fn"],
                                                                     fns["output_fn"])
        self.log.append(f"model loaded from {self.spec.model_dir}; serving {program}")

    def ping(self) -> int:
        return 200 if self.healthy else 500

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> ContainerResponse:
        if self._transform is None:
            raise RuntimeError("the container has not started")
        ctype = content_type or JSON
        default_accept = self.spec.environment.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", JSON)
        accept = default_accept if not accept or accept == "*/*" else accept
        content: Any = body.decode("utf-8", errors="replace") if ctype in UTF8_TYPES else body
        try:
            with self._lock:  # one model-server worker per container: requests are served one at a time
                started = time.thread_time()
                result = self._transform(self._model, content, ctype, accept)
                latency = (time.thread_time() - started) * 1e6
        except Exception as err:  # the toolkit re-raises it as ClientError: Flask answers 500
            latency = (time.thread_time() - started) * 1e6
            detail = f"{type(err).__name__}: {err}"
            self.log.append(f"ClientError: {detail}")
            return ContainerResponse(500, FLASK_500_PAGE.encode(), "text/html; charset=utf-8", latency, detail)
        if isinstance(result, tuple):  # (body, content_type): the toolkit answers 200
            return ContainerResponse(200, _bytes(result[0]), str(result[1]), latency)
        status = int(getattr(result, "status_code", 200))
        mimetype = str(getattr(result, "mimetype", None) or JSON)
        return ContainerResponse(status, _bytes(getattr(result, "response", b"")), mimetype, latency)

    # --- start-up ----------------------------------------------------------------------------------
    def _import(self, name: str, env: dict[str, str]) -> types.ModuleType:
        search = [self._local(p) for p in env.get("PYTHONPATH", "").split(":") if p]
        found = next((d for d in search if (d / f"{name}.py").is_file()), None)
        if found is None:
            found = self._fetch_submit_directory(env.get("SAGEMAKER_SUBMIT_DIRECTORY", ""))
            if self.spec.network_isolation:
                raise ContainerStartupError(
                    f"{name} is not importable from PYTHONPATH, so the container runs `pip install .` on "
                    "SAGEMAKER_SUBMIT_DIRECTORY at start-up; pip's build isolation downloads setuptools, which "
                    "fails under network isolation. Put the code directory on PYTHONPATH.")
            self.log.append(f"pip install . in {found} (needs internet access on AWS)")
        path = found / f"{name}.py"
        if not path.is_file():
            raise ContainerStartupError(f"No module named '{name}' in {found}")
        spec = importlib.util.spec_from_file_location(f"_sagemaker_container_{abs(hash(str(path)))}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        # Appended, not prepended: packages the bundle shares with this environment are imported from the
        # environment (the same bytes here); anything else comes from the code directory.
        sys.path.append(str(found))
        try:
            spec.loader.exec_module(module)
        except Exception as err:
            self.log.append(traceback.format_exc())
            raise ContainerStartupError(f"ImportModuleError: {name}: {type(err).__name__}: {err}") from err
        return module

    def _local(self, container_path: str) -> Path:
        if container_path == MODEL_DIR or container_path.startswith(MODEL_DIR + "/"):
            return self.spec.model_dir / container_path[len(MODEL_DIR):].lstrip("/")
        return self.workdir / "container-fs" / container_path.lstrip("/")

    def _fetch_submit_directory(self, uri: str) -> Path:
        if not uri:
            raise ContainerStartupError("SAGEMAKER_SUBMIT_DIRECTORY is not set and the module is not importable")
        if not uri.startswith("s3://"):
            return self._local(uri)
        if self.spec.fetch is None:
            raise ContainerStartupError(f"cannot read {uri}")
        code = self.workdir / "code"
        code.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(self.spec.fetch(uri))) as tar:
            tar.extractall(code, filter="data")
        return code


def _default_transform(input_fn: Any, predict_fn: Any, output_fn: Any) -> Callable[..., Any]:
    """The toolkit's chain for modules without transform_fn (any exception in it: the caller sees a 500)."""
    if input_fn is None or predict_fn is None or output_fn is None:
        raise ContainerStartupError("this local container needs input_fn, predict_fn and output_fn (or "
                                    "transform_fn); the toolkit's numpy defaults are not emulated")

    def transform(model: Any, content: Any, content_type: str, accept: str) -> Any:
        return output_fn(predict_fn(input_fn(content, content_type), model), accept)

    return transform


def _bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, list | tuple):  # flask accepts an iterable of chunks
        return b"".join(_bytes(chunk) for chunk in body)
    return str(body).encode("utf-8")


def extract_model(artifact: bytes, dest: Path) -> Path:
    """Unpack model.tar.gz where the container finds it (/opt/ml/model)."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(artifact), mode="r:*") as tar:
        tar.extractall(dest, filter="data")
    return dest


def environment_for(container: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (container.get("Environment") or {}).items()}


"""SageMaker real-time endpoints on the local AWS: fleets running the real inference code, guarded updates.

moto records endpoints and answers InvokeEndpoint with canned data; this module does what SageMaker does,
on the simulated clock, following AWS's documented semantics
(https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green.html and the canary,
linear and auto-rollback pages beside it):

- CreateEndpoint: `Creating` while the fleet is provisioned (`provision_seconds`), then the container starts
  (local_aws.sagemaker.container); `InService`, or `Failed` with the health-check reason.
- UpdateEndpoint: `Updating`; a green fleet is provisioned for the new config (its variant names must
  match the old config's, as AWS requires) while the blue fleet keeps serving; traffic moves to green in
  the steps of the BlueGreenUpdatePolicy (ALL_AT_ONCE; CANARY: the canary's share of the fleet's
  instances, then the rest; LINEAR: equal steps), each followed by a baking period (WaitIntervalInSeconds)
  and, after the last, TerminationWaitInSeconds, while the AutoRollbackConfiguration alarms are watched
  (every `alarm_poll_seconds`). An alarm in ALARM -> rollback (DescribeEndpoint stays `Updating`): all
  traffic back to blue, green terminated, and the endpoint ends `InService` on the *old* config with no
  FailureReason, as on AWS. A green fleet that fails to start, or MaximumExecutionTimeoutInSeconds
  passing, also rolls back (with a FailureReason). Success: blue terminated, the new config live.
- InvokeEndpoint: routed to blue or green by the current traffic share; the container's 4xx/5xx become
  ModelError (424) for the caller; metrics Invocations, Invocation4XXErrors, Invocation5XXErrors,
  ModelLatency and OverheadLatency (microseconds) go to CloudWatch (AWS/SageMaker, EndpointName and
  VariantName) stamped on the simulated clock; data capture per DataCaptureConfig (local_aws.sagemaker.capture).

Fault injection (`inject_fault`) makes the container of a given model answer 500 on a share of requests
and/or report extra model latency: the emulation's stand-in for a bad model, used by tests and the demo.
"""

from __future__ import annotations

import math
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_aws.clock import SimulatedClock
from local_aws.sagemaker.capture import DataCapture
from local_aws.sagemaker.container import (
    ContainerResponse,
    ContainerSpec,
    ContainerStartupError,
    FrameworkContainer,
    environment_for,
    extract_model,
)

NAMESPACE = "AWS/SageMaker"


class HostingError(Exception):
    """An API call AWS would reject: `code` is the AWS error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Fault:
    """A bad model: its container fails `error_share` of requests with a 500 and adds `extra_latency_ms`,
    between `start` and `end` (simulated seconds; None: always)."""

    error_share: float = 0.0
    extra_latency_ms: float = 0.0
    start: float | None = None
    end: float | None = None

    def active(self, now: float) -> bool:
        return (self.start is None or now >= self.start) and (self.end is None or now < self.end)


@dataclass
class Fleet:
    config_name: str
    variant: dict[str, Any]
    model_name: str
    container: FrameworkContainer | None = None
    answered: Counter[int] = field(default_factory=Counter)  # HTTP status -> requests this fleet answered
    url: str | None = None  # serve mode: the container contract over HTTP on 127.0.0.1

    @property
    def variant_name(self) -> str:
        return str(self.variant["VariantName"])

    @property
    def instances(self) -> int:
        return int(self.variant.get("InitialInstanceCount", 1))


@dataclass
class TimelineEvent:
    at: float  # simulated seconds since the clock started
    endpoint: str
    event: str
    detail: str = ""
    green_share: float = 0.0


@dataclass
class Deployment:
    config_name: str
    policy: dict[str, Any]
    alarms: list[str]
    started_at: float
    steps: list[tuple[float, float]] = field(default_factory=list)  # (green traffic share, bake seconds)
    step: int = -1
    timers: list[Any] = field(default_factory=list)


@dataclass
class HostedEndpoint:
    name: str
    config_name: str
    status: str = "Creating"
    failure_reason: str | None = None
    blue: Fleet | None = None
    green: Fleet | None = None
    green_share: float = 0.0
    variant_status: str | None = "Creating"
    deployment: Deployment | None = None
    last_deployment_config: dict[str, Any] | None = None
    capture: DataCapture | None = None
    rolling_back: bool = False


@dataclass
class InvokeResult:
    status: int
    body: bytes
    content_type: str
    variant: str
    fleet_config: str
    model_latency_us: float
    overhead_latency_us: float
    error: str | None = None


@dataclass
class InvocationRecord:
    at: float  # simulated seconds
    endpoint: str
    fleet_config: str  # which fleet answered: the endpoint config it was provisioned from
    status: int
    model_latency_us: float


@dataclass
class HostingSettings:
    provision_seconds: float = 300.0  # SageMaker takes minutes to bring up instances
    rollback_seconds: float = 60.0
    alarm_poll_seconds: float = 10.0
    capture_flush_seconds: float = 60.0


class SageMakerHosting:
    def __init__(self, clock: SimulatedClock, workdir: Path, api: Callable[[str], Any], metrics: Callable[..., Any],
                 settings: HostingSettings | None = None, seed: int = 0) -> None:
        """`api(name)` returns a backend view (`model`, `endpoint_config`, `package`, `read_s3`, `put_s3`,
        `alarm_state`), `metrics(namespace, metric_data)` stores datapoints."""
        self.clock, self.workdir, self.api, self.metrics = clock, workdir, api, metrics
        self.settings = settings or HostingSettings()
        self.endpoints: dict[str, HostedEndpoint] = {}
        self.timeline: list[TimelineEvent] = []
        self.invocations: list[InvocationRecord] = []
        self.faults: dict[str, Fault] = {}  # model data URL (or any substring of it) -> fault
        self.serve_http = False
        self._rng = random.Random(seed)
        self._seed = seed
        self._lock = threading.RLock()

    # --- API -------------------------------------------------------------------------------------------
    def create_endpoint(self, name: str, config_name: str) -> HostedEndpoint:
        with self._lock:
            config = self.api("endpoint_config")(config_name)
            endpoint = HostedEndpoint(name, config_name)
            if config.get("DataCaptureConfig"):
                endpoint.capture = self._capture(name, config["DataCaptureConfig"])
            self.endpoints[name] = endpoint
            self._event(endpoint, "Creating", f"config {config_name}")
            self.clock.call_later(self.settings.provision_seconds, lambda: self._finish_create(endpoint, config),
                                  f"sagemaker: provision {name}")
            return endpoint

    def update_endpoint(self, name: str, config_name: str, deployment_config: dict[str, Any] | None) -> None:
        with self._lock:
            endpoint = self._endpoint(name)
            if endpoint.status != "InService":
                raise HostingError("ValidationException", f"Cannot update in-progress endpoint "
                                   f"\"{name}\" (status {endpoint.status}).")
            new = self.api("endpoint_config")(config_name)
            old = self.api("endpoint_config")(endpoint.config_name)
            if sorted(v["VariantName"] for v in new["ProductionVariants"]) != \
                    sorted(v["VariantName"] for v in old["ProductionVariants"]):
                raise HostingError("ValidationException", "The new endpoint configuration must have the same "
                                   "variant names as the current one for a blue/green deployment.")
            config = deployment_config or {}
            policy = config.get("BlueGreenUpdatePolicy") or {
                "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}}
            alarms = [a["AlarmName"] for a in (config.get("AutoRollbackConfiguration") or {}).get("Alarms", [])]
            variant = new["ProductionVariants"][0]
            deployment = Deployment(config_name, policy, alarms, self.clock.elapsed_seconds,
                                    steps=traffic_steps(policy, int(variant.get("InitialInstanceCount", 1))))
            endpoint.deployment, endpoint.status, endpoint.failure_reason = deployment, "Updating", None
            endpoint.variant_status = "Creating"
            endpoint.last_deployment_config = config or None
            self._event(endpoint, "Updating", f"to config {config_name}: {_describe_steps(deployment.steps)}; "
                                              f"auto-rollback alarms {alarms or 'none'}")
            self._arm(endpoint, self.settings.provision_seconds, lambda: self._green_ready(endpoint, new),
                      "provision green fleet")
            limit = policy.get("MaximumExecutionTimeoutInSeconds")
            if limit:
                self._arm(endpoint, float(limit), lambda: self._roll_back(
                    endpoint, f"the deployment exceeded MaximumExecutionTimeoutInSeconds ({limit} s)"),
                    "deployment timeout")

    def delete_endpoint(self, name: str) -> None:
        with self._lock:
            endpoint = self.endpoints.pop(name, None)
            if endpoint and endpoint.capture:
                endpoint.capture.flush()

    def inject_fault(self, model_data_url: str, error_share: float = 0.0, extra_latency_ms: float = 0.0,
                     start: float | None = None, end: float | None = None) -> None:
        """Make the containers of the model at `model_data_url` (or any URL containing it) misbehave."""
        if not 0.0 <= error_share <= 1.0:
            raise ValueError(f"error_share: must be between 0 and 1 (got {error_share})")
        self.faults[model_data_url] = Fault(error_share, extra_latency_ms, start, end)

    def invoke(self, name: str, body: bytes, content_type: str | None, accept: str | None,
               inference_id: str | None = None) -> InvokeResult:
        started = time.perf_counter()
        endpoint = self.endpoints.get(name)
        if endpoint is None or endpoint.blue is None or endpoint.blue.container is None:
            state = "not found" if endpoint is None else f"not ready (status {endpoint.status})"
            raise HostingError("ValidationError", f"Endpoint {name} of account {self.api('account')} {state}.")
        fleet = endpoint.blue
        if endpoint.green is not None and endpoint.green_share > 0 and self._rng.random() < endpoint.green_share:
            fleet = endpoint.green
        assert fleet.container is not None
        response = self._call_container(fleet, body, content_type, accept)
        fleet.answered[response.status] += 1
        overhead = max((time.perf_counter() - started) * 1e6 - response.model_latency_us, 0.0)
        result = InvokeResult(response.status, response.body, response.content_type, fleet.variant_name,
                              fleet.config_name, response.model_latency_us, overhead, response.error)
        self._publish_metrics(endpoint.name, result)
        self.invocations.append(InvocationRecord(self.clock.elapsed_seconds, endpoint.name, fleet.config_name,
                                                 response.status, response.model_latency_us))
        if endpoint.capture is not None and response.status == 200:
            endpoint.capture.record(fleet.variant_name, body, content_type or "application/json",
                                    response.body, response.content_type, inference_id)
        return result

    def flush_captures(self) -> list[str]:
        return [key for e in self.endpoints.values() if e.capture for key in e.capture.flush()]

    # --- describe ---------------------------------------------------------------------------------------
    def describe(self, name: str) -> dict[str, Any]:
        """The fields of DescribeEndpoint that this emulation owns."""
        endpoint = self._endpoint(name)
        live = endpoint.blue
        variants = []
        for variant in (self.api("endpoint_config")(endpoint.config_name)["ProductionVariants"] if live else []):
            weight = float(variant.get("InitialVariantWeight", 1.0))
            variants.append({
                "VariantName": variant["VariantName"], "CurrentWeight": weight, "DesiredWeight": weight,
                "CurrentInstanceCount": int(variant.get("InitialInstanceCount", 1)),
                "DesiredInstanceCount": int(variant.get("InitialInstanceCount", 1)),
                "DeployedImages": [{"SpecifiedImage": c.get("Image", ""), "ResolvedImage": c.get("Image", "")}
                                   for c in self._containers(variant["ModelName"])],
                **({"VariantStatus": [{"Status": endpoint.variant_status, "StartTime": self.clock.now()}]}
                   if endpoint.variant_status else {}),
            })
        out: dict[str, Any] = {"EndpointStatus": endpoint.status, "EndpointConfigName": endpoint.config_name,
                               "ProductionVariants": variants}
        if endpoint.failure_reason:
            out["FailureReason"] = endpoint.failure_reason
        if endpoint.deployment:
            out["PendingDeploymentSummary"] = {
                "EndpointConfigName": endpoint.deployment.config_name, "StartTime": self.clock.at(
                    endpoint.deployment.started_at),
                "ProductionVariants": [{"VariantName": v["VariantName"], "VariantStatus": [
                    {"Status": endpoint.variant_status or "Creating", "StartTime": self.clock.now()}]}
                    for v in self.api("endpoint_config")(endpoint.deployment.config_name)["ProductionVariants"]]}
        if endpoint.last_deployment_config:
            out["LastDeploymentConfig"] = endpoint.last_deployment_config
        return out

    # --- lifecycle ----------------------------------------------------------------------------------------
    def _finish_create(self, endpoint: HostedEndpoint, config: dict[str, Any]) -> None:
        with self._lock:
            try:
                endpoint.blue = self._start_fleet(endpoint, config)
            except ContainerStartupError as err:
                endpoint.status, endpoint.variant_status = "Failed", None
                endpoint.failure_reason = _health_check_failure(config, err)
                self._event(endpoint, "Failed", endpoint.failure_reason)
                return
            endpoint.status, endpoint.variant_status = "InService", None
            self._event(endpoint, "InService", f"config {endpoint.config_name}")

    def _green_ready(self, endpoint: HostedEndpoint, config: dict[str, Any]) -> None:
        deployment = endpoint.deployment
        if deployment is None:
            return
        try:
            endpoint.green = self._start_fleet(endpoint, config)
        except ContainerStartupError as err:
            self._roll_back(endpoint, _health_check_failure(config, err), failed=True)
            return
        self._event(endpoint, "GreenFleetReady", f"config {deployment.config_name}")
        self._next_step(endpoint)
        self._arm_alarm_watch(endpoint)

    def _next_step(self, endpoint: HostedEndpoint) -> None:
        deployment = endpoint.deployment
        if deployment is None:
            return
        deployment.step += 1
        if deployment.step < len(deployment.steps):
            share, bake = deployment.steps[deployment.step]
            endpoint.green_share, endpoint.variant_status = share, "Baking"
            self._event(endpoint, "TrafficShifted", f"{share:.0%} of traffic on the new fleet; baking {bake:.0f} s")
            self._arm(endpoint, bake, lambda: self._next_step(endpoint), f"bake step {deployment.step + 1}")
            return
        wait = float(deployment.policy.get("TerminationWaitInSeconds", 0))
        if deployment.step == len(deployment.steps) and wait > 0:
            self._event(endpoint, "FinalBake", f"all traffic on the new fleet; old fleet kept {wait:.0f} s")
            self._arm(endpoint, wait, lambda: self._next_step(endpoint), "termination wait")
            return
        self._complete(endpoint)

    def _complete(self, endpoint: HostedEndpoint) -> None:
        deployment = endpoint.deployment
        assert deployment is not None
        self._cancel(deployment)
        endpoint.blue, endpoint.green, endpoint.green_share = endpoint.green, None, 0.0
        endpoint.config_name, endpoint.deployment = deployment.config_name, None
        endpoint.status, endpoint.variant_status = "InService", None
        self._event(endpoint, "InService", f"deployment complete: config {endpoint.config_name} live, old fleet "
                                           "terminated")

    def _roll_back(self, endpoint: HostedEndpoint, reason: str, failed: bool = False) -> None:
        with self._lock:
            deployment = endpoint.deployment
            if deployment is None or endpoint.rolling_back:
                return
            self._cancel(deployment)
            # DescribeEndpoint keeps Updating while a blue/green deployment rolls back (RollingBack is the status of
            # a failed UpdateEndpointWeightsAndCapacities); all traffic is back on the old fleet at once.
            endpoint.green_share, endpoint.variant_status = 0.0, "Updating"
            endpoint.rolling_back = True
            self._event(endpoint, "RollingBack", reason)

            def done() -> None:
                endpoint.rolling_back = False
                endpoint.green, endpoint.deployment = None, None
                endpoint.status, endpoint.variant_status = "InService", None
                # A guardrail (alarm) rollback leaves no FailureReason; a failed update does.
                endpoint.failure_reason = reason if failed else None
                self._event(endpoint, "InService", f"rolled back: config {endpoint.config_name} live again")

            self.clock.call_later(self.settings.rollback_seconds, done, f"sagemaker: roll back {endpoint.name}")

    def _arm_alarm_watch(self, endpoint: HostedEndpoint) -> None:
        deployment = endpoint.deployment
        if deployment is None or not deployment.alarms:
            return

        def check() -> None:
            if endpoint.deployment is not deployment or endpoint.rolling_back:
                return
            alarm_state = self.api("alarm_state")
            tripped = [a for a in deployment.alarms if alarm_state(a) == "ALARM"]
            if tripped:
                self._roll_back(endpoint, f"auto-rollback: alarm {', '.join(tripped)} in ALARM")
                return
            self._arm(endpoint, self.settings.alarm_poll_seconds, check, "watch alarms")

        check()

    def _arm(self, endpoint: HostedEndpoint, delay: float, action: Callable[[], None], what: str) -> None:
        deployment = endpoint.deployment
        timer = self.clock.call_later(delay, action, f"sagemaker: {endpoint.name}: {what}")
        if deployment is not None:
            deployment.timers.append(timer)

    @staticmethod
    def _cancel(deployment: Deployment) -> None:
        for timer in deployment.timers:
            timer.cancel()
        deployment.timers.clear()

    # --- fleets and containers -------------------------------------------------------------------------------
    def _start_fleet(self, endpoint: HostedEndpoint, config: dict[str, Any]) -> Fleet:
        variant = config["ProductionVariants"][0]
        fleet = Fleet(config["EndpointConfigName"], variant, variant["ModelName"])
        model = self.api("model")(variant["ModelName"])
        (container,) = self._containers(variant["ModelName"])
        model_url = container.get("ModelDataUrl", "")
        root = self.workdir / "endpoints" / endpoint.name / f"{config['EndpointConfigName']}-{uuid.uuid4().hex[:8]}"
        try:
            model_dir = extract_model(self.api("read_s3")(model_url), root / "model")
        except Exception as err:
            raise ContainerStartupError(f"could not download the model artifact {model_url}: {err}") from err
        spec = ContainerSpec(model_dir, environment_for(container), bool(model.get("EnableNetworkIsolation")),
                             fetch=self.api("read_s3"))
        fleet.container = FrameworkContainer(spec, root)
        fleet.container.start()
        fleet.variant = {**variant, "_ModelDataUrl": model_url}
        if self.serve_http:
            from local_aws.sagemaker.container_http import serve_container

            fleet.url = serve_container(fleet.container)
        return fleet

    def _containers(self, model_name: str) -> list[dict[str, Any]]:
        """The model's containers, resolving a ModelPackageName to the package's inference containers."""
        model = self.api("model")(model_name)
        containers = model.get("Containers") or [model.get("PrimaryContainer") or {}]
        out = []
        for c in containers:
            if c.get("ModelPackageName"):
                package = self.api("package")(c["ModelPackageName"])
                out += [{**pc, "Environment": {**pc.get("Environment", {}), **c.get("Environment", {})}}
                        for pc in package["InferenceSpecification"]["Containers"]]
            else:
                out.append(c)
        return out

    def _call_container(self, fleet: Fleet, body: bytes, content_type: str | None,
                        accept: str | None) -> ContainerResponse:
        assert fleet.container is not None
        now = self.clock.elapsed_seconds
        fault = next((f for url, f in self.faults.items()
                      if url in fleet.variant.get("_ModelDataUrl", "") and f.active(now)), None)
        if fault and fault.error_share and self._rng.random() < fault.error_share:
            from local_aws.sagemaker.container import FLASK_500_PAGE

            return ContainerResponse(500, FLASK_500_PAGE.encode(), "text/html; charset=utf-8",
                                     fault.extra_latency_ms * 1000, "injected fault: the model crashed")
        response = fleet.container.invoke(body, content_type, accept)
        if fault:
            response.model_latency_us += fault.extra_latency_ms * 1000
        return response

    def _publish_metrics(self, endpoint: str, result: InvokeResult) -> None:
        dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": result.variant}]
        now = self.clock.now().replace(tzinfo=None)  # moto's CloudWatch compares naive UTC datetimes
        data = [
            {"MetricName": "Invocations", "Value": 1.0, "Unit": "None"},
            {"MetricName": "Invocation4XXErrors", "Value": float(400 <= result.status < 500), "Unit": "None"},
            {"MetricName": "Invocation5XXErrors", "Value": float(result.status >= 500), "Unit": "None"},
            {"MetricName": "ModelLatency", "Value": result.model_latency_us, "Unit": "Microseconds"},
            {"MetricName": "OverheadLatency", "Value": result.overhead_latency_us, "Unit": "Microseconds"},
        ]
        self.metrics(NAMESPACE, [{**d, "Dimensions": dims, "Timestamp": now} for d in data])

    def _capture(self, endpoint: str, config: dict[str, Any]) -> DataCapture:
        put = self.api("put_s3")
        return DataCapture(endpoint, config, self.clock, put, self.settings.capture_flush_seconds, seed=self._seed)

    def _endpoint(self, name: str) -> HostedEndpoint:
        if name not in self.endpoints:
            raise HostingError("ValidationException", f"Could not find endpoint \"{name}\".")
        return self.endpoints[name]

    def _event(self, endpoint: HostedEndpoint, event: str, detail: str = "") -> None:
        self.timeline.append(TimelineEvent(self.clock.elapsed_seconds, endpoint.name, event, detail,
                                           endpoint.green_share))


def traffic_steps(policy: dict[str, Any], instances: int) -> list[tuple[float, float]]:
    """(share of traffic on the new fleet, baking seconds) per step of a BlueGreenUpdatePolicy."""
    routing = policy.get("TrafficRoutingConfiguration") or {"Type": "ALL_AT_ONCE"}
    kind, bake = routing.get("Type", "ALL_AT_ONCE"), float(routing.get("WaitIntervalInSeconds", 0))
    if kind == "ALL_AT_ONCE":
        return [(1.0, bake)]
    size = routing.get("CanarySize" if kind == "CANARY" else "LinearStepSize") or {}
    step = _instances(size, instances)
    if not 1 <= step <= (instances / 2 if kind == "CANARY" else instances):
        rule = "at most 50% of" if kind == "CANARY" else "at most"
        raise HostingError("ValidationException", f"{'CanarySize' if kind == 'CANARY' else 'LinearStepSize'} "
                           f"{size} selects {step} of {instances} instances; it must select at least 1 and "
                           f"{rule} the variant's instances")
    if kind == "CANARY":
        return [(step / instances, bake), (1.0, 0.0)]
    shares = [min(1.0, k * step / instances) for k in range(1, math.ceil(instances / step) + 1)]
    return [(s, bake if s < 1.0 else 0.0) for s in shares]


def _instances(size: dict[str, Any], instances: int) -> int:
    value = float(size.get("Value", 0))
    if size.get("Type") == "INSTANCE_COUNT":
        return int(value)
    return math.floor(instances * value / 100.0)


def _describe_steps(steps: list[tuple[float, float]]) -> str:
    return " -> ".join(f"{share:.0%} (bake {bake:.0f} s)" for share, bake in steps)


def _health_check_failure(config: dict[str, Any], err: Exception) -> str:
    variant = config["ProductionVariants"][0]["VariantName"]
    return (f"The primary container for production variant {variant} did not pass the ping health check. "
            f"Please check CloudWatch logs for this endpoint. ({err})")

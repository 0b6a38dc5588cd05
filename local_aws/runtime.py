"""The local AWS: moto in-process, optionally also served over HTTP on 127.0.0.1, with one simulated clock.

`local_aws()` starts moto, checks its version, installs every patch (local_aws.patching) and the
emulated services, and yields a `LocalAws`: clients, the clock, and the services moto lacks (jobs,
in-process Lambda, Firehose delivery, CloudWatch alarm evaluation, EventBridge schedules). In-process
and served modes share one set of backends, so the AWS CLI pointed at the server sees exactly what
the in-process code deployed. Only one local AWS runs per process: moto's backends are process-wide.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.cloudwatch.models import cloudwatch_backends

from local_aws import timestamps
from local_aws.awslambda import hooks as lambda_hooks
from local_aws.awslambda.event_sources import KinesisEventSources
from local_aws.awslambda.runtime import InProcessLambdaRunner
from local_aws.clock import SimulatedClock
from local_aws.cloudformation.models import register_cloudformation_models
from local_aws.cloudwatch import describe as cloudwatch_describe
from local_aws.cloudwatch.alarms import CloudWatchAlarms
from local_aws.events import hooks as events_hooks
from local_aws.events.schedules import ScheduledRules
from local_aws.events.targets import EventTargets
from local_aws.faults import ApiFaults
from local_aws.firehose.delivery import FirehoseService
from local_aws.iam import conditions as iam_conditions
from local_aws.kinesis import hooks as kinesis_hooks
from local_aws.kinesis.hooks import StreamActivity
from local_aws.logs import hooks as logs_hooks
from local_aws.logs.writer import write_log_lines
from local_aws.patching import MotoPatches, check_moto_version
from local_aws.sagemaker import hooks as sagemaker_hooks
from local_aws.sagemaker import hosting_hooks
from local_aws.sagemaker.hosting import SageMakerHosting
from local_aws.sagemaker.jobs import LocalJobRunner
from local_aws.sqs import hooks as sqs_hooks
from local_aws.stepfunctions import hooks as stepfunctions_hooks

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"

# Fake credentials so nothing ever reaches a real account, even if a user has AWS credentials set.
_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}

MOTO_CONFIG = {
    # Run the synthesized state machines for real with moto's interpreter.
    "stepfunctions": {"execute_state_machine": True},
}

_ACTIVE = threading.Lock()  # one local AWS per process
_CLIENT_LOCK = threading.Lock()


class LocalAwsError(RuntimeError):
    pass


@dataclass
class LocalAws:
    clock: SimulatedClock
    workdir: Path
    region: str = REGION
    account_id: str = ACCOUNT_ID
    endpoint_url: str | None = None  # set when a server is running
    jobs: LocalJobRunner = field(init=False)  # SageMaker jobs run as local processes
    lambdas: InProcessLambdaRunner = field(init=False)
    streams: StreamActivity = field(default_factory=StreamActivity)
    firehose: FirehoseService = field(init=False)
    hosting: SageMakerHosting = field(init=False)  # real-time endpoints running the real inference code
    events: EventTargets = field(init=False)  # EventBridge deliveries to Step Functions and Lambda
    schedules: ScheduledRules = field(init=False)  # EventBridge scheduled rules, fired on the clock
    event_sources: KinesisEventSources = field(init=False)  # Kinesis -> Lambda, polled on the clock
    alarms: CloudWatchAlarms = field(init=False)  # metric alarms evaluated on the clock
    patches: MotoPatches = field(default_factory=MotoPatches)
    faults: ApiFaults = field(default_factory=ApiFaults)  # injected API errors (throttling, ...)
    _session: Any = field(default=None, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.jobs = LocalJobRunner(self.client, self.clock, self.workdir, self.faults)
        self.lambdas = InProcessLambdaRunner(self.workdir, now=lambda: self.clock.now().timestamp())
        self.firehose = FirehoseService(self)
        self.events = EventTargets(self)
        self.schedules = ScheduledRules(self.clock, self.events)
        self.event_sources = KinesisEventSources(self)
        self.hosting = SageMakerHosting(self.clock, self.workdir, hosting_hooks.backend_api(self),
                                        hosting_hooks.put_metrics(self))
        self.alarms = CloudWatchAlarms(self)

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            self._session = boto3.Session(region_name=self.region)
        return self._session

    def client(self, service: str) -> Any:
        """One client per service, created once: clients are thread-safe, creating them is slow and is not
        (job workers and timers ask from their own threads)."""
        with _CLIENT_LOCK:
            if service not in self._clients:
                self._clients[service] = self.session.client(service, region_name=self.region)
            return self._clients[service]

    def write_logs(self, group: str, stream: str, lines: list[str], first_ms: int) -> None:
        write_log_lines(self.client("logs"), group, stream, lines, first_ms)

    def put_metric_data(self, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        """Store datapoints straight into moto's CloudWatch (no HTTP round trip); timestamps naive UTC."""
        cloudwatch_backends[self.account_id][self.region].put_metric_data(namespace, metric_data)

    def install(self) -> None:
        """Every patch of moto and every emulated service, through one registry."""
        register_cloudformation_models()
        timestamps.install(self.patches, self.clock)
        iam_conditions.install(self.patches)
        sagemaker_hooks.install(self.patches, self.jobs, self.clock)
        lambda_hooks.install(self.patches, self.lambdas, self.clock, self.write_logs, self.put_metric_data)
        logs_hooks.install(self.patches)
        stepfunctions_hooks.install(self.patches, self.clock)
        kinesis_hooks.install(self.patches, self.streams)
        sqs_hooks.install(self.patches)
        hosting_hooks.install(self.patches, self.hosting, self.faults, self.account_id, self.region)
        events_hooks.install(self.patches, self.events, self.account_id, self.region)
        self.schedules.install(self.patches)
        self.streams.subscribe_all(self.firehose.on_stream_activity)
        self.streams.subscribe_all(self.event_sources.on_stream_activity)
        self.alarms.install(self.patches)
        cloudwatch_describe.install(self.patches)
        self.alarms.start()


@contextmanager
def local_aws(serve_port: int | None = None, workdir: Path | None = None,
              clock: SimulatedClock | None = None) -> Iterator[LocalAws]:
    """Start the local AWS; with `serve_port`, also serve it on http://127.0.0.1:<port> (0: any free port).

    `workdir` holds job scratch space and unpacked Lambda code (a temporary directory by default).
    """
    check_moto_version()
    if not _ACTIVE.acquire(blocking=False):
        raise LocalAwsError("a local AWS is already running in this process (moto's backends are process-wide)")
    # moto's Step Functions interpreter logs every caught error (even an IsPresent probe) at ERROR;
    # executions report their own failures, so keep the console readable.
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    # An AWS_ENDPOINT_URL* in the user's shell would send the in-process clients elsewhere: unset while running.
    endpoint_vars = [k for k in os.environ if k == "AWS_ENDPOINT_URL" or k.startswith("AWS_ENDPOINT_URL_")]
    saved = {k: os.environ.get(k) for k in (*_FAKE_ENV, "MOTO_PORT", *endpoint_vars)}
    os.environ.update(_FAKE_ENV)
    for k in endpoint_vars:
        del os.environ[k]
    server, aws = None, None
    mock = mock_aws(config=MOTO_CONFIG)
    mock.start()
    scratch = tempfile.TemporaryDirectory(prefix="local-aws-") if workdir is None else None
    try:
        aws = LocalAws(clock=clock or SimulatedClock(), workdir=Path(scratch.name) if scratch else workdir)
        aws.install()
        if serve_port is not None:
            from local_aws.server import start_server

            server = start_server(serve_port)
            os.environ["MOTO_PORT"] = str(server.port)  # the Step Functions interpreter calls back here
            aws.endpoint_url = server.url
            aws.hosting.serve_http = True  # each endpoint's containers also answer over HTTP on 127.0.0.1
        yield aws
        if aws.clock.errors:
            failures = "; ".join(f"{name} at t+{due:.0f} s: {err!r}" for due, name, err in aws.clock.errors)
            raise LocalAwsError(f"{len(aws.clock.errors)} emulated service timer(s) failed: {failures}")
    finally:
        if aws is not None:
            aws.clock.stop_real_time()
        if server is not None:
            server.stop()
        if aws is not None:
            aws.patches.uninstall()
        mock.stop()
        if scratch is not None:
            scratch.cleanup()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        _ACTIVE.release()

"""The local AWS: moto in-process, optionally also served over HTTP on 127.0.0.1.

Both modes share one set of moto backends, so the AWS CLI pointed at the server sees exactly what
the in-process demo deployed.
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

from local_aws.clock import SimulatedClock
from local_aws.job_runner import LocalJobRunner
from local_aws.lambda_runner import InProcessLambdaRunner
from local_aws.moto_internals import install_emulation, register_cloudformation_models, uninstall_emulation

_CLIENT_LOCK = threading.Lock()
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
    # Run the synthesized state machines for real with moto's interpreter (used by later stages).
    "stepfunctions": {"execute_state_machine": True},
}


@dataclass
class LocalAws:
    region: str = REGION
    account_id: str = ACCOUNT_ID
    endpoint_url: str | None = None  # set when a server is running
    clock: SimulatedClock = field(default_factory=SimulatedClock)
    jobs: LocalJobRunner | None = None  # SageMaker jobs run as local processes
    lambdas: InProcessLambdaRunner | None = None
    _session: Any = field(default=None, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            self._session = boto3.Session(region_name=self.region)
        return self._session

    def client(self, service: str) -> Any:
        """One client per service, created once: clients are thread-safe, creating them is slow and is not
        (job workers and the archive pump ask from their own threads)."""
        with _CLIENT_LOCK:
            if service not in self._clients:
                self._clients[service] = self.session.client(service, region_name=self.region)
            return self._clients[service]


@contextmanager
def local_aws(serve_port: int | None = None, workdir: Path | None = None) -> Iterator[LocalAws]:
    """Start the local AWS; with `serve_port`, also serve it on http://127.0.0.1:<port>.

    `workdir` holds job scratch space and unpacked Lambda code (a temporary directory by default).
    """
    # moto's Step Functions interpreter logs every caught error (even an IsPresent probe) at ERROR;
    # executions report their own failures, so keep the console readable.
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    saved = {k: os.environ.get(k) for k in (*_FAKE_ENV, "MOTO_PORT")}
    os.environ.update(_FAKE_ENV)
    server, mark = None, None
    mock = mock_aws(config=MOTO_CONFIG)
    mock.start()
    scratch = tempfile.TemporaryDirectory(prefix="local-aws-") if workdir is None else None
    root = Path(scratch.name) if scratch else workdir
    try:
        register_cloudformation_models()
        aws = LocalAws()
        aws.jobs = LocalJobRunner(aws.client("s3"), aws.clock, root)
        aws.lambdas = InProcessLambdaRunner(root)
        mark = install_emulation(aws.jobs, aws.lambdas, aws.clock)
        if serve_port is not None:
            from moto.server import ThreadedMotoServer

            server = ThreadedMotoServer(ip_address="127.0.0.1", port=serve_port, verbose=False)
            server.start()
            port = server._server.server_port if serve_port == 0 else serve_port  # noqa: SLF001
            os.environ["MOTO_PORT"] = str(port)  # the Step Functions interpreter calls back here
            aws.endpoint_url = f"http://127.0.0.1:{port}"
        yield aws
    finally:
        if server is not None:
            server.stop()
        if mark is not None:
            uninstall_emulation(mark)
        mock.stop()
        if scratch is not None:
            scratch.cleanup()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

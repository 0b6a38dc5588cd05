"""The local AWS: moto in-process, optionally also served over HTTP on 127.0.0.1.

Both modes share one set of moto backends, so the AWS CLI pointed at the server sees exactly what
the in-process demo deployed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto import mock_aws

from local_aws.moto_internals import register_cloudformation_models

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
    _session: Any = field(default=None, repr=False)

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            self._session = boto3.Session(region_name=self.region)
        return self._session

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=self.region)


@contextmanager
def local_aws(serve_port: int | None = None) -> Iterator[LocalAws]:
    """Start the local AWS; with `serve_port`, also serve it on http://127.0.0.1:<port>."""
    saved = {k: os.environ.get(k) for k in (*_FAKE_ENV, "MOTO_PORT")}
    os.environ.update(_FAKE_ENV)
    server = None
    mock = mock_aws(config=MOTO_CONFIG)
    mock.start()
    try:
        register_cloudformation_models()
        aws = LocalAws()
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
        mock.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

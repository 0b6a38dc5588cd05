"""The local AWS served over HTTP on loopback: what a user points the AWS CLI at."""

from __future__ import annotations

import socket
from pathlib import Path

import boto3
import pytest

from local_aws.cloudformation.deploy import deploy_assembly
from local_aws.runtime import local_aws
from local_aws.server import PortInUseError, start_server
from mlops_demo.archive import read_archive


def _remote(aws, service: str):
    return boto3.client(service, endpoint_url=aws.endpoint_url, region_name=aws.region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_deployed_stacks_are_visible_over_http_on_loopback(assemblies: dict[str, Path]) -> None:
    with local_aws(serve_port=0) as aws:
        assert aws.endpoint_url and aws.endpoint_url.startswith("http://127.0.0.1:")
        deploy_assembly(aws, assemblies["sandbox"])
        names = {b["Name"] for b in _remote(aws, "s3").list_buckets()["Buckets"]}
        assert f"mlops-demo-sandbox-raw-{aws.account_id}-{aws.region}" in names
        stack = _remote(aws, "cloudformation").describe_stacks(StackName="MlopsDemo-sandbox-DataFoundation")
        assert stack["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_records_put_over_http_reach_the_archive_after_the_buffer_interval(assemblies: dict[str, Path]) -> None:
    with local_aws(serve_port=0) as aws:
        deploy_assembly(aws, assemblies["sandbox"])
        _remote(aws, "kinesis").put_record(StreamName="mlops-demo-sandbox-transactions", Data=b'{"x": 1}\n',
                                           PartitionKey="k")
        bucket = f"mlops-demo-sandbox-raw-{aws.account_id}-{aws.region}"
        aws.clock.advance(59)
        assert read_archive(aws.client("s3"), bucket)[1] == [], "buffered until the interval passes"
        aws.clock.advance(1)  # the sandbox buffer interval, on the simulated clock
        assert read_archive(aws.client("s3"), bucket)[1] == [b'{"x": 1}']


def test_a_busy_port_fails_at_once_with_a_clear_message() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(PortInUseError) as err:
            start_server(port)
    assert f"port {port} on 127.0.0.1 is already in use" in err.value.args[-1]


def test_requests_are_not_logged_to_the_console(capfd: pytest.CaptureFixture[str]) -> None:
    with local_aws(serve_port=0) as aws:
        _remote(aws, "s3").list_buckets()
    captured = capfd.readouterr()
    assert "GET /" not in captured.out + captured.err and "\x1b[" not in captured.out + captured.err

"""The local AWS served over HTTP on loopback: what a user points the AWS CLI at."""

from __future__ import annotations

from pathlib import Path

import boto3

from local_aws.deploy import deploy_assembly
from local_aws.runtime import local_aws


def test_deployed_stacks_are_visible_over_http_on_loopback(assemblies: dict[str, Path]) -> None:
    with local_aws(serve_port=0) as aws:
        assert aws.endpoint_url and aws.endpoint_url.startswith("http://127.0.0.1:")
        deploy_assembly(aws, assemblies["sandbox"])
        remote = boto3.client("s3", endpoint_url=aws.endpoint_url, region_name=aws.region,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        names = {b["Name"] for b in remote.list_buckets()["Buckets"]}
        assert f"mlops-demo-sandbox-raw-{aws.account_id}-{aws.region}" in names
        cfn = boto3.client("cloudformation", endpoint_url=aws.endpoint_url, region_name=aws.region,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        stack = cfn.describe_stacks(StackName="MlopsDemo-sandbox-DataFoundation")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_archive_pump_delivers_records_put_over_http(assemblies: dict[str, Path]) -> None:
    from local_aws.archive_reader import read_archive
    from local_aws.firehose_emulator import start_archive_pump

    with local_aws(serve_port=0) as aws:
        deploy_assembly(aws, assemblies["sandbox"])
        pump = start_archive_pump(aws, aws.clock, every_s=0.05)
        try:
            kinesis = boto3.client("kinesis", endpoint_url=aws.endpoint_url, region_name=aws.region,
                                   aws_access_key_id="testing", aws_secret_access_key="testing")
            kinesis.put_record(StreamName="mlops-demo-sandbox-transactions", Data=b'{"x": 1}\n', PartitionKey="k")
            bucket = f"mlops-demo-sandbox-raw-{aws.account_id}-{aws.region}"
            for _ in range(100):  # the pump ticks every 50 ms: a bounded wait for it to read the record
                if pump.records_read:
                    break
                pump.stop.wait(0.05)
            assert pump.records_read == 1
            assert read_archive(aws.client("s3"), bucket)[1] == [], "buffered until the interval passes"
            aws.clock.advance(60)  # the sandbox buffer interval, without waiting a real minute
            records: list[bytes] = []
            for _ in range(100):
                records = read_archive(aws.client("s3"), bucket)[1]
                if records:
                    break
                pump.stop.wait(0.05)
            assert records == [b'{"x": 1}']
        finally:
            pump.stop.set()

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

"""A Python Lambda function bundled from its handler folder plus the core package, with its own role and log group.

The asset is built by stacks/bundling.py (local bundling, no Docker): the handler directory, fraud_core and the
few pure-Python runtime dependencies. The function writes to a log group it owns, with the profile's retention
and (when given) the data key, so its logs are neither kept forever nor readable without the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.bundling import lambda_bundling
from stacks.log_retention import log_retention
from stacks.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_13  # the newest runtime whose Python is here to test bundles with
DEFAULT_TIMEOUT = Duration.seconds(30)


class BundledPythonFunction(Construct):
    """`function`, `role` and `log_group` of one handler folder (entry point `handler.handler`)."""

    def __init__(self, scope: Construct, construct_id: str, *, function_name: str, handler_dir: Path,
                 description: str, role_description: str, environment: Mapping[str, str],
                 log_retention_days: int, log_key: kms.IKey | None = None, timeout: Duration = DEFAULT_TIMEOUT,
                 memory_size: int = 256, log_removal: RemovalPolicy = RemovalPolicy.DESTROY) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "Logs", log_group_name=f"/aws/lambda/{function_name}",
                                       retention=log_retention(log_retention_days), encryption_key=log_key,
                                       removal_policy=log_removal)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description=role_description)
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self, "Function",
            function_name=function_name,
            runtime=RUNTIME,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(handler_dir), bundling=lambda_bundling(handler_dir)),
            role=self.role,
            log_group=self.log_group,
            timeout=timeout,
            memory_size=memory_size,
            environment=dict(environment),
            description=description,
        )
        acknowledge(self.function, "AwsSolutions-L1",
                    f"{RUNTIME.name} (supported) rather than the newest Python runtime: it is the newest whose "
                    "interpreter the build machine has, so tests/lambdas run each built asset on the runtime's "
                    "own Python before it ships; move both together.")

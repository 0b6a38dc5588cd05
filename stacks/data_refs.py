"""What other stacks may use from the data foundation, as a small typed value instead of the stack object.

Every field is a deterministic name (stacks/naming.py), so a consuming stack names the bucket, topic or
stream itself and CloudFormation needs no export/import between the stacks (an export can be neither changed
nor removed while another stack imports it). The one value that is not deterministic, the data key's ARN
(KMS chooses key ids), is published by the data stack as an SSM parameter with a deterministic name and read
by consumers at deploy time (`data_key_arn`); ADR 0005 explains the trade-off.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Stack
from aws_cdk import aws_ssm as ssm
from constructs import IConstruct

from stacks.naming import DATA_BUCKETS, arn, bucket_name, parameter_name, resource_name


@dataclass(frozen=True)
class DataFoundationRefs:
    profile: str

    # --- buckets ---------------------------------------------------------------------------------
    def bucket_name(self, purpose: str) -> str:
        if purpose not in DATA_BUCKETS:
            raise ValueError(f"bucket purpose {purpose!r}: must be one of {DATA_BUCKETS}")
        return bucket_name(self.profile, purpose, Aws.ACCOUNT_ID, Aws.REGION)

    # --- data key ------------------------------------------------------------------------------------
    @property
    def key_alias(self) -> str:
        return f"alias/{resource_name(self.profile, 'data')}"

    @property
    def key_arn_parameter(self) -> str:
        """SSM parameter (String) holding the data key's ARN, written by the data stack."""
        return parameter_name(self.profile, "data-key-arn")

    def data_key_arn(self, scope: IConstruct) -> str:
        """The data key's ARN in `scope`'s stack: a deploy-time SSM lookup (CDK creates one per stack)."""
        return ssm.StringParameter.value_for_string_parameter(Stack.of(scope), self.key_arn_parameter)

    # --- alerts, stream, archive -----------------------------------------------------------------------
    @property
    def alerts_topic_name(self) -> str:
        return resource_name(self.profile, "alerts")

    @property
    def alerts_topic_arn(self) -> str:
        return arn("sns", self.alerts_topic_name, partition=Aws.PARTITION, region=Aws.REGION,
                   account=Aws.ACCOUNT_ID)

    @property
    def stream_name(self) -> str:
        return resource_name(self.profile, "transactions")

    @property
    def stream_arn(self) -> str:
        return arn("kinesis", f"stream/{self.stream_name}", partition=Aws.PARTITION, region=Aws.REGION,
                   account=Aws.ACCOUNT_ID)

    @property
    def archive_delivery_stream_name(self) -> str:
        return resource_name(self.profile, "archive")

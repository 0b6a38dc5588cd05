"""Data foundation: one KMS key, the S3 buckets, the transactions stream, its Firehose archive, alerts.

Everything here is data-bearing and encrypted with the one customer-managed key, so a single key
policy answers "who can read fraud data". Retention and removal are profile data (fraud_core.config).
"""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from fraud_core.config import ProfileConfig
from stacks.data_refs import DataFoundationRefs
from stacks.log_retention import log_retention
from stacks.nag import acknowledge
from stacks.naming import DATA_BUCKETS, LOG_GROUP_PREFIXES, bucket_name, log_group_name, resource_name

# Firehose writes Hive-style date partitions so Athena/Glue and the preprocess job can prune by day.
ARCHIVE_PREFIX = "transactions/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
ARCHIVE_ERROR_PREFIX = "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/"
# Firehose concatenates records without delimiters unless told otherwise ("By default, Firehose concatenates data
# without any delimiters ... you can add new line delimiters by enabling the feature in the Firehose console
# configuration or API parameter": https://docs.aws.amazon.com/firehose/latest/dev/basic-deliver.html). The API
# parameter is the AppendDelimiterToRecord processor, which needs no parameters and no dynamic partitioning
# (https://docs.aws.amazon.com/firehose/latest/APIReference/API_Processor.html): with it, a record put without a
# trailing newline still lands as one JSON object per line.
ARCHIVE_PROCESSING = {"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord"}]}

# Buckets whose objects are overwritten or curated by people keep versions; raw and capture are
# append-only firehoses of unique keys, where versioning would only add cost.
VERSIONED_BUCKETS = frozenset({"curated", "models", "decisions", "labels"})


class DataFoundationStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: ProfileConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        profile = config.name
        self.refs = DataFoundationRefs(profile)
        removal = RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN

        self.key = kms.Key(
            self,
            "DataKey",
            alias=self.refs.key_alias,
            description=f"{resource_name(profile, 'data')}: encrypts every bucket, stream and topic",
            enable_key_rotation=True,
            removal_policy=removal,
            pending_window=Duration.days(7) if removal == RemovalPolicy.DESTROY else Duration.days(30),
        )
        # CloudWatch Logs encrypts the project's log groups (execution data, function and delivery logs) with this
        # key; the encryption context names the log group, so the service may use the key for those only.
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowCloudWatchLogsForProjectLogGroups",
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],  # in a key policy "*" means this key
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": [
                f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:{prefix}"
                f"{resource_name(profile, '*')}" for prefix in LOG_GROUP_PREFIXES]}},
        ))
        # Consumers read the key's ARN at deploy time from this parameter (deterministic name), not from an export.
        ssm.StringParameter(self, "DataKeyArnParameter", parameter_name=self.refs.key_arn_parameter,
                            string_value=self.key.key_arn,
                            description=f"{resource_name(profile, 'data')}: ARN of the data key, for other stacks")

        # Server access logs cannot be delivered to a KMS-encrypted bucket, so this one uses SSE-S3.
        self.access_logs = s3.Bucket(
            self,
            "AccessLogsBucket",
            bucket_name=bucket_name(profile, "access-logs", Aws.ACCOUNT_ID, Aws.REGION),
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,  # no ACLs: delivery via bucket policy
            removal_policy=removal,
            auto_delete_objects=removal == RemovalPolicy.DESTROY,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(config.log_retention_days)),
                s3.LifecycleRule(id="abort-incomplete-uploads",
                                 abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
        )
        retention = {
            "raw": config.raw_retention_days,
            "curated": config.curated_retention_days,
            "models": None,  # model artifacts are lineage for registered packages: never expire
            "capture": config.capture_retention_days,
            "decisions": config.decisions_retention_days,
            "labels": config.labels_retention_days,
        }
        self.buckets: dict[str, s3.Bucket] = {
            purpose: self._data_bucket(purpose, retention[purpose], removal) for purpose in DATA_BUCKETS
        }

        self.stream = kinesis.Stream(
            self,
            "TransactionsStream",
            stream_name=self.refs.stream_name,
            shard_count=config.kinesis_shard_count,
            retention_period=Duration.hours(config.kinesis_retention_hours),
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=self.key,
            removal_policy=removal,
        )
        acknowledge(self.stream, "AwsSolutions-KDS3",
                    "A customer-managed key is deliberate: one key policy governs who can read fraud data "
                    "across buckets, stream and topic; it costs about $1 a month plus requests.")

        firehose_logs = logs.LogGroup(
            self,
            "ArchiveDeliveryLogs",
            log_group_name=log_group_name("/aws/kinesisfirehose/", profile, "archive"),
            retention=log_retention(config.log_retention_days),
            encryption_key=self.key,
            removal_policy=removal,
        )
        self.archive = firehose.DeliveryStream(
            self,
            "ArchiveDeliveryStream",
            delivery_stream_name=self.refs.archive_delivery_stream_name,
            source=firehose.KinesisStreamSource(self.stream),
            destination=firehose.S3Bucket(
                self.buckets["raw"],
                data_output_prefix=ARCHIVE_PREFIX,
                error_output_prefix=ARCHIVE_ERROR_PREFIX,
                buffering_interval=Duration.seconds(config.firehose_buffer_seconds),
                buffering_size=Size.mebibytes(config.firehose_buffer_mib),
                compression=firehose.Compression.GZIP,
                encryption_key=self.key,
                logging_config=firehose.EnableLogging(firehose_logs),
            ),
        )
        archive = self.archive.node.default_child
        archive.add_property_override("ExtendedS3DestinationConfiguration.ProcessingConfiguration",
                                      ARCHIVE_PROCESSING)
        acknowledge(self.archive, "AwsSolutions-KDF1",
                    "Firehose rejects server-side encryption on a Kinesis-stream source; the source stream "
                    "is KMS-encrypted with the data key and the S3 output uses the same key.")
        raw_bucket_id = self.get_logical_id(self.buckets["raw"].node.default_child)
        acknowledge(
            self.archive, "AwsSolutions-IAM5",
            "Grants generated by the Firehose L2 (Bucket.grantReadWrite, Key.grantEncryptDecrypt) for its "
            "delivery role: objects are date-partitioned at delivery time, so they need <raw bucket ARN>/*. "
            "The action wildcards are wider than Firehose needs (it never deletes), but every statement is "
            "scoped to the raw bucket and the data key only, and only the Firehose service can assume the role.",
            findings=["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
                      "Action::s3:DeleteObject*", "Action::s3:Abort*", "Action::kms:ReEncrypt*",
                      "Action::kms:GenerateDataKey*", f"Resource::<{raw_bucket_id}.Arn>/*"],
        )
        # The Firehose L2 always adds a region->CIDR mapping that only Redshift/OpenSearch destinations use.
        acknowledge(self, "CloudFormation-Validate::W7001",
                    "Unused Firehose CIDR mapping emitted by the aws-kinesisfirehose L2; harmless.")

        self.alerts = sns.Topic(
            self,
            "AlertsTopic",
            topic_name=self.refs.alerts_topic_name,
            display_name="mlops-demo alerts",
            master_key=self.key,
            enforce_ssl=True,
        )
        # CloudWatch alarms publish to the encrypted topic, so the service needs the key.
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToUseKeyForSns",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy "*" means this key
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
        ))

        for purpose, bucket in self.buckets.items():
            CfnOutput(self, f"{purpose.capitalize()}BucketName", value=bucket.bucket_name)
        CfnOutput(self, "TransactionsStreamName", value=self.stream.stream_name)
        CfnOutput(self, "ArchiveDeliveryStreamName", value=self.archive.delivery_stream_name)
        CfnOutput(self, "AlertsTopicArn", value=self.alerts.topic_arn)
        CfnOutput(self, "DataKeyArn", value=self.key.key_arn)

    def _data_bucket(self, purpose: str, expire_days: int | None, removal: RemovalPolicy) -> s3.Bucket:
        rules = [s3.LifecycleRule(id="abort-incomplete-uploads",
                                  abort_incomplete_multipart_upload_after=Duration.days(1))]
        if expire_days is not None:
            rules.append(s3.LifecycleRule(id=f"expire-{purpose}", expiration=Duration.days(expire_days)))
        versioned = purpose in VERSIONED_BUCKETS
        if versioned:
            rules.append(s3.LifecycleRule(
                id="expire-old-versions",
                noncurrent_version_expiration=Duration.days(self.config.noncurrent_version_days),
            ))
        bucket = s3.Bucket(
            self,
            f"{purpose.capitalize()}Bucket",
            bucket_name=bucket_name(self.config.name, purpose, Aws.ACCOUNT_ID, Aws.REGION),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,  # one KMS call per bucket key, not per object: cuts KMS cost
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=versioned,
            lifecycle_rules=rules,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{purpose}/",
            removal_policy=removal,
            auto_delete_objects=removal == RemovalPolicy.DESTROY,
        )
        return bucket


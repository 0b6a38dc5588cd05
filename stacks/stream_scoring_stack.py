"""Streaming scoring: a Lambda on the transactions stream scores every transaction through the endpoint.

The event source mapping is configured for "nothing lost, nothing silent" (ADR 0007): batches of
`scoring_batch_size` gathered for at most `scoring_batching_window_seconds`, one batch per shard at a time,
ReportBatchItemFailures (retry from the first failed record, not the batch),
bisect on error (isolate a record that crashes the function), bounded retries and record age, and an
on-failure SQS queue that records every discarded batch for a redrive (`mlops-demo redrive`). Invalid
records never reach the retries: the function sends them to a dead-letter queue with the field and the
rule. Alarms: dead-letter and on-failure queue depth, iterator age, function errors.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from fraud_core.config import ProfileConfig
from stacks.bundling import ROOT
from stacks.constructs.bundled_function import BundledPythonFunction
from stacks.data_refs import DataFoundationRefs
from stacks.nag import acknowledge
from stacks.naming import resource_name

QUEUE_RETENTION = Duration.days(14)  # SQS's maximum: time to look at a poison record or redrive a batch


class StreamScoringStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: ProfileConfig, data: DataFoundationRefs,
                 endpoint_name: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        profile = config.name
        key = kms.Key.from_key_arn(self, "DataKey", data.data_key_arn(self))
        alerts = sns.Topic.from_topic_arn(self, "AlertsTopic", data.alerts_topic_arn)
        decisions = s3.Bucket.from_bucket_name(self, "DecisionsBucket", data.bucket_name("decisions"))
        stream = kinesis.Stream.from_stream_attributes(self, "TransactionsStream", stream_arn=data.stream_arn,
                                                       encryption_key=key)
        self.dead_letters = self._queue("InvalidRecords", resource_name(profile, "scoring-invalid-records"), key)
        self.failed_batches = self._queue("FailedBatches", resource_name(profile, "scoring-failed-batches"), key)

        self.scorer = BundledPythonFunction(
            self, "Scorer", function_name=resource_name(profile, "scorer"), handler_dir=ROOT / "lambdas" / "scoring",
            description="Scores every transaction on the stream through the fraud endpoint (fraud_core.scoring)",
            role_description="Scoring function: reads the stream, calls the endpoint, writes decisions",
            environment={"ENDPOINT_NAME": endpoint_name, "DECISIONS_BUCKET": decisions.bucket_name,
                         "DEAD_LETTER_QUEUE_URL": self.dead_letters.queue_url,
                         "POWERTOOLS_SERVICE_NAME": "scoring", "POWERTOOLS_METRICS_NAMESPACE": "MlopsDemo/Scoring"},
            log_retention_days=config.log_retention_days, log_key=key, timeout=Duration.seconds(60),
            memory_size=config.scoring_memory_mb)
        fn = self.scorer.function
        fn.add_event_source(sources.KinesisEventSource(
            stream, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=config.scoring_batch_size,
            max_batching_window=Duration.seconds(config.scoring_batching_window_seconds),
            # One batch per shard: a discarded batch is then exactly the on-failure record's sequence range, which
            # the redrive re-reads. With a higher factor, concurrent batches interleave within a shard (split by
            # partition key) and that range holds other batches' records too. A shard takes at most 1,000
            # records/s, which one batch processor outruns (benchmarks/RESULTS.md), so the factor buys nothing.
            parallelization_factor=1, report_batch_item_failures=True,
            bisect_batch_on_error=True, retry_attempts=config.scoring_max_retries,
            max_record_age=Duration.seconds(config.scoring_max_record_age_seconds),
            on_failure=sources.SqsDlq(self.failed_batches)))
        self._grant(fn, decisions, key, endpoint_name)
        self._alarms(alerts)

        CfnOutput(self, "ScorerFunctionName", value=fn.function_name)
        CfnOutput(self, "InvalidRecordsQueueUrl", value=self.dead_letters.queue_url)
        CfnOutput(self, "FailedBatchesQueueUrl", value=self.failed_batches.queue_url)

    def _queue(self, construct_id: str, name: str, key: kms.IKey) -> sqs.Queue:
        removal = RemovalPolicy.DESTROY if self.config.removal_policy == "destroy" else RemovalPolicy.RETAIN
        queue = sqs.Queue(self, construct_id, queue_name=name, encryption=sqs.QueueEncryption.KMS,
                          encryption_master_key=key, enforce_ssl=True, retention_period=QUEUE_RETENTION,
                          removal_policy=removal)
        acknowledge(queue, "AwsSolutions-SQS3", "This queue is itself the dead-letter destination (of invalid records "
                                                "or of discarded batches); a queue behind it would only move them.")
        return queue

    def _grant(self, fn: lambda_.Function, decisions: s3.IBucket, key: kms.IKey, endpoint_name: str) -> None:
        decisions.grant_put(fn, "decisions/*")
        key.grant_encrypt_decrypt(fn)
        self.dead_letters.grant_send_messages(fn)
        # Lambda's Kinesis execution-role permissions include ListStreams, which authorizes against "*" only (CDK's
        # event source grants it on the stream ARN, where it would be denied).
        fn.add_to_role_policy(iam.PolicyStatement(actions=["kinesis:ListStreams"], resources=["*"]))
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["sagemaker:InvokeEndpoint"],
            resources=[f"arn:{self.partition}:sagemaker:{self.region}:{self.account}:endpoint/{endpoint_name}"]))
        acknowledge(fn.role, "AwsSolutions-IAM5",  # type: ignore[arg-type]
                    "Decisions are written per batch under decisions/date=.../shard=.../ (keys made at run time); "
                    "the action wildcards come from CDK's grants on that prefix, the data key and the stream; "
                    "kinesis:ListStreams authorizes against '*' only (Lambda's Kinesis execution-role permissions).",
                    findings=["Action::s3:Abort*", "Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*",
                              "Resource::*",
                              f"Resource::arn:<AWS::Partition>:s3:::mlops-demo-{self.config.name}-decisions-"
                              "<AWS::AccountId>-<AWS::Region>/decisions/*"])

    def _alarms(self, alerts: sns.ITopic) -> None:
        cfg, fn = self.config, self.scorer.function
        period = Duration.seconds(cfg.alarm_period_seconds)
        action = cw_actions.SnsAction(alerts)
        specs = {
            "scoring-invalid-records": (self.dead_letters.metric_approximate_number_of_messages_visible(
                period=period, statistic="Maximum"), 0, "Invalid transactions reached the dead-letter queue: read "
                                                        "their field and rule (runbook: poison flood)"),
            "scoring-failed-batches": (self.failed_batches.metric_approximate_number_of_messages_visible(
                period=period, statistic="Maximum"), 0, "Batches were discarded after their retries: run "
                                                        "`mlops-demo redrive` once the cause is fixed"),
            "scoring-iterator-age": (fn.metric("IteratorAge", period=period, statistic="Maximum"),
                                     cfg.scoring_iterator_age_alarm_seconds * 1000,
                                     "The scorer falls behind the stream (iterator age)"),
            "scoring-errors": (fn.metric_errors(period=period, statistic="Sum"), 0,
                               "The scoring function failed invocations (they are retried; see its logs)"),
        }
        for suffix, (metric, threshold, description) in specs.items():
            alarm = cw.Alarm(self, suffix, alarm_name=resource_name(cfg.name, suffix), metric=metric,
                             threshold=threshold, comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                             evaluation_periods=1, treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                             alarm_description=description)
            alarm.add_alarm_action(action)

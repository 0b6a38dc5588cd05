"""Monitoring that closes the loop: the drift monitor, its alarms, retraining on drift, failed-run alarms.

- The drift monitor (a state machine on `monitoring_schedule`): PlanWindow (Lambda: the live model and the
  capture files of the last `monitoring_window_hours`, as a manifest) -> the drift processing job (the project's
  `sagemaker_jobs/drift.py`, thresholds from the profile) -> PublishMetrics (Lambda: the verdict as CloudWatch
  metrics). A window with nothing captured ends the run without a job.
- Alarms on those metrics: drift (any feature or the score drifted) and data quality (units, nulls, unseen
  categories), both to SNS; missing data keeps their state, so a quiet hour neither fires nor clears them.
- The drift alarm's transition into ALARM -> EventBridge -> the retrain trigger (Lambda), which starts the
  training pipeline with the verdict as its reason, unless the data-quality alarm blocks it, a run is in
  progress, or the cool-down holds (fraud_core.retrain_policy); it says why on SNS when it does not.
- Failed executions of every state machine alarm to SNS.

Own job rather than SageMaker Model Monitor (closed to new customers) or a library: ADR 0008.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from fraud_core.config import ProfileConfig
from fraud_core.dashboard_spec import dashboard_panels
from fraud_core.monitoring import DATA_QUALITY_METRIC, DRIFT_METRIC, NAMESPACE
from stacks.bundling import ROOT
from stacks.constructs.bundled_function import BundledPythonFunction
from stacks.constructs.dashboard import MonitoringDashboard
from stacks.constructs.failure_notification import FailureNotification
from stacks.constructs.processing_request import JobCode, s3_input, s3_output
from stacks.constructs.sagemaker_job import PROCESSING, RUN_ID_EXPRESSION, SageMakerJob
from stacks.data_refs import DataFoundationRefs
from stacks.log_retention import log_retention
from stacks.nag import acknowledge
from stacks.naming import bucket_name, log_group_name, resource_name
from stacks.sklearn_images import REPOSITORY, SklearnImages

CAPTURE_PREFIX = "datacapture"  # where the deploy workflow points the endpoint's data capture (serving_stack.py)
MONITORING_PREFIX = "monitoring"  # the drift monitor's manifests and reports, in the curated bucket
GRANT_WILDCARDS = ["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:Abort*",
                   "Action::s3:DeleteObject*", "Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*"]


class MonitoringStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: ProfileConfig, data: DataFoundationRefs,
                 endpoint_name: str, watched_state_machines: dict[str, str], **kwargs: Any) -> None:
        """`watched_state_machines`: label -> name of the other stacks' state machines (failed-run alarms)."""
        super().__init__(scope, construct_id, **kwargs)
        self.config, self.endpoint_name = config, endpoint_name
        profile = config.name
        self.removal = RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN
        self.key = kms.Key.from_key_arn(self, "DataKey", data.data_key_arn(self))
        self.alerts = sns.Topic.from_topic_arn(self, "AlertsTopic", data.alerts_topic_arn)
        self.curated = s3.Bucket.from_bucket_name(self, "CuratedBucket", data.bucket_name("curated"))
        capture = s3.Bucket.from_bucket_name(self, "CaptureBucket", data.bucket_name("capture"))
        models = s3.Bucket.from_bucket_name(self, "ModelsBucket", data.bucket_name("models"))
        self.images = SklearnImages(self, "SklearnImage")
        self.job_code = JobCode.in_stack(self)
        self.job_role = self._job_role(capture, models)
        self.window_fn = self._window_function(capture)
        self.metrics_fn = self._metrics_function()
        self.drift_monitor = self._drift_monitor()
        if config.monitoring_schedule != "off":
            events.Rule(self, "DriftMonitorSchedule", rule_name=resource_name(profile, "drift-monitor-schedule"),
                        schedule=events.Schedule.expression(config.monitoring_schedule),
                        description="Run the drift monitor over the last window of captured traffic",
                        targets=[targets.SfnStateMachine(self.drift_monitor)])
        action = cw_actions.SnsAction(self.alerts)
        self.drift_alarm = self._verdict_alarm("drift", DRIFT_METRIC, action, "Served traffic drifted from the "
                                               "serving model's training baseline: retraining is started (runbook)")
        self.data_quality_alarm = self._verdict_alarm(
            "data-quality", DATA_QUALITY_METRIC, action, "Served traffic breaks data quality (units, nulls or unseen "
            "categories): retraining is blocked until it clears (runbook)")
        training = watched_state_machines["training"]
        self.retrain_fn = self._retrain_trigger(self._state_machine_arn(training))
        events.Rule(
            self, "RetrainOnDrift", rule_name=resource_name(profile, "retrain-on-drift"),
            description="The drift alarm went into ALARM: ask the retrain trigger to start the training pipeline",
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"], detail_type=["CloudWatch Alarm State Change"],
                detail={"alarmName": [self.drift_alarm.alarm_name], "state": {"value": ["ALARM"]}}),
            targets=[targets.LambdaFunction(self.retrain_fn.function, retry_attempts=4)])
        self._failed_run_alarms({**{k: self._state_machine_arn(v) for k, v in watched_state_machines.items()},
                                 "drift-monitor": self.drift_monitor.state_machine_arn}, action)
        dashboard = MonitoringDashboard(self, "Dashboard", profile=profile, panels=dashboard_panels(
            profile, self.account, self.region, self.partition))

        CfnOutput(self, "DashboardName", value=dashboard.dashboard_name)
        CfnOutput(self, "DriftMonitorStateMachineArn", value=self.drift_monitor.state_machine_arn)
        CfnOutput(self, "DriftAlarmName", value=self.drift_alarm.alarm_name)
        CfnOutput(self, "DataQualityAlarmName", value=self.data_quality_alarm.alarm_name)
        CfnOutput(self, "RetrainTriggerFunctionName", value=self.retrain_fn.function.function_name)

    def _state_machine_arn(self, name: str) -> str:
        return f"arn:{self.partition}:states:{self.region}:{self.account}:stateMachine:{name}"

    def _bucket_finding(self, purpose: str, prefix: str) -> str:
        name = bucket_name(self.config.name, purpose, "<AWS::AccountId>", "<AWS::Region>")
        return f"Resource::arn:<AWS::Partition>:s3:::{name}/{prefix}*"

    # --- IAM and functions --------------------------------------------------------------------------
    def _job_role(self, capture: s3.IBucket, models: s3.IBucket) -> iam.Role:
        role = iam.Role(self, "DriftJobRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                        description="Drift job: reads captured traffic and the serving model, writes its report")
        capture.grant_read(role, f"{CAPTURE_PREFIX}/*")
        models.grant_read(role, "training-jobs/*")
        self.curated.grant_read_write(role, f"{MONITORING_PREFIX}/*")
        self.job_code.grant_read(role)
        self.key.grant_encrypt_decrypt(role)
        role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            resources=[f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:/aws/sagemaker/"
                       "ProcessingJobs:*"]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            resources=[f"arn:{self.partition}:ecr:{self.region}:{self.images.registry_account}:repository/"
                       f"{REPOSITORY}"]))
        role.add_to_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
        acknowledge(role, "AwsSolutions-IAM5",
                    "The drift job reads capture files (keys per hour and request batch) and model artifacts (per "
                    "training job), reads/writes the run's manifest and report under monitoring/ (per run), reads "
                    "the content-addressed code assets and writes its log streams; ecr:GetAuthorizationToken has "
                    "no resource scoping. Action wildcards come from CDK grants.",
                    findings=[*GRANT_WILDCARDS, "Resource::*", self._bucket_finding("capture", f"{CAPTURE_PREFIX}/"),
                              self._bucket_finding("models", "training-jobs/"),
                              self._bucket_finding("curated", f"{MONITORING_PREFIX}/"),
                              "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
                              "<AWS::Region>/*",
                              "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
                              "/aws/sagemaker/ProcessingJobs:*"])
        return role

    def _function(self, construct_id: str, suffix: str, handler: str, description: str,
                  environment: dict[str, str]) -> BundledPythonFunction:
        return BundledPythonFunction(
            self, construct_id, function_name=resource_name(self.config.name, suffix),
            handler_dir=ROOT / "lambdas" / handler, description=description, role_description=description,
            environment={"POWERTOOLS_SERVICE_NAME": "monitoring", **environment},
            log_retention_days=self.config.log_retention_days, log_key=self.key, timeout=Duration.seconds(60))

    def _window_function(self, capture: s3.IBucket) -> BundledPythonFunction:
        fn = self._function("CaptureWindow", "monitoring-window", "monitoring_window",
                            "Drift monitor: the live model and the capture files of the window, as a manifest",
                            {"ENDPOINT_NAME": self.endpoint_name, "CAPTURE_BUCKET": capture.bucket_name,
                             "CAPTURE_PREFIX": CAPTURE_PREFIX, "MANIFEST_BUCKET": self.curated.bucket_name,
                             "WINDOW_HOURS": str(self.config.monitoring_window_hours)})
        capture.grant_read(fn.role, f"{CAPTURE_PREFIX}/*")
        self.curated.grant_put(fn.role, f"{MONITORING_PREFIX}/*")
        self.key.grant_encrypt_decrypt(fn.role)
        sm = f"arn:{self.partition}:sagemaker:{self.region}:{self.account}"
        prefix, group = resource_name(self.config.name, ""), resource_name(self.config.name, "fraud-models")
        fn.role.add_to_policy(iam.PolicyStatement(
            actions=["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel",
                     "sagemaker:DescribeModelPackage"],
            resources=[f"{sm}:endpoint/{self.endpoint_name}", f"{sm}:endpoint-config/{prefix}*",
                       f"{sm}:model/{prefix}*", f"{sm}:model-package/{group}/*"]))
        acknowledge(fn.role, "AwsSolutions-IAM5",
                    "Lists capture files (keys per hour), writes the run's manifest under monitoring/ (per run), and "
                    "describes the profile's generated models and configs (named with the profile's prefix and a "
                    "digest) and the group's package versions. Action wildcards come from CDK grants.",
                    findings=[*GRANT_WILDCARDS, self._bucket_finding("capture", f"{CAPTURE_PREFIX}/"),
                              self._bucket_finding("curated", f"{MONITORING_PREFIX}/"),
                              f"Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
                              f"endpoint-config/{prefix}*",
                              f"Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model/{prefix}*",
                              "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model-package/"
                              f"{group}/*"])
        return fn

    def _metrics_function(self) -> BundledPythonFunction:
        fn = self._function("DriftMetrics", "monitoring-metrics", "monitoring_metrics",
                            "Drift monitor: publishes the drift verdict as CloudWatch metrics",
                            {"ENDPOINT_NAME": self.endpoint_name})
        self.curated.grant_read_write(fn.role, f"{MONITORING_PREFIX}/*")
        self.key.grant_encrypt_decrypt(fn.role)
        fn.role.add_to_policy(iam.PolicyStatement(actions=["cloudwatch:PutMetricData"], resources=["*"],
                                                  conditions={"StringEquals": {"cloudwatch:namespace": NAMESPACE}}))
        acknowledge(fn.role, "AwsSolutions-IAM5",
                    "Reads the run's report and writes the latest verdict under monitoring/ (keys per run); "
                    "cloudwatch:PutMetricData has no resource scoping and is limited to the monitoring namespace "
                    "by condition. Action wildcards come from CDK grants.",
                    findings=[*GRANT_WILDCARDS, "Resource::*",
                              self._bucket_finding("curated", f"{MONITORING_PREFIX}/")])
        return fn

    def _retrain_trigger(self, training_arn: str) -> BundledPythonFunction:
        fn = self._function("RetrainTrigger", "retrain-trigger", "retrain_trigger",
                            "Drift alarm -> training pipeline (one run at a time, cool-down, blocked by data quality)",
                            {"TRAINING_STATE_MACHINE_ARN": training_arn,
                             "COOLDOWN_HOURS": str(self.config.retrain_cooldown_hours),
                             "DATA_QUALITY_ALARM": self.data_quality_alarm.alarm_name,
                             "ALERTS_TOPIC_ARN": self.alerts.topic_arn, "MONITORING_BUCKET": self.curated.bucket_name})
        self.curated.grant_read(fn.role, f"{MONITORING_PREFIX}/latest/*")
        self.key.grant_decrypt(fn.role)
        self.key.grant(fn.role, "kms:GenerateDataKey*")  # publishing to the encrypted alerts topic
        self.alerts.grant_publish(fn.role)
        fn.role.add_to_policy(iam.PolicyStatement(actions=["states:ListExecutions", "states:StartExecution"],
                                                  resources=[training_arn]))
        fn.role.add_to_policy(iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"],
                                                  resources=[self.data_quality_alarm.alarm_arn]))
        acknowledge(fn.role, "AwsSolutions-IAM5",
                    "Reads the latest drift verdict under monitoring/latest/; kms:GenerateDataKey* (on the data key "
                    "only) is what SNS needs to publish to the encrypted alerts topic. Action wildcards come from "
                    "CDK grants.",
                    findings=["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
                              "Action::kms:GenerateDataKey*",
                              self._bucket_finding("curated", f"{MONITORING_PREFIX}/latest/")])
        return fn

    # --- the drift monitor ------------------------------------------------------------------------
    def _drift_monitor(self) -> sfn.StateMachine:
        cfg = self.config
        run = sfn.JsonPath.execution_name
        failure = FailureNotification(self, "Failure", topic=self.alerts, topic_key=self.key,
                                      subject="mlops-demo: drift monitor failed", what="Drift monitor run",
                                      error="DriftMonitorFailed", fail_state_name="MonitorFailed")
        start = sfn.Pass(self, "StartRun", result_path="$.run",
                         parameters={"id.$": RUN_ID_EXPRESSION, "time.$": "$$.Execution.StartTime"})
        plan = tasks.LambdaInvoke(
            self, "PlanWindow", lambda_function=self.window_fn.function,
            payload=sfn.TaskInput.from_object({"time": sfn.JsonPath.string_at("$.run.time"), "run": run}),
            result_selector={f"{k}.$": f"$.Payload.{k}" for k in (
                "ready", "reason", "manifest_uri", "files", "model_data_url", "model_package_arn", "window_start",
                "window_end")},
            result_path="$.window", retry_on_service_exceptions=True)
        plan.add_catch(failure.start, result_path="$.error")
        report_prefix = sfn.JsonPath.format(f"s3://{self.curated.bucket_name}/{MONITORING_PREFIX}/{{}}/report/", run)
        args = ["--psi-threshold", str(cfg.drift_psi_threshold), "--ks-threshold", str(cfg.drift_ks_threshold),
                "--min-rows", str(cfg.drift_min_rows), "--max-null-rate-increase", str(cfg.max_null_rate_increase),
                "--max-unseen-share", str(cfg.max_unseen_category_share)]
        drift = SageMakerJob(self, "DriftJob", kind=PROCESSING, step="Drift", suffix="drift", role=self.job_role,
                             request=self.job_code.request(
                                 image_uri=self.images.uris.training, script="drift", args=args,
                                 inputs=[*self.job_code.inputs,
                                         s3_input("capture", sfn.JsonPath.string_at("$.window.manifest_uri"),
                                                  "capture", data_type="ManifestFile"),
                                         s3_input("baseline", sfn.JsonPath.string_at("$.window.model_data_url"),
                                                  "baseline")],
                                 outputs=[s3_output("report", report_prefix)],
                                 instance_type=cfg.processing_instance_type, key_arn=self.key.key_arn,
                                 timeout_s=cfg.job_timeout_minutes * 60,
                                 tags=[{"Key": "monitoring-run", "Value": run}]),
                             result_path="$.drift", poll_interval=Duration.seconds(cfg.job_poll_seconds),
                             on_failure=failure.start)
        publish = tasks.LambdaInvoke(
            self, "PublishMetrics", lambda_function=self.metrics_fn.function,
            payload=sfn.TaskInput.from_object({
                "report_uri": sfn.JsonPath.format(
                    f"s3://{self.curated.bucket_name}/{MONITORING_PREFIX}/{{}}/report/drift_report.json", run),
                "window_end": sfn.JsonPath.string_at("$.window.window_end"),
                "model_package_arn": sfn.JsonPath.string_at("$.window.model_package_arn")}),
            result_selector={f"{k}.$": f"$.Payload.{k}"
                             for k in ("verdict", "reason", "drifted", "data_quality_violations")},
            result_path="$.verdict", retry_on_service_exceptions=True)
        publish.add_catch(failure.start, result_path="$.error")
        start.next(plan).next(sfn.Choice(self, "CaptureToMonitor?")
                              .when(sfn.Condition.boolean_equals("$.window.ready", True), drift)
                              .otherwise(sfn.Succeed(self, "NothingToMonitor", comment="Reason in $.window.reason")))
        drift.next(publish).next(sfn.Succeed(self, "Monitored", comment="Verdict in $.verdict"))

        log_group = logs.LogGroup(self, "DriftMonitorLogs",
                                  log_group_name=log_group_name("/aws/vendedlogs/states/", cfg.name, "drift-monitor"),
                                  retention=log_retention(cfg.log_retention_days), encryption_key=self.key,
                                  removal_policy=self.removal)
        machine = sfn.StateMachine(
            self, "DriftMonitor", state_machine_name=resource_name(cfg.name, "drift-monitor"),
            definition_body=sfn.DefinitionBody.from_chainable(start),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.minutes(cfg.job_timeout_minutes + 30), tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            comment="Drift of captured traffic against the serving model's baseline, published as metrics")
        failure.grant_publish(machine)
        machine.add_to_role_policy(iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=[PROCESSING.arns]))
        acknowledge(machine, "AwsSolutions-IAM5",
                    "Job names are generated per execution (from the run id), so SageMaker actions are scoped to "
                    "this account/region's processing-job ARNs with a name wildcard; Lambda invoke covers the "
                    "functions' versions (<arn>:*); kms:GenerateDataKey* (on the data key only) is what SNS needs "
                    "to publish to the encrypted alerts topic; X-Ray and CloudWatch Logs delivery actions support "
                    "no resource scoping.",
                    findings=["Resource::*", "Action::kms:GenerateDataKey*",
                              "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:processing-job/*",
                              *(f"Resource::<{self.get_logical_id(fn.function.node.default_child)}.Arn>:*"
                                for fn in (self.window_fn, self.metrics_fn))])
        return machine

    # --- alarms ---------------------------------------------------------------------------------------
    def _verdict_alarm(self, suffix: str, metric: str, action: cw_actions.SnsAction, description: str) -> cw.Alarm:
        # A verdict arrives once per run; a short period turns it into an alarm state within a period, and
        # missing data (the hours between runs) keeps the state: the alarm follows the latest verdict.
        watched = cw.Metric(namespace=NAMESPACE, metric_name=metric, statistic="Maximum",
                            period=Duration.seconds(self.config.alarm_period_seconds),
                            dimensions_map={"EndpointName": self.endpoint_name})
        alarm = cw.Alarm(self, f"{suffix}-alarm", alarm_name=resource_name(self.config.name, suffix), metric=watched,
                         threshold=1, comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                         evaluation_periods=1, treat_missing_data=cw.TreatMissingData.IGNORE,
                         alarm_description=description)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        return alarm

    def _failed_run_alarms(self, machines: dict[str, str], action: cw_actions.SnsAction) -> None:
        for label, arn in machines.items():
            metric = cw.Metric(namespace="AWS/States", metric_name="ExecutionsFailed", statistic="Sum",
                               period=Duration.seconds(self.config.alarm_period_seconds),
                               dimensions_map={"StateMachineArn": arn})
            alarm = cw.Alarm(self, f"{label}-failed-runs", alarm_name=resource_name(self.config.name,
                                                                                    f"{label}-failed-runs"),
                             metric=metric, threshold=0, evaluation_periods=1,
                             comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                             treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                             alarm_description=f"An execution of the {label} state machine failed (its SNS failure "
                                               "message has the cause; runbook)")
            alarm.add_alarm_action(action)

"""Monitoring that closes the loop: drift and quality monitors, their alarms, retraining on them, failed-run alarms.

- The drift monitor (a state machine on `monitoring_schedule`, stacks/constructs/monitor_workflow.py): PlanWindow
  (Lambda: the live model and the capture files of the last `monitoring_window_hours`, as a manifest) -> the
  drift processing job (`sagemaker_jobs/drift.py`, thresholds from the profile) -> PublishMetrics (Lambda: the
  verdict as CloudWatch metrics). A window with nothing captured ends the run without a job.
- The quality monitor (on `quality_schedule`), the same shape: the decisions whose labels matured (training's
  label-maturity rule) with their transactions and the live model's evaluation -> `sagemaker_jobs/model_quality.py`
  -> recall, precision, PR-AUC and a regressed flag as metrics.
- Alarms on those metrics: drift, data quality (units, nulls, unseen categories) and quality regression, all to
  SNS; missing data keeps their state, so a quiet period neither fires nor clears them.
- The drift or quality alarm's transition into ALARM -> EventBridge -> the retrain trigger (Lambda), which starts
  the training pipeline with the verdict as its reason, unless the data-quality alarm blocks it, a run is in
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
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from fraud_core.config import ProfileConfig
from fraud_core.dashboard_spec import dashboard_panels
from fraud_core.monitoring import DATA_QUALITY_METRIC, DRIFT_METRIC, NAMESPACE, QUALITY_REGRESSED_METRIC
from stacks.bundling import ROOT
from stacks.constructs.bundled_function import BundledPythonFunction
from stacks.constructs.dashboard import MonitoringDashboard
from stacks.constructs.monitor_workflow import MonitorJob, MonitorWorkflow
from stacks.constructs.processing_request import JobCode, s3_input
from stacks.data_refs import DataFoundationRefs
from stacks.nag import acknowledge
from stacks.naming import bucket_name, resource_name
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
        self.buckets = {b: s3.Bucket.from_bucket_name(self, f"{b.capitalize()}Bucket", data.bucket_name(b))
                        for b in ("capture", "models", "decisions", "raw", "labels")}
        self.images = SklearnImages(self, "SklearnImage")
        self.job_code = JobCode.in_stack(self)
        self.job_role = self._job_role()
        self.window_fn = self._window_function()
        self.quality_window_fn = self._quality_window_function()
        self.metrics_fn = self._metrics_function()
        self.drift_monitor = self._drift_monitor()
        self.quality_monitor = self._quality_monitor()
        for kind, machine, schedule, what in (
                ("drift", self.drift_monitor, config.monitoring_schedule, "the last window of captured traffic"),
                ("quality", self.quality_monitor, config.quality_schedule, "the decisions whose labels matured")):
            if schedule != "off":
                events.Rule(self, f"{kind.capitalize()}MonitorSchedule",
                            rule_name=resource_name(profile, f"{kind}-monitor-schedule"),
                            schedule=events.Schedule.expression(schedule), description=f"Run the {kind} monitor over "
                            f"{what}", targets=[targets.SfnStateMachine(machine)])
        action = cw_actions.SnsAction(self.alerts)
        self.drift_alarm = self._verdict_alarm("drift", DRIFT_METRIC, action, "Served traffic drifted from the "
                                               "serving model's training baseline: retraining is started (runbook)")
        self.data_quality_alarm = self._verdict_alarm(
            "data-quality", DATA_QUALITY_METRIC, action, "Served traffic breaks data quality (units, nulls or unseen "
            "categories): retraining is blocked until it clears (runbook)")
        self.schema_alarm = self._schema_violation_alarm(action)
        self.quality_alarm = self._verdict_alarm(
            "quality", QUALITY_REGRESSED_METRIC, action, "Model quality on matured labels fell below what the live "
            "model's evaluation promised: a recent model is rolled back, an established one retrained (runbook)")
        self.retrain_fn = self._retrain_trigger(self._state_machine_arn(watched_state_machines["training"]),
                                                self._state_machine_arn(watched_state_machines["deploy"]))
        events.Rule(
            self, "RetrainOnMonitorAlarm", rule_name=resource_name(profile, "retrain-on-monitor-alarm"),
            description="The drift or quality alarm went into ALARM: ask the retrain trigger to start training",
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"], detail_type=["CloudWatch Alarm State Change"],
                detail={"alarmName": [self.drift_alarm.alarm_name, self.quality_alarm.alarm_name],
                        "state": {"value": ["ALARM"]}}),
            targets=[targets.LambdaFunction(self.retrain_fn.function, retry_attempts=4)])
        self._failed_run_alarms({**{k: self._state_machine_arn(v) for k, v in watched_state_machines.items()},
                                 "drift-monitor": self.drift_monitor.state_machine_arn,
                                 "quality-monitor": self.quality_monitor.state_machine_arn}, action)
        dashboard = MonitoringDashboard(self, "Dashboard", profile=profile, panels=dashboard_panels(
            profile, self.account, self.region, self.partition))

        CfnOutput(self, "DashboardName", value=dashboard.dashboard_name)
        CfnOutput(self, "DriftMonitorStateMachineArn", value=self.drift_monitor.state_machine_arn)
        CfnOutput(self, "DriftAlarmName", value=self.drift_alarm.alarm_name)
        CfnOutput(self, "DataQualityAlarmName", value=self.data_quality_alarm.alarm_name)
        CfnOutput(self, "SchemaViolationAlarmName", value=self.schema_alarm.alarm_name)
        CfnOutput(self, "QualityMonitorStateMachineArn", value=self.quality_monitor.state_machine_arn)
        CfnOutput(self, "QualityAlarmName", value=self.quality_alarm.alarm_name)
        CfnOutput(self, "RetrainTriggerFunctionName", value=self.retrain_fn.function.function_name)

    def _state_machine_arn(self, name: str) -> str:
        return f"arn:{self.partition}:states:{self.region}:{self.account}:stateMachine:{name}"

    def _bucket_finding(self, purpose: str, prefix: str) -> str:
        name = bucket_name(self.config.name, purpose, "<AWS::AccountId>", "<AWS::Region>")
        return f"Resource::arn:<AWS::Partition>:s3:::{name}/{prefix}*"

    # --- IAM and functions --------------------------------------------------------------------------
    def _job_role(self) -> iam.Role:
        b = self.buckets
        role = iam.Role(self, "DriftJobRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                        description="Drift and quality jobs: read captured traffic, decisions, labels, transactions, "
                                    "the serving model and its evaluation; write their reports")
        b["capture"].grant_read(role, f"{CAPTURE_PREFIX}/*")
        b["models"].grant_read(role, "training-jobs/*")
        b["decisions"].grant_read(role, "decisions/*")
        b["raw"].grant_read(role, "transactions/*")
        b["labels"].grant_read(role, "labels/*")
        self.curated.grant_read(role, "runs/*")  # the live model's evaluation.json
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
                    "The jobs read capture files (keys per hour and request batch), decisions, transactions and labels "
                    "(keys per day and batch), model artifacts (per training job) and evaluations (per pipeline run), "
                    "read/write the run's manifests and report under monitoring/ (per run), read the "
                    "content-addressed code assets and write their log streams; ecr:GetAuthorizationToken has no "
                    "resource scoping. Action wildcards come from CDK grants.",
                    findings=[*GRANT_WILDCARDS, "Resource::*", self._bucket_finding("capture", f"{CAPTURE_PREFIX}/"),
                              self._bucket_finding("models", "training-jobs/"),
                              self._bucket_finding("decisions", "decisions/"),
                              self._bucket_finding("raw", "transactions/"), self._bucket_finding("labels", "labels/"),
                              self._bucket_finding("curated", "runs/"),
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

    def _window_function(self) -> BundledPythonFunction:
        capture = self.buckets["capture"]
        fn = self._function("CaptureWindow", "monitoring-window", "monitoring_window",
                            "Drift monitor: the live model and the capture files of the window, as a manifest",
                            {"ENDPOINT_NAME": self.endpoint_name, "CAPTURE_BUCKET": capture.bucket_name,
                             "CAPTURE_PREFIX": CAPTURE_PREFIX, "MANIFEST_BUCKET": self.curated.bucket_name,
                             "WINDOW_HOURS": str(self.config.monitoring_window_hours)})
        capture.grant_read(fn.role, f"{CAPTURE_PREFIX}/*")
        self._grant_planning(fn, [self._bucket_finding("capture", f"{CAPTURE_PREFIX}/")],
                             "Lists capture files (keys per hour)")
        return fn

    def _quality_window_function(self) -> BundledPythonFunction:
        b, cfg = self.buckets, self.config
        fn = self._function("QualityWindow", "quality-window", "quality_window",
                            "Quality monitor: the live model's evaluation and the matured decisions and their "
                            "transactions, as manifests",
                            {"ENDPOINT_NAME": self.endpoint_name, "DECISIONS_BUCKET": b["decisions"].bucket_name,
                             "RAW_BUCKET": b["raw"].bucket_name, "MANIFEST_BUCKET": self.curated.bucket_name,
                             "WINDOW_DAYS": str(cfg.quality_window_days),
                             "LABEL_MATURITY_DAYS": str(cfg.label_maturity_days)})
        b["decisions"].grant_read(fn.role, "decisions/*")
        b["raw"].grant_read(fn.role, "transactions/*")
        self._grant_planning(fn, [self._bucket_finding("decisions", "decisions/"),
                                  self._bucket_finding("raw", "transactions/")],
                             "Lists decisions and archived transactions (keys per day and batch)")
        return fn

    def _grant_planning(self, fn: BundledPythonFunction, findings: list[str], lists: str) -> None:
        """What a monitor's PlanWindow step needs besides its listing: the live model, and the run's manifests."""
        self.curated.grant_put(fn.role, f"{MONITORING_PREFIX}/*")
        self.key.grant_encrypt_decrypt(fn.role)
        describe_findings = self._grant_describe_live_model(fn)
        acknowledge(fn.role, "AwsSolutions-IAM5",
                    f"{lists}, writes the run's manifests under monitoring/ (per run), and describes the profile's "
                    "generated models and configs (named with the profile's prefix and a digest) and the group's "
                    "package versions. Action wildcards come from CDK grants.",
                    findings=[*GRANT_WILDCARDS, *findings, self._bucket_finding("curated", f"{MONITORING_PREFIX}/"),
                              *describe_findings])

    def _grant_describe_live_model(self, fn: BundledPythonFunction) -> list[str]:
        """Describe the endpoint, its generated configs and models, and the group's packages; the nag findings."""
        sm = f"arn:{self.partition}:sagemaker:{self.region}:{self.account}"
        prefix, group = resource_name(self.config.name, ""), resource_name(self.config.name, "fraud-models")
        fn.role.add_to_policy(iam.PolicyStatement(
            actions=["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel",
                     "sagemaker:DescribeModelPackage"],
            resources=[f"{sm}:endpoint/{self.endpoint_name}", f"{sm}:endpoint-config/{prefix}*",
                       f"{sm}:model/{prefix}*", f"{sm}:model-package/{group}/*"]))
        return [f"Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint-config/{prefix}*",
                f"Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model/{prefix}*",
                f"Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model-package/{group}/*"]

    def _metrics_function(self) -> BundledPythonFunction:
        fn = self._function("DriftMetrics", "monitoring-metrics", "monitoring_metrics",
                            "Drift and quality monitors: publish a verdict as CloudWatch metrics",
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

    def _retrain_trigger(self, training_arn: str, deploy_arn: str) -> BundledPythonFunction:
        fn = self._function("RetrainTrigger", "retrain-trigger", "retrain_trigger",
                            "Drift or quality alarm -> training pipeline (one run at a time, cool-down, blocked by "
                            "data quality)",
                            {"TRAINING_STATE_MACHINE_ARN": training_arn,
                             "COOLDOWN_HOURS": str(self.config.retrain_cooldown_hours),
                             "DATA_QUALITY_ALARMS": f"{self.data_quality_alarm.alarm_name},"
                                                    f"{self.schema_alarm.alarm_name}",
                             "QUALITY_ALARM": self.quality_alarm.alarm_name,
                             "ENDPOINT_NAME": self.endpoint_name,
                             "MODEL_PACKAGE_GROUP": resource_name(self.config.name, "fraud-models"),
                             "QUALITY_ROLLBACK_DAYS": str(self.config.quality_rollback_days),
                             "DEPLOY_STATE_MACHINE_ARN": deploy_arn,
                             "ALERTS_TOPIC_ARN": self.alerts.topic_arn, "MONITORING_BUCKET": self.curated.bucket_name})
        self.curated.grant_read(fn.role, f"{MONITORING_PREFIX}/latest/*")
        self.key.grant_decrypt(fn.role)
        self.key.grant(fn.role, "kms:GenerateDataKey*")  # publishing to the encrypted alerts topic
        self.alerts.grant_publish(fn.role)
        fn.role.add_to_policy(iam.PolicyStatement(actions=["states:ListExecutions", "states:StartExecution"],
                                                  resources=[training_arn]))
        fn.role.add_to_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[deploy_arn]))
        describe_findings = self._grant_describe_live_model(fn)
        # ListModelPackages authorizes against "*" only (Service Authorization Reference; ADR 0005).
        fn.role.add_to_policy(iam.PolicyStatement(actions=["sagemaker:ListModelPackages"], resources=["*"]))
        fn.role.add_to_policy(iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=[
            self.data_quality_alarm.alarm_arn, self.schema_alarm.alarm_arn]))
        acknowledge(fn.role, "AwsSolutions-IAM5",
                    "Reads the latest verdicts under monitoring/latest/; kms:GenerateDataKey* (on the data key "
                    "only) is what SNS needs to publish to the encrypted alerts topic; describes the live model and "
                    "the group's packages (generated names, package versions), and sagemaker:ListModelPackages "
                    "supports no resource scoping. Action wildcards come from CDK grants.",
                    findings=["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
                              "Action::kms:GenerateDataKey*", "Resource::*", *describe_findings,
                              self._bucket_finding("curated", f"{MONITORING_PREFIX}/latest/")])
        return fn

    # --- the drift monitor ------------------------------------------------------------------------
    def _drift_monitor(self) -> sfn.StateMachine:
        cfg = self.config
        args = ["--psi-threshold", str(cfg.drift_psi_threshold), "--ks-threshold", str(cfg.drift_ks_threshold),
                "--min-rows", str(cfg.drift_min_rows), "--max-null-rate-increase", str(cfg.max_null_rate_increase),
                "--max-unseen-share", str(cfg.max_unseen_category_share)]
        inputs = [s3_input("capture", sfn.JsonPath.string_at("$.window.manifest_uri"), "capture",
                           data_type="ManifestFile"),
                  s3_input("baseline", sfn.JsonPath.string_at("$.window.model_data_url"), "baseline")]
        return MonitorWorkflow(
            self, "DriftMonitor", config=cfg, kind="drift", what="Capture", plan_fn=self.window_fn.function,
            plan_outputs=["manifest_uri", "files", "model_data_url", "model_package_arn", "window_start",
                          "window_end"],
            job=self._monitor_job("drift", args, inputs, "drift_report.json"), publish_fn=self.metrics_fn.function,
            verdict_outputs=["verdict", "reason", "drifted", "data_quality_violations"],
            report_bucket=self.curated.bucket_name, key=self.key, alerts=self.alerts, removal=self.removal,
            description="Drift of captured traffic against the serving model's baseline, published as metrics",
        ).state_machine

    def _quality_monitor(self) -> sfn.StateMachine:
        cfg = self.config
        args = sfn.JsonPath.array(
            "--as-of", sfn.JsonPath.string_at("$.window.as_of"), "--label-maturity-days", str(cfg.label_maturity_days),
            "--cost-false-negative", str(cfg.cost_false_negative), "--cost-false-positive",
            str(cfg.cost_false_positive), "--tolerance", str(cfg.quality_tolerance), "--min-frauds",
            str(cfg.quality_min_frauds), "--model-version", sfn.JsonPath.string_at("$.window.model_version"))
        inputs = [s3_input("decisions", sfn.JsonPath.string_at("$.window.decisions_manifest"), "decisions",
                           data_type="ManifestFile"),
                  s3_input("transactions", sfn.JsonPath.string_at("$.window.transactions_manifest"), "transactions",
                           data_type="ManifestFile"),
                  s3_input("labels", f"s3://{self.buckets['labels'].bucket_name}/labels/", "labels"),
                  s3_input("evaluation", sfn.JsonPath.string_at("$.window.evaluation_uri"), "evaluation")]
        return MonitorWorkflow(
            self, "QualityMonitor", config=cfg, kind="quality", what="Decisions",
            plan_fn=self.quality_window_fn.function,
            plan_outputs=["decisions_manifest", "transactions_manifest", "evaluation_uri", "model_package_arn",
                          "model_version", "as_of", "window_start", "window_end", "files"],
            job=self._monitor_job("model_quality", args, inputs, "quality_report.json"),
            publish_fn=self.metrics_fn.function, verdict_outputs=["verdict", "reason", "regressed_metrics"],
            report_bucket=self.curated.bucket_name, key=self.key, alerts=self.alerts, removal=self.removal,
            description="Model quality on matured labels against the live model's evaluation, published as metrics",
        ).state_machine

    def _monitor_job(self, script: str, args: Any, inputs: list[dict[str, Any]], report_file: str) -> MonitorJob:
        return MonitorJob(script=script, args=args, inputs=inputs, report_file=report_file,
                          image_uri=self.images.uris.training, role=self.job_role, code=self.job_code)

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

    def _schema_violation_alarm(self, action: cw_actions.SnsAction) -> cw.Alarm:
        """Data quality the drift job cannot see: the share of records the scorer refused (dead letters) per hour,
        from its EMF metrics (lambdas/scoring: RecordsRejected, RecordsScored; Powertools' service dimension)."""
        dims = {"service": "scoring"}

        def metric(name: str) -> cw.Metric:
            return cw.Metric(namespace="MlopsDemo/Scoring", metric_name=name, statistic="Sum",
                             period=Duration.hours(1), dimensions_map=dims)

        share = cw.MathExpression(
            expression="100 * FILL(rejected, 0) / (FILL(rejected, 0) + scored)", period=Duration.hours(1),
            using_metrics={"rejected": metric("RecordsRejected"), "scored": metric("RecordsScored")},
            label="records refused by the scorer, %")
        limit = self.config.max_schema_violation_percent
        alarm = cw.Alarm(
            self, "schema-violations-alarm", alarm_name=resource_name(self.config.name, "schema-violations"),
            metric=share, threshold=limit, evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=f"More than {limit:g}% of an hour's records broke the schema (dead letters with field "
                              "and rule): a producer is broken; retraining is blocked (runbook)")
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

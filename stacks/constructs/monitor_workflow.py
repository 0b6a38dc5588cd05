"""A monitor: a state machine that plans a window (Lambda), runs a processing job over it, and publishes the
job's report as metrics (Lambda). The drift and the quality monitors are two of these (stacks/monitoring_stack.py).

StartRun (run id, as-of time) -> PlanWindow -> <what>ToJudge? -> the job (Create/Wait/Describe, no `.sync`)
-> PublishMetrics -> Monitored. A window with nothing in it ends the run without a job (the reason in
$.window.reason); any failure notifies SNS and ends in one Fail state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from fraud_core.config import ProfileConfig
from stacks.constructs.failure_notification import FailureNotification
from stacks.constructs.processing_request import JobCode, s3_output
from stacks.constructs.sagemaker_job import PROCESSING, RUN_ID_EXPRESSION, SageMakerJob
from stacks.log_retention import log_retention
from stacks.nag import acknowledge
from stacks.naming import log_group_name, resource_name

RUN = sfn.JsonPath.execution_name


@dataclass(frozen=True)
class MonitorJob:
    """What the job of one monitor runs: `script` of sagemaker_jobs with `args`, reading `inputs` (besides the code),
    writing `report_file` under the run's report prefix."""

    script: str
    args: Any
    inputs: list[dict[str, Any]]
    report_file: str
    image_uri: str
    role: iam.IRole
    code: JobCode


class MonitorWorkflow(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: ProfileConfig, kind: str, what: str,
                 plan_fn: lambda_.IFunction, plan_outputs: list[str], job: MonitorJob,
                 publish_fn: lambda_.IFunction, verdict_outputs: list[str], report_bucket: str, key: kms.IKey,
                 alerts: sns.ITopic, removal: RemovalPolicy, description: str) -> None:
        super().__init__(scope, construct_id)
        label = f"{kind}-monitor"
        failure = FailureNotification(self, "Failure", topic=alerts, topic_key=key,
                                      subject=f"mlops-demo: {kind} monitor failed", what=f"{kind.capitalize()} "
                                      "monitor run", error=f"{kind.capitalize()}MonitorFailed",
                                      fail_state_name="MonitorFailed")
        start = sfn.Pass(self, "StartRun", result_path="$.run",
                         parameters={"id.$": RUN_ID_EXPRESSION, "time.$": "$$.Execution.StartTime"})
        plan = tasks.LambdaInvoke(
            self, "PlanWindow", lambda_function=plan_fn,
            payload=sfn.TaskInput.from_object({"time": sfn.JsonPath.string_at("$.run.time"), "run": RUN}),
            result_selector={f"{k}.$": f"$.Payload.{k}" for k in ("ready", "reason", *plan_outputs)},
            result_path="$.window", retry_on_service_exceptions=True)
        plan.add_catch(failure.start, result_path="$.error")
        report_prefix = f"s3://{report_bucket}/monitoring/{{}}/report/"
        run_job = SageMakerJob(
            self, "Job", kind=PROCESSING, step=kind.capitalize(), suffix=kind, role=job.role,
            request=job.code.request(image_uri=job.image_uri, script=job.script, args=job.args,
                                     inputs=[*job.code.inputs, *job.inputs],
                                     outputs=[s3_output("report", sfn.JsonPath.format(report_prefix, RUN))],
                                     instance_type=config.processing_instance_type, key_arn=key.key_arn,
                                     timeout_s=config.job_timeout_minutes * 60,
                                     tags=[{"Key": "monitoring-run", "Value": RUN}]),
            result_path="$.job", poll_interval=Duration.seconds(config.job_poll_seconds), on_failure=failure.start)
        publish = tasks.LambdaInvoke(
            self, "PublishMetrics", lambda_function=publish_fn,
            payload=sfn.TaskInput.from_object({
                "kind": kind, "report_uri": sfn.JsonPath.format(report_prefix + job.report_file, RUN),
                "model_package_arn": sfn.JsonPath.string_at("$.window.model_package_arn")}),
            result_selector={f"{k}.$": f"$.Payload.{k}" for k in verdict_outputs},
            result_path="$.verdict", retry_on_service_exceptions=True)
        publish.add_catch(failure.start, result_path="$.error")
        start.next(plan).next(sfn.Choice(self, f"{what}ToJudge?")
                              .when(sfn.Condition.boolean_equals("$.window.ready", True), run_job)
                              .otherwise(sfn.Succeed(self, f"No{what}", comment="Reason in $.window.reason")))
        run_job.next(publish).next(sfn.Succeed(self, "Monitored", comment="Verdict in $.verdict"))

        log_group = logs.LogGroup(self, "Logs", log_group_name=log_group_name("/aws/vendedlogs/states/", config.name,
                                                                              label),
                                  retention=log_retention(config.log_retention_days), encryption_key=key,
                                  removal_policy=removal)
        self.state_machine = sfn.StateMachine(
            self, "StateMachine", state_machine_name=resource_name(config.name, label),
            definition_body=sfn.DefinitionBody.from_chainable(start),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.minutes(config.job_timeout_minutes + 30), tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            comment=description)
        failure.grant_publish(self.state_machine)
        self.state_machine.add_to_role_policy(iam.PolicyStatement(actions=["sagemaker:AddTags"],
                                                                  resources=[PROCESSING.arns]))
        stack = self.state_machine.stack
        acknowledge(self.state_machine, "AwsSolutions-IAM5",
                    "Job names are generated per execution (from the run id), so SageMaker actions are scoped to "
                    "this account/region's processing-job ARNs with a name wildcard; Lambda invoke covers the "
                    "functions' versions (<arn>:*); kms:GenerateDataKey* (on the data key only) is what SNS needs "
                    "to publish to the encrypted alerts topic; X-Ray and CloudWatch Logs delivery actions support "
                    "no resource scoping.",
                    findings=["Resource::*", "Action::kms:GenerateDataKey*",
                              "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:processing-job/*",
                              *(f"Resource::<{stack.get_logical_id(fn.node.default_child)}.Arn>:*"
                                for fn in (plan_fn, publish_fn))])

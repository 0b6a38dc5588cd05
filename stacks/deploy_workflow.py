"""The deploy workflow: approved package -> model -> endpoint config -> create or guarded update -> verify -> record.

Started three ways: by the EventBridge event of a package becoming Approved ({"detail": {...}}), by hand
({"model_package_arn": ..., "reason": ...}), or to roll back ({"rollback": true, "reason": ...}: the deploy
helper finds the previous known-good package, and after it is live the withdrawn one is marked Rejected).

JSONPath only, request-response SDK calls polled with Wait/Describe/Choice, bounded retries, a catch on every
task. What it guards against:
- a second event for a package already handled (UpdateModelPackage emits one too): it stops, deploying nothing;
- a guardrail rollback, which ends InService on the *old* config with no FailureReason: the live config is
  compared with the one just created, and a mismatch is a failed deployment (`DeploymentRolledBack`),
  recorded on the package with the alarms in ALARM;
- an endpoint busy with another update, or left Failed by a first create.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from fraud_core.config import ProfileConfig
from fraud_core.deployment import DEPLOYED, ROLLED_BACK, WITHDRAWN
from stacks.constructs.failure_notification import FailureNotification, sns_publish
from stacks.constructs.sagemaker_job import (
    API_CALL_TIMEOUT,
    RUN_ID_EXPRESSION,
    TRANSIENT_SAGEMAKER_ERRORS,
    SageMakerApiCall,
    sagemaker_arn,
)
from stacks.nag import acknowledge
from stacks.naming import generated_prefix, resource_name

LAMBDA_TRANSIENT_ERRORS = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                           "Lambda.TooManyRequestsException"]
# Endpoint statuses that mean "still moving": keep polling.
SETTLED_OK = "InService"
SETTLED_FAILED = ("Failed", "UpdateRollbackFailed")


@dataclass(frozen=True)
class ServingNames:
    profile: str
    model_package_group: str
    variant: str = "primary"  # blue/green updates require the same variant name in every config

    @property
    def endpoint(self) -> str:
        return resource_name(self.profile, "fraud")

    @property
    def state_machine(self) -> str:
        return resource_name(self.profile, "deploy")

    @property
    def generated_prefix(self) -> str:
        return generated_prefix(self.profile)



def deployment_config(config: ProfileConfig, alarm_names: list[str]) -> dict[str, Any]:
    """UpdateEndpoint's DeploymentConfig from the profile: blue/green, bakes, auto-rollback on the guard alarms."""
    bake = config.bake_minutes * 60
    if config.deployment_strategy == "canary":
        routing: dict[str, Any] = {"Type": "CANARY", "WaitIntervalInSeconds": bake, "CanarySize": {
            "Type": "CAPACITY_PERCENT", "Value": config.canary_traffic_percent}}
    else:
        routing = {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": bake}
    return {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing, "TerminationWaitInSeconds": bake,
                                  "MaximumExecutionTimeoutInSeconds": config.deployment_timeout_minutes * 60},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in alarm_names]},
    }


class DeployWorkflow(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: ProfileConfig, names: ServingNames,
                 serving_role: iam.IRole, data_key: kms.IKey, alerts: sns.ITopic, capture_uri: str,
                 guard_alarms: list[str], helper: lambda_.IFunction, log_group: logs.ILogGroup,
                 scaling_target: float | None) -> None:
        super().__init__(scope, construct_id)
        self.config, self.names, self.alarms = config, names, guard_alarms
        self.failure = FailureNotification(self, "Failure", topic=alerts, topic_key=data_key,
                                           subject="mlops-demo: deployment failed", what="Deployment",
                                           error="DeploymentFailed", fail_state_name="DeploymentFailed")
        self.on_failure = self.failure.start
        # In reading order: request -> names -> package approved? -> endpoint idle? -> model, config -> create or
        # update -> poll until settled -> new config live? -> record, notify (or record the rollback, fail).
        request = self._request(helper)
        package = self._check_package()
        self._run_id().next(package.start)
        live = self._check_endpoint()
        package.proceed.next(live.start)
        model, endpoint_config = self._create_model_and_config(serving_role, data_key, capture_uri)
        deploy = self._deploy()
        live.proceed.next(model)
        model.next(endpoint_config).next(deploy.start)
        deploy.settled.next(self._record_outcome(alerts, scaling_target))

        self.state_machine = sfn.StateMachine(
            self, "StateMachine", state_machine_name=names.state_machine,
            definition_body=sfn.DefinitionBody.from_chainable(request),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.minutes(config.deployment_timeout_minutes + 30), tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            comment="Deploy an approved fraud model: blue/green with guardrails, verify, record, notify")
        self._grant(serving_role, data_key, helper)

    # --- request ------------------------------------------------------------------------------------
    def _request(self, helper: lambda_.IFunction) -> sfn.Pass:
        """Whatever started the run, end with $.request = {package_arn, trigger, reason, rollback_of}."""
        defaults = sfn.Pass(self, "ApplyDefaults", parameters={
            "input.$": "States.JsonMerge(States.StringToJson('{\"reason\": \"requested by hand\", "
                       "\"rollback\": false}'), $, false)"}, output_path="$.input")
        from_event = sfn.Pass(self, "FromApprovalEvent", result_path="$.request", parameters={
            "package_arn.$": "$.detail.ModelPackageArn", "trigger": "approval",
            "reason": "approved in the model registry", "rollback_of": ""})
        from_request = sfn.Pass(self, "FromRequest", result_path="$.request", parameters={
            "package_arn.$": "$.model_package_arn", "trigger": "request", "reason.$": "$.reason",
            "rollback_of": ""})
        find_target = tasks.LambdaInvoke(
            self, "FindRollbackTarget", lambda_function=helper,
            payload=sfn.TaskInput.from_object({"endpoint_name": self.names.endpoint,
                                               "model_package_group": self.names.model_package_group}),
            result_selector={"package_arn.$": "$.Payload.package_arn", "rollback_of.$": "$.Payload.rollback_of"},
            result_path="$.target", retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(Duration.seconds(90)))
        find_target.add_retry(errors=LAMBDA_TRANSIENT_ERRORS, interval=Duration.seconds(2), max_attempts=3,
                              backoff_rate=2)
        find_target.add_catch(self.on_failure, result_path="$.error")
        from_rollback = sfn.Pass(self, "FromRollback", result_path="$.request", parameters={
            "package_arn.$": "$.target.package_arn", "trigger": "rollback", "reason.$": "$.reason",
            "rollback_of.$": "$.target.rollback_of"})
        find_target.next(from_rollback)
        invalid = sfn.Pass(self, "InvalidDeployRequest", result_path="$.error", parameters={
            "Error": "InvalidDeployRequest",
            "Cause": "expected a model package state change event, {\"model_package_arn\": ...} or "
                     "{\"rollback\": true, \"reason\": ...}"})
        invalid.next(self.on_failure)
        self._requested = sfn.Pass(self, "Requested")
        for branch in (from_event, from_request, from_rollback):
            branch.next(self._requested)
        defaults.next(sfn.Choice(self, "WhatStartedIt?")
                      .when(sfn.Condition.is_present("$.detail.ModelPackageArn"), from_event)
                      .when(sfn.Condition.boolean_equals("$.rollback", True), find_target)
                      .when(sfn.Condition.is_present("$.model_package_arn"), from_request)
                      .otherwise(invalid))
        self._first = defaults
        return defaults

    def _run_id(self) -> sfn.Pass:
        """$.names: model and config names for this run (a digest: valid SageMaker names for any execution)."""
        return self._chain_after_request(sfn.Pass(self, "NameThisDeployment", result_path="$.names", parameters={
            "model.$": f"States.Format('{self.names.generated_prefix}{{}}', {RUN_ID_EXPRESSION})",
            "config.$": f"States.Format('{self.names.generated_prefix}{{}}', {RUN_ID_EXPRESSION})"}))

    def _chain_after_request(self, state: sfn.Pass) -> sfn.Pass:
        self._requested.next(state)
        return state

    # --- checks ----------------------------------------------------------------------------------------
    def _check_package(self) -> _Gate:
        describe = SageMakerApiCall(
            self, "DescribePackage", action="describeModelPackage",
            parameters={"ModelPackageName.$": "$.request.package_arn"},
            result_selector={"arn.$": "$.ModelPackageArn", "approval.$": "$.ModelApprovalStatus",
                             "metadata.$": "$.CustomerMetadataProperties"},
            result_path="$.package", iam_resources=[self._package_arns()], on_failure=self.on_failure)
        not_approved = sfn.Pass(self, "PackageNotApproved", result_path="$.error", parameters={
            "Error": "PackageNotApproved", "Cause.$": "States.Format('{} is {}, not Approved', "
                                                      "$.package.arn, $.package.approval)"})
        not_approved.next(self.on_failure)
        handled = sfn.Succeed(self, "AlreadyHandled", comment="An event for a package this workflow already "
                                                              "deployed or rolled back: nothing to do")
        proceed = sfn.Pass(self, "PackageApproved")
        describe.next(sfn.Choice(self, "Approved?")
                      .when(sfn.Condition.not_(sfn.Condition.string_equals("$.package.approval", "Approved")),
                            not_approved)
                      .when(sfn.Condition.and_(sfn.Condition.string_equals("$.request.trigger", "approval"),
                                               sfn.Condition.is_present("$.package.metadata.deployment_status")),
                            handled)
                      .otherwise(proceed))
        return _Gate(describe, proceed)

    def _check_endpoint(self) -> _Gate:
        describe = self._describe_endpoint("DescribeLiveEndpoint", "$.live")
        missing = sfn.Pass(self, "NoEndpointYet", result_path="$.live", parameters={"status": "None",
                                                                                    "config": "none"})
        describe.add_catch(missing, errors=["SageMaker.ValidationException"], result_path="$.lookup")
        describe.add_catch(self.on_failure, result_path="$.error")
        delete_failed = self._api("DeleteFailedEndpoint", "deleteEndpoint", {"EndpointName": self.names.endpoint},
                                  {"deleted": True}, "$.deleted", [self._endpoint_arn()])
        forget = sfn.Pass(self, "ForgetFailedEndpoint", result_path="$.live",
                          parameters={"status": "None", "config": "none"})
        busy = sfn.Pass(self, "EndpointBusy", result_path="$.error", parameters={
            "Error": "EndpointBusy", "Cause.$": f"States.Format('endpoint {self.names.endpoint} is {{}}; "
                                                "deploy again when it is InService', $.live.status)"})
        busy.next(self.on_failure)
        proceed = sfn.Pass(self, "EndpointReady")
        missing.next(proceed)
        delete_failed.next(forget).next(proceed)
        describe.next(sfn.Choice(self, "EndpointIdle?")
                      .when(sfn.Condition.string_equals("$.live.status", SETTLED_OK), proceed)
                      .when(sfn.Condition.string_equals("$.live.status", "Failed"), delete_failed)
                      .otherwise(busy))
        return _Gate(describe, proceed)

    # --- deploy --------------------------------------------------------------------------------------------
    def _create_model_and_config(self, serving_role: iam.IRole, data_key: kms.IKey,
                                 capture_uri: str) -> tuple[sfn.TaskStateBase, sfn.TaskStateBase]:
        cfg = self.config
        model = self._api("CreateModel", "createModel", {
            "ModelName.$": "$.names.model", "ExecutionRoleArn": serving_role.role_arn,
            # The package's own container (image, artifact, environment): serve exactly what was approved.
            "Containers": [{"ModelPackageName.$": "$.request.package_arn"}],
            # The artifact carries its code (PYTHONPATH), so the container needs no network at all.
            "EnableNetworkIsolation": True,
            "Tags": [{"Key": "deploy-run", "Value.$": "$$.Execution.Name"}]},
            {"arn.$": "$.ModelArn"}, "$.model", [self._generated_arn("model")])
        endpoint_config = self._api("CreateEndpointConfig", "createEndpointConfig", {
            "EndpointConfigName.$": "$.names.config",
            "ProductionVariants": [{"VariantName": self.names.variant, "ModelName.$": "$.names.model",
                                    "InstanceType": cfg.endpoint_instance_type,
                                    "InitialInstanceCount": cfg.endpoint_instance_count,
                                    "InitialVariantWeight": 1}],
            "DataCaptureConfig": {
                "EnableCapture": True, "InitialSamplingPercentage": cfg.capture_sampling_percent,
                "DestinationS3Uri": capture_uri, "KmsKeyId": data_key.key_arn,
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]}},
            "KmsKeyId": data_key.key_arn},
            {"arn.$": "$.EndpointConfigArn"}, "$.endpoint_config", [self._generated_arn("endpoint-config")])
        return model, endpoint_config

    def _deploy(self) -> _Deploy:
        create = self._api("CreateEndpoint", "createEndpoint", {
            "EndpointName": self.names.endpoint, "EndpointConfigName.$": "$.names.config"},
            {"arn.$": "$.EndpointArn"}, "$.started", [self._endpoint_arn(), self._generated_arn("endpoint-config")])
        update = self._api("UpdateEndpoint", "updateEndpoint", {
            "EndpointName": self.names.endpoint, "EndpointConfigName.$": "$.names.config",
            "DeploymentConfig": deployment_config(self.config, self.alarms), **self._retain_scaled_capacity()},
            {"arn.$": "$.EndpointArn"}, "$.started", [self._endpoint_arn(), self._generated_arn("endpoint-config")])
        # A rollback restores a known-good model while the live one may be tripping the guard alarms (they watch
        # the variant as a whole): guarded, it would be rolled back itself. It goes out all at once, unguarded.
        restore = self._api("RestoreEndpoint", "updateEndpoint", {
            "EndpointName": self.names.endpoint, "EndpointConfigName.$": "$.names.config",
            "DeploymentConfig": {"BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                "TerminationWaitInSeconds": 0}}, **self._retain_scaled_capacity()},
            {"arn.$": "$.EndpointArn"}, "$.started", [self._endpoint_arn(), self._generated_arn("endpoint-config")])
        wait = sfn.Wait(self, "WaitForEndpoint",
                        time=sfn.WaitTime.duration(Duration.seconds(self.config.endpoint_poll_seconds)))
        progress = self._describe_endpoint("DescribeEndpointProgress", "$.progress")
        progress.add_catch(self.on_failure, result_path="$.error")
        failure = self._api("DescribeEndpointFailure", "describeEndpoint", {"EndpointName": self.names.endpoint}, {
            "Error": "EndpointFailed", "Cause.$": "States.Format('endpoint {} failed: {}', $.EndpointName, "
                                                  "$.FailureReason)"}, "$.error", [self._endpoint_arn()])
        failure.next(self.on_failure)
        settled = sfn.Pass(self, "EndpointSettled")
        for started in (create, update, restore):
            started.next(wait)
        wait.next(progress).next(sfn.Choice(self, "Settled?")
                                 .when(sfn.Condition.string_equals("$.progress.status", SETTLED_OK), settled)
                                 .when(sfn.Condition.or_(*(sfn.Condition.string_equals("$.progress.status", s)
                                                           for s in SETTLED_FAILED)), failure)
                                 .otherwise(wait))
        start = (sfn.Choice(self, "FirstDeployment?")
                 .when(sfn.Condition.string_equals("$.live.status", "None"), create)
                 .when(sfn.Condition.string_equals("$.request.trigger", "rollback"), restore)
                 .otherwise(update))
        return _Deploy(start, settled)

    # --- outcome ---------------------------------------------------------------------------------------------
    def _record_outcome(self, alerts: sns.ITopic, scaling_target: float | None) -> sfn.IChainable:
        deployed = self._api("RecordDeployed", "updateModelPackage", {
            "ModelPackageArn.$": "$.request.package_arn",
            "CustomerMetadataProperties": {
                "deployment_status": DEPLOYED, "deployed_at.$": "$$.State.EnteredTime",
                "endpoint_config.$": "$.names.config", "previous_endpoint_config.$": "$.live.config",
                "deploy_run.$": "$$.Execution.Name", "deploy_reason.$": "$.request.reason"}},
            {"arn.$": "$.ModelPackageArn"}, "$.recorded", [self._package_arns()])
        withdraw = self._api("WithdrawBadPackage", "updateModelPackage", {
            "ModelPackageArn.$": "$.request.rollback_of", "ModelApprovalStatus": "Rejected",
            "ApprovalDescription.$": "States.Format('withdrawn after deployment: {}', $.request.reason)",
            "CustomerMetadataProperties": {"deployment_status": WITHDRAWN, "withdrawn_reason.$": "$.request.reason",
                                           "withdrawn_by.$": "$$.Execution.Name"}},
            {"arn.$": "$.ModelPackageArn"}, "$.withdrawn", [self._package_arns()])
        notify_ok = sns_publish(self, "NotifyDeployed", topic=alerts, subject="mlops-demo: model deployed",
                                message=sfn.TaskInput.from_text(sfn.JsonPath.format(
                                    "{} is live on {} (config {}, trigger {}: {})",
                                    sfn.JsonPath.string_at("$.request.package_arn"), self.names.endpoint,
                                    sfn.JsonPath.string_at("$.names.config"),
                                    sfn.JsonPath.string_at("$.request.trigger"),
                                    sfn.JsonPath.string_at("$.request.reason"))))
        done = sfn.Succeed(self, "Deployed")
        notify_ok.add_catch(done, result_path="$.notify_error")  # the model is live: a lost notice is no failure
        notify_ok.next(done)
        after_record = notify_ok if scaling_target is None else self._scaling(scaling_target, notify_ok)
        withdraw.next(after_record)
        deployed.next(sfn.Choice(self, "WasRollback?")
                      .when(sfn.Condition.string_equals("$.request.trigger", "rollback"), withdraw)
                      .otherwise(after_record))

        tripped = tasks.CallAwsService(
            self, "FindTrippedAlarms", service="cloudwatch", action="describeAlarms",
            parameters={"AlarmNames": self.alarms, "StateValue": "ALARM"}, iam_resources=["*"],
            iam_action="cloudwatch:DescribeAlarms", result_selector={"names.$": "$.MetricAlarms[*].AlarmName"},
            result_path="$.tripped", task_timeout=sfn.Timeout.duration(API_CALL_TIMEOUT))
        tripped.add_retry(errors=["CloudWatch.ThrottlingException", "CloudWatch.InternalServiceFaultException"],
                          interval=Duration.seconds(2), max_attempts=3, backoff_rate=2)
        tripped.add_catch(self.on_failure, result_path="$.error")
        rolled_back = self._api("RecordRolledBack", "updateModelPackage", {
            "ModelPackageArn.$": "$.request.package_arn",
            # Rejected: it failed its deployment, so it must not become the next training run's champion.
            "ModelApprovalStatus": "Rejected",
            "ApprovalDescription.$": "States.Format('rolled back by the deployment guardrails; alarms in ALARM: {}', "
                                     "States.JsonToString($.tripped.names))",
            "CustomerMetadataProperties": {
                "deployment_status": ROLLED_BACK, "deploy_run.$": "$$.Execution.Name",
                "rollback_reason.$": "States.Format('guardrail auto-rollback; alarms in ALARM: {}', "
                                     "States.JsonToString($.tripped.names))"}},
            {"arn.$": "$.ModelPackageArn"}, "$.recorded", [self._package_arns()])
        notify_rollback = sns_publish(
            self, "NotifyRolledBack", topic=alerts, subject="mlops-demo: deployment rolled back",
            message=sfn.TaskInput.from_text(sfn.JsonPath.format(
                "{} was rolled back by the deployment guardrails; {} still serves config {}. Alarms in ALARM: {}",
                sfn.JsonPath.string_at("$.request.package_arn"), self.names.endpoint,
                sfn.JsonPath.string_at("$.progress.config"), sfn.JsonPath.json_to_string(
                    sfn.JsonPath.string_at("$.tripped.names")))))
        summary = sfn.Pass(self, "SummarizeRollback", result_path="$.failure", parameters={
            "cause.$": "States.Format('{} rolled back; live config is still {}; alarms in ALARM: {}', "
                       "$.request.package_arn, $.progress.config, States.JsonToString($.tripped.names))"})
        rolled_fail = sfn.Fail(self, "DeploymentRolledBack", error="DeploymentRolledBack",
                               cause_path="$.failure.cause")
        notify_rollback.add_catch(summary, result_path=sfn.JsonPath.DISCARD)
        tripped.next(rolled_back).next(notify_rollback).next(summary).next(rolled_fail)

        # A rollback run that did not take (its unguarded update failed) must not reject the known-good package
        # it restores: nothing is recorded on either package, and the run fails with the live config named.
        restore_failed = sfn.Pass(self, "RollbackDidNotTake", result_path="$.error", parameters={
            "Error": "RollbackFailed",
            "Cause.$": "States.Format('rollback to {} (config {}) did not take; the endpoint still serves config {}', "
                       "$.request.package_arn, $.names.config, $.progress.config)"})
        restore_failed.next(self.on_failure)
        not_live = (sfn.Choice(self, "RollbackRun?")
                    .when(sfn.Condition.string_equals("$.request.trigger", "rollback"), restore_failed)
                    .otherwise(tripped))
        return sfn.Choice(self, "NewConfigLive?").when(
            sfn.Condition.string_equals_json_path("$.progress.config", "$.names.config"), deployed).otherwise(not_live)

    def _scaling(self, target: float, then: sfn.IChainable) -> sfn.IChainable:
        """Target tracking on invocations per instance (the target comes from the measured capacity)."""
        resource_id = f"endpoint/{self.names.endpoint}/variant/{self.names.variant}"
        dimension = "sagemaker:variant:DesiredInstanceCount"
        register = self._autoscaling("RegisterScalableTarget", "registerScalableTarget", {
            "ServiceNamespace": "sagemaker", "ResourceId": resource_id, "ScalableDimension": dimension,
            "MinCapacity": self.config.endpoint_instance_count,
            "MaxCapacity": self.config.endpoint_max_instance_count})
        policy = self._autoscaling("PutScalingPolicy", "putScalingPolicy", {
            "PolicyName": resource_name(self.config.name, "invocations-per-instance"),
            "ServiceNamespace": "sagemaker", "ResourceId": resource_id, "ScalableDimension": dimension,
            "PolicyType": "TargetTrackingScaling", "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": target, "ScaleInCooldown": 300, "ScaleOutCooldown": 60,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}}})
        register.next(policy).next(then)
        return register

    # --- building blocks ------------------------------------------------------------------------------------
    def _api(self, name: str, action: str, parameters: dict[str, Any], selector: dict[str, Any], result_path: str,
             resources: list[str]) -> SageMakerApiCall:
        return SageMakerApiCall(self, name, action=action, parameters=parameters, result_selector=selector,
                                result_path=result_path, iam_resources=resources, on_failure=self.on_failure)

    def _describe_endpoint(self, name: str, result_path: str) -> tasks.CallAwsService:
        """DescribeEndpoint without the catch-all (callers add catches in the order they need)."""
        task = tasks.CallAwsService(
            self, name, service="sagemaker", action="describeEndpoint",
            parameters={"EndpointName": self.names.endpoint}, iam_resources=[self._endpoint_arn()],
            result_selector={"status.$": "$.EndpointStatus", "config.$": "$.EndpointConfigName"},
            result_path=result_path, task_timeout=sfn.Timeout.duration(API_CALL_TIMEOUT))
        task.add_retry(errors=list(TRANSIENT_SAGEMAKER_ERRORS), interval=Duration.seconds(5), max_attempts=3,
                       backoff_rate=2)
        return task

    def _autoscaling(self, name: str, action: str, parameters: dict[str, Any]) -> tasks.CallAwsService:
        task = tasks.CallAwsService(
            self, name, service="applicationautoscaling", action=action, parameters=parameters,
            iam_resources=["*"], iam_action=f"application-autoscaling:{action[0].upper()}{action[1:]}",
            result_path=sfn.JsonPath.DISCARD, task_timeout=sfn.Timeout.duration(API_CALL_TIMEOUT))
        task.add_retry(errors=["ApplicationAutoScaling.ConcurrentUpdateException"], interval=Duration.seconds(5),
                       max_attempts=3, backoff_rate=2)
        task.add_catch(self.on_failure, result_path="$.error")
        return task

    def _retain_scaled_capacity(self) -> dict[str, Any]:
        """With autoscaling, keep the instance count scaling reached instead of the config's initial count."""
        scaled = self.config.endpoint_max_instance_count > self.config.endpoint_instance_count
        return {"RetainAllVariantProperties": True} if scaled else {}

    def _endpoint_arn(self) -> str:
        return sagemaker_arn(f"endpoint/{self.names.endpoint}")

    def _generated_arn(self, resource_type: str) -> str:
        return sagemaker_arn(f"{resource_type}/{self.names.generated_prefix}*")

    def _package_arns(self) -> str:
        return sagemaker_arn(f"model-package/{self.names.model_package_group}/*")

    def _grant(self, serving_role: iam.IRole, data_key: kms.IKey, helper: lambda_.IFunction) -> None:
        machine = self.state_machine
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["iam:PassRole"], resources=[serving_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}))
        # CreateEndpoint attaches the data key to the instances' volumes: its caller needs CreateGrant
        # ("SageMaker API permissions reference"; ADR 0005), and UpdateEndpoint's auto-rollback reads the alarms.
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["kms:CreateGrant", "kms:DescribeKey"], resources=[data_key.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}}))
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["sagemaker:AddTags"],
            resources=[self._generated_arn("model"), self._generated_arn("endpoint-config"), self._endpoint_arn()]))
        self.failure.grant_publish(machine)
        if self.config.endpoint_max_instance_count > self.config.endpoint_instance_count:
            machine.add_to_role_policy(iam.PolicyStatement(
                actions=["iam:CreateServiceLinkedRole"], resources=["*"],
                conditions={"StringLike": {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"}}))
        acknowledge(machine, "AwsSolutions-IAM5",
                    "Models and endpoint configs get a per-deployment name (<profile prefix><digest>), packages are "
                    "versions of the one group; cloudwatch:DescribeAlarms, application-autoscaling actions, X-Ray "
                    "and log delivery support no resource scoping; kms:GenerateDataKey* on the data key is what SNS "
                    "needs to publish to the encrypted alerts topic; Lambda invoke covers the helper's versions.",
                    findings=["Resource::*", "Action::kms:GenerateDataKey*",
                              "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
                              f"model/{self.names.generated_prefix}*",
                              "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
                              f"endpoint-config/{self.names.generated_prefix}*",
                              "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
                              f"model-package/{self.names.model_package_group}/*",
                              f"Resource::<{_logical_id(helper)}.Arn>:*"])


def _logical_id(function: lambda_.IFunction) -> str:
    from aws_cdk import Stack

    return Stack.of(function).get_logical_id(function.node.default_child)  # type: ignore[arg-type]


@dataclass
class _Gate:
    start: Any
    proceed: Any


@dataclass
class _Deploy:
    start: Any
    settled: Any

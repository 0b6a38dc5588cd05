"""Training pipeline: preprocess -> train -> evaluate -> gate -> register -> notify, on Step Functions.

One definition for AWS and the local AWS: JSONPath only, SageMaker jobs started with request-response
`aws-sdk` calls and polled with a Wait/Describe/Choice loop (no `.sync`), waits from config, and
ResultSelector keeping every task output small (and free of timestamps).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnMapping, CfnOutput, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from fraud_core.config import ProfileConfig
from stacks.bundling import ROOT, job_source_bundling, lambda_bundling
from stacks.data_foundation_stack import DataFoundationStack
from stacks.log_retention import log_retention
from stacks.nag import acknowledge
from stacks.naming import bucket_name, resource_name

# AWS-owned ECR accounts of the SageMaker scikit-learn framework image, per region.
SKLEARN_IMAGE_ACCOUNTS = {
    "us-east-1": "683313688378", "us-east-2": "257758044811", "us-west-1": "746614075791",
    "us-west-2": "246618743249", "eu-west-1": "141502667606", "eu-west-2": "764974769150",
    "eu-central-1": "492215442770", "ap-northeast-1": "354813040037", "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285", "ca-central-1": "341280168497",
}
# Action wildcards that CDK's bucket/key grant helpers emit (grantRead/grantReadWrite/grantEncryptDecrypt).
GRANT_ACTION_WILDCARDS = ["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
                          "Action::s3:DeleteObject*", "Action::s3:Abort*", "Action::kms:ReEncrypt*",
                          "Action::kms:GenerateDataKey*"]
SKLEARN_IMAGE_TAG = "1.4-2-cpu-py3"  # scikit-learn 1.4.2 on Python 3.10: job code stays 3.10-compatible
PROCESSING_ROOT = "/opt/ml/processing"
JOB_FAILED_STATUSES = ("Failed", "Stopped")
# SageMaker API errors worth retrying: throttling, capacity and transient service faults.
# Step Functions names aws-sdk errors <Service>.<Code> and appends "Exception" when the code lacks it.
TRANSIENT_SAGEMAKER_ERRORS = ["SageMaker.ThrottlingException", "SageMaker.ResourceLimitExceededException",
                              "SageMaker.InternalFailureException", "SageMaker.ServiceUnavailableException"]


class TrainingPipelineStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: ProfileConfig, data: DataFoundationStack,
                 **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config, self.data = config, data
        profile = config.name
        removal = RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN
        # Buckets by their deterministic names (not cross-stack exports): IAM statements then name the
        # bucket itself, and the data stack stays free to change without export locks.
        curated, models, raw, labels = (
            s3.Bucket.from_bucket_name(self, f"{b.capitalize()}Bucket", bucket_name(profile, b, Aws.ACCOUNT_ID,
                                                                                  Aws.REGION))
            for b in ("curated", "models", "raw", "labels"))
        self.add_stack_dependency(data)

        mapping = CfnMapping(self, "SklearnImageAccount",
                             mapping={r: {"account": a} for r, a in SKLEARN_IMAGE_ACCOUNTS.items()})
        self.image_uri = Fn.join("", [mapping.find_in_map(Aws.REGION, "account"), ".dkr.ecr.", Aws.REGION, ".",
                                      Aws.URL_SUFFIX, f"/sagemaker-scikit-learn:{SKLEARN_IMAGE_TAG}"])

        # The job code: fraud_core + sagemaker_jobs as one sourcedir.tar.gz, and the processing entrypoint.
        self.job_source = s3_assets.Asset(self, "JobSource", path=str(ROOT / "sagemaker_jobs"),
                                          bundling=job_source_bundling())
        self.job_entry = s3_assets.Asset(self, "JobEntrypoint", path=str(ROOT / "sagemaker_jobs" / "job_entry.py"))

        self.model_group = sagemaker.CfnModelPackageGroup(
            self, "ModelPackageGroup",
            model_package_group_name=resource_name(profile, "fraud-models"),
            model_package_group_description="Fraud scoring models; approved = eligible to serve",
        )
        self.model_group.apply_removal_policy(removal)

        self.sagemaker_role = self._sagemaker_role(raw, labels, curated, models)
        self.gate_function = self._gate_function(curated)
        self.state_machine = self._state_machine(curated, models, raw, labels, removal)

        if config.training_schedule != "off":
            events.Rule(self, "TrainingSchedule", schedule=events.Schedule.expression(config.training_schedule),
                        description="Retrain on a fixed cadence (drift alarms also start the pipeline)",
                        targets=[targets.SfnStateMachine(self.state_machine)])

        CfnOutput(self, "TrainingStateMachineArn", value=self.state_machine.state_machine_arn)
        CfnOutput(self, "ModelPackageGroupName", value=self.model_group.model_package_group_name)
        CfnOutput(self, "SageMakerRoleArn", value=self.sagemaker_role.role_arn)

    # --- IAM -------------------------------------------------------------------------------------
    def _sagemaker_role(self, raw: Any, labels: Any, curated: Any, models: Any) -> iam.Role:
        role = iam.Role(self, "SageMakerJobRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                        description="Processing and training jobs of the fraud training pipeline")
        raw.grant_read(role, "transactions/*")
        labels.grant_read(role, "labels/*")
        curated.grant_read_write(role, "runs/*")
        models.grant_read_write(role, "training-jobs/*")
        for asset in (self.job_source, self.job_entry):
            asset.grant_read(role)
        self.data.key.grant_encrypt_decrypt(role)
        role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            resources=[f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/*"]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            resources=[f"arn:{Aws.PARTITION}:ecr:{Aws.REGION}:*:repository/sagemaker-scikit-learn"]))
        role.add_to_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}}))
        profile = self.config.name
        acknowledge(role, "AwsSolutions-IAM5",
                    "Jobs read/write only run-scoped prefixes of the project's buckets (object keys are created "
                    "per run), read the CDK asset bucket's content-addressed code objects, pull the AWS-owned "
                    "scikit-learn image whose registry account differs per region, and ecr:GetAuthorizationToken "
                    "/ cloudwatch:PutMetricData support no resource-level scoping (the latter is limited to "
                    "SageMaker's namespace by condition). Action wildcards come from CDK grant helpers.",
                    findings=[*GRANT_ACTION_WILDCARDS, "Resource::*",
                              *(_bucket_objects_finding(profile, b, p)
                                for b, p in (("raw", "transactions/"), ("labels", "labels/"), ("curated", "runs/"),
                                             ("models", "training-jobs/"))),
                              "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
                              "<AWS::Region>/*",
                              "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
                              "/aws/sagemaker/*",
                              "Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:*:repository/sagemaker-scikit-learn"])
        return role

    # --- Lambda: quality gate -----------------------------------------------------------------------
    def _gate_function(self, curated: Any) -> lambda_.Function:
        config = self.config
        log_group = logs.LogGroup(self, "QualityGateLogs",
                                  log_group_name=f"/aws/lambda/{resource_name(config.name, 'quality-gate')}",
                                  retention=log_retention(config.log_retention_days),
                                  removal_policy=RemovalPolicy.DESTROY)
        role = iam.Role(self, "QualityGateRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Quality gate: reads evaluation.json, writes its own logs")
        log_group.grant_write(role)
        curated.grant_read(role, "runs/*")
        self.data.key.grant_decrypt(role)
        fn = lambda_.Function(
            self, "QualityGate",
            function_name=resource_name(config.name, "quality-gate"),
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(ROOT / "lambdas" / "quality_gate"),
                                         bundling=lambda_bundling(ROOT / "lambdas" / "quality_gate")),
            role=role,
            log_group=log_group,
            timeout=Duration.seconds(30),
            memory_size=256,
            environment={
                "PR_AUC_FLOOR": str(config.pr_auc_floor),
                "CHAMPION_TOLERANCE": str(config.champion_tolerance),
                "AUTO_APPROVE": "true" if config.auto_approve else "false",
                "POWERTOOLS_SERVICE_NAME": "quality-gate",
            },
            description="Training pipeline quality gate (policy in fraud_core.gate)",
        )
        acknowledge(role, "AwsSolutions-IAM5",
                    "Reads evaluation.json under the curated bucket's runs/ prefix (one key per pipeline run, "
                    "created at run time); the action wildcards come from CDK's read grant on that prefix only.",
                    findings=["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
                              _bucket_objects_finding(config.name, "curated", "runs/")])
        return fn

    # --- Step Functions -------------------------------------------------------------------------------
    def _state_machine(self, curated: Any, models: Any, raw: Any, labels: Any,
                       removal: RemovalPolicy) -> sfn.StateMachine:
        config = self.config
        run = sfn.JsonPath.execution_name
        run_prefix = sfn.JsonPath.format(f"s3://{curated.bucket_name}/runs/{{}}", run)
        job_timeout = config.job_timeout_minutes * 60
        fail_chain = self._failure_chain()

        def job_name(suffix: str) -> str:
            return sfn.JsonPath.format(f"{{}}-{suffix}", run)

        def s3_in(name: str, uri: str, local: str) -> dict[str, Any]:
            return {"InputName": name, "S3Input": {"S3Uri": uri, "LocalPath": f"{PROCESSING_ROOT}/input/{local}",
                                                   "S3DataType": "S3Prefix", "S3InputMode": "File"}}

        def s3_out(name: str, uri: str) -> dict[str, Any]:
            return {"OutputName": name, "S3Output": {"S3Uri": uri, "LocalPath": f"{PROCESSING_ROOT}/output/{name}",
                                                     "S3UploadMode": "EndOfJob"}}

        def processing_params(suffix: str, script: str, args: Any, inputs: Any,
                              outputs: list[dict[str, Any]]) -> dict[str, Any]:
            return {
                "ProcessingJobName": job_name(suffix),
                "RoleArn": self.sagemaker_role.role_arn,
                "AppSpecification": {
                    "ImageUri": self.image_uri,
                    # The entrypoint asset's object key is content-addressed: <hash>.py.
                    "ContainerEntrypoint": ["python3", Fn.join("", [f"{PROCESSING_ROOT}/input/entrypoint/",
                                                                   self.job_entry.s3_object_key]), script],
                    "ContainerArguments": args,
                },
                "ProcessingInputs": inputs,
                "ProcessingOutputConfig": {"Outputs": outputs, "KmsKeyId": self.data.key.key_arn},
                "ProcessingResources": {"ClusterConfig": {
                    "InstanceCount": 1, "InstanceType": config.processing_instance_type, "VolumeSizeInGB": 20,
                    "VolumeKmsKeyId": self.data.key.key_arn}},
                "StoppingCondition": {"MaxRuntimeInSeconds": job_timeout},
                "Tags": [{"Key": "pipeline-run", "Value": run}],
            }

        code_inputs = [
            s3_in("code", self.job_source.s3_object_url, "code"),
            s3_in("entrypoint", self.job_entry.s3_object_url, "entrypoint"),
        ]
        preprocess = self._sagemaker_call(
            "Preprocess", "createProcessingJob", "processing-job",
            processing_params(
                "preprocess", "preprocess",
                sfn.JsonPath.array("--as-of", sfn.JsonPath.string_at("$.run.as_of"),
                                   "--window-days", str(config.training_window_days),
                                   "--label-maturity-days", str(config.label_maturity_days),
                                   "--validation-fraction", "0.2", "--test-fraction", "0.2"),
                [*code_inputs, s3_in("raw", f"s3://{raw.bucket_name}/transactions/", "raw"),
                 s3_in("labels", f"s3://{labels.bucket_name}/labels/", "labels")],
                [s3_out(n, sfn.JsonPath.format(f"s3://{curated.bucket_name}/runs/{{}}/{n}/", run))
                 for n in ("train", "validation", "test", "baseline", "report")]),
            {"job.$": "$.ProcessingJobArn"}, "$.preprocess", fail_chain)

        train = self._sagemaker_call(
            "Train", "createTrainingJob", "training-job",
            {
                "TrainingJobName": job_name("train"),
                "RoleArn": self.sagemaker_role.role_arn,
                "AlgorithmSpecification": {"TrainingImage": self.image_uri, "TrainingInputMode": "File",
                                           "MetricDefinitions": [
                                               {"Name": "validation:pr_auc",
                                                "Regex": "validation:pr_auc=([0-9.]+);"}]},
                # Script mode of the SageMaker scikit-learn container: JSON-encoded values, as the SDK sends.
                "HyperParameters": {
                    "sagemaker_program": '"train.py"',
                    "sagemaker_submit_directory": f'"{self.job_source.s3_object_url}"',
                    "cost-false-negative": str(config.cost_false_negative),
                    "cost-false-positive": str(config.cost_false_positive),
                },
                "InputDataConfig": [
                    {"ChannelName": c, "DataSource": {"S3DataSource": {
                        "S3DataType": "S3Prefix", "S3DataDistributionType": "FullyReplicated",
                        "S3Uri": sfn.JsonPath.format(f"s3://{curated.bucket_name}/runs/{{}}/{c}/", run)}}}
                    for c in ("train", "validation", "baseline")],
                "OutputDataConfig": {"S3OutputPath": f"s3://{models.bucket_name}/training-jobs/",
                                     "KmsKeyId": self.data.key.key_arn},
                "ResourceConfig": {"InstanceCount": 1, "InstanceType": config.training_instance_type,
                                   "VolumeSizeInGB": 20, "VolumeKmsKeyId": self.data.key.key_arn},
                "StoppingCondition": {"MaxRuntimeInSeconds": job_timeout},
                # No network isolation: in script mode the container downloads sagemaker_submit_directory from S3
                # itself (isolation would need the code shipped as an input channel instead).
                "EnableNetworkIsolation": False,
                "Tags": [{"Key": "pipeline-run", "Value": run}],
            },
            {"job.$": "$.TrainingJobArn"}, "$.train", fail_chain)

        evaluate_inputs = "$.evaluation_inputs"
        evaluate = self._sagemaker_call(
            "Evaluate", "createProcessingJob", "processing-job",
            processing_params(
                "evaluate", "evaluate",
                ["--cost-false-negative", str(config.cost_false_negative),
                 "--cost-false-positive", str(config.cost_false_positive)],
                sfn.JsonPath.list_at(evaluate_inputs),
                [s3_out("evaluation", sfn.JsonPath.format(f"s3://{curated.bucket_name}/runs/{{}}/evaluation/", run))]),
            {"job.$": "$.ProcessingJobArn"}, "$.evaluate", fail_chain)

        model_data = sfn.JsonPath.format(f"s3://{models.bucket_name}/training-jobs/{{}}/output/model.tar.gz",
                                         job_name("train"))
        base_inputs = [*code_inputs, s3_in("test", sfn.JsonPath.format("{}/test/", run_prefix), "test")]
        model_input = {"InputName": "model", "S3Input": {
            "S3Uri": model_data, "LocalPath": f"{PROCESSING_ROOT}/input/model",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}
        find_champion = self._call("FindChampion", "listModelPackages", {
            "ModelPackageGroupName": self.model_group.model_package_group_name,
            "ModelApprovalStatus": "Approved", "SortBy": "CreationTime", "SortOrder": "Descending",
            "MaxResults": 1}, {"packages.$": "$.ModelPackageSummaryList"}, "$.champion",
            [self._package_group_arn(), self._package_arn()], fail_chain)
        describe_champion = self._call("DescribeChampion", "describeModelPackage", {
            "ModelPackageName.$": "$.champion.packages[0].ModelPackageArn"},
            {"arn.$": "$.ModelPackageArn",
             "model_data.$": "$.InferenceSpecification.Containers[0].ModelDataUrl"},
            "$.champion", [self._package_arn()], fail_chain)
        with_champion = sfn.Pass(self, "InputsWithChampion", result_path=evaluate_inputs, parameters={
            "list": [*base_inputs, model_input, {"InputName": "champion", "S3Input": {
                "S3Uri.$": "$.champion.model_data", "LocalPath": f"{PROCESSING_ROOT}/input/champion",
                "S3DataType": "S3Prefix", "S3InputMode": "File"}}]})
        without_champion = sfn.Pass(self, "InputsWithoutChampion", result_path=evaluate_inputs,
                                    parameters={"list": [*base_inputs, model_input]})
        unwrap = sfn.Pass(self, "EvaluationInputs", input_path=f"{evaluate_inputs}.list", result_path=evaluate_inputs)

        gate = tasks.LambdaInvoke(
            self, "ApplyQualityGate", lambda_function=self.gate_function,
            payload=sfn.TaskInput.from_object({
                "evaluation_bucket": curated.bucket_name,
                "evaluation_key": sfn.JsonPath.format("runs/{}/evaluation/evaluation.json", run),
                "run_id": run}),
            result_selector={"passed.$": "$.Payload.passed", "status.$": "$.Payload.status",
                             "reason.$": "$.Payload.reason",
                             "candidate_pr_auc.$": "$.Payload.candidate_pr_auc"},
            result_path="$.gate", retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(Duration.seconds(60)))
        gate.add_retry(errors=["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                               "Lambda.TooManyRequestsException"], interval=Duration.seconds(2), max_attempts=3,
                       backoff_rate=2)
        gate.add_catch(fail_chain, result_path="$.error")

        register = self._call("Register", "createModelPackage", {
            "ModelPackageGroupName": self.model_group.model_package_group_name,
            "ModelPackageDescription": sfn.JsonPath.format("Pipeline run {}: {}", run, sfn.JsonPath.string_at(
                "$.gate.reason")),
            "ModelApprovalStatus.$": "$.gate.status",
            "InferenceSpecification": {
                "Containers": [{"Image": self.image_uri, "ModelDataUrl": model_data,
                                "Environment": {"SAGEMAKER_PROGRAM": "inference.py",
                                                "SAGEMAKER_SUBMIT_DIRECTORY": self.job_source.s3_object_url}}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            "ModelMetrics": {"ModelQuality": {"Statistics": {
                "ContentType": "application/json",
                "S3Uri": sfn.JsonPath.format("{}/evaluation/evaluation.json", run_prefix)}}},
            "CustomerMetadataProperties": {
                "pipeline_run": run,
                "training_data": sfn.JsonPath.format("{}/train/", run_prefix),
                "code": self.job_source.s3_object_url,
                "pr_auc": sfn.JsonPath.format("{}", sfn.JsonPath.string_at("$.gate.candidate_pr_auc")),
                "gate_decision": sfn.JsonPath.string_at("$.gate.status"),
            },
        }, {"arn.$": "$.ModelPackageArn"}, "$.registered", [self._package_group_arn(), self._package_arn()],
            fail_chain)

        notify_ok = tasks.SnsPublish(
            self, "NotifyRegistered", topic=self.data.alerts,
            subject="mlops-demo: model registered",
            message=sfn.TaskInput.from_text(sfn.JsonPath.format(
                "Training run {} registered {} as {}: {}", run, sfn.JsonPath.string_at("$.registered.arn"),
                sfn.JsonPath.string_at("$.gate.status"), sfn.JsonPath.string_at("$.gate.reason"))),
            result_path=sfn.JsonPath.DISCARD, task_timeout=sfn.Timeout.duration(Duration.seconds(30)))
        notify_ok.add_retry(errors=["SNS.SdkClientException", "SNS.InternalErrorException", "SNS.ThrottledException"],
                            interval=Duration.seconds(2), max_attempts=3)
        notify_ok.add_catch(fail_chain, result_path="$.error")

        # The run's "as of" time decides which labels have matured and so which data trains: the execution
        # input may pin it ({"as_of": "2026-11-01T00:00:00Z"}) for a reproducible rerun; by default it is now.
        given = sfn.Pass(self, "UseGivenAsOf", result_path="$.run", parameters={"as_of.$": "$.as_of"})
        now = sfn.Pass(self, "UseStartTimeAsOf", result_path="$.run",
                       parameters={"as_of.$": "$$.Execution.StartTime"})
        definition = (sfn.Choice(self, "AsOfGiven?")
                      .when(sfn.Condition.is_present("$.as_of"), given)
                      .otherwise(now))
        given.next(preprocess.start)
        now.next(preprocess.start)
        preprocess.done.next(train.start)
        train.done.next(find_champion)
        find_champion.next(sfn.Choice(self, "ChampionExists?")
                           .when(sfn.Condition.is_present("$.champion.packages[0]"),
                                 describe_champion.next(with_champion))
                           .otherwise(without_champion))
        with_champion.next(unwrap)
        without_champion.next(unwrap)
        unwrap.next(evaluate.start)
        evaluate.done.next(gate)
        gate.next(register).next(notify_ok).next(sfn.Succeed(self, "Done", comment="Gate decision in $.gate"))

        log_group = logs.LogGroup(self, "TrainingPipelineLogs",
                                  log_group_name=f"/aws/vendedlogs/states/{resource_name(config.name, 'training')}",
                                  retention=log_retention(config.log_retention_days), removal_policy=removal)
        machine = sfn.StateMachine(
            self, "TrainingPipeline",
            state_machine_name=resource_name(config.name, "training"),
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.minutes(config.pipeline_timeout_minutes),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            comment="Fraud model training: preprocess, train, evaluate, gate, register, notify",
        )
        machine.add_to_role_policy(iam.PolicyStatement(actions=["iam:PassRole"],
                                                       resources=[self.sagemaker_role.role_arn],
                                                       conditions={"StringEquals": {
                                                           "iam:PassedToService": "sagemaker.amazonaws.com"}}))
        # Publishing to the KMS-encrypted alerts topic needs the key (SNS encrypts with the caller's rights).
        self.data.key.grant(machine.role, "kms:GenerateDataKey*", "kms:Decrypt")
        machine.add_to_role_policy(iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=[
            self._arn("processing-job/*"), self._arn("training-job/*"), self._package_arn()]))
        acknowledge(machine, "AwsSolutions-IAM5",
                    "Job and model-package names are generated per execution (prefix = execution name), so "
                    "SageMaker actions are scoped to this account/region's job and package ARNs with a name "
                    "wildcard; Lambda invoke covers the gate function's versions (<arn>:*); kms:GenerateDataKey* "
                    "(on the data key only) is what SNS needs to publish to the encrypted alerts topic; X-Ray and "
                    "CloudWatch Logs delivery actions support no resource scoping.",
                    findings=["Resource::*", "Action::kms:GenerateDataKey*",
                              *(f"Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:{k}/*"
                                for k in ("processing-job", "training-job")),
                              "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
                              f"model-package/{resource_name(config.name, 'fraud-models')}/*",
                              f"Resource::<{self.get_logical_id(self.gate_function.node.default_child)}.Arn>:*"])
        return machine

    # --- building blocks ------------------------------------------------------------------------------
    def _arn(self, resource: str) -> str:
        return f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource}"

    def _package_group_arn(self) -> str:
        return self._arn(f"model-package-group/{self.model_group.model_package_group_name}")

    def _package_arn(self) -> str:
        return self._arn(f"model-package/{self.model_group.model_package_group_name}/*")

    def _call(self, name: str, action: str, parameters: dict[str, Any], selector: dict[str, Any], result_path: str,
              resources: list[str], fail_chain: sfn.IChainable) -> tasks.CallAwsService:
        task = tasks.CallAwsService(
            self, name, service="sagemaker", action=action, parameters=parameters, iam_resources=resources,
            result_selector=selector, result_path=result_path,
            task_timeout=sfn.Timeout.duration(Duration.seconds(60)))
        task.add_retry(errors=TRANSIENT_SAGEMAKER_ERRORS, interval=Duration.seconds(5), max_attempts=3,
                       backoff_rate=2)
        task.add_catch(fail_chain, result_path="$.error")
        return task

    def _sagemaker_call(self, name: str, action: str, arn_kind: str, parameters: dict[str, Any],
                        selector: dict[str, Any], result_path: str, fail_chain: sfn.IChainable) -> _JobLoop:
        create = self._call(name, action, parameters, selector, result_path, [self._arn(f"{arn_kind}/*")],
                            fail_chain)
        job_name = parameters["ProcessingJobName" if arn_kind == "processing-job" else "TrainingJobName"]
        return _JobLoop(self, name, create, arn_kind, job_name, result_path, self.config.job_poll_seconds,
                        fail_chain)

    def _failure_chain(self) -> sfn.IChainable:
        notify = tasks.SnsPublish(
            self, "NotifyFailure", topic=self.data.alerts, subject="mlops-demo: training pipeline failed",
            message=sfn.TaskInput.from_text(sfn.JsonPath.format(
                "Training run {} failed: {} {}", sfn.JsonPath.execution_name,
                sfn.JsonPath.string_at("$.error.Error"), sfn.JsonPath.string_at("$.error.Cause"))),
            result_path=sfn.JsonPath.DISCARD, task_timeout=sfn.Timeout.duration(Duration.seconds(30)))
        notify.add_retry(errors=["SNS.SdkClientException", "SNS.InternalErrorException", "SNS.ThrottledException"],
                         interval=Duration.seconds(2), max_attempts=3)
        # The original error name may be a States.* name, which a Fail state may not raise itself: keep it in
        # the cause and raise one stable error name that alarms and callers can match.
        summarize = sfn.Pass(self, "SummarizeFailure", result_path="$.failure", parameters={
            "cause": sfn.JsonPath.format("{}: {}", sfn.JsonPath.string_at("$.error.Error"),
                                         sfn.JsonPath.string_at("$.error.Cause"))})
        failed = sfn.Fail(self, "PipelineFailed", error="TrainingPipelineFailed", cause_path="$.failure.cause")
        summarize.next(failed)
        # If even the notification fails, still end in Fail with the original cause.
        notify.add_catch(summarize, result_path=sfn.JsonPath.DISCARD)
        return notify.next(summarize)


class _JobLoop:
    """Create -> Wait -> Describe -> Choice: the request-response equivalent of `.sync` for one job."""

    def __init__(self, stack: TrainingPipelineStack, name: str, create: tasks.CallAwsService, arn_kind: str,
                 job_name: str, result_path: str, poll_seconds: int, fail_chain: sfn.IChainable) -> None:
        kind = "Processing" if arn_kind == "processing-job" else "Training"
        resources = [stack._arn(f"{arn_kind}/*")]  # noqa: SLF001
        wait = sfn.Wait(stack, f"Wait{name}", time=sfn.WaitTime.duration(Duration.seconds(poll_seconds)))
        describe = stack._call(  # noqa: SLF001
            f"Describe{name}", f"describe{kind}Job", {f"{kind}JobName": job_name},
            {"status.$": f"$.{kind}JobStatus", "job.$": f"$.{kind}JobArn"}, result_path, resources, fail_chain)
        # FailureReason exists only on failed jobs, so it is read in a second call on that branch alone.
        failure = stack._call(  # noqa: SLF001
            f"Describe{name}Failure", f"describe{kind}Job", {f"{kind}JobName": job_name},
            {"Error": f"SageMaker{kind}JobFailed",
             "Cause.$": f"States.Format('{kind.lower()} job {{}} failed: {{}}', $.{kind}JobName, $.FailureReason)"},
            "$.error", resources, fail_chain)
        failure.next(fail_chain)
        stopped = sfn.Pass(stack, f"{name}JobStopped", result_path="$.error", parameters={
            "Error": f"SageMaker{kind}JobStopped",
            "Cause.$": f"States.Format('{kind.lower()} job {{}} was stopped (MaxRuntimeInSeconds reached or stopped "
                       f"by a user)', {result_path}.job)"})
        stopped.next(fail_chain)
        self.start = create
        self.done = sfn.Pass(stack, f"{name}Done")
        create.next(wait)
        wait.next(describe)
        describe.next(sfn.Choice(stack, f"{name}Finished?")
                      .when(sfn.Condition.string_equals(f"{result_path}.status", "Completed"), self.done)
                      .when(sfn.Condition.string_equals(f"{result_path}.status", "Failed"), failure)
                      .when(sfn.Condition.string_equals(f"{result_path}.status", "Stopped"), stopped)
                      .otherwise(wait))


def _bucket_objects_finding(profile: str, purpose: str, prefix: str) -> str:
    """cdk-nag finding id for `<bucket ARN>/<prefix>*`, pseudo parameters written as cdk-nag prints them."""
    name = bucket_name(profile, purpose, "<AWS::AccountId>", "<AWS::Region>")
    return f"Resource::arn:<AWS::Partition>:s3:::{name}/{prefix}*"

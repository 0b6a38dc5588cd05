"""Training pipeline: preprocess -> train -> evaluate -> gate -> register -> notify, on Step Functions.

One definition for AWS and the local AWS: JSONPath only, SageMaker jobs started with request-response
`aws-sdk` calls and polled with a Wait/Describe/Choice loop (no `.sync`, see stacks/constructs/sagemaker_job.py),
waits from config, and ResultSelector keeping every task output small (and free of timestamps).

What it uses of the data foundation comes as `DataFoundationRefs` (deterministic names; the key's ARN from an
SSM parameter), so the stack has no CloudFormation imports.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from fraud_core.config import ProfileConfig
from stacks.bundling import ROOT
from stacks.constructs.bundled_function import BundledPythonFunction
from stacks.constructs.failure_notification import FailureNotification, sns_publish
from stacks.constructs.processing_request import PROCESSING_ROOT, JobCode, s3_input, s3_output
from stacks.constructs.sagemaker_job import (
    PROCESSING,
    RUN_ID_EXPRESSION,
    TRAINING,
    SageMakerApiCall,
    SageMakerJob,
    sagemaker_arn,
)
from stacks.data_refs import DataFoundationRefs
from stacks.log_retention import log_retention
from stacks.nag import acknowledge
from stacks.naming import bucket_name, log_group_name, resource_name
from stacks.sklearn_images import REPOSITORY, SklearnImages

# Action wildcards that CDK's bucket/key grant helpers emit (grantRead/grantReadWrite/grantEncryptDecrypt).
GRANT_ACTION_WILDCARDS = ["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
                          "Action::s3:DeleteObject*", "Action::s3:Abort*", "Action::kms:ReEncrypt*",
                          "Action::kms:GenerateDataKey*"]
# Where the serving container finds the code the training job put into model.tar.gz (sagemaker_jobs/train.py).
SERVING_CODE_DIR = "/opt/ml/model/code"
LAMBDA_TRANSIENT_ERRORS = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                           "Lambda.TooManyRequestsException"]


class TrainingPipelineStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: ProfileConfig, data: DataFoundationRefs,
                 **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config, self.data = config, data
        profile = config.name
        self.state_machine_name = resource_name(profile, "training")
        removal = RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN
        # Buckets, topic and key by their deterministic names (no cross-stack exports): IAM statements then name
        # the resource itself, and the data stack stays free to change without export locks.
        curated, models, raw, labels = (
            s3.Bucket.from_bucket_name(self, f"{b.capitalize()}Bucket", data.bucket_name(b))
            for b in ("curated", "models", "raw", "labels"))
        self.data_key = kms.Key.from_key_arn(self, "DataKey", data.data_key_arn(self))
        self.alerts = sns.Topic.from_topic_arn(self, "AlertsTopic", data.alerts_topic_arn)

        self.images = SklearnImages(self, "SklearnImage")

        # The job code: fraud_core + sagemaker_jobs as one sourcedir.tar.gz, and the processing entrypoint.
        self.job_code = JobCode.in_stack(self)
        self.job_source, self.job_entry = self.job_code.source, self.job_code.entry

        self.model_group = sagemaker.CfnModelPackageGroup(
            self, "ModelPackageGroup",
            model_package_group_name=resource_name(profile, "fraud-models"),
            model_package_group_description="Fraud scoring models; approved = eligible to serve",
        )
        self.model_group.apply_removal_policy(removal)

        self.sagemaker_role = self._sagemaker_role(raw, labels, curated, models)
        self.gate = self._gate_function(curated)
        self.gate_function = self.gate.function
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
        self.job_code.grant_read(role)
        self.data_key.grant_encrypt_decrypt(role)
        role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            resources=[f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:/aws/sagemaker/*"]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            resources=[Fn.join("", [f"arn:{self.partition}:ecr:{self.region}:", self.images.registry_account,
                                    f":repository/{REPOSITORY}"])]))
        role.add_to_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}}))
        profile = self.config.name
        acknowledge(role, "AwsSolutions-IAM5",
                    "Jobs read/write only run-scoped prefixes of the project's buckets (object keys are created "
                    "per run), read the CDK asset bucket's content-addressed code objects, create SageMaker's log "
                    "streams under /aws/sagemaker/, and ecr:GetAuthorizationToken / cloudwatch:PutMetricData "
                    "support no resource-level scoping (the latter is limited to SageMaker's namespace by "
                    "condition). Action wildcards come from CDK grant helpers.",
                    findings=[*GRANT_ACTION_WILDCARDS, "Resource::*",
                              *(_bucket_objects_finding(profile, b, p)
                                for b, p in (("raw", "transactions/"), ("labels", "labels/"), ("curated", "runs/"),
                                             ("models", "training-jobs/"))),
                              "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
                              "<AWS::Region>/*",
                              "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
                              "/aws/sagemaker/*"])
        return role

    # --- Lambda: quality gate -----------------------------------------------------------------------
    def _gate_function(self, curated: Any) -> BundledPythonFunction:
        config = self.config
        gate = BundledPythonFunction(
            self, "QualityGate",
            function_name=resource_name(config.name, "quality-gate"),
            handler_dir=ROOT / "lambdas" / "quality_gate",
            description="Training pipeline quality gate (policy in fraud_core.gate)",
            role_description="Quality gate: reads evaluation.json, writes its own logs",
            environment={
                "PR_AUC_FLOOR": str(config.pr_auc_floor),
                "CHAMPION_TOLERANCE": str(config.champion_tolerance),
                "AUTO_APPROVE": "true" if config.auto_approve else "false",
                "POWERTOOLS_SERVICE_NAME": "quality-gate",
            },
            log_retention_days=config.log_retention_days,
            log_key=self.data_key,
        )
        curated.grant_read(gate.role, "runs/*")
        self.data_key.grant_decrypt(gate.role)
        acknowledge(gate.role, "AwsSolutions-IAM5",
                    "Reads evaluation.json under the curated bucket's runs/ prefix (one key per pipeline run, "
                    "created at run time); the action wildcards come from CDK's read grant on that prefix only.",
                    findings=["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
                              _bucket_objects_finding(config.name, "curated", "runs/")])
        return gate

    # --- Step Functions -------------------------------------------------------------------------------
    def _state_machine(self, curated: Any, models: Any, raw: Any, labels: Any,
                       removal: RemovalPolicy) -> sfn.StateMachine:
        config = self.config
        key_arn = self.data_key.key_arn
        # The execution name keeps S3 run prefixes, tags and messages readable; job names use the run id instead
        # (stacks/constructs/sagemaker_job.py), which is valid whatever the execution is called.
        run = sfn.JsonPath.execution_name
        run_prefix = sfn.JsonPath.format(f"s3://{curated.bucket_name}/runs/{{}}", run)
        job_timeout = config.job_timeout_minutes * 60
        poll = Duration.seconds(config.job_poll_seconds)
        failure = FailureNotification(self, "Failure", topic=self.alerts, topic_key=self.data_key,
                                      subject="mlops-demo: training pipeline failed", what="Training run",
                                      error="TrainingPipelineFailed", fail_state_name="PipelineFailed")
        fail_chain = failure.start
        tags = [{"Key": "pipeline-run", "Value": run}]

        def processing_request(script: str, args: Any, inputs: Any, outputs: list[dict[str, Any]]) -> dict[str, Any]:
            return self.job_code.request(image_uri=self.images.uris.training, script=script, args=args, inputs=inputs,
                                         outputs=outputs, instance_type=config.processing_instance_type,
                                         key_arn=key_arn, timeout_s=job_timeout, tags=tags)

        def job(kind: Any, step: str, suffix: str, request: dict[str, Any], result_path: str) -> SageMakerJob:
            return SageMakerJob(self, f"{step}Job", kind=kind, step=step, suffix=suffix, role=self.sagemaker_role,
                                request=request, result_path=result_path, poll_interval=poll,
                                on_failure=fail_chain)

        code_inputs = self.job_code.inputs
        # Preprocess checks the window's data quality against the champion's training baseline when there is a
        # champion (fraud_core.data_quality.window_violations): its inputs are built once the champion is known.
        preprocess_inputs = "$.preprocess_inputs"
        preprocess = job(PROCESSING, "Preprocess", "preprocess", processing_request(
            "preprocess",
            sfn.JsonPath.array("--as-of", sfn.JsonPath.string_at("$.run.as_of"),
                               "--window-days", str(config.training_window_days),
                               "--label-maturity-days", str(config.label_maturity_days),
                               "--validation-fraction", "0.2", "--test-fraction", "0.2",
                               "--max-null-rate-increase", str(config.max_null_rate_increase),
                               "--max-unseen-share", str(config.max_unseen_category_share)),
            sfn.JsonPath.list_at(preprocess_inputs),
            [s3_output(n, sfn.JsonPath.format(f"s3://{curated.bucket_name}/runs/{{}}/{n}/", run))
             for n in ("train", "validation", "test", "baseline", "report")]), "$.preprocess")
        data_inputs = [*code_inputs, s3_input("raw", f"s3://{raw.bucket_name}/transactions/", "raw"),
                       s3_input("labels", f"s3://{labels.bucket_name}/labels/", "labels")]
        champion_input = {"InputName": "champion", "S3Input": {
            "S3Uri.$": "$.champion.model_data", "LocalPath": f"{PROCESSING_ROOT}/input/champion",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}
        preprocess_with = sfn.Pass(self, "PreprocessInputsWithChampion", result_path=preprocess_inputs,
                                   parameters={"list": [*data_inputs, champion_input]})
        preprocess_without = sfn.Pass(self, "PreprocessInputsWithoutChampion", result_path=preprocess_inputs,
                                      parameters={"list": data_inputs})
        preprocess_unwrap = sfn.Pass(self, "PreprocessInputs", input_path=f"{preprocess_inputs}.list",
                                     result_path=preprocess_inputs)

        train = job(TRAINING, "Train", "train", {
            "AlgorithmSpecification": {"TrainingImage": self.images.uris.training, "TrainingInputMode": "File",
                                       "MetricDefinitions": [
                                           {"Name": "validation:pr_auc", "Regex": "validation:pr_auc=([0-9.]+);"}]},
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
            "OutputDataConfig": {"S3OutputPath": f"s3://{models.bucket_name}/training-jobs/", "KmsKeyId": key_arn},
            "ResourceConfig": {"InstanceCount": 1, "InstanceType": config.training_instance_type,
                               "VolumeSizeInGB": 20, "VolumeKmsKeyId": key_arn},
            "StoppingCondition": {"MaxRuntimeInSeconds": job_timeout},
            # No network isolation: in script mode the container downloads sagemaker_submit_directory from S3
            # itself (isolation would need the code shipped as an input channel instead).
            "EnableNetworkIsolation": False,
            "Tags": tags,
        }, "$.train")

        evaluate_inputs = "$.evaluation_inputs"
        evaluate = job(PROCESSING, "Evaluate", "evaluate", processing_request(
            "evaluate",
            ["--cost-false-negative", str(config.cost_false_negative),
             "--cost-false-positive", str(config.cost_false_positive)],
            sfn.JsonPath.list_at(evaluate_inputs),
            [s3_output("evaluation", sfn.JsonPath.format(f"s3://{curated.bucket_name}/runs/{{}}/evaluation/", run))]),
            "$.evaluate")

        model_data = sfn.JsonPath.format(f"s3://{models.bucket_name}/training-jobs/{{}}/output/model.tar.gz",
                                         train.job_name)
        base_inputs = [*code_inputs, s3_input("test", sfn.JsonPath.format("{}/test/", run_prefix), "test")]
        model_input = {"InputName": "model", "S3Input": {
            "S3Uri": model_data, "LocalPath": f"{PROCESSING_ROOT}/input/model",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}
        group_arn = sagemaker_arn(f"model-package-group/{self.model_group.model_package_group_name}")
        package_arns = sagemaker_arn(f"model-package/{self.model_group.model_package_group_name}/*")
        # SageMaker authorizes List* calls against "*" (resource-level restrictions are not available on List-
        # calls except ListTags: https://docs.aws.amazon.com/sagemaker/latest/dg/api-permissions-reference.html);
        # a grant on the group's ARNs alone would deny FindChampion on every run.
        find_champion = SageMakerApiCall(self, "FindChampion", action="listModelPackages", parameters={
            "ModelPackageGroupName": self.model_group.model_package_group_name,
            "ModelApprovalStatus": "Approved", "SortBy": "CreationTime", "SortOrder": "Descending",
            "MaxResults": 1}, result_selector={"packages.$": "$.ModelPackageSummaryList"},
            result_path="$.champion", iam_resources=["*"], on_failure=fail_chain)
        describe_champion = SageMakerApiCall(self, "DescribeChampion", action="describeModelPackage", parameters={
            "ModelPackageName.$": "$.champion.packages[0].ModelPackageArn"},
            result_selector={"arn.$": "$.ModelPackageArn",
                             "model_data.$": "$.InferenceSpecification.Containers[0].ModelDataUrl"},
            result_path="$.champion", iam_resources=[package_arns], on_failure=fail_chain)
        with_champion = sfn.Pass(self, "InputsWithChampion", result_path=evaluate_inputs, parameters={
            "list": [*base_inputs, model_input, champion_input]})
        without_champion = sfn.Pass(self, "InputsWithoutChampion", result_path=evaluate_inputs,
                                    parameters={"list": [*base_inputs, model_input]})
        unwrap = sfn.Pass(self, "EvaluationInputs", input_path=f"{evaluate_inputs}.list", result_path=evaluate_inputs)

        gate = tasks.LambdaInvoke(
            self, "ApplyQualityGate", lambda_function=self.gate.function,
            payload=sfn.TaskInput.from_object({
                "evaluation_bucket": curated.bucket_name,
                "evaluation_key": sfn.JsonPath.format("runs/{}/evaluation/evaluation.json", run),
                "run_id": run}),
            result_selector={"passed.$": "$.Payload.passed", "status.$": "$.Payload.status",
                             "reason.$": "$.Payload.reason",
                             "candidate_pr_auc.$": "$.Payload.candidate_pr_auc"},
            result_path="$.gate", retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(Duration.seconds(60)))
        gate.add_retry(errors=LAMBDA_TRANSIENT_ERRORS, interval=Duration.seconds(2), max_attempts=3, backoff_rate=2)
        gate.add_catch(fail_chain, result_path="$.error")

        register = SageMakerApiCall(self, "Register", action="createModelPackage", parameters={
            "ModelPackageGroupName": self.model_group.model_package_group_name,
            "ModelPackageDescription": sfn.JsonPath.format("Pipeline run {}: {}", run, sfn.JsonPath.string_at(
                "$.gate.reason")),
            "ModelApprovalStatus.$": "$.gate.status",
            "InferenceSpecification": {
                # Self-contained: the serving code is inside model.tar.gz (code/), put there by the training job,
                # so the package depends on no CDK asset object (`cdk gc` may delete unreferenced ones).
                "Containers": [{"Image": self.images.uris.inference, "ModelDataUrl": model_data,
                                "Environment": {
                                    "SAGEMAKER_PROGRAM": "inference.py",
                                    "SAGEMAKER_SUBMIT_DIRECTORY": SERVING_CODE_DIR,
                                    # Importable as is, so the container's toolkit skips its start-up
                                    # `pip install .` (which needs the network) and the model can run isolated.
                                    "PYTHONPATH": SERVING_CODE_DIR,
                                    "SAGEMAKER_REGION": Aws.REGION,
                                    # One OpenMP thread per worker: with the default, one-record p99 was 1.3 s
                                    # (threads contending per call; docs/capacity.md).
                                    "OMP_NUM_THREADS": "1"}}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            "ModelMetrics": {"ModelQuality": {"Statistics": {
                "ContentType": "application/json",
                "S3Uri": sfn.JsonPath.format("{}/evaluation/evaluation.json", run_prefix)}}},
            "CustomerMetadataProperties": {
                "pipeline_run": run,
                "training_data": sfn.JsonPath.format("{}/train/", run_prefix),
                # Lineage only (the source bundle the model was trained from); serving does not read it.
                "code": self.job_source.s3_object_url,
                "pr_auc": sfn.JsonPath.format("{}", sfn.JsonPath.string_at("$.gate.candidate_pr_auc")),
                "gate_decision": sfn.JsonPath.string_at("$.gate.status"),
            },
        }, result_selector={"arn.$": "$.ModelPackageArn"}, result_path="$.registered",
            iam_resources=[group_arn, package_arns], on_failure=fail_chain)

        notify_ok = sns_publish(
            self, "NotifyRegistered", topic=self.alerts, subject="mlops-demo: model registered",
            message=sfn.TaskInput.from_text(sfn.JsonPath.format(
                "Training run {} registered {} as {}: {}", run, sfn.JsonPath.string_at("$.registered.arn"),
                sfn.JsonPath.string_at("$.gate.status"), sfn.JsonPath.string_at("$.gate.reason"))))
        notify_ok.add_catch(fail_chain, result_path="$.error")

        # The run's "as of" time decides which labels have matured and so which data trains: the execution
        # input may pin it ({"as_of": "2026-11-01T00:00:00Z"}) for a reproducible rerun; by default it is now.
        # Both also set the run id that names the run's SageMaker jobs.
        given = sfn.Pass(self, "UseGivenAsOf", result_path="$.run",
                         parameters={"as_of.$": "$.as_of", "id.$": RUN_ID_EXPRESSION})
        now = sfn.Pass(self, "UseStartTimeAsOf", result_path="$.run",
                       parameters={"as_of.$": "$$.Execution.StartTime", "id.$": RUN_ID_EXPRESSION})
        definition = (sfn.Choice(self, "AsOfGiven?")
                      .when(sfn.Condition.is_present("$.as_of"), given)
                      .otherwise(now))
        given.next(find_champion)
        now.next(find_champion)
        find_champion.next(sfn.Choice(self, "ChampionExists?")
                           .when(sfn.Condition.is_present("$.champion.packages[0]"),
                                 describe_champion.next(preprocess_with))
                           .otherwise(preprocess_without))
        preprocess_with.next(preprocess_unwrap)
        preprocess_without.next(preprocess_unwrap)
        preprocess_unwrap.next(preprocess)
        preprocess.next(train)
        train.next(sfn.Choice(self, "ChampionToCompare?")
                   .when(sfn.Condition.is_present("$.champion.arn"), with_champion)
                   .otherwise(without_champion))
        with_champion.next(unwrap)
        without_champion.next(unwrap)
        unwrap.next(evaluate)
        evaluate.next(gate)
        gate.next(register).next(notify_ok).next(sfn.Succeed(self, "Done", comment="Gate decision in $.gate"))

        # Execution data (inputs, outputs, causes) is logged at level ALL: encrypted with the data key.
        log_group = logs.LogGroup(self, "TrainingPipelineLogs",
                                  log_group_name=log_group_name("/aws/vendedlogs/states/", config.name, "training"),
                                  retention=log_retention(config.log_retention_days), encryption_key=self.data_key,
                                  removal_policy=removal)
        machine = sfn.StateMachine(
            self, "TrainingPipeline",
            state_machine_name=self.state_machine_name,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.minutes(config.pipeline_timeout_minutes),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            comment="Fraud model training: preprocess, train, evaluate, gate, register, notify",
        )
        failure.grant_publish(machine)  # NotifyFailure and NotifyRegistered publish to the encrypted topic
        machine.add_to_role_policy(iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=[
            PROCESSING.arns, TRAINING.arns, package_arns]))
        acknowledge(machine, "AwsSolutions-IAM5",
                    "Job and model-package names are generated per execution (from the run id), so SageMaker "
                    "actions are scoped to this account/region's job and package ARNs with a name wildcard; "
                    "sagemaker:ListModelPackages is authorized against '*' only; Lambda invoke covers the gate "
                    "function's versions (<arn>:*); kms:GenerateDataKey* (on the data key only) is what SNS needs "
                    "to publish to the encrypted alerts topic; X-Ray and CloudWatch Logs delivery actions support "
                    "no resource scoping.",
                    findings=["Resource::*", "Action::kms:GenerateDataKey*",
                              *(f"Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:{k}/*"
                                for k in ("processing-job", "training-job")),
                              "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
                              f"model-package/{resource_name(config.name, 'fraud-models')}/*",
                              f"Resource::<{self.get_logical_id(self.gate.function.node.default_child)}.Arn>:*"])
        return machine


def _bucket_objects_finding(profile: str, purpose: str, prefix: str) -> str:
    """cdk-nag finding id for `<bucket ARN>/<prefix>*`, pseudo parameters written as cdk-nag prints them."""
    name = bucket_name(profile, purpose, "<AWS::AccountId>", "<AWS::Region>")
    return f"Resource::arn:<AWS::Partition>:s3:::{name}/{prefix}*"

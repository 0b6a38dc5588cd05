"""Serving: the alarms that guard deployments, the deploy workflow, and the rule that starts it on approval.

The endpoint itself is created by the deploy workflow, not by CloudFormation: it serves whatever the registry
approved, and a template cannot know which package that is. The workflow (stacks/deploy_workflow.py) creates
a model from the approved package, an endpoint config with data capture, then creates the endpoint or
updates it with SageMaker deployment guardrails (blue/green, all-at-once or canary, bakes, auto-rollback on
these alarms), and verifies which config is live before it records the outcome. ADR 0006.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from fraud_core.config import ProfileConfig
from stacks.bundling import ROOT
from stacks.constructs.bundled_function import BundledPythonFunction
from stacks.constructs.endpoint_alarms import EndpointGuardAlarms
from stacks.data_refs import DataFoundationRefs
from stacks.deploy_workflow import DeployWorkflow, ServingNames
from stacks.log_retention import log_retention
from stacks.nag import acknowledge
from stacks.naming import log_group_name, resource_name
from stacks.sklearn_images import REPOSITORY, SklearnImages

CAPACITY_FILE = ROOT / "benchmarks" / "capacity.json"


def scaling_target(config: ProfileConfig) -> float | None:
    """Invocations per instance per minute for target tracking, from the measured capacity (benchmarks/)."""
    if config.endpoint_max_instance_count <= config.endpoint_instance_count:
        return None
    if not CAPACITY_FILE.is_file():
        raise FileNotFoundError(f"{CAPACITY_FILE}: the scaling target is derived from the measured per-instance "
                                "capacity; run `python -m benchmarks.bench_serving` to produce it")
    return float(json.loads(CAPACITY_FILE.read_text())["autoscaling"]["target_value"])


class ServingStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: ProfileConfig, data: DataFoundationRefs,
                 model_package_group: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config, self.data = config, data
        profile = config.name
        removal = RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN
        self.names = ServingNames(profile, model_package_group)
        self.data_key = kms.Key.from_key_arn(self, "DataKey", data.data_key_arn(self))
        self.alerts = sns.Topic.from_topic_arn(self, "AlertsTopic", data.alerts_topic_arn)
        models = s3.Bucket.from_bucket_name(self, "ModelsBucket", data.bucket_name("models"))
        capture = s3.Bucket.from_bucket_name(self, "CaptureBucket", data.bucket_name("capture"))
        images = SklearnImages(self, "SklearnImage")

        self.alarms = EndpointGuardAlarms(self, "GuardAlarms", config=config, endpoint_name=self.names.endpoint,
                                          variant_name=self.names.variant, topic=self.alerts)
        self.serving_role = self._serving_role(models, capture, images)
        self.helper = self._helper_function()
        log_group = logs.LogGroup(self, "DeployWorkflowLogs",
                                  log_group_name=log_group_name("/aws/vendedlogs/states/", profile, "deploy"),
                                  retention=log_retention(config.log_retention_days), encryption_key=self.data_key,
                                  removal_policy=removal)
        self.workflow = DeployWorkflow(
            self, "DeployWorkflow", config=config, names=self.names, serving_role=self.serving_role,
            data_key=self.data_key, alerts=self.alerts, capture_uri=f"s3://{capture.bucket_name}/datacapture",
            guard_alarms=self.alarms.names, helper=self.helper.function, log_group=log_group,
            scaling_target=scaling_target(config))
        self.state_machine = self.workflow.state_machine

        events.Rule(
            self, "DeployOnApproval", rule_name=resource_name(profile, "deploy-on-approval"),
            description="A package of the fraud model group became Approved: deploy it",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"], detail_type=["SageMaker Model Package State Change"],
                detail={"ModelPackageGroupName": [model_package_group], "ModelApprovalStatus": ["Approved"]}),
            targets=[targets.SfnStateMachine(self.state_machine)])

        CfnOutput(self, "DeployStateMachineArn", value=self.state_machine.state_machine_arn)
        CfnOutput(self, "EndpointName", value=self.names.endpoint)
        CfnOutput(self, "GuardAlarmNames", value=",".join(self.alarms.names))

    # --- IAM -------------------------------------------------------------------------------------
    def _serving_role(self, models: s3.IBucket, capture: s3.IBucket, images: SklearnImages) -> iam.Role:
        """The endpoint's execution role: read model artifacts, write data capture, pull the image, log."""
        role = iam.Role(self, "SageMakerServingRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                        description="Fraud scoring endpoint: model artifacts, data capture, image, logs")
        models.grant_read(role, "training-jobs/*")
        capture.grant_put(role, "datacapture/*")
        self.data_key.grant_encrypt_decrypt(role)
        role.add_to_policy(iam.PolicyStatement(
            actions=["kms:CreateGrant"], resources=[self.data_key.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}}))
        role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            resources=[f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:/aws/sagemaker/Endpoints/"
                       f"{self.names.endpoint}:*"]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            resources=[Fn.join("", [f"arn:{self.partition}:ecr:{self.region}:", images.registry_account,
                                    f":repository/{REPOSITORY}"])]))
        role.add_to_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}}))
        acknowledge(role, "AwsSolutions-IAM5",
                    "The endpoint reads the models bucket's training-jobs/ prefix (artifact keys are per training "
                    "job), writes capture files under datacapture/ (keys are per hour and request batch), writes "
                    "its own log streams, and ecr:GetAuthorizationToken / cloudwatch:PutMetricData support no "
                    "resource scoping (the latter limited by namespace). Action wildcards come from CDK grants.",
                    findings=["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
                              "Action::s3:Abort*", "Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*",
                              "Resource::*",
                              f"Resource::arn:<AWS::Partition>:s3:::{_bucket(self.config.name, 'models')}"
                              "/training-jobs/*",
                              f"Resource::arn:<AWS::Partition>:s3:::{_bucket(self.config.name, 'capture')}"
                              "/datacapture/*",
                              "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
                              f"/aws/sagemaker/Endpoints/{self.names.endpoint}:*"])
        return role

    def _helper_function(self) -> BundledPythonFunction:
        config = self.config
        helper = BundledPythonFunction(
            self, "DeployHelper", function_name=resource_name(config.name, "deploy-helper"),
            handler_dir=ROOT / "lambdas" / "deployment",
            description="Deploy workflow: finds the previous known-good package to roll back to",
            role_description="Deploy helper: reads the endpoint and the model registry",
            environment={"POWERTOOLS_SERVICE_NAME": "deployment"},
            log_retention_days=config.log_retention_days, log_key=self.data_key, timeout=Duration.seconds(60))
        sm = f"arn:{self.partition}:sagemaker:{self.region}:{self.account}"
        helper.role.add_to_policy(iam.PolicyStatement(
            actions=["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel",
                     "sagemaker:DescribeModelPackage"],
            resources=[f"{sm}:endpoint/{self.names.endpoint}", f"{sm}:endpoint-config/{self.names.generated_prefix}*",
                       f"{sm}:model/{self.names.generated_prefix}*",
                       f"{sm}:model-package/{self.names.model_package_group}/*"]))
        # ListModelPackages authorizes against "*" only (Service Authorization Reference; ADR 0005).
        helper.role.add_to_policy(iam.PolicyStatement(actions=["sagemaker:ListModelPackages"], resources=["*"]))
        acknowledge(helper.role, "AwsSolutions-IAM5",
                    "Endpoint configs and models are created per deployment, named with the profile's prefix and "
                    "a digest, and packages "
                    "are versions of the one group (<group>/*); ListModelPackages supports no resource scoping.",
                    findings=["Resource::*", "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:"
                              f"<AWS::AccountId>:endpoint-config/{self.names.generated_prefix}*",
                              "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
                              f"model/{self.names.generated_prefix}*",
                              "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
                              f"model-package/{self.names.model_package_group}/*"])
        return helper


def _bucket(profile: str, purpose: str) -> str:
    from stacks.naming import bucket_name

    return bucket_name(profile, purpose, "<AWS::AccountId>", "<AWS::Region>")

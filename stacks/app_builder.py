"""Builds the whole CDK app for one profile: used by app.py (the CLI) and by tests and the local AWS."""

from __future__ import annotations

import json
import os
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from fraud_core.config import ConfigError, ProfileConfig, load_config
from stacks.data_foundation_stack import DataFoundationStack
from stacks.monitoring_stack import MonitoringStack
from stacks.naming import PROJECT, stack_name
from stacks.serving_stack import ServingStack
from stacks.sklearn_images import check_region
from stacks.stream_scoring_stack import StreamScoringStack
from stacks.training_pipeline_stack import TrainingPipelineStack

# Feature flags are set in code, not only in cdk.json, so the CLI, tests and the local AWS synthesize
# the same template.
FEATURE_FLAGS = {
    # Grant S3 server-access-log delivery via the log bucket's policy instead of legacy ACLs.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


UNTAGGED_TYPES = ["AWS::SSM::Parameter"]


def profile_from_context(app: cdk.App) -> ProfileConfig:
    """`-c profile=prod` picks the profile; `-c config='{"key": value}'` overrides single keys."""
    overrides: Any = app.node.try_get_context("config") or {}
    if isinstance(overrides, str):
        try:
            overrides = json.loads(overrides)
        except ValueError as err:
            raise ConfigError("config", f"must be a JSON object of key: value overrides ({err})", overrides) from None
    if not isinstance(overrides, dict):
        raise ConfigError("config", "must be a JSON object of key: value overrides", overrides)
    profile = app.node.try_get_context("profile")
    if profile == "":
        raise ConfigError("profile", "must not be empty; allowed values: sandbox, prod", profile)
    return load_config(profile, overrides)


def build_app(app: cdk.App | None = None, *, nag: bool = True) -> tuple[cdk.App, ProfileConfig]:
    app = app or cdk.App()
    for flag, value in FEATURE_FLAGS.items():
        app.node.set_context(flag, value)
    config = profile_from_context(app)
    # The templates are environment-agnostic; when the CLI knows the target region (it sets CDK_DEFAULT_REGION
    # from the profile or AWS_REGION), refuse one where the pipeline's images are not published, at synth time.
    check_region(os.environ.get("CDK_DEFAULT_REGION"))
    data = DataFoundationStack(
        app, "DataFoundation",
        stack_name=stack_name(config.name, "DataFoundation"),
        config=config,
        description=f"{PROJECT} ({config.name}): KMS key, buckets, transactions stream, archive, alerts",
    )
    training = TrainingPipelineStack(
        app, "TrainingPipeline",
        stack_name=stack_name(config.name, "TrainingPipeline"),
        config=config, data=data.refs,
        description=f"{PROJECT} ({config.name}): training pipeline (Step Functions + SageMaker) and model registry",
    )
    serving = ServingStack(
        app, "Serving",
        stack_name=stack_name(config.name, "Serving"),
        config=config, data=data.refs, model_package_group=training.model_group.model_package_group_name,
        description=f"{PROJECT} ({config.name}): deploy workflow (blue/green with guardrails), guard alarms",
    )
    scoring = StreamScoringStack(
        app, "StreamScoring",
        stack_name=stack_name(config.name, "StreamScoring"),
        config=config, data=data.refs, endpoint_name=serving.names.endpoint,
        description=f"{PROJECT} ({config.name}): scoring Lambda on the transactions stream, dead letters, alarms",
    )
    monitoring = MonitoringStack(
        app, "Monitoring",
        stack_name=stack_name(config.name, "Monitoring"),
        config=config, data=data.refs, endpoint_name=serving.names.endpoint,
        watched_state_machines={"training": training.state_machine_name, "deploy": serving.names.state_machine},
        description=f"{PROJECT} ({config.name}): drift monitor, drift and data-quality alarms, retrain on drift, "
                    "failed-run alarms",
    )
    # No CloudFormation imports tie the stacks together, so the deploy order is declared: data first.
    training.add_stack_dependency(data)
    serving.add_stack_dependency(training)
    scoring.add_stack_dependency(serving)
    monitoring.add_stack_dependency(scoring)
    for stack in (data, training, serving, scoring, monitoring):
        for key, value in (("project", PROJECT), ("profile", config.name)):
            # SSM parameters stay untagged: they cost nothing to allocate, and moto 5.2.5's CloudFormation passes an
            # SSM parameter's tag map (CloudFormation's shape for this type) to an API expecting a list, so a
            # tagged parameter cannot be deployed to the local AWS.
            cdk.Tags.of(stack).add(key, value, exclude_resource_types=UNTAGGED_TYPES)
    if nag:
        # cdk-nag 3.x validates at synth time; unacknowledged findings raise ValidationFailed.
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app, config

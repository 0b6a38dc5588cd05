"""Binds EventBridge delivery and the events AWS services emit into moto.

- Rules deliver to Step Functions and Lambda targets (local_aws.events.targets); disabled rules deliver
  nothing (moto 5.2.5 delivers for disabled rules too and raises NotImplementedError for these targets).
  A rule with a schedule and no event pattern matches no event (moto's empty pattern matches every event);
  its scheduled events come from local_aws.events.schedules.
- SageMaker emits "SageMaker Model Package State Change" on the default bus when a package is created
  or updated (https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html),
  which moto does not.
- UpdateModelPackage changes only what the request names, as on AWS: moto 5.2.5 replaces all customer
  metadata with the request's and clears the approval status and description when they are not given.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from moto.events.models import Rule, events_backends
from moto.sagemaker.models import SageMakerModelBackend

from local_aws.events.targets import EventTargets
from local_aws.patching import MotoPatches

EMULATED_TARGET_SERVICES = ("states", "lambda")


def install(patches: MotoPatches, targets: EventTargets, account: str, region: str) -> None:
    _install_rule_delivery(patches, targets)
    _install_model_package_events(patches, account, region)


def _install_rule_delivery(patches: MotoPatches, targets: EventTargets) -> None:
    original = Rule.send_to_targets

    def send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
        if self.state != "ENABLED" or not self.event_pattern.matches_event(original_event):
            return
        if self.scheduled_expression and not self.event_pattern.dump():
            return  # schedule-only rule: EventBridge sends it its scheduled events, never bus events
        ours = [t for t in self.targets if t["Arn"].split(":")[2] in EMULATED_TARGET_SERVICES]
        theirs = [t for t in self.targets if t not in ours]
        if theirs:
            saved, self.targets = self.targets, theirs
            try:
                original(self, original_event, transform_input)
            finally:
                self.targets = saved
        for target in ours:
            targets.schedule(self.name, target, dict(original_event))

    patches.replace(Rule, "send_to_targets", send_to_targets,
                    why="EventBridge rules deliver to Step Functions and Lambda targets, asynchronously")


def _install_model_package_events(patches: MotoPatches, account: str, region: str) -> None:
    original_create = SageMakerModelBackend.create_model_package
    original_update = SageMakerModelBackend.update_model_package

    def emit(backend: SageMakerModelBackend, arn: str) -> None:
        package = backend.describe_model_package(arn)
        detail = _jsonable(package.gen_response_object())
        events_backends[account][region].put_events([{
            "Source": "aws.sagemaker", "DetailType": "SageMaker Model Package State Change",
            "Resources": [package.arn], "Detail": json.dumps(detail)}])

    def create_model_package(self: SageMakerModelBackend, *args: Any, **kwargs: Any) -> str:
        arn = original_create(self, *args, **kwargs)
        emit(self, arn)
        return arn

    def update_model_package(self: SageMakerModelBackend, model_package_arn: str, model_approval_status: str | None,
                             approval_description: str | None, customer_metadata_properties: dict[str, str] | None,
                             customer_metadata_properties_to_remove: list[str],
                             additional_inference_specifications_to_add: list[Any] | None) -> str:
        package = self.describe_model_package(model_package_arn)
        merged = {**(package.customer_metadata_properties or {}), **(customer_metadata_properties or {})}
        arn = original_update(
            self, model_package_arn, model_approval_status or package.model_approval_status,
            approval_description if approval_description is not None else package.approval_description,
            merged, customer_metadata_properties_to_remove, additional_inference_specifications_to_add)
        emit(self, arn)
        return arn

    patches.replace(SageMakerModelBackend, "create_model_package", create_model_package,
                    why="SageMaker emits a Model Package State Change event when a package is created")
    patches.replace(SageMakerModelBackend, "update_model_package", update_model_package,
                    why="UpdateModelPackage merges metadata, keeps unnamed fields, and emits a state change event")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return value

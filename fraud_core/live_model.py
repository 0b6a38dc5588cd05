"""Which model package an endpoint serves, read through an injected SageMaker client (no boto3 import here).

The deploy workflow creates each model from a registered package (the container names ModelPackageName), so
endpoint -> live config -> first variant's model -> package; the package gives the artifact's ModelDataUrl
(model.tar.gz, which carries the training baseline the drift job compares with).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fraud_core.deployment import PackageState


@dataclass(frozen=True, slots=True)
class LiveModel:
    endpoint_config: str
    package_arn: str | None
    model_data_url: str


def live_model(sm: Any, endpoint_name: str) -> LiveModel | None:
    """The endpoint's live model, or None when the endpoint does not exist."""
    try:
        endpoint = sm.describe_endpoint(EndpointName=endpoint_name)
    except sm.exceptions.ClientError as err:
        if "Could not find endpoint" in str(err):
            return None
        raise
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    container = (model.get("Containers") or [model.get("PrimaryContainer") or {}])[0]
    package = container.get("ModelPackageName")
    url = container.get("ModelDataUrl") or ""
    if package and not url:
        url = sm.describe_model_package(ModelPackageName=package)["InferenceSpecification"]["Containers"][0][
            "ModelDataUrl"]
    return LiveModel(endpoint["EndpointConfigName"], package, url)


def group_packages(sm: Any, group: str) -> list[PackageState]:
    """Every package of the model package group, with its approval and deployment record."""
    out = []
    for page in sm.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group):
        for summary in page["ModelPackageSummaryList"]:
            out.append(PackageState.from_description(
                sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"])))
    return out

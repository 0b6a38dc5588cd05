"""`mlops-demo teardown`: delete what the deploy workflow created, which `cdk destroy` does not know about.

The endpoint, its endpoint configs and models are created by the deploy workflow (they serve whatever the
registry approved), so CloudFormation does not own them: without this step `cdk destroy` would leave an
instance running and billing. `make destroy` runs it first.
"""

from __future__ import annotations

from typing import Any

import boto3

from stacks.naming import generated_prefix, resource_name


def teardown(profile: str, *, endpoint_url: str | None = None, region: str | None = None) -> list[str]:
    """Delete the profile's endpoint (and its scaling target), then the configs and models the profile's workflow
    created (named with the profile's prefix: another profile's in the same account are left alone)."""
    sm = boto3.client("sagemaker", endpoint_url=endpoint_url, region_name=region)
    scaling = boto3.client("application-autoscaling", endpoint_url=endpoint_url, region_name=region)
    endpoint = resource_name(profile, "fraud")
    deleted: list[str] = []
    resource_id = f"endpoint/{endpoint}/variant/primary"
    targets = scaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource_id])
    for target in targets.get("ScalableTargets", []):
        scaling.deregister_scalable_target(ServiceNamespace="sagemaker", ResourceId=resource_id,
                                           ScalableDimension=target["ScalableDimension"])
        deleted.append(f"scalable target {resource_id}")
    try:
        sm.delete_endpoint(EndpointName=endpoint)
        deleted.append(f"endpoint {endpoint}")
    except sm.exceptions.ClientError as err:
        if "Could not find endpoint" not in str(err):
            raise
    prefix = generated_prefix(profile)
    deleted += _delete_named(sm, prefix, "endpoint config", sm.list_endpoint_configs, "EndpointConfigs",
                             "EndpointConfigName", lambda n: sm.delete_endpoint_config(EndpointConfigName=n))
    deleted += _delete_named(sm, prefix, "model", sm.list_models, "Models", "ModelName",
                             lambda n: sm.delete_model(ModelName=n))
    return deleted


def _delete_named(sm: Any, prefix: str, what: str, lister: Any, key: str, name_key: str, delete: Any) -> list[str]:
    names: list[str] = []
    token: dict[str, str] = {}
    while True:  # every page: an account that deployed many times has more than one
        page = lister(NameContains=prefix, MaxResults=100, **token)
        names += [item[name_key] for item in page.get(key, []) if item[name_key].startswith(prefix)]
        if not page.get("NextToken"):
            break
        token = {"NextToken": page["NextToken"]}
    for name in names:
        delete(name)
    return [f"{what} {name}" for name in names]

"""The SageMaker scikit-learn images the pipeline runs (jobs) and registers (serving), and where they are published.

The region -> registry account table is data (stacks/data/sklearn_images.json, with its sources and the date it
was read), not code. A template can only be deployed in a region of that table: synthesis fails with a clear
message when the target region is known and unsupported (`check_region`), and the template itself carries a
CloudFormation rule that stops a deploy to any other region before a resource is created.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from aws_cdk import Aws, CfnMapping, CfnRule, CfnRuleAssertion, Fn, Stack, Token
from constructs import Construct

DATA_FILE = Path(__file__).resolve().parent / "data" / "sklearn_images.json"
_DATA = json.loads(DATA_FILE.read_text())

REPOSITORY: str = _DATA["repository"]
TRAINING_TAG: str = _DATA["images"]["training"]["tag"]
INFERENCE_TAG: str = _DATA["images"]["inference"]["tag"]
ACCOUNTS = MappingProxyType(dict(_DATA["accounts"]))
SUPPORTED_REGIONS: tuple[str, ...] = tuple(sorted(ACCOUNTS))


class UnsupportedRegionError(ValueError):
    def __init__(self, region: str) -> None:
        super().__init__(
            f"region {region!r}: the SageMaker scikit-learn images this project uses ({REPOSITORY}:{TRAINING_TAG} "
            f"for jobs, {REPOSITORY}:{INFERENCE_TAG} for serving) are not published there according to "
            f"{DATA_FILE.name} (read {_DATA['retrieved']}). Supported regions: {', '.join(SUPPORTED_REGIONS)}")
        self.region = region


def check_region(region: str | None) -> None:
    """Raise UnsupportedRegionError for a known region without the images; None (environment-agnostic) passes."""
    if region and not Token.is_unresolved(region) and region not in ACCOUNTS:
        raise UnsupportedRegionError(region)


@dataclass(frozen=True)
class ImageUris:
    training: str
    inference: str


class SklearnImages(Construct):
    """Image URIs for the stack's region, a mapping of the published registries, and a rule refusing other regions."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        check_region(stack.region)
        mapping = CfnMapping(self, "Account", mapping={r: {"account": a} for r, a in ACCOUNTS.items()})
        registry = Fn.join("", [mapping.find_in_map(Aws.REGION, "account"), ".dkr.ecr.", Aws.REGION, ".",
                                Aws.URL_SUFFIX, f"/{REPOSITORY}"])
        self.registry_account = mapping.find_in_map(Aws.REGION, "account")
        self.uris = ImageUris(training=Fn.join(":", [registry, TRAINING_TAG]),
                              inference=Fn.join(":", [registry, INFERENCE_TAG]))
        CfnRule(self, "SupportedRegion", assertions=[CfnRuleAssertion(
            assert_=Fn.condition_contains(list(SUPPORTED_REGIONS), Aws.REGION),
            assert_description=(f"The SageMaker scikit-learn images ({REPOSITORY}:{TRAINING_TAG}, {INFERENCE_TAG}) "
                                f"are not published in this region; deploy to one of: "
                                f"{', '.join(SUPPORTED_REGIONS)}"))])

"""Which model to serve when the live one must go: the previous known-good package (pure; no AWS calls).

A package is known-good when it was deployed and its deployment completed (metadata `deployment_status` is
`deployed`, recorded by the deploy workflow) and it is still `Approved`. The rollback target is the most
recently deployed known-good package other than the live one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEPLOYED = "deployed"
ROLLED_BACK = "rolled_back"  # a guardrail rolled the deployment back: it never went live
WITHDRAWN = "withdrawn"  # it went live, then was rolled back after a regression


class NoRollbackTarget(LookupError):
    pass


@dataclass(frozen=True)
class PackageState:
    arn: str
    approval: str
    deployment_status: str | None
    deployed_at: str  # ISO-8601, '' when never deployed

    @classmethod
    def from_description(cls, description: Mapping[str, Any]) -> PackageState:
        meta = description.get("CustomerMetadataProperties") or {}
        return cls(arn=str(description["ModelPackageArn"]), approval=str(description.get("ModelApprovalStatus")),
                   deployment_status=meta.get("deployment_status"), deployed_at=str(meta.get("deployed_at", "")))


def choose_rollback_target(packages: Iterable[PackageState], live_arn: str | None) -> PackageState:
    """The known-good package deployed most recently before the live one; NoRollbackTarget says why not."""
    candidates = [p for p in packages
                  if p.arn != live_arn and p.approval == "Approved" and p.deployment_status == DEPLOYED]
    if not candidates:
        raise NoRollbackTarget(f"no approved package other than the live one ({live_arn}) has completed a "
                               "deployment; nothing to roll back to")
    return max(candidates, key=lambda p: p.deployed_at)

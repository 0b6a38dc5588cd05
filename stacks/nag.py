"""cdk-nag acknowledgements: every one names the rule, the exact finding and a specific reason."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str, findings: Iterable[str] = ()) -> None:
    """Acknowledge `rule` on `scope` and its children; with `findings`, only those (e.g. Action::s3:List*)."""
    if "::" not in rule:  # cdk-nag 3 ids carry the plugin name: AwsSolutions::AwsSolutions-S1
        rule = f"{rule.split('-')[0]}::{rule}"
    ids = [f"{rule}[{f}]" for f in findings] or [rule]
    for rule_id in ids:
        Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))

"""IAM condition semantics for resource policies (bucket policies) evaluated by moto.

moto 5.2.5 evaluates only StringEquals, treats other operators as always met, and answers DENIED
(not "does not apply") when a condition fails. Every CDK bucket denies requests with
aws:SecureTransport=false, so with moto's semantics each bucket refused all writes. Here a statement
whose Condition is not met does not apply, as in IAM. Local requests go over botocore's HTTPS
endpoints, so they carry aws:SecureTransport=true.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from moto.iam import access_control

from local_aws.patching import MotoPatches

_LOCAL_REQUEST_CONTEXT = {"aws:SecureTransport": "true"}


def conditions_met(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    """Evaluate a policy Condition block as IAM does for the operators our policies use.

    A key absent from the request context fails its condition (no ...IfExists operators here);
    an operator we do not know fails too, so an unknown condition never widens a Deny.
    """
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            wanted = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
            actual = context.get(key)
            if actual is None:
                return False
            if operator == "Bool":
                ok = actual.lower() in [w.lower() for w in wanted]
            elif operator in ("StringEquals", "ArnEquals"):
                ok = actual in wanted
            elif operator in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, w) for w in wanted)
            else:
                ok = False
            if not ok:
                return False
    return True


def install(patches: MotoPatches) -> None:
    original = access_control.IAMPolicyStatement.is_action_permitted

    def is_action_permitted(self: Any, action: str, resource: str = "*", principal: str | None = None,
                            incoming_condition_values: dict[str, str] | None = None) -> Any:
        condition = self._statement.get("Condition")
        if not condition:
            return original(self, action, resource, principal, incoming_condition_values)
        context = {**_LOCAL_REQUEST_CONTEXT, **(incoming_condition_values or {})}
        if not conditions_met(condition, context):
            return access_control.PermissionResult.NEUTRAL
        unconditional = access_control.IAMPolicyStatement(
            {k: v for k, v in self._statement.items() if k != "Condition"})
        return original(unconditional, action, resource, principal, None)

    patches.replace(access_control.IAMPolicyStatement, "is_action_permitted", is_action_permitted,
                    why="a statement whose Condition is not met does not apply (IAM semantics)")

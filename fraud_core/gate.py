"""The quality gate between evaluation and the model registry.

Policy: a candidate ships only if its test PR-AUC clears an absolute floor (it is useful at all)
and is no worse than the current champion's PR-AUC on the same test window minus a tolerance (it
does not regress; the tolerance absorbs run-to-run noise so retrains are not blocked by chance).
Both numbers come from the profile config (``pr_auc_floor``, ``champion_tolerance``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

ApprovalStatus = Literal["Approved", "PendingManualApproval", "Rejected"]
# Slack for float rounding, so a candidate at exactly champion - tolerance (0.50 vs 0.52 - 0.02,
# which is 0.5000000000000001 in binary) is not rejected by arithmetic noise.
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class GateDecision:
    passed: bool
    status: ApprovalStatus  # the SageMaker model-package approval status to register with
    reason: str
    candidate_pr_auc: float
    champion_pr_auc: float | None
    floor: float
    tolerance: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fmt(x: float) -> str:
    return f"{round(x, 4):g}"


def _pr_auc(section: Any, role: str) -> float:
    if not isinstance(section, Mapping):
        raise ValueError(f"evaluation.{role}: must be an object with pr_auc (got {section!r})")
    value = section.get("pr_auc")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"evaluation.{role}.pr_auc: must be a finite number (got {value!r})")
    return float(value)


def _check_setting(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: must be a number between 0 and 1 (got {value!r})")


def decide(evaluation: Mapping[str, Any], *, floor: float, tolerance: float, auto_approve: bool) -> GateDecision:
    """Gate an ``evaluation.json`` document (its ``candidate`` and optional ``champion`` sections).

    The reason names the numbers, e.g. 'rejected: PR-AUC 0.41 < champion 0.52 - tolerance 0.02'.
    """
    _check_setting("floor", floor)
    _check_setting("tolerance", tolerance)
    if "candidate" not in evaluation:
        raise ValueError("evaluation.candidate: is required")
    candidate = _pr_auc(evaluation["candidate"], "candidate")
    # A null champion means nothing is deployed yet (the first model): only the floor applies.
    champion = None if evaluation.get("champion") is None else _pr_auc(evaluation["champion"], "champion")

    failures = []
    if candidate < floor - _EPS:
        failures.append(f"PR-AUC {_fmt(candidate)} < floor {_fmt(floor)}")
    if champion is not None and candidate < champion - tolerance - _EPS:
        failures.append(f"PR-AUC {_fmt(candidate)} < champion {_fmt(champion)} - tolerance {_fmt(tolerance)}")

    status: ApprovalStatus
    if failures:
        status, reason = "Rejected", "rejected: " + "; ".join(failures)
    else:
        status = "Approved" if auto_approve else "PendingManualApproval"
        vs_champion = (f" and >= champion {_fmt(champion)} - tolerance {_fmt(tolerance)}"
                       if champion is not None else " (no champion yet)")
        approval = "approved automatically" if auto_approve else "awaiting manual approval"
        reason = f"passed: PR-AUC {_fmt(candidate)} >= floor {_fmt(floor)}{vs_champion}; {approval}"
    return GateDecision(
        passed=not failures, status=status, reason=reason, candidate_pr_auc=candidate,
        champion_pr_auc=champion, floor=float(floor), tolerance=float(tolerance),
    )

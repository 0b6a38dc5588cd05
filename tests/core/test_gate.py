"""Quality gate: floor, champion tolerance, approval status, and reasons that name the numbers."""

from __future__ import annotations

import pytest

from fraud_core.config import load_config
from fraud_core.gate import decide


def _ev(candidate: float, champion: float | None = None) -> dict:
    return {"candidate": {"pr_auc": candidate}, "champion": None if champion is None else {"pr_auc": champion}}


def test_below_the_floor_is_rejected_even_without_a_champion() -> None:
    d = decide(_ev(0.25), floor=0.3, tolerance=0.02, auto_approve=True)
    assert (d.passed, d.status) == (False, "Rejected")
    assert d.reason == "rejected: PR-AUC 0.25 < floor 0.3"


def test_worse_than_champion_beyond_tolerance_is_rejected() -> None:
    d = decide(_ev(0.41, champion=0.52), floor=0.3, tolerance=0.02, auto_approve=True)
    assert d.status == "Rejected" and d.champion_pr_auc == 0.52
    assert d.reason == "rejected: PR-AUC 0.41 < champion 0.52 - tolerance 0.02"


def test_both_failures_are_reported() -> None:
    d = decide(_ev(0.2, champion=0.5), floor=0.3, tolerance=0.02, auto_approve=False)
    assert d.reason == "rejected: PR-AUC 0.2 < floor 0.3; PR-AUC 0.2 < champion 0.5 - tolerance 0.02"


def test_within_tolerance_of_the_champion_passes_exactly_at_the_edge() -> None:
    d = decide(_ev(0.50, champion=0.52), floor=0.3, tolerance=0.02, auto_approve=True)  # 0.52 - 0.02 in floats
    assert d.passed and d.status == "Approved"
    assert d.reason == "passed: PR-AUC 0.5 >= floor 0.3 and >= champion 0.52 - tolerance 0.02; approved automatically"


def test_first_model_passes_on_the_floor_alone() -> None:
    d = decide(_ev(0.7312), floor=0.3, tolerance=0.02, auto_approve=True)
    assert d.passed and d.champion_pr_auc is None
    assert d.reason == "passed: PR-AUC 0.7312 >= floor 0.3 (no champion yet); approved automatically"


def test_approval_status_follows_the_profile() -> None:
    for profile, status in (("sandbox", "Approved"), ("prod", "PendingManualApproval")):
        cfg = load_config(profile)
        d = decide(_ev(0.8, champion=0.75), floor=cfg.pr_auc_floor, tolerance=cfg.champion_tolerance,
                   auto_approve=cfg.auto_approve)
        assert d.passed and d.status == status
    assert decide(_ev(0.1), floor=0.3, tolerance=0.0, auto_approve=False).status == "Rejected"


def test_decision_is_json_ready() -> None:
    d = decide(_ev(0.6, champion=0.5), floor=0.3, tolerance=0.02, auto_approve=False)
    assert d.as_dict() == {"passed": True, "status": "PendingManualApproval", "reason": d.reason,
                           "candidate_pr_auc": 0.6, "champion_pr_auc": 0.5, "floor": 0.3, "tolerance": 0.02}


@pytest.mark.parametrize(("evaluation", "kwargs", "message"), [
    ({}, {}, "evaluation.candidate: is required"),
    ({"candidate": {"pr_auc": "high"}}, {}, "evaluation.candidate.pr_auc: must be a finite number"),
    ({"candidate": {"pr_auc": 0.5}, "champion": {"pr_auc": float("nan")}}, {},
     "evaluation.champion.pr_auc: must be a finite number"),
    ({"candidate": {"pr_auc": 0.5}}, {"floor": 1.5}, "floor: must be a number between 0 and 1"),
])
def test_malformed_input_names_the_field(evaluation: dict, kwargs: dict, message: str) -> None:
    args = {"floor": 0.3, "tolerance": 0.02, "auto_approve": True, **kwargs}
    with pytest.raises(ValueError, match=message):
        decide(evaluation, **args)

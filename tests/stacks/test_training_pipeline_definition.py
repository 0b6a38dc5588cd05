"""The synthesized training state machine: valid ASL, and every task bounded and failure-handled."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from fraud_core.config import load_config

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ("sandbox", "prod")


def _definition(template: dict) -> dict:
    """Render the DefinitionString Fn::Join with placeholder values for its CloudFormation tokens."""
    (machine,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    sep, parts = machine["Properties"]["DefinitionString"]["Fn::Join"]
    pseudo = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
              "AWS::URLSuffix": "amazonaws.com"}
    text = sep.join(p if isinstance(p, str) else pseudo.get(p.get("Ref", ""), "TOKEN") for p in parts)
    return json.loads(text)


def _states(definition: dict) -> dict[str, dict]:
    return definition["States"]


@pytest.mark.parametrize("profile", PROFILES)
def test_definition_passes_the_states_language_validator(templates, profile: str, tmp_path: Path) -> None:
    validator = ROOT / "node_modules" / ".bin" / "asl-validator"
    if not validator.exists() or shutil.which("node") is None:
        pytest.skip("asl-validator not installed: run `npm ci` (make test does)")
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(_definition(templates[profile]["TrainingPipeline"])))
    proc = subprocess.run([str(validator), "--json-path", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("profile", PROFILES)
def test_every_task_has_a_timeout_and_handles_failure(templates, profile: str) -> None:
    states = _states(_definition(templates[profile]["TrainingPipeline"]))
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    assert len(tasks) >= 10
    for name, state in tasks.items():
        assert 0 < state.get("TimeoutSeconds", 0) <= 120, f"{name}: API calls are bounded"
        assert state.get("Retry"), f"{name}: transient errors are retried"
        assert state.get("Catch"), f"{name}: failures are caught (notify, then fail with the cause)"


@pytest.mark.parametrize("profile", PROFILES)
def test_job_polling_waits_come_from_config_and_machine_has_a_timeout(templates, profile: str) -> None:
    config = load_config(profile)
    definition = _definition(templates[profile]["TrainingPipeline"])
    waits = [s for s in definition["States"].values() if s["Type"] == "Wait"]
    assert len(waits) == 3 and {w["Seconds"] for w in waits} == {config.job_poll_seconds}
    assert definition["TimeoutSeconds"] == config.pipeline_timeout_minutes * 60


def test_definition_runs_in_both_worlds(templates) -> None:
    """JSONPath only and request-response SageMaker calls: moto cannot run .sync or JSONata."""
    text = json.dumps(_definition(templates["sandbox"]["TrainingPipeline"]))
    assert ".sync" not in text and "JSONata" not in text
    states = _states(_definition(templates["sandbox"]["TrainingPipeline"]))
    sagemaker_tasks = [s for s in states.values() if s["Type"] == "Task" and ":sagemaker:" in s["Resource"]]
    assert all(s["Resource"].startswith("arn:aws:states:::aws-sdk:sagemaker:") for s in sagemaker_tasks)
    assert all("ResultSelector" in s for s in sagemaker_tasks), "task outputs are kept small and timestamp-free"


@pytest.mark.parametrize(("profile", "status_when_passed", "scheduled"), [
    ("sandbox", "Approved", False), ("prod", "PendingManualApproval", True)])
def test_approval_and_schedule_follow_the_profile(templates, profile: str, status_when_passed: str,
                                                  scheduled: bool) -> None:
    template = templates[profile]["TrainingPipeline"]
    (gate,) = [r for r in template["Resources"].values()
               if r["Type"] == "AWS::Lambda::Function" and "quality-gate" in json.dumps(r["Properties"])]
    env = gate["Properties"]["Environment"]["Variables"]
    assert env["AUTO_APPROVE"] == ("true" if status_when_passed == "Approved" else "false")
    rules = [r for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert bool(rules) is scheduled
    if scheduled:
        assert rules[0]["Properties"]["ScheduleExpression"] == load_config(profile).training_schedule


def test_the_validator_rejects_a_broken_definition(tmp_path: Path) -> None:
    validator = ROOT / "node_modules" / ".bin" / "asl-validator"
    if not validator.exists() or shutil.which("node") is None:
        pytest.skip("asl-validator not installed: run `npm ci` (make test does)")
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Task", "Next": "Missing"}}}))
    proc = subprocess.run([str(validator), "--json-path", str(path)], capture_output=True, text=True)
    assert proc.returncode != 0

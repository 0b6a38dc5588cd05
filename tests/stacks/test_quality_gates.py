"""The gates a template passes before anyone may deploy it: cdk-nag, cfn-lint and the pinned CDK CLI.

The session fixtures synthesize both profiles with cdk-nag (AwsSolutionsChecks) enabled; these tests read what
that synthesis recorded, prove the gate can actually fail, and lint the same templates with cfn-lint.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import lint
from cfnlint.config import ManualArgs

from stacks.nag import acknowledge

PROFILES = ("sandbox", "prod")
REPO = Path(__file__).resolve().parents[2]
MIN_REASON_CHARS = 40
# The app is environment-agnostic, so lint against regions on three continents (region-specific specs differ).
LINT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
# cfn-lint rules we deliberately ignore, with why. Only E-level findings fail the gate; keep this empty unless an
# error is a proven false positive, and say which upstream issue tracks it.
IGNORED: dict[str, str] = {}


# --- helpers --------------------------------------------------------------------------------------------------


def plugin_reports(assembly: Path) -> list[dict[str, Any]]:
    return json.loads((assembly / "validation-report.json").read_text())["pluginReports"]


def acknowledged_rules(assembly: Path) -> dict[tuple[str, str], str]:
    """(construct path, rule id) -> reason, from the `aws:cdk:acknowledged-rules` construct metadata."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    out: dict[tuple[str, str], str] = {}
    for artifact in manifest["artifacts"].values():
        entries_by_path = dict(artifact.get("metadata", {}))
        if extra := artifact.get("additionalMetadataFile"):
            entries_by_path.update(json.loads((assembly / extra).read_text()))
        for path, entries in entries_by_path.items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    out.update({(path, rule): reason for rule, reason in entry["data"].items()})
    return out


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {v['severity']} {v['ruleName']} at {[c['constructPath'] for c in v['violatingConstructs']]}: "
        f"{v['description'][:160]}"
        for v in violations
    )


def bad_bucket_app(outdir: Path) -> tuple[cdk.App, s3.Bucket]:
    """One stack, one bucket with neither server access logs nor an SSL-only policy, cdk-nag enabled."""
    app = cdk.App(outdir=str(outdir), analytics_reporting=False)
    stack = cdk.Stack(app, "Careless")
    bucket = s3.Bucket(stack, "Plain")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, bucket


def aws_solutions(report_dir: Path) -> dict[str, Any]:
    reports = {r["pluginName"]: r for r in plugin_reports(report_dir)}
    assert "AwsSolutions" in reports, sorted(reports)
    return reports["AwsSolutions"]


# --- cdk-nag ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_cdk_nag_ran_and_left_no_unacknowledged_finding(assemblies: dict[str, Path], profile: str) -> None:
    reports = plugin_reports(assemblies[profile])
    assert "AwsSolutions" in {r["pluginName"] for r in reports}, "cdk-nag did not run: the gate would be vacuous"
    for report in reports:
        # Warnings count too: an unexplained warning is a finding nobody looked at.
        assert report["violations"] == [], (
            f"{profile}: {report['pluginName']} has unacknowledged findings:\n{describe(report['violations'])}"
        )
        assert report["conclusion"] == "success", report["pluginName"]


@pytest.mark.parametrize("profile", PROFILES)
def test_every_acknowledged_finding_has_a_specific_reason(assemblies: dict[str, Path], profile: str) -> None:
    suppressed = [v for r in plugin_reports(assemblies[profile]) for v in r["suppressedViolations"]]
    acknowledged = acknowledged_rules(assemblies[profile])
    assert suppressed and acknowledged, "expected the acknowledged findings of the data foundation"
    short = [f"{v['ruleName']}: {v.get('reason')!r}" for v in suppressed
             if len((v.get("reason") or "").strip()) < MIN_REASON_CHARS]
    short += [f"{rule} at {path}: {reason!r}" for (path, rule), reason in acknowledged.items()
              if len(reason.strip()) < MIN_REASON_CHARS]
    assert short == [], f"reasons under {MIN_REASON_CHARS} characters:\n" + "\n".join(short)
    # Each suppression in the report traces back to an acknowledgement recorded on a construct.
    recorded = {rule for _, rule in acknowledged}
    assert {v["acknowledgedId"] for v in suppressed} <= recorded


def test_cdk_nag_fails_synth_for_an_unencrypted_bucket_without_tls(tmp_path: Path) -> None:
    app, _ = bad_bucket_app(tmp_path)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = aws_solutions(tmp_path)
    assert report["conclusion"] == "failure"
    rules = {v["ruleName"] for v in report["violations"]}
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules, describe(report["violations"])


def test_an_acknowledgement_silences_only_the_rule_it_names(tmp_path: Path) -> None:
    app, bucket = bad_bucket_app(tmp_path)
    reason = "Test fixture: this bucket exists only to prove an acknowledgement is scoped to one rule."
    acknowledge(bucket, "AwsSolutions-S1", reason)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = aws_solutions(tmp_path)
    assert {v["ruleName"] for v in report["violations"]} == {"AwsSolutions-S10"}
    assert [(v["ruleName"], v["reason"]) for v in report["suppressedViolations"]] == [("AwsSolutions-S1", reason)]


# --- cfn-lint ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_cfn_lint_finds_no_errors(templates: dict[str, dict[str, dict]], profile: str) -> None:
    assert templates[profile], "no stack templates were synthesized"
    for artifact, template in templates[profile].items():
        matches = lint(json.dumps(template), config=ManualArgs(regions=LINT_REGIONS))
        kept = [m for m in matches if m.rule.id not in IGNORED]
        errors = [m for m in kept if m.rule.id.startswith("E")]
        warnings = [m for m in kept if m.rule.id.startswith("W")]
        assert errors == [], (
            f"{profile}/{artifact}: cfn-lint errors:\n"
            + "\n".join(f"  {m.rule.id} {'/'.join(map(str, m.path))}: {m.message}" for m in errors)
            + "\nwarnings (informational):\n"
            + "\n".join(f"  {m.rule.id} {'/'.join(map(str, m.path))}: {m.message}" for m in warnings)
        )


# --- the pinned CDK CLI -------------------------------------------------------------------------------------------


def _offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_DISABLE_CLI_TELEMETRY="true",
        AWS_EC2_METADATA_DISABLED="true",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    return env


def _without_paths(template: dict) -> dict:
    """The template minus `aws:cdk:path` metadata, which only the CLI asks the app to emit."""
    return {lid: {k: v for k, v in r.items() if k != "Metadata"} for lid, r in template["Resources"].items()}


@pytest.mark.slow
def test_pinned_cdk_cli_synthesizes_sandbox_offline(tmp_path: Path, templates: dict[str, dict[str, dict]]) -> None:
    cli = REPO / "node_modules" / ".bin" / "cdk"
    if not cli.exists():
        pytest.skip("node_modules/.bin/cdk is missing: run `npm ci` to install the CDK CLI pinned in package.json")
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH; the CDK CLI needs it")
    out = tmp_path / "cdk.out"
    result = subprocess.run(
        [str(cli), "synth", "--quiet", "--no-notices", "-c", "profile=sandbox", "-o", str(out)],
        cwd=REPO, env=_offline_env(), capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, f"cdk synth failed:\n{result.stdout}\n{result.stderr}"
    template_file = out / "DataFoundation.template.json"
    assert template_file.exists(), sorted(p.name for p in out.iterdir())
    # The CLI runs the same app as the in-process synth the other tests inspect.
    in_process = templates["sandbox"]["DataFoundation"]
    assert _without_paths(json.loads(template_file.read_text())) == _without_paths(in_process)

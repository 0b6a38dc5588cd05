"""Shared fixtures. The CDK app is synthesized once per test session per profile (synth is slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_demo.synth import synthesize

PROFILES = ("sandbox", "prod")


@pytest.fixture(scope="session")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """profile -> cloud assembly directory, synthesized in-process with cdk-nag enabled."""
    root = tmp_path_factory.mktemp("cdk")
    return {p: synthesize(p, root / f"cdk.out-{p}") for p in PROFILES}


@pytest.fixture(scope="session")
def templates(assemblies: dict[str, Path]) -> dict[str, dict[str, dict]]:
    """profile -> stack artifact id -> CloudFormation template (parsed JSON)."""
    out: dict[str, dict[str, dict]] = {}
    for profile, directory in assemblies.items():
        manifest = json.loads((directory / "manifest.json").read_text())
        out[profile] = {
            name: json.loads((directory / art["properties"]["templateFile"]).read_text())
            for name, art in manifest["artifacts"].items()
            if art["type"] == "aws:cloudformation:stack"
        }
    return out

"""Shared fixtures: the CDK app synthesized once per profile, and one small world preprocessed and trained once
(jobs and serving tests use the same model; both are slow to build, so session-scoped)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from jobkit import DAYS, FAST_TRAIN, START, N, Trained, preprocess_args, run, train_model, write_inputs

from fraud_core.simulator import TransactionBatch, simulate
from mlops_demo.synth import synthesize
from sagemaker_jobs import preprocess

PROFILES = ("sandbox", "prod")

# `make test` runs two xdist workers that take whole files (--dist loadfile) in the order of their first test,
# the next file going to whichever worker is free. The longest go first, so that no worker is left running one of
# them alone at the end (measure with `pytest --durations=30`).
LONGEST_FIRST = (
    "tests/serving/test_stream_scoring.py::test_100k", "tests/mlops_demo/test_demo.py::test_demo_streams",
    "tests/local_aws/test_training_pipeline.py", "tests/serving/test_deploy_workflow.py",
    "tests/stacks/test_quality_gates.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
                    len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the rest keeps its order


@pytest.fixture(scope="session")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """profile -> cloud assembly directory, synthesized in-process with cdk-nag enabled."""
    return {p: built_once(tmp_path_factory, f"cdk.out-{p}", lambda out, p=p: synthesize(p, out)) for p in PROFILES}


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


@pytest.fixture(scope="session")
def batch() -> TransactionBatch:
    return simulate(N, seed=7, scenario="poison", start=START, days=DAYS)


@pytest.fixture(scope="session")
def preprocessed(tmp_path_factory: pytest.TempPathFactory, batch: TransactionBatch) -> Path:
    def build(root: Path) -> None:
        result = run(preprocess, preprocess_args(), SM_PROCESSING_ROOT=write_inputs(root, batch))
        assert result.rc == 0, result.stderr

    return built_once(tmp_path_factory, "preprocess", build)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, preprocessed: Path) -> Trained:
    def build(root: Path) -> None:
        (root / "stdout.txt").write_text(train_model(root, preprocessed, FAST_TRAIN).stdout)

    root = built_once(tmp_path_factory, "train", build)
    return Trained(root / "model", root / "output", (root / "stdout.txt").read_text())


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """A read-only input built once per test run: the xdist workers of `make test` share it (the first builds it
    under a lock, the others wait and reuse it) instead of each synthesizing or training its own."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    target, done = shared / name, shared / f"{name}.built"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)  # a worker that failed half-way
            target.mkdir()
            build(target)
            done.touch()
    return target

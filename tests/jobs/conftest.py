"""Shared inputs for the job tests: one small simulated archive, preprocessed and trained once."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobkit import DAYS, FAST_TRAIN, START, N, Trained, preprocess_args, run, train_model, write_inputs

from fraud_core.simulator import TransactionBatch, simulate
from sagemaker_jobs import preprocess


@pytest.fixture(scope="session")
def batch() -> TransactionBatch:
    return simulate(N, seed=7, scenario="poison", start=START, days=DAYS)


@pytest.fixture(scope="session")
def preprocessed(tmp_path_factory: pytest.TempPathFactory, batch: TransactionBatch) -> Path:
    root = write_inputs(tmp_path_factory.mktemp("preprocess"), batch)
    result = run(preprocess, preprocess_args(), SM_PROCESSING_ROOT=root)
    assert result.rc == 0, result.stderr
    return root


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, preprocessed: Path) -> Trained:
    return train_model(tmp_path_factory.mktemp("train"), preprocessed, FAST_TRAIN)


@pytest.fixture(scope="session")
def weak_model(tmp_path_factory: pytest.TempPathFactory, preprocessed: Path) -> Trained:
    """A deliberately poor model (two stumps): the champion a better candidate must beat."""
    args = ["--max-iter", "2", "--max-leaf-nodes", "2", "--learning-rate", "0.05", "--class-weight", "none"]
    return train_model(tmp_path_factory.mktemp("weak"), preprocessed, args)

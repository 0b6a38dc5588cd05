"""Job-test inputs beyond the shared ones in tests/conftest.py (batch, preprocessed, trained)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobkit import Trained, train_model


@pytest.fixture(scope="session")
def weak_model(tmp_path_factory: pytest.TempPathFactory, preprocessed: Path) -> Trained:
    """A deliberately poor model (two stumps): the champion a better candidate must beat."""
    args = ["--max-iter", "2", "--max-leaf-nodes", "2", "--learning-rate", "0.05", "--class-weight", "none"]
    return train_model(tmp_path_factory.mktemp("weak"), preprocessed, args)

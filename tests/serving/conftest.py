"""A deployed sandbox local AWS with models to register and deploy (trained once per session, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.local_serving import Serving
from local_aws.cloudformation.deploy import deploy_assembly
from local_aws.runtime import local_aws


@pytest.fixture()
def serving(assemblies: dict[str, Path], templates: dict, trained, tmp_path: Path) -> Iterator[Serving]:
    with local_aws(workdir=tmp_path / "aws") as aws:
        stacks = {s.artifact_id: s for s in deploy_assembly(aws, assemblies["sandbox"])}
        yield Serving(aws, stacks, templates["sandbox"]["TrainingPipeline"], tmp_path, trained.model_dir)

"""job_entry: the processing-job launcher that unpacks the bundled source and runs one job."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from jobkit import Trained, evaluation_root, run

import fraud_core
import sagemaker_jobs
from sagemaker_jobs import job_entry


def _bundle(dest: Path) -> Path:
    """sourcedir.tar.gz as the stack bundles it: fraud_core/ and sagemaker_jobs/ at the root."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz") as tar:
        for package in (fraud_core, sagemaker_jobs):
            src = Path(next(iter(package.__path__)))  # __file__ is None if installed as a namespace package
            for path in sorted(src.rglob("*.py")):
                tar.add(path, arcname=str(Path(src.name) / path.relative_to(src)))
    return dest


def test_runs_the_bundled_job_in_a_fresh_process(tmp_path: Path, preprocessed: Path, trained: Trained) -> None:
    root = evaluation_root(tmp_path / "proc", preprocessed / "output" / "test", trained.model_dir)
    _bundle(root / "input" / "code" / "5e1f0c2a9b.gz")  # a CDK file asset arrives under its hash
    entry_dir = tmp_path / "entry"  # on AWS the job's code input is this one file
    entry_dir.mkdir()
    shutil.copy(job_entry.__file__, entry_dir / "job_entry.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "PYTHONPATH"))}
    env["SM_PROCESSING_ROOT"] = str(root)
    proc = subprocess.run([sys.executable, "job_entry.py", "evaluate", "--cost-false-negative", "150"],
                          cwd=entry_dir, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    ran_from = proc.stdout.splitlines()[0]
    assert ran_from.startswith("job_entry: running sagemaker_jobs.evaluate from ")
    assert str(Path(job_entry.__file__).parent) not in ran_from  # the extracted copy, not the repo
    evaluation = json.loads((root / "output" / "evaluation" / "evaluation.json").read_text())
    assert evaluation["costs"]["false_negative"] == 150.0


@pytest.mark.parametrize("argv", [[], ["train"], ["deploy", "--x"]])
def test_only_processing_jobs_can_be_started(tmp_path: Path, argv: list[str]) -> None:
    result = run(job_entry, argv, SM_PROCESSING_ROOT=tmp_path, SM_OUTPUT_DIR=tmp_path / "sm")
    assert result.rc == 1
    assert "job name: must be one of preprocess, evaluate" in result.stderr
    assert (tmp_path / "sm" / "failure").read_text().strip() == result.stderr.strip()


def test_missing_source_bundle_is_named(tmp_path: Path) -> None:
    result = run(job_entry, ["preprocess"], SM_PROCESSING_ROOT=tmp_path)
    assert result.rc == 1
    assert f"code: expected exactly one gzipped tar job source bundle (*.gz) in {tmp_path}/input/code, found 0" \
        in result.stderr


def test_a_bundle_with_unsafe_paths_is_refused(tmp_path: Path) -> None:
    code = tmp_path / "input" / "code"
    code.mkdir(parents=True)
    with tarfile.open(code / "sourcedir.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("../escape.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"\n"))
    result = run(job_entry, ["preprocess"], SM_PROCESSING_ROOT=tmp_path)
    assert result.rc == 1 and "unsafe member '../escape.py'" in result.stderr
    assert not (tmp_path / "escape.py").exists()

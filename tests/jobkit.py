"""Helpers for the job tests: build archive-like inputs, run a job in-process, stage evaluate inputs.

30k transactions over 28 days (~300 frauds, ~60 per validation/test split) is the smallest world
where the model has something to learn; the 'poison' scenario adds ~1% malformed records that
preprocess must drop and count.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from fraud_core.model_artifact import pack_model_tar
from fraud_core.simulator import TransactionBatch
from sagemaker_jobs import train

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 28
N = 30_000
MATURITY_DAYS = 30
# All labels final by then (legit confirmations take 30 days); the window is exactly the batch.
AS_OF = START + timedelta(days=DAYS + MATURITY_DAYS)
FAST_TRAIN = ["--max-iter", "120"]
# Extra lines in a plain (uncompressed) archive file: blank lines are skipped, not counted; the two
# garbage lines are malformed on field '<record>'.
GARBAGE_LINES = [b"", b"   ", b"\x00\xff\xfe not json", b'{"transaction_id": "x", "amount": ']


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


@dataclass
class JobResult:
    rc: int
    stdout: str
    stderr: str


def run(module: ModuleType, argv: Sequence[str], **env: str | Path) -> JobResult:
    """Run a job's main() in-process with exactly the given SM_* variables set."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("SM_")]:
            mp.delenv(key)
        for key, value in env.items():
            mp.setenv(key, str(value))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = module.main(list(argv))
    return JobResult(rc, out.getvalue(), err.getvalue())


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


def write_inputs(root: Path, batch: TransactionBatch, *, labels: list[dict] | None = None,
                 extra_lines: Sequence[bytes] = GARBAGE_LINES) -> Path:
    """An archive-like tree: nested gzip parts (one without a .gz suffix), one plain file with the
    extra lines and a duplicate record, labels split over .jsonl.gz and .jsonl files."""
    raw = root / "input" / "raw" / "transactions"
    lines = batch.encoded()
    parts = [lines[i::3] for i in range(3)]  # interleaved: the job must not rely on file order
    for i, part in enumerate(parts):
        directory = raw / "2026" / "01" / f"{i:02d}"
        directory.mkdir(parents=True)
        name = f"fraud-stream-1-2026-01-{i:02d}-{i:08x}" + (".gz" if i else "")
        (directory / name).write_bytes(gzip.compress(b"\n".join(part) + b"\n"))
    (raw / "late.json").write_bytes(b"\n".join([*extra_lines, lines[0]]) + b"\n")  # lines[0] again: duplicate
    label_dir = root / "input" / "labels"
    label_dir.mkdir(parents=True)
    rows = [json.dumps(r) for r in (batch.labels() if labels is None else labels)]
    half = len(rows) // 2
    (label_dir / "labels-1.jsonl.gz").write_bytes(gzip.compress("\n".join(rows[:half]).encode()))
    (label_dir / "labels-2.jsonl").write_text("\n".join(rows[half:]) + "\n")
    return root


def preprocess_args(as_of: datetime = AS_OF, *extra: str) -> list[str]:
    return ["--as-of", iso(as_of), "--window-days", str(DAYS), "--label-maturity-days", str(MATURITY_DAYS), *extra]


def train_env(pre_root: Path, out: Path) -> dict[str, Path]:
    splits = pre_root / "output"
    return {"SM_CHANNEL_TRAIN": splits / "train", "SM_CHANNEL_VALIDATION": splits / "validation",
            "SM_CHANNEL_BASELINE": splits / "baseline", "SM_MODEL_DIR": out / "model",
            "SM_OUTPUT_DATA_DIR": out / "output" / "data", "SM_OUTPUT_DIR": out / "output"}


def evaluation_root(root: Path, test_dir: Path, model_dir: Path, champion_dir: Path | None = None) -> Path:
    """A processing tree for evaluate: input/test, input/model/model.tar.gz, optional champion."""
    shutil.copytree(test_dir, root / "input" / "test")
    for role, directory in (("model", model_dir), ("champion", champion_dir)):
        if directory is not None:
            (root / "input" / role).mkdir(parents=True)
            (root / "input" / role / "model.tar.gz").write_bytes(pack_model_tar(directory))
    return root


@dataclass
class Trained:
    model_dir: Path
    output_dir: Path
    stdout: str


def train_model(tmp: Path, pre_root: Path, args: list[str]) -> Trained:
    result = run(train, args, **train_env(pre_root, tmp))
    assert result.rc == 0, result.stderr
    return Trained(tmp / "model", tmp / "output", result.stdout)

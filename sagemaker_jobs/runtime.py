"""What every job shares: the SageMaker failure protocol, staged outputs and strict arguments.

Failure protocol: a job that cannot do its work prints one line to stderr, writes the same line
to ``$SM_OUTPUT_DIR/failure`` (SageMaker's failure-reason file, shown as FailureReason by
Describe*; processing jobs also get ``message``, which SageMaker shows as ExitMessage) and exits 1.

Staged outputs: files are written into a hidden temp dir inside the destination and moved into
place only after the whole job succeeded, so a failed job leaves no partial artifact behind
for the next pipeline step to pick up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tarfile
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

FAILURE_FILE = "failure"
EXIT_MESSAGE_FILE = "message"
_MAX_REASON_BYTES = 1024  # SageMaker keeps the first 1 KB of FailureReason / ExitMessage


class JobError(Exception):
    """Bad input or an impossible request: the message is the one-line failure reason."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises JobError instead of printing usage and exiting 2."""

    def error(self, message: str) -> NoReturn:
        raise JobError(f"arguments: {message}")


def env_path(name: str, default: str) -> Path:
    return Path(os.environ.get(name) or default)


def _write_failure(message: str, processing: bool) -> None:
    # SageMaker sets SM_OUTPUT_DIR for training containers only; processing containers read /opt/ml/output.
    out = os.environ.get("SM_OUTPUT_DIR") or ("/opt/ml/output" if Path("/opt/ml").is_dir() else "")
    if not out:
        return
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    text = message.encode()[:_MAX_REASON_BYTES].decode(errors="ignore") + "\n"
    names = (FAILURE_FILE, EXIT_MESSAGE_FILE) if processing else (FAILURE_FILE,)
    for name in names:
        (directory / name).write_text(text)


def run_job(job: str, body: Callable[[], None], *, processing: bool) -> int:
    """Run ``body``; 0 on success, 1 (after the failure protocol) on any error."""
    try:
        body()
        return 0
    except JobError as exc:
        message = f"{job} failed: {exc}"
    except Exception as exc:  # a bug, not bad input: keep the traceback for the logs
        traceback.print_exc()
        message = f"{job} failed: internal error: {type(exc).__name__}: {exc}"
    message = " ".join(message.split())  # one line, whatever the exception text held
    print(message, file=sys.stderr)
    _write_failure(message, processing)
    return 1


@contextmanager
def staged(dest_root: Path) -> Iterator[Path]:
    """Yield a temp dir inside ``dest_root``; on success move its files to the same relative paths
    under ``dest_root``, on error delete it (and ``dest_root`` too if this created it empty)."""
    created = not dest_root.exists()
    dest_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".staging-", dir=dest_root))
    try:
        yield tmp
        # Same filesystem as the destination, so each move is an atomic rename.
        for src in sorted(p for p in tmp.rglob("*") if p.is_file()):
            dst = dest_root / src.relative_to(tmp)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if created and not any(dest_root.iterdir()):
            dest_root.rmdir()


def parse_time(value: str, name: str) -> datetime:
    """ISO-8601 -> aware UTC datetime; 'Z' and offsets accepted, a naive time is taken as UTC."""
    try:
        text = value.strip()
        # Python 3.10 (the SageMaker image) does not parse a trailing 'Z'; 3.11 does.
        when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError as exc:
        raise JobError(f"{name}: must be an ISO-8601 time such as 2026-03-01T00:00:00Z (got {value!r})") from exc
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def iso_ms(epoch_ms: float) -> str:
    """Epoch milliseconds -> '2026-01-01T00:02:02.225Z'."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def model_baseline(directory: Path, name: str) -> dict[str, Any]:
    """baseline.json from a model's model.tar.gz (written there at training), or as a file of its own."""
    archive, plain = directory / "model.tar.gz", directory / "baseline.json"
    try:
        if archive.is_file():
            with tarfile.open(archive, "r:gz") as tar:
                member = next((m for m in tar.getmembers() if m.name.lstrip("./") == "baseline.json"), None)
                if member is None:
                    raise JobError(f"{name}/model.tar.gz: has no baseline.json (a model trained before baselines "
                                   "were shipped with it?)")
                return dict(json.loads(tar.extractfile(member).read()))  # type: ignore[union-attr]
        return dict(json.loads(plain.read_text()))
    except (OSError, ValueError, tarfile.TarError) as err:
        raise JobError(f"{name}: neither model.tar.gz nor baseline.json can be read ({err})") from None

"""Entry point of the processing jobs on AWS: ``python3 job_entry.py <job-name> [args...]``.

A processing job's container runs one file, so this file is uploaded as the job's code and the
job source (``sagemaker_jobs`` + ``fraud_core``, a ``sourcedir.tar.gz``) is the one ``*.gz``
input at ``$SM_PROCESSING_ROOT/input/code/`` (a CDK file asset keeps its hash as object name).
It extracts that into a temp dir, puts it first on ``sys.path`` and runs
``sagemaker_jobs.<job-name>.main(args)``. Standard library only: it must start before the
project code exists on the machine.
"""

from __future__ import annotations

import importlib
import os
import sys
import tarfile
import tempfile
from pathlib import Path

JOBS = ("preprocess", "evaluate", "drift", "model_quality")


class EntryError(Exception):
    pass


def _fail(message: str) -> int:
    # Same protocol as sagemaker_jobs.runtime (which cannot be imported before extraction).
    line = " ".join(f"job_entry failed: {message}".split())
    print(line, file=sys.stderr)
    out = os.environ.get("SM_OUTPUT_DIR")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        for name in ("failure", "message"):
            (Path(out) / name).write_text(line[:1024] + "\n")
    return 1


def _extract(tar_path: Path, dest: Path) -> None:
    try:
        with tarfile.open(tar_path, mode="r:*") as tar:
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()) or member.name.startswith("/") \
                        or ".." in Path(member.name).parts:
                    raise EntryError(f"{tar_path.name}: unsafe member {member.name!r}")
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, filter="data")
            else:
                tar.extractall(dest)  # every member was checked above
    except (tarfile.TarError, OSError) as exc:
        raise EntryError(f"cannot extract {tar_path}: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] not in JOBS:
        got = repr(args[0]) if args else "nothing"
        return _fail(f"job name: must be one of {', '.join(JOBS)} (got {got});"
                     " usage: job_entry.py <job-name> [args...]")
    job, job_args = args[0], args[1:]
    root = Path(os.environ.get("SM_PROCESSING_ROOT") or "/opt/ml/processing")
    code_dir = root / "input" / "code"
    # The bundle arrives under its S3 object name: sourcedir.tar.gz, or <hash>.gz for a CDK file asset.
    bundles = sorted(code_dir.glob("*.gz")) if code_dir.is_dir() else []
    if len(bundles) != 1:
        return _fail(f"code: expected exactly one gzipped tar job source bundle (*.gz) in {code_dir},"
                     f" found {len(bundles)} (the job source bundle must be a processing input there)")
    tar_path = bundles[0]
    with tempfile.TemporaryDirectory(prefix="job-source-") as src:
        try:
            _extract(tar_path, Path(src))
        except EntryError as exc:
            return _fail(str(exc))
        sys.path.insert(0, src)
        try:
            try:
                module = importlib.import_module(f"sagemaker_jobs.{job}")
            except ImportError as exc:
                return _fail(f"code: {tar_path.name} has no importable sagemaker_jobs.{job} ({exc})")
            print(f"job_entry: running sagemaker_jobs.{job} from {module.__file__}")  # which code ran
            return int(module.main(job_args))
        finally:
            sys.path.remove(src)


if __name__ == "__main__":
    sys.exit(main())

"""A trained model in a started container, for the serving benchmarks: the job code path, then the endpoint's layout.

Training runs the real `preprocess` and `train` job entry points in-process over a small simulated archive, with
the pipeline's hyperparameters (the defaults: early stopping on validation PR-AUC), so the model has as many trees
as a pipeline run would give it on that data. The container is set up as the endpoint host does it: the model
artifact's files in the model directory, including the `code/` folder the train job packs into model.tar.gz (its
`inference.py` entry point and the packages it imports), `SAGEMAKER_PROGRAM=inference.py` and
`PYTHONPATH=/opt/ml/model/code`, network isolation on.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fraud_core.simulator import simulate
from local_aws.sagemaker.container import ContainerSpec, FrameworkContainer
from sagemaker_jobs import preprocess, train

# 30,000 transactions over 28 days (~300 frauds): the smallest world in which the model has something to learn.
N = 30_000
DAYS = 28
MATURITY_DAYS = 30
SEED = 7
START = datetime(2026, 1, 1, tzinfo=UTC)
AS_OF = START + timedelta(days=DAYS + MATURITY_DAYS)  # every label is final by then
ENDPOINT_ENV = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                "PYTHONPATH": "/opt/ml/model/code"}


@dataclass(frozen=True)
class TrainedModel:
    model_dir: Path  # the artifact files (what model.tar.gz holds)
    n: int
    seed: int
    best_iteration: int


@contextlib.contextmanager
def _job_environment(**env: str | Path) -> Iterator[None]:
    """Exactly the given SM_* variables for one in-process job run, restored afterwards; job output kept quiet."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("SM_")}
    for key in saved:
        del os.environ[key]
    os.environ.update({k: str(v) for k, v in env.items()})
    try:
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()) as err:
            yield
    except BaseException:
        print(out.getvalue(), err.getvalue())
        raise
    finally:
        for key in [k for k in os.environ if k.startswith("SM_")]:
            del os.environ[key]
        os.environ.update(saved)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def train_small_model(workdir: Path, n: int = N, seed: int = SEED) -> TrainedModel:
    """Simulate an archive with its labels, run preprocess and train as the pipeline does; the model directory."""
    batch = simulate(n, seed=seed, start=START, days=DAYS)
    root = workdir / "processing"
    raw = root / "input" / "raw" / "transactions"
    raw.mkdir(parents=True)
    (raw / "part-0000.gz").write_bytes(gzip.compress(b"\n".join(batch.encoded()) + b"\n"))
    labels = root / "input" / "labels"
    labels.mkdir(parents=True)
    (labels / "labels.jsonl").write_text("\n".join(json.dumps(r) for r in batch.labels()) + "\n")
    args = ["--as-of", _iso(AS_OF), "--window-days", str(DAYS), "--label-maturity-days", str(MATURITY_DAYS)]
    with _job_environment(SM_PROCESSING_ROOT=root):
        if preprocess.main(args) != 0:
            raise RuntimeError("preprocess failed")
    splits, out = root / "output", workdir / "training"
    with _job_environment(SM_CHANNEL_TRAIN=splits / "train", SM_CHANNEL_VALIDATION=splits / "validation",
                          SM_CHANNEL_BASELINE=splits / "baseline", SM_MODEL_DIR=out / "model",
                          SM_OUTPUT_DATA_DIR=out / "output" / "data", SM_OUTPUT_DIR=out / "output"):
        if train.main([]) != 0:  # the pipeline's hyperparameters: the job's defaults
            raise RuntimeError("train failed")
    meta: dict[str, Any] = json.loads((out / "model" / "model_meta.json").read_text())
    return TrainedModel(out / "model", n, seed, int(meta.get("best_iteration") or 0))


def endpoint_model_dir(model: TrainedModel, dest: Path) -> Path:
    """/opt/ml/model as the endpoint sees it: the artifact's files, code/ (the train job's serving code) included."""
    if not (model.model_dir / "code" / "inference.py").is_file():
        raise FileNotFoundError(f"{model.model_dir}: no code/inference.py; the train job packs the serving code")
    shutil.copytree(model.model_dir, dest, dirs_exist_ok=True)
    return dest


def start_container(model_dir: Path, workdir: Path) -> FrameworkContainer:
    """A started container over an endpoint model directory (see `endpoint_model_dir`)."""
    container = FrameworkContainer(ContainerSpec(model_dir, dict(ENDPOINT_ENV), network_isolation=True), workdir)
    container.start()
    return container


def main(argv: list[str]) -> int:
    """`python -m benchmarks.serving_model MODEL_DIR WORKDIR [--nodelay]`: serve one container over HTTP.

    Prints the base URL on the first line of stdout and serves until stdin closes. The load test runs the server
    in a process of its own, as a container is, so the load generator's threads do not share its interpreter.

    `--nodelay` sets TCP_NODELAY on accepted connections (this process only). `serve_container` writes the status
    line and headers in one send and the body in a second; without TCP_NODELAY, Nagle's algorithm holds the body
    back until the client acknowledges the headers, and the client delays that acknowledgement (up to 40 ms on
    Linux). nginx in the real container sets TCP_NODELAY on keep-alive connections, so the capacity is measured
    with it; the benchmark reports the local host both ways.
    """
    import socketserver

    from local_aws.sagemaker.container_http import serve_container

    if "--nodelay" in argv:
        argv = [a for a in argv if a != "--nodelay"]
        socketserver.StreamRequestHandler.disable_nagle_algorithm = True
    model_dir, workdir = (Path(a) for a in argv)
    print(serve_container(start_container(model_dir, workdir)), flush=True)
    sys.stdin.read()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

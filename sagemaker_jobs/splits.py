"""The split file format shared by preprocess (writer), train and evaluate (readers).

One gzip CSV per split: ``transaction_id, event_time_ms, label`` then ``FEATURE_NAMES``. Features
are computed once, in preprocess, by ``fraud_core.features``; readers check the header against
the code's ``FEATURE_NAMES`` so a split written by other feature code is refused, not misread.
Floats are written with Python's shortest exact repr, so reading back gives identical values.
"""

from __future__ import annotations

import csv
import gzip
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from fraud_core.features import FEATURE_NAMES
from sagemaker_jobs.runtime import JobError

DATA_FILE: Final = "data.csv.gz"
HEADER: Final = ("transaction_id", "event_time_ms", "label", *FEATURE_NAMES)


@dataclass(frozen=True)
class Split:
    event_ms: np.ndarray  # int64 epoch ms
    label: np.ndarray  # int8 0/1
    features: np.ndarray  # float64, FEATURE_NAMES columns

    def __len__(self) -> int:
        return len(self.label)

    @property
    def positives(self) -> int:
        return int(self.label.sum())


def write_split(path: Path, ids: Sequence[str], event_ms: np.ndarray, label: np.ndarray,
                features: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = zip(ids, event_ms.astype(np.int64).tolist(), label.astype(np.int64).tolist(), *features.T.tolist(),
               strict=True)
    # Level 1: these are intermediate files; level 6 doubled the write time for ~25% smaller files.
    with gzip.open(path, "wt", compresslevel=1, newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name.endswith((".csv", ".csv.gz")))


def _read_one(path: Path, channel: str) -> np.ndarray:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", newline="") as f:
            header = next(csv.reader([f.readline()]), [])
            if tuple(header) != HEADER:
                missing = [c for c in HEADER if c not in header]
                extra = [c for c in header if c not in HEADER]
                raise JobError(f"{channel}: {path.name} has columns that do not match this code's features"
                               f" (missing {missing}, unexpected {extra}); re-run preprocess with this code")
            with warnings.catch_warnings():  # a header-only file is reported below, not warned about
                warnings.simplefilter("ignore", UserWarning)
                data = np.loadtxt(f, delimiter=",", quotechar='"', usecols=range(1, len(HEADER)),
                                  dtype=np.float64, ndmin=2)
    except (OSError, EOFError, ValueError) as exc:
        raise JobError(f"{channel}: cannot read {path.name}: {exc}") from exc
    return data


def read_split(directory: Path, channel: str) -> Split:
    """All split files under ``directory`` (a SageMaker channel may hold several), concatenated."""
    if not directory.is_dir():
        raise JobError(f"{channel}: directory {directory} does not exist")
    files = _files(directory)
    if not files:
        raise JobError(f"{channel}: no .csv or .csv.gz files under {directory}")
    data = np.concatenate([_read_one(p, channel) for p in files])
    if len(data) == 0:
        raise JobError(f"{channel}: no rows in {', '.join(p.name for p in files)}")
    label = data[:, 1]
    if not np.isin(label, (0, 1)).all():
        raise JobError(f"{channel}: label must be 0 or 1")
    return Split(event_ms=data[:, 0].astype(np.int64), label=label.astype(np.int8), features=data[:, 2:])


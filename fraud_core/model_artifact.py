"""The model artifact: what ``model.tar.gz`` holds and the one way to load and score with it.

Layout (files at the tar root, where SageMaker extracts them into /opt/ml/model):

- ``model.joblib``: the fitted scikit-learn estimator;
- ``model_meta.json``: feature names, categorical features, operating threshold, score calibration,
  hyperparameters, validation metrics, training window, library versions;
- ``baseline.json``: drift baseline of the training window (``fraud_core.baseline``).

Loading checks the recorded feature names against ``fraud_core.features``: a model trained on
different features must fail loudly rather than score garbage (training/serving skew).
joblib files are pickles: load them only from the project's own model bucket.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import platform
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import joblib
import numpy as np
import sklearn

from fraud_core.features import CATEGORICAL_FEATURES, FEATURE_NAMES, build_features

MODEL_FILE: Final = "model.joblib"
META_FILE: Final = "model_meta.json"
BASELINE_FILE: Final = "baseline.json"
ARTIFACT_FILES: Final = (MODEL_FILE, META_FILE, BASELINE_FILE)
FORMAT_VERSION: Final = 1


def _json_dump(path: Path, doc: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n")


def save_model_dir(model_dir: str | Path, model: Any, meta: Mapping[str, Any], baseline: Mapping[str, Any]) -> Path:
    """Write the three artifact files into ``model_dir`` (created if needed).

    ``meta`` must hold ``threshold``; feature names, categorical features and library versions
    are added here so no caller can forget them. An optional ``logit_offset`` is the score
    calibration applied at prediction time (see ``LoadedModel.predict_proba_features``).
    """
    threshold = meta.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise ValueError(f"meta.threshold: must be a finite number (got {threshold!r})")
    directory = Path(model_dir)
    directory.mkdir(parents=True, exist_ok=True)
    full_meta = {
        **meta,
        "format_version": FORMAT_VERSION,
        "feature_names": list(FEATURE_NAMES),
        "categorical_features": list(CATEGORICAL_FEATURES),
        "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__, "python": platform.python_version()},
    }
    joblib.dump(model, directory / MODEL_FILE)
    _json_dump(directory / META_FILE, full_meta)
    _json_dump(directory / BASELINE_FILE, baseline)
    return directory


def _stable_sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow warnings for large |z|


@dataclass(frozen=True)
class LoadedModel:
    model: Any
    meta: dict[str, Any]
    baseline: dict[str, Any]

    @property
    def threshold(self) -> float:
        return float(self.meta["threshold"])

    @property
    def logit_offset(self) -> float:
        return float(self.meta.get("logit_offset", 0.0))

    def predict_proba_features(self, features: np.ndarray) -> np.ndarray:
        """Fraud probability per row of a ``build_features`` matrix.

        Training with class weights inflates the odds by w_fraud / w_legit; the stored
        ``logit_offset`` (-log of that ratio) shifts them back, so scores are probabilities again
        and the threshold keeps its meaning. Ranking (PR-AUC) is unchanged by the shift.
        """
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(FEATURE_NAMES):
            raise ValueError(f"features: must have {len(FEATURE_NAMES)} columns in FEATURE_NAMES order"
                             f" (got shape {x.shape})")
        if x.shape[0] == 0:
            return np.empty(0)
        return _stable_sigmoid(self.model.decision_function(x) + self.logit_offset)

    def predict_proba(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Fraud probability per wire-format transaction record."""
        return self.predict_proba_features(build_features(records))


def load_model_dir(model_dir: str | Path) -> LoadedModel:
    directory = Path(model_dir)
    missing = [name for name in ARTIFACT_FILES if not (directory / name).is_file()]
    if missing:
        raise ValueError(f"model_dir: {directory} is missing {', '.join(missing)}"
                         f" (a model directory holds {', '.join(ARTIFACT_FILES)})")
    meta = json.loads((directory / META_FILE).read_text())
    if meta.get("feature_names") != list(FEATURE_NAMES):
        raise ValueError(f"model_meta.json: the model was trained on features {meta.get('feature_names')}, but this"
                         f" code builds {list(FEATURE_NAMES)}; retrain, or score with the code it was trained with")
    if "threshold" not in meta:
        raise ValueError("model_meta.json: threshold is required")
    baseline = json.loads((directory / BASELINE_FILE).read_text())
    return LoadedModel(model=joblib.load(directory / MODEL_FILE), meta=meta, baseline=baseline)


def pack_model_tar(model_dir: str | Path) -> bytes:
    """model.tar.gz bytes with the artifact files at the root; deterministic for the same files."""
    directory = Path(model_dir)
    missing = [name for name in ARTIFACT_FILES if not (directory / name).is_file()]
    if missing:
        raise ValueError(f"model_dir: {directory} is missing {', '.join(missing)}")
    buf = io.BytesIO()
    # gzip header mtime pinned to 0 so identical files give identical bytes (and ETags).
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in ARTIFACT_FILES:
            data = (directory / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def unpack_model_tar(tar_path: str | Path, dest: str | Path) -> Path:
    """Extract a model.tar.gz into ``dest``; only regular files and directories at safe relative paths."""
    target = Path(dest)
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(tar_path, mode="r:*") as tar:
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()) or member.name.startswith("/") \
                        or ".." in Path(member.name).parts:
                    raise ValueError(f"model tar: {tar_path} has an unsafe member {member.name!r}"
                                     " (only plain files at relative paths are allowed)")
            # The 'data' filter re-checks the same on Pythons that have it (3.11.4+, 3.10.12+).
            if hasattr(tarfile, "data_filter"):
                tar.extractall(target, filter="data")
            else:
                tar.extractall(target)  # every member was checked above
    except (tarfile.TarError, OSError) as exc:
        raise ValueError(f"model tar: cannot extract {tar_path}: {exc}") from exc
    return target

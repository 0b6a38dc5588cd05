"""model.tar.gz: save, pack, unpack, load and score, with skew and tampering refused."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from fraud_core.features import CATEGORICAL_INDICES, build_features
from fraud_core.model_artifact import (
    ARTIFACT_FILES,
    load_model_dir,
    pack_model_tar,
    save_model_dir,
    unpack_model_tar,
)
from fraud_core.simulator import simulate


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    batch = simulate(8_000, seed=9)
    model = HistGradientBoostingClassifier(max_iter=20, categorical_features=list(CATEGORICAL_INDICES),
                                           random_state=0)
    model.fit(build_features(batch.records()), batch.is_fraud)
    meta = {"threshold": 0.2, "logit_offset": -1.0, "best_iteration": 20}
    return save_model_dir(tmp_path_factory.mktemp("model"), model, meta, {"version": 1})


def test_tar_has_the_files_at_its_root_and_round_trips(tmp_path: Path, model_dir: Path) -> None:
    data = pack_model_tar(model_dir)
    assert data == pack_model_tar(model_dir)  # deterministic bytes for identical files
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert sorted(tar.getnames()) == sorted(ARTIFACT_FILES)
    (tmp_path / "model.tar.gz").write_bytes(data)
    loaded = load_model_dir(unpack_model_tar(tmp_path / "model.tar.gz", tmp_path / "out"))
    assert loaded.threshold == 0.2 and loaded.meta["best_iteration"] == 20
    assert loaded.meta["feature_names"][0] == "amount" and "sklearn" in loaded.meta["versions"]


def test_scores_are_probabilities_shifted_by_the_logit_offset(model_dir: Path) -> None:
    loaded = load_model_dir(model_dir)
    records = simulate(500, seed=10).records()
    p = loaded.predict_proba(records)
    assert p.shape == (500,) and np.all((p >= 0) & (p <= 1))
    raw = loaded.model.predict_proba(build_features(records))[:, 1]
    odds = raw / (1 - raw) * np.exp(-1.0)  # logit_offset -1: odds divided by e
    np.testing.assert_allclose(p, odds / (1 + odds), rtol=1e-9)


def test_a_model_trained_on_other_features_is_refused(tmp_path: Path, model_dir: Path) -> None:
    for name in ARTIFACT_FILES:
        (tmp_path / name).write_bytes((model_dir / name).read_bytes())
    meta = json.loads((tmp_path / "model_meta.json").read_text())
    meta["feature_names"] = meta["feature_names"][:-1]
    (tmp_path / "model_meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="the model was trained on features"):
        load_model_dir(tmp_path)


def test_missing_files_threshold_and_unsafe_tars_are_errors(tmp_path: Path, model_dir: Path) -> None:
    with pytest.raises(ValueError, match="is missing model.joblib, model_meta.json, baseline.json"):
        load_model_dir(tmp_path)
    with pytest.raises(ValueError, match="meta.threshold: must be a finite number"):
        save_model_dir(tmp_path / "m", object(), {}, {})
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(ValueError, match="unsafe member '../outside.txt'"):
        unpack_model_tar(evil, tmp_path / "x")
    assert not (tmp_path / "outside.txt").exists()

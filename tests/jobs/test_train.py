"""train: script-mode training with class weights, PR-AUC early stopping and a cost-based threshold."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from jobkit import FAST_TRAIN, Trained, files_under, run, train_env

from fraud_core import metrics
from fraud_core.model_artifact import ARTIFACT_FILES, load_model_dir
from sagemaker_jobs import train
from sagemaker_jobs.splits import DATA_FILE, read_split, write_split


def test_model_dir_holds_model_threshold_and_baseline(trained: Trained, preprocessed: Path) -> None:
    top_level = [p.name for p in files_under(trained.model_dir) if p.parent == trained.model_dir]
    assert sorted(top_level) == sorted(ARTIFACT_FILES)
    model = load_model_dir(trained.model_dir)
    meta = model.meta
    assert 0 < model.threshold < 1
    assert 1 <= meta["best_iteration"] <= meta["iterations_evaluated"] <= 120
    assert meta["class_weights"]["fraud"] > 10 * meta["class_weights"]["legit"]  # ~1% fraud, balanced
    assert meta["train"]["end"] < meta["validation"]["start"]
    # The threshold minimises expected cost on validation, with the model's own calibrated scores.
    val = read_split(preprocessed / "output" / "validation", "validation")
    p_val = model.predict_proba_features(val.features)
    best, _ = metrics.cost_optimal_threshold(val.label, p_val, 150.0, 5.0)
    assert model.threshold == pytest.approx(best)
    assert meta["validation_metrics"]["pr_auc"] == pytest.approx(metrics.pr_auc(val.label, p_val))
    prediction = model.baseline["prediction"]
    assert prediction["count"] == meta["train"]["rows"] and sum(prediction["proportions"]) == pytest.approx(1.0)


def test_metrics_are_printed_for_sagemaker_metric_definitions(trained: Trained) -> None:
    final = re.findall(r"validation:pr_auc=([0-9.]+);", trained.stdout)
    meta = json.loads((trained.model_dir / "model_meta.json").read_text())
    assert len(final) >= 2  # the learning curve, then the final value last
    assert float(final[-1]) == pytest.approx(meta["validation_metrics"]["pr_auc"], abs=1e-4)
    assert re.search(r"^validation:threshold=0\.\d+;$", trained.stdout, re.M)
    report = json.loads((trained.output_dir / "data" / "training_report.json").read_text())
    curve = {p["iteration"]: p["validation_pr_auc"] for p in report["learning_curve"]}
    assert curve[meta["best_iteration"]] == max(curve.values())
    # The refit at the best count is the same model the curve measured (same data, seed, trees).
    assert curve[meta["best_iteration"]] == pytest.approx(meta["validation_metrics"]["pr_auc"], abs=1e-9)


def test_early_stopping_keeps_the_best_iteration_and_respects_patience() -> None:
    curve = [(10, 0.5), (20, 0.7), (30, 0.69), (40, 0.68), (50, 0.9), (60, 0.95)]
    best, seen = train.select_iterations(iter(curve), patience=20)
    assert best == 20  # 50 comes 30 iterations after the best: training had already stopped
    assert [it for it, _ in seen] == [10, 20, 30, 40]
    assert train.select_iterations(iter(curve), patience=30)[0] == 60


def test_class_weights_balance_the_classes() -> None:
    y = np.array([1] + [0] * 99)
    w_legit, w_fraud = train.class_weights(y, "balanced")
    assert w_fraud * 1 == pytest.approx(w_legit * 99)  # each class carries half the weight
    assert w_fraud + 99 * w_legit == pytest.approx(100)
    assert train.class_weights(y, "none") == (1.0, 1.0)


def test_underscore_hyperparameters_are_accepted(tmp_path: Path, preprocessed: Path) -> None:
    result = run(train, ["--max_iter", "20", "--class_weight", "none", "--learning_rate", "0.2"],
                 **train_env(preprocessed, tmp_path))
    assert result.rc == 0, result.stderr
    meta = json.loads((tmp_path / "model" / "model_meta.json").read_text())
    assert meta["hyperparameters"]["learning_rate"] == 0.2 and meta["logit_offset"] == 0.0


def _channel_copy(src: Path, dest: Path, *, zero_labels: bool = False) -> Path:
    split = read_split(src, dest.name)
    ids = [f"t{i}" for i in range(len(split))]
    label = np.zeros_like(split.label) if zero_labels else split.label
    write_split(dest / DATA_FILE, ids, split.event_ms, label, split.features)
    return dest


def test_validation_without_positives_fails_and_writes_no_model(tmp_path: Path, preprocessed: Path) -> None:
    env = train_env(preprocessed, tmp_path)
    env["SM_CHANNEL_VALIDATION"] = _channel_copy(preprocessed / "output" / "validation", tmp_path / "validation",
                                                 zero_labels=True)
    result = run(train, FAST_TRAIN, **env)
    assert result.rc == 1
    assert result.stderr.strip().startswith("train failed: validation: no positive labels (fraud) in")
    assert (tmp_path / "output" / "failure").read_text().strip() == result.stderr.strip()
    assert files_under(tmp_path / "model") == []


def test_empty_channel_fails_clearly(tmp_path: Path, preprocessed: Path) -> None:
    env = train_env(preprocessed, tmp_path)
    (tmp_path / "empty").mkdir()
    env["SM_CHANNEL_TRAIN"] = tmp_path / "empty"
    result = run(train, FAST_TRAIN, **env)
    assert result.rc == 1
    assert "train: no .csv or .csv.gz files under" in result.stderr


def test_a_validation_window_older_than_train_is_refused(tmp_path: Path, preprocessed: Path) -> None:
    env = train_env(preprocessed, tmp_path)
    env["SM_CHANNEL_TRAIN"], env["SM_CHANNEL_VALIDATION"] = env["SM_CHANNEL_VALIDATION"], env["SM_CHANNEL_TRAIN"]
    result = run(train, FAST_TRAIN, **env)
    assert result.rc == 1
    assert "the split must be by time to avoid leakage" in result.stderr


def test_split_files_written_by_other_feature_code_are_refused(tmp_path: Path, preprocessed: Path) -> None:
    channel = tmp_path / "train"
    shutil.copytree(preprocessed / "output" / "train", channel)
    with gzip.open(channel / DATA_FILE, "rt") as f:
        text = f.read().replace("amount_to_avg_24h", "amount_ratio", 1)
    with gzip.open(channel / DATA_FILE, "wt") as f:
        f.write(text)
    env = train_env(preprocessed, tmp_path)
    env["SM_CHANNEL_TRAIN"] = channel
    result = run(train, FAST_TRAIN, **env)
    assert result.rc == 1
    assert "missing ['amount_to_avg_24h'], unexpected ['amount_ratio']" in result.stderr


def test_unknown_hyperparameter_is_a_clear_error(tmp_path: Path, preprocessed: Path) -> None:
    result = run(train, ["--max-depth", "3"], **train_env(preprocessed, tmp_path))
    assert result.rc == 1
    assert result.stderr.strip() == "train failed: arguments: unrecognized arguments: --max-depth 3"


def test_model_dir_carries_its_serving_code_so_the_package_needs_no_other_object(trained: Trained) -> None:
    """model.tar.gz holds code/inference.py and what it imports (SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code)."""
    import subprocess
    import sys

    code = trained.model_dir / "code"
    shipped = {p.relative_to(code).as_posix() for p in files_under(code)}
    assert "inference.py" in shipped
    assert {"sagemaker_jobs/inference.py", "fraud_core/model_artifact.py", "fraud_core/schema.py"} <= shipped
    assert not [name for name in shipped if "__pycache__" in name or name.endswith(".pyc")]
    # The entry point imports from the shipped copy alone (as the serving container would), and serves the model.
    probe = ("import sys; sys.path.insert(0, sys.argv[2]); import inference, sagemaker_jobs, fraud_core; "
             "model = inference.model_fn(sys.argv[1]); "
             "print(sagemaker_jobs.__file__, fraud_core.__file__, type(model).__name__)")
    result = subprocess.run([sys.executable, "-c", probe, str(trained.model_dir), str(code)], cwd=code,
                            capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    origins = result.stdout.split()
    assert origins[0].startswith(str(code)) and origins[1].startswith(str(code)), origins
    assert origins[2] == "LoadedModel"

"""evaluate: candidate and champion on the same held-out window, in the shapes the gate and registry read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from jobkit import DAYS, START, Trained, evaluation_root, files_under, run

from fraud_core.features import FEATURE_NAMES, UNKNOWN_CATEGORY_CODE, build_features
from fraud_core.gate import decide
from fraud_core.model_artifact import load_model_dir
from fraud_core.simulator import simulate
from sagemaker_jobs import evaluate
from sagemaker_jobs.splits import DATA_FILE, write_split

CATEGORY = FEATURE_NAMES.index("merchant_category")


def _evaluate(root: Path) -> dict:
    result = run(evaluate, [], SM_PROCESSING_ROOT=root, SM_OUTPUT_DIR=root / "sm")
    assert result.rc == 0, result.stderr
    return json.loads((root / "output" / "evaluation" / "evaluation.json").read_text())


def test_candidate_alone_learns_fraud_far_above_the_base_rate(tmp_path: Path, preprocessed: Path,
                                                              trained: Trained) -> None:
    ev = _evaluate(evaluation_root(tmp_path, preprocessed / "output" / "test", trained.model_dir))
    cand = ev["candidate"]
    assert ev["champion"] is None
    assert cand["pr_auc"] > 0.4 and cand["pr_auc"] > 10 * cand["base_rate"]  # random scores ~ base rate
    assert cand["roc_auc"] > 0.9
    assert 0 < cand["threshold"] < 1 and cand["threshold"] == load_model_dir(trained.model_dir).threshold
    assert 0 < cand["precision"] <= 1 and 0 < cand["recall"] <= 1
    c = cand["confusion"]
    assert c["tp"] + c["fn"] == cand["positives"] and sum(c.values()) == cand["rows"] == ev["test_window"]["rows"]
    assert cand["expected_cost"] >= cand["cost_optimal_expected_cost"]  # tuned on validation, optimal on test
    assert len(cand["reliability"]) == 10 and sum(r["count"] for r in cand["reliability"]) == cand["rows"]
    assert cand["ece"] < 0.02  # the logit offset undoes the class-weight inflation
    quality = ev["metrics"]["binary_classification_metrics"]
    assert quality["pr_auc"] == {"value": cand["pr_auc"]} and quality["auc"] == {"value": cand["roc_auc"]}
    assert quality["precision"]["value"] == cand["precision"] and quality["recall"]["value"] == cand["recall"]


def test_better_candidate_beats_a_worse_champion_and_the_gate_agrees(tmp_path: Path, preprocessed: Path,
                                                                     trained: Trained, weak_model: Trained) -> None:
    test_dir = preprocessed / "output" / "test"
    ev = _evaluate(evaluation_root(tmp_path / "a", test_dir, trained.model_dir, champion_dir=weak_model.model_dir))
    assert ev["champion"]["rows"] == ev["candidate"]["rows"]  # same window for both
    assert ev["champion"]["threshold"] == load_model_dir(weak_model.model_dir).threshold  # its own threshold
    assert ev["candidate"]["pr_auc"] > ev["champion"]["pr_auc"] + 0.05
    assert decide(ev, floor=0.3, tolerance=0.02, auto_approve=True).status == "Approved"

    # Roles swapped: the weak model as candidate is stopped, and the reason names both numbers.
    swapped = _evaluate(evaluation_root(tmp_path / "b", test_dir, weak_model.model_dir,
                                        champion_dir=trained.model_dir))
    decision = decide(swapped, floor=0.0, tolerance=0.02, auto_approve=True)
    assert decision.status == "Rejected"
    assert f"< champion {round(swapped['champion']['pr_auc'], 4):g} - tolerance 0.02" in decision.reason


def test_unknown_and_new_merchant_categories_are_scored(tmp_path: Path, trained: Trained) -> None:
    # A later month in which 15% of traffic moved to a category training never saw, plus rows with
    # a code no category has (e.g. a newer schema): evaluation must still produce numbers.
    later = simulate(12_000, seed=11, scenario="new_merchant_category", start=START.replace(month=3), days=DAYS)
    features = build_features(later.records())
    features[:50, CATEGORY] = UNKNOWN_CATEGORY_CODE
    test_dir = tmp_path / "test"
    write_split(test_dir / DATA_FILE, later.transaction_ids(), later.event_ms, later.is_fraud, features)
    ev = _evaluate(evaluation_root(tmp_path / "eval", test_dir, trained.model_dir))
    assert np.isfinite(ev["candidate"]["pr_auc"]) and ev["candidate"]["pr_auc"] > ev["candidate"]["base_rate"]

    model = load_model_dir(trained.model_dir)
    record = {**later.records()[0], "merchant_category": "lottery"}
    assert 0 <= model.predict_proba([record])[0] <= 1


def test_test_data_without_positives_fails_with_no_outputs(tmp_path: Path, trained: Trained) -> None:
    batch = simulate(2_000, seed=5, start=START.replace(month=3), days=2)
    test_dir = tmp_path / "test"
    write_split(test_dir / DATA_FILE, batch.transaction_ids(), batch.event_ms, np.zeros(len(batch), np.int8),
                build_features(batch.records()))
    root = evaluation_root(tmp_path / "eval", test_dir, trained.model_dir)
    result = run(evaluate, [], SM_PROCESSING_ROOT=root, SM_OUTPUT_DIR=root / "sm")
    assert result.rc == 1
    message = "evaluate failed: test: no positive labels (fraud) in 2,000 rows; PR-AUC is undefined"
    assert result.stderr.strip() == message
    assert (root / "sm" / "failure").read_text().strip() == result.stderr.strip()
    assert files_under(root / "output") == []


def test_empty_test_data_fails_clearly(tmp_path: Path, trained: Trained) -> None:
    test_dir = tmp_path / "test"
    write_split(test_dir / DATA_FILE, [], np.zeros(0), np.zeros(0), np.zeros((0, len(FEATURE_NAMES))))
    root = evaluation_root(tmp_path / "eval", test_dir, trained.model_dir)
    result = run(evaluate, [], SM_PROCESSING_ROOT=root)
    assert result.rc == 1
    assert "evaluate failed: test: no rows in data.csv.gz" in result.stderr


def test_missing_model_and_test_overlapping_training_are_refused(tmp_path: Path, preprocessed: Path,
                                                                 trained: Trained) -> None:
    root = evaluation_root(tmp_path / "no-model", preprocessed / "output" / "test", trained.model_dir)
    (root / "input" / "model" / "model.tar.gz").unlink()
    result = run(evaluate, [], SM_PROCESSING_ROOT=root)
    assert result.rc == 1 and "model: " in result.stderr and "model.tar.gz does not exist" in result.stderr

    # Evaluating on the validation window the model was tuned on would flatter it.
    leaky = evaluation_root(tmp_path / "leaky", preprocessed / "output" / "validation", trained.model_dir)
    result = run(evaluate, [], SM_PROCESSING_ROOT=leaky)
    assert result.rc == 1 and "overlaps the test window" in result.stderr


@pytest.mark.parametrize("costs", [["--cost-false-negative", "0"], ["--reliability-bins", "0"]])
def test_bad_arguments_fail_before_reading_data(tmp_path: Path, costs: list[str]) -> None:
    result = run(evaluate, costs, SM_PROCESSING_ROOT=tmp_path)
    assert result.rc == 1 and result.stderr.startswith("evaluate failed: --")

"""Occlusion explanations: the feature a model was made to depend on comes first; typical rows explain nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from fraud_core.baseline import build_baseline
from fraud_core.explain import baseline_row, explain, explain_record
from fraud_core.features import CATEGORICAL_INDICES, CATEGORY_CODES, FEATURE_NAMES, build_features
from fraud_core.model_artifact import LoadedModel, load_model_dir, save_model_dir
from fraud_core.simulator import simulate

DISTANCE = FEATURE_NAMES.index("distance_from_home_km")
FAR_KM = 300.0


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return simulate(3_000, seed=11).records()


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory, records: list[dict]) -> LoadedModel:
    """A small model whose label is decided by one feature: 'fraud' is any transaction far from home."""
    x = build_features(records)
    y = (np.nan_to_num(x[:, DISTANCE]) > FAR_KM).astype(int)
    # One thread: OpenMP spin-waits badly on cores shared with other busy processes (see sagemaker_jobs.train).
    with threadpool_limits(limits=1, user_api="openmp"):
        fitted = HistGradientBoostingClassifier(max_iter=15, learning_rate=0.3, random_state=0,
                                                categorical_features=list(CATEGORICAL_INDICES)).fit(x, y)
    directory = save_model_dir(Path(tmp_path_factory.mktemp("model")), fitted, {"threshold": 0.5},
                               build_baseline(x))
    return load_model_dir(directory)


def test_the_decisive_feature_comes_first_with_its_value_and_baseline(model: LoadedModel,
                                                                      records: list[dict]) -> None:
    far = next(r for r in records if (r["distance_from_home_km"] or 0) > 2 * FAR_KM)
    explanation = explain_record(far, model, top_k=3)
    top = explanation.contributions[0]
    assert top.feature == "distance_from_home_km"
    assert top.value == far["distance_from_home_km"] and top.baseline_value < FAR_KM
    assert top.score_delta > 0.9 and explanation.flagged and explanation.baseline_score < 0.1
    assert len(explanation.contributions) == 3
    assert all(abs(c.score_delta) < top.score_delta / 10 for c in explanation.contributions[1:])
    assert explanation.reason().startswith(
        f"{far['transaction_id']}: score {explanation.score:.4g} >= threshold 0.5, driven by"
        f" distance_from_home_km={far['distance_from_home_km']:.4g}")


def test_a_transaction_at_the_baseline_has_nothing_to_explain(model: LoadedModel) -> None:
    typical = baseline_row(model.baseline)
    explanation = explain("typical", typical, model, top_k=len(FEATURE_NAMES))
    assert explanation.score == explanation.baseline_score
    assert [c.score_delta for c in explanation.contributions] == [0.0] * len(FEATURE_NAMES)
    assert [c.feature for c in explanation.contributions] == list(FEATURE_NAMES)  # ties keep FEATURE_NAMES order


def test_the_baseline_row_is_the_training_median_and_mode() -> None:
    n = 1_000
    x = np.full((n, len(FEATURE_NAMES)), 1.0)
    column = {name: j for j, name in enumerate(FEATURE_NAMES)}
    x[:, column["amount"]] = np.arange(1, n + 1)
    x[:, column["is_night"]] = np.arange(n) < 0.2 * n  # 20% night: the typical transaction is by day
    x[:, column["card_present"]] = np.arange(n) < 0.7 * n
    x[:, column["distance_from_home_km"]] = np.where(np.arange(n) < 0.6 * n, np.nan, 5.0)  # mostly null
    x[:, column["merchant_category"]] = np.where(np.arange(n) < 0.4 * n, CATEGORY_CODES["fuel"],
                                                 CATEGORY_CODES["grocery"])
    row = baseline_row(build_baseline(x))
    assert row[column["amount"]] == pytest.approx(np.median(np.arange(1, n + 1)))
    assert (row[column["is_night"]], row[column["card_present"]]) == (0.0, 1.0)
    assert np.isnan(row[column["distance_from_home_km"]])
    assert row[column["merchant_category"]] == CATEGORY_CODES["grocery"]


def test_the_explanation_is_json_with_names_and_nulls(model: LoadedModel, records: list[dict]) -> None:
    record = {**records[0], "distance_from_home_km": None, "merchant_category": "travel"}
    doc = explain_record(record, model, top_k=len(FEATURE_NAMES)).as_dict()
    json.dumps(doc, allow_nan=False)
    by_feature = {c["feature"]: c for c in doc["contributions"]}
    assert by_feature["distance_from_home_km"]["value"] is None
    assert by_feature["merchant_category"]["value"] == "travel"
    assert isinstance(by_feature["merchant_category"]["baseline_value"], str)
    assert doc["method"] == "occlusion" and doc["transaction_id"] == records[0]["transaction_id"]


def test_bad_arguments_are_named(model: LoadedModel) -> None:
    with pytest.raises(ValueError, match="features: must be one row of 12 values"):
        explain("t", np.zeros((2, len(FEATURE_NAMES))), model)
    with pytest.raises(ValueError, match="top_k: must be an integer >= 1"):
        explain("t", np.zeros(len(FEATURE_NAMES)), model, top_k=0)
    with pytest.raises(ValueError, match="baseline.feature_names"):
        baseline_row({"feature_names": ["amount"]})

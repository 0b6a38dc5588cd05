"""The drift job on data-capture files: the verdict, the features that moved, unreadable lines counted."""

from __future__ import annotations

import base64
import json
import tarfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from jobkit import files_under, run

from fraud_core.baseline import build_baseline
from fraud_core.features import build_features
from fraud_core.simulator import simulate
from sagemaker_jobs import drift

START = datetime(2026, 6, 1, tzinfo=UTC)


def _records(scenario: str, seed: int, n: int) -> list[dict]:
    return [json.loads(p) for p in simulate(n, seed=seed, scenario=scenario, start=START, days=7).encoded()]


def _capture_line(records: list[dict], scores: list[float], base64_input: bool = False) -> str:
    body = json.dumps({"instances": records})
    endpoint_input = ({"data": base64.b64encode(body.encode()).decode(), "encoding": "BASE64"} if base64_input
                      else {"data": body, "encoding": "JSON"})
    output = json.dumps({"predictions": [{"transaction_id": r["transaction_id"], "score": s}
                                         for r, s in zip(records, scores, strict=True)]})
    return json.dumps({"captureData": {
        "endpointInput": {"observedContentType": "application/json", "mode": "INPUT", **endpoint_input},
        "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT", "data": output,
                           "encoding": "JSON"}},
        "eventMetadata": {"eventId": "e", "inferenceTime": "2026-06-08T00:00:00Z"}, "eventVersion": "0"})


@pytest.fixture(scope="module")
def baseline() -> dict:
    records = _records("baseline", seed=1, n=20_000)
    return build_baseline(build_features(records), scores=np.linspace(0, 0.2, len(records)))


def _root(tmp_path: Path, baseline: dict, lines: list[str]) -> Path:
    (tmp_path / "input" / "baseline").mkdir(parents=True)
    (tmp_path / "input" / "baseline" / "baseline.json").write_text(json.dumps(baseline))
    hour = tmp_path / "input" / "capture" / "fraud" / "primary" / "2026" / "06" / "08" / "00"
    hour.mkdir(parents=True)
    (hour / "00-00-000-a.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path


def _batches(records: list[dict], size: int = 100) -> list[list[dict]]:
    return [records[i:i + size] for i in range(0, len(records), size)]


def _scores(batch: list[dict]) -> list[float]:
    """Scores spread like the baseline's (uniform on 0..0.2), so only the features can move."""
    rng = np.random.default_rng(zlib.crc32(batch[0]["transaction_id"].encode()))
    return rng.uniform(0, 0.2, len(batch)).tolist()


def _report(root: Path) -> dict:
    return json.loads((root / "output" / "report" / "drift_report.json").read_text())


def test_captured_covariate_shift_is_drift_on_the_shifted_features(tmp_path: Path, baseline: dict) -> None:
    lines = [_capture_line(b, _scores(b), base64_input=i % 2 == 1)
             for i, b in enumerate(_batches(_records("covariate_shift", seed=2, n=5_000)))]
    root = _root(tmp_path, baseline, [*lines, "{not a capture"])
    result = run(drift, [], SM_PROCESSING_ROOT=root)
    assert result.rc == 0, result.stderr
    report = _report(root)
    assert report["verdict"] == "drift" and set(report["drifted"]) == {"amount", "log_amount",
                                                                      "customer_amount_sum_24h"}
    assert (report["rows"], report["invocations"], report["unreadable_invocations"]) == (5_000, 51, 1)
    assert "drift: amount PSI" in result.stdout


def test_captured_traffic_like_training_is_stable(tmp_path: Path, baseline: dict) -> None:
    records = _records("baseline", seed=2, n=2_000)
    root = _root(tmp_path, baseline, [_capture_line(b, _scores(b)) for b in _batches(records)])
    assert run(drift, [], SM_PROCESSING_ROOT=root).rc == 0
    assert _report(root)["verdict"] == "stable"


def test_capture_of_something_else_fails_naming_the_format_and_writes_nothing(tmp_path: Path,
                                                                              baseline: dict) -> None:
    root = _root(tmp_path, baseline, [json.dumps({"hello": "world"})] * 3)
    result = run(drift, [], SM_PROCESSING_ROOT=root, SM_OUTPUT_DIR=tmp_path / "sm")
    assert result.rc == 1
    assert "none of the 3 captured invocations is in the data-capture format" in result.stderr
    assert files_under(root / "output") == []


def test_a_missing_baseline_is_named(tmp_path: Path) -> None:
    (tmp_path / "input" / "capture").mkdir(parents=True)
    result = run(drift, [], SM_PROCESSING_ROOT=tmp_path, SM_OUTPUT_DIR=tmp_path / "sm")
    assert result.rc == 1 and "input/baseline: neither model.tar.gz nor baseline.json can be read" in result.stderr


def _model_tar(directory: Path, baseline: dict) -> None:
    (directory / "baseline.json").write_text(json.dumps(baseline))
    with tarfile.open(directory / "model.tar.gz", "w:gz") as tar:
        tar.add(directory / "baseline.json", arcname="baseline.json")
    (directory / "baseline.json").unlink()


def test_units_break_in_served_traffic_is_a_data_quality_violation_read_from_the_model_archive(
        tmp_path: Path, baseline: dict) -> None:
    records = _records("units_break", seed=2, n=2_000)
    root = _root(tmp_path, baseline, [_capture_line(b, _scores(b)) for b in _batches(records)])
    _model_tar(root / "input" / "baseline", baseline)
    result = run(drift, [], SM_PROCESSING_ROOT=root)
    assert result.rc == 0, result.stderr
    quality = _report(root)["data_quality"]
    assert quality["fields"] == ["amount"] and "units: amount" in quality["violations"][0]
    assert "data quality: units: amount" in result.stdout


def test_nulls_are_data_quality_not_drift_and_thresholds_come_from_arguments(tmp_path: Path, baseline: dict) -> None:
    records = _records("nulls", seed=2, n=2_000)
    root = _root(tmp_path, baseline, [_capture_line(b, _scores(b)) for b in _batches(records)])
    assert run(drift, ["--max-null-rate-increase", "0.5"], SM_PROCESSING_ROOT=root).rc == 0
    assert _report(root)["verdict"] == "stable" and _report(root)["data_quality"]["fields"] == []
    assert run(drift, ["--min-rows", "5000"], SM_PROCESSING_ROOT=root).rc == 0
    report = _report(root)
    assert report["verdict"] == "insufficient_data" and report["thresholds"]["min_rows"] == 5000
    assert run(drift, [], SM_PROCESSING_ROOT=root).rc == 0
    assert _report(root)["data_quality"]["fields"] == ["distance_from_home_km"]


def test_a_threshold_out_of_range_is_named(tmp_path: Path, baseline: dict) -> None:
    root = _root(tmp_path, baseline, [])
    result = run(drift, ["--ks-threshold", "2"], SM_PROCESSING_ROOT=root, SM_OUTPUT_DIR=tmp_path / "sm")
    assert result.rc == 1 and "ks must be in" in result.stderr

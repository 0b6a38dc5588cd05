"""The model-quality job on decision, label and archive files: the report, and bad input named."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from jobkit import files_under, iso, run

from fraud_core.scoring import decisions_jsonl
from fraud_core.simulator import TransactionBatch, simulate
from sagemaker_jobs import model_quality

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS, MATURITY = 14, 30
AS_OF = START + timedelta(days=7 + MATURITY)  # the first week is mature, the second is not
THRESHOLD = 0.45
PROMISE = {"precision": 0.07, "recall": 0.8, "pr_auc": 0.75, "threshold": THRESHOLD}
ARGS = ["--as-of", iso(AS_OF), "--label-maturity-days", str(MATURITY)]


@pytest.fixture(scope="module")
def batch() -> TransactionBatch:
    return simulate(12_000, seed=3, start=START, days=DAYS)


def _decisions(batch: TransactionBatch) -> list[dict]:
    """Decisions as the scorer writes them, from scores that separate fraud well but not perfectly."""
    rng = np.random.default_rng(0)
    scores = np.where(batch.is_fraud == 1, rng.uniform(0.3, 1.0, len(batch)), rng.uniform(0.0, 0.5, len(batch)))
    return [{"transaction_id": r["transaction_id"], "event_time": r["event_time"], "score": round(float(s), 6),
             "decision": "review" if s >= THRESHOLD else "approve", "threshold": THRESHOLD,
             "model_version": "fraud-train-1", "variant": "primary", "scored_at": r["event_time"]}
            for r, s in zip(batch.records(), scores.tolist(), strict=True)]


def _write(path: Path, data: bytes, compress: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if compress else data)


def _root(tmp_path: Path, batch: TransactionBatch, promise: dict = PROMISE) -> Path:
    decisions = _decisions(batch)
    half = len(decisions) // 2
    _write(tmp_path / "input/decisions/decisions/date=2026-01-01/shard=shardId-000/1.jsonl",
           decisions_jsonl(decisions[:half]))
    _write(tmp_path / "input/decisions/decisions/date=2026-01-08/shard=shardId-000/2.jsonl",  # gzip, plain name
           decisions_jsonl(decisions[half:]) + b"{not json\n", compress=True)
    _write(tmp_path / "input/labels/labels.jsonl.gz", "\n".join(json.dumps(r) for r in batch.labels()).encode(),
           compress=True)
    _write(tmp_path / "input/transactions/2026/01/01/fraud-stream-1", b"\n".join(batch.encoded()) + b"\n",
           compress=True)
    _write(tmp_path / "input/evaluation/evaluation.json", json.dumps({"candidate": promise}).encode())
    return tmp_path


def _report(root: Path) -> dict:
    return json.loads((root / "output" / "report" / "quality_report.json").read_text())


def test_the_job_judges_the_mature_week_and_counts_the_rest(tmp_path: Path, batch: TransactionBatch) -> None:
    root = _root(tmp_path, batch)
    result = run(model_quality, ARGS, SM_PROCESSING_ROOT=root)
    assert result.rc == 0, result.stderr
    report = _report(root)
    mature = batch.event_ms < (AS_OF - timedelta(days=MATURITY)).timestamp() * 1000
    assert report["verdict"] == "stable", report["reason"]
    assert report["counts"]["joined"] == int(mature.sum()) and report["counts"]["immature_excluded"] == int(
        (~mature).sum())
    assert report["overall"]["frauds"] == int(batch.is_fraud[mature].sum()) >= 30
    assert report["counts"]["without_transaction"] == 0 and report["counts"]["without_label"] == 0
    assert report["inputs"]["decisions"]["malformed_dropped"] == 1  # the '{not json' line, counted
    assert report["inputs"]["transactions"]["valid"] == len(batch)
    assert {s["value"] for s in report["slices"]["card_present"]} == {"false", "true"}
    assert sum(s["rows"] for s in report["slices"]["amount_band"]) == report["overall"]["rows"]
    assert result.stdout.startswith("model_quality: stable: precision 0.080 (promised 0.070), recall 0.877")


def test_a_verdict_of_regression_is_a_result_not_a_failure(tmp_path: Path, batch: TransactionBatch) -> None:
    root = _root(tmp_path, batch, promise={**PROMISE, "recall": 0.99})
    result = run(model_quality, [*ARGS, "--tolerance", "0.02"], SM_PROCESSING_ROOT=root)
    assert result.rc == 0, result.stderr
    report = _report(root)
    assert report["verdict"] == "regressed" and report["regressed_metrics"] == ["recall"]
    assert report["reason"].startswith("regressed: recall 0.") and "- tolerance 0.02" in report["reason"]


def _fails(root: Path, argv: list[str] = ARGS) -> str:
    result = run(model_quality, argv, SM_PROCESSING_ROOT=root, SM_OUTPUT_DIR=root / "sm")
    assert result.rc == 1
    assert files_under(root / "output") == []
    assert (root / "sm" / "failure").read_text().strip() == result.stderr.strip().splitlines()[-1]
    return result.stderr


def test_a_missing_or_empty_evaluation_is_named(tmp_path: Path, batch: TransactionBatch) -> None:
    root = _root(tmp_path, batch)
    (root / "input/evaluation/evaluation.json").unlink()
    assert "input/evaluation/evaluation.json: cannot be read as the evaluate job's evaluation" in _fails(root)
    (root / "input/evaluation/evaluation.json").write_text(json.dumps({"candidate": {"roc_auc": 0.9}}))
    assert "has none of precision, recall, pr_auc" in _fails(root)


def test_a_missing_input_directory_is_named(tmp_path: Path, batch: TransactionBatch) -> None:
    root = _root(tmp_path, batch)
    (root / "input/labels/labels.jsonl.gz").rename(root / "labels.jsonl.gz")
    (root / "input/labels").rmdir()
    assert "input/labels: no such directory" in _fails(root)


def test_labels_where_decisions_belong_are_refused_naming_the_input(tmp_path: Path, batch: TransactionBatch) -> None:
    root = _root(tmp_path, batch)
    for path in files_under(root / "input/decisions"):
        path.unlink()
    _write(root / "input/decisions/oops.jsonl.gz", (root / "input/labels/labels.jsonl.gz").read_bytes())
    stderr = _fails(root)
    assert "input/decisions: 12,000 of 12,000 records (100%) are not decisions records" in stderr
    assert "most common: 'score: must be a finite number'" in stderr


def test_decisions_where_transactions_belong_are_refused_naming_the_input(tmp_path: Path,
                                                                          batch: TransactionBatch) -> None:
    root = _root(tmp_path, batch)
    for path in files_under(root / "input/transactions"):
        path.unlink()
    _write(root / "input/transactions/x.jsonl", decisions_jsonl(_decisions(batch)[:50]))
    assert "Is input/transactions pointing at the right data?" in _fails(root)


def test_bad_arguments_are_named(tmp_path: Path, batch: TransactionBatch) -> None:
    root = _root(tmp_path, batch)
    assert "--as-of: must be an ISO-8601 time" in _fails(root, ["--as-of", "yesterday"])
    assert "--tolerance: must be between 0 and 1" in _fails(root, [*ARGS, "--tolerance", "5"])

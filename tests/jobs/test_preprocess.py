"""preprocess: archive + delayed labels -> time-split feature files, baseline and an honest report."""

from __future__ import annotations

import csv
import gzip
import json
import tarfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from jobkit import AS_OF, DAYS, START, N, files_under, iso, preprocess_args, run, write_inputs

from fraud_core.features import FEATURE_NAMES
from fraud_core.simulator import TransactionBatch, simulate
from sagemaker_jobs import preprocess
from sagemaker_jobs.splits import HEADER, read_split


def _report(root: Path) -> dict:
    return json.loads((root / "output" / "report" / "preprocess_report.json").read_text())


def test_outputs_are_time_split_feature_files_with_no_leakage(preprocessed: Path) -> None:
    out = preprocessed / "output"
    splits = {name: read_split(out / name, name) for name in ("train", "validation", "test")}
    tr, va, te = splits["train"], splits["validation"], splits["test"]
    assert tr.event_ms.max() < va.event_ms.min() <= va.event_ms.max() < te.event_ms.min()
    with gzip.open(out / "train" / "data.csv.gz", "rt") as f:
        assert tuple(next(csv.reader(f))) == HEADER == ("transaction_id", "event_time_ms", "label", *FEATURE_NAMES)
    # Roughly 60/20/20 by rows, every split with fraud in it, nothing left behind by staging.
    total = sum(len(s) for s in splits.values())
    assert len(tr) / total == pytest.approx(0.6, abs=0.01)
    assert all(s.positives > 0 for s in splits.values())
    assert not [p for p in out.rglob(".staging-*")]

    report = _report(preprocessed)
    assert report["transactions"]["used"] == total
    for name, s in splits.items():
        assert report["splits"][name]["rows"] == len(s)
        assert report["splits"][name]["positives"] == s.positives


def test_poison_lines_are_dropped_and_counted_by_field(preprocessed: Path, batch: TransactionBatch) -> None:
    tx = _report(preprocessed)["transactions"]
    expected = Counter(batch.expected_rejections().values())  # field the validator names, per poisoned row
    expected["<record>"] += 2  # the two garbage lines of the plain file (blank lines are not records)
    assert tx["malformed_dropped"] == sum(expected.values())
    assert tx["malformed_by_field"] == dict(expected)
    assert tx["duplicates_dropped"] == 1
    assert tx["valid"] == len(batch) - len(batch.poison_rows)
    assert tx["files"] == 4  # three gzip parts (one without a .gz name) and one plain file


def test_baseline_describes_the_train_split(preprocessed: Path) -> None:
    baseline = json.loads((preprocessed / "output" / "baseline" / "baseline.json").read_text())
    train = read_split(preprocessed / "output" / "train", "train")
    assert baseline["version"] == 1 and baseline["rows"] == len(train)
    amount = baseline["numeric"]["amount"]
    assert sum(amount["proportions"]) == pytest.approx(1.0)
    assert amount["mean"] == pytest.approx(train.features[:, FEATURE_NAMES.index("amount")].mean())
    freq = baseline["categorical"]["merchant_category"]["frequencies"]
    assert sum(freq.values()) == pytest.approx(1.0) and "crypto_exchange" not in freq


def test_immature_labels_are_excluded_and_reported(tmp_path: Path, batch: TransactionBatch) -> None:
    # As of 7 days earlier, the last 7 days of the batch are inside the 30-day maturity period.
    as_of = AS_OF - timedelta(days=7)
    root = write_inputs(tmp_path, batch)
    result = run(preprocess, preprocess_args(as_of), SM_PROCESSING_ROOT=root)
    assert result.rc == 0, result.stderr
    cutoff_ms = (as_of - timedelta(days=30)).timestamp() * 1000
    valid = np.setdiff1d(np.arange(len(batch)), batch.poison_rows)
    report = _report(root)
    assert report["transactions"]["after_maturity_cutoff"] == int((batch.event_ms[valid] >= cutoff_ms).sum())
    assert report["window"]["end"] == "2026-01-22T00:00:00.000Z"  # as_of - 30 days
    assert "label-maturity cutoff" in report["notes"][0] and "were excluded" in report["notes"][0]
    test = read_split(root / "output" / "test", "test")
    assert test.event_ms.max() < cutoff_ms


def test_without_a_maturity_margin_the_fraud_only_sample_is_refused(tmp_path: Path, batch: TransactionBatch) -> None:
    # With no maturity margin, recent transactions have only their early chargebacks: that sample
    # is all fraud, and the job refuses it instead of training on it.
    root = write_inputs(tmp_path, batch)
    result = run(preprocess, ["--as-of", iso(START + timedelta(days=DAYS + 5)), "--window-days", "10",
                              "--label-maturity-days", "0"], SM_PROCESSING_ROOT=root, SM_OUTPUT_DIR=tmp_path / "sm")
    assert result.rc == 1
    assert "no negative labels" in result.stderr and "--label-maturity-days" in result.stderr
    assert files_under(root / "output") == []


def test_no_positive_labels_fails_with_the_reason_and_no_outputs(tmp_path: Path, batch: TransactionBatch) -> None:
    labels = [{**r, "is_fraud": 0} for r in batch.labels()]
    root = write_inputs(tmp_path / "proc", batch, labels=labels)
    sm_out = tmp_path / "sm"
    result = run(preprocess, preprocess_args(), SM_PROCESSING_ROOT=root, SM_OUTPUT_DIR=sm_out)
    assert result.rc == 1
    message = result.stderr.strip()
    assert message.startswith("preprocess failed: no positive labels: the train split")
    assert "\n" not in message
    assert (sm_out / "failure").read_text().strip() == message
    assert (sm_out / "message").read_text().strip() == message  # processing jobs: ExitMessage
    assert files_under(root / "output") == []


def test_empty_window_fails_clearly(tmp_path: Path, batch: TransactionBatch) -> None:
    root = write_inputs(tmp_path, batch)
    as_of = AS_OF + timedelta(days=365)
    result = run(preprocess, preprocess_args(as_of), SM_PROCESSING_ROOT=root, SM_OUTPUT_DIR=tmp_path / "sm")
    assert result.rc == 1
    start, end = iso(as_of - timedelta(days=30 + DAYS)), iso(as_of - timedelta(days=30))
    assert f"empty window: no transactions between {start[:19]}" in result.stderr
    assert end[:19] in result.stderr
    assert files_under(root / "output") == []


def test_a_window_with_amounts_in_cents_is_refused_with_the_reason_and_writes_nothing(tmp_path: Path) -> None:
    broken = simulate(N // 3, seed=7, scenario="units_break", start=START, days=DAYS)
    root = write_inputs(tmp_path, broken)
    result = run(preprocess, preprocess_args(), SM_PROCESSING_ROOT=root, SM_OUTPUT_DIR=tmp_path / "sm")
    assert result.rc == 1
    assert "data quality: the window is refused" in result.stderr
    assert "units: amount:" in result.stderr and "cents instead of dollars" in result.stderr
    assert files_under(root / "output") == []


@pytest.mark.parametrize(("scenario", "named"), [("nulls", "nulls: distance_from_home_km"),
                                                 ("new_merchant_category", "unseen_categories: merchant_category")])
def test_a_window_that_fails_the_checks_against_the_champions_baseline_is_refused(
        tmp_path: Path, preprocessed: Path, scenario: str, named: str) -> None:
    """The champion (trained on baseline traffic) ships its baseline in model.tar.gz; nulls or new categories in
    the new window beyond the profile's limits refuse it, as they page on served traffic."""
    broken = simulate(N // 3, seed=7, scenario=scenario, start=START, days=DAYS)
    root = write_inputs(tmp_path, broken)
    (root / "input" / "champion").mkdir(parents=True)
    with tarfile.open(root / "input" / "champion" / "model.tar.gz", "w:gz") as tar:
        tar.add(preprocessed / "output" / "baseline" / "baseline.json", arcname="baseline.json")
    result = run(preprocess, preprocess_args(), SM_PROCESSING_ROOT=root, SM_OUTPUT_DIR=tmp_path / "sm")
    assert result.rc == 1 and "data quality: the window is refused" in result.stderr
    assert named in result.stderr and "the champion's" in result.stderr
    assert files_under(root / "output") == []


def test_unrelated_json_is_a_schema_mismatch_naming_the_field(tmp_path: Path) -> None:
    raw = tmp_path / "input" / "raw"
    raw.mkdir(parents=True)
    (raw / "events.json").write_text("\n".join(json.dumps({"user": i, "page": "/home"}) for i in range(100)))
    result = run(preprocess, preprocess_args(), SM_PROCESSING_ROOT=tmp_path)
    assert result.rc == 1
    assert "schema mismatch: 100 of 100 raw lines (100%) failed validation" in result.stderr
    assert "'transaction_id: is required'" in result.stderr


def test_bad_arguments_are_one_clear_line(tmp_path: Path) -> None:
    result = run(preprocess, ["--as-of", "yesterday"], SM_PROCESSING_ROOT=tmp_path)
    assert result.rc == 1
    assert result.stderr.strip() == ("preprocess failed: --as-of: must be an ISO-8601 time such as"
                                     " 2026-03-01T00:00:00Z (got 'yesterday')")
    result = run(preprocess, ["--validation-fraction", "0.5", "--test-fraction", "0.5"], SM_PROCESSING_ROOT=tmp_path)
    assert "--validation-fraction + --test-fraction: must be < 1" in result.stderr



def test_records_concatenated_on_one_line_are_recovered_and_garbage_between_them_counted() -> None:
    good = [{"transaction_id": f"t{i}"} for i in range(4)]
    line = "".join(json.dumps(r) for r in good[:2]) + "#garbage#" + json.dumps(good[2]) + " " + json.dumps(good[3])
    values, bad = preprocess._split_values(line)
    assert values == good and bad == 1
    assert preprocess._split_values(b"\xff\xfe not utf-8") == ([], 1)
    assert preprocess._split_values('{"a": 1} {"b": ') == ([{"a": 1}], 1)


def test_a_line_of_concatenated_records_counts_each_record(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "part").write_text('{"x": 1}{"y": 2}{"z": 3}\nnot json\n')
    intake = preprocess._Intake()
    values = list(preprocess._decoded(raw, intake))
    assert values == [{"x": 1}, {"y": 2}, {"z": 3}]
    assert (intake.lines, intake.malformed, intake.concatenated_lines) == (4, 1, 1)

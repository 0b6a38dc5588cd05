"""Processing job: join the raw archive with delayed labels, split by time, featurize, baseline.

Inputs under ``$SM_PROCESSING_ROOT`` (default /opt/ml/processing):

- ``input/raw/``: the Firehose archive, any nesting of gzip or plain files of newline-delimited
  JSON transactions. Malformed lines are dropped and counted by field, never fatal, unless more
  than ``--max-malformed-fraction`` of them fail (then the input is not transactions at all);
- ``input/labels/``: newline-delimited JSON labels (transaction_id, event_time, is_fraud,
  label_available_time), gzip or plain.

The training window ends at the label-maturity cutoff, ``as_of - label_maturity_days``, and spans
``window_days`` before it. Why the cutoff: chargebacks arrive days after the transaction, so in
the most recent days the frauds already have labels and the legit ones do not yet; keeping those
rows would train and test on a fraud-enriched, biased sample. Within the window, a transaction
whose label is not available by ``as_of`` is excluded (and counted). Labels available after
``as_of`` are ignored, so a re-run with the same ``--as-of`` sees the same data.

A window that fails a data-quality check (``fraud_core.data_quality``: amounts in the wrong units) is
refused: the job fails naming the field, the rule and what it observed, and writes nothing.

The window is split by event time, oldest to newest: train, validation, test (no shared
timestamps, so no leakage from the future). Outputs under ``output/``: ``train/``, ``validation/``
and ``test/`` (``data.csv.gz``, see ``sagemaker_jobs.splits``), ``baseline/baseline.json`` (drift
baseline of the train split) and ``report/preprocess_report.json`` (every count behind the split).
"""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the bundle root (fraud_core's parent) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from fraud_core.baseline import build_baseline  # noqa: E402
from fraud_core.config import load_config  # noqa: E402
from fraud_core.data_quality import ServingLimits, window_violations  # noqa: E402
from fraud_core.features import build_features, epoch_ms  # noqa: E402
from fraud_core.schema import RECORD_FIELD, RECORD_RULE, validation_errors  # noqa: E402
from sagemaker_jobs.runtime import (  # noqa: E402
    ArgumentParser,
    JobError,
    env_path,
    iso_ms,
    model_baseline,
    parse_time,
    run_job,
    staged,
)
from sagemaker_jobs.splits import DATA_FILE, write_split  # noqa: E402

SPLITS = ("train", "validation", "test")
DAY_MS = 86_400_000
_TOP_ERRORS = 20


def _args(argv: list[str] | None) -> Any:
    defaults = load_config()  # sandbox profile; the pipeline passes every value explicitly
    p = ArgumentParser(prog="preprocess", description=__doc__.splitlines()[0])
    p.add_argument("--as-of", "--as_of", default=None,
                   help="ISO-8601 time the pipeline runs 'as of' (default: now); labels after it are ignored")
    p.add_argument("--window-days", "--window_days", type=float, default=defaults.training_window_days)
    p.add_argument("--label-maturity-days", "--label_maturity_days", type=float,
                   default=defaults.label_maturity_days)
    p.add_argument("--validation-fraction", "--validation_fraction", type=float, default=0.2)
    p.add_argument("--test-fraction", "--test_fraction", type=float, default=0.2)
    p.add_argument("--max-malformed-fraction", "--max_malformed_fraction", type=float, default=0.5)
    limits = ServingLimits()
    p.add_argument("--max-null-rate-increase", type=float, default=limits.max_null_rate_increase,
                   help="against the champion's baseline (input/champion/, when there is a champion)")
    p.add_argument("--max-unseen-share", type=float, default=limits.max_unseen_share,
                   help="against the champion's baseline (input/champion/, when there is a champion)")
    args = p.parse_args(argv)
    if not args.window_days > 0:
        raise JobError(f"--window-days: must be > 0 (got {args.window_days:g})")
    if not args.label_maturity_days >= 0:
        raise JobError(f"--label-maturity-days: must be >= 0 (got {args.label_maturity_days:g})")
    for name in ("validation_fraction", "test_fraction"):
        if not 0 < getattr(args, name) < 1:
            raise JobError(f"--{name.replace('_', '-')}: must be between 0 and 1 (got {getattr(args, name):g})")
    if args.validation_fraction + args.test_fraction >= 1:
        raise JobError("--validation-fraction + --test-fraction: must be < 1 so the train split is not empty")
    if not 0 < args.max_malformed_fraction <= 1:
        raise JobError(f"--max-malformed-fraction: must be in (0, 1] (got {args.max_malformed_fraction:g})")
    args.as_of = datetime.now(timezone.utc) if args.as_of is None else parse_time(args.as_of, "--as-of")
    return args


@dataclass
class _Intake:
    """Counts for one input (transactions or labels): what was read, kept and dropped, and why."""

    files: int = 0
    lines: int = 0
    malformed: int = 0
    by_field: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    unreadable_files: list[str] = field(default_factory=list)
    concatenated_lines: int = 0  # lines holding several records (a producer omitted the newline)

    def reject(self, problems: list[tuple[str, str]]) -> None:
        self.malformed += 1
        self.by_field.update({f for f, _ in problems})
        self.by_rule.update(f"{f}: {r}" for f, r in problems)

    def check_schema(self, what: str, max_fraction: float) -> None:
        if self.lines and self.malformed / self.lines > max_fraction:
            rule, count = self.by_rule.most_common(1)[0]
            raise JobError(f"schema mismatch: {self.malformed:,} of {self.lines:,} {what} lines"
                           f" ({self.malformed / self.lines:.0%}) failed validation; most common: '{rule}'"
                           f" ({count:,} lines). Is input/{what} pointing at the right data?")

    def summary(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "records_read": self.lines,
            "lines_with_concatenated_records": self.concatenated_lines,
            "malformed_dropped": self.malformed,
            "malformed_by_field": dict(self.by_field.most_common()),
            "top_errors": dict(self.by_rule.most_common(_TOP_ERRORS)),
            "unreadable_files": self.unreadable_files,
        }


def _lines(directory: Path, intake: _Intake) -> list[str | bytes]:
    """Non-empty lines of every file under ``directory`` (gzip detected by magic bytes, since
    Firehose names depend on its configuration). An unreadable file is reported, not fatal."""
    out: list[str | bytes] = []
    if not directory.is_dir():
        return out
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith(".")):
        intake.files += 1
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error):
                intake.unreadable_files.append(str(path.relative_to(directory)))
                continue
        try:  # decoding the file once is much faster than json.loads sniffing each line's encoding
            lines: list[str] | list[bytes] = data.decode("utf-8").split("\n")
        except UnicodeDecodeError:  # keep bytes: only the undecodable lines will fail, one by one
            lines = data.split(b"\n")
        out.extend(line for line in (raw.strip() for raw in lines) if line)
    intake.lines += len(out)
    return out


_DECODER = json.JSONDecoder()


def _split_values(line: str | bytes) -> tuple[list[Any], int]:
    """The JSON values in one line that is not a single JSON value, and how many fragments are unusable.

    Firehose concatenates records as they arrive, so a producer that forgets the newline leaves several
    records on one line: each is recovered, and every fragment that is not JSON counts as one malformed
    record (never fewer than the records that could not be used).
    """
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
    except UnicodeDecodeError:
        return [], 1
    values: list[Any] = []
    bad, pos = 0, 0
    while pos < len(text):
        try:
            value, pos = _DECODER.raw_decode(text, pos)
            values.append(value)
        except (ValueError, RecursionError):
            bad += 1
            pos = text.find("{", pos + 1)
            if pos < 0:
                break
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return values, bad


def _decoded(directory: Path, intake: _Intake) -> Iterator[Any]:
    """The JSON value of every record; a record that is not JSON is rejected as malformed."""
    for line in _lines(directory, intake):
        try:
            yield json.loads(line)
            continue
        except (ValueError, RecursionError):
            values, bad = _split_values(line)
        if len(values) + bad > 1:
            intake.concatenated_lines += 1
            intake.lines += len(values) + bad - 1  # count records, not lines
        for _ in range(bad):
            intake.reject([(RECORD_FIELD, RECORD_RULE)])
        yield from values


def _read_transactions(directory: Path) -> tuple[list[dict[str, Any]], _Intake, int]:
    intake = _Intake()
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    duplicates = 0
    for rec in _decoded(directory, intake):
        errors = validation_errors(rec)
        if errors:
            intake.reject([(e.field, e.rule) for e in errors])
        elif rec["transaction_id"] in seen:
            duplicates += 1  # Kinesis and Firehose deliver at least once: keep the first copy
        else:
            seen.add(rec["transaction_id"])
            records.append(rec)
    return records, intake, duplicates


def _read_labels(directory: Path, as_of_ms: float) -> tuple[dict[str, int], _Intake, int]:
    """transaction_id -> is_fraud for labels available by as_of (the latest one wins)."""
    intake = _Intake()
    ids: list[str] = []
    values: list[int] = []
    available: list[Any] = []
    for rec in _decoded(directory, intake):
        if not isinstance(rec, dict):
            intake.reject([(RECORD_FIELD, RECORD_RULE)])
            continue
        problems = []
        tid, y = rec.get("transaction_id"), rec.get("is_fraud")
        if not isinstance(tid, str) or not tid:
            problems.append(("transaction_id", "must be a non-empty string"))
        if y not in (0, 1):  # also accepts true/false
            problems.append(("is_fraud", "must be 0 or 1"))
        if not isinstance(rec.get("label_available_time"), str):
            problems.append(("label_available_time", "must be an ISO-8601 UTC timestamp"))
        if problems:
            intake.reject(problems)
            continue
        ids.append(tid)
        values.append(int(y))
        available.append(rec["label_available_time"])
    avail_ms = epoch_ms(available) if available else np.empty(0)
    bad_time = np.isnan(avail_ms)
    for _ in range(int(bad_time.sum())):
        intake.reject([("label_available_time", "must be an ISO-8601 UTC timestamp")])
    usable = ~bad_time & (avail_ms <= as_of_ms)
    not_yet = int((~bad_time & (avail_ms > as_of_ms)).sum())
    labels: dict[str, int] = {}
    for i in np.flatnonzero(usable)[np.argsort(avail_ms[usable], kind="stable")].tolist():
        labels[ids[i]] = values[i]  # ascending availability: a later label overrides an earlier one
    return labels, intake, not_yet


def _split_masks(t: np.ndarray, val_fraction: float, test_fraction: float) -> dict[str, np.ndarray]:
    """Boolean masks over time-sorted ``t``: cut points are timestamps, so equal times never straddle."""
    n = len(t)
    n_test = max(1, round(n * test_fraction))
    n_val = max(1, round(n * val_fraction))
    if n - n_val - n_test < 1:
        raise JobError(f"split: {n} labelled transactions are too few for train, validation and test splits")
    val_start, test_start = t[n - n_val - n_test], t[n - n_test]
    masks = {"train": t < val_start, "validation": (t >= val_start) & (t < test_start), "test": t >= test_start}
    for name, mask in masks.items():
        if not mask.any():
            raise JobError(f"split: the {name} split is empty ({n} labelled transactions share too few distinct times)")
    if not t[masks["train"]].max() < t[masks["validation"]].min() <= t[masks["validation"]].max() \
            < t[masks["test"]].min():
        raise JobError("split: internal error, the time splits overlap")
    return masks


def _run(argv: list[str] | None) -> None:
    args = _args(argv)
    root = env_path("SM_PROCESSING_ROOT", "/opt/ml/processing")
    as_of_ms = args.as_of.timestamp() * 1000
    cutoff_ms = as_of_ms - args.label_maturity_days * DAY_MS
    start_ms = cutoff_ms - args.window_days * DAY_MS

    records, tx_intake, duplicates = _read_transactions(root / "input" / "raw")
    tx_intake.check_schema("raw", args.max_malformed_fraction)
    labels, label_intake, labels_not_yet = _read_labels(root / "input" / "labels", as_of_ms)
    label_intake.check_schema("labels", args.max_malformed_fraction)

    t_all = epoch_ms([r["event_time"] for r in records]) if records else np.empty(0)
    in_window = (t_all >= start_ms) & (t_all < cutoff_ms)
    if not in_window.any():
        raise JobError(f"empty window: no transactions between {iso_ms(start_ms)} and {iso_ms(cutoff_ms)}"
                       f" ({len(records):,} valid transactions read, {tx_intake.malformed:,} malformed;"
                       f" window = {args.window_days:g} days ending at as_of {iso_ms(as_of_ms)}"
                       f" - {args.label_maturity_days:g} days of label maturity)")
    window_idx = np.flatnonzero(in_window)
    y_window = [labels.get(records[i]["transaction_id"]) for i in window_idx.tolist()]
    labelled = np.array([y is not None for y in y_window])
    if not labelled.any():
        raise JobError(f"no labels: none of the {len(window_idx):,} transactions between {iso_ms(start_ms)} and"
                       f" {iso_ms(cutoff_ms)} has a label available by {iso_ms(as_of_ms)}"
                       f" ({len(labels):,} usable labels read)")
    idx = window_idx[labelled]
    order = np.argsort(t_all[idx], kind="stable")
    idx = idx[order]
    t = t_all[idx].astype(np.int64)
    y = np.array([y for y in y_window if y is not None], dtype=np.int8)[order]
    masks = _split_masks(t, args.validation_fraction, args.test_fraction)

    split_report = {}
    for name, mask in masks.items():
        rows, positives = int(mask.sum()), int(y[mask].sum())
        split_report[name] = {"rows": rows, "positives": positives, "base_rate": positives / rows,
                              "start": iso_ms(t[mask].min()), "end": iso_ms(t[mask].max())}
    for name in SPLITS:
        s = split_report[name]
        where = f"the {name} split ({s['rows']:,} rows, {s['start']} .. {s['end']})"
        if s["positives"] == 0:
            raise JobError(f"no positive labels: {where} has no fraud (is_fraud=1) labels, so PR-AUC and a threshold"
                           " cannot be computed; widen --window-days or check input/labels")
        if s["positives"] == s["rows"]:
            # The signature of immature labels: chargebacks arrive before legit confirmations.
            raise JobError(f"no negative labels: {where} has only fraud labels; legit labels of recent transactions"
                           " may not have arrived yet, raise --label-maturity-days")

    window_records = [records[i] for i in idx.tolist()]
    features = build_features(window_records)
    champion_dir = root / "input" / "champion"
    champion = model_baseline(champion_dir, "input/champion") if champion_dir.is_dir() else None
    violations = window_violations(features, champion, ServingLimits(args.max_null_rate_increase,
                                                                      args.max_unseen_share))
    if violations:
        raise JobError("data quality: the window is refused, no model is trained on it: "
                       + "; ".join(v.message() for v in violations))
    ids = [r["transaction_id"] for r in window_records]
    after_cutoff = int((t_all >= cutoff_ms).sum())
    unlabeled = int((~labelled).sum())
    report = {
        "as_of": iso_ms(as_of_ms),
        "window": {"start": iso_ms(start_ms), "end": iso_ms(cutoff_ms), "window_days": args.window_days,
                   "label_maturity_days": args.label_maturity_days},
        "transactions": {**tx_intake.summary(), "valid": len(records), "duplicates_dropped": duplicates,
                         "before_window": int((t_all < start_ms).sum()), "after_maturity_cutoff": after_cutoff,
                         "in_window": len(window_idx), "unlabeled_in_window": unlabeled, "used": len(idx)},
        "labels": {**label_intake.summary(), "usable": len(labels), "not_yet_available": labels_not_yet},
        "splits": split_report,
        "notes": [
            f"{after_cutoff:,} transactions after the label-maturity cutoff {iso_ms(cutoff_ms)} were excluded:"
            f" their chargebacks may still arrive (label_maturity_days={args.label_maturity_days:g}).",
            f"{unlabeled:,} transactions in the window had no label available by {iso_ms(as_of_ms)} and were"
            " excluded from training and evaluation.",
            f"{tx_intake.malformed:,} malformed raw lines and {duplicates:,} duplicate transactions were dropped.",
        ],
    }
    baseline = build_baseline(features[masks["train"]], window={
        "start": split_report["train"]["start"], "end": split_report["train"]["end"], "split": "train"})

    with staged(root / "output") as tmp:
        for name, mask in masks.items():
            rows = np.flatnonzero(mask)
            write_split(tmp / name / DATA_FILE, [ids[i] for i in rows.tolist()], t[mask], y[mask], features[mask])
        (tmp / "baseline").mkdir()
        (tmp / "baseline" / "baseline.json").write_text(json.dumps(baseline, indent=2, allow_nan=False))
        (tmp / "report").mkdir()
        (tmp / "report" / "preprocess_report.json").write_text(json.dumps(report, indent=2, allow_nan=False))

    for name in SPLITS:
        s = split_report[name]
        print(f"{name}: rows={s['rows']}; positives={s['positives']}; {s['start']} .. {s['end']}")
    print(f"dropped: malformed={tx_intake.malformed}; duplicates={duplicates}; unlabeled={unlabeled};"
          f" after_maturity_cutoff={after_cutoff}")


def main(argv: list[str] | None = None) -> int:
    return run_job("preprocess", lambda: _run(argv), processing=True)


if __name__ == "__main__":
    sys.exit(main())

"""Processing job: the serving model's quality on matured labels, by slice, against what its evaluation promised.

Inputs under ``$SM_PROCESSING_ROOT`` (default /opt/ml/processing), each any nesting of gzip or plain files of
newline-delimited JSON (gzip found by its magic bytes), read with the preprocess job's reader:

- ``input/decisions/``: the streaming scorer's decision records (``fraud_core.scoring``);
- ``input/labels/``: labels (transaction_id, is_fraud, label_available_time), as preprocess reads them;
- ``input/transactions/``: the raw Firehose archive of transactions, for the slice fields decisions do not
  carry (merchant_category, card_present, amount); validated with the wire schema, duplicates dropped;
- ``input/evaluation/evaluation.json``: the evaluate job's output for the serving model (the promise).

The rules (label maturity, metrics, slices, verdict) are ``fraud_core.model_quality``'s. Output:
``output/report/quality_report.json``: the report (``QualityReport.as_dict``) plus ``inputs``, what was read
per input (files, records, lines that were not JSON, unreadable files). A ``regressed`` or
``insufficient_labels`` verdict is a result, not a failure. The job fails (JobError naming the input and the
rule) only on input it cannot read: a missing input directory, an evaluation.json that is not JSON or
promises no metric, or an input where more than ``--max-malformed-fraction`` of the records are not
records of that input.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the bundle root (fraud_core's parent) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fraud_core.config import load_config  # noqa: E402
from fraud_core.model_quality import (  # noqa: E402
    DEFAULT_TOLERANCE,
    MIN_FRAUDS,
    InputCounts,
    promised_metrics,
    quality_report,
)
from sagemaker_jobs.preprocess import _decoded, _Intake, _read_transactions  # noqa: E402
from sagemaker_jobs.runtime import ArgumentParser, JobError, env_path, parse_time, run_job, staged  # noqa: E402

EVALUATION = "evaluation/evaluation.json"


def _args(argv: list[str] | None) -> Any:
    defaults = load_config()  # sandbox profile; a pipeline passes every value explicitly
    p = ArgumentParser(prog="model_quality", description=__doc__.splitlines()[0])
    p.add_argument("--as-of", "--as_of", default=None,
                   help="ISO-8601 time the job runs 'as of' (default: now); labels available later are ignored")
    p.add_argument("--label-maturity-days", "--label_maturity_days", type=float,
                   default=defaults.label_maturity_days)
    p.add_argument("--cost-false-negative", "--cost_false_negative", type=float,
                   default=defaults.cost_false_negative)
    p.add_argument("--cost-false-positive", "--cost_false_positive", type=float,
                   default=defaults.cost_false_positive)
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                   help="absolute drop below a promised metric that counts as a regression")
    p.add_argument("--min-frauds", "--min_frauds", type=int, default=MIN_FRAUDS,
                   help="labelled frauds needed for a verdict")
    p.add_argument("--model-version", "--model_version", default=None,
                   help="judge only decisions of this model_version (default: every decision)")
    p.add_argument("--max-malformed-fraction", "--max_malformed_fraction", type=float, default=0.5)
    args = p.parse_args(argv)
    if not args.label_maturity_days >= 0:
        raise JobError(f"--label-maturity-days: must be >= 0 (got {args.label_maturity_days:g})")
    for name in ("cost_false_negative", "cost_false_positive"):
        if not getattr(args, name) > 0:
            raise JobError(f"--{name.replace('_', '-')}: must be a number > 0 (got {getattr(args, name):g})")
    if not 0 <= args.tolerance <= 1:
        raise JobError(f"--tolerance: must be between 0 and 1 (got {args.tolerance:g})")
    if args.min_frauds < 1:
        raise JobError(f"--min-frauds: must be an integer >= 1 (got {args.min_frauds})")
    if not 0 < args.max_malformed_fraction <= 1:
        raise JobError(f"--max-malformed-fraction: must be in (0, 1] (got {args.max_malformed_fraction:g})")
    args.as_of = datetime.now(timezone.utc) if args.as_of is None else parse_time(args.as_of, "--as-of")
    return args


def _input_dir(root: Path, name: str) -> Path:
    directory = root / "input" / name
    if not directory.is_dir():
        raise JobError(f"input/{name}: no such directory ({directory})")
    return directory


def _evaluation(root: Path) -> dict[str, Any]:
    path = root / "input" / EVALUATION
    try:
        evaluation = json.loads(path.read_text())
        promised_metrics(evaluation)  # refuse here, naming the file, rather than deep inside the report
    except (OSError, ValueError) as err:
        raise JobError(f"input/{EVALUATION}: cannot be read as the evaluate job's evaluation ({err})") from None
    return evaluation


def _records(root: Path, name: str) -> tuple[list[Any], _Intake]:
    intake = _Intake()
    return list(_decoded(_input_dir(root, name), intake)), intake


def _check_readable(name: str, intake: _Intake, counts: InputCounts, max_fraction: float) -> None:
    """Refuse an input where most records are not JSON or not records of that kind: the wrong data was mounted."""
    bad = intake.malformed + counts.invalid
    if intake.lines and bad / intake.lines > max_fraction:
        rule, n = (intake.by_rule + counts.invalid_by_rule).most_common(1)[0]
        raise JobError(f"input/{name}: {bad:,} of {intake.lines:,} records ({bad / intake.lines:.0%}) are not"
                       f" {name} records; most common: '{rule}' ({n:,}). Is input/{name} pointing at the right data?")


def _run(argv: list[str] | None) -> None:
    args = _args(argv)
    root = env_path("SM_PROCESSING_ROOT", "/opt/ml/processing")
    evaluation = _evaluation(root)
    decisions, decision_intake = _records(root, "decisions")
    labels, label_intake = _records(root, "labels")
    transactions, tx_intake, duplicates = _read_transactions(_input_dir(root, "transactions"))
    tx_intake.check_schema("transactions", args.max_malformed_fraction)
    try:
        report = quality_report(
            decisions, labels, transactions, evaluation=evaluation, as_of=args.as_of,
            label_maturity_days=args.label_maturity_days, cost_false_negative=args.cost_false_negative,
            cost_false_positive=args.cost_false_positive, tolerance=args.tolerance, min_frauds=args.min_frauds,
            model_version=args.model_version)
    except ValueError as err:
        raise JobError(str(err)) from None
    _check_readable("decisions", decision_intake, report.counts.decisions, args.max_malformed_fraction)
    _check_readable("labels", label_intake, report.counts.labels, args.max_malformed_fraction)

    document = {**report.as_dict(), "inputs": {
        "decisions": decision_intake.summary(), "labels": label_intake.summary(),
        "transactions": {**tx_intake.summary(), "valid": len(transactions), "duplicates_dropped": duplicates}}}
    with staged(root / "output") as tmp:
        (tmp / "report").mkdir()
        (tmp / "report" / "quality_report.json").write_text(json.dumps(document, indent=2, allow_nan=False))
    c = report.counts
    print(f"model_quality: {report.reason()}")
    print(f"decisions: read={c.decisions.read}; joined={c.joined}; immature={c.immature_excluded};"
          f" without_label={c.without_label}; other_model={c.other_model_excluded};"
          f" without_transaction={c.without_transaction}; duplicates={c.duplicate_decisions}")


def main(argv: list[str] | None = None) -> int:
    return run_job("model_quality", lambda: _run(argv), processing=True)


if __name__ == "__main__":
    sys.exit(main())


"""Processing job: drift of captured endpoint traffic against the serving model's training baseline.

Inputs under ``$SM_PROCESSING_ROOT`` (default /opt/ml/processing): ``input/capture/`` (SageMaker data-capture
JSON Lines, any nesting, ``fraud_core.capture``) and ``input/baseline/``: the serving model's ``model.tar.gz``
(its ``baseline.json``, written at training) or ``baseline.json`` itself. Features are built with the code
training uses. Output: ``output/report/drift_report.json`` with the verdict (``drift``, ``stable`` or
``insufficient_data``), the reason, per feature PSI, binned KS, null rate and unseen-category share
(``fraud_core.drift_report``), and ``data_quality``: the serving window's violations against the same baseline
(``fraud_core.data_quality.serving_violations``). Thresholds come as arguments (the profile's config).
A verdict is a result, not a failure: the job fails only on input it cannot read at all.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the bundle root (fraud_core's parent) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fraud_core.capture import read_capture  # noqa: E402
from fraud_core.data_quality import ServingLimits, serving_violations  # noqa: E402
from fraud_core.drift_report import DriftThresholds, drift_report  # noqa: E402
from fraud_core.features import build_features  # noqa: E402
from sagemaker_jobs.runtime import ArgumentParser, JobError, env_path, model_baseline, run_job, staged  # noqa: E402


def _lines(directory: Path) -> list[bytes]:
    if not directory.is_dir():
        raise JobError(f"input/capture: no such directory ({directory})")
    lines: list[bytes] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        lines += path.read_bytes().splitlines()
    return lines


def _arguments(argv: list[str] | None) -> Any:
    defaults, limits = DriftThresholds(), ServingLimits()
    p = ArgumentParser(prog="drift")
    p.add_argument("--psi-threshold", type=float, default=defaults.psi)
    p.add_argument("--ks-threshold", type=float, default=defaults.ks)
    p.add_argument("--min-rows", type=int, default=defaults.min_rows)
    p.add_argument("--max-null-rate-increase", type=float, default=limits.max_null_rate_increase)
    p.add_argument("--max-unseen-share", type=float, default=limits.max_unseen_share)
    args = p.parse_args(argv or [])
    try:
        thresholds = DriftThresholds(args.psi_threshold, args.ks_threshold, args.min_rows)
    except ValueError as err:
        raise JobError(f"arguments: {err}") from None
    return thresholds, ServingLimits(args.max_null_rate_increase, args.max_unseen_share)


def _run(argv: list[str] | None) -> None:
    thresholds, limits = _arguments(argv)
    root = env_path("SM_PROCESSING_ROOT", "/opt/ml/processing")
    baseline = model_baseline(root / "input" / "baseline", "input/baseline")
    window = read_capture(_lines(root / "input" / "capture"))
    if window.invocations and window.unreadable == window.invocations:
        raise JobError(f"input/capture: none of the {window.invocations:,} captured invocations is in the data-capture"
                       " format with {\"instances\": [...]} in and {\"predictions\": [...]} out")
    features = build_features(window.records)
    try:
        report = drift_report(baseline, features, scores=window.scores, limits=thresholds)
    except ValueError as err:
        raise JobError(str(err)) from None
    violations = serving_violations(features, report, baseline, limits)
    document = {**report.as_dict(), "invocations": window.invocations, "unreadable_invocations": window.unreadable,
                "data_quality": {"violations": [v.message() for v in violations],
                                 "fields": sorted({v.field for v in violations})}}
    with staged(root / "output") as tmp:
        (tmp / "report").mkdir()
        (tmp / "report" / "drift_report.json").write_text(json.dumps(document, indent=2, allow_nan=False))
    print(f"drift: {report.reason()} ({window.invocations:,} invocations, {window.unreadable:,} unreadable)")
    for violation in violations:
        print(f"data quality: {violation.message()}")


def main(argv: list[str] | None = None) -> int:
    return run_job("drift", lambda: _run(argv), processing=True)


if __name__ == "__main__":
    sys.exit(main())

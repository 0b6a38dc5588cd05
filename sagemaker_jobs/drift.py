"""Processing job: drift of captured endpoint traffic against the serving model's training baseline.

Inputs under ``$SM_PROCESSING_ROOT`` (default /opt/ml/processing): ``input/capture/`` (SageMaker data-capture
JSON Lines, any nesting, ``fraud_core.capture``) and ``input/baseline/baseline.json`` (written by preprocess,
shipped in the model's ``model.tar.gz``). Features are built with the code training uses. Output:
``output/report/drift_report.json`` with the verdict (``drift``, ``stable`` or ``insufficient_data``), the
reason, and per feature PSI, binned KS, null rate and unseen-category share (``fraud_core.drift_report``).
A verdict is a result, not a failure: the job fails only on input it cannot read at all.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the bundle root (fraud_core's parent) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fraud_core.capture import read_capture  # noqa: E402
from fraud_core.drift_report import drift_report  # noqa: E402
from fraud_core.features import build_features  # noqa: E402
from sagemaker_jobs.runtime import ArgumentParser, JobError, env_path, run_job, staged  # noqa: E402


def _lines(directory: Path) -> list[bytes]:
    if not directory.is_dir():
        raise JobError(f"input/capture: no such directory ({directory})")
    lines: list[bytes] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        lines += path.read_bytes().splitlines()
    return lines


def _run(argv: list[str] | None) -> None:
    ArgumentParser(prog="drift").parse_args(argv or [])
    root = env_path("SM_PROCESSING_ROOT", "/opt/ml/processing")
    baseline_path = root / "input" / "baseline" / "baseline.json"
    try:
        baseline = json.loads(baseline_path.read_text())
    except (OSError, ValueError) as err:
        raise JobError(f"input/baseline/baseline.json: cannot be read as JSON ({err})") from None
    window = read_capture(_lines(root / "input" / "capture"))
    if window.invocations and window.unreadable == window.invocations:
        raise JobError(f"input/capture: none of the {window.invocations:,} captured invocations is in the data-capture"
                       " format with {\"instances\": [...]} in and {\"predictions\": [...]} out")
    features = build_features(window.records)
    try:
        report = drift_report(baseline, features, scores=window.scores)
    except ValueError as err:
        raise JobError(str(err)) from None
    document = {**report.as_dict(), "invocations": window.invocations, "unreadable_invocations": window.unreadable}
    with staged(root / "output") as tmp:
        (tmp / "report").mkdir()
        (tmp / "report" / "drift_report.json").write_text(json.dumps(document, indent=2, allow_nan=False))
    print(f"drift: {report.reason()} ({window.invocations:,} invocations, {window.unreadable:,} unreadable)")


def main(argv: list[str] | None = None) -> int:
    return run_job("drift", lambda: _run(argv), processing=True)


if __name__ == "__main__":
    sys.exit(main())

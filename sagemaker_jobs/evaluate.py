"""Processing job: score the candidate (and the current champion) on the held-out test window.

Inputs under ``$SM_PROCESSING_ROOT`` (default /opt/ml/processing): ``input/test/`` (split files
from preprocess), ``input/model/model.tar.gz`` (the candidate) and, optionally,
``input/champion/model.tar.gz`` (the approved model now serving; absent for the first model).
Output: ``output/evaluation/evaluation.json`` with, per model, PR-AUC (primary), ROC-AUC,
precision/recall/F1 and expected cost at the model's own threshold, the cost-optimal threshold on
this window, calibration (Brier, ECE, reliability table), and a ``metrics`` section in the
SageMaker model-quality JSON shape for the model registry. Both models see the same rows.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the bundle root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fraud_core import metrics  # noqa: E402
from fraud_core.config import load_config  # noqa: E402
from fraud_core.model_artifact import LoadedModel, load_model_dir, unpack_model_tar  # noqa: E402
from sagemaker_jobs.runtime import ArgumentParser, JobError, env_path, iso_ms, parse_time, run_job, staged  # noqa: E402
from sagemaker_jobs.splits import Split, read_split  # noqa: E402

MODEL_TAR = "model.tar.gz"


def _args(argv: list[str] | None) -> Any:
    defaults = load_config()
    p = ArgumentParser(prog="evaluate", description=__doc__.splitlines()[0])
    p.add_argument("--cost-false-negative", "--cost_false_negative", type=float,
                   default=defaults.cost_false_negative)
    p.add_argument("--cost-false-positive", "--cost_false_positive", type=float,
                   default=defaults.cost_false_positive)
    p.add_argument("--reliability-bins", "--reliability_bins", type=int, default=10)
    args = p.parse_args(argv)
    for name in ("cost_false_negative", "cost_false_positive"):
        if not getattr(args, name) > 0:
            raise JobError(f"--{name.replace('_', '-')}: must be a number > 0 (got {getattr(args, name):g})")
    if args.reliability_bins < 1:
        raise JobError(f"--reliability-bins: must be an integer >= 1 (got {args.reliability_bins})")
    return args


def _load(tar_path: Path, role: str, workdir: Path) -> LoadedModel:
    try:
        return load_model_dir(unpack_model_tar(tar_path, workdir / role))
    except ValueError as exc:
        raise JobError(f"{role}: {exc}") from exc


def _trained_until_ms(model: LoadedModel) -> float | None:
    """End of the newest data the model was fitted or tuned on, if its metadata says."""
    end = (model.meta.get("validation") or {}).get("end")
    return parse_time(end, "model_meta.validation.end").timestamp() * 1000 if isinstance(end, str) else None


def model_metrics(model: LoadedModel, test: Split, cost_fn: float, cost_fp: float, bins: int) -> dict[str, Any]:
    y = test.label
    p = model.predict_proba_features(test.features)
    op = metrics.precision_recall_at(y, p, model.threshold)
    best_threshold, best_cost = metrics.cost_optimal_threshold(y, p, cost_fn, cost_fp)
    return {
        "pr_auc": metrics.pr_auc(y, p),
        "roc_auc": metrics.roc_auc(y, p),
        "threshold": model.threshold,
        "precision": op.precision,
        "recall": op.recall,
        "f1": op.f1,
        "confusion": {"tp": op.tp, "fp": op.fp, "fn": op.fn, "tn": op.tn},
        "expected_cost": metrics.expected_cost(y, p, model.threshold, cost_fn, cost_fp),
        "total_cost": cost_fn * op.fn + cost_fp * op.fp,
        "cost_optimal_threshold": best_threshold,
        "cost_optimal_expected_cost": best_cost,
        "brier": metrics.brier(y, p),
        "ece": metrics.expected_calibration_error(y, p, bins),
        "reliability": metrics.reliability_table(y, p, bins),
        "positives": test.positives,
        "rows": len(test),
        "base_rate": test.positives / len(test),
        "model": {k: model.meta.get(k) for k in ("best_iteration", "train", "validation", "versions")},
    }


def model_quality(m: dict[str, Any]) -> dict[str, Any]:
    """The SageMaker model-quality statistics shape, as the model registry's ModelMetrics expects."""
    c = m["confusion"]
    return {"binary_classification_metrics": {
        "pr_auc": {"value": m["pr_auc"]},
        "auc": {"value": m["roc_auc"]},
        "precision": {"value": m["precision"]},
        "recall": {"value": m["recall"]},
        "f1": {"value": m["f1"]},
        "confusion_matrix": {"0": {"0": c["tn"], "1": c["fp"]}, "1": {"0": c["fn"], "1": c["tp"]}},
    }}


def _run(argv: list[str] | None) -> None:
    args = _args(argv)
    root = env_path("SM_PROCESSING_ROOT", "/opt/ml/processing")
    test = read_split(root / "input" / "test", "test")
    if test.positives == 0:
        raise JobError(f"test: no positive labels (fraud) in {len(test):,} rows; PR-AUC is undefined")
    if test.positives == len(test):
        raise JobError(f"test: every one of {len(test):,} rows is labelled fraud; need legit rows too")
    candidate_tar = root / "input" / "model" / MODEL_TAR
    if not candidate_tar.is_file():
        raise JobError(f"model: {candidate_tar} does not exist (the candidate's model.tar.gz from train)")
    champion_tar = root / "input" / "champion" / MODEL_TAR
    test_start = float(test.event_ms.min())
    window = {"start": iso_ms(test_start), "end": iso_ms(test.event_ms.max()), "rows": len(test),
              "positives": test.positives}

    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="evaluate-") as work:
        candidate = _load(candidate_tar, "model", Path(work))
        seen_until = _trained_until_ms(candidate)
        if seen_until is not None and seen_until >= test_start:
            raise JobError(f"model: was trained or tuned on data up to {iso_ms(seen_until)}, which overlaps the"
                           f" test window starting {window['start']}; evaluation would be optimistic")
        cand = model_metrics(candidate, test, args.cost_false_negative, args.cost_false_positive,
                             args.reliability_bins)
        champ = None
        if champion_tar.is_file():
            champion = _load(champion_tar, "champion", Path(work))
            seen_until = _trained_until_ms(champion)
            if seen_until is not None and seen_until >= test_start:
                warnings.append(f"champion was trained on data up to {iso_ms(seen_until)}, overlapping the test"
                                " window: its metrics are optimistic")
            champ = model_metrics(champion, test, args.cost_false_negative, args.cost_false_positive,
                                  args.reliability_bins)

    evaluation = {
        "version": 1,
        "test_window": window,
        "costs": {"false_negative": args.cost_false_negative, "false_positive": args.cost_false_positive},
        "candidate": cand,
        "champion": champ,
        "metrics": model_quality(cand),
        "warnings": warnings,
    }
    with staged(root / "output") as tmp:
        (tmp / "evaluation").mkdir()
        (tmp / "evaluation" / "evaluation.json").write_text(json.dumps(evaluation, indent=2, allow_nan=False))

    for role, m in (("candidate", cand), ("champion", champ)):
        if m is not None:
            print(f"{role}:pr_auc={m['pr_auc']:.4f}; {role}:roc_auc={m['roc_auc']:.4f};"
                  f" {role}:precision={m['precision']:.4f}; {role}:recall={m['recall']:.4f};"
                  f" {role}:threshold={m['threshold']:.6f}; {role}:ece={m['ece']:.4f};")
    for w in warnings:
        print(f"warning: {w}")


def main(argv: list[str] | None = None) -> int:
    return run_job("evaluate", lambda: _run(argv), processing=True)


if __name__ == "__main__":
    sys.exit(main())

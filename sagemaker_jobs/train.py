"""Training job (SageMaker SKLearn framework container, script mode): gradient-boosted trees for fraud.

Channels (``SM_CHANNEL_*``): ``train`` and ``validation`` (split files from preprocess), optional
``baseline`` (baseline.json from preprocess). Writes ``model.joblib``, ``model_meta.json`` and
``baseline.json`` to ``SM_MODEL_DIR`` (SageMaker tars them into model.tar.gz) and
``training_report.json`` (learning curve) to ``SM_OUTPUT_DATA_DIR``. Hyperparameters arrive as
``--key value`` arguments, with dashes or underscores.

The serving code travels with the model: ``code/`` in the model directory holds ``inference.py`` (the
handlers of ``sagemaker_jobs.inference``) and the packages it imports, exactly the code this job ran. A model
package then points the framework container at ``SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code`` (as the
SageMaker Python SDK does for a repacked model) and needs no other S3 object, in particular no CDK asset that
``cdk gc`` could delete.

Modelling choices, each measurable in the output:

- Class imbalance (~1% fraud) is handled with sample weights: ``balanced`` gives each class half
  the total weight. Weighting inflates the predicted odds of fraud by w_fraud / w_legit, so the
  model stores ``logit_offset = -log(w_fraud / w_legit)`` and scoring shifts the logit back:
  scores stay calibrated probabilities (see ECE in evaluation.json) and the ranking is unchanged.
- Early stopping on **validation PR-AUC** over the time-based validation split, not sklearn's
  built-in early stopping (a random split of the training rows, scored by loss): PR-AUC is
  checked every ``--eval-every`` iterations, training stops after ``--patience`` iterations
  without improvement, and the final model has exactly the best iteration count. Growing with
  ``warm_start`` re-fits the weighted bin thresholds on every call in scikit-learn 1.9 (1.1 s per
  step on 120k rows), so instead one fit grows ``--max-iter`` trees, the validation curve comes
  from ``staged_decision_function``, and the model is refit at the best count (deterministic,
  identical trees): about 3x faster for the same decision.
- The operating threshold minimises expected cost on validation:
  ``cost_false_negative * FN + cost_false_positive * FP``.

Threads: the fit uses OpenMP on every core, spin-waiting at each barrier. Sharing the cores with
another busy process is pathological: two concurrent 200k fits on 2 cores took 84 s with the
default, 9.9 s with ``OMP_NUM_THREADS=1`` each (one fit alone: 5.5 s default, 6.5 s single-thread).
Whoever runs jobs side by side should set ``OMP_NUM_THREADS``; a SageMaker instance is dedicated.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file (SageMaker script mode): make the bundle root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402

from fraud_core import metrics  # noqa: E402
from fraud_core.baseline import build_baseline, score_baseline  # noqa: E402
from fraud_core.config import load_config  # noqa: E402
from fraud_core.features import CATEGORICAL_INDICES  # noqa: E402
from fraud_core.model_artifact import LoadedModel, save_model_dir  # noqa: E402
from sagemaker_jobs.runtime import ArgumentParser, JobError, env_path, iso_ms, run_job, staged  # noqa: E402
from sagemaker_jobs.splits import Split, read_split  # noqa: E402

# Packages the serving handlers import, copied from the bundle this job runs from (its root holds both).
SERVING_PACKAGES = ("fraud_core", "sagemaker_jobs")
INFERENCE_ENTRY_POINT = (
    '"""SageMaker serving entry point (SAGEMAKER_PROGRAM): the handlers of sagemaker_jobs.inference."""\n\n'
    "from sagemaker_jobs.inference import model_fn, transform_fn\n\n"
    '__all__ = ["model_fn", "transform_fn"]\n')


def package_serving_code(model_dir: Path, bundle_root: Path | None = None) -> Path:
    """Copy the serving code into ``<model_dir>/code`` so model.tar.gz is self-contained; returns that folder."""
    root = bundle_root or Path(__file__).resolve().parent.parent
    code = model_dir / "code"
    for package in SERVING_PACKAGES:
        shutil.copytree(root / package, code / package, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (code / "inference.py").write_text(INFERENCE_ENTRY_POINT)
    return code


def _args(argv: list[str] | None) -> Any:
    defaults = load_config()
    p = ArgumentParser(prog="train", description=__doc__.splitlines()[0])

    def opt(name: str, **kw: Any) -> None:
        p.add_argument(f"--{name}", f"--{name.replace('-', '_')}", **kw)

    opt("learning-rate", type=float, default=0.1)
    opt("max-leaf-nodes", type=int, default=31)
    opt("max-iter", type=int, default=300)
    opt("patience", type=int, default=20, help="iterations without validation PR-AUC improvement before stopping")
    opt("eval-every", type=int, default=10, help="iterations between validation PR-AUC checks")
    opt("min-samples-leaf", type=int, default=20)
    opt("l2-regularization", type=float, default=0.0)
    opt("class-weight", choices=("balanced", "none"), default="balanced")
    opt("cost-false-negative", type=float, default=defaults.cost_false_negative)
    opt("cost-false-positive", type=float, default=defaults.cost_false_positive)
    opt("random-state", type=int, default=0)
    args = p.parse_args(argv)
    for name in ("max_iter", "max_leaf_nodes", "patience", "eval_every", "min_samples_leaf"):
        if getattr(args, name) < (2 if name == "max_leaf_nodes" else 1):
            raise JobError(f"--{name.replace('_', '-')}: must be a positive integer (got {getattr(args, name)})")
    for name in ("learning_rate", "cost_false_negative", "cost_false_positive"):
        value = getattr(args, name)
        if not (math.isfinite(value) and value > 0):
            raise JobError(f"--{name.replace('_', '-')}: must be a number > 0 (got {value:g})")
    if not args.l2_regularization >= 0:
        raise JobError(f"--l2-regularization: must be >= 0 (got {args.l2_regularization:g})")
    return args


def _check_split(split: Split, channel: str) -> None:
    if split.positives == 0:
        raise JobError(f"{channel}: no positive labels (fraud) in {len(split):,} rows; early stopping on PR-AUC and"
                       " the threshold need fraud examples")
    if split.positives == len(split):
        raise JobError(f"{channel}: every one of {len(split):,} rows is labelled fraud; need legit rows too")


def class_weights(y: np.ndarray, mode: str) -> tuple[float, float]:
    """(w_legit, w_fraud). 'balanced' gives each class half the total weight, as sklearn defines it."""
    if mode == "none":
        return 1.0, 1.0
    n, n_fraud = len(y), int(y.sum())
    return n / (2 * (n - n_fraud)), n / (2 * n_fraud)


def _model(args: Any, max_iter: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        learning_rate=args.learning_rate, max_leaf_nodes=args.max_leaf_nodes, max_iter=max_iter,
        min_samples_leaf=args.min_samples_leaf, l2_regularization=args.l2_regularization,
        categorical_features=list(CATEGORICAL_INDICES), early_stopping=False, random_state=args.random_state,
    )


def select_iterations(curve: Iterable[tuple[int, float]], patience: int) -> tuple[int, list[tuple[int, float]]]:
    """Early stopping over a lazy (iteration, PR-AUC) curve: stop consuming it once ``patience``
    iterations pass without a strictly better score. Returns the best iteration and the points seen."""
    seen: list[tuple[int, float]] = []
    best_it, best = 0, -math.inf
    for it, score in curve:
        if seen and it - best_it > patience:
            break
        seen.append((it, score))
        if score > best:
            best_it, best = it, score
    return best_it, seen


def _time_range(split: Split) -> dict[str, str]:
    return {"start": iso_ms(split.event_ms.min()), "end": iso_ms(split.event_ms.max())}


def fit_with_early_stopping(args: Any, train: Split, val: Split, weight: np.ndarray,
                            ) -> tuple[HistGradientBoostingClassifier, int, list[tuple[int, float]]]:
    """Grow ``--max-iter`` trees once, pick the iteration count by validation PR-AUC with patience,
    and return a model with exactly that many trees (a refit: same data and seed, same trees)."""
    full = _model(args, args.max_iter).fit(train.features, train.label, sample_weight=weight)

    def validation_curve() -> Iterator[tuple[int, float]]:
        for it, raw in enumerate(full.staged_decision_function(val.features), start=1):
            if it % args.eval_every == 0 or it == full.n_iter_:
                score = metrics.pr_auc(val.label, raw)  # ranking only, so raw scores will do
                print(f"iteration={it}; validation:pr_auc={score:.4f};")
                yield it, score

    best_it, curve = select_iterations(validation_curve(), args.patience)
    if best_it == full.n_iter_:
        return full, best_it, curve
    return _model(args, best_it).fit(train.features, train.label, sample_weight=weight), best_it, curve


def _run(argv: list[str] | None) -> None:
    args = _args(argv)
    train = read_split(env_path("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"), "train")
    val = read_split(env_path("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation"), "validation")
    _check_split(train, "train")
    _check_split(val, "validation")
    if train.event_ms.max() >= val.event_ms.min():
        raise JobError(f"validation: starts at {iso_ms(val.event_ms.min())}, before train ends at"
                       f" {iso_ms(train.event_ms.max())}; the split must be by time to avoid leakage")

    w_legit, w_fraud = class_weights(train.label, args.class_weight)
    weight = np.where(train.label == 1, w_fraud, w_legit)
    model, best_it, curve = fit_with_early_stopping(args, train, val, weight)

    # Score through LoadedModel, the inference path, so the threshold is chosen on the same scores.
    logit_offset = -math.log(w_fraud / w_legit)
    scorer = LoadedModel(model, {"threshold": math.nan, "logit_offset": logit_offset}, {})
    p_val = scorer.predict_proba_features(val.features)
    threshold, val_cost = metrics.cost_optimal_threshold(val.label, p_val, args.cost_false_negative,
                                                         args.cost_false_positive)
    op = metrics.precision_recall_at(val.label, p_val, threshold)
    validation_metrics = {
        "pr_auc": metrics.pr_auc(val.label, p_val), "roc_auc": metrics.roc_auc(val.label, p_val),
        "precision": op.precision, "recall": op.recall, "f1": op.f1, "expected_cost": val_cost,
        "brier": metrics.brier(val.label, p_val), "ece": metrics.expected_calibration_error(val.label, p_val),
    }
    meta = {
        # SageMaker sets TRAINING_JOB_NAME in training containers: it names the model in every prediction.
        "training_job_name": os.environ.get("TRAINING_JOB_NAME", "local"),
        "threshold": threshold,
        "threshold_rule": "minimum expected cost on the validation split",
        "logit_offset": logit_offset,
        "score_calibration": "logit_offset undoes the class-weight odds inflation",
        "costs": {"false_negative": args.cost_false_negative, "false_positive": args.cost_false_positive},
        "best_iteration": best_it,
        "iterations_evaluated": curve[-1][0],
        "hyperparameters": {k: v for k, v in vars(args).items() if not k.startswith("cost_")},
        "class_weights": {"legit": w_legit, "fraud": w_fraud},
        "validation_metrics": validation_metrics,
        "train": {"rows": len(train), "positives": train.positives, **_time_range(train)},
        "validation": {"rows": len(val), "positives": val.positives, **_time_range(val)},
    }

    baseline_dir = env_path("SM_CHANNEL_BASELINE", "/opt/ml/input/data/baseline")
    if (baseline_dir / "baseline.json").is_file():
        baseline = json.loads((baseline_dir / "baseline.json").read_text())
    else:
        baseline = build_baseline(train.features, window={**_time_range(train), "split": "train"})
    baseline["prediction"] = score_baseline(scorer.predict_proba_features(train.features))

    report = {"learning_curve": [{"iteration": i, "validation_pr_auc": s} for i, s in curve],
              "best_iteration": best_it, "validation_metrics": validation_metrics, "threshold": threshold}
    with staged(env_path("SM_MODEL_DIR", "/opt/ml/model")) as model_tmp, \
            staged(env_path("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")) as data_tmp:
        save_model_dir(model_tmp, model, meta, baseline)
        package_serving_code(model_tmp)
        (data_tmp / "training_report.json").write_text(json.dumps(report, indent=2, allow_nan=False))

    # One metric per line, 'name=value;', for SageMaker MetricDefinitions regexes; the final values last.
    print(f"best_iteration={best_it};")
    for name in ("pr_auc", "roc_auc", "precision", "recall", "expected_cost"):
        print(f"validation:{name}={validation_metrics[name]:.4f};")
    print(f"validation:threshold={threshold:.6f};")


def main(argv: list[str] | None = None) -> int:
    return run_job("train", lambda: _run(argv), processing=False)


if __name__ == "__main__":
    sys.exit(main())

"""mlcli train: load, infer, split, fit, measure, save."""

from __future__ import annotations

import gc
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcli import __version__
from mlcli.data.dataset import (
    DataOptions,
    Dataset,
    Notify,
    data_summary,
    encode_classes,
    load_dataset,
    quiet,
    row_hashes,
    warn,
)
from mlcli.data.schema import Schema
from mlcli.errors import ConfigError, first_line
from mlcli.evaluation import metrics as M
from mlcli.evaluation.baseline import OVERFIT_RULE, Baseline, overfitting
from mlcli.evaluation.calibration import calibration_check
from mlcli.evaluation.report import EvalReport, measure, measure_at
from mlcli.evaluation.scoring import check_threshold
from mlcli.experiments.checks import Findings, duplicates_across, leak_screen, target_advice
from mlcli.experiments.defaults import choose_default
from mlcli.experiments.holdout import Holdout, holdout
from mlcli.experiments.verdicts import after_fit, proper_score
from mlcli.explain.native import native_importances
from mlcli.models.build import ModelConfig, build_pipeline
from mlcli.models.bundle import check_bundle_path, save_bundle
from mlcli.models.calibrate import calibration_meta, check_calibrate
from mlcli.models.early_stopping import stopping_line, stopping_of
from mlcli.models.registry import get_spec
from mlcli.models.versions import library_versions


@dataclass
class TrainRequest:
    data: DataOptions
    model: ModelConfig
    test_size: float = 0.2
    test_path: str | None = None
    out: str | None = None
    threshold: float | str | None = None  # a probability, or 'auto' (chosen on out-of-fold predictions)
    optimize: str = "f1"  # what --threshold auto optimises: f1 | youden | precision=P | recall=R
    leak_check: bool = True  # screen every column for a leak of the target before fitting
    sign_key: bytes | None = None  # sign the bundle (mlcli.models.signing)
    shape_default: bool = False  # no --model given: the default model follows the data (experiments.defaults)


@dataclass
class TrainResult:
    model: str
    schema: Schema
    n_train: int
    n_test: int
    test: EvalReport
    train: EvalReport
    importances: list[dict[str, Any]]
    timings: dict[str, float]
    bundle: str
    target_reason: str
    dropped_rows: int
    params: dict[str, Any]
    source: str
    balance: str | None = None
    threshold_tuning: dict[str, Any] | None = None
    baseline: dict[str, Any] = field(default_factory=dict)  # the trivial model's metrics on the held-out rows
    findings: Findings = field(default_factory=Findings)
    early_stopping: dict[str, Any] | None = None  # the rounds early stopping chose (boosters), else None
    calibration: dict[str, Any] | None = None  # held-out Brier/ECE and the verdict (evaluation.calibration)

    @property
    def gap(self) -> dict[str, Any]:
        """The train-vs-test gap of the main metric; 'overfitting' by the rule in evaluation.baseline."""
        key = M.MAIN_METRIC[self.schema.task]
        tr, te = self.train.metrics.get(key), self.test.metrics.get(key)
        if tr is None or te is None:
            return {"metric": key, "train": tr, "test": te, "gap": None}
        gap = (te - tr) if key in M.LOWER_IS_BETTER else (tr - te)
        proper = proper_score(self.schema.task, self.test.metrics, self.train.metrics, self.baseline)
        over = bool(overfitting(key, tr, te, self.baseline.get(key))) or bool(
            proper and proper["worse_than_baseline"] and proper["metric"] == "log_loss")
        return {"metric": key, "train": tr, "test": te, "gap": round(gap, 6), "baseline": self.baseline.get(key),
                "overfitting": over, "rule": OVERFIT_RULE, "proper": proper}

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "train", "model": self.model, "task": self.schema.task, "target": self.schema.target,
            "data": self.source, "rows": {"train": self.n_train, "test": self.n_test,
                                          "dropped_missing_target": self.dropped_rows},
            "columns": [c.to_dict() for c in self.schema.columns],
            "params": self.params, "metrics": self.test.metrics, "train_metrics": self.train.metrics,
            "gap": self.gap, "test": self.test.to_dict(), "importances": self.importances,
            "timings": self.timings, "bundle": self.bundle, "balance": self.balance,
            "threshold_tuning": self.threshold_tuning, "target_reason": self.target_reason,
            "baseline": self.baseline, "warnings": self.findings.warnings, "leaks": self.findings.leaks,
            "duplicates": self.findings.duplicates, "early_stopping": self.early_stopping,
            "calibration": self.calibration,
        }


def default_out(data_path: str, model: str) -> str:
    stem = Path(data_path).stem if data_path != "-" else "stdin"
    return str(Path("models") / f"{stem}-{model}")


def train(req: TrainRequest, notify: Notify = quiet, stdin: Any = None) -> TrainResult:
    t0 = time.perf_counter()
    spec, auto_threshold = _check_request(req)  # before the data is read: a bad option costs nothing
    ds = load_dataset(req.data, notify, stdin)
    if req.shape_default:
        fitted = len(ds.y) if req.test_path else int(len(ds.y) * (1 - req.test_size))
        spec = choose_default(req.model, ds.schema, notify, fitted) or spec
    y, classes = encode_classes(ds)
    if req.threshold is not None and ds.task != "binary":
        raise ConfigError("--threshold applies to binary classification only")
    name = spec.display_name(ds.task)
    t_load = time.perf_counter() - t0
    if not req.out:  # the default path names the model as the task calls it (logreg's regressor: linear)
        check_bundle_path(default_out(req.data.path, name))
    rows = holdout(req, ds, y, classes, notify)
    if isinstance(req.model.class_weight, dict):  # labels -> class indices, as the model sees them
        from mlcli.models.steps import class_weight_value

        req.model.class_weight = class_weight_value(spec.class_weight, req.model.class_weight, name, classes)
    pipeline = build_pipeline(ds.schema, req.model)
    findings = _before_fit(req, ds, notify, rows)
    summary = data_summary(ds)
    ds.frame = ds.X = None  # the split frames hold every row needed from here: let a large file's memory go
    release_memory()
    t1 = time.perf_counter()
    tuning = _tune_threshold(req, pipeline, rows, name, notify) if auto_threshold else None
    notify(f"fitting {name} on {len(rows.X_train)} rows, {len(ds.schema.used)} columns ({ds.task})")
    _fit(pipeline, rows.X_train, rows.y_train, name, notify)
    t_fit = time.perf_counter() - t1
    stopping = stopping_of(pipeline.steps[-1][1])
    if stopping:
        notify(stopping_line(stopping))
    train_hashes = _duplicates(rows, findings, notify)  # after the fit: the hashes add nothing to its peak
    t2 = time.perf_counter()
    if tuning:
        threshold = tuning["threshold"]
    else:
        threshold = req.threshold if req.threshold is not None else (0.5 if ds.task == "binary" else None)
    # held-out rows scored once, also at 0.5 when --threshold auto compares with it
    test_report, *at_half = measure_at(pipeline, rows.X_test, rows.y_test, ds.task, classes,
                                       [threshold, 0.5] if tuning else [threshold])
    t_eval = time.perf_counter() - t2
    train_report = measure(pipeline, rows.X_train, rows.y_train, ds.task, classes, threshold)
    train_report.y = train_report.pred = train_report.proba = None  # figures draw held-out rows only: free them
    if tuning:
        _compare_with_default(tuning, at_half[0], test_report)
    baseline = Baseline.fit(ds.task, rows.y_train, len(classes))
    base_scores = baseline.metrics(rows.y_test)
    calibration = _after_fit(req, ds.task, test_report, train_report.metrics, base_scores, tuning, findings, notify)
    importances = native_importances(pipeline)
    meta = bundle_meta(ds, req.model, classes, threshold, test_report.metrics, train_report.metrics,
                       importances, len(rows.X_train), len(rows.X_test), summary, baseline, findings.warnings,
                       early_stopping=stopping)
    path = save_bundle(req.out or default_out(req.data.path, name), pipeline, meta, train_rows=train_hashes,
                       sign_key=req.sign_key)
    timings = {"load": round(t_load, 3), "fit": round(t_fit, 3), "predict": round(t_eval, 3),
               "total": round(time.perf_counter() - t0, 3)}
    return TrainResult(name, ds.schema, len(rows.X_train), len(rows.X_test), test_report, train_report,
                       importances, timings, str(path), ds.target_reason, ds.dropped_rows, req.model.params,
                       ds.source, balance=_balance_label(req.model), threshold_tuning=tuning,
                       baseline=base_scores, findings=findings, early_stopping=stopping, calibration=calibration)


def _before_fit(req: TrainRequest, ds: Dataset, notify: Notify, rows: Holdout) -> Findings:
    """What to tell before fitting: a skewed target, columns that leak the target."""
    findings = target_advice(ds.y, ds.task, req.model.log_target)
    for line in findings.warnings:
        notify(line)
    findings.warnings = ds.warnings + findings.warnings  # told while reading; kept in the bundle and the JSON
    if ds.synthetic is not None and not req.test_path:
        made = int(ds.synthetic[rows.X_test.index.to_numpy()].sum())
        if made:
            findings.warnings.append(f"{made} of the {len(rows.X_test)} held-out rows were made by mlcli balance: "
                                     "the held-out metrics below are optimistic")
            warn(notify, findings.warnings[-1])
    if req.leak_check:
        findings.add(leak_screen(ds.schema, rows.X_train, rows.y_train, req.model.seed, notify))
    return findings


def _after_fit(req: TrainRequest, task: str, test: Any, train_metrics: dict[str, Any], base: dict[str, Any],
               tuning: Any, findings: Findings, notify: Notify) -> dict[str, Any] | None:
    """Warnings the held-out scores call for (experiments.verdicts), told now and kept in the bundle; returns
    the held-out calibration (classifiers with probabilities, else None)."""
    tried = {"threshold"} if tuning or req.threshold is not None else set()
    spec = get_spec(req.model.model)
    if req.model.calibrate:
        tried.add("calibrate")
    calibration = calibration_check(test.y, test.proba, base.get("brier")) if task != "regression" else None
    if calibration is not None:
        calibration["calibrated"] = calibration_meta(spec, req.model.calibrate, task)
    if req.model.class_weight is not None or (req.model.balance or "").lower() == "class-weight":
        tried.add("class-weight")
    if (req.model.balance or "none").lower() not in ("none", "class-weight"):
        tried.add("balance")
    found = after_fit(task, test.metrics, train_metrics, base, getattr(test, "minority", None), tried, calibration)
    for line in found.warnings:
        warn(notify, line)
    findings.add(found)
    return calibration


def _duplicates(rows: Holdout, findings: Findings, notify: Notify) -> np.ndarray:
    """Held-out rows that copy training rows (added to ``findings``); returns the training rows' hashes, which
    the bundle keeps."""
    train_hashes = row_hashes(rows.X_train, rows.y_train)
    duplicates = duplicates_across(train_hashes, row_hashes(rows.X_test, rows.y_test))
    for line in duplicates.warnings:
        warn(notify, line)
    findings.add(duplicates)
    return train_hashes


def _check_request(req: TrainRequest) -> tuple[Any, bool]:
    """(the model's registry entry, whether --threshold is auto), once every option is checked."""
    spec = get_spec(req.model.model)
    check_calibrate(req.model.calibrate, spec, req.data.task)
    auto_threshold = isinstance(req.threshold, str) and req.threshold.strip().lower() == "auto"
    if auto_threshold:
        from mlcli.experiments.threshold import check_optimize

        check_optimize(req.optimize)
    else:
        check_threshold(req.threshold)
    if not 0.0 < req.test_size < 1.0:
        raise ConfigError(f"--test-size must be between 0 and 1, got {req.test_size}")
    if req.out:
        check_bundle_path(req.out)
    return spec, auto_threshold


def _fit(pipeline: Any, X: pd.DataFrame, y: np.ndarray, model: str, notify: Notify = quiet) -> None:
    """The fit, with its progress on stderr once it runs a few seconds (models.fit_progress)."""
    from mlcli.models.fit_progress import fit_with_progress, wanted

    try:
        fit_with_progress(pipeline, X, y, f"fitting {model} on {len(X):,} rows", wanted(notify))
    except ValueError as exc:
        raise _fit_error(exc, model) from exc


def _tune_threshold(req: TrainRequest, pipeline: Any, rows: Holdout, model: str, notify: Notify) -> dict[str, Any]:
    """--threshold auto: the threshold chosen on out-of-fold predictions of the training rows only."""
    from mlcli.experiments.threshold import choose_threshold, oof_probabilities

    notify(f"choosing the decision threshold on out-of-fold predictions of the {len(rows.X_train)} training rows")
    try:
        oof = oof_probabilities(pipeline, rows.X_train, rows.y_train, req.model.seed)
    except ValueError as exc:
        raise _fit_error(exc, model) from exc
    value, how = choose_threshold(rows.y_train, oof, req.optimize)
    return {"threshold": round(value, 6), "chosen_by": how, "optimize": req.optimize}


def _compare_with_default(tuning: dict[str, Any], at_half: EvalReport, test_report: EvalReport) -> None:
    """The chosen threshold's held-out precision, recall, F1 and balanced accuracy beside those at 0.5."""
    default = at_half.metrics
    keys = ("precision", "recall", "f1", "balanced_accuracy")
    tuning["at_0.5"] = {k: default.get(k) for k in keys}
    tuning["at_threshold"] = {k: test_report.metrics.get(k) for k in keys}


def _balance_label(config: ModelConfig) -> str | None:
    if config.class_weight is not None or (config.balance or "").lower() == "class-weight":
        return "class-weight"
    return None if (config.balance or "none").lower() == "none" else config.balance


def bundle_meta(ds: Dataset, config: ModelConfig, classes: list[Any], threshold: float | None,
                metrics: dict[str, Any], train_metrics: dict[str, Any], importances: list[dict[str, Any]],
                train_rows: int, test_rows: int, summary: dict[str, Any] | None = None,
                baseline: Baseline | None = None, warnings: list[str] | None = None,
                early_stopping: dict[str, Any] | None = None) -> dict[str, Any]:
    """The mlcli.json of a bundle (shared by train and cv --save-best)."""
    spec = get_spec(config.model)
    summary = summary or data_summary(ds)
    return {
        "mlcli_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "libraries": library_versions(["sklearn", "numpy", "pandas", "joblib", spec.package]),
        "model": spec.display_name(ds.task), "task": ds.task, "target": ds.schema.target,
        "target_reason": ds.target_reason, "classes": classes,
        "threshold": threshold, "schema": ds.schema.to_dict(), "params": config.params,
        "preprocess": vars(config.preprocess), "seed": config.seed,
        "data": {"source": ds.source, **summary, "train_rows": train_rows, "test_rows": test_rows},
        "metrics": metrics, "train_metrics": train_metrics,
        "importances": importances[:20],
        "balance": _balance_label(config), "ratio": config.ratio,
        "class_weight": config.class_weight if not isinstance(config.class_weight, dict)
        else {str(k): v for k, v in config.class_weight.items()},
        "log_target": config.log_target,
        "baseline": baseline.to_dict() if baseline is not None else None,
        "warnings": warnings or [],
        "early_stopping": early_stopping,
        "calibration": calibration_meta(spec, config.calibrate, ds.task),
    }


def release_memory() -> None:
    """Give the memory of dropped frames back now: pandas frames sit in reference cycles (freed only by the
    cyclic collector), and Arrow's allocator keeps freed pages for itself unless asked to return them."""
    gc.collect()
    pa = sys.modules.get("pyarrow")
    if pa is not None:
        pa.default_memory_pool().release_unused()


def _fit_error(exc: ValueError, model: str) -> Exception:
    """Turn a parameter error raised by a library during fit into a one-line ConfigError."""
    first = first_line(exc)
    return ConfigError(f"model '{model}' could not be fitted: {first}")

"""mlcli train: load, infer, split, fit, measure, save."""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcli import __version__
from mlcli.errors import ConfigError, DataError
from mlcli.pipeline import metrics as M
from mlcli.pipeline.build import ModelConfig, build_pipeline
from mlcli.pipeline.bundle import library_versions, save_bundle
from mlcli.pipeline.data import (Schema, check_against_schema, choose_target, drop_missing_target, fingerprint,
                                 infer_schema, infer_task, prepare_frame, read_table)
from mlcli.pipeline.explain import native_importances  # the train/cv reports' compact form
from mlcli.pipeline.predict import check_threshold, class_labels, encode_target, predict_indices
from mlcli.registry.models import get_spec

Notify = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class DataOptions:
    """How to read a data file and what its columns are."""

    path: str
    target: str | None = None
    task: str | None = None
    sep: str | None = None
    encoding: str | None = None
    drop: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    numeric: list[str] = field(default_factory=list)


@dataclass
class Dataset:
    """A loaded data file with its target, task and roles decided."""

    frame: pd.DataFrame | None  # the raw frame (rows with a missing target removed); train frees it after the split
    X: pd.DataFrame | None
    y: pd.Series
    schema: Schema
    target_reason: str
    dropped_rows: int
    source: str

    @property
    def task(self) -> str:
        return self.schema.task


def load_dataset(opts: DataOptions, notify: Notify = _quiet, stdin: Any = None) -> Dataset:
    df = read_table(opts.path, sep=opts.sep, encoding=opts.encoding, stdin=stdin)
    target, reason = choose_target(df, opts.target)
    if reason != "given":
        notify(f"target: {reason}")
    df, n_missing = drop_missing_target(df, target)
    if n_missing:
        notify(f"dropped {n_missing} row(s) with a missing target '{target}'")
    task = infer_task(df[target], opts.task)
    schema = infer_schema(df, target, task, drop=opts.drop, categorical=opts.categorical, text=opts.text,
                          numeric=opts.numeric)
    for info in schema.columns:
        if info.role in ("identifier", "constant"):
            notify(f"dropped column '{info.name}': {info.role} ({info.reason}); keep it with --categorical/--numeric")
    notify("columns: " + "; ".join(f"{role} {', '.join(schema.by_role(role))}"
                                   for role in ("numeric", "categorical", "text", "datetime") if schema.by_role(role)))
    X = prepare_frame(df, schema)
    return Dataset(df, X, df[target], schema, reason, n_missing, opts.path if opts.path != "-" else "<stdin>")


def encode_classes(ds: Dataset) -> tuple[np.ndarray, list[Any]]:
    if ds.task == "regression":
        return pd.to_numeric(ds.y, errors="coerce").to_numpy(dtype=float), []
    classes = class_labels(ds.y)
    return encode_target(ds.y, classes), classes


def check_class_sizes(y_idx: np.ndarray, classes: list[Any], need: int, what: str) -> None:
    counts = np.bincount(y_idx, minlength=len(classes))
    small = [(classes[i], int(c)) for i, c in enumerate(counts) if c < need]
    if small:
        listing = ", ".join(f"'{c}' has {n}" for c, n in small)
        raise DataError(f"class too small for {what}: {listing} row(s), at least {need} needed; "
                        "remove or merge rare classes")


@dataclass
class EvalReport:
    """Metrics of a model on labelled rows (used by train, evaluate and cv)."""

    task: str
    metrics: dict[str, float | None]
    classes: list[Any] = field(default_factory=list)
    confusion: list[list[int]] | None = None
    per_class: list[dict[str, Any]] | None = None
    n_rows: int = 0
    threshold: float | None = None
    minority: dict[str, Any] | None = None  # set when the classes are imbalanced

    def to_dict(self) -> dict[str, Any]:
        d = {"task": self.task, "rows": self.n_rows, "metrics": self.metrics}
        if self.task != "regression":
            d.update(classes=self.classes, confusion_matrix=self.confusion, per_class=self.per_class)
            if self.threshold is not None:
                d["threshold"] = self.threshold
            if self.minority is not None:
                d["minority"] = self.minority
        return d


def measure(pipeline: Any, X: pd.DataFrame, y: np.ndarray, task: str, classes: list[Any],
            threshold: float | None = None) -> EvalReport:
    pred, proba = predict_indices(pipeline, X, task, threshold)
    if task == "regression":
        return EvalReport(task, M.regression_metrics(y, pred), n_rows=len(y))
    k = len(classes)
    per_class = M.per_class(y, pred, classes)
    metrics = M.classification_metrics(y, pred, proba, k)
    return EvalReport(task, metrics, classes, M.confusion(y, pred, k), per_class, len(y), threshold,
                      M.minority_summary(y, proba, per_class, metrics))


@dataclass
class TrainRequest:
    data: DataOptions
    model: ModelConfig
    test_size: float = 0.2
    test_path: str | None = None
    out: str | None = None
    threshold: float | str | None = None  # a probability, or 'auto' (chosen on out-of-fold predictions)
    optimize: str = "f1"  # what --threshold auto optimises: f1 | youden | precision=P | recall=R


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

    @property
    def gap(self) -> dict[str, Any]:
        key = M.MAIN_METRIC[self.schema.task]
        tr, te = self.train.metrics.get(key), self.test.metrics.get(key)
        if tr is None or te is None:
            return {"metric": key, "train": tr, "test": te, "gap": None}
        gap = (te - tr) if key in M.LOWER_IS_BETTER else (tr - te)
        rel = gap / abs(tr) if tr else 0.0
        return {"metric": key, "train": tr, "test": te, "gap": round(gap, 6),
                "overfitting": bool(rel > 0.1)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "train", "model": self.model, "task": self.schema.task, "target": self.schema.target,
            "data": self.source, "rows": {"train": self.n_train, "test": self.n_test,
                                          "dropped_missing_target": self.dropped_rows},
            "columns": [c.to_dict() for c in self.schema.columns],
            "params": self.params, "metrics": self.test.metrics, "train_metrics": self.train.metrics,
            "gap": self.gap, "test": self.test.to_dict(), "importances": self.importances,
            "timings": self.timings, "bundle": self.bundle, "balance": self.balance,
            "threshold_tuning": self.threshold_tuning,
        }


def default_out(data_path: str, model: str) -> str:
    stem = Path(data_path).stem if data_path != "-" else "stdin"
    return str(Path("models") / f"{stem}-{model}")


def train(req: TrainRequest, notify: Notify = _quiet, stdin: Any = None) -> TrainResult:
    from sklearn.model_selection import train_test_split

    t0 = time.perf_counter()
    spec = get_spec(req.model.model)  # an unknown model fails before the data is read
    auto_threshold = isinstance(req.threshold, str) and req.threshold.strip().lower() == "auto"
    if not auto_threshold:
        check_threshold(req.threshold)
    else:
        from mlcli.pipeline.balance import check_optimize

        check_optimize(req.optimize)
    if not 0.0 < req.test_size < 1.0:
        raise ConfigError(f"--test-size must be between 0 and 1, got {req.test_size}")
    ds = load_dataset(req.data, notify, stdin)
    y, classes = encode_classes(ds)
    if req.threshold is not None and ds.task != "binary":
        raise ConfigError("--threshold applies to binary classification only")
    t_load = time.perf_counter() - t0

    if req.test_path:
        test_df = read_table(req.test_path, sep=req.data.sep, encoding=req.data.encoding)
        if ds.schema.target not in test_df.columns:
            raise DataError(f"--test file {req.test_path} has no target column '{ds.schema.target}'")
        test_df, _ = drop_missing_target(test_df, ds.schema.target)
        X_train, y_train = ds.X, y
        X_test = check_against_schema(test_df, ds.schema, f"--test file {req.test_path}")
        y_test = (pd.to_numeric(test_df[ds.schema.target], errors="coerce").to_numpy(dtype=float)
                  if ds.task == "regression" else encode_target(test_df[ds.schema.target], classes))
    else:
        stratify = None
        if ds.task != "regression":
            check_class_sizes(y, classes, 2, "a stratified hold-out split")
            n_test = int(np.ceil(req.test_size * len(y)))
            if n_test < len(classes) or len(y) - n_test < len(classes):
                raise DataError(f"{len(y)} rows are too few for a stratified split with --test-size "
                                f"{req.test_size} over {len(classes)} classes; give a larger --test-size or more rows")
            stratify = y
        elif len(y) < 5:
            raise DataError(f"only {len(y)} rows: too few to hold out a test set")
        X_train, X_test, y_train, y_test = train_test_split(ds.X, y, test_size=req.test_size,
                                                            random_state=req.model.seed, stratify=stratify)
    if isinstance(req.model.class_weight, dict):  # labels -> class indices, as the model sees them
        from mlcli.pipeline.balance import class_weight_value

        req.model.class_weight = class_weight_value(spec.class_weight, req.model.class_weight, spec.name, classes)
    pipeline = build_pipeline(ds.schema, req.model)
    summary = data_summary(ds)
    ds.frame = ds.X = None  # the split frames hold every row needed from here: let a large file's memory go
    release_memory()
    t1 = time.perf_counter()
    tuning = None
    if auto_threshold:
        from mlcli.pipeline.balance import choose_threshold, oof_probabilities

        notify(f"choosing the decision threshold on out-of-fold predictions of the {len(X_train)} training rows")
        try:
            oof = oof_probabilities(pipeline, X_train, y_train, req.model.seed)
        except ValueError as exc:
            raise _fit_error(exc, spec.name) from exc
        value, how = choose_threshold(y_train, oof, req.optimize)
        tuning = {"threshold": round(value, 6), "chosen_by": how, "optimize": req.optimize}
    notify(f"fitting {spec.name} on {len(X_train)} rows, {len(ds.schema.used)} columns ({ds.task})")
    try:
        pipeline.fit(X_train, y_train)
    except ValueError as exc:
        raise _fit_error(exc, spec.name) from exc
    t_fit = time.perf_counter() - t1
    t2 = time.perf_counter()
    if tuning:
        threshold = tuning["threshold"]
    else:
        threshold = req.threshold if req.threshold is not None else (0.5 if ds.task == "binary" else None)
    test_report = measure(pipeline, X_test, y_test, ds.task, classes, threshold)
    t_eval = time.perf_counter() - t2
    train_report = measure(pipeline, X_train, y_train, ds.task, classes, threshold)
    if tuning:
        default = measure(pipeline, X_test, y_test, ds.task, classes, 0.5).metrics
        keys = ("precision", "recall", "f1", "balanced_accuracy")
        tuning["at_0.5"] = {k: default.get(k) for k in keys}
        tuning["at_threshold"] = {k: test_report.metrics.get(k) for k in keys}
    importances = native_importances(pipeline)

    out = req.out or default_out(req.data.path, spec.name)
    meta = bundle_meta(ds, req.model, classes, threshold, test_report.metrics, train_report.metrics,
                       importances, len(X_train), len(X_test), summary)
    path = save_bundle(out, pipeline, meta)
    timings = {"load": round(t_load, 3), "fit": round(t_fit, 3), "predict": round(t_eval, 3),
               "total": round(time.perf_counter() - t0, 3)}
    return TrainResult(spec.name, ds.schema, len(X_train), len(X_test), test_report, train_report, importances,
                       timings, str(path), ds.target_reason, ds.dropped_rows, req.model.params, ds.source,
                       balance=_balance_label(req.model), threshold_tuning=tuning)


def _balance_label(config: ModelConfig) -> str | None:
    if config.class_weight is not None or (config.balance or "").lower() == "class-weight":
        return "class-weight"
    return None if (config.balance or "none").lower() == "none" else config.balance


def bundle_meta(ds: Dataset, config: ModelConfig, classes: list[Any], threshold: float | None,
                metrics: dict[str, Any], train_metrics: dict[str, Any], importances: list[dict[str, Any]],
                train_rows: int, test_rows: int, summary: dict[str, Any] | None = None) -> dict[str, Any]:
    """The mlcli.json of a bundle (shared by train and cv --save-best)."""
    spec = get_spec(config.model)
    summary = summary or data_summary(ds)
    return {
        "mlcli_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "libraries": library_versions(*{"xgboost": ("xgboost-cpu", "xgboost"), "lightgbm": ("lightgbm",),
                                         "catboost": ("catboost",)}.get(spec.package, ())),
        "model": spec.name, "task": ds.task, "target": ds.schema.target, "classes": classes,
        "threshold": threshold, "schema": ds.schema.to_dict(), "params": config.params,
        "preprocess": vars(config.preprocess), "seed": config.seed,
        "data": {"source": ds.source, **summary, "train_rows": train_rows, "test_rows": test_rows},
        "metrics": metrics, "train_metrics": train_metrics,
        "importances": importances[:20],
        "balance": _balance_label(config), "ratio": config.ratio,
        "class_weight": config.class_weight if not isinstance(config.class_weight, dict)
        else {str(k): v for k, v in config.class_weight.items()},
    }


def release_memory() -> None:
    """Give the memory of dropped frames back now: pandas frames sit in reference cycles (freed only by the
    cyclic collector), and Arrow's allocator keeps freed pages for itself unless asked to return them."""
    gc.collect()
    pa = sys.modules.get("pyarrow")
    if pa is not None:
        pa.default_memory_pool().release_unused()


def data_summary(ds: Dataset) -> dict[str, Any]:
    """What a bundle records of the data it was trained from."""
    return {"fingerprint": fingerprint(ds.frame), "rows": len(ds.frame)}


def _fit_error(exc: ValueError, model: str) -> Exception:
    """Turn a parameter error raised by a library during fit into a one-line ConfigError."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ConfigError(f"model '{model}' could not be fitted: {first}")

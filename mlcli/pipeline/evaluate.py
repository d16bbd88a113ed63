"""mlcli evaluate and mlcli predict: a saved bundle applied to new data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcli.errors import DataError, did_you_mean
from mlcli.pipeline.bundle import Bundle, load_bundle
from mlcli.pipeline.data import check_against_schema, read_table
from mlcli.pipeline.predict import check_threshold, decode, encode_target, predict_indices
from mlcli.pipeline.train import EvalReport, measure


@dataclass
class EvaluateResult:
    bundle: str
    model: str
    source: str
    report: EvalReport
    dropped_rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"command": "evaluate", "bundle": self.bundle, "model": self.model, "data": self.source,
                "dropped_missing_target": self.dropped_rows, **self.report.to_dict()}


def _threshold(bundle: Bundle, threshold: float | None) -> float | None:
    check_threshold(threshold)
    if threshold is not None and bundle.task != "binary":
        raise DataError("--threshold applies to binary classification models only")
    return threshold if threshold is not None else bundle.threshold


def evaluate(bundle_path: str, data_path: str, *, sep: str | None = None, encoding: str | None = None,
             threshold: float | None = None, stdin: Any = None) -> EvaluateResult:
    bundle = load_bundle(bundle_path)
    thr = _threshold(bundle, threshold)
    df = read_table(data_path, sep=sep, encoding=encoding, stdin=stdin)
    target = bundle.meta["target"]
    if target not in df.columns:
        raise DataError(f"evaluate needs labelled data: target column '{target}' not found in {data_path}"
                        f"{did_you_mean(target, df.columns)}; use 'mlcli predict' for unlabelled rows")
    missing = int(df[target].isna().sum())
    df = df[df[target].notna()].reset_index(drop=True)
    if df.empty:
        raise DataError(f"every row of {data_path} has a missing target '{target}'")
    X = check_against_schema(df, bundle.schema, data_path if data_path != "-" else "<stdin>")
    if bundle.task == "regression":
        y = pd.to_numeric(df[target], errors="coerce")
        if y.isna().any():
            raise DataError(f"target '{target}' has non-numeric values like '{df[target][y.isna()].iloc[0]}'")
        y = y.to_numpy(dtype=float)
    else:
        y = encode_target(df[target], bundle.classes)
    report = measure(bundle.pipeline, X, y, bundle.task, bundle.classes, thr)
    return EvaluateResult(str(bundle.path), bundle.meta.get("model", "?"), data_path, report, missing)


def predict(bundle_path: str, data_path: str, *, keep: list[str] | None = None, sep: str | None = None,
            encoding: str | None = None, threshold: float | None = None, stdin: Any = None) -> pd.DataFrame:
    """One row per input row: the kept columns, the prediction and (classifiers) a probability per class."""
    bundle = load_bundle(bundle_path)
    thr = _threshold(bundle, threshold)
    df = read_table(data_path, sep=sep, encoding=encoding, stdin=stdin)
    keep_cols = [c.strip() for k in keep or [] for c in k.split(",") if c.strip()]
    for col in keep_cols:
        if col not in df.columns:
            raise DataError(f"--keep column '{col}' not found{did_you_mean(col, df.columns)}")
    X = check_against_schema(df, bundle.schema, data_path if data_path != "-" else "<stdin>")
    pred, proba = predict_indices(bundle.pipeline, X, bundle.task, thr)
    out = df[keep_cols].copy() if keep_cols else pd.DataFrame(index=df.index)
    name = "prediction" if "prediction" not in out.columns else "mlcli_prediction"
    if bundle.task == "regression":
        out[name] = pred
        return out
    out[name] = decode(pred, bundle.classes)
    if proba is not None:
        for i, cls in enumerate(bundle.classes):
            out[f"proba_{cls}"] = np.round(proba[:, i], 6)
    return out

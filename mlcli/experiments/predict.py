"""mlcli predict: a saved bundle's predictions for new rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import Notify, quiet, tell
from mlcli.data.read import read_table
from mlcli.data.schema import check_against_schema
from mlcli.errors import DataError, did_you_mean
from mlcli.evaluation.scoring import decode, predict_indices
from mlcli.experiments.evaluate import resolve_threshold
from mlcli.models.bundle import UNSUPERVISED_TASKS, load_bundle


def predict(bundle_path: str, data_path: str, *, keep: list[str] | None = None, sep: str | None = None,
            encoding: str | None = None, threshold: float | None = None, stdin: Any = None,
            trust_pickle: bool = False, notify: Notify = quiet) -> pd.DataFrame:
    """One row per input row: the kept columns, the prediction and (classifiers) a probability per class."""
    bundle = load_bundle(bundle_path, trust_pickle=trust_pickle, notify=notify)
    thr = resolve_threshold(bundle, threshold)
    df = read_table(data_path, sep=sep, encoding=encoding, stdin=stdin)
    tell(df, notify)
    keep_cols = [c.strip() for k in keep or [] for c in k.split(",") if c.strip()]
    for col in keep_cols:
        if col not in df.columns:
            raise DataError(f"--keep column '{col}' not found{did_you_mean(col, df.columns)}")
    X = check_against_schema(df, bundle.schema, data_path if data_path != "-" else "<stdin>", notify=notify)
    if bundle.task in UNSUPERVISED_TASKS:  # a cluster or reduce bundle: assign or transform the rows
        from mlcli.experiments.unsupervised.place import place_rows

        return place_rows(bundle, X, df[keep_cols].copy() if keep_cols else pd.DataFrame(index=df.index))
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

"""The leak check: a column that alone nearly determines the target."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlcli.data.schema import Schema
from mlcli.evaluation.metrics import main_score
from mlcli.explain.results import MethodResult

LEAK_SHARE = 0.5  # a column carrying at least this share of the importance ...
LEAK_SCORE = {"roc_auc": 0.97, "f1_macro": 0.97, "r2": 0.95}  # ... and scoring this well on its own
DOMINANT_SHARE = 0.8  # without labelled data: a column carrying this share gets a hint


def single_column_score(schema: Schema, X: pd.DataFrame, y: np.ndarray, column: str, seed: int = 42
                        ) -> tuple[str, float] | None:
    """How well ``column`` alone predicts the target: a small tree's cross-validated main metric (R² for
    regression). None when there are too few rows to tell."""
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

    from mlcli.models.build import ModelConfig, build_pipeline

    info = next((c for c in schema.used if c.name == column), None)
    if info is None or len(X) < 30:
        return None
    task = schema.task
    sub = Schema(schema.target, task, [info])
    pipe = build_pipeline(sub, ModelConfig("tree", {"max_depth": 6, "min_samples_leaf": 5}, seed=seed,
                                           n_threads=1))
    Xc = X[[column]].reset_index(drop=True)
    if task == "regression":
        cv = KFold(3, shuffle=True, random_state=seed)
        pred = cross_val_predict(pipe, Xc, y, cv=cv)
        from sklearn.metrics import r2_score

        return "r2", float(r2_score(y, pred))
    counts = np.bincount(y)
    if counts[counts > 0].min() < 3:
        return None
    cv = StratifiedKFold(3, shuffle=True, random_state=seed)
    proba = cross_val_predict(pipe, Xc, y, cv=cv, method="predict_proba")
    k = proba.shape[1]
    metric, score = main_score(task, y, proba.argmax(axis=1), proba, k)
    return metric, score


def leak_warnings(results: dict[str, MethodResult], schema: Schema, X: pd.DataFrame | None,
                  y: np.ndarray | None, seed: int = 42) -> list[str]:
    """A warning for a column that carries most of the importance and alone nearly predicts the target."""
    out = []
    checked: set[str] = set()
    for res in results.values():
        if not res.features:
            continue
        top = res.features[0]
        if top.name in checked or top.name.startswith("("):
            continue
        if X is None or y is None:
            if top.share >= DOMINANT_SHARE:
                checked.add(top.name)
                out.append(f"column '{top.name}' carries {top.share:.0%} of the {res.method} importance; give "
                           "labelled DATA to check whether it leaks the target")
            continue
        if top.share < LEAK_SHARE:
            continue
        checked.add(top.name)
        got = single_column_score(schema, X, y, top.name, seed)
        if got is None:
            continue
        metric, score = got
        if score >= LEAK_SCORE.get(metric, 1.1):
            shown = "R²" if metric == "r2" else metric
            out.append(f"possible leak: column '{top.name}' carries {top.share:.0%} of the {res.method} importance "
                       f"and alone predicts '{schema.target}' ({shown} {score:.3f} on its own); check it is not "
                       "a copy of the target or recorded after the outcome")
    return out

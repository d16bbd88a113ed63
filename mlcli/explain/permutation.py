"""Permutation importance: the drop in the task's main metric when one raw user column is shuffled *before*
preprocessing, so a one-hot or TF-IDF column counts as the one column the user knows.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.schema import Schema
from mlcli.errors import ConfigError, DataError
from mlcli.evaluation.metrics import LOWER_IS_BETTER, MAIN_METRIC, main_score
from mlcli.evaluation.scoring import predict_indices
from mlcli.explain.results import Importance, MethodResult, round_or_none, set_shares


def permutation(pipeline: Any, schema: Schema, X: pd.DataFrame, y: np.ndarray, task: str, classes: list[Any],
                repeats: int = 5, seed: int = 42, threshold: float | None = None) -> MethodResult:
    """Shuffle each raw user column ``repeats`` times; importance = mean drop in the main metric."""
    t0 = time.perf_counter()
    if repeats < 1:
        raise ConfigError(f"--repeats must be at least 1, got {repeats}")
    if task != "regression" and len(np.unique(y)) < 2 and MAIN_METRIC[task] == "roc_auc":
        raise DataError("permutation importance in ROC AUC needs labelled rows of both classes; the data has "
                        f"only '{classes[int(y[0])]}'")
    k = len(classes)
    pred, proba = predict_indices(pipeline, X, task, threshold)
    metric, baseline = main_score(task, y, pred, proba, k)
    lower = metric in LOWER_IS_BETTER
    rng = np.random.default_rng(seed)
    n = len(X)
    per_batch = max(1, min(repeats, 200_000 // max(n, 1)))
    items = []
    for col in [c.name for c in schema.used]:
        drops: list[float] = []
        done = 0
        while done < repeats:
            b = min(per_batch, repeats - done)
            frames = []
            for _ in range(b):
                Xp = X.copy()
                Xp[col] = X[col].to_numpy()[rng.permutation(n)]
                frames.append(Xp)
            big = pd.concat(frames, ignore_index=True)
            bp, bproba = predict_indices(pipeline, big, task, threshold)
            for r in range(b):
                sl = slice(r * n, (r + 1) * n)
                _, score = main_score(task, y, bp[sl], None if bproba is None else bproba[sl], k)
                drops.append((score - baseline) if lower else (baseline - score))
            done += b
        items.append(Importance(col, float(np.mean(drops)), float(np.std(drops)), None))
    set_shares(items)
    items.sort(key=lambda i: -i.importance)
    measure = (f"increase in {metric} when the column is shuffled" if lower
               else f"drop in {metric} when the column is shuffled") + f" (mean ± std over {repeats} repeats)"
    return MethodResult("permutation", measure, items, time.perf_counter() - t0,
                        {"metric": metric, "baseline": round_or_none(baseline), "repeats": repeats, "rows": n})

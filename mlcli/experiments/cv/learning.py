"""cv --learning-curve: the leading models refitted on growing shares of each fold's training rows.

Each point fits the whole pipeline (preprocessing + model) on a stratified subsample of a fold's training rows
and scores it on that fold's held-out rows and on the rows it was fitted on, with the leaderboard's metric: the
gap between the two lines shows overfitting, their slope at the right edge whether more data would help.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import Notify, quiet
from mlcli.evaluation.report import measure
from mlcli.experiments.cv.folds import Split
from mlcli.experiments.cv.leaderboard import Row
from mlcli.models.build import ModelConfig, build_pipeline
from mlcli.models.registry import get_spec

SHARES = (0.1, 0.25, 0.5, 0.75, 1.0)
TOP = 3  # the leading models drawn (every point costs one fit per fold)


def _subsample(train: np.ndarray, y: np.ndarray, share: float, task: str, seed: int) -> np.ndarray | None:
    """A share of the training rows (stratified for classifiers), or None when too few rows remain."""
    if share >= 1.0:
        return train
    n = int(round(share * len(train)))
    classes = len(np.unique(y[train])) if task != "regression" else 0
    if n < max(10, 2 * classes):
        return None
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(train, train_size=n, random_state=seed,
                               stratify=y[train] if task != "regression" else None)
    return np.sort(keep)


def learning_curve(rows: list[Row], configs: dict[str, ModelConfig], schema: Any, X: pd.DataFrame, y: np.ndarray,
                   task: str, classes: list[Any], splits: list[Split], metric: str, seed: int,
                   notify: Notify = quiet) -> dict[str, Any]:
    """{"metric", "shares", "models": {label: [point, ...]}} for the TOP ranked models (the first repeat's
    folds); a point holds the mean training rows and the mean ± SD of the metric on test and training rows."""
    leaders = [r for r in rows if r.rank is not None and not get_spec(r.candidate.model).baseline][:TOP]
    folds = [s for s in splits if s.repeat == 0]
    out: dict[str, Any] = {"metric": metric, "shares": list(SHARES), "folds": len(folds), "models": {}}
    for row in leaders:
        label = row.candidate.label
        notify(f"learning curve: {label} at {len(SHARES)} training-set sizes x {len(folds)} folds")
        points = []
        for share in SHARES:
            test, train, sizes = [], [], []
            for split in folds:
                idx = _subsample(split.train, y, share, task, seed + split.fold)
                if idx is None:
                    continue
                pipe = build_pipeline(schema, configs[label])
                try:
                    pipe.fit(X.iloc[idx], y[idx])
                except ValueError:  # e.g. a parameter the subsample cannot satisfy (too few rows per class)
                    continue
                test.append(measure(pipe, X.iloc[split.test], y[split.test], task, classes).metrics.get(metric))
                train.append(measure(pipe, X.iloc[idx], y[idx], task, classes).metrics.get(metric))
                sizes.append(len(idx))
            test = [v for v in test if v is not None]
            train = [v for v in train if v is not None]
            if test and train:
                points.append({"share": share, "train_rows": int(np.mean(sizes)),
                               "test_mean": round(float(np.mean(test)), 6), "test_std": round(float(np.std(test)), 6),
                               "train_mean": round(float(np.mean(train)), 6),
                               "train_std": round(float(np.std(train)), 6)})
        out["models"][label] = points
    return out

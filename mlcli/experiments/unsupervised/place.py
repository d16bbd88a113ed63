"""mlcli predict on a cluster or reduce bundle: new rows assigned to clusters or given coordinates.

k-means: the nearest centre; Gaussian mixture: the most probable component, with every membership
probability; agglomerative: the nearest cluster centre; DBSCAN: the cluster of the nearest core sample when it
lies within eps, else noise (-1). PCA: the coordinates on the saved components (the scaling learned from the
original rows is applied first).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlcli.evaluation.scoring import _in_slices
from mlcli.experiments.unsupervised.data import free_name


def place_rows(bundle: Any, X: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
    """``out`` (the kept columns) with the cluster (and probabilities) or the coordinates of every row."""
    pipeline = bundle.pipeline
    if bundle.task == "reduction":
        coords = _in_slices(pipeline.transform, X)
        names = bundle.meta.get("components") or [f"dim{i + 1}" for i in range(coords.shape[1])]
        for i, name in enumerate(names):
            out[free_name(out, name)] = np.round(coords[:, i], 6)
        return out
    out[free_name(out, "cluster")] = _in_slices(pipeline.predict, X).astype(np.int64)
    if hasattr(pipeline.steps[-1][1], "predict_proba"):
        proba = _in_slices(pipeline.predict_proba, X)
        for j in range(proba.shape[1]):
            out[free_name(out, f"proba_{j}")] = np.round(proba[:, j], 6)
    return out

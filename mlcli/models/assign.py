"""How a saved clustering assigns new rows when its method has no ``predict`` of its own.

Both are plain scikit-learn estimators built from a finished clustering (the preprocessed rows and their
labels): their state is arrays and numbers, so a bundle stores them through skops and loads them as trusted
mlcli steps (``mlcli.models.persist.STEP_MODULES``).

- :class:`CentroidAssigner` (agglomerative clustering): a new row joins the cluster whose centre (the mean of
  its rows) is nearest.
- :class:`CoreSampleAssigner` (DBSCAN): a new row joins the cluster of its nearest core sample when that core
  sample lies within ``eps``; otherwise it is noise (-1). This is DBSCAN's own rule for a border point, applied
  to rows it never saw; new rows never become core samples and never merge clusters.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

NOISE = -1


def _nearest(points: np.ndarray, X: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest point, its Euclidean distance) for every row of X, a slice of rows at a time."""
    X = np.asarray(X, dtype=np.float64)
    index = np.empty(len(X), dtype=np.int64)
    dist = np.empty(len(X), dtype=np.float64)
    sq = (points ** 2).sum(axis=1)
    for start in range(0, len(X), chunk):
        part = X[start:start + chunk]
        d2 = (part ** 2).sum(axis=1)[:, None] - 2 * part @ points.T + sq[None, :]
        j = d2.argmin(axis=1)
        index[start:start + chunk] = j
        dist[start:start + chunk] = np.sqrt(np.maximum(d2[np.arange(len(part)), j], 0.0))
    return index, dist


class CentroidAssigner(ClusterMixin, BaseEstimator):
    """Nearest cluster centre; fitted from rows and the cluster labels a method gave them."""

    def fit(self, X, y):
        X = np.asarray(X, dtype=np.float64)
        labels = np.asarray(y)
        self.labels_ = np.unique(labels[labels != NOISE])
        self.cluster_centers_ = np.vstack([X[labels == c].mean(axis=0) for c in self.labels_])
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        check_is_fitted(self, "cluster_centers_")
        index, _ = _nearest(self.cluster_centers_, X)
        return self.labels_[index]


class CoreSampleAssigner(ClusterMixin, BaseEstimator):
    """The cluster of the nearest core sample within ``eps``, else noise (-1)."""

    def __init__(self, eps: float = 0.5):
        self.eps = eps

    def fit(self, X, y, core_sample_indices=None):
        X = np.asarray(X, dtype=np.float64)
        labels = np.asarray(y)
        core = np.asarray(core_sample_indices if core_sample_indices is not None else np.flatnonzero(labels != NOISE),
                          dtype=np.int64)
        self.components_ = X[core]
        self.core_labels_ = labels[core]
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        check_is_fitted(self, "components_")
        if len(self.components_) == 0:
            return np.full(len(X), NOISE, dtype=np.int64)
        index, dist = _nearest(self.components_, X)
        return np.where(dist <= self.eps, self.core_labels_[index], NOISE).astype(np.int64)

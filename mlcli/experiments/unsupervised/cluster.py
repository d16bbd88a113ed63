"""mlcli cluster: k-means, Gaussian mixtures, DBSCAN and agglomerative clustering of a file's rows.

k is given (``--k 3``) or chosen from a range (``--k 2..12``) by the highest silhouette (Gaussian mixtures: the
lowest BIC, silhouette shown beside it). DBSCAN takes no k; its ``eps`` is read off the k-distance curve when
not given (the knee: the point of the sorted distances to the min_samples-th neighbour furthest from the
straight line joining the curve's ends).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import Notify, quiet
from mlcli.errors import ConfigError, DataError
from mlcli.experiments.unsupervised.data import (
    UnsupervisedRequest,
    check_out,
    fit_matrix,
    fitting,
    kept_columns,
    label_codes,
    load,
    save,
    thread_limit,
)
from mlcli.models.unsupervised import check_method_params, get_method, make_method

DEFAULT_K = (2, 10)
SILHOUETTE_SAMPLE = 5000  # silhouette is O(rows^2): above this many rows it is measured on a seeded sample
SELECTION_SAMPLE = 2000  # ... and on a smaller one while choosing k (each k of the range pays it)
MAX_AGGLOMERATIVE = 30000  # Ward's linkage keeps a rows x rows distance matrix


def parse_k(text: str | None) -> tuple[int, int] | None:
    """--k N or --k A..B (inclusive) -> (low, high); None when not given."""
    if text is None:
        return None
    low, sep, high = text.strip().partition("..")
    try:
        a, b = (int(low), int(high)) if sep else (int(low), int(low))
    except ValueError:
        raise ConfigError(f"--k expects a number of clusters (3) or a range (2..12), got '{text}'") from None
    if a < 2 or b < 2:
        raise ConfigError(f"--k must be at least 2 (one cluster is no clustering), got '{text}'")
    if sep and a >= b:
        raise ConfigError(f"--k range '{text}' holds {'one value' if a == b else 'no values'}; give a number "
                          f"(--k {a}) or a range from low to high (--k 2..12)")
    return a, b


@dataclass
class ClusterRequest(UnsupervisedRequest):
    k: str | None = None
    eps: float | None = None


@dataclass
class ClusterResult:
    doc: dict[str, Any]
    rows: pd.DataFrame
    labels: np.ndarray  # the cluster of every row (-1: DBSCAN's noise)
    Z: np.ndarray  # the rows as the method saw them (scaled, one-hot): for figures


def silhouette(Z: np.ndarray, labels: np.ndarray, seed: int, most: int = SILHOUETTE_SAMPLE) -> float | None:
    from sklearn.metrics import silhouette_score

    keep = labels != -1
    Z, labels = Z[keep], labels[keep]
    if len(np.unique(labels)) < 2 or len(np.unique(labels)) >= len(labels):
        return None
    sample = most if len(labels) > most else None
    return float(silhouette_score(Z, labels, sample_size=sample, random_state=seed))


def quality(Z: np.ndarray, labels: np.ndarray, seed: int) -> dict[str, Any]:
    """Silhouette (higher is better, -1..1), Davies-Bouldin (lower is better) and Calinski-Harabasz (higher is
    better), on the rows that are not noise."""
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    keep = labels != -1
    n_clusters = len(np.unique(labels[keep]))
    out: dict[str, Any] = {"clusters": n_clusters, "noise_share": round(float(1 - keep.mean()), 4)}
    sil = silhouette(Z, labels, seed)
    out["silhouette"] = None if sil is None else round(sil, 4)
    ok = n_clusters >= 2 and n_clusters < keep.sum()
    out["davies_bouldin"] = round(float(davies_bouldin_score(Z[keep], labels[keep])), 4) if ok else None
    out["calinski_harabasz"] = round(float(calinski_harabasz_score(Z[keep], labels[keep])), 2) if ok else None
    return out


def _fit_k(spec: Any, req: ClusterRequest, Z: np.ndarray, k: int, cache: str | None = None) -> tuple[Any, np.ndarray]:
    extra: dict[str, Any] = {spec.k_param: k}
    if cache is not None:  # agglomerative: the merge tree is built once and cut at every k
        extra.update(memory=cache, compute_full_tree=True)
    est = make_method(spec, req.params, seed=req.seed, threads=req.threads, extra=extra)
    if spec.name == "gmm":
        est.fit(Z)
        return est, est.predict(Z)
    return est, est.fit_predict(Z)


def _selection_row(spec: Any, req: ClusterRequest, Z: np.ndarray, k: int, est: Any, labels: np.ndarray
                   ) -> dict[str, Any]:
    sil = silhouette(Z, labels, req.seed, SELECTION_SAMPLE)
    row: dict[str, Any] = {"k": k, "silhouette": None if sil is None else round(sil, 4)}
    if spec.name == "kmeans":
        row["inertia"] = round(float(est.inertia_), 3)
    if spec.name == "gmm":
        row["bic"] = round(float(est.bic(Z)), 2)
    return row


def _no_folder() -> Any:
    import contextlib

    return contextlib.nullcontext(None)


def choose_k(spec: Any, req: ClusterRequest, Z: np.ndarray, k_range: tuple[int, int], notify: Notify
             ) -> tuple[int, list[dict[str, Any]], dict[int, tuple[Any, np.ndarray]], str]:
    """Fit every k of the range; (chosen k, the table, the fits, why it was chosen)."""
    import tempfile

    table, fits = [], {}
    several = spec.name == "agglomerative" and k_range[0] < k_range[1]
    with tempfile.TemporaryDirectory(prefix="mlcli-tree-") if several else _no_folder() as cache:
        for k in range(k_range[0], k_range[1] + 1):
            est, labels = _fit_k(spec, req, Z, k, cache)
            fits[k] = (est, labels)
            table.append(_selection_row(spec, req, Z, k, est, labels))
            notify(f"k={k}: silhouette {table[-1]['silhouette']}"
                   + (f", BIC {table[-1]['bic']}" if "bic" in table[-1] else ""))
    if k_range[0] == k_range[1]:
        return k_range[0], [], fits, "given"
    if spec.name == "gmm":
        best = min(table, key=lambda r: r["bic"])
        reason = f"lowest BIC over k = {k_range[0]}..{k_range[1]}"
    else:
        best = max(table, key=lambda r: -np.inf if r["silhouette"] is None else r["silhouette"])
        reason = f"highest silhouette over k = {k_range[0]}..{k_range[1]}"
    for row in table:
        row["chosen"] = row["k"] == best["k"]
    return best["k"], table, fits, reason


def knee(values: np.ndarray) -> int:
    """Index of the knee of an increasing curve: the point furthest from the chord joining its ends."""
    y = np.asarray(values, dtype=float)
    x = np.linspace(0.0, 1.0, len(y))
    span = y[-1] - y[0]
    if span <= 0:
        return len(y) // 2
    return int(np.argmax(x - (y - y[0]) / span))


def suggest_eps(Z: np.ndarray, min_samples: int) -> tuple[float, list[float]]:
    """(eps at the knee of the k-distance curve, the curve at 50 quantiles for a plot or table)."""
    from sklearn.neighbors import NearestNeighbors

    k = min(min_samples, len(Z) - 1)
    dist, _ = NearestNeighbors(n_neighbors=k).fit(Z).kneighbors(Z)  # the row itself is its own first neighbour
    curve = np.sort(dist[:, -1])
    eps = float(curve[knee(curve)])
    if eps <= 0:
        eps = float(curve[curve > 0][0]) if (curve > 0).any() else 0.5
    return eps, [round(float(v), 4) for v in np.quantile(curve, np.linspace(0, 1, 50))]


def _dbscan(spec: Any, req: ClusterRequest, Z: np.ndarray, notify: Notify) -> tuple[Any, np.ndarray, dict]:
    from mlcli.models.assign import CoreSampleAssigner

    min_samples = int(req.params.get("min_samples", spec.defaults["min_samples"]))
    given = req.eps if req.eps is not None else req.params.get("eps")  # --eps, or --param eps=...
    info: dict[str, Any] = {"eps": given, "eps_reason": "given", "k_distance": None}
    if given is None:
        info["eps"], info["k_distance"] = suggest_eps(Z, min_samples)
        info["eps_reason"] = f"knee of the {min_samples}-distance curve"
        notify(f"eps = {info['eps']:.4g}: the knee of the {min_samples}-distance curve (give --eps to set it)")
    est = make_method(spec, {k: v for k, v in req.params.items() if k != "eps"}, threads=req.threads,
                      extra={"eps": info["eps"]})
    labels = est.fit_predict(Z)
    final = CoreSampleAssigner(eps=info["eps"]).fit(Z, labels, est.core_sample_indices_)
    info["eps"] = round(float(info["eps"]), 6)
    return final, labels, info


def label_agreement(labels: np.ndarray, label: pd.Series) -> dict[str, Any]:
    """Adjusted Rand index and normalised mutual information against a known grouping, and the cluster x label
    table (counts)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    mask, truth = label_codes(label)
    table = pd.crosstab(pd.Series(labels[mask], name="cluster"), pd.Series(truth, name=str(label.name)))
    return {"column": str(label.name), "rows": int(mask.sum()),
            "ari": round(float(adjusted_rand_score(truth, labels[mask])), 4),
            "nmi": round(float(normalized_mutual_info_score(truth, labels[mask])), 4),
            "labels": [str(c) for c in table.columns],
            "table": [{"cluster": int(c), "counts": [int(v) for v in table.loc[c]]} for c in table.index]}


def run_cluster(req: ClusterRequest, notify: Notify = quiet, stdin: Any = None) -> ClusterResult:
    """Cluster the rows of ``req.data``: the report document and one output row per input row."""
    t0 = time.perf_counter()
    spec = get_method("cluster", req.method)
    k_range = _check(spec, req)
    loaded = load(req, notify, stdin, "cluster")
    if req.k is None:  # the default range stops below the number of rows
        k_range = (k_range[0], min(k_range[1], len(loaded.frame) - 1))
    _check_rows(spec, k_range, len(loaded.frame))
    pre, Z = fit_matrix(loaded, req.scale)
    with thread_limit(req.threads, Z), fitting(spec):
        doc, final, labels, rows = _cluster(spec, req, loaded, Z, k_range, notify)
    doc["bundle"] = save(req.out, loaded, pre, final, "clustering", spec.name, req.params, req.seed,
                         doc["metrics"], {"k": doc["k"]}) if req.out else None
    doc["seconds"] = round(time.perf_counter() - t0, 3)
    return ClusterResult(doc, rows, labels, Z)


def _cluster(spec: Any, req: ClusterRequest, loaded: Any, Z: np.ndarray, k_range: tuple[int, int], notify: Notify
             ) -> tuple[dict[str, Any], Any, np.ndarray, pd.DataFrame]:
    from mlcli.experiments.unsupervised.profile import cluster_profiles

    doc: dict[str, Any] = {"command": "cluster", "model": spec.name, "method": spec.name, "task": "clustering",
                           "source": loaded.source, "rows": len(Z), "features": int(Z.shape[1]),
                           "columns": [c.name for c in loaded.schema.used], "params": req.params}
    if spec.name == "dbscan":
        final, labels, info = _dbscan(spec, req, Z, notify)
        doc.update(k=None, k_reason=None, selection=[], **info)
    else:
        k, table, fits, reason = choose_k(spec, req, Z, k_range, notify)
        final, labels = fits[k]
        doc.update(k=k, k_reason=reason, selection=table)
        if spec.name == "agglomerative":
            from mlcli.models.assign import CentroidAssigner

            final = CentroidAssigner().fit(Z, labels)
    labels = np.asarray(labels, dtype=np.int64)
    doc["metrics"] = quality(Z, labels, req.seed)
    values, counts = np.unique(labels, return_counts=True)
    doc["sizes"] = [{"cluster": int(c), "count": int(n), "share": round(n / len(labels), 4)}
                    for c, n in zip(values, counts)]
    doc["profile"] = cluster_profiles(loaded.frame, loaded.schema, labels)
    doc["label"] = label_agreement(labels, loaded.label) if loaded.label is not None else None
    if doc["label"]:
        doc["metrics"].update(ari=doc["label"]["ari"], nmi=doc["label"]["nmi"])
    rows = _rows(loaded, req, labels, final if spec.name == "gmm" else None, Z)
    return doc, final, labels, rows


def _check(spec: Any, req: ClusterRequest) -> tuple[int, int]:
    """Everything about the options that can be refused before the data is read."""
    k_range = parse_k(req.k)
    if spec.name == "dbscan" and k_range is not None:
        raise ConfigError("DBSCAN finds the number of clusters itself: leave out --k (set --eps, or "
                          "--param min_samples=N)")
    if spec.name != "dbscan" and req.eps is not None:
        raise ConfigError(f"--eps is DBSCAN's neighbourhood radius; {spec.name} does not take it")
    if req.eps is not None and req.eps <= 0:
        raise ConfigError(f"--eps must be a positive distance, got {req.eps}")
    check_method_params(spec, req.params)
    check_out(req.out, spec)
    return k_range or DEFAULT_K


def _check_rows(spec: Any, k_range: tuple[int, int], n: int) -> None:
    if spec.name != "dbscan" and k_range[1] >= n:
        raise DataError(f"--k up to {k_range[1]} needs more rows than clusters: the data has {n} rows")
    if spec.name == "agglomerative" and n > MAX_AGGLOMERATIVE:
        raise DataError(f"agglomerative clustering of {n} rows needs a {n} x {n} distance matrix; use "
                        f"--method kmeans or gmm above {MAX_AGGLOMERATIVE} rows")


def _rows(loaded: Any, req: ClusterRequest, labels: np.ndarray, gmm: Any, Z: np.ndarray) -> pd.DataFrame:
    from mlcli.experiments.unsupervised.data import free_name

    rows = kept_columns(loaded, req.keep)
    rows[free_name(rows, "cluster")] = labels
    if gmm is not None:
        proba = gmm.predict_proba(Z)
        for j in range(proba.shape[1]):
            rows[free_name(rows, f"proba_{j}")] = np.round(proba[:, j], 6)
    return rows

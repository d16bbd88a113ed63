"""mlcli reduce: PCA, t-SNE (and UMAP when umap-learn is installed): coordinates for every row.

PCA reports the variance each component explains (and the running total) and the features that weigh most
in each component; its bundle transforms new rows. t-SNE and UMAP map only the rows they are given.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import Notify, quiet
from mlcli.errors import ConfigError, DataError, MissingDependency
from mlcli.experiments.unsupervised.data import (
    UnsupervisedRequest,
    check_out,
    fit_matrix,
    fitting,
    free_name,
    kept_columns,
    load,
    save,
    thread_limit,
)
from mlcli.models.unsupervised import check_method_params, get_method, make_method

PREFIX = {"pca": "pc", "tsne": "tsne", "umap": "umap"}
SCREE_MAX = 30  # components shown in the scree table and plot
TOP_LOADINGS = 3


@dataclass
class ReduceRequest(UnsupervisedRequest):
    dims: int = 2


@dataclass
class ReduceResult:
    doc: dict[str, Any]
    rows: pd.DataFrame
    coords: np.ndarray
    label: np.ndarray | None  # the --label values as text, for a coloured scatter


def _check(spec: Any, req: ReduceRequest) -> None:
    if not spec.installed():
        raise MissingDependency(spec.install, f"reduce method '{spec.name}'", spec.extra)
    if req.dims < 1:
        raise ConfigError(f"--dims must be at least 1, got {req.dims}")
    if spec.name == "tsne" and req.dims > 3:
        raise ConfigError(f"t-SNE maps to 2 or 3 dimensions (--dims {req.dims} asked); use --method pca for more")
    check_method_params(spec, req.params)
    check_out(req.out, spec)


def _extra(spec: Any, req: ReduceRequest, n: int) -> dict[str, Any]:
    extra: dict[str, Any] = {spec.dims_param: req.dims}
    if spec.name == "tsne" and "perplexity" not in req.params:  # must stay below the number of rows
        extra["perplexity"] = float(min(30.0, max(2.0, (n - 1) / 3)))
    return extra


def pca_report(pre: Any, Z: np.ndarray, est: Any, seed: int) -> dict[str, Any]:
    """Explained variance per component and cumulative, the scree (every component up to SCREE_MAX) and the
    features that weigh most in each kept component."""
    from sklearn.decomposition import PCA

    from mlcli.features.provenance import feature_origins

    names = [label for _, label in feature_origins(pre)]
    ratio = est.explained_variance_ratio_
    explained = [{"component": f"pc{i + 1}", "variance_ratio": round(float(r), 6),
                  "cumulative": round(float(ratio[:i + 1].sum()), 6),
                  "eigenvalue": round(float(est.explained_variance_[i]), 6),
                  "loadings": [{"feature": names[j], "weight": round(float(est.components_[i, j]), 4)}
                               for j in np.argsort(-np.abs(est.components_[i]))[:TOP_LOADINGS]]}
                 for i, r in enumerate(ratio)]
    full = PCA(n_components=min(SCREE_MAX, *Z.shape), random_state=seed).fit(Z).explained_variance_ratio_
    return {"explained": explained, "scree": [round(float(r), 6) for r in full],
            "total_components": int(min(Z.shape))}


def label_separation(coords: np.ndarray, label: pd.Series | None, seed: int) -> dict[str, Any] | None:
    """How well the map keeps known groups apart: the silhouette of the --label groups in the new coordinates."""
    from mlcli.experiments.unsupervised.cluster import SELECTION_SAMPLE, silhouette
    from mlcli.experiments.unsupervised.data import label_codes

    if label is None:
        return None
    mask, truth = label_codes(label)
    codes = pd.factorize(truth)[0]
    value = silhouette(coords[mask], codes, seed, SELECTION_SAMPLE)  # a seeded sample above 2,000 rows
    return {"column": str(label.name), "groups": int(len(set(truth))),
            "silhouette": None if value is None else round(value, 4)}


def run_reduce(req: ReduceRequest, notify: Notify = quiet, stdin: Any = None) -> ReduceResult:
    """Map the rows of ``req.data`` onto ``req.dims`` coordinates."""
    t0 = time.perf_counter()
    spec = get_method("reduce", req.method)
    _check(spec, req)
    loaded = load(req, notify, stdin, "reduce")
    pre, Z = fit_matrix(loaded, req.scale)
    if spec.name == "pca" and req.dims > min(Z.shape):
        raise DataError(f"--dims {req.dims}: PCA finds at most {min(Z.shape)} components here ({Z.shape[0]} rows, "
                        f"{Z.shape[1]} features after encoding)")
    est = make_method(spec, req.params, seed=req.seed, threads=req.threads, extra=_extra(spec, req, len(Z)))
    if spec.name != "pca" and len(Z) > 5000:
        notify(f"{spec.name} on {len(Z)} rows takes a while (t-SNE, 10,000 rows: about a minute on 2 cores); a "
               "sample of a few thousand rows shows the same structure")
    with thread_limit(req.threads, Z), fitting(spec):
        coords = np.asarray(est.fit_transform(Z), dtype=np.float64)
    names = [f"{PREFIX[spec.name]}{i + 1}" for i in range(coords.shape[1])]
    doc: dict[str, Any] = {"command": "reduce", "model": spec.name, "method": spec.name, "task": "reduction",
                           "source": loaded.source, "rows": len(Z), "features": int(Z.shape[1]),
                           "columns": [c.name for c in loaded.schema.used], "dims": len(names), "components": names,
                           "params": req.params}
    doc.update(pca_report(pre, Z, est, req.seed) if spec.name == "pca" else {"explained": None})
    if spec.name == "tsne":
        doc["kl_divergence"] = round(float(est.kl_divergence_), 4)
    doc["label"] = label_separation(coords, loaded.label, req.seed)
    doc["metrics"] = {"explained_variance": doc["explained"][-1]["cumulative"]} if doc["explained"] else {}
    if doc["label"]:
        doc["metrics"]["label_silhouette"] = doc["label"]["silhouette"]
    rows = kept_columns(loaded, req.keep)
    for i, name in enumerate(names):
        rows[free_name(rows, name)] = np.round(coords[:, i], 6)
    doc["bundle"] = save(req.out, loaded, pre, est, "reduction", spec.name, req.params, req.seed, doc["metrics"],
                         {"components": names}) if req.out else None
    doc["seconds"] = round(time.perf_counter() - t0, 3)
    label = loaded.label.astype(str).to_numpy() if loaded.label is not None else None
    return ReduceResult(doc, rows, coords, label)

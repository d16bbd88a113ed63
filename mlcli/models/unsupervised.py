"""The registry of unsupervised methods (cluster, reduce, anomalies): one entry per method, as for models.

Names only at import time: a method's library is imported when it is built (``make_method``), so ``--help``
and ``mlcli models`` stay light. Adding a method is one entry here; the commands, their ``--help`` and the
contract tests pick it up.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any

from mlcli.errors import ConfigError, did_you_mean, quote_list
from mlcli.models.estimators import check_param_types, import_object, init_names
from mlcli.models.params import check_values, validate_library

KINDS = ("cluster", "reduce", "anomalies")


@dataclass(frozen=True)
class MethodSpec:
    """One unsupervised method: its estimator (by import path) and how mlcli sets it up."""

    name: str
    kind: str  # cluster | reduce | anomalies
    summary: str
    path: str  # "module:Class"
    defaults: dict[str, Any] = field(default_factory=dict)
    seed_param: str | None = "random_state"
    threads_param: str | None = None
    k_param: str | None = None  # cluster: the parameter that sets the number of clusters (kmeans, gmm, agglo)
    dims_param: str | None = None  # reduce: the parameter that sets the output dimensions
    predicts: bool = True  # a saved bundle can assign/transform new rows (t-SNE cannot)
    package: str = "sklearn"
    install: str = "scikit-learn"
    extra: str | None = None
    aliases: tuple[str, ...] = ()

    def installed(self) -> bool:
        return importlib.util.find_spec(self.package) is not None


_C, _D, _E = "sklearn.cluster:", "sklearn.decomposition:", "sklearn.ensemble:"

METHODS: dict[str, dict[str, MethodSpec]] = {kind: {} for kind in KINDS}
for _spec in (
    MethodSpec("kmeans", "cluster", "k-means: k centres, each row to the nearest (Lloyd, k-means++ starts)",
               _C + "KMeans", {"n_init": 10}, k_param="n_clusters", aliases=("k-means",)),
    MethodSpec("gmm", "cluster", "Gaussian mixture: soft membership probabilities, k chosen by BIC or silhouette",
               "sklearn.mixture:GaussianMixture", {"n_init": 2}, k_param="n_components",
               aliases=("gaussian-mixture",)),
    MethodSpec("dbscan", "cluster", "DBSCAN: dense regions within eps, sparse rows as noise (-1); no k",
               _C + "DBSCAN", {"min_samples": 5}, seed_param=None, threads_param="n_jobs"),
    MethodSpec("agglomerative", "cluster", "Agglomerative (Ward) clustering: merges the closest groups bottom-up",
               _C + "AgglomerativeClustering", seed_param=None, k_param="n_clusters",
               aliases=("hierarchical", "ward")),
    MethodSpec("pca", "reduce", "Principal component analysis: linear, keeps the most variance; transforms new rows",
               _D + "PCA", dims_param="n_components"),
    MethodSpec("tsne", "reduce", "t-SNE: a non-linear 2-D/3-D map that keeps neighbourhoods (no new rows)",
               "sklearn.manifold:TSNE", {"init": "pca"}, dims_param="n_components", predicts=False,
               aliases=("t-sne",)),
    MethodSpec("umap", "reduce", "UMAP: a non-linear map that keeps neighbourhoods (needs umap-learn)",
               "umap:UMAP", dims_param="n_components", package="umap", install="umap-learn", predicts=False),
    MethodSpec("isolation-forest", "anomalies", "Isolation forest: rows that random splits isolate quickly",
               _E + "IsolationForest", {"n_estimators": 200}, threads_param="n_jobs", aliases=("iforest",)),
    MethodSpec("lof", "anomalies", "Local outlier factor: rows much less dense than their neighbours",
               "sklearn.neighbors:LocalOutlierFactor", {"n_neighbors": 20}, seed_param=None,
               threads_param="n_jobs", aliases=("local-outlier-factor",)),
    MethodSpec("one-class-svm", "anomalies", "One-class SVM (RBF): rows outside the boundary of the bulk",
               "sklearn.svm:OneClassSVM", {"gamma": "scale"}, seed_param=None, aliases=("ocsvm", "svm")),
    MethodSpec("autoencoder", "anomalies", "Autoencoder: a small PyTorch MLP; reconstruction error is the score",
               "mlcli.models.autoencoder:Autoencoder", package="torch", install="torch", extra="text",
               aliases=("ae",)),
):
    METHODS[_spec.kind][_spec.name] = _spec


def method_names(kind: str) -> list[str]:
    return list(METHODS[kind])


def get_method(kind: str, name: str) -> MethodSpec:
    """The entry called ``name`` (or one of its aliases) among the ``kind`` methods; else one ConfigError."""
    key = name.strip().lower().replace("_", "-")
    table = {n: n for n in METHODS[kind]}
    table.update({a: s.name for s in METHODS[kind].values() for a in s.aliases})
    if key not in table:
        raise ConfigError(f"unknown {kind} method '{name}'{did_you_mean(key, table)}; valid methods: "
                          f"{quote_list(METHODS[kind])}")
    return METHODS[kind][table[key]]


def make_method(spec: MethodSpec, params: dict[str, Any] | None = None, *, seed: int = 0,
                threads: int | None = None, extra: dict[str, Any] | None = None) -> Any:
    """The unfitted estimator: the registry's defaults, then mlcli's own settings (``extra``: k, dims,
    contamination), then the user's ``--param`` values, checked against the estimator's parameters."""
    cls = import_object(spec.path, install=spec.install, purpose=f"{spec.kind} method '{spec.name}'")
    accepted = init_names(cls)
    params = dict(params or {})
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ConfigError(f"method '{spec.name}' has no parameter {quote_list(unknown)}"
                          f"{did_you_mean(unknown[0], accepted)}; its parameters: {quote_list(sorted(accepted), 30)}")
    kwargs = {**spec.defaults, **{k: v for k, v in (extra or {}).items() if k in accepted}}
    if spec.seed_param and spec.seed_param in accepted:
        kwargs[spec.seed_param] = seed
    if spec.threads_param and threads and spec.threads_param in accepted:
        kwargs[spec.threads_param] = threads
    est = cls(**kwargs)
    check_param_types(spec.name, est, params)
    try:
        est = est.set_params(**params) if params else est
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"method '{spec.name}': {exc}") from None
    check_values(spec.name, cls, params)
    validate_library(est)
    return est


def check_method_params(spec: MethodSpec, params: dict[str, Any]) -> None:
    """The --param values of method ``spec``, checked before any work (the data is not read yet): unknown
    names, types, and values out of range (zero or negative sizes), each as one ConfigError."""
    if params:
        make_method(spec, params)


def find_method(name: str) -> MethodSpec | None:
    """The unsupervised entry called ``name`` (or an alias) in any kind, or None."""
    key = name.strip().lower().replace("_", "-")
    for kind in KINDS:
        for spec in METHODS[kind].values():
            if key == spec.name or key in spec.aliases:
                return spec
    return None


def method_parameters(spec: MethodSpec) -> dict[str, Any]:
    """The parameters --param sets, with the values mlcli starts from (the registry's defaults over the
    estimator's own)."""
    cls = import_object(spec.path, install=spec.install, purpose=f"{spec.kind} method '{spec.name}'")
    return {**cls().get_params(deep=False), **spec.defaults}

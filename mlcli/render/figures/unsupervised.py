"""Figures of cluster, reduce and anomalies: choosing k (silhouette, and the elbow or BIC), DBSCAN's
k-distance curve, PCA's scree plot, and 2-D scatters coloured by cluster, label or anomaly flag.

Drawing functions return the Figure (tests read its axes back); ``*_figures`` draw and write them all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcli.render.figures.style import MARKER, REFERENCE, colour, figure, title, write_all


def _context(doc: dict[str, Any]) -> str:
    from mlcli.render.figures.style import data_name

    return f"{doc['method']} · {data_name(doc.get('source'))} · {doc['rows']} rows"


def selection_figure(doc: dict[str, Any]) -> Any:
    """Silhouette by k, with the elbow (k-means inertia) or BIC (Gaussian mixture) on a second axis."""
    rows = doc["selection"]
    ks = [r["k"] for r in rows]
    fig, ax = figure(6.4, 4.2)
    ax.plot(ks, [r["silhouette"] if r["silhouette"] is not None else np.nan for r in rows], "o-", color=colour(0),
            label="silhouette")
    ax.axvline(doc["k"], color=MARKER, linestyle="--", linewidth=1, label=f"chosen k = {doc['k']}")
    ax.set_xticks(ks)
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("silhouette (higher is better)")
    second = "inertia" if "inertia" in rows[0] else "bic" if "bic" in rows[0] else None
    if second:
        ax2 = ax.twinx()
        ax2.plot(ks, [r[second] for r in rows], "s--", color=colour(1), label=second)
        ax2.set_ylabel("inertia (elbow)" if second == "inertia" else "BIC (lower is better)")
        ax2.spines["right"].set_visible(True)
    handles = [h for a in fig.axes for h in a.get_legend_handles_labels()[0]]
    ax.legend(handles=handles, loc="upper right")
    title(ax, "Choosing k", _context(doc))
    return fig


def k_distance_figure(doc: dict[str, Any]) -> Any:
    curve = doc["k_distance"]
    fig, ax = figure(6.4, 4.2)
    ax.plot(np.linspace(0, 100, len(curve)), curve, color=colour(0))
    ax.axhline(doc["eps"], color=MARKER, linestyle="--", linewidth=1, label=f"eps = {doc['eps']:.3g}")
    ax.set_xlabel("rows, sorted by distance (%)")
    ax.set_ylabel(f"distance to the {doc['params'].get('min_samples', 5)}th neighbour")
    ax.legend(loc="upper left")
    title(ax, "DBSCAN k-distance curve", _context(doc))
    return fig


def scatter_figure(points: np.ndarray, groups: np.ndarray | None, subject: str, context: str,
                   axis_names: tuple[str, str], legend_title: str = "") -> Any:
    """A 2-D scatter; one colour per group (noise, -1, in grey)."""
    fig, ax = figure(6.4, 5.2)
    if groups is None:
        ax.scatter(points[:, 0], points[:, 1], s=10, color=colour(0), alpha=0.7, linewidths=0)
    else:
        names = list(dict.fromkeys(sorted(groups.tolist(), key=str)))
        for i, g in enumerate(names):
            mask = groups == g
            noise = g in (-1, "-1")
            ax.scatter(points[mask, 0], points[mask, 1], s=10, alpha=0.7, linewidths=0,
                       color=REFERENCE if noise else colour(i), label="noise" if noise else str(g))
        if len(names) <= 20:
            ax.legend(title=legend_title or None, loc="best", markerscale=2)
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    title(ax, subject, context)
    return fig


def _two_d(Z: np.ndarray, seed: int = 0) -> tuple[np.ndarray, tuple[str, str]]:
    """The rows on their first two principal components (or the two columns themselves)."""
    if Z.shape[1] <= 2:
        pts = Z if Z.shape[1] == 2 else np.column_stack([Z[:, 0], np.zeros(len(Z))])
        return pts, ("feature 1 (scaled)", "feature 2 (scaled)")
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=seed).fit(Z)
    share = pca.explained_variance_ratio_
    return pca.transform(Z), (f"PC1 ({share[0]:.0%} of variance)", f"PC2 ({share[1]:.0%} of variance)")


def cluster_figures(doc: dict[str, Any], Z: np.ndarray, labels: np.ndarray, directory: str, fmt: str = "png"
                    ) -> list[str]:
    figures = {}
    if doc["selection"]:
        figures["cluster_k"] = selection_figure(doc)
    if doc.get("k_distance"):
        figures["cluster_k_distance"] = k_distance_figure(doc)
    points, axes = _two_d(Z)
    figures["cluster_scatter"] = scatter_figure(points, labels, "Clusters on the first two principal components",
                                                _context(doc), axes, "cluster")
    return write_all(figures, directory, fmt)


def scree_figure(doc: dict[str, Any]) -> Any:
    """Variance explained by each principal component (bars) and the running total (line)."""
    ratios = doc["scree"]
    xs = np.arange(1, len(ratios) + 1)
    fig, ax = figure(6.4, 4.2)
    kept = len(doc["explained"])
    ax.bar(xs, ratios, color=[colour(0) if i < kept else REFERENCE for i in range(len(ratios))],
           label="variance explained")
    ax.plot(xs, np.cumsum(ratios), "o-", color=MARKER, markersize=3, label="cumulative")
    ax.set_xticks(xs if len(xs) <= 15 else xs[::max(1, len(xs) // 10)])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("principal component")
    ax.set_ylabel("share of variance explained")
    ax.legend(loc="center right")
    title(ax, f"Scree plot (kept: {kept} component{'s' if kept != 1 else ''})", _context(doc))
    return fig


def reduce_figures(doc: dict[str, Any], coords: np.ndarray, label: np.ndarray | None, directory: str,
                   fmt: str = "png") -> list[str]:
    figures = {}
    if doc["explained"]:
        figures["reduce_scree"] = scree_figure(doc)
    if coords.shape[1] >= 2:
        names = doc["components"]
        axes = tuple(f"{n} ({e['variance_ratio']:.0%} of variance)" for n, e in zip(names, doc["explained"])) \
            if doc["explained"] else (names[0], names[1])
        subject = f"Rows on {names[0]} and {names[1]}" + (f", coloured by {doc['label']['column']}"
                                                          if label is not None else "")
        figures["reduce_scatter"] = scatter_figure(coords[:, :2], label, subject, _context(doc), axes[:2],
                                                   doc["label"]["column"] if label is not None else "")
    return write_all(figures, directory, fmt)


def score_figure(doc: dict[str, Any], scores: np.ndarray, known: np.ndarray | None) -> Any:
    """The anomaly scores' distribution (known anomalies apart when a label is given) and the flag threshold."""
    fig, ax = figure(6.4, 4.2)
    bins = np.histogram_bin_edges(scores, bins=50)
    if known is None:
        ax.hist(scores, bins=bins, color=colour(0), alpha=0.8, label="all rows")
    else:
        lab = doc["label"]
        ax.hist(scores[known == 0], bins=bins, color=colour(0), alpha=0.6, label=f"not '{lab['positive']}'")
        ax.hist(scores[known == 1], bins=bins, color=colour(1), alpha=0.8, label=f"'{lab['positive']}' (known)")
    ax.axvline(doc["threshold"], color=MARKER, linestyle="--", linewidth=1,
               label=f"flag: top {doc['contamination']:.0%}")
    ax.set_yscale("log")
    ax.set_xlabel("anomaly score (higher is more unusual)")
    ax.set_ylabel("rows (log scale)")
    ax.legend(loc="upper right")
    title(ax, "Anomaly scores", _context(doc))
    return fig


def anomaly_figures(doc: dict[str, Any], scores: np.ndarray, known: np.ndarray | None, directory: str,
                    fmt: str = "png") -> list[str]:
    return write_all({"anomaly_scores": score_figure(doc, scores, known)}, directory, fmt)

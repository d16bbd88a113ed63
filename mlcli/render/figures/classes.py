"""Classifiers (binary and multiclass): confusion-matrix heatmaps and per-class F1 bars."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcli.render.figures.scored import Scored
from mlcli.render.figures.style import MARKER, Context, colour, figure, suptitle, title


def _short(name: Any, width: int = 18) -> str:
    text = str(name)
    return text if len(text) <= width else text[: width - 1] + "…"


def _heatmap(ax: Any, values: np.ndarray, labels: list[str], fmt: str, vmax: float) -> Any:
    k = len(labels)
    im = ax.imshow(values, cmap="Blues", vmin=0, vmax=vmax or 1)
    ax.set_xticks(range(k), labels, rotation=45 if k > 4 else 0, ha="right" if k > 4 else "center")
    ax.set_yticks(range(k), labels)
    ax.set(xlabel="Predicted class", ylabel="True class")
    ax.spines[:].set_visible(False)
    if k <= 30:
        size = 9 if k <= 8 else (7 if k <= 15 else 5)
        for i in range(k):
            for j in range(k):
                v = values[i, j]
                ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=size,
                        color="white" if v > 0.55 * (vmax or 1) else "black")
    return im


def confusion_figure(s: Scored, ctx: Context) -> Any:
    """Counts on the left, each true class's row as shares on the right (recall on the diagonal)."""
    k = len(s.classes)
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (np.asarray(s.y, dtype=int), np.asarray(s.pred, dtype=int)), 1)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros((k, k)), where=totals > 0)
    side = min(4.2 + 0.28 * k, 11.0)
    fig, (left, right) = figure(2 * side + 0.8, side + 0.9, ncols=2)
    labels = [_short(c) for c in s.classes]
    im = _heatmap(left, counts, labels, "d", float(counts.max()))
    fig.colorbar(im, ax=left, shrink=0.8, label="Rows")
    left.set_title("Counts", fontsize=9, loc="left")
    im = _heatmap(right, shares, labels, ".2f", 1.0)
    fig.colorbar(im, ax=right, shrink=0.8, label="Share of the true class's rows")
    right.set_title("Row-normalised (recall on the diagonal)", fontsize=9, loc="left")
    accuracy = float(np.trace(counts) / max(counts.sum(), 1))
    thr = f", threshold {s.threshold:.3g}" if s.task == "binary" and s.threshold is not None else ""
    suptitle(fig, f"Confusion matrix · accuracy {accuracy:.3f}{thr}", ctx)
    return fig


def f1_figure(s: Scored, ctx: Context) -> Any:
    """F1 of every class (with its row count), the macro average marked."""
    from sklearn.metrics import precision_recall_fscore_support

    k = len(s.classes)
    _, _, f1, support = precision_recall_fscore_support(s.y, s.pred, labels=list(range(k)), zero_division=0)
    macro = float(np.mean(f1))
    fig, ax = figure(6.4, max(3.4, 1.8 + 0.32 * k))
    names = [_short(c, 24) for c in s.classes]
    ax.barh(range(k), f1, color=[colour(i) for i in range(k)])
    for i, (v, n) in enumerate(zip(f1, support)):
        ax.text(min(v, 1.0) + 0.01, i, f"{v:.3f} · {n} rows", va="center", fontsize=8)
    ax.axvline(macro, color=MARKER, ls="--", lw=1.5, label=f"macro F1 {macro:.3f}")
    ax.set_yticks(range(k), names)
    ax.invert_yaxis()
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set(xlim=(0, 1.25), xlabel="F1 (0-1; harmonic mean of precision and recall)", ylabel="Class")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25 if k < 6 else -0.1))
    title(ax, f"F1 by class · macro F1 {macro:.3f}", ctx)
    return fig

"""Binary classifiers: ROC, precision-recall, threshold and calibration figures, the threshold in use marked."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcli.render.figures.scored import Scored
from mlcli.render.figures.style import MARKER, REFERENCE, Context, colour, figure, suptitle, title


def counts_at(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(true positives, false positives) when rows with p >= t are called positive, for every t (sorted search:
    cheap for a million rows)."""
    pos = np.sort(p[y == 1])
    neg = np.sort(p[y == 0])
    tp = len(pos) - np.searchsorted(pos, thresholds, side="left")
    fp = len(neg) - np.searchsorted(neg, thresholds, side="left")
    return tp.astype(float), fp.astype(float)


def rates_at(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall (TPR), FPR, F1 and the share predicted positive at each threshold."""
    tp, fp = counts_at(y, p, thresholds)
    n_pos, n_neg = max(int((y == 1).sum()), 1), max(int((y == 0).sum()), 1)
    called = tp + fp
    precision = np.divide(tp, called, out=np.ones_like(tp), where=called > 0)  # nothing called: precision 1
    recall = tp / n_pos
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision, "recall": recall, "fpr": fp / n_neg, "f1": f1, "share": called / len(y)}


def _threshold_label(s: Scored) -> str:
    how = s.chosen_by or ("default" if s.threshold == 0.5 else "given")
    return f"threshold {s.threshold:.3g} ({how})"


def roc_figure(s: Scored, ctx: Context) -> Any:
    from sklearn.metrics import roc_auc_score, roc_curve

    y, p = s.y, s.p
    fpr, tpr, _ = roc_curve(y, p)
    auc = float(roc_auc_score(y, p))
    fig, ax = figure(5.6, 5.2)
    ax.plot(fpr, tpr, color=colour(0), lw=2, label=f"{ctx.model} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], ls="--", color=REFERENCE, lw=1, label="chance (AUC 0.5)")
    if s.threshold is not None:
        r = rates_at(y, p, np.array([s.threshold]))
        ax.plot(r["fpr"], r["recall"], "o", color=MARKER, ms=8, zorder=5,
                label=f"{_threshold_label(s)}: TPR {r['recall'][0]:.2f}, FPR {r['fpr'][0]:.2f}")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), aspect="equal",
           xlabel="False positive rate (share of negatives flagged)",
           ylabel=f"True positive rate (recall of '{s.positive}')")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    title(ax, f"ROC curve · ROC AUC {auc:.3f}", ctx)
    return fig


def pr_figure(s: Scored, ctx: Context) -> Any:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    y, p = s.y, s.p
    precision, recall, _ = precision_recall_curve(y, p, drop_intermediate=True)  # fewer points, same steps
    ap = float(average_precision_score(y, p))
    share = float(np.mean(y == 1))
    fig, ax = figure(5.6, 5.2)
    ax.step(recall, precision, where="post", color=colour(0), lw=2, label=f"{ctx.model} (AP {ap:.3f})")
    ax.axhline(share, ls="--", color=REFERENCE, lw=1, label=f"no skill (positive share {share:.3f})")
    if s.threshold is not None:
        r = rates_at(y, p, np.array([s.threshold]))
        ax.plot(r["recall"], r["precision"], "o", color=MARKER, ms=8, zorder=5,
                label=f"{_threshold_label(s)}: precision {r['precision'][0]:.2f}, recall {r['recall'][0]:.2f}")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.05), xlabel=f"Recall (share of '{s.positive}' found)",
           ylabel=f"Precision (share of flagged rows that are '{s.positive}')")
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    title(ax, f"Precision-recall curve · average precision {ap:.3f}", ctx)
    return fig


def threshold_figure(s: Scored, ctx: Context) -> Any:
    grid = np.linspace(0.0, 1.0, 201)
    r = rates_at(s.y, s.p, grid)
    fig, ax = figure(6.4, 5.4)
    for i, (key, label) in enumerate((("precision", "precision"), ("recall", "recall"), ("f1", "F1"),
                                      ("share", "share predicted positive"))):
        ax.plot(grid, r[key], color=colour(i), lw=2 if key == "f1" else 1.5,
                ls=":" if key == "share" else "-", label=label)
    best = int(np.argmax(r["f1"]))
    ax.plot(grid[best], r["f1"][best], "^", color=colour(2), ms=7, label=f"best F1 here ({r['f1'][best]:.3f} "
                                                                         f"at {grid[best]:.2f})")
    if s.threshold is not None:
        ax.axvline(s.threshold, color=MARKER, lw=1.5, ls="--", label=_threshold_label(s))
    ax.set(xlim=(0, 1), ylim=(-0.01, 1.05), xlabel=f"Decision threshold (probability of '{s.positive}')",
           ylabel="Share (0-1)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=2)
    ax.grid(alpha=0.3)
    title(ax, "Precision, recall and F1 by threshold", ctx)
    return fig


def calibration_figure(s: Scored, ctx: Context, bins: int = 10) -> Any:
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    y, p = s.y, s.p
    observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="uniform")
    brier = float(brier_score_loss(y, p))
    fig, (top, bottom) = figure(5.6, 6.4, ncols=1, nrows=2, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], ls="--", color=REFERENCE, lw=1, label="perfectly calibrated")
    top.plot(predicted, observed, "o-", color=colour(0), lw=2, label=f"{ctx.model} (Brier {brier:.3f})")
    top.set(ylim=(-0.01, 1.01), ylabel=f"Observed share of '{s.positive}'")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    edges = np.linspace(0, 1, 2 * bins + 1)
    for k, name in enumerate(s.classes[:2]):
        bottom.hist(p[y == k], bins=edges, color=colour(k), alpha=0.6, label=f"true '{name}'")
    bottom.set(xlim=(0, 1), xlabel=f"Predicted probability of '{s.positive}'", ylabel="Rows")
    bottom.legend(loc="upper center", ncols=2)
    top.set_title(f"Reliability: predicted vs observed, {bins} bins", fontsize=9, loc="left")
    suptitle(fig, f"Calibration · Brier score {brier:.3f}", ctx)
    return fig

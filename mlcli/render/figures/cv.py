"""mlcli cv: the leaderboard chart, every model's out-of-fold ROC/PR curves, validation and learning curves.

Drawn from cv's result document (``CVResult.to_dict()``) and its out-of-fold frame, so they need nothing that
the JSON output does not already say.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcli.render.figures.style import MARKER, NOISE, REFERENCE, Context, colour, figure, suptitle, title

BASELINE = "#9A9A9A"


def cv_context(doc: dict[str, Any], what: str) -> Context:
    reps = f" × {doc['repeats']} repeats" if doc.get("repeats", 1) > 1 else ""
    return Context(what, doc["data"], f"{doc['rows']:,} rows, {doc['folds']}-fold CV{reps}")


def row_colours(doc: dict[str, Any]) -> dict[str, str]:
    """Leaderboard label -> colour: the models in leaderboard order, the baseline grey (same in every cv figure)."""
    out, i = {}, 0
    for r in doc["leaderboard"]:
        if r["model"] == "baseline":
            out[r["name"]] = BASELINE
        else:
            out[r["name"]] = colour(i)
            i += 1
    return out


def _direction(doc: dict[str, Any]) -> str:
    return "higher is better" if doc.get("higher_is_better", True) else "lower is better"


def leaderboard_figure(doc: dict[str, Any]) -> Any:
    """Mean ± SD of the sort metric per row, every fold's score as a dot, the best starred and the rows within
    noise of it (corrected t-test) shaded."""
    rows = [r for r in doc["leaderboard"] if r.get("score") is not None]
    metric, cols = doc["metric"], row_colours(doc)
    fig, ax = figure(7.2, 1.6 + 0.42 * max(len(rows), 2))
    shaded = False
    for i, r in enumerate(rows):
        if (r.get("vs_best") or {}).get("within_noise"):
            ax.axhspan(i - 0.45, i + 0.45, color=NOISE, zorder=0,
                       label=None if shaded else f"within noise of the best (p ≥ {doc['test']['alpha']})")
            shaded = True
        folds = [s for s in (r.get("fold_scores") or []) if s is not None]
        ax.plot(folds, [i] * len(folds), "o", ms=3, color=cols[r["name"]], alpha=0.45, zorder=2)
        ax.errorbar(r["score"], i, xerr=r.get("score_std") or 0, fmt="o", ms=7, capsize=4, lw=1.5,
                    color=cols[r["name"]], zorder=3)
        if r["best"]:
            ax.plot(r["score"], i, "*", ms=16, color=MARKER, zorder=4, label=f"best: {r['name']}")
    ax.set_yticks(range(len(rows)), [r["name"] for r in rows])
    for tick, r in zip(ax.get_yticklabels(), rows):
        tick.set_fontweight("bold" if r["best"] else "normal")
    ax.invert_yaxis()
    ax.set(xlabel=f"{metric} ({_direction(doc)}; mean ± SD over {doc['splits']} folds, dots: single folds)",
           ylabel="Model")
    ax.grid(axis="x", alpha=0.3)
    if shaded or any(r["best"] for r in rows):
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.5 / max(len(rows), 2) - 0.12), ncols=2)
    title(ax, f"Leaderboard · {metric}", cv_context(doc, f"{len(rows)} candidates"))
    return fig


def oof_curves_figure(doc: dict[str, Any], oof: Any) -> Any | None:
    """ROC and precision-recall curves of every model from its out-of-fold predictions (first repeat), or None
    when the task is not binary or no model gave probabilities."""
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

    proba = [c for c in oof.columns if c.startswith("proba_")] if oof is not None else []
    if doc["task"] != "binary" or len(proba) != 2:
        return None
    positive = proba[1].removeprefix("proba_")
    cols = row_colours(doc)
    fig, (roc, pr) = figure(11.0, 5.4, ncols=2)
    share = None
    for r in doc["leaderboard"]:
        part = oof[(oof["model"] == r["name"]) & (oof["repeat"] == 1)].dropna(subset=[proba[1]])
        if part.empty or r["model"] == "baseline":
            continue
        y = (part["y_true"].astype(str) == positive).to_numpy().astype(int)
        p = part[proba[1]].to_numpy(dtype=float)
        if len(np.unique(y)) < 2:
            continue
        share = float(y.mean())
        fpr, tpr, _ = roc_curve(y, p)
        prec, rec, _ = precision_recall_curve(y, p, drop_intermediate=True)  # fewer points, same steps
        lw = 2.4 if r["best"] else 1.4
        roc.plot(fpr, tpr, color=cols[r["name"]], lw=lw, label=f"{r['name']} (AUC {roc_auc_score(y, p):.3f})")
        pr.step(rec, prec, where="post", color=cols[r["name"]], lw=lw,
                label=f"{r['name']} (AP {average_precision_score(y, p):.3f})")
    roc.plot([0, 1], [0, 1], ls="--", color=REFERENCE, lw=1, label="chance")
    if share is not None:
        pr.axhline(share, ls="--", color=REFERENCE, lw=1, label=f"no skill ({share:.3f})")
    roc.set(xlabel="False positive rate (share of negatives flagged)",
            ylabel=f"True positive rate (recall of '{positive}')", xlim=(0, 1), ylim=(0, 1.01))
    pr.set(xlabel=f"Recall (share of '{positive}' found)", ylabel="Precision", xlim=(0, 1), ylim=(0, 1.03))
    roc.set_title("ROC", fontsize=9, loc="left")
    pr.set_title("Precision-recall", fontsize=9, loc="left")
    for ax, where in ((roc, "lower right"), (pr, "lower left")):
        ax.legend(loc=where, fontsize=7)
        ax.grid(alpha=0.3)
    suptitle(fig, "Out-of-fold ROC and precision-recall curves (every row predicted by a model that did not "
                  "train on it)", cv_context(doc, "every model"))
    return fig


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def validation_figures(doc: dict[str, Any]) -> dict[str, Any]:
    """--grid: per varied parameter, test (solid, ± SD band) and training (dashed) score along its values, one
    line per model and setting of the other parameters."""
    figs = {}
    grid = doc.get("grid") or {}
    rows = [r for r in doc["leaderboard"] if r["model"] != "baseline" and r.get("score") is not None]
    metric = doc["metric"]
    models = list(dict.fromkeys(r["model"] for r in rows))
    for key, values in grid.items():
        if len(values) < 2:
            continue
        xs = values if _numeric(values) else list(range(len(values)))
        fig, ax = figure(7.0, 4.8)
        groups: dict[tuple, list[dict[str, Any]]] = {}
        for r in rows:
            if key in r["params"]:
                other = tuple(sorted((k, str(v)) for k, v in r["params"].items() if k != key))
                groups.setdefault((r["model"], other), []).append(r)
        for (model, other), members in list(groups.items())[:10]:
            members.sort(key=lambda r: values.index(r["params"][key]))
            x = [xs[values.index(r["params"][key])] for r in members]
            test = np.array([r["score"] for r in members], dtype=float)
            sd = np.array([r.get("score_std") or 0.0 for r in members], dtype=float)
            c = colour(models.index(model))
            name = " ".join([model, *[f"{k}={v}" for k, v in other]])
            ax.plot(x, test, "o-", color=c, lw=2, label=f"{name}: test folds")
            ax.fill_between(x, test - sd, test + sd, color=c, alpha=0.15)
            train = [(r.get("train_mean") or {}).get(metric) for r in members]
            if all(v is not None for v in train):
                ax.plot(x, train, "s--", color=c, lw=1.2, ms=4, label=f"{name}: training rows")
        if not _numeric(values):
            ax.set_xticks(xs, [str(v) for v in values])
        elif min(values) > 0 and max(values) / min(values) >= 100:
            ax.set_xscale("log")
        ax.set(xlabel=f"{key} (--grid)", ylabel=f"{metric} ({_direction(doc)})")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)
        title(ax, f"Validation curve · {metric} along {key} (band: ± SD over folds)",
              cv_context(doc, ", ".join(models)))
        figs[f"cv_validation_{key}"] = fig
    return figs


def learning_figure(doc: dict[str, Any], curve: dict[str, Any]) -> Any:
    """cv --learning-curve: the score on the held-out fold and on the training rows against training-set size."""
    fig, ax = figure(7.0, 4.8)
    models, cols = list(curve["models"]), row_colours(doc)
    for i, (name, points) in enumerate(curve["models"].items()):
        c = cols.get(name, colour(i))
        sizes = np.array([p["train_rows"] for p in points], dtype=float)
        test = np.array([p["test_mean"] for p in points], dtype=float)
        sd = np.array([p["test_std"] for p in points], dtype=float)
        ax.plot(sizes, test, "o-", color=c, lw=2, label=f"{name}: test folds")
        ax.fill_between(sizes, test - sd, test + sd, color=c, alpha=0.15)
        ax.plot(sizes, [p["train_mean"] for p in points], "s--", color=c, lw=1.2, ms=4,
                label=f"{name}: training rows")
    metric = curve["metric"]
    ax.set(xlabel="Training rows per fold", ylabel=f"{metric} ({_direction(doc)})")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)
    title(ax, f"Learning curve · {metric} by training-set size (band: ± SD over folds)",
          cv_context(doc, ", ".join(models)))
    return fig


def cv_figures(doc: dict[str, Any], oof: Any = None, curve: dict[str, Any] | None = None) -> dict[str, Any]:
    """name -> Figure for everything the cv run allows."""
    figs = {"cv_leaderboard": leaderboard_figure(doc)}
    curves = oof_curves_figure(doc, oof)
    if curves is not None:
        figs["cv_roc_pr"] = curves
    figs.update(validation_figures(doc))
    if curve:
        figs["cv_learning_curve"] = learning_figure(doc, curve)
    return figs

"""Regression: predicted against actual, residuals against predicted, the residuals' histogram."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcli.render.figures.scored import Scored, subsample
from mlcli.render.figures.style import MARKER, REFERENCE, Context, colour, figure, title


def _shown(n: int, rows: np.ndarray) -> str:
    return "" if len(rows) == n else f" ({len(rows):,} of {n:,} rows drawn)"


def predicted_actual_figure(s: Scored, ctx: Context) -> Any:
    from sklearn.metrics import r2_score

    y, pred = np.asarray(s.y, dtype=float), np.asarray(s.pred, dtype=float)
    rows = subsample(len(y))
    r2 = float(r2_score(y, pred))
    fig, ax = figure(5.6, 5.4)
    ax.scatter(y[rows], pred[rows], s=10, alpha=0.5, color=colour(0), linewidths=0, label=ctx.model)
    lo, hi = float(min(y.min(), pred.min())), float(max(y.max(), pred.max()))
    ax.plot([lo, hi], [lo, hi], ls="--", color=REFERENCE, lw=1, label="perfect prediction")
    ax.set(xlabel=f"Actual {s.target}", ylabel=f"Predicted {s.target}", aspect="equal")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    title(ax, f"Predicted vs actual · R² {r2:.3f}{_shown(len(y), rows)}", ctx)
    return fig


def residuals_figure(s: Scored, ctx: Context) -> Any:
    y, pred = np.asarray(s.y, dtype=float), np.asarray(s.pred, dtype=float)
    resid = y - pred
    rows = subsample(len(y))
    rmse = float(np.sqrt(np.mean(resid ** 2)))
    fig, ax = figure(6.4, 4.6)
    ax.scatter(pred[rows], resid[rows], s=10, alpha=0.5, color=colour(0), linewidths=0)
    ax.axhline(0, color=REFERENCE, lw=1, ls="--")
    for sign in (1, -1):
        ax.axhline(sign * 2 * rmse, color=MARKER, lw=1, ls=":", label="± 2 RMSE" if sign == 1 else None)
    ax.set(xlabel=f"Predicted {s.target}", ylabel=f"Residual: actual − predicted {s.target}")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    title(ax, f"Residuals vs predicted · RMSE {rmse:,.4g}{_shown(len(y), rows)}", ctx)
    return fig


def residual_histogram_figure(s: Scored, ctx: Context) -> Any:
    resid = np.asarray(s.y, dtype=float) - np.asarray(s.pred, dtype=float)
    mae = float(np.mean(np.abs(resid)))
    bins = int(np.clip(np.sqrt(len(resid)), 10, 60))
    fig, ax = figure(6.4, 4.4)
    ax.hist(resid, bins=bins, color=colour(0), alpha=0.8)
    ax.axvline(0, color=REFERENCE, lw=1, ls="--", label="no error")
    ax.axvline(float(np.median(resid)), color=MARKER, lw=1.5, label=f"median residual {np.median(resid):,.4g}")
    ax.set(xlabel=f"Residual: actual − predicted {s.target}", ylabel="Rows")
    ax.legend(loc="upper right")
    title(ax, f"Residual distribution · MAE {mae:,.4g}", ctx)
    return fig

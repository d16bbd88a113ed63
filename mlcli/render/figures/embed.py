"""mlcli embed --reduce pca:K --plot: the rows on the first two principal components, coloured by a column."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlcli.render.figures.scored import subsample
from mlcli.render.figures.style import Context, colour, figure, title

MAX_GROUPS = 20  # a column with more distinct values than this (and numeric) gets a colour scale


def projection_figure(frame: pd.DataFrame, ctx: Context, color_by: str | None = None) -> Any:
    """pc1 against pc2, one colour per value of ``color_by`` (a legend), or a colour scale for a numeric column
    of many values; rows without text (no vector) are left out."""
    ok = frame[["pc1", "pc2"]].notna().all(axis=1).to_numpy()
    data = frame[ok].reset_index(drop=True)
    rows = subsample(len(data), 10000)
    data = data.iloc[rows]
    fig, ax = figure(6.8, 5.6)
    values = data[color_by] if color_by else None
    if values is not None and pd.api.types.is_numeric_dtype(values) and values.nunique() > MAX_GROUPS:
        sc = ax.scatter(data["pc1"], data["pc2"], c=values, cmap="viridis", s=12, alpha=0.8, linewidths=0)
        fig.colorbar(sc, ax=ax, label=color_by)
    elif values is not None:
        groups = values.astype("string").fillna("(missing)")
        order = groups.value_counts().index.tolist()
        for i, name in enumerate(order[:MAX_GROUPS]):
            part = data[(groups == name).to_numpy()]
            ax.scatter(part["pc1"], part["pc2"], s=12, alpha=0.7, color=colour(i), linewidths=0,
                       label=f"{name} ({len(part):,})")
        rest = data[~groups.isin(order[:MAX_GROUPS]).to_numpy()]
        if len(rest):
            ax.scatter(rest["pc1"], rest["pc2"], s=8, alpha=0.4, color="#BBBBBB", linewidths=0,
                       label=f"{len(order) - MAX_GROUPS} other values ({len(rest):,})")
        ax.legend(title=color_by, loc="center left", bbox_to_anchor=(1.01, 0.5), markerscale=1.5)
    else:
        ax.scatter(data["pc1"], data["pc2"], s=12, alpha=0.7, color=colour(0), linewidths=0)
    ax.set(xlabel="Principal component 1 (pc1)", ylabel="Principal component 2 (pc2)")
    ax.grid(alpha=0.3)
    shown = "" if len(rows) == int(ok.sum()) else f", {len(rows):,} of {int(ok.sum()):,} drawn"
    by = f" coloured by {color_by}" if color_by else ""
    title(ax, f"Sentence embeddings on 2 principal components{by}{shown}", ctx)
    return fig

"""Feature importances as a bar chart (the bundle's native importances, for the HTML report)."""

from __future__ import annotations

from typing import Any

from mlcli.render.figures.style import Context, colour, figure, title


def importance_figure(importances: list[dict[str, Any]], ctx: Context, top: int = 20) -> Any:
    """The ``top`` largest importances (the bundle's ``importances``: feature, importance), largest on top."""
    items = importances[:top][::-1]
    names = [str(i.get("feature") or i.get("name")) for i in items]
    values = [float(i.get("importance") or 0.0) for i in items]
    fig, ax = figure(6.8, 1.6 + 0.3 * max(len(items), 3))
    ax.barh(names, values, color=colour(0))
    ax.axvline(0, color="#999999", lw=0.8)
    ax.set(xlabel="Share of the model's native importance (coefficients or gain)", ylabel="Column")
    title(ax, f"Feature importances · top {len(items)}", ctx)
    return fig

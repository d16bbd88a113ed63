"""mlcli balance: class counts before and after resampling."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcli.render.figures.style import Context, colour, figure, title


def class_counts_figure(doc: dict[str, Any], data: str) -> Any:
    """One pair of bars per class (before: pale, after: solid), in the class's colour, counts written on them."""
    before = doc["before"]
    names = [str(c["class"]) for c in before]
    after = {str(c["class"]): c["count"] for c in doc.get("after") or []}
    x = np.arange(len(names))
    width = 0.4 if after else 0.6
    fig, ax = figure(max(5.6, 1.6 + 0.7 * len(names)), 4.6)
    cols = [colour(i) for i in range(len(names))]
    bars = ax.bar(x - (width / 2 if after else 0), [c["count"] for c in before], width, color=cols, alpha=0.4,
                  edgecolor=cols, label="before")
    ax.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    if after:
        bars = ax.bar(x + width / 2, [after.get(n, 0) for n in names], width, color=cols,
                      label=f"after {doc['method']}")
        ax.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    ax.set_xticks(x, names, rotation=45 if len(names) > 6 else 0, ha="right" if len(names) > 6 else "center")
    ax.set(xlabel=f"Class ({doc['target']})", ylabel="Rows")
    ax.margins(y=0.12)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)
    n_before = sum(c["count"] for c in before)
    ratio = f"imbalance ratio {doc['imbalance_ratio_before']:.3g}"
    if after:
        ratio += f" → {doc['imbalance_ratio_after']:.3g}"
        rows = f"{n_before:,} → {sum(after.values()):,} rows"
    else:
        rows = f"{n_before:,} rows"
    title(ax, f"Class counts {'before/after resampling' if after else ''} · {ratio}".replace("  ", " "),
          Context(doc["method"] or "no resampling", data, rows))
    return fig

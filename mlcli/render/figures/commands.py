"""--plot DIR of each command: the figures its result allows, written to DIR, the paths returned."""

from __future__ import annotations

from typing import Any

from mlcli.render.figures.scored import from_report
from mlcli.render.figures.style import Context, write_all


def train_figures(result: Any) -> dict[str, Any]:
    """mlcli train: the figures of the held-out rows (a split of DATA, or the --test file)."""
    from mlcli.render.figures.model import model_figures

    how = (result.threshold_tuning or {}).get("chosen_by")
    scored = from_report(result.test, result.schema.target, f"auto, {how.split(' (')[0]}" if how else None)
    ctx = Context(result.model, result.source, f"{result.n_test:,} held-out rows")
    return model_figures(scored, ctx)


def evaluate_figures(result: Any, threshold_given: bool = False) -> dict[str, Any]:
    """mlcli evaluate: the figures of the labelled rows given; says so when some of them were training rows.
    The threshold marked is the bundle's unless --threshold gave one."""
    from mlcli.render.figures.model import model_figures

    seen = (result.training_rows or {}).get("count") or 0
    rows = f"{result.report.n_rows:,} rows" + (f" ({seen:,} of them training rows)" if seen else "")
    scored = from_report(result.report, result.target, None if threshold_given else "saved in the bundle")
    return model_figures(scored, Context(result.model, result.source, rows))


def write_figures(figures: dict[str, Any], directory: str, fmt: str, notify: Any) -> list[str]:
    """Write the figures and name every file on stderr."""
    paths = write_all(figures, directory, fmt)
    for path in paths:
        notify(f"figure saved to {path}")
    return paths

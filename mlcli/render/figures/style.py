"""The look every mlcli figure shares: one colour per class or model, titles that name model, data and metric,
and one way to check and write a figure directory.

matplotlib is imported inside the functions (Agg backend), never when this module is imported: ``mlcli --help``
stays light. Drawing functions return the ``Figure`` so tests can read its axes back; :func:`save` writes it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from mlcli.errors import ConfigError, MissingDependency

FORMATS = ("png", "svg", "pdf")
DPI = 120

# Okabe & Ito's colour-blind-safe palette, then Paul Tol's muted set: the i-th class or model always gets
# colours[i] in every figure of a run
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
           "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499")
MARKER = "#D62728"  # the chosen threshold / the best model: one accent colour everywhere
REFERENCE = "#888888"  # chance lines, the diagonal, zero lines
NOISE = "#D9EAF7"  # rows within noise of the best


def colour(i: int) -> str:
    """The colour of the i-th class or model (cycling after the palette runs out)."""
    return PALETTE[i % len(PALETTE)]


def colours(names: Iterable[Any]) -> dict[str, str]:
    """name -> colour, in the order given (class order of the bundle, model order of the leaderboard)."""
    return {str(n): colour(i) for i, n in enumerate(names)}


@dataclass
class Context:
    """What a figure is about: named in every title (model, data, and which rows the numbers come from)."""

    model: str
    data: str
    rows: str  # e.g. "179 held-out rows", "1,309 rows (training rows)"

    def line(self) -> str:
        return f"{self.model} · {data_name(self.data)} · {self.rows}"


def data_name(path: str | None) -> str:
    if not path or path == "-":
        return "stdin"
    return Path(path).name


def title(ax: Any, subject: str, ctx: Context | str) -> None:
    """Title of a one-panel figure: the subject (metric) on the first line, the context below it."""
    line = ctx.line() if isinstance(ctx, Context) else ctx
    ax.set_title(f"{subject}\n{line}", fontsize=10, loc="left")


def suptitle(fig: Any, subject: str, ctx: Context | str) -> None:
    """Title of a figure of several panels."""
    line = ctx.line() if isinstance(ctx, Context) else ctx
    fig.suptitle(f"{subject}\n{line}", fontsize=10, x=0.01, ha="left")


def pyplot(extra: str = "plot") -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend (the install line when matplotlib is missing)."""
    try:
        import matplotlib
    except ImportError as exc:
        raise MissingDependency("matplotlib", "--plot", extra) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 10,
                         "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8, "legend.fontsize": 8,
                         "figure.dpi": DPI, "savefig.dpi": DPI, "svg.fonttype": "none"})
    return plt


def figure(width: float = 6.4, height: float = 4.8, ncols: int = 1, nrows: int = 1, **kw: Any) -> tuple[Any, Any]:
    """A new figure and its axes (constrained layout: titles, labels and legends are never clipped)."""
    plt = pyplot()
    return plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", **kw)


def check_plot_dir(directory: str | None, fmt: str = "png", option: str = "--plot") -> None:
    """Fail before any work when DIR cannot hold the figures, the format is unknown or matplotlib is missing."""
    if directory is None:
        return
    if fmt not in FORMATS:
        raise ConfigError(f"--plot-format {fmt}: choose one of {', '.join(FORMATS)}")
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {directory}: not a directory (give a directory for the figures)")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {directory}: cannot write there ({existing} is not a writable directory)")
    check_matplotlib(option)


def check_matplotlib(purpose: str = "--plot") -> None:
    """The install line, before any work, when matplotlib is missing (found without importing it)."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise MissingDependency("matplotlib", purpose, "plot")


def save(fig: Any, directory: str, name: str, fmt: str = "png") -> str:
    """Write ``fig`` to DIR/NAME.FMT (the directory is made when missing); the path written."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    out = path / f"{name}.{fmt}"
    tmp = path / f".{name}.tmp.{fmt}"
    fig.savefig(tmp, format=fmt, dpi=DPI)
    os.replace(tmp, out)  # a figure is whole or absent
    return str(out)


def write_all(figures: dict[str, Any], directory: str, fmt: str = "png") -> list[str]:
    """Save every named figure and close it; the paths written, in order."""
    plt = pyplot()
    paths = []
    for name, fig in figures.items():
        try:
            paths.append(save(fig, directory, name, fmt))
        finally:
            plt.close(fig)
    return paths

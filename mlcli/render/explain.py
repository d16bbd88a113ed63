"""Renderings of mlcli explain results: Rich tables with inline bars, CSV rows, matplotlib figures.

Tables are built from the result documents (``to_dict()``); figures import matplotlib lazily with the
non-interactive Agg backend.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mlcli.errors import ConfigError
from mlcli.render.figures.style import colour, pyplot
from mlcli.render.numbers import fmt_num, fmt_share, fmt_signed, scale_of
from mlcli.render.tables import bar, natural_width

METHOD_TITLES = {"native": "Native importances", "permutation": "Permutation importance", "shap": "SHAP"}
PLOT_FORMATS = (".png", ".svg", ".pdf", ".jpg", ".jpeg")


def _num(value: Any, scale: float | None = None) -> str:
    """An importance; ``scale`` (the column's largest) gives the column one number of decimals, and a column of
    values all under 0.001 reads in two significant digits (1.23e-04) rather than 0.0001."""
    if value is None:
        return "—"
    v = float(value)
    if v != 0 and abs(scale or v) < 0.001:
        return f"{v:.2e}"
    return fmt_num(v, 4, scale=scale)


def signed_bar(value: float, biggest: float, width: int = 14) -> Text:
    """A bar growing left (red, negative) or right (green, positive) from a centre line."""
    frac = 0.0 if not biggest else max(-1.0, min(1.0, value / biggest))
    n = int(round(abs(frac) * width))
    text = Text()
    text.append(" " * (width - (n if frac < 0 else 0)))
    if frac < 0:
        text.append("█" * n, style="red")
    text.append("│", style="dim")
    if frac > 0:
        text.append("█" * n, style="green")
    text.append(" " * (width - (n if frac > 0 else 0)))
    return text


def _header(doc: dict[str, Any]) -> Panel:
    data = f" · {doc['rows']} rows of {doc['data']}" if doc.get("data") else ""
    head = (f"[bold]{doc['model']}[/bold] · {doc['task']} · target [bold]{doc['target']}[/bold] · "
            f"method {doc['method']}{data}")
    return Panel(head, title="mlcli explain", expand=False)


def _detail(feature: dict[str, Any]) -> str:
    terms = feature.get("terms") or []
    if not terms:
        return ""
    t = terms[0]
    odds = f", odds ×{t['odds_ratio']:.3g}" if t.get("odds_ratio") is not None else ""
    return f"{t['feature']}: {t['coefficient']:+.3g}{odds}"


BAR_WIDTHS = (20, 14, 10, 6, 0)  # the widest that lets the table fit the terminal; 0: shares without bars


def method_table(result: dict[str, Any], top: int, console: Console | None = None) -> Table:
    """One method's importances; the bars shrink (or go) so the table fits ``console``'s width."""
    return _fitting(lambda width: _method_table(result, top, width), BAR_WIDTHS, console)


def _fitting(build: Callable[[int], Table], bar_widths: Sequence[int], console: Console | None) -> Table:
    """``build(width)`` for the widest bar width whose table fits the console (the narrowest when none does)."""
    for width in bar_widths:
        table = build(width)
        if console is None or natural_width(console, table) <= console.width:
            break
    return table


def _method_table(result: dict[str, Any], top: int, bar_width: int) -> Table:
    title = f"{METHOD_TITLES[result['method']]} — {result['measure']}"
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", collapse_padding=True, pad_edge=False)
    feats = result["features"]
    has_spread = any(f.get("spread") is not None for f in feats)
    has_terms = any(f.get("terms") for f in feats)
    has_direction = any(f.get("direction") for f in feats)
    t.add_column("#", justify="right", style="dim")
    t.add_column("column", style="bold")
    t.add_column("importance", justify="right", no_wrap=True)
    if has_spread:
        t.add_column("±", justify="right", style="dim", no_wrap=True)
    if bar_width:
        t.add_column("", no_wrap=True)
    t.add_column("share", justify="right", no_wrap=True)
    if has_direction:
        t.add_column("direction")
    if has_terms:
        t.add_column("strongest term (coefficient per SD)", style="dim")
    biggest = max((f["importance"] or 0.0 for f in feats), default=0.0) or 1.0
    scale = scale_of([f["importance"] for f in feats[:top]])
    for i, f in enumerate(feats[:top], 1):
        value = f["importance"] or 0.0
        row: list[Any] = [str(i), f["name"], _num(f["importance"], scale)]
        if has_spread:
            row.append(_num(f.get("spread"), scale))
        if bar_width:
            row.append(bar(value / biggest, width=bar_width, color="cyan" if value >= 0 else "red"))
        row.append(fmt_share(f.get("share") or 0.0))
        if has_direction:
            row.append(_direction_text(f.get("direction")))
        if has_terms:
            row.append(_detail(f))
        t.add_row(*row)
    return t


def _direction_text(direction: str | None) -> Text:
    if direction is None:
        return Text("")
    if direction == "+":
        return Text("higher → raises", style="green")
    if direction == "-":
        return Text("higher → lowers", style="red")
    return Text(direction, style="dim" if direction == "mixed" else "")


def comparison_table(doc: dict[str, Any], top: int, console: Console | None = None) -> Table:
    """--method all: one row per column, each method's share with a bar, ranked like doc['features']; the bars
    shrink (or go) so the table fits ``console``'s width (80 columns keeps bars of 6)."""
    return _fitting(lambda width: _comparison_table(doc, top, width), (10, 8, 6, 4, 0), console)


def _comparison_table(doc: dict[str, Any], top: int, bar_width: int) -> Table:
    methods = [m for m in ("native", "permutation", "shap") if m in doc["methods"]]
    t = Table(title="Importance by method (share of each method's total; ranked by "
                    f"{methods[-1] if methods else ''})", box=box.SIMPLE_HEAD, title_justify="left",
              collapse_padding=True, pad_edge=False)
    t.add_column("#", justify="right", style="dim")
    t.add_column("column", style="bold")
    lookup = {}
    for m in methods:
        t.add_column(m, no_wrap=True)
        lookup[m] = {f["name"]: f for f in doc["methods"][m]["features"]}
    t.add_column("direction")
    for i, f in enumerate(doc["features"][:top], 1):
        row: list[Any] = [str(i), f["name"]]
        for m in methods:
            item = lookup[m].get(f["name"])
            share = (item or {}).get("share") or 0.0
            best = max((x.get("share") or 0.0 for x in lookup[m].values()), default=0.0) or 1.0
            cell = Text(f"{fmt_share(share) if item else '—':>4}")
            if bar_width:
                cell.append(" ").append_text(bar(share / best, width=bar_width))
            row.append(cell)
        row.append(_direction_text(f.get("direction")))
        t.add_row(*row)
    return t


def render_explain(console: Console, doc: dict[str, Any], top: int = 20) -> None:
    console.print(_header(doc))
    if doc["method"] == "all" and len(doc["methods"]) > 1:
        console.print(comparison_table(doc, top, console))
        for name, res in doc["methods"].items():
            console.print(f"[dim]{name}: {res['measure']} · {res['seconds']:.2f}s[/dim]")
    else:
        for res in doc["methods"].values():
            console.print(method_table(res, top, console))
            extra = []
            if res.get("metric"):
                extra.append(f"baseline {res['metric']} {_num(res.get('baseline'))} on {res.get('rows')} rows")
            if res.get("explainer"):
                extra.append(f"{res['explainer']}; output: {res.get('output')}; {res.get('rows')} rows")
            extra.append(f"{res['seconds']:.2f}s")
            console.print("[dim]" + " · ".join(extra) + "[/dim]")
    shown = len(doc["features"])
    if shown > top:
        console.print(f"[dim]... {shown - top} more column(s) (use --top or --format json for all)[/dim]")
    for w in doc.get("warnings", []):
        console.print(f"[bold yellow]warning:[/bold yellow] {w}")


def render_row(console: Console, doc: dict[str, Any]) -> None:
    shown = fmt_num(doc["prediction"]) if isinstance(doc["prediction"], float) else doc["prediction"]
    pred = f"predicted [bold]{shown}[/bold]"
    if doc.get("probabilities"):
        p = doc["probabilities"].get(str(doc["prediction"]))
        pred += f" (probability {p:.3f})" if p is not None else ""
    actual = f" · actual {doc['actual']}" if doc.get("actual") is not None else ""
    console.print(Panel(f"[bold]{doc['model']}[/bold] · row {doc['row']} of {doc['data']} (rows count from 0) · "
                        f"{pred}{actual}", title="mlcli explain", expand=False))
    t = Table(title=f"Contributions to the {doc['explained']}, largest first", box=box.SIMPLE_HEAD,
              title_justify="left")
    t.add_column("column", style="bold")
    t.add_column("value")
    t.add_column("contribution", justify="right")
    t.add_column("")
    biggest = max((abs(c["contribution"] or 0.0) for c in doc["contributions"]), default=0.0)
    scale = scale_of([biggest, doc.get("base_value"), doc.get("output_value")])  # the same decimals for all
    for c in doc["contributions"]:
        value = c["value"]
        shown = "—" if value is None else (fmt_num(value) if isinstance(value, float) else str(value))
        if len(shown) > 40:
            shown = shown[:39] + "…"
        v = c["contribution"] or 0.0
        style = "green" if v > 0 else ("red" if v < 0 else "")
        t.add_row(c["name"], shown, Text(fmt_signed(float(v), scale=scale), style=style), signed_bar(v, biggest))
    console.print(t)
    console.print(f"base value {fmt_signed(doc.get('base_value'), scale=scale)} (the average {doc['explained']}) + "
                  f"contributions = {fmt_signed(doc.get('output_value'), scale=scale)} for this row · "
                  f"[dim]{doc['explainer']}[/dim]")


def features_csv(doc: dict[str, Any]) -> str:
    """Importances (or one row's contributions) as CSV."""
    out = io.StringIO()
    w = csv.writer(out)
    if "contributions" in doc:
        w.writerow(["name", "value", "contribution"])
        for c in doc["contributions"]:
            w.writerow([c["name"], "" if c["value"] is None else c["value"], c["contribution"]])
    else:
        w.writerow(["name", "importance", "spread", "direction", "share"])
        for f in doc["features"]:
            w.writerow([f["name"], f["importance"], "" if f["spread"] is None else f["spread"],
                        f["direction"] or "", f["share"]])
    return out.getvalue()


# --------------------------------------------------------------------------------------------- figures

def check_plot_path(path: str) -> None:
    """Fail before any work when --plot cannot be written or matplotlib is missing."""
    from pathlib import Path

    p = Path(path)
    if p.suffix.lower() not in PLOT_FORMATS:
        raise ConfigError(f"--plot {path}: give a file ending in {', '.join(PLOT_FORMATS)}")
    if not p.parent.exists() or not p.parent.is_dir():
        raise ConfigError(f"--plot {path}: directory {p.parent} does not exist")
    _pyplot()


def _pyplot():
    return pyplot("explain")  # shap and matplotlib come together in the explain extra


def _bar_panel(ax, result: dict[str, Any], top: int) -> None:
    feats = result["features"][:top][::-1]
    names = [f["name"] for f in feats]
    values = [f["importance"] or 0.0 for f in feats]
    spread = [f.get("spread") or 0.0 for f in feats] if result["method"] == "permutation" else None
    ax.barh(names, values, xerr=spread, color=colour(0), ecolor="#555555", capsize=2)
    ax.set_title(METHOD_TITLES[result["method"]], fontsize=10, loc="left")
    ax.set_xlabel(result["measure"], fontsize=7)
    ax.tick_params(labelsize=8)
    ax.axvline(0, color="#999999", linewidth=0.8)


def _beeswarm_panel(ax, fig, shap: Any, frame: Any, result: dict[str, Any], top: int) -> None:
    """SHAP summary: one dot per row and column at its contribution, coloured by the column's value."""
    import numpy as np
    import pandas as pd

    order = [f["name"] for f in result["features"][:top]][::-1]
    rng = np.random.default_rng(0)
    values = shap.values.mean(axis=1) if shap.values.shape[1] > 1 else shap.values[:, 0, :]
    sc = None
    for y, name in enumerate(order):
        j = shap.columns.index(name)
        x = values[:, j]
        colour = np.full(len(x), 0.5)
        raw = frame[name] if name in frame.columns else None
        if raw is not None and (pd.api.types.is_numeric_dtype(raw) or raw.nunique() <= 12):
            num = (pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float) if pd.api.types.is_numeric_dtype(raw)
                   else np.where(raw.notna(), pd.factorize(raw.astype(str), sort=True)[0], np.nan).astype(float))
            if np.isfinite(num).any():
                lo, hi = np.nanpercentile(num, 5), np.nanpercentile(num, 95)
                colour = np.clip((num - lo) / ((hi - lo) or 1.0), 0, 1)
                colour = np.where(np.isfinite(colour), colour, 0.5)
        jitter = rng.uniform(-0.3, 0.3, len(x))
        sc = ax.scatter(x, y + jitter, c=colour, cmap="coolwarm", s=6, vmin=0, vmax=1, alpha=0.8, linewidths=0)
    ax.set_yticks(range(len(order)), order, fontsize=8)
    ax.axvline(0, color="#999999", linewidth=0.8)
    ax.set_title("SHAP summary (one dot per row)", fontsize=10, loc="left")
    ax.set_xlabel(f"contribution to the {shap.kind}", fontsize=7)
    if sc is not None:
        cb = fig.colorbar(sc, ax=ax, fraction=0.04, pad=0.01)
        cb.set_ticks([0, 1], labels=["low", "high"])
        cb.ax.tick_params(labelsize=7)
        cb.set_label("column value", fontsize=7)


def plot_explain(path: str, doc: dict[str, Any], shap: Any = None, frame: Any = None, top: int = 20) -> None:
    """A bar chart per method; for SHAP a summary (beeswarm-style) plot as well."""
    plt = _pyplot()
    panels: list[tuple[str, dict[str, Any]]] = []
    for name, res in doc["methods"].items():
        panels.append(("bar", res))
        if name == "shap" and shap is not None and frame is not None:
            panels.append(("swarm", res))
    n_feat = min(top, max(len(r["features"]) for _, r in panels))
    ncols = 1 if len(panels) == 1 else 2
    nrows = (len(panels) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.2 * ncols, nrows * (1.4 + 0.32 * n_feat)), squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    for ax, (kind, res) in zip(axes.ravel(), panels):
        if kind == "bar":
            _bar_panel(ax, res, top)
        else:
            _beeswarm_panel(ax, fig, shap, frame, res, top)
    fig.suptitle(f"{doc['model']} · target {doc['target']}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_row(path: str, doc: dict[str, Any], top: int = 20) -> None:
    """One prediction: each column's signed contribution, largest first."""
    plt = _pyplot()
    items = doc["contributions"][:top][::-1]
    names = [f"{c['name']} = {str(c['value'])[:24]}" for c in items]
    values = [c["contribution"] or 0.0 for c in items]
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.35 * len(items)))
    ax.barh(names, values, color=["#2e9e4f" if v > 0 else "#d04a3a" for v in values])
    ax.axvline(0, color="#999999", linewidth=0.8)
    ax.set_xlabel(f"contribution to the {doc['explained']}", fontsize=8)
    ax.set_title(f"row {doc['row']}: predicted {doc['prediction']} (base {doc['base_value']:+.3f} → "
                 f"{doc['output_value']:+.3f})", fontsize=10, loc="left")
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

"""Rich tables and CSV for the run history (mlcli runs list / show / compare)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mlcli.render.numbers import fmt_num, scale_of
from mlcli.render.tables import METRIC_LABELS, natural_width

STATUS_STYLE = {"finished": "green", "failed": "red", "interrupted": "yellow", "running": "cyan"}


def when(stamp: str | None, short: bool = False) -> str:
    """An ISO UTC time stamp as local 'YYYY-MM-DD HH:MM' ('MM-DD HH:MM' this year when short)."""
    if not stamp:
        return ""
    try:
        local = datetime.fromisoformat(stamp).astimezone()
    except ValueError:
        return stamp
    this_year = local.year == datetime.now().year
    return local.strftime("%m-%d %H:%M" if short and this_year else "%Y-%m-%d %H:%M")


def seconds(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return ""
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(round(value)), 60)
    return f"{minutes} min {secs:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _score(run: dict[str, Any]) -> str:
    metric = run.get("main_metric")
    value = (run.get("metrics") or {}).get(metric) if metric else None
    if metric is None or value is None:
        return ""
    return f"{metric} {fmt_num(value)}"


def _data(run: dict[str, Any]) -> str:
    data = run.get("data")
    return Path(data).name if data and data != "-" else ("stdin" if data == "-" else "")


RUN_COLUMNS = (("id", "right"), ("started", "left"), ("command", "left"), ("model", "left"), ("data", "left"),
               ("main metric", "left"), ("status", "left"), ("time", "right"))
NARROW_DROPS = ("time", "status", "started")  # dropped in this order while the table is wider than the terminal
MIN_DATA = 10  # a file name keeps at least this many characters before its ellipsis


def _run_cells(run: dict[str, Any]) -> dict[str, Any]:
    status = run.get("status", "")
    return {"id": str(run["id"]), "started": when(run.get("started"), short=True), "command": run.get("command", ""),
            "model": run.get("model") or "", "data": _data(run), "main metric": _score(run),
            "status": Text(status, style=STATUS_STYLE.get(status, "")), "time": seconds(run.get("duration"))}


def _runs_table(rows: list[dict[str, Any]], names: list[str], widths: dict[str, int] | None = None) -> Table:
    widths = widths or {}
    t = Table(box=box.SIMPLE_HEAD, title="Runs (newest first)", title_justify="left", pad_edge=False,
              collapse_padding=True, show_edge=False)
    for name, justify in RUN_COLUMNS:
        if name in names:  # a model name wraps only between words; a file name ends in an ellipsis
            t.add_column(name, justify=justify, no_wrap=name != "model", width=widths.get(name),
                         overflow="ellipsis" if name == "data" else "fold")
    for cells in rows:
        t.add_row(*[cells[name] for name in names])
    return t


def render_runs(console: Console, runs: list[dict[str, Any]]) -> None:
    """One line per run that reads at 80 columns: model and file names whole. Where the terminal is too narrow,
    the duration goes first, then the status (when every run shown finished), then the start time; a model label
    with grid parameters then wraps between words, and a file name ends in '…' as a last resort."""
    rows = [_run_cells(run) for run in runs]
    names = [name for name, _ in RUN_COLUMNS]
    drops = [d for d in NARROW_DROPS if d != "status" or all(r["status"].plain == "finished" for r in rows)]
    while natural_width(console, _runs_table(rows, names)) > console.width and drops:
        names.remove(drops.pop(0))
    excess = natural_width(console, _runs_table(rows, names)) - console.width
    widths: dict[str, int] = {}
    if excess > 0:
        model = max([len(r["model"]) for r in rows] + [5])
        words = max([len(w) for r in rows for w in r["model"].split()] + [5])
        widths["model"] = max(words, model - excess)
        excess -= model - widths["model"]
        data = max([len(r["data"]) for r in rows] + [4])
        if excess > 0:
            widths["data"] = max(MIN_DATA, data - excess)
    console.print(_runs_table(rows, names, widths))


def _kv_table(title: str, rows: list[tuple[str, Any]]) -> Table:
    t = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", show_header=False)
    t.add_column("key", style="bold")
    t.add_column("value", overflow="fold")
    for key, value in rows:
        if value not in (None, "", {}, []):
            t.add_row(key, value if isinstance(value, Text) else str(value))
    return t


def render_run(console: Console, run: dict[str, Any]) -> None:
    status = run.get("status", "")
    rows: list[tuple[str, Any]] = [
        ("command", run.get("command_line")), ("status", Text(status, style=STATUS_STYLE.get(status, ""))),
        ("error", run.get("error")), ("started", when(run.get("started"))),
        ("duration", seconds(run.get("duration"))), ("model", run.get("model")), ("task", run.get("task")),
        ("target", run.get("target")), ("data", run.get("data")), ("data fingerprint", run.get("data_fingerprint")),
        ("seed", run.get("seed")), ("bundle", run.get("bundle")), ("rerun of", run.get("rerun_of")),
        ("MLflow run", run.get("mlflow_run")), ("working directory", run.get("cwd")),
        ("libraries", ", ".join(f"{k} {v}" for k, v in (run.get("libraries") or {}).items())),
    ]
    console.print(_kv_table(f"Run {run['id']}", rows))
    metrics = run.get("metrics") or {}
    if metrics:
        title = "Metrics" + (" (best model, mean over folds)" if run.get("command") == "cv" else "")
        t = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", min_width=len(title))  # title on 1 line
        t.add_column("metric")
        t.add_column("value", justify="right", style="bold")
        for key, value in metrics.items():
            t.add_row(METRIC_LABELS.get(key, key), fmt_num(value))
        console.print(t)
    board = run.get("leaderboard") or []
    if len(board) > 1:
        t = Table(box=box.SIMPLE_HEAD, title="Leaderboard", title_justify="left")
        for name in ("model", "score", "±", "status"):
            t.add_column(name, justify="right" if name in ("score", "±") else "left")
        scale = scale_of([row.get("score") for row in board])  # the same decimals down the column
        for row in board:
            t.add_row(str(row.get("name")), fmt_num(row.get("score"), scale=scale),
                      fmt_num(row.get("score_std"), scale=scale), str(row.get("status") or ""))
        console.print(t)
    if run.get("recipe"):
        from mlcli.tracking.recipe import dump_recipe

        console.print(Text("Recipe (mlcli runs rerun " + str(run["id"]) + " repeats it)", style="bold"))
        console.print(Text(dump_recipe(run["recipe"]).rstrip()), soft_wrap=True)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    return str(value)


def fold_path(text: str, width: int) -> str:
    """A path longer than ``width`` broken after a '/' (the terminal would cut it anywhere); other text as it is."""
    if len(text) <= width or "/" not in text or any(c.isspace() for c in text):
        return text
    lines = [""]
    for part in re.findall(r"[^/]*/|[^/]+$", text):
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(lines)


def render_compare(console: Console, doc: dict[str, Any]) -> None:
    ids = [r["id"] for r in doc["runs"]]
    t = Table(box=box.SIMPLE_HEAD, title="Settings (differences first, in yellow)", title_justify="left")
    key_width = min(30, max([len(s["key"]) for s in doc["settings"]] + [7]))
    t.add_column("setting", no_wrap=True, min_width=key_width)
    for i in ids:
        t.add_column(f"run {i}", overflow="fold")
    room = max(8, (console.width - key_width - 3 * (len(ids) + 1)) // max(1, len(ids)))  # each run's column
    for s in doc["settings"]:
        style = "yellow" if s["differs"] else "dim"
        t.add_row(Text(s["key"], style=style), *[Text(fold_path(_cell(v), room), style=style) for v in s["values"]])
    console.print(t)
    if doc["metrics"]:
        m = Table(box=box.SIMPLE_HEAD, title="Metrics (best in green)", title_justify="left")
        m.add_column("metric")
        for i in ids:
            m.add_column(f"run {i}", justify="right")
        for row in doc["metrics"]:
            scale = scale_of(row["values"])
            cells = [Text(fmt_num(v, scale=scale), style="bold green" if i in row["best"] else "")
                     for i, v in zip(ids, row["values"])]
            m.add_row(METRIC_LABELS.get(row["metric"], row["metric"]), *cells)
        console.print(m)


def _csv(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def runs_csv(runs: list[dict[str, Any]]) -> str:
    """One row per run; each metric a column."""
    fixed = ["id", "started", "command", "status", "duration", "model", "task", "target", "data",
             "data_fingerprint", "seed", "main_metric", "bundle", "command_line"]
    metric_names: list[str] = []
    for run in runs:
        metric_names += [m for m in (run.get("metrics") or {}) if m not in metric_names]
    rows = [fixed + metric_names]
    for run in runs:
        metrics = run.get("metrics") or {}
        rows.append([("" if run.get(k) is None else run.get(k)) for k in fixed]
                    + [("" if metrics.get(m) is None else metrics.get(m)) for m in metric_names])
    return _csv(rows)


def metrics_csv(run: dict[str, Any]) -> str:
    return _csv([["metric", "value"], *[[k, "" if v is None else v] for k, v in (run.get("metrics") or {}).items()]])


def compare_csv(doc: dict[str, Any]) -> str:
    ids = [r["id"] for r in doc["runs"]]
    rows = [["kind", "key", *[f"run {i}" for i in ids]]]
    rows += [["setting", s["key"], *[_cell(v) if v is not None else "" for v in s["values"]]] for s in doc["settings"]]
    rows += [["metric", m["metric"], *["" if v is None else v for v in m["values"]]] for m in doc["metrics"]]
    return _csv(rows)

"""Rendering of the tune result document: the trials table, the best parameters, CSV rows, a progress bar."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mlcli.render.cv import label
from mlcli.render.numbers import fmt_num, fmt_signed, mean_std, scale_of
from mlcli.render.tables import render_warnings

STATE_STYLE = {"complete": "green", "pruned": "yellow", "failed": "red", "timeout": "red", "interrupted": "yellow"}
STATE_TEXT = {"timeout": "timed out"}


def param_text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    return str(value)


def params_line(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={param_text(v)}" for k, v in params.items())


def _head(doc: dict[str, Any]) -> str:
    direction = "higher" if doc["higher_is_better"] else "lower"
    c = doc["counts"]
    trials = f"{len(doc['trials'])} trials ({c['complete']} complete, {c['pruned']} pruned"
    trials += f", {c['failed']} failed)" if c["failed"] else ")"
    reps = f" × {doc['repeats']} repeats" if doc["repeats"] > 1 else ""
    return (f"{doc['task']} · target [bold]{escape(str(doc['target']))}[/bold] · {doc['rows']} rows · model "
            f"[bold]{escape(doc['model'])}[/bold] · {doc['folds']}-fold{reps} · [bold]{label(doc['metric'])}[/bold] "
            f"({direction} is better) · {trials} · {escape(doc['data'])}")


def _trials_table(doc: dict[str, Any]) -> Table:
    best = (doc.get("best") or {}).get("trial")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Trial", justify="right", no_wrap=True)
    table.add_column("Params", ratio=1, overflow="fold")
    table.add_column(label(doc["metric"]), justify="right", no_wrap=True)
    table.add_column("Folds", justify="right", no_wrap=True)
    table.add_column("State", no_wrap=True)
    table.add_column("Seconds", justify="right", no_wrap=True)
    scale = scale_of([t["score"] for t in doc["trials"]])  # the same decimals down the column
    for t in doc["trials"]:
        params = Text("defaults", style="italic") if t["default"] else Text(params_line(t["params"]))
        mark = Text("★ ", style="bold green") if t["trial"] == best else Text("")
        state = t["state"]
        table.add_row(Text.assemble(mark, str(t["trial"])), params, mean_std(t["score"], t["score_std"], scale=scale),
                      f"{t['folds']}/{doc['splits']}", Text(STATE_TEXT.get(state, state), style=STATE_STYLE.get(state)),
                      f"{t['seconds']:.1f}")
    return table


def render_tune(console: Console, doc: dict[str, Any]) -> None:
    console.print(Panel(_head(doc), title="mlcli tune", expand=False))
    render_warnings(console, doc)
    console.print(_trials_table(doc))
    _summary(console, doc)


def _summary(console: Console, doc: dict[str, Any]) -> None:
    best = doc.get("best")
    metric = label(doc["metric"])
    if best is None:
        console.print("[red]No trial finished its folds, so there are no best parameters.[/red]")
    elif best["default"]:
        console.print(f"Best: the defaults, {metric} {mean_std(best['score'], best['score_std'])}: no trial beat them.")
    else:
        gain = doc.get("gain")
        scale = scale_of([best["score"], doc.get("default_score")])
        versus = (f" · defaults {fmt_num(doc['default_score'], scale=scale)} "
                  f"([bold]{fmt_signed(float(gain), scale=scale)}[/bold])"
                  if gain is not None else "")
        console.print(f"Best: trial {best['trial']}, {metric} {mean_std(best['score'], best['score_std'])}{versus}",
                      highlight=False)
        console.print(f"Best parameters: [bold]{escape(params_line(best['params']))}[/bold]", highlight=False)
    if doc.get("baseline_score") is not None:
        console.print(f"[dim]baseline (the trivial model) on the same folds: {fmt_num(doc['baseline_score'])}[/dim]")
    failed = [t for t in doc["trials"] if t["state"] == "failed"]
    for t in failed[:3]:
        console.print(f"[red]trial {t['trial']}[/red]: failed: {escape(t.get('error', ''))}", highlight=False)
    tail = f"{len(doc['trials'])} trials · {doc['seconds']:.1f} s"
    if doc.get("timed_out"):
        tail = f"time limit of {doc['time_limit']:g} s reached · " + tail
    if doc.get("interrupted"):
        tail = "[yellow]interrupted[/yellow] · " + tail
    console.print(f"[dim]pruned: stopped after a fold whose running mean was worse than the median of earlier "
                  f"trials at that fold · {tail}[/dim]")
    if doc.get("saved"):
        console.print(f"Best parameters refitted on all rows and saved to [bold]{escape(doc['saved'])}[/bold]")


def trials_csv(doc: dict[str, Any]) -> str:
    """One row per trial: number, state, score, spread, folds, seconds, then one column per parameter."""
    keys: list[str] = []
    for t in doc["trials"]:
        keys += [k for k in t["params"] if k not in keys]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["trial", "default", "state", doc["metric"], f"{doc['metric']}_std", "folds", "seconds", "best",
                *[f"param_{k}" for k in keys]])
    best = (doc.get("best") or {}).get("trial")
    for t in doc["trials"]:
        line = [t["trial"], t["default"], t["state"], t["score"], t["score_std"], t["folds"], t["seconds"],
                t["trial"] == best, *[param_text(t["params"][k]) if k in t["params"] else None for k in keys]]
        w.writerow(["" if v is None else v for v in line])
    return buf.getvalue()


class TuneProgress:
    """A Rich progress bar on stderr: trials done of the most asked (or the seconds of the time limit), the
    fold of the trial running and the best score so far. Silent when stderr is not a terminal."""

    def __init__(self, enabled: bool = True, time_limit: float | None = None, console: Console | None = None):
        self.enabled, self.time_limit, self.console = enabled, time_limit, console
        self._progress: Any = None
        self._task: Any = None
        self._t0 = time.monotonic()

    def __call__(self, trial: int, total: int | None, fold: int, folds: int, best: float | None) -> None:
        if not self.enabled:
            return
        if self._progress is None and not self._start():
            return
        if total:
            completed, size = trial + fold / folds, total
        else:
            completed, size = time.monotonic() - self._t0, self.time_limit or 1.0
        of = f"/{total}" if total else ""
        self._progress.update(self._task, completed=min(completed, size), total=size,
                              now=f"trial {trial + 1}{of} · fold {fold}/{folds} · best {fmt_num(best)}")

    def _start(self) -> bool:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        if self.console is None:
            from mlcli.render.output import stderr_console

            self.console = stderr_console()
        if not self.console.is_terminal:
            self.enabled = False
            return False
        self._progress = Progress(SpinnerColumn(), TextColumn("tune"), BarColumn(), TimeElapsedColumn(),
                                  TextColumn("[dim]{task.fields[now]}"), console=self.console, transient=True)
        self._progress.start()
        self._task = self._progress.add_task("tune", total=1.0, now="")
        return True

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> TuneProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

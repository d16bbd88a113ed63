"""Rendering of the auto result document: the leaderboard with the ensemble's weights, the ensemble beside the
best single model and the baseline, the budget, CSV rows and a progress bar over the time limit."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mlcli.render.cv import STATUS_TEXT, label, running_label, verdict
from mlcli.render.numbers import fmt_num, fmt_signed, mean_std, scale_of
from mlcli.render.tables import render_warnings

TOP = 25  # leaderboard rows shown on a terminal (every row is in JSON and CSV)


def _head(doc: dict[str, Any]) -> str:
    direction = "higher" if doc["higher_is_better"] else "lower"
    budget = doc["budget"]
    return (f"{doc['task']} · target [bold]{escape(str(doc['target']))}[/bold] · {doc['rows']} rows · "
            f"{doc['folds']}-fold · [bold]{label(doc['metric'])}[/bold] ({direction} is better) · preset "
            f"{doc['preset']} · {budget['time_limit']:g} s limit · {escape(doc['data'])}")


def _table(doc: dict[str, Any], top: int) -> Table:
    t = Table(title="Leaderboard (mean ± std over the same folds)", box=box.SIMPLE_HEAD, title_justify="left")
    t.add_column("#", justify="right", no_wrap=True)
    width = min(max([len(r["name"]) for r in doc["leaderboard"]] + [9]), 32)
    t.add_column("candidate", no_wrap=True, min_width=width, overflow="ellipsis")
    t.add_column(label(doc["metric"]), justify="right", style="bold", no_wrap=True)
    t.add_column("vs best", no_wrap=True)
    t.add_column("weight", justify="right", no_wrap=True)
    t.add_column("tier", style="dim", no_wrap=True)
    t.add_column("fit s", justify="right", style="dim", no_wrap=True)
    rows = doc["leaderboard"]
    score = scale_of([r["score"] for r in rows[:top]])  # the same decimals down the column
    for r in rows[:top]:
        name = Text(r["name"], style="bold" if r["best"] else ("dim" if r["rank"] is None else ""))
        weight = f"{r['weight']:.2f}" if r.get("weight") else ""
        if r["status"] in STATUS_TEXT and r["rank"] is None:
            weight = STATUS_TEXT[r["status"]]
        t.add_row(str(r["rank"] or ""), name, mean_std(r["score"], r["score_std"], scale=score), verdict(r), weight,
                  r.get("tier", ""), fmt_num(r["seconds"], 1), style="on grey15" if r["best"] else None)
    if len(rows) > top:
        t.caption = f"{len(rows) - top} more row(s) in --format json / csv"
    return t


def _versus(console: Console, doc: dict[str, Any]) -> None:
    ens, single, base = doc.get("ensemble"), doc.get("best_single"), doc.get("baseline")
    metric = label(doc["metric"])
    if ens is None:
        console.print("[red]No model finished its folds within the time limit: there is no ensemble.[/red]")
        return
    members = " + ".join(f"{m['weight']:.2f} × {escape(m['name'])}" for m in ens["members"])
    guard = ens.get("guard")
    if guard and guard["acted"]:
        replaced = " + ".join(f"{w:.2f} × {escape(n)}" for n, w in guard["ensemble"])
        console.print(f"Final model: [bold]{escape(guard['reference'])}[/bold], the best default model: the "
                      f"ensemble ({replaced}) did not beat it on rows its selection did not see (gain "
                      f"{fmt_signed(guard['gain'])}; {fmt_signed(guard['in_sample_gain'])} on the rows it was chosen "
                      "on); --always-ensemble keeps the ensemble", highlight=False)
    else:
        console.print(f"Ensemble ({ens['combiner']}): {members}", highlight=False)
        if guard and guard["halves"]:
            console.print(f"[dim]gain over the best default model {escape(guard['reference'])} on rows the "
                          f"selection did not see: {fmt_signed(guard['gain'])} ({fmt_signed(guard['in_sample_gain'])} "
                          "on the rows it was chosen on)[/dim]", highlight=False)
    scale = scale_of([ens["score"], ens["oof_score"]])

    def num(value: Any) -> str:
        return fmt_num(value, scale=scale)

    parts = [f"ensemble [bold]{num(ens['score'])}[/bold]"]
    if single:
        parts.append(f"best single {escape(single['name'])} {num(single['score'])}")
    if base:
        parts.append(f"baseline {num(base['score'])}")
    console.print(f"{metric}, mean over the folds: " + " · ".join(parts), highlight=False)
    pooled = [f"ensemble {num(ens['oof_score'])}"] + ([f"best single {num(single['oof_score'])}"] if single else [])
    pooled += [f"baseline {num(base['oof_score'])}"] if base else []
    console.print(f"[dim]{metric} on all out-of-fold rows: {' · '.join(pooled)} (the ensemble's weights were "
                  "chosen on these rows: a little optimistic)[/dim]", highlight=False)


def _test(console: Console, doc: dict[str, Any]) -> None:
    """The final model on the --test file, the baseline beside it."""
    test = doc.get("test_file")
    if not test:
        return
    scale = scale_of([test["score"], test["baseline_score"]])
    base = "" if test["baseline_score"] is None else f" · baseline {fmt_num(test['baseline_score'], scale=scale)}"
    name = escape(test["data"].replace("\\", "/").rsplit("/", 1)[-1])
    console.print(f"{label(test['metric'])} on the test file {name} ({test['rows']:,} rows): final "
                  f"model [bold]{fmt_num(test['score'], scale=scale)}[/bold]{base}", highlight=False)


def _budget(console: Console, doc: dict[str, Any]) -> None:
    b = doc["budget"]
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in b["phases"].items())
    line = (f"[dim]budget: {b['used_s']:.1f} of {b['time_limit']:g} s ({phases}) · {b['tried']} tried of "
            f"{b['candidates']} portfolio candidates")
    if b["skipped"]:
        line += f" · {len(b['skipped'])} skipped (expected to overrun the time left)"
    if b.get("final_s") is not None:
        line += f" · final model {b['final_s']:.1f} s after the search"
    line += " · the time limit decided what ran" if b["binding"] else " · the time limit did not bind"
    console.print(line + "[/dim]", highlight=False)
    for t in doc.get("tuning") or []:
        if "skipped" in t:
            console.print(f"[dim]not tuned: {escape(t['candidate'])}: {escape(t['skipped'])}[/dim]", highlight=False)
        else:
            console.print(f"[dim]tuned {escape(t['candidate'])}: {t['trials']} trials ({t['complete']} complete, "
                          f"{t['pruned']} pruned) · {fmt_num(t['start_score'])} -> {fmt_num(t['best_score'])}[/dim]",
                          highlight=False)


def render_auto(console: Console, doc: dict[str, Any], top: int = TOP) -> None:
    console.print(Panel(_head(doc), title="mlcli auto", expand=False))
    render_warnings(console, doc)
    console.print(_table(doc, top))
    _versus(console, doc)
    _test(console, doc)
    _budget(console, doc)
    if doc.get("interrupted"):
        console.print("[yellow]interrupted: the leaderboard and ensemble of what finished[/yellow]")
    if doc.get("saved"):
        console.print(f"Final model saved to [bold]{escape(doc['saved'])}[/bold]")


def leaderboard_csv(doc: dict[str, Any]) -> str:
    """One line per row: rank, name, model, tier, status, folds, score, spread, weight, t-test, seconds, params."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    metric = doc["metric"]
    w.writerow(["rank", "name", "model", "tier", "best", "status", "folds", metric, f"{metric}_std", "weight",
                "diff_vs_best", "p_vs_best", "within_noise", "seconds", "params"])
    for r in doc["leaderboard"]:
        vs = r.get("vs_best") or {}
        params = r.get("members") if r["model"] == "ensemble" else r["params"]
        line = [r["rank"], r["name"], r["model"], r.get("tier"), r["best"], r["status"], r["folds"], r["score"],
                r["score_std"], r.get("weight"), vs.get("diff"), vs.get("p"), vs.get("within_noise"), r["seconds"],
                json.dumps(params, default=str)]
        w.writerow(["" if v is None else v for v in line])
    return buf.getvalue()


class AutoProgress:
    """A Rich progress bar on stderr over the time limit: the phase, the fits or trial running, the seconds used.
    Silent when stderr is not a terminal."""

    def __init__(self, enabled: bool = True, time_limit: float = 300.0, console: Console | None = None):
        self.enabled, self.limit, self.console = enabled, time_limit, console
        self._progress: Any = None
        self._task: Any = None
        self._t0 = time.monotonic()
        self._phase = "starting"

    def phase(self, name: str) -> None:
        self._phase = name
        self._show("")

    def fits(self, done: int, total: int, last: str = "", *, running: Sequence[str] = (), **kwargs: Any) -> None:
        self._show(f"{done}/{total} fits · {running_label(running, last, 40)}")

    def trial(self, trial: int, total: int | None, fold: int, folds: int, best: float | None) -> None:
        of = f"/{total}" if total else ""
        self._show(f"trial {trial + 1}{of} · fold {fold}/{folds} · best {fmt_num(best)}")

    def _show(self, now: str) -> None:
        if not self.enabled or (self._progress is None and not self._start()):
            return
        used = time.monotonic() - self._t0
        self._progress.update(self._task, completed=min(used, self.limit), phase=self._phase, now=now)

    def _start(self) -> bool:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        if self.console is None:
            from mlcli.render.output import stderr_console

            self.console = stderr_console()
        if not self.console.is_terminal:
            self.enabled = False
            return False
        self._progress = Progress(SpinnerColumn(), TextColumn("auto: {task.fields[phase]}"), BarColumn(),
                                  TimeElapsedColumn(), TextColumn(f"of {self.limit:g} s ·"),
                                  TextColumn("[dim]{task.fields[now]}"), console=self.console, transient=True)
        self._progress.start()
        self._task = self._progress.add_task("auto", total=self.limit, phase=self._phase, now="")
        return True

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> AutoProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

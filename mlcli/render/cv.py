"""Rendering of the cv result document: the leaderboard table, the grid view, CSV rows and the progress bar."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mlcli.render.numbers import fmt_num, mean_std, scale_of
from mlcli.render.tables import METRIC_LABELS, bar, render_warnings

STATUS_TEXT = {"timeout": "timed out", "failed": "failed", "interrupted": "partial"}
METRIC_WIDTH = 19  # "0.8612 ± 0.0213" plus padding and a margin


def label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def verdict(row: dict[str, Any]) -> Text:
    """'★ best', '≈ p=0.41' (within noise of the best) or '✗ p=0.003' (significantly worse)."""
    if row["best"]:
        return Text("★ best", style="bold green")
    if row["status"] in ("timeout", "failed"):
        return Text(STATUS_TEXT[row["status"]], style="red")
    vs = row.get("vs_best")
    if not vs or vs.get("p") is None:
        return Text("—", style="dim")
    p = vs["p"]
    if vs["within_noise"]:
        return Text(f"≈ p={p:.2f}", style="green")
    return Text(f"✗ p={p:.3f}" if p >= 0.001 else "✗ p<0.001", style="red")


def _fit_columns(metrics: list[str], room: int) -> list[str]:
    """The leading metrics whose mean ± std columns fit in ``room`` characters."""
    out = []
    for m in metrics:
        room -= max(len(label(m)), METRIC_WIDTH - 4) + 3
        if room < 0:
            break
        out.append(m)
    return out


def _head(doc: dict[str, Any]) -> str:
    kind = ("grouped by " + doc["groups"] + ", ") if doc.get("groups") else ""
    kind += "stratified" if doc["stratified"] else "shuffled"
    reps = f" × {doc['repeats']} repeats" if doc["repeats"] > 1 else ""
    direction = "higher" if doc["higher_is_better"] else "lower"
    par = doc["parallel"]
    where = f"Dask {par['scheduler']}" if par.get("scheduler") else f"{par['jobs']} job(s)"
    return (f"{doc['task']} · target [bold]{doc['target']}[/bold] · {doc['rows']} rows · "
            f"{doc['folds']}-fold {kind}{reps} · sorted by [bold]{label(doc['metric'])}[/bold] "
            f"({direction} is better) · {where} × {par['threads_per_model']} thread(s) per model · {doc['data']}")


def render_cv(console: Console, doc: dict[str, Any]) -> None:
    console.print(Panel(_head(doc), title="mlcli cv", expand=False))
    render_warnings(console, doc)
    rows = doc["leaderboard"]
    has_train = any("train_mean" in r for r in rows)
    others = [m for m in (rows[0]["mean"] if rows else {}) if m != doc["metric"]]
    longest = max([len(r["name"]) for r in rows] + [5])
    fixed = 5 + longest + 2 + METRIC_WIDTH + 12 + 9 + 10
    show_train = has_train and fixed + METRIC_WIDTH + 10 <= console.width
    fixed += (METRIC_WIDTH + 10) if show_train else 0
    first = _fit_columns(others, console.width - fixed)
    console.print(_leaderboard_table(doc, first, show_train))
    _more_metrics(console, [r for r in rows if r["rank"] is not None], others[len(first):])
    if doc.get("grid") or (has_train and not show_train):
        render_grid(console, doc)
    _footer(console, doc)


def _leaderboard_table(doc: dict[str, Any], first: list[str], show_train: bool) -> Table:
    metric = doc["metric"]
    t = Table(title="Leaderboard (mean ± std over the folds)", box=box.SIMPLE_HEAD, title_justify="left")
    t.add_column("#", justify="right", no_wrap=True, min_width=2)
    t.add_column("model", overflow="fold")
    t.add_column(label(metric), justify="right", style="bold", no_wrap=True)
    if show_train:
        t.add_column(f"train {label(metric)}", justify="right", style="dim", no_wrap=True)
        t.add_column("gap", justify="right", no_wrap=True)
    t.add_column("vs best", no_wrap=True)
    for m in first:
        t.add_column(label(m), justify="right", no_wrap=True, min_width=len(label(m)))
    t.add_column("fit s", justify="right", style="dim", no_wrap=True)
    t.add_column("pred s", justify="right", style="dim", no_wrap=True)
    rows = doc["leaderboard"]
    score = scale_of([r["score"] for r in rows])  # one number of decimals per column
    scales = {m: scale_of([r["mean"][m] for r in rows]) for m in first}
    for r in rows:
        name = Text(r["name"], style="bold" if r["best"] else ("dim" if r["rank"] is None else ""))
        cells: list[Any] = [str(r["rank"] or ""), name, mean_std(r["score"], r["score_std"], scale=score)]
        if show_train:
            tm = (r.get("train_mean") or {}).get(metric)
            cells += [mean_std(tm, (r.get("train_std") or {}).get(metric), scale=score), _gap(tm, r["score"], doc)]
        cells.append(verdict(r))
        cells += [mean_std(r["mean"][m], r["std"][m], scale=scales[m]) for m in first]
        cells += [fmt_num(r["fit_s"], 3), fmt_num(r["predict_s"], 3)]
        t.add_row(*cells, style="on grey15" if r["best"] else None)
    return t


def _more_metrics(console: Console, ranked: list[dict[str, Any]], rest: list[str]) -> None:
    """The metrics that did not fit beside the leaderboard, in as many tables as the width needs."""
    name_width = 4 + max([len(r["name"]) for r in ranked] + [5])
    start = 0
    while ranked and start < len(rest):
        chunk = _fit_columns(rest[start:], console.width - name_width) or rest[start:start + 1]
        more = Table(title="More metrics (mean ± std)" if start == 0 else None, box=box.SIMPLE_HEAD,
                     title_justify="left")
        more.add_column("model", no_wrap=True, min_width=name_width - 4)
        for m in chunk:
            more.add_column(label(m), justify="right", no_wrap=True, min_width=len(label(m)))
        start += len(chunk)
        scales = {m: scale_of([r["mean"][m] for r in ranked]) for m in chunk}
        for r in ranked:
            more.add_row(r["name"], *[mean_std(r["mean"][m], r["std"][m], scale=scales[m]) for m in chunk])
        console.print(more)


def _footer(console: Console, doc: dict[str, Any]) -> None:
    """Rows that did not finish, what 'vs best' means, the fit count and time, the saved bundle."""
    for r in doc["leaderboard"]:
        if r["status"] == "timeout":
            console.print(f"[red]{escape(r['name'])}[/red]: timed out after {r['seconds']:.1f} s ({r['folds']} of "
                          f"{doc['splits']} folds done)", highlight=False)
        elif r["status"] == "failed":
            console.print(f"[red]{escape(r['name'])}[/red]: failed: {escape(r.get('error', ''))}", highlight=False)
        elif r["status"] == "interrupted":
            console.print(f"[yellow]{escape(r['name'])}[/yellow]: partial, {r['folds']} of {doc['splits']} folds "
                          "done", highlight=False)
    stopped = [r for r in doc["leaderboard"] if r.get("early_stopping")]
    if stopped:
        parts = []
        for r in stopped:
            es = r["early_stopping"]
            spread = (f" ({es['rounds_min']}–{es['rounds_max']})" if es["rounds_min"] != es["rounds_max"] else "")
            parts.append(f"{escape(r['name'])} {es['rounds_median']}{spread}")
        console.print("[dim]early stopping (rounds kept, median over the folds): " + ", ".join(parts)
                      + "; --param early_stopping=false for the full budget.[/dim]", highlight=False)
    sharper = "; --repeats 3 or more makes the test sharper" if doc["repeats"] == 1 else ""
    console.print(f"[dim]vs best: the corrected resampled t-test (Nadeau & Bengio) of each row against the best "
                  f"over the same {doc['splits']} folds; ≈ within noise (p ≥ {doc['test']['alpha']}: the gap may "
                  f"be chance), ✗ significantly worse{sharper}.[/dim]", highlight=False)
    fits = doc["fits"]
    tail = f"{fits['done']} of {fits['total']} fits · {doc['seconds']:.1f} s"
    if doc.get("interrupted"):
        tail = "[yellow]interrupted[/yellow] · " + tail
    console.print(f"[dim]{tail}[/dim]")
    if doc.get("saved"):
        console.print(f"Best model refitted on all rows and saved to [bold]{escape(doc['saved'])}[/bold]")


def _gap(train: Any, test: Any, doc: dict[str, Any]) -> Text:
    if train is None or test is None:
        return Text("—", style="dim")
    gap = (train - test) if doc["higher_is_better"] else (test - train)
    rel = gap / abs(train) if train else 0.0
    return Text(fmt_num(gap, scale=scale_of([train, test])), style="yellow" if rel > 0.1 else "")


def render_grid(console: Console, doc: dict[str, Any]) -> None:
    """Train and test score per candidate; with --grid in grid order, which reads as a validation curve."""
    grid = doc.get("grid") or {}
    metric = doc["metric"]
    rows = [r for r in doc["leaderboard"] if r["rank"] is not None]
    if grid:
        rows.sort(key=lambda r: (r["model"], [_sortable(r["params"].get(k)) for k in grid]))
    values = [v for r in rows for v in (r["score"], (r.get("train_mean") or {}).get(metric)) if v is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    span = (hi - lo) or 1.0
    hi_abs = scale_of(values)
    title = f"{'Grid: t' if grid else 'T'}rain vs test {label(metric)} (a large gap means overfitting)"
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    t.add_column("model", overflow="fold")
    for key in grid:
        t.add_column(key, justify="right")
    t.add_column("train", justify="right", style="dim", no_wrap=True)
    t.add_column("test", justify="right", style="bold", no_wrap=True)
    t.add_column("gap", justify="right", no_wrap=True)
    t.add_column("train ▮ test ▮", no_wrap=True)
    for r in rows:
        tr = (r.get("train_mean") or {}).get(metric)
        cells = [r["model"] if grid else r["name"], *[str(r["params"].get(k)) for k in grid],
                 fmt_num(tr, scale=hi_abs), fmt_num(r["score"], scale=hi_abs), _gap(tr, r["score"], doc)]
        graph = Text()
        if tr is not None:
            graph.append_text(bar(0.05 + 0.95 * (tr - lo) / span, 12, "grey50"))
        graph.append(" ")
        if r["score"] is not None:
            graph.append_text(bar(0.05 + 0.95 * (r["score"] - lo) / span, 12, "cyan"))
        t.add_row(*cells, graph)
    console.print(t)


def _sortable(value: Any) -> tuple:
    if value is None:
        return (0, 0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value, "")
    return (2, 0, str(value))


def leaderboard_csv(doc: dict[str, Any]) -> str:
    """The leaderboard as CSV: one line per row, mean and std of every metric in flat columns."""
    rows = doc["leaderboard"]
    metrics = list(rows[0]["mean"]) if rows else []
    has_train = any("train_mean" in r for r in rows)
    header = ["rank", "name", "model", "balance", "params", "best", "status", "folds", "metric", "score", "score_std",
              "diff_vs_best", "p_vs_best", "within_noise"]
    for m in metrics:
        header += [f"{m}_mean", f"{m}_std"] + ([f"train_{m}_mean"] if has_train else [])
    header += ["fit_s", "predict_s", "rounds_median"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        vs = r.get("vs_best") or {}
        params = ";".join(f"{k}={v}" for k, v in r["params"].items())
        line = [r["rank"], r["name"], r["model"], r.get("balance") or "", params,
                r["best"], r["status"], r["folds"], r["metric"], r["score"], r["score_std"], vs.get("diff"),
                vs.get("p"), vs.get("within_noise")]
        for m in metrics:
            line += [r["mean"][m], r["std"][m]] + ([(r.get("train_mean") or {}).get(m)] if has_train else [])
        line += [r["fit_s"], r["predict_s"], (r.get("early_stopping") or {}).get("rounds_median")]
        w.writerow(["" if v is None else v for v in line])
    return buf.getvalue()


class FoldProgress:
    """A Rich progress bar on stderr over models × folds: the bar and its ETA in expected seconds of fitting
    (so they move between fits, and the ETA counts down while a long fit runs), "M/N fits", the elapsed time
    and the names of the fits running now."""

    LABEL_WIDTH = 48

    def __init__(self, console: Console | None = None, enabled: bool = True):
        self.console = console
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int, last: str = "", *, running: Sequence[str] = (),
                 work: tuple[float, float] | None = None, eta: float | None = None) -> None:
        if not self.enabled:
            return
        if self._progress is None and not self._start(total):
            return
        completed, size = work if work is not None else (done, total)
        now = running_label(running, last, self.LABEL_WIDTH)
        self._progress.update(self._task, completed=completed, total=max(size, 1e-9), fits=f"{done}/{total}",
                              now=now, eta=eta, eta_at=time.monotonic())

    def _start(self, total: int) -> bool:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        if self.console is None:
            from mlcli.render.output import stderr_console

            self.console = stderr_console()
        if not self.console.is_terminal:
            self.enabled = False
            return False
        self._progress = Progress(SpinnerColumn(), TextColumn("cv: models × folds"), BarColumn(),
                                  TextColumn("{task.fields[fits]} fits ·"), TimeElapsedColumn(),
                                  TextColumn("· ETA"), _eta_column(), TextColumn("[dim]{task.fields[now]}"),
                                  console=self.console, transient=True)
        self._progress.start()
        self._task = self._progress.add_task("cv", total=total, fits=f"0/{total}", now="", eta=None,
                                             eta_at=time.monotonic())
        return True

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> FoldProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def running_label(running: Sequence[str], last: str, width: int) -> str:
    """'catboost f3, rf f4' (the fits running now), shortened to ``width``; the last finished one if none."""
    text = ", ".join(running) if running else last
    return text if len(text) <= width else text[:width - 1].rstrip(", ") + "…"


def _eta_column() -> Any:
    """Seconds left: the runner's estimate counted down since it was given (rich's own estimate without one)."""
    from rich.progress import ProgressColumn

    class EtaColumn(ProgressColumn):
        max_refresh = 0.5

        def render(self, task: Any) -> Text:
            eta = task.fields.get("eta")
            if eta is None:
                eta = task.time_remaining
            else:
                eta = max(eta - (time.monotonic() - task.fields.get("eta_at", time.monotonic())), 0.0)
            if eta is None:
                return Text("-:--:--", style="progress.remaining")
            minutes, seconds = divmod(int(round(eta)), 60)
            hours, minutes = divmod(minutes, 60)
            return Text(f"{hours}:{minutes:02d}:{seconds:02d}", style="progress.remaining")

    return EtaColumn()

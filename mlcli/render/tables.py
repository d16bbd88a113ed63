"""Rich renderings of the result documents (the dicts that results' to_dict() return)."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mlcli.render.numbers import fmt_num, fmt_share, scale_of

METRIC_LABELS = {
    "accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "precision": "precision",
    "recall": "recall (sensitivity)", "specificity": "specificity", "f1": "F1", "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC", "log_loss": "log loss", "mcc": "MCC", "rmse": "RMSE", "mae": "MAE", "r2": "R²",
    "mape": "MAPE", "f1_macro": "F1 (macro)", "f1_weighted": "F1 (weighted)",
    "precision_macro": "precision (macro)", "precision_weighted": "precision (weighted)",
    "recall_macro": "recall (macro)", "recall_weighted": "recall (weighted)",
    "specificity_macro": "specificity (macro)", "brier": "Brier score", "ece": "calibration error (ECE)",
}


def natural_width(console: Console, renderable: Any) -> int:
    """The width ``renderable`` takes when nothing limits it (Console.measure caps it at the console's width)."""
    return Measurement.get(console, console.options.update(max_width=10_000), renderable).maximum


def bar(fraction: float, width: int = 24, color: str = "cyan") -> Text:
    fraction = max(0.0, min(1.0, fraction))
    full = int(round(fraction * width))
    return Text("█" * full + "·" * (width - full), style=color)


def roles_table(columns: list[dict[str, Any]]) -> Table:
    t = Table(title="Columns", box=box.SIMPLE_HEAD, title_justify="left")
    t.add_column("column")
    t.add_column("role")
    t.add_column("distinct", justify="right")
    t.add_column("missing", justify="right")
    t.add_column("note", style="dim")
    styles = {"identifier": "dim", "constant": "dim", "dropped": "dim", "text": "magenta", "categorical": "green",
              "numeric": "cyan", "datetime": "yellow"}
    for c in columns:
        t.add_row(c["name"], Text(c["role"], style=styles.get(c["role"], "")), str(c["n_unique"]),
                  fmt_share(c["missing"]) if c["missing"] else "", c.get("reason", ""))
    return t


def metrics_table(metrics: dict[str, Any], train_metrics: dict[str, Any] | None = None,
                  title: str | None = "Held-out metrics", baseline: dict[str, Any] | None = None) -> Table:
    """The metrics (test or value), beside the training rows' (train) and a trivial model's (baseline)."""
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    t.add_column("metric")
    t.add_column("test" if train_metrics else "value", justify="right", style="bold")
    if train_metrics:
        t.add_column("train", justify="right", style="dim")
    if baseline:
        t.add_column("baseline", justify="right", style="dim")
    for key, value in metrics.items():
        values = [value] + [other.get(key) for other in (train_metrics, baseline) if other]
        scale = scale_of(values)  # the same decimals along the row: 16,001 / 15,109 / 26,163
        t.add_row(METRIC_LABELS.get(key, key), *[fmt_num(v, scale=scale) for v in values])
    return t


def warning_lines(doc: dict[str, Any]) -> list[str]:
    """Every warning of a document, the leaks first (a leak the warnings do not mention gets a line)."""
    warnings = [str(w) for w in doc.get("warnings") or []]
    leaks = doc.get("leaks") or []
    about_leaks = [w for w in warnings if w.startswith("possible leak") or any(_names(leak, w) for leak in leaks)]
    unsaid = [_leak_line(leak) for leak in leaks if not any(_names(leak, w) for w in about_leaks)]
    return about_leaks + unsaid + [w for w in warnings if w not in about_leaks]


def _names(leak: dict[str, Any], line: str) -> bool:
    return bool(leak.get("drop")) and leak["drop"] in line


def _leak_line(leak: dict[str, Any]) -> str:
    columns = {"sum": " + ", "difference": " - "}.get(leak.get("how", ""), " and ").join(
        f"'{c}'" for c in leak.get("columns", []))
    metric = leak.get("metric", "")
    return (f"possible leak: {columns} predicts the target almost perfectly ({METRIC_LABELS.get(metric, metric)} "
            f"{fmt_num(leak.get('score'))}); leave it out: {leak.get('drop', '')}")


def warnings_panel(doc: dict[str, Any]) -> Panel | None:
    """A yellow panel of the document's warnings, or None when it has none."""
    lines = warning_lines(doc)
    if not lines:
        return None
    body = Table.grid(padding=(0, 1))
    body.add_column(no_wrap=True)
    body.add_column()
    for line in lines:
        body.add_row("•", Text(line))
    return Panel(body, title="[bold yellow]Warnings[/bold yellow]", title_align="left", border_style="yellow")


def training_rows_title(training_rows: dict[str, Any] | None) -> str | None:
    """How many of the evaluated rows the model was trained on, when there are any (else None: held-out)."""
    if not training_rows or not training_rows.get("count"):
        return None
    count, of = training_rows["count"], training_rows.get("of") or 0
    share = training_rows.get("share", count / of if of else 0.0)
    return f"Metrics ({count} of {of} rows, {fmt_share(share, 1)}, were used to train this model: not held-out)"


def confusion_table(matrix: list[list[int]], classes: list[Any]) -> Table:
    t = Table(title="Confusion matrix (rows: true, columns: predicted; count and row %)", box=box.SIMPLE_HEAD,
              title_justify="left")
    t.add_column("true \\ pred", style="bold")
    for c in classes:
        t.add_column(str(c), justify="right")
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        cells = []
        for j, n in enumerate(row):
            style = "green" if i == j else ("red" if n else "dim")
            cells.append(Text(f"{n} ({fmt_share(n / total)})", style=style))
        t.add_row(str(classes[i]), *cells)
    return t


MAX_MATRIX_CLASSES = 12  # more classes: the most frequent confusions instead of the matrix (JSON keeps it)
TOP_CONFUSIONS = 10


def top_confusions(matrix: list[list[int]], classes: list[Any], top: int = TOP_CONFUSIONS
                   ) -> list[tuple[Any, Any, int, float]]:
    """The largest off-diagonal cells: (true class, predicted class, count, share of the true class's rows)."""
    cells = [(n, i, j) for i, row in enumerate(matrix) for j, n in enumerate(row) if i != j and n]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [(classes[i], classes[j], n, n / (sum(matrix[i]) or 1)) for n, i, j in cells[:top]]


def confusions_table(matrix: list[list[int]], classes: list[Any]) -> Table:
    t = Table(title="Most frequent confusions", box=box.SIMPLE_HEAD, title_justify="left", caption_justify="left",
              caption=f"{len(classes)} classes: the full matrix is in --format json")
    t.add_column("true")
    t.add_column("→ predicted")
    t.add_column("count", justify="right")
    t.add_column("share of the true class", justify="right")
    for true, pred, n, share in top_confusions(matrix, classes):
        t.add_row(str(true), str(pred), str(n), fmt_share(share, 1))
    return t


def per_class_table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title="Per class", box=box.SIMPLE_HEAD, title_justify="left")
    for col in ("class", "precision", "recall", "f1", "support"):
        t.add_column(col, justify="left" if col == "class" else "right")
    for r in rows:
        t.add_row(str(r["class"]), fmt_num(r["precision"]), fmt_num(r["recall"]), fmt_num(r["f1"]), str(r["support"]))
    return t


def importance_table(items: list[dict[str, Any]], top: int = 10, title: str = "Top feature importances") -> Table:
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    t.add_column("column")
    t.add_column("share", justify="right")
    t.add_column("")
    biggest = max((i["importance"] for i in items[:top]), default=1.0) or 1.0
    for item in items[:top]:
        t.add_row(item["feature"], fmt_share(item["importance"], 1), bar(item["importance"] / biggest))
    return t


def minority_panel(m: dict[str, Any]) -> Panel:
    lines = (f"[bold]Minority class '{m['class']}'[/bold] — {m['support']} rows, imbalance ratio "
             f"{m['imbalance_ratio']:.1f}:1 (accuracy alone is misleading here)\n"
             f"precision {fmt_num(m['precision'])} · recall {fmt_num(m['recall'])} · F1 {fmt_num(m['f1'])} · "
             f"PR AUC {fmt_num(m['pr_auc'])} · balanced accuracy {fmt_num(m['balanced_accuracy'])}")
    return Panel(lines, expand=False, border_style="yellow")


def threshold_table(t: dict[str, Any]) -> Table:
    table = Table(title=f"Decision threshold {t['threshold']:.3f} — {t['chosen_by']}", box=box.SIMPLE_HEAD,
                  title_justify="left")
    table.add_column("on the test rows")
    table.add_column("at 0.5", justify="right")
    table.add_column(f"at {t['threshold']:.3f}", justify="right", style="bold")
    for key in ("precision", "recall", "f1", "balanced_accuracy"):
        table.add_row(METRIC_LABELS.get(key, key), fmt_num(t["at_0.5"].get(key)), fmt_num(t["at_threshold"].get(key)))
    return table


def render_eval_block(console: Console, doc: dict[str, Any], train_metrics: dict[str, Any] | None = None,
                      baseline: dict[str, Any] | None = None, caution: str | None = None) -> None:
    """The metrics (under ``caution``, in yellow, instead of 'Held-out metrics' when given), the confusion
    matrix (or, with many classes, the most frequent confusions) and the per-class table."""
    if doc.get("minority"):
        console.print(minority_panel(doc["minority"]))
    if caution:
        console.print(Text(caution, style="bold yellow"))
    console.print(metrics_table(doc["metrics"], train_metrics, None if caution else "Held-out metrics", baseline))
    matrix, classes = doc.get("confusion_matrix"), doc.get("classes") or []
    if matrix and len(classes) <= MAX_MATRIX_CLASSES:
        console.print(confusion_table(matrix, classes))
    if doc.get("per_class") and len(classes) > 2:
        console.print(per_class_table(doc["per_class"]))
    if matrix and len(classes) > MAX_MATRIX_CLASSES:
        if top_confusions(matrix, classes):
            console.print(confusions_table(matrix, classes))
        else:
            console.print("[dim]No confusions: every row is classified correctly.[/dim]")


def render_warnings(console: Console, doc: dict[str, Any]) -> None:
    panel = warnings_panel(doc)
    if panel is not None:
        console.print(panel)


def render_gap(console: Console, gap: dict[str, Any]) -> None:
    """The train-vs-test gap of the main metric, its verdict, and (dimmed) the rule behind the verdict."""
    if gap.get("gap") is None:
        return
    label = METRIC_LABELS.get(gap["metric"], gap["metric"])
    proper = gap.get("proper") or {}
    if proper.get("worse_than_baseline") and proper.get("metric") == "log_loss":  # a proper scoring rule's verdict
        verdict = (f"[yellow]likely overfitting: held-out log loss {fmt_num(proper['test'])} is worse than the "
                   f"baseline's {fmt_num(proper['baseline'])} (overconfident probabilities)[/yellow]")
    elif gap.get("rule"):  # judged against the baseline (evaluation.baseline.overfitting)
        verdict = ("[yellow]held out, under half its lead over the baseline is left: likely overfitting[/yellow]"
                   if gap.get("overfitting") else
                   "[green]held out, most of its lead over the baseline is kept: no sign of overfitting[/green]")
    else:
        verdict = ("[yellow]the model does much better on its training rows: likely overfitting[/yellow]"
                   if gap.get("overfitting") else "[green]small: no sign of overfitting[/green]")
    shown = fmt_num(gap["gap"], scale=scale_of([gap.get("train"), gap.get("test")]))  # 892, not 892.0565
    console.print(f"Train-vs-test gap in {label}: {shown} — {verdict}")
    if gap.get("rule"):
        console.print(Text(f"  ({gap['rule']})", style="dim"))


def render_train(console: Console, doc: dict[str, Any]) -> None:
    rows = doc["rows"]
    balance = f" · balance {doc['balance']}" if doc.get("balance") else ""
    head = (f"[bold]{doc['model']}[/bold]{balance} · {doc['task']} · target [bold]{doc['target']}[/bold] · "
            f"{rows['train']} train / {rows['test']} test rows · {doc['data']}")
    console.print(Panel(head, title="mlcli train", expand=False))
    if doc.get("target_reason") and doc["target_reason"] != "given":
        console.print(Text(f"target '{doc['target']}': {doc['target_reason']}", style="dim"))
    console.print(roles_table(doc["columns"]))
    render_warnings(console, doc)
    render_eval_block(console, doc["test"], doc.get("train_metrics"), doc.get("baseline"))
    if doc.get("threshold_tuning"):
        console.print(threshold_table(doc["threshold_tuning"]))
    render_gap(console, doc.get("gap") or {})
    done = (doc.get("calibration") or {}).get("calibrated")
    if done:
        by = "--calibrate" if done.get("by") == "--calibrate" else "the model's own"
        console.print(Text(f"Probabilities calibrated: {done['method']} on {done.get('folds')} inner folds of the "
                           f"training rows ({by})", style="dim"))
    if doc.get("importances"):
        console.print(importance_table(doc["importances"]))
    else:
        console.print("[dim]This model has no native feature importances.[/dim]")
    tm = doc["timings"]
    console.print(f"[dim]load {tm['load']:.2f}s · fit {tm['fit']:.2f}s · predict {tm['predict']:.2f}s · "
                  f"total {tm['total']:.2f}s[/dim]")
    console.print(f"Model bundle saved to [bold]{doc['bundle']}[/bold]")


def render_evaluate(console: Console, doc: dict[str, Any]) -> None:
    console.print(Panel(f"[bold]{doc['model']}[/bold] from {doc['bundle']} · {doc['rows']} labelled rows of "
                        f"{doc['data']}", title="mlcli evaluate", expand=False))
    render_warnings(console, doc)
    render_eval_block(console, doc, baseline=doc.get("baseline"), caution=training_rows_title(doc.get("training_rows")))


def render_models(console: Console, rows: list[dict[str, Any]]) -> None:
    t = Table(title="Models", box=box.SIMPLE_HEAD, title_justify="left", collapse_padding=True, pad_edge=False)
    t.add_column("name", style="bold", no_wrap=True)
    t.add_column("classify", no_wrap=True)  # short headers: at 80 columns the description keeps 34 of them
    t.add_column("regress", no_wrap=True)
    t.add_column("installed")
    t.add_column("description", style="dim", ratio=1)
    for r in rows:
        yes = lambda b: Text("yes", style="green") if b else Text("—", style="dim")  # noqa: E731
        t.add_row(r["name"], yes("binary" in r["tasks"]), yes("regression" in r["tasks"]),
                  Text("yes", style="green") if r["installed"] else Text(f"no: pip install {r['install']}",
                                                                          style="red"),
                  r["summary"])
    console.print(t)


def render_params(console: Console, doc: dict[str, Any]) -> None:
    t = Table(title=f"Parameters of {doc['model']} ({doc['task']}) — set with --param key=value",
              box=box.SIMPLE_HEAD, title_justify="left")
    t.add_column("parameter")
    t.add_column("default")
    for k, v in sorted(doc["params"].items()):
        t.add_row(k, v if isinstance(v, str) else repr(v))  # text: a value as written, or an object's repr
    console.print(t)


def render_rows_table(console: Console, frame: Any, limit: int = 50) -> None:
    t = Table(box=box.SIMPLE_HEAD)
    for col in frame.columns:
        t.add_column(str(col))
    for row in frame.head(limit).itertuples(index=False):
        t.add_row(*[fmt_num(v) if isinstance(v, float) else str(v) for v in row])
    console.print(t)
    if len(frame) > limit:
        console.print(f"[dim]... {len(frame) - limit} more rows (use --format csv for all)[/dim]")


def render_balance(console: Console, doc: dict[str, Any]) -> None:
    after = {c["class"]: c for c in doc["after"] or []}
    biggest = max([c["count"] for c in doc["before"]] + [c["count"] for c in after.values()])
    t = Table(title=f"Classes of '{doc['target']}'" + (f" before and after {doc['method']}" if doc["method"] else ""),
              box=box.SIMPLE_HEAD, title_justify="left")
    t.add_column("class")
    t.add_column("before", justify="right")
    t.add_column("")
    if after:
        t.add_column("after", justify="right")
        t.add_column("")
    for c in doc["before"]:
        row = [str(c["class"]), f"{c['count']} ({fmt_share(c['share'], 1)})", bar(c["count"] / biggest, 14, "cyan")]
        if after:
            a = after.get(c["class"], {"count": 0, "share": 0.0})
            row += [f"{a['count']} ({fmt_share(a['share'], 1)})", bar(a["count"] / biggest, 14, "green")]
        t.add_row(*row)
    console.print(t)
    ratio = f"Imbalance ratio (largest / smallest class): {doc['imbalance_ratio_before']:.2f}"
    if doc["imbalance_ratio_after"] is not None:
        ratio += f" → {doc['imbalance_ratio_after']:.2f}"
    console.print(ratio)
    if doc.get("note"):
        console.print(f"[yellow]{doc['note']}[/yellow]")
    if not doc["method"]:
        for tip in doc["advice"]:
            console.print(f"• {tip}")


def metrics_csv(doc: dict[str, Any]) -> str:
    """A report's metrics as two-column CSV (train, evaluate)."""
    return "metric,value\n" + "".join(f"{k},{'' if v is None else v}\n" for k, v in doc["metrics"].items())


def balance_csv(doc: dict[str, Any]) -> str:
    """Class counts before (and after) resampling as CSV."""
    rows = [(stage, c) for stage in ("before", "after") for c in (doc[stage] or [])]
    return "stage,class,count,share\n" + "".join(f"{s},{c['class']},{c['count']},{c['share']}\n" for s, c in rows)


def models_csv(rows: list[dict[str, Any]]) -> str:
    return "name,tasks,installed\n" + "".join(
        f"{r['name']},{' '.join(r['tasks'])},{str(r['installed']).lower()}\n" for r in rows)

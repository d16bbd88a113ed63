"""mlcli balance: class counts, imbalance ratio and advice; with --method, the resampled rows."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mlcli.cli import options as o
from mlcli.cli.state import state
from mlcli.models.resamplers import RESAMPLERS  # the registry: names only, nothing heavy is imported

METHODS_HELP = ", ".join(RESAMPLERS) + " (smote becomes SMOTE-NC when there are categorical columns)"


def balance(
    data: Annotated[str, typer.Argument(help="Data file or - for stdin.")],
    target: o.Target = None,
    method: Annotated[Optional[str], typer.Option("--method", help=f"Resampling method: {METHODS_HELP}. "
                                                  "Without it, only the report.")] = None,
    ratio: o.Ratio = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="Method parameter key=value, "
                                                       "e.g. k_neighbors=3.")] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Write the rows to this file "
                                                  "(.csv, .parquet, .jsonl); the report goes to stdout.")] = None,
    task: o.Task = None,
    drop: o.Drop = None,
    categorical: o.Categorical = None,
    numeric: o.Numeric = None,
    sep: o.Sep = None,
    encoding: o.Encoding = None,
    seed: o.Seed = 42,
    plot: Annotated[Optional[str], typer.Option("--plot", help="Also draw the class counts before/after into "
                                                "this directory.")] = None,
    plot_format: o.PlotFormat = "png",
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> None:
    """Show class counts and the imbalance ratio; with --method, resample and write the rows in the input's columns.

    Example: mlcli balance stroke.csv --target stroke --method smote -o balanced.csv
    """
    from mlcli.render.output import check_output_file

    check_output_file(output, "--output", "balanced.csv")  # before the data is read or resampled
    from mlcli.render.figures.style import check_plot_dir

    check_plot_dir(plot, plot_format)
    from mlcli.data.dataset import DataOptions
    from mlcli.experiments.balance import run_balance
    from mlcli.models.estimators import parse_params
    from mlcli.models.resamplers import parse_ratio
    from mlcli.render.emit import emit
    from mlcli.render.output import Notifier, library_chatter_to_stderr, resolve_format, write_rows, write_table_file

    notify = Notifier(state.quiet)
    opts = DataOptions(data, target, task, sep, encoding, drop or [], categorical or [], [], numeric or [])
    with library_chatter_to_stderr():
        result = run_balance(opts, method, parse_params(param), parse_ratio(ratio), seed, notify)
    doc = result.to_dict()
    if plot:
        from mlcli.render.figures.balance import class_counts_figure
        from mlcli.render.figures.commands import write_figures

        write_figures({"class_counts": class_counts_figure(doc, data)}, plot, plot_format, notify)
    if result.note:
        notify(result.note)
    rows_to_stdout = result.rows is not None and not output
    fmt = resolve_format(fmt, rows=rows_to_stdout)
    if output and result.rows is not None:
        write_table_file(result.rows, output)
        notify(f"wrote {len(result.rows)} rows to {output}")
    written = (output and result.rows is not None) or (rows_to_stdout and fmt in ("csv", "json"))
    if result.warning and written:
        notify.warn(result.warning)
    if rows_to_stdout and fmt in ("csv", "json"):  # the rows are the data: the report goes to stderr
        _report_to_stderr(doc, notify)
        write_rows(result.rows, fmt)
        return
    emit("balance", doc, fmt)
    if rows_to_stdout:
        notify("the resampled rows were not printed on the terminal: pipe them, or give -o FILE")


def _report_to_stderr(doc: dict, notify) -> None:
    def counts(rows):
        return ", ".join(f"{c['class']}: {c['count']}" for c in rows)

    notify(f"class counts before: {counts(doc['before'])} (ratio {doc['imbalance_ratio_before']:.2f})")
    if doc["after"]:
        notify(f"class counts after {doc['method']}: {counts(doc['after'])} (ratio {doc['imbalance_ratio_after']:.2f})")


def register(app: typer.Typer) -> None:
    app.command("balance")(balance)

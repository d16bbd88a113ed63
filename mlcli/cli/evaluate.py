"""mlcli evaluate and mlcli predict: a saved model bundle applied to new data."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mlcli.cli import options as o
from mlcli.cli.state import state

Bundle = Annotated[str, typer.Argument(help="Model bundle directory (from mlcli train --out).")]
Data = Annotated[str, typer.Argument(help="Data file or - for stdin.")]


def evaluate(
    bundle: Bundle,
    data: Data,
    threshold: o.Threshold = None,
    sep: o.Sep = None,
    encoding: o.Encoding = None,
    trust_pickle: o.TrustPickle = False,
    plot: o.Plot = None,
    plot_format: o.PlotFormat = "png",
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> dict:
    """Metrics and confusion matrix of a saved model on labelled data.

    Example: mlcli evaluate models/adult test.csv --plot figures/
    """
    from mlcli.render.figures.style import check_plot_dir

    check_plot_dir(plot, plot_format)  # before the bundle is loaded
    from mlcli.experiments.evaluate import evaluate as run_evaluate
    from mlcli.render.emit import emit
    from mlcli.render.output import Notifier, library_chatter_to_stderr

    notify = Notifier(state.quiet)
    with library_chatter_to_stderr():
        result = run_evaluate(bundle, data, sep=sep, encoding=encoding, threshold=threshold,
                              trust_pickle=trust_pickle, notify=notify)
    if result.dropped_rows:
        notify(f"dropped {result.dropped_rows} row(s) with a missing target")
    doc = result.to_dict()
    if emit("evaluate", doc, fmt) != "table":  # the table shows them in its Warnings panel
        for line in doc["warnings"]:
            notify.warn(line)
    if plot:
        from mlcli.render.figures.commands import evaluate_figures, write_figures

        write_figures(evaluate_figures(result, threshold is not None), plot, plot_format, notify)
    return doc


def predict(
    bundle: Bundle,
    data: Data,
    keep: Annotated[Optional[list[str]], typer.Option("--keep", "-k", help="Input columns to pass through, "
                                                      "e.g. an id (comma list, repeatable).")] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o",
                                                  help="Write to this file instead of stdout.")] = None,
    threshold: o.Threshold = None,
    sep: o.Sep = None,
    encoding: o.Encoding = None,
    trust_pickle: o.TrustPickle = False,
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> None:
    """Predictions for new rows: the label and, for classifiers, a probability per class.

    Example: cat new.csv | mlcli predict models/adult - > predictions.csv
    """
    from mlcli.render.output import check_output_file

    check_output_file(output, "--output", "predictions.csv")  # before the model is loaded or anything is predicted
    from mlcli.experiments.predict import predict as run_predict
    from mlcli.render.output import Notifier, library_chatter_to_stderr, resolve_format, stdout_console, write_rows

    with library_chatter_to_stderr():
        frame = run_predict(bundle, data, keep=keep, sep=sep, encoding=encoding, threshold=threshold,
                            trust_pickle=trust_pickle, notify=Notifier(state.quiet))
    if output:
        fmt = fmt if fmt in ("json", "csv") else ("json" if output.endswith((".json", ".jsonl")) else "csv")
    else:
        fmt = resolve_format(fmt, rows=True)
    if fmt == "table" and not output:
        from mlcli.render.tables import render_rows_table

        render_rows_table(stdout_console(), frame)
    else:
        write_rows(frame, fmt, output)


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
    app.command("predict")(predict)

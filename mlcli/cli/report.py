"""mlcli report: a model bundle (and, with DATA, its evaluation) as one self-contained HTML file."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mlcli.cli import options as o
from mlcli.cli.state import state


def report(
    bundle: Annotated[str, typer.Argument(help="Model bundle directory (from mlcli train --out).")],
    data: Annotated[Optional[str], typer.Argument(help="Labelled data to evaluate the model on (adds the "
                                                  "figures and the baseline); - for stdin.")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="HTML file to write.")] = "report.html",
    threshold: o.Threshold = None,
    sep: o.Sep = None,
    encoding: o.Encoding = None,
    trust_pickle: o.TrustPickle = False,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> None:
    """One HTML file about a model: data, columns and roles, parameters, metrics beside the baseline, warnings,
    feature importances and, with DATA, the evaluation figures. Images are embedded; no network, no JavaScript.

    Example: mlcli report models/titanic-logreg test.csv -o report.html
    """
    from mlcli.errors import ConfigError
    from mlcli.render.output import check_output_file

    if not output.lower().endswith((".html", ".htm")):
        raise ConfigError(f"--output {output}: give a file name ending in .html")
    check_output_file(output, "--output", "report.html")  # before the bundle is read
    from mlcli.models.bundle import read_meta
    from mlcli.render.figures.style import check_matplotlib

    check_matplotlib("mlcli report")
    folder, meta = read_meta(bundle)
    if meta.get("task") not in ("binary", "multiclass", "regression"):
        raise ConfigError(f"{bundle} is a {meta.get('task')} bundle: mlcli report takes a supervised model")
    _write(folder, meta, bundle, data, output, threshold, sep, encoding, trust_pickle)


def _write(folder, meta, bundle, data, output, threshold, sep, encoding, trust_pickle) -> None:
    from mlcli.render.figures.importance import importance_figure
    from mlcli.render.figures.style import Context
    from mlcli.render.output import Notifier, atomic_write, library_chatter_to_stderr
    from mlcli.render.report import report_html

    notify = Notifier(state.quiet)
    evaluation, figures = None, {}
    if data:
        from mlcli.experiments.evaluate import evaluate
        from mlcli.render.figures.commands import evaluate_figures

        with library_chatter_to_stderr():
            result = evaluate(str(folder), data, sep=sep, encoding=encoding, threshold=threshold,
                              trust_pickle=trust_pickle, notify=notify)
        evaluation = result.to_dict()
        figures = evaluate_figures(result, threshold is not None)
    ctx = Context(meta["model"], (meta.get("data") or {}).get("source"), "importances saved at training time")
    importance = {"feature_importances": importance_figure(meta["importances"], ctx)} if meta.get("importances") \
        else {}
    page = report_html(meta, str(folder), evaluation, importance, figures)
    atomic_write(output, lambda fh: fh.write(page.encode("utf-8")))
    notify(f"report written to {output} ({len(importance) + len(figures)} figures, {len(page) // 1024:,} KiB)")


def register(app: typer.Typer) -> None:
    app.command("report")(report)

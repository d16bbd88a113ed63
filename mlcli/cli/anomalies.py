"""mlcli anomalies."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mlcli.cli import options as o
from mlcli.cli import unsupervised as u
from mlcli.cli.state import state
from mlcli.models.unsupervised import method_names  # the registry: names only

METHODS = ", ".join(method_names("anomalies"))


def anomalies(
    data: Annotated[str, typer.Argument(help="Data file (CSV/TSV/Parquet/JSON Lines) or - for stdin.")],
    method: Annotated[str, typer.Option("--method", "-m", help=f"Method: {METHODS} (autoencoder needs torch: "
                                        "pip install 'mlcli[text]').")] = "isolation-forest",
    contamination: Annotated[float, typer.Option(
        "--contamination", help="Share of rows to flag as anomalies, in (0, 0.5].")] = 0.05,
    top: Annotated[int, typer.Option("--top", help="Most unusual rows to show with their reasons.")] = 10,
    label: u.Label = None,
    positive: Annotated[Optional[str], typer.Option(
        "--positive", help="The --label value of a known anomaly (default: the rarer of two values).")] = None,
    keep: u.Keep = None,
    output: u.Output = None,
    param: u.Params = None,
    scale: u.Scale = "auto",
    plot: u.Plot = None,
    plot_format: u.PlotFormat = "png",
    drop: o.Drop = None,
    categorical: o.Categorical = None,
    numeric: o.Numeric = None,
    threads: o.Threads = None,
    sep: o.Sep = None,
    encoding: o.Encoding = None,
    seed: o.Seed = 42,
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> dict:
    """Score every row for how unusual it is; flag the top --contamination share and say why.

    Example: mlcli anomalies transactions.csv --label fraud --keep id -o scored.csv
    """
    data = u.need_data(data, "anomalies")
    u.before_work(output, plot, plot_format)
    from mlcli.data.dataset import DataOptions
    from mlcli.experiments.unsupervised.anomalies import AnomalyRequest, run_anomalies
    from mlcli.models.estimators import parse_params
    from mlcli.render.output import Notifier, library_chatter_to_stderr

    notify = Notifier(state.quiet)
    req = AnomalyRequest(DataOptions(data, None, None, sep, encoding, drop or [], categorical or [], [], numeric or []),
                         method, label, keep or [], parse_params(param), scale, seed, None, threads,
                         contamination=contamination, top=top, positive=positive)
    with library_chatter_to_stderr():
        result = run_anomalies(req, notify=notify)
    doc = result.doc
    if plot:
        from mlcli.render.figures.unsupervised import anomaly_figures

        doc["plots"] = anomaly_figures(doc, result.scores, result.known, plot, plot_format)
    summary = f"{doc['flagged']} of {doc['rows']} rows flagged by {doc['method']}"
    if doc["label"]:
        lab = doc["label"]
        summary += (f"; against '{lab['column']}' = '{lab['positive']}': ROC AUC {lab['roc_auc']}, PR AUC "
                    f"{lab['pr_auc']} (no skill {lab['no_skill_pr_auc']})")
    return u.finish("anomalies", doc, result.rows, output, fmt, summary)


def register(app: typer.Typer) -> None:
    from mlcli.cli.tracking import tracked

    app.command("anomalies")(tracked(anomalies, "anomalies", recipes=True))

"""mlcli reduce."""

from __future__ import annotations

from typing import Annotated

import typer

from mlcli.cli import options as o
from mlcli.cli import unsupervised as u
from mlcli.cli.state import state
from mlcli.models.unsupervised import method_names  # the registry: names only

METHODS = ", ".join(method_names("reduce"))


def reduce(
    data: Annotated[str, typer.Argument(help="Data file (CSV/TSV/Parquet/JSON Lines) or - for stdin.")],
    method: Annotated[str, typer.Option("--method", "-m", help=f"Method: {METHODS} (umap needs umap-learn).")
                      ] = "pca",
    dims: Annotated[int, typer.Option("--dims", "-d", help="Output dimensions (t-SNE: 2 or 3).")] = 2,
    label: u.Label = None,
    keep: u.Keep = None,
    output: u.Output = None,
    out: u.Out = None,
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
    """Map the rows onto a few coordinates: PCA (variance explained, a bundle for new rows), t-SNE, UMAP.

    Example: mlcli reduce digits.csv --method tsne --label digit --plot figures -o map.csv
    """
    data = u.need_data(data, "reduce")
    u.before_work(output, plot, plot_format)
    from mlcli.data.dataset import DataOptions
    from mlcli.experiments.unsupervised.reduce import ReduceRequest, run_reduce
    from mlcli.models.estimators import parse_params
    from mlcli.render.output import Notifier, library_chatter_to_stderr

    notify = Notifier(state.quiet)
    req = ReduceRequest(DataOptions(data, None, None, sep, encoding, drop or [], categorical or [], [], numeric or []),
                        method, label, keep or [], parse_params(param), scale, seed, out, threads, dims=dims)
    with library_chatter_to_stderr():
        result = run_reduce(req, notify=notify)
    doc = result.doc
    if plot:
        from mlcli.render.figures.unsupervised import reduce_figures

        doc["plots"] = reduce_figures(doc, result.coords, result.label, plot, plot_format)
    summary = f"{doc['rows']} rows mapped to {doc['dims']} dimensions by {doc['method']}"
    if doc["explained"]:
        summary += f": {doc['explained'][-1]['cumulative']:.1%} of the variance"
    if doc["bundle"]:
        notify(f"bundle saved to {doc['bundle']}")
    return u.finish("reduce", doc, result.rows, output, fmt, summary)


def register(app: typer.Typer) -> None:
    from mlcli.cli.tracking import tracked

    app.command("reduce")(tracked(reduce, "reduce", recipes=True))

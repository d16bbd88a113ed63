"""mlcli cluster."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mlcli.cli import options as o
from mlcli.cli import unsupervised as u
from mlcli.cli.state import state
from mlcli.models.unsupervised import method_names  # the registry: names only

METHODS = ", ".join(method_names("cluster"))


def cluster(
    data: Annotated[str, typer.Argument(help="Data file (CSV/TSV/Parquet/JSON Lines) or - for stdin.")],
    method: Annotated[str, typer.Option("--method", "-m", help=f"Clustering method: {METHODS}.")] = "kmeans",
    k: Annotated[Optional[str], typer.Option(
        "--k", help="Number of clusters (3), or a range (2..12) to choose from by silhouette (gmm: by BIC); "
                    "default 2..10. Not for dbscan.")] = None,
    eps: Annotated[Optional[float], typer.Option(
        "--eps", help="DBSCAN's neighbourhood radius (default: the knee of the k-distance curve).")] = None,
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
    """Group the rows: k-means, Gaussian mixture, DBSCAN or agglomerative; sizes, quality, a profile per cluster.

    Example: mlcli cluster customers.csv --k 2..8 --keep id -o segments.csv --out models/segments
    """
    data = u.need_data(data, "cluster")
    u.before_work(output, plot, plot_format)
    from mlcli.data.dataset import DataOptions
    from mlcli.experiments.unsupervised.cluster import ClusterRequest, run_cluster
    from mlcli.models.estimators import parse_params
    from mlcli.render.output import Notifier, library_chatter_to_stderr

    notify = Notifier(state.quiet)
    req = ClusterRequest(DataOptions(data, None, None, sep, encoding, drop or [], categorical or [], [], numeric or []),
                         method, label, keep or [], parse_params(param), scale, seed, out, threads, k=k, eps=eps)
    with library_chatter_to_stderr():
        result = run_cluster(req, notify=notify)
    doc = result.doc
    if plot:
        from mlcli.render.figures.unsupervised import cluster_figures

        doc["plots"] = cluster_figures(doc, result.Z, result.labels, plot, plot_format)
    m = doc["metrics"]
    summary = (f"{m['clusters']} clusters" + (f" (k {doc['k_reason']})" if doc["k_reason"] else "")
               + f": silhouette {m['silhouette']}, Davies-Bouldin {m['davies_bouldin']}"
               + (f"; ARI {doc['label']['ari']}, NMI {doc['label']['nmi']} vs '{label}'" if doc["label"] else ""))
    if doc["bundle"]:
        notify(f"bundle saved to {doc['bundle']}")
    return u.finish("cluster", doc, result.rows, output, fmt, summary)


def register(app: typer.Typer) -> None:
    from mlcli.cli.tracking import tracked

    app.command("cluster")(tracked(cluster, "cluster", recipes=True))

"""mlcli embed."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from mlcli.cli import options as o
from mlcli.cli.state import state


def embed(
    data: Annotated[str, typer.Argument(help="Data file (CSV/TSV/Parquet/JSON Lines) or - for stdin.")],
    text: o.TextCols = None,
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", help="Write to this file; its extension picks the format: .parquet, .npy, .csv, .tsv "
                               "or .jsonl (default: stdout).")] = None,
    keep: Annotated[Optional[list[str]], typer.Option(
        "--keep", "-k", help="Input columns to pass through, e.g. an id (comma list, repeatable).")] = None,
    pooling: Annotated[str, typer.Option("--pooling", help="How token vectors become one vector: mean or cls.")
                       ] = "mean",
    normalize: Annotated[bool, typer.Option("--normalize", help="Scale every vector to unit length.")] = False,
    reduce: Annotated[Optional[str], typer.Option(
        "--reduce", help="Project onto K principal components, e.g. pca:2 for a scatter plot.")] = None,
    base_model: o.BaseModel = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Texts per batch.")] = 32,
    max_length: Annotated[Optional[int], typer.Option(
        "--max-length", min=8, help="Tokens per text; longer texts are cut (default 256, or the model's limit).")
                          ] = None,
    plot: Annotated[Optional[str], typer.Option(
        "--plot", help="With --reduce pca:K (K >= 2): also draw the rows on pc1 and pc2 into this directory.")] = None,
    color_by: Annotated[Optional[str], typer.Option(
        "--color-by", help="Column that colours the --plot scatter, e.g. a label.")] = None,
    plot_format: o.PlotFormat = "png",
    sep: o.Sep = None,
    encoding: o.Encoding = None,
    fmt: Annotated[Optional[str], typer.Option(
        "--format", "-f", help="Format on stdout: csv (default) or json (JSON Lines, one vector per row).")] = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> None:
    """Sentence embeddings of a text column, one vector per row.

    Example: mlcli embed reviews.csv --text review -o embeddings.parquet --keep id
    """
    from mlcli.experiments.embed import EmbedRequest
    from mlcli.experiments.embed import embed as run_embed
    from mlcli.render.output import Notifier, check_output_file, library_chatter_to_stderr

    notify = Notifier(state.quiet)
    if pooling not in ("mean", "cls"):
        raise typer.BadParameter(f"'{pooling}' is not one of mean, cls", param_hint="--pooling")
    if fmt not in (None, "csv", "json"):
        raise typer.BadParameter(f"'{fmt}' is not one of csv, json", param_hint="--format")
    check_output_file(output, "--output", "embeddings.parquet")  # before the model is loaded
    _check_plot(plot, plot_format, reduce, color_by)
    req = EmbedRequest(data, text or [], output, keep or [], pooling, normalize, reduce, batch_size, max_length,
                       base_model, fmt or "csv", sep, encoding, progress=not state.quiet, color_by=color_by,
                       keep_projection=bool(plot))
    stdout = sys.stdout  # the rows go here; anything a library prints goes to stderr
    with library_chatter_to_stderr():
        result = run_embed(req, notify=notify, stdout=stdout)
    notify(f"embedded {result.rows} rows into {result.dim} dimensions: {result.rows_per_second} rows/s, "
           f"{result.seconds:.1f} s in all" + (f" -> {result.output}" if output else ""))
    if plot:
        from mlcli.render.figures.commands import write_figures
        from mlcli.render.figures.embed import projection_figure
        from mlcli.render.figures.style import Context

        ctx = Context(result.model, data, f"{result.rows:,} rows")
        write_figures({"embedding_pca": projection_figure(result.projection, ctx, color_by)}, plot, plot_format,
                      notify)


def _check_plot(plot: Optional[str], plot_format: str, reduce: Optional[str], color_by: Optional[str]) -> None:
    """--plot needs a projection on two components or more; checked before the model is loaded."""
    from mlcli.errors import ConfigError
    from mlcli.experiments.embed import parse_reduce
    from mlcli.render.figures.style import check_plot_dir

    if color_by and not plot:
        raise ConfigError("--color-by colours the --plot figure: give --plot DIR too")
    if not plot:
        return
    check_plot_dir(plot, plot_format)
    k = parse_reduce(reduce)
    if not k or k < 2:
        raise ConfigError("--plot draws the rows on two principal components: give --reduce pca:2 (or more)")


def register(app: typer.Typer) -> None:
    app.command("embed")(embed)

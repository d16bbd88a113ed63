"""What the cluster, reduce and anomalies commands share: options, and where the rows and the report go.

The rows (one per input row) are the data: they go to ``-o FILE``, else to stdout when it is piped (CSV, or
JSON records with --format json; the report's summary goes to stderr). On a terminal without ``-o`` the report
is shown and the rows are not printed.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from mlcli.cli.options import PlotFormat as PlotFormat  # one --plot-format for every command
from mlcli.cli.state import state

Label = Annotated[Optional[str], typer.Option(
    "--label", "-l", help="A known grouping or outcome column, kept out of the features and compared with the "
                          "result.")]
Keep = Annotated[Optional[list[str]], typer.Option(
    "--keep", help="Input columns to copy into the output rows, e.g. an id (comma list, repeatable).")]
Output = Annotated[Optional[str], typer.Option(
    "--output", "-o", help="Write the rows to this file (.csv, .tsv, .parquet, .jsonl); the report goes to stdout.")]
Out = Annotated[Optional[str], typer.Option(
    "--out", help="Save a bundle in this directory: mlcli predict BUNDLE new.csv places new rows.")]
Params = Annotated[Optional[list[str]], typer.Option(
    "--param", "-p", help="Method parameter key=value (repeatable), e.g. min_samples=10.")]
Scale = Annotated[str, typer.Option(
    "--scale", help="Numeric scaling: auto|standard|minmax|robust|none (auto: standard; distances need "
                    "comparable units).")]
Plot = Annotated[Optional[str], typer.Option("--plot", help="Write figures to this directory.")]


def need_data(data: str | None, command: str) -> str:
    from mlcli.errors import ConfigError

    if data is None:
        raise ConfigError(f"no data file: give it as mlcli {command} DATA, or as 'data:' in a recipe with "
                          "--recipe FILE")
    return data


def before_work(output: str | None, plot: str | None, plot_format: str) -> None:
    """Refuse an unwritable output file or figure folder before anything is read or fitted."""
    from mlcli.render.figures.style import check_plot_dir
    from mlcli.render.output import check_output_file

    check_output_file(output, "--output", "rows.csv")
    check_plot_dir(plot, plot_format)


def finish(kind: str, doc: dict[str, Any], rows: Any, output: str | None, fmt: str | None,
           summary: str) -> dict[str, Any]:
    """Write the rows and the report where they belong; ``summary`` is the report's one line for stderr."""
    from mlcli.render.emit import emit
    from mlcli.render.output import Notifier, resolve_format, write_rows, write_table_file

    notify = Notifier(state.quiet)
    if output:
        write_table_file(rows, output)
        notify(f"wrote {len(rows)} rows to {output}")
        emit(kind, doc, fmt)
    elif resolve_format(fmt, rows=True) in ("csv", "json"):
        notify(summary)
        write_rows(rows, resolve_format(fmt, rows=True))
    else:
        emit(kind, doc, fmt)
        notify(f"the {len(rows)} output rows were not printed on the terminal: pipe them, or give -o FILE")
    for path in doc.get("plots") or []:
        notify(f"wrote {path}")
    return doc

"""mlcli explain: native, permutation and SHAP importances of a saved model; one prediction explained."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mlcli.cli import options as o
from mlcli.cli.state import state


def explain(
    bundle: Annotated[str, typer.Argument(help="Model bundle directory (from mlcli train --out).")],
    data: Annotated[Optional[str], typer.Argument(
        help="Data file or - for stdin: labelled (with the target) for permutation importance; any rows with "
             "the model's columns for SHAP. Not needed for native importances.")] = None,
    method: Annotated[Optional[str], typer.Option(
        "--method", "-m", help="native|permutation|shap|all (default: native when the model has its own "
                               "importances, else permutation on labelled DATA, else shap).")] = None,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Permutation: shuffles per column "
                                                                   "(importance is mean ± std).")] = 5,
    importance_type: Annotated[Optional[str], typer.Option(
        "--importance-type", help="Native importances of xgboost/lightgbm: gain|split|cover|total_gain "
                                  "(default gain).")] = None,
    row: Annotated[Optional[int], typer.Option("--row", help="Explain the prediction for this row of DATA "
                                                             "(counted from 0) with SHAP.")] = None,
    where: Annotated[Optional[str], typer.Option("--where", help="Explain the first row where COLUMN=VALUE "
                                                                 "(e.g. --where Name='Smith, Mr. John').")] = None,
    sample: Annotated[Optional[int], typer.Option(
        "--sample", help="SHAP: explain at most N rows, a random sample (default: all rows; 300 where SHAP "
                         "needs a background sample).")] = None,
    background: Annotated[int, typer.Option("--background", help="SHAP for models other than boosted trees: rows "
                                                                  "of DATA that stand in for 'column unknown'.")] = 50,
    top: Annotated[int, typer.Option("--top", min=1, help="Columns shown in the table and plot.")] = 20,
    plot: Annotated[Optional[str], typer.Option("--plot", help="Also draw a figure to FILE.png (bar chart; "
                                                               "SHAP summary plot for SHAP).")] = None,
    seed: o.Seed = 42,
    sep: o.Sep = None,
    encoding: o.Encoding = None,
    trust_pickle: o.TrustPickle = False,
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> None:
    """Why a saved model decides as it does: feature importances (native, permutation, SHAP) per column.

    Examples: mlcli explain models/titanic ·
    mlcli explain models/titanic test.csv --method shap --row 12 ·
    mlcli explain models/titanic test.csv --method all --plot importance.png
    """
    from mlcli.experiments.explain import ExplainRequest, RowExplanation
    from mlcli.experiments.explain import explain as run_explain
    from mlcli.render.emit import emit
    from mlcli.render.output import Notifier, resolve_format

    notify = Notifier(state.quiet)
    if plot:
        from mlcli.render.explain import check_plot_path

        check_plot_path(plot)
    req = ExplainRequest(bundle, data, method, repeats, importance_type, row, where, sample, background, seed,
                         sep, encoding, trust_pickle)
    result = run_explain(req, notify=notify)
    doc = result.to_dict()
    is_row = isinstance(result, RowExplanation)
    fmt = resolve_format(fmt)
    if fmt != "table":  # the table shows the warnings itself
        for w in doc.get("warnings", []):
            notify.warn(w)
    emit("explain-row", doc, fmt) if is_row else emit("explain", doc, fmt, top=top)
    if plot:
        from mlcli.render.explain import plot_explain, plot_row

        if is_row:
            plot_row(plot, doc, top)
        else:
            plot_explain(plot, doc, result.shap, result.shap_frame, top)
        notify(f"figure saved to {plot}")


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)

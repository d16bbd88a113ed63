"""mlcli auto."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mlcli.cli import options as o
from mlcli.cli.state import state


def auto(
    data: Annotated[str, typer.Argument(help="Data file (CSV/TSV/Parquet/JSON Lines) or - for stdin.")],
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds for the whole search, from the start "
                                              "of the command (the --out fits and save come after); from 1 to "
                                              "604800 (7 days).")] = 300.0,
    preset: Annotated[str, typer.Option("--preset", help="best: 5 folds, the whole portfolio, tuning, an "
                                        "ensemble; fast: 3 folds, fewer candidates, no tuning, an ensemble.")]
    = "best",
    trials: Annotated[Optional[int], typer.Option("--trials", "-n", help="Tuning trials per tuned model (default: "
                                                  "as many as the time allows); with it, a run whose time limit "
                                                  "does not bind is reproducible.")] = None,
    tune: Annotated[Optional[bool], typer.Option("--tune/--no-tune", help="Tune the most promising models with the "
                                                 "time left (default: the preset's).")] = None,
    out: Annotated[Optional[str], typer.Option("--out", "-o", help="Fit the final model and save it as a bundle in "
                                               "this directory (default: nothing is saved).")] = None,
    test: Annotated[Optional[str], typer.Option("--test", help="Labelled file the search never sees: the final "
                                                "model is scored on it at the end, the baseline beside it (checked "
                                                "before the search; without --out the model is not kept).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the tuning searches kept from an earlier run "
                                         "of the same data, target, metric and folds: their trials count, --trials "
                                         "more run per search.")] = False,
    refit: Annotated[bool, typer.Option("--refit/--bag", help="Final model: each ensemble member refitted on all "
                                        "rows (the default), or --bag: the members' fold models, averaged.")] = True,
    always_ensemble: Annotated[bool, typer.Option("--always-ensemble", help="Keep the ensemble even when it does "
                                                  "not beat the best default model on out-of-fold rows its "
                                                  "selection did not see (by default that model is kept instead).")]
    = False,
    target: o.Target = None,
    task: o.Task = None,
    folds: Annotated[Optional[int], typer.Option("--folds", "-k", help="Number of folds (default: the preset's; "
                                                 "stratified for classification).")] = None,
    metric: Annotated[Optional[str], typer.Option("--metric", help="Metric to optimise (default: roc_auc binary, "
                                                  "f1_macro multiclass, rmse regression).")] = None,
    candidates: Annotated[Optional[int], typer.Option("--candidates", help="Try the first N portfolio "
                                                      "candidates at most.")] = None,
    models: Annotated[Optional[str], typer.Option("--models", help="Only the portfolio's candidates of these "
                                                  "models, comma-separated (e.g. xgboost,catboost).")] = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", help="Fold fits to run at once (default: chosen "
                                                "from the work, as cv does).")] = None,
    threads: o.Threads = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run the fold fits (portfolio and tuning "
                                                     "trials) on a Dask cluster, e.g. tcp://host:8786 (needs "
                                                     "dask[distributed]).")] = None,
    drop: o.Drop = None,
    categorical: o.Categorical = None,
    text: o.TextCols = None,
    numeric: o.Numeric = None,
    sep: o.Sep = None,
    encoding: o.Encoding = None,
    seed: o.Seed = 42,
    log_target: o.LogTarget = False,
    leak_check: o.LeakCheck = True,
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> dict:
    """The best model a time budget can buy: a portfolio of strong configurations, tuning, an ensemble.

    Example: mlcli auto titanic.csv --time-limit 60 --out models/auto
    """
    from mlcli.data.dataset import DataOptions
    from mlcli.experiments.auto.request import AutoRequest
    from mlcli.experiments.auto.run import run_auto
    from mlcli.experiments.cv.request import split_names
    from mlcli.render.auto import AutoProgress
    from mlcli.render.emit import emit
    from mlcli.render.output import Notifier, library_chatter_to_stderr
    from mlcli.tracking.history import studies_path

    notify = Notifier(state.quiet)
    req = AutoRequest(
        data=DataOptions(data, target, task, sep, encoding, drop or [], categorical or [], text or [], numeric or []),
        time_limit=time_limit, preset=preset, folds=folds, trials=trials, tune=tune, metric=metric, seed=seed,
        refit=refit, out=out, jobs=jobs, threads=threads, log_target=log_target, leak_check=leak_check,
        limit_candidates=candidates, studies=studies_path(), resume=resume,
        scheduler=scheduler, guard=not always_ensemble, test_path=test,
        models=split_names([models] if models else None) or None,
    )
    with AutoProgress(enabled=not state.quiet, time_limit=time_limit) as progress, library_chatter_to_stderr():
        doc = run_auto(req, notify=notify, progress=progress)
    for row in doc["leaderboard"]:  # the data's own warnings were given before the search
        if row["status"] == "failed" and row.get("error"):
            notify.warn(f"{row['name']}: {row['error']}")
    emit("auto", doc, fmt)
    if doc["saved"]:
        notify(f"final model ({doc['ensemble']['final']} ensemble) saved to {doc['saved']}")
    elif not out:
        notify("nothing saved: give --out DIR to fit and keep the final model" if not test else
               "the final model was scored on --test and not kept: give --out DIR to keep it")
    if doc["interrupted"]:  # the tracking wrapper records the partial result, then exits with 130
        notify.warn("interrupted: the leaderboard and ensemble of what finished")
    return doc


def register(app: typer.Typer) -> None:
    from mlcli.cli.tracking import tracked

    app.command("auto")(tracked(auto, "auto", recipes=True))  # --recipe, --save-recipe, --mlflow

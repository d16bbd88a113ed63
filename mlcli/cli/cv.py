"""mlcli cv."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mlcli.cli import options as o
from mlcli.cli.state import state


def cv(
    data: Annotated[str, typer.Argument(help="Data file (CSV/TSV/Parquet/JSON Lines) or - for stdin.")],
    models: Annotated[Optional[list[str]], typer.Option(
        "--models", "--model", "-m", help="Models to compare (comma list, repeatable), or a set: fast (quick "
                                          "models, the default), all (every installed model for the task). "
                                          f"Models: {o.MODEL_NAMES}.")] = None,
    target: o.Target = None,
    task: o.Task = None,
    folds: Annotated[Optional[int], typer.Option("--folds", "-k", min=2, help="Number of folds (stratified for "
                                                 "classification; default 5, or as many as the smallest class has "
                                                 "rows when that is fewer).")] = None,
    repeats: Annotated[int, typer.Option("--repeats", "-r", min=1, help="Repeat the K folds with new shuffles "
                                                                       "(seed, seed+1, ...).")] = 1,
    groups: Annotated[Optional[str], typer.Option("--groups", help="Column whose rows must stay in one fold "
                                                  "(grouped folds); it is not used as a feature.")] = None,
    metric: Annotated[Optional[str], typer.Option("--metric", help="Sort by this metric (default: roc_auc binary, "
                                                  "f1_macro multiclass, rmse regression).")] = None,
    grid: Annotated[Optional[list[str]], typer.Option("--grid", "-g", help="Hyperparameter values to try, "
                                                      "key=v1,v2,... (repeatable: every combination runs); "
                                                      "shows train and test scores side by side.")] = None,
    param: o.Params = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", help="Fold fits to run at once (default: chosen "
                                                "from the work: one worker process per core when there are enough "
                                                "fits, else 1; -1: one per core or, with --scheduler, every worker "
                                                "thread); each model gets cores / jobs threads.")] = None,
    threads: o.Threads = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run the fits on a Dask cluster, e.g. "
                                                     "tcp://host:8786 (needs dask[distributed]).")] = None,
    timeout: Annotated[Optional[float], typer.Option("--timeout", help="Seconds allowed per model over all its "
                                                     "folds, at most 604800 (7 days); a model past it is reported "
                                                     "as timed out.")] = None,
    oof: Annotated[Optional[str], typer.Option("--oof", help="Write out-of-fold predictions to this file "
                                               "(CSV; .json/.jsonl for JSON records).")] = None,
    save_best: Annotated[Optional[str], typer.Option("--save-best", help="Refit the best model on all rows and "
                                                     "save a model bundle in this directory.")] = None,
    train_scores: Annotated[bool, typer.Option("--train-scores", help="Also score each fold's training rows "
                                               "(always on with --grid).")] = False,
    scale: o.Scale = "auto",
    poly: o.Poly = None,
    pca: o.Pca = None,
    drop: o.Drop = None,
    categorical: o.Categorical = None,
    text: o.TextCols = None,
    numeric: o.Numeric = None,
    sep: o.Sep = None,
    encoding: o.Encoding = None,
    seed: o.Seed = 42,
    balance: Annotated[Optional[list[str]], typer.Option(
        "--balance", help="Imbalance strategies to compare on the same folds (comma list), one leaderboard row per "
                          f"model x strategy: {o.BALANCE_NAMES}.")
    ] = None,
    ratio: o.Ratio = None,
    log_target: o.LogTarget = False,
    calibrate: o.Calibrate = None,
    leak_check: o.LeakCheck = True,
    plot: Annotated[Optional[str], typer.Option(
        "--plot", help="Also draw the figures into this directory: leaderboard chart, every model's out-of-fold "
                       "ROC/PR curves (binary), a validation curve per --grid parameter.")] = None,
    plot_format: o.PlotFormat = "png",
    report: Annotated[Optional[str], typer.Option(
        "--report", help="Also write the leaderboard and its figures as one self-contained HTML file.")] = None,
    learning_curve: Annotated[bool, typer.Option(
        "--learning-curve", help="Also refit the 3 leading models on 10-100 % of each fold's training rows: "
                                 "score vs training-set size, test and training rows (JSON; a figure with --plot)."
    )] = False,
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> dict:
    """Compare models across the same cross-validation folds: a leaderboard with mean ± std of every metric.

    Example: mlcli cv titanic.csv --models logreg,rf,xgboost --jobs 2
    """
    from mlcli.render.output import check_output_file

    check_output_file(oof, "--oof", "oof.csv")  # before the folds run
    from mlcli.render.figures.style import check_plot_dir

    check_plot_dir(plot, plot_format)
    _check_report(report)
    from mlcli.data.dataset import DataOptions
    from mlcli.experiments.cv.request import CVRequest, parse_grid, split_names
    from mlcli.experiments.cv.run import run_cv
    from mlcli.features.preprocess import PreprocessOptions
    from mlcli.models.calibrate import parse_calibrate
    from mlcli.models.estimators import parse_params
    from mlcli.models.resamplers import parse_ratio
    from mlcli.render.cv import FoldProgress
    from mlcli.render.emit import emit
    from mlcli.render.output import Notifier, write_rows

    notify = Notifier(state.quiet)
    req = CVRequest(
        data=DataOptions(data, target, task, sep, encoding, drop or [], categorical or [], text or [], numeric or []),
        models=models or ["fast"], params=parse_params(param),
        preprocess=PreprocessOptions(scale=scale, poly=poly, pca=pca), seed=seed, folds=folds or 5, repeats=repeats,
        folds_given=folds is not None,
        groups=groups, metric=metric, grid=parse_grid(grid), jobs=jobs, threads=threads, scheduler=scheduler,
        timeout=timeout, oof=bool(oof or plot or report), train_scores=train_scores, save_best=save_best,
        balance=split_names(balance) or None, ratio=parse_ratio(ratio), log_target=log_target, leak_check=leak_check,
        learning_curve=learning_curve, calibrate=parse_calibrate(calibrate),
    )
    with FoldProgress(enabled=not state.quiet) as progress:
        result = run_cv(req, notify=notify, progress=progress)
    for line in result.warnings:
        notify.warn(line)
    if oof and result.oof is not None:
        write_rows(result.oof, "json" if oof.endswith((".json", ".jsonl")) else "csv", oof)
        notify(f"out-of-fold predictions written to {oof} ({len(result.oof)} rows)")
    doc = result.to_dict()
    emit("cv", doc, fmt)
    if plot or report:
        _figures(doc, result, plot, plot_format, report, notify)
    if result.saved:
        notify(f"best model ({result.best.candidate.label}) saved to {result.saved}")
    if result.interrupted:  # the tracking wrapper records the partial result, then exits with 130
        notify.warn(f"interrupted: partial leaderboard from {result.n_done} of {result.n_fits} fits")
    return doc


def _check_report(report: Optional[str]) -> None:
    from mlcli.errors import ConfigError
    from mlcli.render.figures.style import check_matplotlib
    from mlcli.render.output import check_output_file

    if report is None:
        return
    if not report.lower().endswith((".html", ".htm")):
        raise ConfigError(f"--report {report}: give a file name ending in .html")
    check_output_file(report, "--report", "cv.html")
    check_matplotlib("--report")


def _figures(doc: dict, result, plot: Optional[str], plot_format: str, report: Optional[str], notify) -> None:
    """--plot DIR (files) and --report FILE (one HTML page); each figure is drawn once per use."""
    from mlcli.render.figures.commands import write_figures
    from mlcli.render.figures.cv import cv_figures

    if plot:
        write_figures(cv_figures(doc, result.oof, result.learning_curve), plot, plot_format, notify)
    if report:
        from mlcli.render.output import atomic_write
        from mlcli.render.report import cv_report_html

        page = cv_report_html(doc, cv_figures(doc, result.oof, result.learning_curve))
        atomic_write(report, lambda fh: fh.write(page.encode("utf-8")))
        notify(f"report written to {report} ({len(page) // 1024:,} KiB)")


def register(app: typer.Typer) -> None:
    app.command("cv")(cv)

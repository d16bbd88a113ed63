"""mlcli tune."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from mlcli.cli import options as o
from mlcli.cli.state import state
from mlcli.models.registry import MODELS  # names only: no model library is imported

TUNABLE = ", ".join(name for name, spec in MODELS.items() if spec.search_space)



def tune(
    data: Annotated[str, typer.Argument(help="Data file (CSV/TSV/Parquet/JSON Lines) or - for stdin.")],
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="The model to tune (required, here or as "
                                                 f"'model:' in a recipe); models with a search space: {TUNABLE}.")]
    = None,
    trials: Annotated[Optional[int], typer.Option("--trials", "-n", help="Trials at most, the first being the "
                                                  "model's defaults (default: 50, or unbounded with "
                                                  "--time-limit).")] = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", help="Seconds for the whole run: no trial "
                                                        "starts after it and the fit running stops at it (the "
                                                        "--save-best refit comes after); from 1 to 604800 (7 "
                                                        "days).")] = None,
    target: o.Target = None,
    task: o.Task = None,
    folds: Annotated[int, typer.Option("--folds", "-k", help="Number of folds (the same folds cv uses).")] = 5,
    repeats: Annotated[int, typer.Option("--repeats", "-r", help="Repeat the K folds with new shuffles.")] = 1,
    groups: Annotated[Optional[str], typer.Option("--groups", help="Column whose rows must stay in one fold "
                                                  "(grouped folds); it is not used as a feature.")] = None,
    metric: Annotated[Optional[str], typer.Option("--metric", help="Metric to optimise (default: roc_auc binary, "
                                                  "f1_macro multiclass, rmse regression).")] = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="Fix a model parameter key=value "
                                                       "(repeatable): it is left out of the search.")] = None,
    threads: o.Threads = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run each trial's folds on a Dask "
                                                     "cluster, e.g. tcp://host:8786 (needs dask[distributed]); "
                                                     "the same trials and scores as a local run.")] = None,
    save_best: Annotated[Optional[str], typer.Option("--save-best", help="Refit the best parameters on all rows "
                                                     "and save a model bundle in this directory.")] = None,
    recipe_file: Annotated[Optional[str], typer.Option("--save-recipe", help="Write a train recipe with the best "
                                                       "parameters to FILE (run it with: mlcli train --recipe "
                                                       "FILE).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the search kept from an earlier run of the "
                                         "same data, target, folds, model, metric and --param values: its trials "
                                         "count and --trials more run.")] = False,
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
    log_target: o.LogTarget = False,
    leak_check: o.LeakCheck = True,
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> dict:
    """Search one model's parameters (Optuna TPE, pruned after each fold) on the same folds as cv.

    Example: mlcli tune titanic.csv --model lightgbm --trials 30 --save-best models/tuned
    """
    from mlcli.render.output import check_output_file

    if model is None:
        from mlcli.errors import ConfigError

        raise ConfigError(f"give the model to tune with --model NAME (or 'model:' in a recipe); models with a search "
                          f"space: {TUNABLE}")
    check_output_file(recipe_file, "--save-recipe", "recipe.yaml")  # before any work
    from mlcli.data.dataset import DataOptions
    from mlcli.experiments.tune.request import TuneRequest
    from mlcli.experiments.tune.run import run_tune
    from mlcli.features.preprocess import PreprocessOptions
    from mlcli.models.estimators import parse_params
    from mlcli.render.emit import emit
    from mlcli.render.output import Notifier, library_chatter_to_stderr
    from mlcli.render.tune import TuneProgress
    from mlcli.tracking.history import studies_path

    notify = Notifier(state.quiet)
    req = TuneRequest(
        data=DataOptions(data, target, task, sep, encoding, drop or [], categorical or [], text or [], numeric or []),
        model=model, trials=trials, time_limit=time_limit, params=parse_params(param),
        preprocess=PreprocessOptions(scale=scale, poly=poly, pca=pca), seed=seed, folds=folds, repeats=repeats,
        groups=groups, metric=metric, threads=threads, save_best=save_best, log_target=log_target,
        leak_check=leak_check, studies=studies_path(), resume=resume,
        scheduler=scheduler,
    )
    with TuneProgress(enabled=not state.quiet, time_limit=time_limit) as progress, library_chatter_to_stderr():
        result = run_tune(req, notify=notify, progress=progress)
    for line in result.warnings:
        notify.warn(line)
    doc = result.to_dict()
    emit("tune", doc, fmt)
    if result.saved:
        notify(f"best parameters refitted and saved to {result.saved}")
    if recipe_file and doc["best"] is not None and not result.interrupted:
        options = dict(data=data, target=target, task=task, scale=scale, poly=poly, pca=pca, drop=drop,
                       categorical=categorical, text=text, numeric=numeric, sep=sep, encoding=encoding, seed=seed,
                       threads=threads, log_target=log_target, leak_check=leak_check)
        _save_recipe(recipe_file, options, doc, notify)
    if result.interrupted:  # the tracking wrapper records the partial result, then exits with 130
        notify.warn(f"interrupted: {len(result.rows)} trial(s) done")
    return doc


def _save_recipe(path: str, options: dict[str, Any], doc: dict[str, Any], notify: Any) -> None:
    """A train recipe: this run's data options, the model and its fixed and best parameters."""
    from pathlib import Path

    from mlcli import __version__
    from mlcli.cli import train as train_cli
    from mlcli.cli.tracking import key_specs
    from mlcli.tracking.recipe import dump_recipe, param_text, recipe_document, write_recipe

    app = typer.Typer()
    train_cli.register(app)
    train = typer.main.get_command(app)  # train's own options: the keys its recipes take
    params = {**doc["fixed_params"], **doc["best"]["params"]}
    values = {**options, "model": doc["model"], "target": doc["target"],
              "param": [f"{k}={param_text(v)}" for k, v in params.items()]}
    recipe = recipe_document("train", values, key_specs(train), Path(path).resolve().parent)
    score = f"{doc['metric']} {doc['best']['score']} over {doc['splits']} folds"
    header = (f"mlcli train recipe, written by mlcli {__version__} tune (trial {doc['best']['trial']}, {score})\n"
              f"run it with: mlcli train --recipe {path}  (options on the command line win)")
    write_recipe(path, dump_recipe(recipe, header))
    notify(f"train recipe with the best parameters saved to {path}")


def register(app: typer.Typer) -> None:
    from mlcli.cli.tracking import tracked

    app.command("tune")(tracked(tune, "tune", recipes=True, save_recipe=False))  # its --save-recipe: a train recipe

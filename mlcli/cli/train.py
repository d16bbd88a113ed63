"""mlcli train."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mlcli.cli import options as o
from mlcli.cli.state import state


def train(
    data: Annotated[str, typer.Argument(help="Data file (CSV/TSV/Parquet/JSON Lines) or - for stdin.")],
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help=f"Model: {o.MODEL_NAMES} (details: mlcli models). Default: xgboost; logreg when "
                              "free-text columns are half the columns or more; catboost for multiclass tables of "
                              "fewer than 3,000 training rows and for other tables of 3,000 or more.")] = None,
    target: o.Target = None,
    task: o.Task = None,
    param: o.Params = None,
    test_size: Annotated[float, typer.Option("--test-size", help="Share of rows held out for testing.")] = 0.2,
    test: Annotated[Optional[str], typer.Option("--test",
                                                help="Labelled test file instead of a hold-out split.")] = None,
    out: Annotated[Optional[str], typer.Option("--out", "-o",
                                               help="Bundle directory (default: models/DATA-MODEL).")] = None,
    scale: o.Scale = "auto",
    poly: o.Poly = None,
    pca: o.Pca = None,
    drop: o.Drop = None,
    categorical: o.Categorical = None,
    text: o.TextCols = None,
    numeric: o.Numeric = None,
    threshold: o.TrainThreshold = None,
    optimize: o.Optimize = "f1",
    calibrate: o.Calibrate = None,
    balance: o.Balance = None,
    ratio: o.Ratio = None,
    class_weight: o.ClassWeight = None,
    log_target: o.LogTarget = False,
    leak_check: o.LeakCheck = True,
    sep: o.Sep = None,
    encoding: o.Encoding = None,
    seed: o.Seed = 42,
    threads: o.Threads = None,
    text_features: o.TextFeatures = None,
    base_model: o.BaseModel = None,
    epochs: o.Epochs = None,
    learning_rate: o.LearningRate = None,
    batch_size: o.BatchSize = None,
    max_length: o.MaxLength = None,
    warmup: o.Warmup = None,
    weight_decay: o.WeightDecay = None,
    early_stopping: o.EarlyStopping = None,
    plot: o.Plot = None,
    plot_format: o.PlotFormat = "png",
    sign: o.Sign = False,
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> dict:
    """Fit a model, report held-out metrics and save a model bundle.

    Example: mlcli train titanic.csv --model xgboost
    """
    from mlcli.render.figures.style import check_plot_dir

    check_plot_dir(plot, plot_format)  # before the data is read: a bad directory or format costs nothing
    from mlcli.experiments.sign import require_key

    sign_key = require_key(what="--sign") if sign else None
    # models.build first: it brings in scikit-learn/SciPy before pandas' readers, the import order that
    # measured fastest (the other order cost ~0.1-0.3 s of allocator churn while SciPy loads)
    from mlcli.models.build import ModelConfig  # noqa: I001
    from mlcli.data.dataset import DataOptions
    from mlcli.evaluation.scoring import parse_threshold
    from mlcli.experiments.text_options import text_settings
    from mlcli.experiments.train import TrainRequest
    from mlcli.experiments.train import train as run_train
    from mlcli.features.preprocess import PreprocessOptions
    from mlcli.models.calibrate import parse_calibrate
    from mlcli.models.estimators import parse_params
    from mlcli.models.resamplers import parse_ratio
    from mlcli.models.steps import parse_class_weight
    from mlcli.render.emit import emit
    from mlcli.render.output import Notifier, library_chatter_to_stderr

    notify = Notifier(state.quiet)
    params = parse_params(param)
    shape_default = model is None and not params  # the model follows the data's shape (experiments.defaults)
    model = model or "xgboost"
    txt = text_settings([model], text_features=text_features, base_model=base_model, epochs=epochs,
                        learning_rate=learning_rate, batch_size=batch_size, max_length=max_length, warmup=warmup,
                        weight_decay=weight_decay, early_stopping=early_stopping, quiet=state.quiet,
                        user_params=params)
    req = TrainRequest(
        data=DataOptions(data, target, task, sep, encoding, drop or [], categorical or [], text or [], numeric or []),
        model=ModelConfig(model, {**params, **txt.params_for(model)},
                          PreprocessOptions(scale=scale, poly=poly, pca=pca, **txt.preprocess), seed, threads,
                          balance=balance, ratio=parse_ratio(ratio), class_weight=parse_class_weight(class_weight),
                          log_target=log_target, calibrate=parse_calibrate(calibrate)),
        test_size=test_size, test_path=test, out=out, threshold=parse_threshold(threshold), optimize=optimize,
        leak_check=leak_check, sign_key=sign_key, shape_default=shape_default,
    )
    with library_chatter_to_stderr():
        result = run_train(req, notify=notify)
    doc = result.to_dict()
    if emit("train", doc, fmt) != "table":  # the table ends with the bundle path already
        notify(f"model bundle saved to {result.bundle}")
    if plot:
        from mlcli.render.figures.commands import train_figures, write_figures

        write_figures(train_figures(result), plot, plot_format, notify)
    return doc


def register(app: typer.Typer) -> None:
    app.command("train")(train)

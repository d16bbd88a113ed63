"""Assembling the model pipeline: preprocess -> (resampler -> encode) -> model."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mlcli.data.schema import Schema
from mlcli.errors import ConfigError
from mlcli.features.preprocess import PreprocessOptions, build_preprocessor, resolve_scale
from mlcli.models.estimators import make_estimator
from mlcli.models.registry import get_spec


def default_threads() -> int:
    """Threads a model may use: MLCLI_THREADS if set, else every core this process may run on (CPU affinity and
    container limits counted, as cv counts them)."""
    env = os.environ.get("MLCLI_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    import joblib

    return max(1, joblib.cpu_count())


@dataclass
class ModelConfig:
    """What to fit: a registry model with user parameters and preprocessing options."""

    model: str = "xgboost"
    params: dict[str, Any] = field(default_factory=dict)
    preprocess: PreprocessOptions = field(default_factory=PreprocessOptions)
    seed: int = 42
    n_threads: int | None = None
    balance: str | None = None  # a resampler name (mlcli.models.resamplers), 'class-weight' or None/'none'
    balance_params: dict[str, Any] = field(default_factory=dict)
    ratio: Any = None  # the resampler's sampling_strategy
    class_weight: Any = None  # 'balanced' or {class index: weight}
    log_target: bool = False  # regression: fit on log(1 + y), predict in the user's units
    calibrate: str | None = None  # 'sigmoid' | 'isotonic': CalibratedClassifierCV on inner folds (models.calibrate)


def build_pipeline(schema: Schema, config: ModelConfig):
    """An unfitted sklearn Pipeline for ``schema`` as ``config`` says."""
    from sklearn.pipeline import Pipeline

    spec = get_spec(config.model)
    scale = resolve_scale(config.preprocess.scale, spec.scale)
    extra: dict[str, Any] = {}
    if spec.native_categorical:
        n_cat = len(schema.by_role("categorical"))
        if n_cat:
            extra["cat_features"] = list(range(n_cat))
    balance = (config.balance or "none").strip().lower()
    class_weight = config.class_weight
    if balance == "class-weight":
        class_weight, balance = class_weight or "balanced", "none"
    if (balance != "none" or class_weight is not None) and schema.task == "regression":
        raise ConfigError("--balance and --class-weight are for classification; the target "
                          f"'{schema.target}' is a regression target")
    if class_weight is not None and balance != "none":
        raise ConfigError("use either a resampling --balance method or class weights, not both")
    model_params, balance_params = split_params(spec, schema.task, balance, config.params, config.balance_params)
    from mlcli.models.early_stopping import take_options, wrap

    # with a resampler, copied or synthetic rows would sit in the validation slice too: no early stopping
    model_params, stopping = take_options(spec.early_stopping, model_params, allowed=balance == "none")
    if class_weight is not None:
        if spec.class_weight is None:
            raise ConfigError(f"model '{spec.name}' does not take class weights; use --balance oversample "
                              "(or smote) instead")
        if spec.class_weight == "auto_class_weights":  # CatBoost
            if class_weight == "balanced":
                extra["auto_class_weights"] = "Balanced"
            else:
                extra["class_weights"] = class_weight
        elif spec.class_weight == "class_weight":
            extra["class_weight"] = class_weight
    estimator = make_estimator(spec.name, schema.task, model_params, seed=config.seed,
                               n_threads=config.n_threads or default_threads(), extra=extra)
    if stopping is not None:
        estimator = wrap(estimator, stopping, schema.task, config.seed)
    if class_weight is not None and spec.class_weight == "sample_weight":
        from mlcli.models.steps import ClassWeighted

        estimator = ClassWeighted(estimator, class_weight)
    if config.calibrate:
        estimator = _calibrated(estimator, spec, schema, config, balance)
    estimator = _target_transforms(estimator, spec, schema, config)
    if balance != "none" and spec.text_only:
        raise ConfigError(f"--balance {balance} resamples feature rows, but model '{spec.name}' reads raw text; "
                          "use --class-weight balanced instead")
    if balance != "none":
        return _resampling_pipeline(schema, config, spec, scale, estimator, balance, balance_params)
    if spec.text_only:  # e.g. the transformer: it gets the text columns, joined, and tokenizes them itself
        from mlcli.text.columns import text_pipeline_input

        return Pipeline([("preprocess", text_pipeline_input(schema, spec.name, estimator)), ("model", estimator)])
    pre = build_preprocessor(schema, model_preprocess(spec, config.preprocess), scale=scale,
                             native_categorical=spec.native_categorical, dense=spec.dense)
    return Pipeline([("preprocess", pre), *_dense_step(spec), ("model", estimator)])


def _calibrated(estimator: Any, spec: Any, schema: Schema, config: ModelConfig, balance: str) -> Any:
    """--calibrate: the classifier wrapped in CalibratedClassifierCV (models.calibrate)."""
    from mlcli.models.calibrate import calibrated, check_calibrate, check_resampling

    check_calibrate(config.calibrate, spec, schema.task, schema.target)
    check_resampling(config.calibrate, [balance])
    return calibrated(estimator, config.calibrate, config.seed)


def model_preprocess(spec: Any, options: PreprocessOptions) -> PreprocessOptions:
    """The preprocessing options as this model takes them: its own cap on the TF-IDF vocabulary, if lower."""
    cap = spec.text_vocabulary
    if cap is None or options.text_max_features <= cap:
        return options
    from dataclasses import replace

    return replace(options, text_max_features=cap)


def _dense_step(spec: Any) -> list[tuple[str, Any]]:
    """Tree ensembles get a dense float32 matrix when it is small (``DenseIfSmall``)."""
    if not spec.densify:
        return []
    from mlcli.models.steps import DenseIfSmall

    return [("dense", DenseIfSmall())]


def _target_transforms(estimator: Any, spec: Any, schema: Schema, config: ModelConfig) -> Any:
    """Regression: the standardised target for models that need it (SVR, MLP, k-NN, SGD), log(1 + y) with
    --log-target; TransformedTargetRegressor fits them on training rows only and predicts in the user's units."""
    if config.log_target and schema.task != "regression":
        raise ConfigError(f"--log-target is for regression; the target '{schema.target}' is a {schema.task} target")
    if schema.task != "regression":
        return estimator
    from sklearn.compose import TransformedTargetRegressor

    if spec.scale_target:
        from sklearn.preprocessing import StandardScaler

        estimator = TransformedTargetRegressor(regressor=estimator, transformer=StandardScaler())
    if config.log_target:
        import numpy as np

        estimator = TransformedTargetRegressor(regressor=estimator, func=np.log1p, inverse_func=np.expm1,
                                               check_inverse=False)
    return estimator


def split_params(spec, task: str, balance: str, params: dict[str, Any], balance_params: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send --param keys that only the resampler takes (k_neighbors ...) to the resampler.

    ``balance.KEY=VALUE`` always goes to the resampler.
    """
    model_params, to_sampler = {}, dict(balance_params)
    sampler_names: set[str] = set()
    model_names: set[str] = set()
    if balance not in ("none", "class-weight"):
        from mlcli.models.estimators import import_object, init_names
        from mlcli.models.resamplers import INSTALL, get_resampler

        sampler_names = init_names(import_object(get_resampler(balance).path, purpose="--balance", install=INSTALL))
        path = spec.path_for(task)
        model_names = init_names(import_object(path, spec)) if path else set()
    for key, value in params.items():
        if key.startswith("balance."):
            to_sampler[key.removeprefix("balance.")] = value
        elif key in sampler_names and key not in model_names:
            to_sampler[key] = value
        elif sampler_names and key not in model_names:
            from mlcli.errors import did_you_mean

            raise ConfigError(f"unknown parameter '{key}' for model '{spec.name}' or balance method '{balance}'"
                              f"{did_you_mean(key, model_names | sampler_names)}")
        else:
            model_params[key] = value
    return model_params, to_sampler


def _resampling_pipeline(schema: Schema, config: ModelConfig, spec, scale: str, estimator, balance: str,
                         balance_params: dict[str, Any]):
    """imbalanced-learn Pipeline: preprocess -> resample [-> encode] -> model; the resampler runs in fit only.

    SMOTE with categorical columns becomes SMOTE-NC, which needs categories as integer codes: the
    preprocessor then emits codes (first), and an ``encode`` step one-hot encodes them after resampling.
    """
    from imblearn.pipeline import Pipeline as ImbPipeline

    from mlcli.models.resamplers import get_resampler, make_resampler, resolve_for_columns
    from mlcli.models.steps import CheckedSampler

    n_cat = len(schema.by_role("categorical"))
    n_other = len(schema.used) - n_cat
    rspec = resolve_for_columns(get_resampler(balance), n_cat, n_other)
    coded = rspec.categorical is not None and n_cat > 0 and not spec.native_categorical
    if rspec.categorical is not None and not n_cat:
        raise ConfigError(f"balance method '{rspec.name}' is for categorical columns, and there are none; use smote")
    if rspec.categorical == "all" and n_other:
        raise ConfigError(f"balance method '{rspec.name}' is for all-categorical data; use smote (SMOTE-NC)")
    if rspec.synthesises and spec.native_categorical and n_cat:
        raise ConfigError(f"balance method '{rspec.name}' cannot synthesise CatBoost's raw categorical columns; "
                          "use --balance oversample or --class-weight balanced with catboost")
    pre = build_preprocessor(schema, model_preprocess(spec, config.preprocess), scale=scale,
                             native_categorical=spec.native_categorical, dense=spec.dense or rspec.synthesises,
                             ordinal_categorical=coded)
    sampler = make_resampler(rspec, balance_params, seed=config.seed, ratio=config.ratio,
                             categorical_features=list(range(n_cat)) if coded else None)
    steps = [("preprocess", pre), ("resample", CheckedSampler(sampler, rspec.name, rspec.neighbours))]
    if coded:
        from sklearn.compose import ColumnTransformer
        from sklearn.preprocessing import OneHotEncoder

        steps.append(("encode", ColumnTransformer(
            [("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(range(n_cat)))],
            remainder="passthrough")))
    return ImbPipeline(steps + _dense_step(spec) + [("model", estimator)])

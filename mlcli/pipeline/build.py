"""Assembling the model pipeline: preprocess -> (resampler, later) -> model."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mlcli.pipeline.data import Schema
from mlcli.pipeline.preprocess import PreprocessOptions, build_preprocessor, resolve_scale
from mlcli.registry.models import get_spec, make_estimator


def default_threads() -> int:
    return max(1, os.cpu_count() or 1)


@dataclass
class ModelConfig:
    """What to fit: a registry model with user parameters and preprocessing options."""

    model: str = "xgboost"
    params: dict[str, Any] = field(default_factory=dict)
    preprocess: PreprocessOptions = field(default_factory=PreprocessOptions)
    seed: int = 42
    n_threads: int | None = None


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
    estimator = make_estimator(spec.name, schema.task, config.params, seed=config.seed,
                               n_threads=config.n_threads or default_threads(), extra=extra)
    pre = build_preprocessor(schema, config.preprocess, scale=scale,
                             native_categorical=spec.native_categorical, dense=spec.dense)
    return Pipeline([("preprocess", pre), ("model", estimator)])

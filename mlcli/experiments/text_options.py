"""Turning the text options of ``train``/``cv`` into model parameters and preprocessing settings.

Pure: no typer, no torch. ``--epochs``, ``--learning-rate``, ``--warmup``, ``--weight-decay`` and
``--early-stopping`` go to text-only models (the transformer); ``--base-model``, ``--batch-size`` and
``--max-length`` go to them and to the sentence-embedding features of ``--text-features embed|both``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlcli.errors import ConfigError

TEXT_FEATURES = ("tfidf", "embed", "both")
_FINE_TUNING = {"epochs": "--epochs", "learning_rate": "--learning-rate", "warmup": "--warmup",
                "weight_decay": "--weight-decay", "early_stopping": "--early-stopping"}
_SHARED = {"base_model": "--base-model", "batch_size": "--batch-size", "max_length": "--max-length"}


@dataclass
class TextSettings:
    """Per-model extra parameters (by registry name) and the PreprocessOptions fields to set."""

    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    preprocess: dict[str, Any] = field(default_factory=dict)

    def params_for(self, model: str) -> dict[str, Any]:
        from mlcli.models.registry import get_spec

        return dict(self.params.get(get_spec(model).name, {}))


def text_settings(models: list[str], *, text_features: str | None = None, base_model: str | None = None,
                  epochs: int | None = None, learning_rate: float | None = None, batch_size: int | None = None,
                  max_length: int | None = None, warmup: float | None = None, weight_decay: float | None = None,
                  early_stopping: int | None = None, quiet: bool = False,
                  user_params: dict[str, Any] | None = None) -> TextSettings:
    """Check the text options against the chosen models and say where each one goes.

    ``user_params`` are the ``--param`` values; a flag and a ``--param`` for the same setting conflict.
    """
    from mlcli.models.registry import get_spec

    specs = [get_spec(m) for m in models]
    text_models = [s for s in specs if getattr(s, "text_only", False)]
    tabular = [s for s in specs if not getattr(s, "text_only", False)]
    given = {"epochs": epochs, "learning_rate": learning_rate, "warmup": warmup, "weight_decay": weight_decay,
             "early_stopping": early_stopping, "base_model": base_model, "batch_size": batch_size,
             "max_length": max_length}
    given = {k: v for k, v in given.items() if v is not None}

    features = (text_features or "tfidf").strip().lower()
    if features not in TEXT_FEATURES:
        raise ConfigError(f"unknown --text-features '{text_features}'; choose tfidf, embed or both")
    if text_features is not None and features != "tfidf" and not tabular:
        raise ConfigError(f"--text-features {features} is for tabular models; model '{specs[0].name}' reads the "
                          "text itself")
    embedding = features in ("embed", "both") and bool(tabular)

    if not text_models:
        for key, flag in _FINE_TUNING.items():
            if key in given:
                raise ConfigError(f"{flag} applies to --model transformer only")
        if not embedding:
            for key, flag in _SHARED.items():
                if key in given:
                    raise ConfigError(f"{flag} applies to --model transformer or --text-features embed|both only")

    for key, value in given.items():
        if key in ("batch_size", "max_length", "epochs") and (not isinstance(value, int) or value < 1):
            raise ConfigError(f"{ {**_FINE_TUNING, **_SHARED}[key]} must be at least 1, got {value}")
    if "max_length" in given and given["max_length"] < 8:
        raise ConfigError(f"--max-length must be at least 8 tokens, got {given['max_length']}")

    out = TextSettings()
    for spec in text_models:
        params = dict(given)
        for key in params:
            if user_params and key in user_params:
                flag = {**_FINE_TUNING, **_SHARED}[key]
                raise ConfigError(f"{flag} and --param {key}=... both set '{key}'; give only one")
        if quiet and not (user_params and "verbose" in user_params):
            params["verbose"] = 0
        out.params[spec.name] = params
    pre: dict[str, Any] = {"text_features": features}
    if embedding:
        pre.update({f"embed_{k}": v for k, v in given.items() if k in _SHARED})
        pre["embed_progress"] = not quiet
    out.preprocess = pre
    return out

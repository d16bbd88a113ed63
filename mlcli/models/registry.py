"""The model registry: lookup by name or alias, and the entry a fitted estimator belongs to."""

from __future__ import annotations

import sys
from typing import Any

from mlcli.errors import ConfigError, did_you_mean, quote_list
from mlcli.models.catalog import MODEL_ENTRIES
from mlcli.models.spec import ModelSpec

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in MODEL_ENTRIES}


def _alias_table() -> dict[str, str]:
    table = {name: name for name in MODELS}
    for spec in MODELS.values():
        for alias in spec.aliases:
            table[alias] = spec.name
    return table


def get_spec(name: str) -> ModelSpec:
    key = name.strip().lower().replace("_", "-")
    table = _alias_table()
    if key not in table:
        raise ConfigError(
            f"unknown model '{name}'{did_you_mean(key, table)}; valid models: {quote_list(MODELS, 40)}")
    return MODELS[table[key]]


def model_names() -> list[str]:
    return list(MODELS)


def models_for(task: str) -> list[str]:
    """The registry names of the models that do ``task``."""
    return [n for n, s in MODELS.items() if s.path_for(task)]


def spec_of(estimator: Any) -> ModelSpec | None:
    """The registry entry whose classifier or regressor class ``estimator`` is (None for a foreign model).

    Only modules already imported are looked at: the estimator's own library is, since it exists.
    """
    cls = type(estimator)
    for spec in MODELS.values():
        for path in (spec.classifier, spec.regressor):
            if not path:
                continue
            module, _, attr = path.partition(":")
            loaded = sys.modules.get(module)
            if loaded is not None and getattr(loaded, attr, None) is cls:
                return spec
    return None


def explainer_of(estimator: Any) -> str:
    """How SHAP explains this fitted estimator (``ModelSpec.explainer``); 'kernel' for a foreign model."""
    spec = spec_of(estimator)
    return spec.explainer if spec is not None else "kernel"

"""Building an estimator from a registry entry: seeds, threads and the user's checked ``--param`` values."""

from __future__ import annotations

import importlib
import inspect
import json
from typing import Any

from mlcli.errors import ConfigError, MissingDependency, did_you_mean, quote_list
from mlcli.models.params import check_values, validate_library
from mlcli.models.registry import get_spec, models_for
from mlcli.models.spec import ModelSpec


def import_object(path: str, spec: ModelSpec | None = None, purpose: str | None = None,
                  install: str | None = None) -> Any:
    """The object at "module:name"; a missing library is a MissingDependency with its install line (the
    registry entry's ``install``/``extra``, or ``install`` for a component that is not a model)."""
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        package = spec.install if spec else (install or module_name.split(".")[0])
        raise MissingDependency(package, purpose or f"model '{spec.name if spec else path}'",
                                spec.extra if spec else None) from exc
    return getattr(module, attr)


def _clone_from_params(self: Any) -> Any:
    import copy

    return type(self)(**copy.deepcopy(self.get_params(deep=False)))


def _make_clonable(cls: type) -> None:
    """scikit-learn's clone() refuses CatBoost models given cat_features (CatBoost keeps a copy of the list,
    and clone checks the parameter is the very object it passed). A model is cloned inside pipelines that
    fit copies of it (TransformedTargetRegressor for --log-target, cross-validated threshold choice), so such
    a class gets a __sklearn_clone__ that rebuilds it from its parameters."""
    if cls.__module__.split(".")[0] == "catboost" and "__sklearn_clone__" not in vars(cls):
        cls.__sklearn_clone__ = _clone_from_params


def parse_value(text: str) -> Any:
    """Turn the text of ``--param key=value`` into a Python value: int, float, bool, None, list or str."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    if lowered in ("none", "null"):
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    if text.strip().startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    return text


def parse_params(items: list[str] | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--param expects key=value, got '{item}'")
        params[key.strip()] = parse_value(value.strip())
    return params


def init_names(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in inspect.getmro(cls):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):
            continue
        names |= {p.name for p in sig.parameters.values()
                  if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        if not any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
            break  # a base's parameters count only when passed on through **kwargs (XGBoost)
    return names


def _accepted_names(cls: type, est: Any) -> set[str]:
    return set(est.get_params(deep=False)) | init_names(cls)


def _takes_words(est: Any, key: str) -> bool:
    """Whether scikit-learn declares words among the values of a parameter whose default is a number (a
    forest's regression ``max_features=1.0`` also takes ``"sqrt"`` and ``"log2"``)."""
    constraints = getattr(type(est), "_parameter_constraints", {}).get(key, [])
    return any(c is str or type(c).__name__ == "StrOptions" for c in constraints)


def check_param_types(name: str, est: Any, params: dict[str, Any]) -> None:
    current = est.get_params(deep=False)
    for key, value in params.items():
        default = current.get(key)
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigError(f"the '{key}' parameter of model '{name}' must be true or false, got {value!r}")
        if (isinstance(default, (int, float)) and not isinstance(default, bool) and isinstance(value, str)
                and not _takes_words(est, key)):
            raise ConfigError(f"the '{key}' parameter of model '{name}' must be a number, got '{value}'")


def make_estimator(name: str, task: str, params: dict[str, Any] | None = None, *, seed: int = 0,
                   n_threads: int | None = 1, extra: dict[str, Any] | None = None) -> Any:
    """Build the (unfitted) estimator of registry entry ``name`` for ``task``.

    ``params`` are the user's ``--param`` values, checked against the estimator's own parameters;
    ``extra`` are parameters mlcli itself sets (e.g. CatBoost's ``cat_features``), not checked.
    """
    spec = get_spec(name)
    path = spec.path_for(task)
    if path is None:
        kind = "regression" if task == "regression" else "classification"
        able = models_for(task)
        raise ConfigError(f"model '{spec.name}' does not do {kind}; models that do: {quote_list(able, 40)}")
    cls = import_object(path, spec)
    _make_clonable(cls)
    kwargs = dict(spec.defaults)
    kwargs.update(spec.reg_defaults if task == "regression" else spec.clf_defaults)
    if spec.seed_param:
        kwargs[spec.seed_param] = seed
    if spec.threads_param and n_threads:
        kwargs[spec.threads_param] = n_threads
    # one entry can map to classes that differ (LinearRegression and SVR take no random_state)
    known = init_names(cls)
    for key in (spec.seed_param, spec.threads_param):
        if key and key not in known:
            kwargs.pop(key, None)
    kwargs.update(extra or {})
    try:
        est = cls(**kwargs)
    except TypeError as exc:  # a default that this library version does not know
        raise ConfigError(f"model '{spec.name}' could not be built: {exc}") from exc
    params = dict(params or {})
    if params:
        accepted = _accepted_names(cls, est)
        for key in params:
            if key not in accepted:
                raise ConfigError(
                    f"unknown parameter '{key}' for model '{spec.name}'{did_you_mean(key, accepted)}; "
                    f"see its parameters with: mlcli models {spec.name}")
        check_param_types(spec.name, est, params)
        est.set_params(**params)
        check_values(spec.name, cls, params)  # the libraries that check late or never (XGBoost, LightGBM, ...)
    validate_library(est)  # scikit-learn's and imbalanced-learn's own checks
    if spec.calibrate and task != "regression":
        from sklearn.calibration import CalibratedClassifierCV

        est = CalibratedClassifierCV(est, ensemble=False, cv=3)
    return est


def model_parameters(name: str, task: str) -> dict[str, Any]:
    """The parameters (with mlcli's defaults) a model accepts through --param."""
    est = make_estimator(name, task)
    if hasattr(est, "estimator") and type(est).__name__ == "CalibratedClassifierCV":
        est = est.estimator
    return est.get_params(deep=False)

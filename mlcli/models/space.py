"""Search spaces: the declarative form a registry entry writes, and the Optuna calls it becomes.

A space maps a parameter to one of::

    ("float", low, high)            ("float", low, high, "log")
    ("int", low, high)              ("int", low, high, "log")
    ("choice", [value, ...])        values may be None, numbers, text or lists (shown as JSON)
    ("fixed", value)                set on every tuned trial, never searched (e.g. LightGBM's subsample_freq)

One entry may serve a classifier and a regressor that take different parameters (ridge: C / alpha):
:func:`space_for` keeps the keys the task's estimator accepts. Nothing here imports Optuna; :func:`suggest`
takes the trial it is given.
"""

from __future__ import annotations

import json
import math
from typing import Any

from mlcli.errors import ConfigError

KINDS = ("float", "int", "choice", "fixed")
DIGITS = 4  # significant digits a tuned float keeps (what is fitted, shown and written to a recipe)


def check_space(name: str, space: dict[str, tuple]) -> None:
    """A malformed declaration is a bug in the registry: say which entry and key."""
    for key, dim in space.items():
        where = f"search space of '{name}', key '{key}'"
        if not isinstance(dim, tuple) or not dim or dim[0] not in KINDS:
            raise ValueError(f"{where}: expected a tuple starting with one of {KINDS}, got {dim!r}")
        kind = dim[0]
        if kind in ("float", "int"):
            low, high = dim[1], dim[2]
            log = len(dim) > 3 and dim[3] == "log"
            if not low < high or (log and low <= 0) or len(dim) > 4 or (len(dim) == 4 and not log):
                raise ValueError(f"{where}: bad range {dim!r}")
        elif kind == "choice" and (len(dim) != 2 or not isinstance(dim[1], list) or len(dim[1]) < 2):
            raise ValueError(f"{where}: a choice needs a list of two or more values, got {dim!r}")
        elif kind == "fixed" and len(dim) != 2:
            raise ValueError(f"{where}: a fixed value is ('fixed', value), got {dim!r}")


def space_for(space: dict[str, tuple], accepted: set[str]) -> dict[str, tuple]:
    """The part of ``space`` whose keys the task's estimator accepts (``accepted``: its parameter names)."""
    return {k: v for k, v in space.items() if k in accepted}


def searched(space: dict[str, tuple]) -> list[str]:
    """The keys that are searched (not fixed)."""
    return [k for k, dim in space.items() if dim[0] != "fixed"]


def _label(value: Any) -> Any:
    """A choice as Optuna stores it: None, bool, numbers and text as they are; lists and tuples as JSON."""
    return json.dumps(list(value)) if isinstance(value, (list, tuple)) else value


def _round(value: float) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{DIGITS}g}")


def suggest(trial: Any, space: dict[str, tuple], only: set[str] | None = None) -> dict[str, Any]:
    """The trial's parameter values (``trial.suggest_*`` per searched key, plus the fixed ones).

    With ``only``, just those keys are suggested and nothing is fixed (the defaults' trial records the default
    values it can in the space, so the sampler learns from it, and fits the model as it is)."""
    params: dict[str, Any] = {}
    for key, dim in space.items():
        kind = dim[0]
        if only is not None and key not in only:
            continue
        if kind == "fixed":
            params[key] = dim[1]
        elif kind == "float":
            params[key] = _round(trial.suggest_float(key, dim[1], dim[2], log=len(dim) > 3))
        elif kind == "int":
            params[key] = trial.suggest_int(key, dim[1], dim[2], log=len(dim) > 3)
        else:
            choices = dim[1]
            picked = trial.suggest_categorical(key, [_label(v) for v in choices])
            params[key] = next(v for v in choices if _label(v) == picked)
    return params


def defaults_in_space(space: dict[str, tuple], values: dict[str, Any]) -> dict[str, Any]:
    """The searched keys whose current value (the estimator's default, ``values``) lies in the space, as Optuna
    would record it; the others (e.g. gamma='scale', XGBoost's unset None) are left out."""
    out: dict[str, Any] = {}
    for key in searched(space):
        dim, value = space[key], values.get(key, _MISSING)
        if value is _MISSING:
            continue
        if dim[0] == "choice":
            if any(_label(v) == _label(value) and isinstance(v, bool) == isinstance(value, bool) for v in dim[1]):
                out[key] = _label(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and dim[1] <= value <= dim[2]:
            if dim[0] == "float" or float(value).is_integer():
                out[key] = float(value) if dim[0] == "float" else int(value)
    return out


_MISSING = object()


def describe(space: dict[str, tuple]) -> dict[str, str]:
    """Each key as a person reads it: 'log-uniform 0.001..1000', 'one of: sqrt, log2, 0.5', 'fixed 1'."""
    out = {}
    for key, dim in space.items():
        kind = dim[0]
        if kind in ("float", "int"):
            scale = "log-uniform" if len(dim) > 3 else "uniform"
            out[key] = f"{scale} {'integer ' if kind == 'int' else ''}{dim[1]:g}..{dim[2]:g}"
        elif kind == "choice":
            out[key] = "one of: " + ", ".join("none" if v is None else str(_label(v)) for v in dim[1])
        else:
            out[key] = f"fixed {dim[1]}"
    return out


def drop_given(space: dict[str, tuple], given: dict[str, Any]) -> dict[str, tuple]:
    """The space without the keys the user fixed with --param."""
    return {k: v for k, v in space.items() if k not in given}


def require_space(model: str, space: dict[str, tuple], task: str, given: dict[str, Any]) -> dict[str, tuple]:
    """The searchable space, or one line saying why there is none."""
    if not space:
        raise ConfigError(f"model '{model}' has no search space for {task}, so there is nothing to tune; "
                          "compare its defaults with: mlcli cv")
    left = drop_given(space, given)
    if not searched(left):
        raise ConfigError(f"--param fixes every parameter of the search space of '{model}' "
                          f"({', '.join(searched(space))}); leave one free to tune")
    return left

"""--param values checked before any fit, in scikit-learn's words: "The 'bottleneck' parameter of autoencoder
must be an int in [1, inf). Got 0 instead."

scikit-learn's classes (and imbalanced-learn's) declare their constraints and are checked by their own
``_validate_params``. The others check late or not at all: LightGBM and CatBoost refuse a bad value only once
the data is read and encoded, XGBoost fits nothing with ``n_estimators=0`` and says nothing, CatBoost takes a
negative learning rate, the autoencoder an empty bottleneck layer. For those, :data:`CONSTRAINTS` holds the
sizes, counts, rates and fractions a user sets most, per estimator class or per library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from mlcli.errors import ConfigError


@dataclass(frozen=True)
class Interval:
    """A number of a kind (int or float) between two bounds, each open or closed (None: unbounded); None is
    taken too where the library reads it as "choose for me" (``none``)."""

    kind: type
    low: float | None
    high: float | None = None
    closed: str = "both"  # which bounds belong to the interval: left, right, both or neither
    none: bool = False

    def holds(self, value: Any) -> bool:
        if value is None:
            return self.none
        if isinstance(value, bool) or not isinstance(value, Integral if self.kind is int else Real):
            return False
        if math.isnan(value):
            return False
        if self.low is not None and (value < self.low or value == self.low and self.closed in ("right", "neither")):
            return False
        return not (self.high is not None
                    and (value > self.high or value == self.high and self.closed in ("left", "neither")))

    def __str__(self) -> str:
        left = "[" if self.low is not None and self.closed in ("left", "both") else "("
        right = "]" if self.high is not None and self.closed in ("right", "both") else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{'an int' if self.kind is int else 'a float'} in {left}{low}, {high}{right}"


@dataclass(frozen=True)
class Sizes:
    """Layer sizes: one positive int or a non-empty list of them (an MLP's ``hidden_layer_sizes``)."""

    def holds(self, value: Any) -> bool:
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        return bool(values) and all(COUNT.holds(v) for v in values)

    def __str__(self) -> str:
        return "an int in [1, inf) or a list of them"


COUNT = Interval(int, 1)  # trees, epochs, rows per batch, layer sizes
COUNT_OR_DEFAULT = Interval(int, 1, none=True)
RATE = Interval(float, 0, closed="neither", none=True)  # a learning rate: above 0
PENALTY = Interval(float, 0, none=True)  # regularisation, minimum gains and weights: 0 or more
SHARE = Interval(float, 0, 1, closed="right", none=True)  # a sampled share of rows or columns: (0, 1]

CONSTRAINTS: dict[str, dict[str, Interval | Sizes]] = {
    "mlcli.models.autoencoder:Autoencoder": {
        "hidden": COUNT_OR_DEFAULT, "bottleneck": COUNT_OR_DEFAULT, "epochs": COUNT, "batch_size": COUNT,
        "learning_rate": Interval(float, 0, closed="neither"), "patience": COUNT,
        "validation": Interval(float, 0, 1, closed="left"), "weight_decay": Interval(float, 0), "threads": COUNT,
    },
    "sklearn.neural_network": {"hidden_layer_sizes": Sizes()},  # scikit-learn checks it only when fitting
    "xgboost": {
        "n_estimators": COUNT_OR_DEFAULT, "max_depth": Interval(int, 0, none=True),
        "max_leaves": Interval(int, 0, none=True), "max_bin": Interval(int, 2, none=True),
        "learning_rate": RATE, "eta": RATE, "gamma": PENALTY, "min_child_weight": PENALTY,
        "max_delta_step": PENALTY, "reg_alpha": PENALTY, "reg_lambda": PENALTY, "subsample": SHARE,
        "colsample_bytree": SHARE, "colsample_bylevel": SHARE, "colsample_bynode": SHARE,
        "num_parallel_tree": COUNT_OR_DEFAULT, "early_stopping_rounds": COUNT_OR_DEFAULT,
    },
    "lightgbm": {
        "n_estimators": COUNT, "num_leaves": Interval(int, 2), "learning_rate": RATE,
        "min_child_samples": Interval(int, 0), "min_child_weight": PENALTY, "min_split_gain": PENALTY,
        "reg_alpha": PENALTY, "reg_lambda": PENALTY, "subsample": SHARE, "subsample_freq": Interval(int, 0),
        "colsample_bytree": SHARE, "subsample_for_bin": Interval(int, 2), "max_bin": Interval(int, 2),
    },
    "catboost": {
        "iterations": COUNT_OR_DEFAULT, "n_estimators": COUNT_OR_DEFAULT, "num_trees": COUNT_OR_DEFAULT,
        "num_boost_round": COUNT_OR_DEFAULT, "depth": Interval(int, 1, 16, none=True),
        "max_depth": Interval(int, 1, 16, none=True), "learning_rate": RATE, "eta": RATE,
        "l2_leaf_reg": PENALTY, "reg_lambda": PENALTY, "border_count": Interval(int, 1, 65535, none=True),
        "bagging_temperature": PENALTY, "subsample": SHARE, "rsm": SHARE, "colsample_bylevel": SHARE,
    },
}


def constraints_for(cls: type) -> dict[str, Interval | Sizes]:
    """The constraints of ``cls``: its own entry, else its module's or a package's above it ({} without)."""
    parts = cls.__module__.split(".")
    keys = [f"{cls.__module__}:{cls.__name__}"] + [".".join(parts[:n]) for n in range(len(parts), 0, -1)]
    return next((CONSTRAINTS[key] for key in keys if key in CONSTRAINTS), {})


def check_values(name: str, cls: type, params: dict[str, Any]) -> None:
    """One ConfigError, in scikit-learn's words, for the first of ``params`` (--param values of the model or
    method ``name``, an instance of ``cls``) outside its constraint."""
    table = constraints_for(cls)
    for key, value in params.items():
        if key in table:
            check_value(name, key, value, table[key])


def check_value(name: str, key: str, value: Any, rule: Interval | Sizes) -> None:
    if not rule.holds(value):
        raise ConfigError(f"The '{key}' parameter of {name} must be {rule}. Got {value!r} instead.")


def validate_library(est: Any) -> None:
    """scikit-learn's (and imbalanced-learn's) own check of every parameter of ``est``, as one ConfigError."""
    validate = getattr(est, "_validate_params", None)
    if validate is None or not type(est).__module__.startswith(("sklearn", "imblearn")):
        return
    try:
        validate()
    except ValueError as exc:  # InvalidParameterError
        text = str(exc).strip()
        raise ConfigError(text.splitlines()[0] if text else type(exc).__name__) from None

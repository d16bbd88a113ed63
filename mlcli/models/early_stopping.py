"""Early stopping for the gradient-boosted trees: a large iteration budget, stopped on a validation slice.

The slice is carved from the rows the model is fitted on — inside ``cv`` a fold's *training* rows, inside
``train`` the training split — never from the rows it is scored on, so nothing leaks. The slice is stratified
for classification. XGBoost, LightGBM and CatBoost are wrapped (:class:`EarlyStoppedClassifier` /
:class:`EarlyStoppedRegressor`); scikit-learn's histogram boosting stops with its own ``early_stopping``.

After the fit the library model holds only the iterations up to the best one (XGBoost's trees are cut there,
CatBoost keeps its best model, LightGBM saves and predicts its best iteration), so predictions, SHAP values and
the saved bundle all use the same trees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone

from mlcli.errors import ConfigError
from mlcli.models.params import COUNT_OR_DEFAULT, check_value

BUDGET = 2000  # iterations at most, when the user gives no count
PATIENCE = 50  # rounds without improvement on the validation slice before stopping
FRACTION = 0.1  # of the training rows, for the validation slice
MIN_ROWS = 1000  # fewer training rows: no slice is carved; the rounds are chosen on inner folds instead
INNER_FOLDS = 3  # below MIN_ROWS: each fold stops early on its held-out third, the model is refitted on every row
MIN_INNER_ROWS = 60  # fewer rows (or a class of fewer than INNER_FOLDS rows): the model's usual count
# benchmarks/small_data_stopping.py: XGBoost and LightGBM at a fixed 300 rounds overfit small files (iris
# LightGBM macro F1 0.865 -> 0.967 with inner folds, Titanic 640 rows log loss 0.62 -> 0.45); CatBoost's usual
# 500 rounds hold (equal or mixed) and its inner folds ran up to 927 rounds, several times the time
INNER_LIBRARIES = ("xgboost", "lightgbm")
KEYS = ("early_stopping", "early_stopping_rounds", "validation_fraction")
# Small data (fewer fitted rows than SMALL_ROWS), binary classification and regression: shallower, subsampled
# trees, for the keys the user did not set. Chosen by benchmarks/gauntlet/small_defaults.py (5-fold
# cross-validation on the training parts of the gauntlet's tables of at most 3,000 rows): above XGBoost's usual
# depth 6 on 13 of the 15 binary and regression files; on multiclass files mixed (4 better, 5 worse: zoo's
# macro F1 0.83 -> 0.69, min_child_weight holding back the rare classes), so multiclass keeps the usual trees.
SMALL_ROWS = 3000
SMALL_DATA = {"xgboost": {"max_depth": 4, "min_child_weight": 2, "subsample": 0.8, "colsample_bytree": 0.8}}


@dataclass(frozen=True)
class Route:
    """How one library stops early: its iteration parameter and the learning rate used with the budget."""

    iterations: str
    learning_rate: float


ROUTES = {"xgboost": Route("n_estimators", 0.1), "lightgbm": Route("n_estimators", 0.1),
          "catboost": Route("iterations", 0.1)}


def parse_switch(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", "none"):
        return False
    raise ConfigError(f"--param early_stopping must be true or false, got '{value}'")


def take_options(route: str | None, params: dict[str, Any], allowed: bool = True
                 ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Split mlcli's early-stopping keys off the model parameters: (the model's parameters, the options, or
    None when early stopping is off). ``route`` is the registry entry's ``early_stopping`` (None: never);
    ``allowed`` False (a resampling pipeline) keeps the model's usual iteration count."""
    params = dict(params)
    given = {k: params.pop(k) for k in KEYS if k in params and route not in (None, "native")}
    if route is None or (not allowed and route != "native"):
        return params, None
    if route == "native":  # scikit-learn's histogram boosting: its own early_stopping, validation_fraction
        on = parse_switch(params.get("early_stopping", True))
        params["early_stopping"] = on
        if on:
            params.setdefault("max_iter", BUDGET)
            params.setdefault("n_iter_no_change", PATIENCE)
            params.setdefault("validation_fraction", FRACTION)
        return params, None
    if not parse_switch(given.get("early_stopping", True)):
        return params, None
    rounds = given.get("early_stopping_rounds", PATIENCE)
    fraction = given.get("validation_fraction", FRACTION)
    if rounds in (None, 0, "0", "none", "None"):
        return params, None
    if not isinstance(rounds, int) or rounds < 1:
        raise ConfigError(f"--param early_stopping_rounds must be a whole number of rounds, got '{rounds}'")
    if not isinstance(fraction, (int, float)) or not 0 < fraction < 0.5:
        raise ConfigError(f"--param validation_fraction must be between 0 and 0.5, got '{fraction}'")
    spec = ROUTES[route]
    usual = params.get(spec.iterations)  # the user's count: also what is fitted when no slice can be carved
    check_value(route, spec.iterations, usual, COUNT_OR_DEFAULT)  # taken out of the model's own parameters here
    budget = params.pop(spec.iterations, BUDGET)
    params.setdefault("learning_rate", spec.learning_rate)
    small = {k: v for k, v in SMALL_DATA.get(route, {}).items() if k not in params}
    return params, {"library": route, "budget": budget, "rounds": rounds, "fraction": float(fraction),
                    "usual": usual, "small": small or None}


def wrap(estimator: Any, options: dict[str, Any], task: str, seed: int) -> Any:
    cls = EarlyStoppedRegressor if task == "regression" else EarlyStoppedClassifier
    if task == "multiclass":  # the small-data settings are for binary and regression (SMALL_DATA)
        options = {**options, "small": None}
    return cls(estimator, seed=seed, **options)


def stopping_line(stop: dict[str, Any]) -> str:
    """One line for the user: how many rounds early stopping kept (and the small-data settings, if used)."""
    line = _rounds_line(stop)
    if stop.get("small_data"):
        settings = ", ".join(f"{k}={v}" for k, v in stop["small_data"].items())
        line += f"; fewer than {SMALL_ROWS:,} rows: {settings} (--param overrides)"
    return line


def _rounds_line(stop: dict[str, Any]) -> str:
    if not stop.get("stopped"):
        return (f"early stopping: off (fewer than {MIN_ROWS} training rows for CatBoost, fewer than "
                f"{MIN_INNER_ROWS} or a class of fewer than {INNER_FOLDS} for the others, or a count you gave); "
                f"fitted {stop['iterations']} rounds")
    if stop.get("inner_folds"):
        return (f"early stopping: {stop['iterations']} rounds, the mean of where {stop['inner_folds']} inner folds "
                f"of the training rows stopped (fewer than {MIN_ROWS} rows: no slice is set aside); refitted on "
                "every training row (--param early_stopping=false turns it off)")
    where = (f"a validation slice of {stop['validation_rows']} training rows" if stop.get("validation_rows")
             else "the model's own validation slice of the training rows")
    return (f"early stopping: {stop['iterations']} of at most {stop['budget']} rounds, stopped on {where} "
            f"(--param early_stopping=false turns it off)")


class _EarlyStopped(BaseEstimator):
    def __init__(self, estimator=None, library: str = "xgboost", budget: int = BUDGET, rounds: int = PATIENCE,
                 fraction: float = FRACTION, seed: int = 0, usual: int | None = None,
                 small: dict[str, Any] | None = None):
        self.estimator = estimator
        self.small = small  # settings for fewer than SMALL_ROWS rows (SMALL_DATA less the user's keys)
        self.usual = usual  # rounds to fit without a slice (the user's n_estimators/iterations), else the model's
        self.library = library
        self.budget = budget
        self.rounds = rounds
        self.fraction = fraction
        self.seed = seed

    def _slice(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(fit rows, validation rows), or None when there are too few rows (or too few of a class)."""
        from sklearn.model_selection import train_test_split

        n = len(y)
        if n < MIN_ROWS:
            return None
        stratify = None
        if isinstance(self, ClassifierMixin):
            counts = np.unique(y, return_counts=True)[1]
            if counts.min() < 2:
                return None
            stratify = y
        rows = np.arange(n)
        fit_rows, val_rows = train_test_split(rows, test_size=self.fraction, stratify=stratify,
                                              random_state=self.seed % 2**32)
        return np.sort(fit_rows), np.sort(val_rows)

    def _inner_rounds(self, X, y, sample_weight, params) -> int | None:
        """Small data: the rounds early stopping picks on each of INNER_FOLDS folds of the training rows (each
        fold stopped on its held-out part), averaged; None when too few rows or the user gave a count."""
        from sklearn.model_selection import KFold, StratifiedKFold

        if self.usual is not None or len(y) < MIN_INNER_ROWS or self.library not in INNER_LIBRARIES:
            return None
        if isinstance(self, ClassifierMixin):
            if np.unique(y, return_counts=True)[1].min() < INNER_FOLDS:
                return None
            folds = StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=self.seed % 2**32).split(X, y)
        else:
            folds = KFold(INNER_FOLDS, shuffle=True, random_state=self.seed % 2**32).split(X)
        best = []
        for a, v in folds:
            est = self._fresh(len(y))
            est.set_params(**{ROUTES[self.library].iterations: self.budget})
            _FIT[self.library](est, X, y, sample_weight, np.sort(a), np.sort(v), self.rounds, params)
            best.append(_count(est, self.library))
        return max(1, int(round(float(np.mean(best)))))

    def _fresh(self, n: int) -> Any:
        """An unfitted copy of the model, with the small-data settings when ``n`` rows are few."""
        est = clone(self.estimator)
        if self.small and n < SMALL_ROWS:
            est.set_params(**self.small)
        return est

    def fit(self, X, y, sample_weight=None, **params):
        y = np.asarray(y)
        est = self._fresh(len(y))
        self.small_data_ = dict(self.small) if self.small and len(y) < SMALL_ROWS else {}
        split = self._slice(y)
        self.validation_rows_ = 0
        self.inner_folds_ = 0
        if split is None:  # small data: rounds from inner folds, else the model's usual count
            inner = self._inner_rounds(X, y, sample_weight, params)
            if inner is not None:
                self.inner_folds_ = INNER_FOLDS
            count = inner if inner is not None else self.usual
            if count is not None:
                est.set_params(**{ROUTES[self.library].iterations: count})
            est.fit(X, y, **({"sample_weight": sample_weight} if sample_weight is not None else {}), **params)
            self.iterations_ = _count(est, self.library)
        else:
            a, v = split
            est.set_params(**{ROUTES[self.library].iterations: self.budget})
            _FIT[self.library](est, X, y, sample_weight, a, v, self.rounds, params)
            self.iterations_ = _count(est, self.library)
            self.validation_rows_ = len(v)
        self.estimator_ = est
        if hasattr(est, "classes_"):
            self.classes_ = est.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return self.estimator_.predict(X)

    @property
    def feature_importances_(self):
        return self.estimator_.feature_importances_

    def stopping(self) -> dict[str, Any]:
        """What early stopping chose, for reports and the bundle."""
        inner = int(getattr(self, "inner_folds_", 0))
        doc = {"iterations": int(self.iterations_), "budget": int(self.budget), "patience": int(self.rounds),
               "validation_rows": int(self.validation_rows_), "inner_folds": inner,
               "stopped": bool(self.validation_rows_ or inner)}
        if getattr(self, "small_data_", None):
            doc["small_data"] = dict(self.small_data_)
        return doc


class EarlyStoppedClassifier(ClassifierMixin, _EarlyStopped):
    """An XGBoost / LightGBM / CatBoost classifier fitted with early stopping on a slice of its training rows."""

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)


class EarlyStoppedRegressor(RegressorMixin, _EarlyStopped):
    """An XGBoost / LightGBM / CatBoost regressor fitted with early stopping on a slice of its training rows."""


def _zero_on(rows: np.ndarray, n: int, weight: Any) -> np.ndarray:
    """Row weights that leave ``rows`` out of the fit: the matrix is not copied (a 1,000,000-row file would
    need another 90 % of it), and rows of weight 0 add nothing to the gradient statistics that grow the trees."""
    w = np.ones(n) if weight is None else np.array(weight, dtype=float)
    w[rows] = 0.0
    return w


def _fit_xgboost(est, X, y, weight, a, v, rounds, params):
    est.set_params(early_stopping_rounds=rounds)
    extra = {} if weight is None else {"sample_weight_eval_set": [np.asarray(weight)[v]]}
    est.fit(X, y, sample_weight=_zero_on(v, len(y), weight), eval_set=[(X[v], y[v])], verbose=False, **extra,
            **params)
    best = int(est.best_iteration)
    trimmed = est.get_booster()[: best + 1]  # keep the trees up to the best round only
    for key in ("best_iteration", "best_score"):
        trimmed.set_attr(**{key: None})
    est._Booster = trimmed
    est.set_params(early_stopping_rounds=None)


def _fit_lightgbm(est, X, y, weight, a, v, rounds, params):
    import inspect

    import lightgbm as lgb

    names = inspect.signature(est.fit).parameters
    evals = {"eval_X": (X[v],), "eval_y": (y[v],)} if "eval_X" in names else {"eval_set": [(X[v], y[v])]}
    if weight is not None:
        evals["eval_sample_weight"] = [np.asarray(weight)[v]]
    params = dict(params)  # a progress callback given to fit (models.fit_progress) runs beside early stopping's
    callbacks = [lgb.early_stopping(rounds, verbose=False), *(params.pop("callbacks", None) or [])]
    est.fit(X, y, sample_weight=_zero_on(v, len(y), weight), callbacks=callbacks, **evals, **params)


def _fit_catboost(est, X, y, weight, a, v, rounds, params):
    """CatBoost's target statistics would count rows of weight 0, so its rows are sliced (its inputs are
    modest: categorical columns stay as they are)."""
    from catboost import Pool

    cats = est.get_params().get("cat_features")
    w = None if weight is None else np.asarray(weight)
    valid = Pool(X[v], y[v], cat_features=cats, weight=None if w is None else w[v])
    extra = {} if w is None else {"sample_weight": w[a]}
    est.fit(X[a], y[a], eval_set=valid, early_stopping_rounds=rounds, use_best_model=True, **extra, **params)


_FIT = {"xgboost": _fit_xgboost, "lightgbm": _fit_lightgbm, "catboost": _fit_catboost}


def _count(est: Any, library: str) -> int:
    if library == "xgboost":
        return int(est.get_booster().num_boosted_rounds())
    if library == "lightgbm":
        best = getattr(est, "best_iteration_", 0) or 0
        return int(best or est.booster_.current_iteration())
    return int(est.tree_count_)


def stopping_of(model: Any) -> dict[str, Any] | None:
    """The early-stopping outcome of a fitted model step (inside class weights or a target transform), else
    None; scikit-learn's histogram boosting reports its own."""
    seen = 0
    while model is not None and seen < 6:
        seen += 1
        if isinstance(model, _EarlyStopped):
            return model.stopping() if hasattr(model, "iterations_") else None
        if type(model).__name__.startswith("HistGradientBoosting") and getattr(model, "early_stopping", False) \
                is True and hasattr(model, "n_iter_"):
            return {"iterations": int(model.n_iter_), "budget": int(model.max_iter),
                    "patience": int(model.n_iter_no_change), "validation_rows": None, "stopped": True}
        model = next((getattr(model, s) for s in ("estimator_", "regressor_") if hasattr(model, s)), None)
    return None

"""The model registry: one entry per model, every command picks it up.

An entry names its estimator classes by import path, so listing models (``mlcli models``, ``--help``)
imports nothing heavy. Seeds, thread counts and user parameters all go through :func:`make_estimator`.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
from dataclasses import dataclass, field
from typing import Any

from mlcli.errors import ConfigError, MissingDependency, did_you_mean, quote_list

CLASSIFICATION = ("binary", "multiclass")
REGRESSION = ("regression",)
ALL_TASKS = CLASSIFICATION + REGRESSION


@dataclass(frozen=True)
class ModelSpec:
    name: str
    summary: str
    classifier: str | None = None  # "module:Class"
    regressor: str | None = None
    package: str = "sklearn"  # import name used to tell whether it is installed
    extra: str | None = None  # pip extra that installs it, if optional
    defaults: dict[str, Any] = field(default_factory=dict)  # for every task
    clf_defaults: dict[str, Any] = field(default_factory=dict)
    reg_defaults: dict[str, Any] = field(default_factory=dict)
    seed_param: str | None = "random_state"
    threads_param: str | None = None
    scale: bool = True  # scale numeric features by default (--scale auto)
    dense: bool = False  # needs a dense matrix
    native_categorical: bool = False  # takes raw categorical columns (CatBoost)
    calibrate: bool = False  # classifier gets probabilities through CalibratedClassifierCV
    class_weight: str | None = "class_weight"  # how it takes class weights (issue: imbalance)
    fast: bool = False  # member of the 'fast' set
    aliases: tuple[str, ...] = ()
    text_only: bool = False  # reads the text columns itself (passthrough preprocessing; mlcli.text)

    @property
    def tasks(self) -> tuple[str, ...]:
        return (CLASSIFICATION if self.classifier else ()) + (REGRESSION if self.regressor else ())

    def path_for(self, task: str) -> str | None:
        return self.regressor if task == "regression" else self.classifier

    def installed(self) -> bool:
        return importlib.util.find_spec(self.package) is not None


_SK = "sklearn."
MODELS: dict[str, ModelSpec] = {}


def _register(spec: ModelSpec) -> None:
    MODELS[spec.name] = spec


_register(ModelSpec(
    "logreg", "Logistic regression (classification) / ordinary least squares (regression)",
    classifier=_SK + "linear_model:LogisticRegression", regressor=_SK + "linear_model:LinearRegression",
    clf_defaults={"max_iter": 2000}, fast=True, aliases=("linear", "lr", "logistic")))
_register(ModelSpec(
    "ridge", "L2-penalised logistic / ridge regression",
    classifier=_SK + "linear_model:LogisticRegression", regressor=_SK + "linear_model:Ridge",
    clf_defaults={"max_iter": 2000, "l1_ratio": 0.0, "C": 1.0}, fast=True))
_register(ModelSpec(
    "lasso", "L1-penalised logistic / lasso regression",
    classifier=_SK + "linear_model:LogisticRegression", regressor=_SK + "linear_model:Lasso",
    clf_defaults={"max_iter": 5000, "l1_ratio": 1.0, "solver": "saga"}, reg_defaults={"max_iter": 5000}))
_register(ModelSpec(
    "elasticnet", "Elastic-net logistic / elastic-net regression",
    classifier=_SK + "linear_model:LogisticRegression", regressor=_SK + "linear_model:ElasticNet",
    clf_defaults={"max_iter": 5000, "l1_ratio": 0.5, "solver": "saga"}, reg_defaults={"max_iter": 5000},
    aliases=("enet",)))
_register(ModelSpec(
    "knn", "k-nearest neighbours",
    classifier=_SK + "neighbors:KNeighborsClassifier", regressor=_SK + "neighbors:KNeighborsRegressor",
    seed_param=None, threads_param="n_jobs", class_weight=None, fast=True))
_register(ModelSpec(
    "svm", "Support vector machine, RBF kernel (kernel=linear|poly|rbf via --param)",
    classifier=_SK + "svm:SVC", regressor=_SK + "svm:SVR", defaults={"kernel": "rbf"},
    reg_defaults={}, calibrate=True, aliases=("svc", "svr", "svm-rbf")))
_register(ModelSpec(
    "svm-linear", "Support vector machine, linear kernel",
    classifier=_SK + "svm:SVC", regressor=_SK + "svm:SVR", defaults={"kernel": "linear"}, calibrate=True))
_register(ModelSpec(
    "svm-poly", "Support vector machine, polynomial kernel",
    classifier=_SK + "svm:SVC", regressor=_SK + "svm:SVR", defaults={"kernel": "poly", "degree": 3},
    calibrate=True))
_register(ModelSpec(
    "nb-gaussian", "Gaussian naive Bayes", classifier=_SK + "naive_bayes:GaussianNB",
    seed_param=None, dense=True, class_weight=None, fast=True, aliases=("nb", "naive-bayes", "gaussian-nb")))
_register(ModelSpec(
    "nb-bernoulli", "Bernoulli naive Bayes", classifier=_SK + "naive_bayes:BernoulliNB",
    seed_param=None, class_weight=None, aliases=("bernoulli-nb",)))
_register(ModelSpec(
    "tree", "Decision tree (CART)",
    classifier=_SK + "tree:DecisionTreeClassifier", regressor=_SK + "tree:DecisionTreeRegressor",
    scale=False, fast=True, aliases=("dt", "decision-tree", "cart")))
_register(ModelSpec(
    "rf", "Random forest",
    classifier=_SK + "ensemble:RandomForestClassifier", regressor=_SK + "ensemble:RandomForestRegressor",
    threads_param="n_jobs", scale=False, aliases=("random-forest", "randomforest")))
_register(ModelSpec(
    "extratrees", "Extremely randomised trees",
    classifier=_SK + "ensemble:ExtraTreesClassifier", regressor=_SK + "ensemble:ExtraTreesRegressor",
    threads_param="n_jobs", scale=False, aliases=("et", "extra-trees")))
_register(ModelSpec(
    "hgb", "Histogram gradient boosting (scikit-learn)",
    classifier=_SK + "ensemble:HistGradientBoostingClassifier",
    regressor=_SK + "ensemble:HistGradientBoostingRegressor",
    scale=False, dense=True, fast=True, aliases=("histgb", "hist-gradient-boosting")))
_register(ModelSpec(
    "adaboost", "AdaBoost",
    classifier=_SK + "ensemble:AdaBoostClassifier", regressor=_SK + "ensemble:AdaBoostRegressor",
    scale=False, class_weight="sample_weight", aliases=("ada",)))
_register(ModelSpec(
    "mlp", "Multi-layer perceptron",
    classifier=_SK + "neural_network:MLPClassifier", regressor=_SK + "neural_network:MLPRegressor",
    defaults={"max_iter": 500, "early_stopping": True}, class_weight="sample_weight",
    aliases=("neural-net", "nn")))
_register(ModelSpec(
    "xgboost", "XGBoost gradient-boosted trees",
    classifier="xgboost:XGBClassifier", regressor="xgboost:XGBRegressor", package="xgboost",
    defaults={"n_estimators": 300, "learning_rate": 0.05, "max_depth": 6, "tree_method": "hist",
              "verbosity": 0},
    threads_param="n_jobs", scale=False, class_weight="sample_weight", fast=True, aliases=("xgb",)))
_register(ModelSpec(
    "lightgbm", "LightGBM gradient-boosted trees",
    classifier="lightgbm:LGBMClassifier", regressor="lightgbm:LGBMRegressor", package="lightgbm",
    defaults={"n_estimators": 300, "learning_rate": 0.05, "verbose": -1, "importance_type": "gain"},
    threads_param="n_jobs", scale=False, fast=True, aliases=("lgbm", "lgb")))
_register(ModelSpec(
    "catboost", "CatBoost gradient-boosted trees (categoricals handled natively)",
    classifier="catboost:CatBoostClassifier", regressor="catboost:CatBoostRegressor", package="catboost",
    defaults={"iterations": 500, "verbose": 0, "allow_writing_files": False},
    seed_param="random_seed", threads_param="thread_count", scale=False, native_categorical=True,
    class_weight="auto_class_weights", aliases=("cb", "cat")))
_register(ModelSpec(
    "transformer", "Fine-tuned transformer on the text columns (default base: all-MiniLM-L6-v2, offline)",
    classifier="mlcli.text.estimator:TransformerClassifier", regressor="mlcli.text.estimator:TransformerRegressor",
    package="transformers", extra="text", threads_param="n_threads", scale=False, text_only=True,
    aliases=("bert", "minilm", "fine-tune", "finetune")))


# ensembles made for imbalanced classes (imbalanced-learn): each member sees a balanced sample
_register(ModelSpec(
    "balanced-rf", "Balanced random forest: each tree on a balanced bootstrap (imbalanced-learn)",
    classifier="imblearn.ensemble:BalancedRandomForestClassifier", package="imblearn",
    defaults={"sampling_strategy": "all", "replacement": True, "bootstrap": False},
    threads_param="n_jobs", scale=False, aliases=("brf", "balanced-random-forest")))
_register(ModelSpec(
    "easy-ensemble", "Easy ensemble: AdaBoost learners on balanced under-samples (imbalanced-learn)",
    classifier="imblearn.ensemble:EasyEnsembleClassifier", package="imblearn", threads_param="n_jobs",
    scale=False, class_weight=None, aliases=("easyensemble",)))
_register(ModelSpec(
    "rusboost", "RUSBoost: boosting with random under-sampling at each round (imbalanced-learn)",
    classifier="imblearn.ensemble:RUSBoostClassifier", package="imblearn", scale=False, class_weight=None))


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


def import_object(path: str, spec: ModelSpec | None = None, purpose: str | None = None) -> Any:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        package = spec.package if spec else module_name.split(".")[0]
        pip_name = {"sklearn": "scikit-learn", "xgboost": "xgboost-cpu"}.get(package, package)
        raise MissingDependency(pip_name, purpose or f"model '{spec.name if spec else path}'",
                                spec.extra if spec else None) from exc
    return getattr(module, attr)


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


def _init_names(cls: type) -> set[str]:
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
    return set(est.get_params(deep=False)) | _init_names(cls)


def _check_types(name: str, est: Any, params: dict[str, Any]) -> None:
    current = est.get_params(deep=False)
    for key, value in params.items():
        default = current.get(key)
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigError(f"the '{key}' parameter of model '{name}' must be true or false, got {value!r}")
        if isinstance(default, (int, float)) and not isinstance(default, bool) and isinstance(value, str):
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
        able = [n for n, s in MODELS.items() if s.path_for(task)]
        raise ConfigError(f"model '{spec.name}' does not do {kind}; models that do: {quote_list(able, 40)}")
    cls = import_object(path, spec)
    kwargs = dict(spec.defaults)
    kwargs.update(spec.reg_defaults if task == "regression" else spec.clf_defaults)
    if spec.seed_param:
        kwargs[spec.seed_param] = seed
    if spec.threads_param and n_threads:
        kwargs[spec.threads_param] = n_threads
    # one entry can map to classes that differ (LinearRegression and SVR take no random_state)
    known = _init_names(cls)
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
        _check_types(spec.name, est, params)
        est.set_params(**params)
    validate = getattr(est, "_validate_params", None)
    if validate is not None and cls.__module__.startswith("sklearn"):
        try:
            validate()
        except ValueError as exc:
            raise ConfigError(str(exc).splitlines()[0]) from exc
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

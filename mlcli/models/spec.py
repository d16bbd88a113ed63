"""What a registry entry says about a model (the entries: ``mlcli.models.catalog``)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any

CLASSIFICATION = ("binary", "multiclass")
REGRESSION = ("regression",)
EXPLAINERS = ("xgboost", "lightgbm", "catboost", "tree", "kernel")


@dataclass(frozen=True)
class ModelSpec:
    """One model: its estimator classes (by import path), how mlcli builds, feeds, weights and explains it."""

    name: str
    summary: str
    classifier: str | None = None  # "module:Class"
    regressor: str | None = None
    package: str = "sklearn"  # import name used to tell whether it is installed
    install: str = "scikit-learn"  # the pip distribution that provides it (install lines, library versions)
    extra: str | None = None  # mlcli's pip extra that installs it, if optional
    defaults: dict[str, Any] = field(default_factory=dict)  # for every task
    clf_defaults: dict[str, Any] = field(default_factory=dict)
    reg_defaults: dict[str, Any] = field(default_factory=dict)
    seed_param: str | None = "random_state"
    threads_param: str | None = None
    scale: bool = True  # scale numeric features by default (--scale auto)
    dense: bool = False  # needs a dense matrix
    densify: bool = False  # tree ensembles: a dense float32 matrix when it is small (models.steps.DenseIfSmall)
    # early stopping on a slice of the training rows: xgboost | lightgbm | catboost (mlcli.models.early_stopping)
    # or native (the estimator's own early_stopping parameter); None: never
    early_stopping: str | None = None
    native_categorical: bool = False  # takes raw categorical columns (CatBoost)
    # TF-IDF terms kept per text column at most (None: PreprocessOptions.text_max_features, 20,000): CatBoost's
    # oblivious trees weigh every column at every split, so a 20,000-term vocabulary ran past 10 minutes on
    # the gauntlet's 7,600-row news file (benchmarks/gauntlet)
    text_vocabulary: int | None = None
    calibrate: bool = False  # classifier gets probabilities through CalibratedClassifierCV
    class_weight: str | None = "class_weight"  # how it takes class weights: its parameter, or "sample_weight"
    fast: bool = False  # member of the 'fast' set
    aliases: tuple[str, ...] = ()
    text_only: bool = False  # reads the text columns itself (passthrough preprocessing; mlcli.text)
    scale_target: bool = False  # regression: fit on the standardised target, predict in the user's units
    regression_name: str | None = None  # the name reports use for its regressor (logreg's is 'linear')
    baseline: bool = False  # the trivial model every comparison includes (cv adds it to every leaderboard)
    # the SHAP route: the library's own TreeSHAP (xgboost | lightgbm | catboost), shap.TreeExplainer (tree),
    # or shap's model-agnostic KernelExplainer over the raw columns (kernel: any model, slower)
    explainer: str = "kernel"
    # what `mlcli tune` searches: parameter -> ("float"|"int", low, high[, "log"]) | ("choice", [values]) |
    # ("fixed", value) (mlcli.models.space); a key only one task's estimator takes is used for that task only
    search_space: dict[str, tuple] = field(default_factory=dict)

    @property
    def tasks(self) -> tuple[str, ...]:
        return (CLASSIFICATION if self.classifier else ()) + (REGRESSION if self.regressor else ())

    def display_name(self, task: str) -> str:
        return self.regression_name if task == "regression" and self.regression_name else self.name

    def path_for(self, task: str) -> str | None:
        return self.regressor if task == "regression" else self.classifier

    def installed(self) -> bool:
        return importlib.util.find_spec(self.package) is not None

"""Search spaces in the registry: well formed, taken by the estimators they are for, turned into Optuna calls."""

from __future__ import annotations

import pytest

from mlcli.errors import ConfigError
from mlcli.models.estimators import import_object, init_names
from mlcli.models.registry import MODELS
from mlcli.models.space import check_space, defaults_in_space, describe, require_space, space_for, suggest

TUNED = [name for name, spec in MODELS.items() if spec.search_space]


def test_the_issue_models_have_a_space():
    for name in ("logreg", "ridge", "knn", "svm", "rf", "extratrees", "hgb", "mlp", "xgboost", "lightgbm",
                 "catboost"):
        assert MODELS[name].search_space, name
    assert not MODELS["baseline"].search_space


@pytest.mark.parametrize("name", TUNED)
def test_every_key_is_taken_by_an_estimator_of_the_model(name):
    spec = MODELS[name]
    check_space(name, spec.search_space)
    if not spec.installed():
        pytest.skip(f"{spec.install} is not installed")
    accepted = set()
    for task in ("binary", "regression"):
        path = spec.path_for(task)
        if path:
            accepted |= init_names(import_object(path, spec))
    assert set(spec.search_space) <= accepted


def test_boosters_never_search_their_number_of_rounds():
    for name in ("xgboost", "lightgbm", "catboost", "hgb"):
        assert not {"n_estimators", "iterations", "max_iter"} & set(MODELS[name].search_space)


def test_task_specific_keys_are_kept_for_their_task_only():
    from sklearn.linear_model import LogisticRegression, Ridge

    space = MODELS["ridge"].search_space
    assert set(space_for(space, init_names(LogisticRegression))) == {"C"}
    assert set(space_for(space, init_names(Ridge))) == {"alpha"}


def test_malformed_declarations_are_refused():
    for bad in ({"C": ("float", 1.0, 0.1)}, {"C": ("float", 0.0, 1.0, "log")}, {"k": ("choice", [1])},
                {"k": ("grid", 1, 2)}):
        with pytest.raises(ValueError):
            check_space("x", bad)


def test_suggest_turns_each_kind_into_its_optuna_call():
    import optuna

    space = {"C": ("float", 1e-3, 1e3, "log"), "k": ("int", 1, 50, "log"), "depth": ("choice", [None, 6, 12]),
             "layers": ("choice", [[64], [128, 64]]), "freq": ("fixed", 1)}
    trial = optuna.trial.FixedTrial({"C": 0.123456789, "k": 7, "depth": None, "layers": "[128, 64]"})
    assert suggest(trial, space) == {"C": 0.1235, "k": 7, "depth": None, "layers": [128, 64], "freq": 1}
    assert describe(space)["C"] == "log-uniform 0.001..1000"


def test_defaults_inside_the_space_are_recorded_the_others_left_out():
    space = {"C": ("float", 1e-3, 1e3, "log"), "gamma": ("float", 1e-4, 1.0, "log"),
             "max_depth": ("choice", [None, 6]), "reg_alpha": ("float", 1e-3, 10.0, "log"),
             "layers": ("choice", [[100], [64, 64]])}
    values = {"C": 1.0, "gamma": "scale", "max_depth": None, "reg_alpha": 0.0, "layers": (100,)}
    assert defaults_in_space(space, values) == {"C": 1.0, "max_depth": None, "layers": "[100]"}


def test_no_space_or_every_key_fixed_is_one_line():
    with pytest.raises(ConfigError, match="no search space for regression"):
        require_space("linear", {}, "regression", {})
    with pytest.raises(ConfigError, match="fixes every parameter"):
        require_space("knn", {"n_neighbors": ("int", 1, 5)}, "binary", {"n_neighbors": 3})

"""mlcli tune from the command line: JSON when piped, table and CSV on request, a train recipe, one-line errors."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import SAMPLE, assert_error

TITANIC = SAMPLE / "titanic.csv"
QUICK = ["--folds", "3", "--no-leak-check", "--trials", "4"]


def test_json_on_stdout_when_piped(mlcli):
    piped = mlcli("tune", TITANIC, "--model", "knn", *QUICK)
    assert piped.exit_code == 0, piped.stderr
    doc = json.loads(piped.stdout)  # stdout holds the document and nothing else
    assert {"best", "trials", "metric", "default_score"} <= set(doc)
    assert doc["metric"] == "roc_auc" and doc["model"] == "knn" and len(doc["trials"]) == 4
    assert doc["trials"][0]["default"] and doc["best"]["score"] >= doc["default_score"]
    assert "tuning knn" in piped.stderr


def test_table_and_csv(mlcli):
    table = mlcli("tune", TITANIC, "-m", "knn", *QUICK, "--format", "table")
    assert table.exit_code == 0
    assert "mlcli tune" in table.stdout and "defaults" in table.stdout and "Best" in table.stdout
    rows = mlcli("tune", TITANIC, "-m", "knn", *QUICK, "--format", "csv", "-q").stdout.splitlines()
    assert rows[0].startswith("trial,default,state,roc_auc,roc_auc_std,folds,seconds,best,param_")
    assert len(rows) == 5 and rows[1].startswith("0,True,complete,")


def test_save_recipe_is_a_train_recipe_with_the_best_params(mlcli, tmp_path):
    recipe = tmp_path / "tuned.yaml"
    res = mlcli("tune", TITANIC, "-m", "knn", *QUICK, "--save-recipe", recipe, "--seed", "3")
    doc = json.loads(res.stdout)
    written = yaml.safe_load(recipe.read_text())
    assert written["command"] == "train" and written["model"] == "knn" and written["target"] == "Survived"
    assert written.get("params", {}) == doc["best"]["params"]
    trained = mlcli("train", "--recipe", recipe, "--out", tmp_path / "model", "-q", "--format", "json")
    assert trained.exit_code == 0, trained.stderr
    assert json.loads(trained.stdout)["model"] == "knn"


def test_run_is_recorded_in_the_history(mlcli):
    mlcli("tune", TITANIC, "-m", "knn", *QUICK, "-q")
    runs = json.loads(mlcli("runs", "list", "--format", "json").stdout)
    run = runs[0] if isinstance(runs, list) else runs["runs"][0]
    assert run["command"] == "tune" and run["status"] == "finished" and run["model"] == "knn"


@pytest.mark.parametrize("args, fragment", [
    (["-m", "nope"], "unknown model 'nope'"),
    (["-m", "baseline"], "no search space"),
    (["-m", "rf", "--trials", "0"], "--trials must be at least 1"),
    (["-m", "rf", "--time-limit", "0"], "--time-limit must be a positive"),
    (["-m", "rf", "--time-limit", "-5"], "--time-limit must be a positive"),
])
def test_bad_input_is_one_line_before_any_fit(mlcli, args, fragment):
    res = mlcli("tune", TITANIC, *args)
    assert_error(res, fragment)
    assert "tuning" not in res.stderr and "checking each column" not in res.stderr  # nothing read or fitted


def test_a_model_without_a_space_for_the_task(mlcli):
    res = mlcli("tune", SAMPLE / "houseprices.csv", "-m", "logreg", "-q")
    assert_error(res, "model 'linear' has no search space for regression")

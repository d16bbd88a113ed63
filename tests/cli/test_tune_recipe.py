"""mlcli tune --recipe: a recipe's keys are tune's long options (the command line wins); its own --save-recipe
still writes a train recipe."""

from __future__ import annotations

import json

from conftest import SAMPLE, assert_error

TITANIC = SAMPLE / "titanic.csv"


def test_a_tune_recipe_fills_what_the_command_line_leaves_unset(mlcli, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.csv").write_bytes(TITANIC.read_bytes())
    recipe = tmp_path / "tune.yaml"
    recipe.write_text("command: tune\ndata: data/t.csv\nmodel: knn\ntrials: 2\nfolds: 3\nleak_check: false\n"
                      "seed: 4\n")
    res = mlcli("tune", "--recipe", recipe, "--trials", "3", "-q")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["model"] == "knn" and len(doc["trials"]) == 3 and doc["folds"] == 3 and doc["seed"] == 4
    runs = json.loads(mlcli("runs", "list", "--format", "json").stdout)
    assert runs[0]["recipe"]["model"] == "knn" and runs[0]["recipe"]["trials"] == 3  # rerunnable


def test_tune_needs_a_model(mlcli, tmp_path):
    assert_error(mlcli("tune", TITANIC), "give the model to tune with --model NAME (or 'model:' in a recipe)")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"command: tune\ndata: {TITANIC}\nmodel: knn\ntest_size: 0.3\n")
    assert_error(mlcli("tune", "--recipe", recipe), "key 'test_size' is a train option, not a tune one")

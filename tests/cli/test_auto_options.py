"""mlcli auto's options beyond the search itself: --recipe and --save-recipe (the keys are auto's long options)."""

from __future__ import annotations

import json
import re
import tempfile

import yaml

from conftest import SAMPLE, assert_error

IRIS = SAMPLE / "iris.csv"
QUICK = ["--time-limit", "8", "--preset", "fast", "--candidates", "1", "--no-tune", "--no-leak-check"]


def _board(doc: dict) -> list[tuple[str, float]]:
    return [(r["name"], r["score"]) for r in doc["leaderboard"]]


def test_save_recipe_then_recipe_repeats_the_run(mlcli, tmp_path):
    saved = tmp_path / "auto.yaml"
    first = mlcli("auto", IRIS, *QUICK, "--seed", "7", "--save-recipe", saved, "-q")
    assert first.exit_code == 0, first.stderr
    recipe = yaml.safe_load(saved.read_text())
    assert recipe["command"] == "auto" and recipe["target"] == "species" and recipe["seed"] == 7
    assert recipe["preset"] == "fast" and recipe["candidates"] == 1
    assert recipe["tune"] is False and recipe["leak_check"] is False  # flags turned off are kept
    again = mlcli("auto", "--recipe", saved, "-q")
    assert again.exit_code == 0, again.stderr
    assert _board(json.loads(again.stdout)) == _board(json.loads(first.stdout))


def test_a_recipe_fills_what_the_command_line_leaves_unset(mlcli, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "iris.csv").write_bytes(IRIS.read_bytes())
    recipe = tmp_path / "r.yaml"
    recipe.write_text("command: auto\ndata: data/iris.csv\ntime_limit: 8\npreset: fast\ncandidates: 1\n"
                      "tune: false\nleak_check: false\nmetric: accuracy\n")
    res = mlcli("auto", "--recipe", recipe, "--metric", "balanced_accuracy", "-q")  # the command line wins
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["metric"] == "balanced_accuracy" and doc["folds"] == 3 and doc["tuning"] is None
    assert len(doc["leaderboard"]) == 3  # the baseline, one candidate, the ensemble


def test_bad_recipes_are_one_line(mlcli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"command: auto\ndata: {IRIS}\ntime_limt: 8\n")
    assert_error(mlcli("auto", "--recipe", bad), "unknown key 'time_limt' (did you mean 'time_limit'?)")
    bad.write_text(f"command: auto\ndata: {IRIS}\ngrid: {{C: [1, 2]}}\n")
    assert_error(mlcli("auto", "--recipe", bad), "key 'grid' is a cv option, not an auto one")
    bad.write_text(f"command: cv\ndata: {IRIS}\n")
    assert_error(mlcli("auto", "--recipe", bad), "is a cv recipe (command: cv); run it with: mlcli cv --recipe")
    assert_error(mlcli("auto", "--time-limit", "5"), "no data file: give it as mlcli auto DATA")


TUNED = ["--candidates", "1", "--folds", "3", "--trials", "3", "--time-limit", "120", "--jobs", "1",
         "--no-leak-check", "--seed", "3"]


def test_resume_continues_the_tuning_searches(mlcli):
    from mlcli.experiments.tune.store import load_predictions
    from mlcli.tracking.history import studies_path

    first = mlcli("auto", IRIS, *TUNED)
    assert first.exit_code == 0, first.stderr
    a = json.loads(first.stdout)
    assert a["budget"]["binding"] is False, a["budget"]  # else the runs cannot be compared
    (search,) = a["tuning"]
    assert search["trials"] == 4 and search["resumed_trials"] == 0  # trial 0 (the candidate itself) and 3 more
    again = mlcli("auto", IRIS, *TUNED, "--resume")
    assert again.exit_code == 0, again.stderr
    b = json.loads(again.stdout)
    (resumed,) = b["tuning"]
    assert resumed["study"] == search["study"] and resumed["resumed_trials"] == 4 and resumed["trials"] == 7
    assert f"{search['candidate']}: resuming the kept search, 4 trial(s) so far" in again.stderr
    tuned_a = {r["name"]: r["score"] for r in a["leaderboard"] if r["tier"] == "tuned"}
    tuned_b = {r["name"]: r["score"] for r in b["leaderboard"] if r["tier"] == "tuned"}
    assert len(tuned_a) == search["complete"] - 1 and len(tuned_b) == resumed["complete"] - 1
    assert {n: tuned_b[n] for n in tuned_a} == tuned_a  # the kept trials joined as they were scored
    assert {n.rpartition("~t")[2] for n in tuned_b} <= {"1", "2", "3", "4", "5", "6"}
    kept = load_predictions(studies_path(), resumed["study"])  # the fold predictions the ensemble needs
    assert {k.partition("_")[0] for k in kept["meta"]} == {f"t{n.rpartition('~t')[2]}" for n in tuned_b}


def test_resume_refused_when_nothing_matches(mlcli):
    assert_error(mlcli("auto", IRIS, *TUNED, "--resume"), "--resume: no search has been kept yet")
    assert mlcli("auto", IRIS, *TUNED, "-q").exit_code == 0
    res = mlcli("auto", IRIS, *TUNED[:-1], "4", "--resume")  # another seed: other folds
    assert_error(res, "--resume: no kept auto search of this data and target on these folds (seed, --folds)")
    assert "portfolio candidate" not in res.stderr  # before any fit
    assert_error(mlcli("auto", IRIS, *TUNED, "--no-tune", "--resume"), "--resume continues auto's tuning")


def test_small_data_is_not_tuned_unless_asked(mlcli):
    """The best preset tunes from 5,000 rows; iris (150) gets the portfolio and the ensemble only, with a notice;
    --tune forces tuning, and --resume without it is refused before any fit."""
    quick = ["--candidates", "1", "--folds", "3", "--time-limit", "30", "--jobs", "1", "--no-leak-check"]
    res = mlcli("auto", IRIS, *quick)
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["preset"] == "best" and doc["tuned"] is False and doc["tuning"] is None
    assert "auto: no tuning below 5,000 rows (150 here)" in res.stderr
    forced = mlcli("auto", IRIS, *quick, "--tune", "-q")
    assert forced.exit_code == 0, forced.stderr
    assert json.loads(forced.stdout)["tuned"] is True and json.loads(forced.stdout)["tuning"]
    assert_error(mlcli("auto", IRIS, *quick, "--resume"),
                 "--resume continues auto's tuning, which the best preset leaves out below 5,000 rows (150 here); "
                 "add --tune or --trials N")


def _split_iris(tmp_path):
    import pandas as pd

    df = pd.read_csv(IRIS).sample(frac=1.0, random_state=0)
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    df.iloc[:110].to_csv(train, index=False)
    df.iloc[110:].to_csv(test, index=False)
    return train, test, df


def test_test_file_scores_the_final_model_with_the_baseline_beside_it(mlcli, tmp_path, monkeypatch):
    train, test, _ = _split_iris(tmp_path)
    res = mlcli("auto", train, *QUICK, "--test", test, "--out", tmp_path / "m")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    scored = doc["test_file"]
    assert scored["rows"] == 40 and scored["metric"] == "f1_macro" and scored["data"] == str(test)
    assert scored["score"] > 0.85 and scored["baseline_score"] < 0.4  # the trivial model: one class of three
    assert scored["training_rows"]["of"] == 40 and scored["training_rows"]["count"] <= 1  # iris repeats one row
    again = json.loads(mlcli("evaluate", tmp_path / "m", test, "-f", "json").stdout)
    assert again["metrics"]["f1_macro"] == scored["score"]  # the same model, the same rows
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    table = mlcli("auto", train, *QUICK, "--test", test, "-f", "table")
    assert table.exit_code == 0, table.stderr
    text = " ".join(table.stdout.split())
    assert re.search(r"F1 \(macro\) on the test file test\.csv \(40 rows\): final model 0\.\d+ · baseline 0\.\d+", text)
    assert "the final model was scored on --test and not kept: give --out DIR to keep it" in table.stderr
    assert not list(scratch.iterdir())  # the final model fitted for the score is not left behind


def test_a_test_file_that_cannot_be_scored_is_refused_before_the_search(mlcli, tmp_path):
    train, test, df = _split_iris(tmp_path)
    df.iloc[110:].drop(columns=["species"]).to_csv(tmp_path / "unlabelled.csv", index=False)
    df.iloc[110:].drop(columns=["petal_width"]).to_csv(tmp_path / "short.csv", index=False)
    out = tmp_path / "m"
    cases = [(tmp_path / "unlabelled.csv", "--test file", "has no target column 'species'"),
             (tmp_path / "short.csv", "petal_width"),
             ("-", "--test must be a file"),
             (train, "is the training file"),
             (tmp_path / "nope.csv", "nope.csv")]
    for path, *fragments in cases:
        res = mlcli("auto", train, "--time-limit", "600", "--test", path, "--out", out, "-q")
        assert_error(res, *fragments)
        assert not out.exists()


def test_a_skewed_positive_target_is_also_tried_on_log_y(mlcli, tmp_path):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    price = np.exp(1.2 * X[:, 0] + 0.6 * X[:, 1] + rng.normal(0, 0.3, 400)) * 1000  # lognormal: skewness > 2
    path = tmp_path / "prices.csv"
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "price": price}).to_csv(path, index=False)
    args = ["--target", "price", "--time-limit", "30", "--preset", "fast", "--candidates", "8", "--no-tune",
            "--no-leak-check"]
    res = mlcli("auto", path, *args, "--out", tmp_path / "m")
    assert res.exit_code == 0, res.stderr
    board = {r["name"]: r for r in json.loads(res.stdout)["leaderboard"]}
    logs = {n: r for n, r in board.items() if n.endswith("#log")}
    assert set(logs) == {"lightgbm#log", "xgboost#log", "catboost#log"}, sorted(board)
    base = board["baseline"]["score"]
    assert all(r["status"] == "ok" and r["score"] < 0.8 * base for r in logs.values())  # RMSE in the target's units
    for name, r in logs.items():  # a lognormal target: every booster does better on log(1 + y)
        assert r["score"] < board[name.replace("#log", "#default")]["score"], name
    pred = json.loads(mlcli("predict", tmp_path / "m", path, "-f", "json").stdout)
    assert 0.5 * price.mean() < np.mean([p["prediction"] for p in pred]) < 2 * price.mean()
    given = mlcli("auto", path, *args, "--log-target")
    assert given.exit_code == 0 and not any(r["name"].endswith("#log") for r in json.loads(given.stdout)["leaderboard"])


def test_models_keeps_the_portfolio_to_the_models_named(mlcli, tmp_path):
    res = mlcli("auto", IRIS, "--time-limit", "15", "--preset", "fast", "--no-tune", "--no-leak-check",
                "--models", "rf,logreg", "--candidates", "3")
    assert res.exit_code == 0, res.stderr
    models = {r["model"] for r in json.loads(res.stdout)["leaderboard"] if r["name"] not in ("baseline", "ensemble")}
    assert models and models <= {"rf", "logreg"}
    assert_error(mlcli("auto", IRIS, "--models", "xgbost", "--time-limit", "600"),
                 "unknown --models entry 'xgbost'; choose among: logreg")
    assert_error(mlcli("auto", IRIS, "--models", "transformer", "--time-limit", "600", "--no-leak-check"),
                 "--models transformer: no portfolio candidate of these models for this multiclass data")

"""mlcli cv: folds, leaderboard, the corrected t-test, grid, --oof, --save-best, timeouts, Ctrl-C, bad input."""

from __future__ import annotations

import io
import json
import sys
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from mlcli.data.dataset import DataOptions, load_dataset
from mlcli.experiments.cv import execution, folds, leaderboard, request
from mlcli.experiments.cv import run as cvrun
from mlcli.models.registry import MODELS
from mlcli.models.spec import ModelSpec

from conftest import SAMPLE

IRIS_METRICS = {"accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro", "precision_weighted",
                "recall_weighted", "f1_weighted", "specificity_macro", "roc_auc", "pr_auc", "log_loss", "brier", "ece",
                "mcc"}


def run_json(mlcli, *args):
    res = mlcli("cv", *args, "--format", "json")
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture
def iris():
    return SAMPLE / "iris.csv"


# --------------------------------------------------------------------------------------------- leaderboard

def test_multiclass_leaderboard_sorted_by_macro_f1_with_every_metric(mlcli, iris):
    doc = run_json(mlcli, iris, "--models", "logreg,tree", "--folds", "5")
    assert doc["task"] == "multiclass" and doc["metric"] == "f1_macro" and doc["higher_is_better"]
    board = doc["leaderboard"]
    assert [r["model"] for r in board] == sorted([r["model"] for r in board],
                                                 key=lambda m: -next(r["score"] for r in board if r["model"] == m))
    assert [r["rank"] for r in board] == [1, 2, 3]
    assert [r["best"] for r in board] == [True, False, False] and doc["best"] == board[0]["name"]
    baseline = board.pop()  # every leaderboard ends with the trivial model, far behind on iris
    assert baseline["model"] == "baseline" and baseline["mean"]["f1_macro"] < 0.3
    assert baseline["vs_best"]["within_noise"] is False
    for r in board:
        assert set(r["mean"]) == IRIS_METRICS and set(r["std"]) == IRIS_METRICS
        assert 0.85 < r["mean"]["f1_macro"] <= 1.0 and 0 <= r["std"]["f1_macro"] < 0.15
        assert r["folds"] == 5 and len(r["fold_scores"]) == 5
        assert r["fit_s"] >= 0 and r["predict_s"] >= 0
    assert board[0]["vs_best"] is None
    vs = board[1]["vs_best"]
    assert 0.0 <= vs["p"] <= 1.0 and isinstance(vs["within_noise"], bool) and vs["diff"] <= 0


def test_binary_default_metric_is_roc_auc(mlcli, titanic):
    doc = run_json(mlcli, titanic, "--models", "logreg", "--drop", "Name", "--folds", "3")
    assert doc["metric"] == "roc_auc" and doc["task"] == "binary"
    assert 0.78 < doc["leaderboard"][0]["score"] < 0.92


def test_regression_sorted_by_rmse_lower_first(mlcli, small_regression):
    doc = run_json(mlcli, small_regression, "--models", "tree,logreg", "--folds", "4")
    assert doc["metric"] == "rmse" and doc["higher_is_better"] is False and doc["stratified"] is False
    board = doc["leaderboard"]
    assert board[0]["model"] == "linear" and board[0]["score"] < board[1]["score"]  # logreg's regressor: OLS
    assert board[0]["mean"]["r2"] > 0.9
    assert board[-1]["model"] == "baseline" and abs(board[-1]["mean"]["r2"]) < 0.2  # the training mean
    assert set(board[0]["mean"]) == {"rmse", "mae", "r2", "mape"}


def test_metric_option_and_alias(mlcli, small_binary):
    doc = run_json(mlcli, small_binary, "--models", "logreg,tree", "--metric", "accuracy")
    assert doc["metric"] == "accuracy"
    scores = [r["score"] for r in doc["leaderboard"]]
    assert scores == sorted(scores, reverse=True)
    assert run_json(mlcli, small_binary, "--models", "tree", "--metric", "auc")["metric"] == "roc_auc"


def test_same_folds_for_every_model_and_reproducible_with_sklearn(mlcli, small_binary, tmp_path):
    from sklearn.model_selection import StratifiedKFold

    oof = tmp_path / "oof.csv"
    run_json(mlcli, small_binary, "--models", "logreg,tree,knn", "--folds", "4", "--repeats", "2", "--oof", oof,
             "--seed", "7")
    frame = pd.read_csv(oof)
    assert {"row", "repeat", "fold", "model", "y_true", "y_pred", "proba_no", "proba_yes"} <= set(frame.columns)
    n = len(pd.read_csv(small_binary))
    folds = {}
    for model, part in frame.groupby("model"):
        assert len(part) == 2 * n  # every row predicted once per repeat
        assert part.groupby("repeat")["row"].nunique().tolist() == [n, n]
        folds[model] = part.sort_values(["repeat", "row"])["fold"].tolist()
    assert folds["logreg"] == folds["tree"] == folds["knn"]
    y = pd.read_csv(small_binary)["label"]
    first = frame[(frame.model == "logreg") & (frame.repeat == 1)].sort_values("row")
    for f, (_, test) in enumerate(StratifiedKFold(4, shuffle=True, random_state=7).split(np.zeros(n), y), 1):
        assert sorted(first[first.fold == f]["row"]) == sorted(test)
    assert np.allclose(first[["proba_no", "proba_yes"]].sum(axis=1), 1.0)


def test_every_learned_step_is_fitted_inside_the_fold(small_binary, monkeypatch):
    """The preprocessing never sees a fold's held-out rows: each fit leaves exactly one fold out."""
    seen: list[set[int]] = []  # the training rows of every fit (logreg's and the baseline's)
    real_build = execution.build_pipeline

    def spying_build(schema, config):
        pipe = real_build(schema, config)
        pre = pipe.steps[0][1]
        real_fit_transform = pre.fit_transform

        def fit_transform(X, y=None, **kw):
            seen.append(set(X.index))
            return real_fit_transform(X, y, **kw)

        pre.fit_transform = fit_transform
        return pipe

    monkeypatch.setattr(execution, "build_pipeline", spying_build)
    req = request.CVRequest(DataOptions(str(small_binary)), models=["logreg"], folds=5, jobs=1)
    result = cvrun.run_cv(req)
    n = result.n_rows
    assert len(seen) == 10  # logreg and the baseline, 5 folds each
    held_out = [set(range(n)) - s for s in seen]
    assert all(0.15 * n < len(h) < 0.25 * n for h in held_out)
    assert sorted(i for h in held_out for i in h) == sorted(list(range(n)) * 2)  # held out once per model


def test_grouped_folds_keep_groups_together_and_drop_the_column(mlcli, tmp_path, small_binary):
    df = pd.read_csv(small_binary)
    df["patient"] = [f"p{i // 4}" for i in range(len(df))]
    path = tmp_path / "grouped.csv"
    df.to_csv(path, index=False)
    oof = tmp_path / "oof.csv"
    doc = run_json(mlcli, path, "--models", "logreg", "--groups", "patient", "--folds", "5", "--oof", oof)
    assert doc["groups"] == "patient"
    roles = {c["name"]: c["role"] for c in doc["columns"]}
    assert roles["patient"] == "dropped"
    frame = pd.read_csv(oof)
    frame["patient"] = df["patient"].to_numpy()[frame["row"]]
    assert (frame.groupby("patient")["fold"].nunique() == 1).all()


def test_csv_and_table_formats(mlcli, small_binary):
    res = mlcli("cv", small_binary, "--models", "logreg,tree", "--format", "csv")
    assert res.exit_code == 0
    frame = pd.read_csv(io.StringIO(res.stdout))
    assert {"rank", "name", "score", "roc_auc_mean", "roc_auc_std", "p_vs_best", "within_noise", "fit_s"} <= set(
        frame.columns)
    assert frame["rank"].tolist() == [1, 2, 3] and frame["best"].tolist() == [True, False, False]
    assert frame["name"].tolist()[-1] == "baseline"
    res = mlcli("cv", small_binary, "--models", "logreg,tree", "--format", "table")
    assert res.exit_code == 0
    assert "Leaderboard" in res.stdout and "★ best" in res.stdout and "Nadeau" in res.stdout
    assert "mlcli:" not in res.stdout  # notices go to stderr
    assert "columns:" in res.stderr


def test_piped_output_defaults_to_json(mlcli, small_binary):
    res = mlcli("cv", small_binary, "--models", "tree")
    assert res.exit_code == 0
    assert json.loads(res.stdout)["leaderboard"][0]["model"] == "tree"


def test_model_sets_come_from_the_registry():
    fast_reg = request.expand_models(["fast"], "regression")
    assert fast_reg == [s.display_name("regression") for s in MODELS.values()
                        if s.fast and s.regressor and s.installed()]
    assert "nb-gaussian" not in fast_reg and "linear" in fast_reg and "logreg" not in fast_reg
    every = request.expand_models(["all"], "binary")
    assert every == [s.name for s in MODELS.values()
                     if s.classifier and s.installed() and not s.text_only and not s.baseline]
    assert "transformer" not in every  # fine-tuning in every fold: only when named
    assert request.expand_models(["xgb", "xgboost", "lr"], "binary") == ["xgboost", "logreg"]


# --------------------------------------------------------------------------------------------- the test

def test_corrected_ttest_matches_the_formula_and_is_more_cautious_than_the_plain_one():
    from scipy import stats

    rng = np.random.default_rng(0)
    a = 0.80 + rng.normal(scale=0.02, size=10)
    b = a - 0.01 + rng.normal(scale=0.01, size=10)
    t, p = leaderboard.corrected_ttest(a, b, 0.25)
    d = a - b
    expected_t = d.mean() / np.sqrt((1 / 10 + 0.25) * d.var(ddof=1))
    assert t == pytest.approx(expected_t)
    assert p == pytest.approx(2 * stats.t.sf(abs(expected_t), 9))
    assert p > stats.ttest_rel(a, b).pvalue
    assert leaderboard.corrected_ttest(a, a, 0.25) == (0.0, 1.0)
    assert leaderboard.corrected_ttest(a, a - 0.01, 0.25)[1] == 0.0
    assert leaderboard.corrected_ttest([0.5], [0.4], 0.25) is None


def test_clearly_worse_model_is_flagged_and_close_one_is_within_noise(mlcli, iris):
    doc = run_json(mlcli, iris, "--model", "tree", "--grid", "max_depth=1,3,4", "--repeats", "2")
    assert doc["splits"] == 10
    rows = {r["params"]["max_depth"]: r for r in doc["leaderboard"] if r["model"] != "baseline"}
    assert rows[3]["best"]
    assert rows[4]["vs_best"]["within_noise"] is True and rows[4]["vs_best"]["pairs"] == 10
    assert rows[1]["vs_best"]["within_noise"] is False and rows[1]["vs_best"]["p"] < 0.01
    from rich.console import Console

    from mlcli.render.cv import render_cv

    buf = io.StringIO()
    render_cv(Console(file=buf, width=120), doc)
    assert "≈ p=0.8" in buf.getvalue() and "✗ p<0.001" in buf.getvalue() and "★ best" in buf.getvalue()


# --------------------------------------------------------------------------------------------- grid

def test_grid_shows_train_and_test_scores(mlcli, iris):
    doc = run_json(mlcli, iris, "--model", "knn", "--grid", "n_neighbors=1,15")
    assert doc["grid"] == {"n_neighbors": [1, 15]}
    rows = {r["params"]["n_neighbors"]: r for r in doc["leaderboard"] if r["model"] != "baseline"}
    assert set(rows) == {1, 15}
    assert rows[1]["train_mean"]["f1_macro"] == 1.0  # 1-NN memorises its training rows
    assert rows[1]["mean"]["f1_macro"] < 1.0
    assert rows[1]["name"] == "knn n_neighbors=1"
    res = mlcli("cv", iris, "--model", "tree", "--grid", "max_depth=1,3", "--grid", "min_samples_leaf=1,5",
                "--format", "table")
    assert res.exit_code == 0
    assert "Grid: train vs test" in res.stdout
    assert res.stdout.count("tree max_depth=") >= 4


@pytest.mark.parametrize("grid, message", [
    ("n_neighbors=3,five", "--grid n_neighbors mixes number and text values ('five')"),
    ("n_neighbors", "--grid expects key=v1,v2,..., got 'n_neighbors'"),
    ("n_neighbors=3,,5", "--grid n_neighbors has an empty value"),
    ("n_neigbors=3,5", "unknown parameter 'n_neigbors' for model 'knn' (did you mean 'n_neighbors'?)"),
    ("weights=uniform,closest", "The 'weights' parameter of KNeighborsClassifier must be"),
])
def test_bad_grid_values(mlcli, iris, grid, message):
    res = mlcli("cv", iris, "--model", "knn", "--grid", grid)
    assert res.exit_code == 2
    assert message in res.stderr
    assert res.stderr.count("\n") == 1 + res.stderr.count("mlcli: columns") + res.stderr.count("mlcli: target")
    assert res.stdout == ""


def test_grid_value_of_wrong_type_for_a_numeric_parameter(mlcli, iris):
    res = mlcli("cv", iris, "--model", "xgboost", "--grid", "max_depth=deep,deeper")
    assert res.exit_code == 2
    assert "the 'max_depth' parameter of model 'xgboost' must be a number, got 'deep'" in res.stderr


# --------------------------------------------------------------------------------------------- bad input

def test_unknown_model_fails_before_reading_data(mlcli, tmp_path):
    res = mlcli("cv", tmp_path / "does-not-exist.csv", "--models", "logreg,xgbost")
    assert res.exit_code == 2
    assert "unknown model 'xgbost' (did you mean 'xgboost'?)" in res.stderr
    assert "valid models: logreg" in res.stderr and "or a set: fast, all" in res.stderr
    assert res.stdout == "" and len(res.stderr.strip().splitlines()) == 1


def test_more_folds_than_the_smallest_class(mlcli, tmp_path):
    df = pd.DataFrame({"x": np.random.default_rng(0).normal(size=40), "y": ["a"] * 37 + ["b"] * 3})
    path = tmp_path / "rare.csv"
    df.to_csv(path, index=False)
    res = mlcli("cv", path, "--models", "logreg", "--folds", "5", "--quiet")
    assert res.exit_code == 2
    assert res.stderr.strip() == ("mlcli: error: --folds 5 is more than the 3 row(s) of the smallest class ('b'); "
                                  "use --folds 3 or fewer")


def test_the_default_fold_count_gives_way_to_a_small_class(mlcli, tmp_path):
    """No --folds: 5 folds, or as many as the smallest class has rows (the gauntlet's zoo: 3 amphibians); cv and
    auto say so and go on. A class of one row still stops them: it cannot be in a training and a test fold."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=40), "y": ["a"] * 37 + ["b"] * 3})
    df.to_csv(tmp_path / "rare.csv", index=False)
    res = mlcli("cv", tmp_path / "rare.csv", "--models", "logreg", "-f", "json")
    assert res.exit_code == 0, res.stderr
    assert "5 folds need 5 rows of every class and 'b' has 3: 3 folds instead (--folds to choose)" in res.stderr
    doc = json.loads(res.stdout)
    assert doc["folds"] == 3 and doc["splits"] == 3
    res = mlcli("auto", tmp_path / "rare.csv", "--time-limit", "20", "--preset", "fast", "--candidates", "1",
                "--no-leak-check", "--out", tmp_path / "m", "-f", "json")
    assert res.exit_code == 0, res.stderr
    assert "5 folds need" not in res.stderr and "3 folds instead" not in res.stderr  # the fast preset: 3 folds
    res = mlcli("auto", tmp_path / "rare.csv", "--time-limit", "20", "--preset", "best", "--candidates", "1",
                "--no-leak-check", "--out", tmp_path / "m2", "-f", "json")
    assert res.exit_code == 0 and "5 folds need 5 rows of every class and 'b' has 3: 3 folds instead" in res.stderr
    pd.concat([df, pd.DataFrame({"x": [0.0], "y": ["c"]})]).to_csv(tmp_path / "single.csv", index=False)
    res = mlcli("cv", tmp_path / "single.csv", "--models", "logreg", "--target", "y", "-q")
    assert res.exit_code == 2 and res.stderr.strip() == (
        "mlcli: error: --folds 5 is more than the 1 row(s) of the smallest class ('c'); remove or merge that class")


def test_more_folds_than_groups(mlcli, tmp_path, small_binary):
    df = pd.read_csv(small_binary)
    df["site"] = np.where(np.arange(len(df)) % 2, "s1", "s2")
    path = tmp_path / "sites.csv"
    df.to_csv(path, index=False)
    res = mlcli("cv", path, "--models", "logreg", "--groups", "site", "-q")
    assert res.exit_code == 2
    assert "more than the 2 distinct values of the --groups column 'site'; use --folds 2 or fewer" in res.stderr
    res = mlcli("cv", path, "--models", "logreg", "--groups", "sight", "-q")
    assert res.exit_code == 2 and "--groups column 'sight' not found (did you mean 'site'?)" in res.stderr


@pytest.mark.parametrize("args, message", [
    (["--metric", "rmse"], "--metric 'rmse' is not reported for binary tasks; choose one of: accuracy"),
    (["--metric", "acuracy"], "(did you mean 'accuracy'?)"),
    (["--models", "nb-gaussian", "--task", "regression"], "model 'nb-gaussian' does not do regression"),
    (["--jobs", "0"], "--jobs must be at least 1 (or -1 for every core), got 0"),
    (["--timeout", "0"], "--timeout must be a positive number of seconds, got 0"),
    (["--folds", "1"], "--folds"),
    (["--param", "max_depth=2", "--grid", "max_depth=1,2", "--models", "tree"], "given both with --param and --grid"),
])
def test_bad_options(mlcli, small_binary, small_regression, args, message):
    data = small_regression if "regression" in args else small_binary
    res = mlcli("cv", data, *(args if "--models" in args else ["--models", "logreg", *args]), "-q")
    assert res.exit_code == 2
    assert message in res.stderr
    assert res.stdout == ""


def test_unreachable_scheduler_is_one_line_within_seconds(mlcli, small_binary, tmp_path):
    t = time.perf_counter()  # checked before the data is read (this file does not exist)
    res = mlcli("cv", tmp_path / "big.csv", "--models", "logreg", "--scheduler", "tcp://127.0.0.1:1", "-q")
    assert time.perf_counter() - t < 10
    assert res.exit_code == 2
    assert res.stderr.startswith("mlcli: error: cannot reach the Dask scheduler at tcp://127.0.0.1:1")
    assert len(res.stderr.strip().splitlines()) == 1
    res = mlcli("cv", small_binary, "--models", "logreg", "--scheduler", "nonsense", "-q")
    assert res.exit_code == 2
    assert "--scheduler 'nonsense' is not a scheduler address like tcp://host:8786" in res.stderr


def test_save_best_path_checked_before_fitting(mlcli, small_binary, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    res = mlcli("cv", small_binary, "--models", "logreg", "--save-best", tmp_path / "taken", "-q")
    assert res.exit_code == 2 and "--save-best" in res.stderr and "refusing to overwrite" in res.stderr
    res = mlcli("cv", small_binary, "--models", "logreg", "--oof", tmp_path / "nodir" / "oof.csv", "-q")
    assert res.exit_code == 2 and "--oof" in res.stderr and "does not exist" in res.stderr


# --------------------------------------------------------------------------------------------- save-best

def test_save_best_writes_a_bundle_predict_and_evaluate_accept(mlcli, small_binary, tmp_path):
    from mlcli.models.bundle import load_bundle

    out = tmp_path / "best"
    doc = run_json(mlcli, small_binary, "--models", "tree,logreg", "--save-best", out)
    assert doc["saved"] == str(out)
    bundle = load_bundle(out)
    assert bundle.meta["model"] == doc["leaderboard"][0]["model"] == "logreg"
    assert bundle.meta["classes"] == ["no", "yes"] and bundle.meta["task"] == "binary"
    assert bundle.meta["metrics"]["roc_auc"] == doc["leaderboard"][0]["score"]
    assert bundle.meta["data"]["train_rows"] == 200 and bundle.meta["cv"]["folds"] == 5
    assert {"schema", "libraries", "seed", "threshold", "params", "preprocess"} <= set(bundle.meta)
    res = mlcli("predict", out, small_binary, "--format", "csv")
    assert res.exit_code == 0 and len(pd.read_csv(io.StringIO(res.stdout))) == 200
    res = mlcli("evaluate", out, small_binary, "--format", "json")
    assert res.exit_code == 0 and json.loads(res.stdout)["metrics"]["accuracy"] > 0.7


def test_save_best_keeps_the_grid_point(mlcli, iris, tmp_path):
    from mlcli.models.bundle import load_bundle

    doc = run_json(mlcli, iris, "--model", "knn", "--grid", "n_neighbors=5,60", "--save-best", tmp_path / "b")
    assert doc["leaderboard"][0]["params"] == {"n_neighbors": 5}
    assert load_bundle(tmp_path / "b").meta["params"] == {"n_neighbors": 5}


# --------------------------------------------------------------------------------------------- control

class SlowClassifier(ClassifierMixin, BaseEstimator):
    """Test double: a classifier whose fit sleeps."""

    def __init__(self, seconds: float = 8.0):
        self.seconds = seconds

    def fit(self, X, y):
        time.sleep(self.seconds)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(X.shape[0], self.classes_[0])


class FailingClassifier(SlowClassifier):
    def fit(self, X, y):
        raise ValueError("this model always fails\nsecond line")


@pytest.fixture
def test_models(monkeypatch):
    here = sys.modules[__name__].__name__
    monkeypatch.setitem(MODELS, "sleepy", ModelSpec("sleepy", "sleeps", classifier=f"{here}:SlowClassifier",
                                                    seed_param=None, class_weight=None))
    monkeypatch.setitem(MODELS, "failing", ModelSpec("failing", "fails", classifier=f"{here}:FailingClassifier",
                                                     seed_param=None, class_weight=None))


def test_timeout_stops_a_slow_model_and_the_rest_go_on(mlcli, small_binary, test_models):
    t = time.perf_counter()
    doc = run_json(mlcli, small_binary, "--models", "sleepy,logreg", "--timeout", "2", "-q")
    assert time.perf_counter() - t < 7  # the 8 s fit was cut short, and its other folds never started
    rows = {r["model"]: r for r in doc["leaderboard"]}
    assert rows["sleepy"]["status"] == "timeout" and rows["sleepy"]["rank"] is None
    assert rows["sleepy"]["score"] is None and rows["sleepy"]["folds"] == 0
    assert rows["logreg"]["status"] == "ok" and rows["logreg"]["best"] and rows["logreg"]["folds"] == 5
    assert doc["leaderboard"][-1]["model"] == "sleepy"


def test_timeout_is_reported_in_the_table(mlcli, small_binary, test_models):
    res = mlcli("cv", small_binary, "--models", "logreg,sleepy", "--timeout", "0.3", "--format", "table")
    assert res.exit_code == 0
    assert "timed out" in res.stdout
    assert "sleepy: timed out after" in res.stderr


def test_only_timed_out_models_still_render(mlcli, small_binary, test_models):
    res = mlcli("cv", small_binary, "--models", "sleepy", "--timeout", "0.2", "--format", "table")
    assert res.exit_code == 0
    assert "timed out" in res.stdout and "sleepy" in res.stdout
    assert "baseline" in res.stdout  # the trivial model still ranks: the only row with a score
    res = mlcli("cv", small_binary, "--models", "sleepy", "--timeout", "0.2", "--save-best", "b", "-q")
    assert res.exit_code == 2 and "no model finished its folds" in res.stderr


def test_failing_model_is_reported_and_the_rest_go_on(mlcli, small_binary, test_models):
    res = mlcli("cv", small_binary, "--models", "failing,logreg", "--format", "json")
    assert res.exit_code == 0
    rows = {r["model"]: r for r in json.loads(res.stdout)["leaderboard"]}
    assert rows["failing"]["status"] == "failed"
    assert rows["failing"]["error"] == "ValueError: this model always fails"
    assert rows["logreg"]["best"]
    assert "failing: ValueError: this model always fails" in res.stderr
    res = mlcli("cv", small_binary, "--models", "failing", "-q")
    assert res.exit_code == 2
    assert res.stderr.strip() == "mlcli: error: every model failed; failing: ValueError: this model always fails"


def test_ctrl_c_prints_the_partial_leaderboard_and_exits_130(mlcli, small_binary, monkeypatch):
    real = execution.run_fold
    calls = []

    def interrupting(*args, **kwargs):
        calls.append(1)
        if len(calls) == 7:  # fold-major: logreg, tree and the baseline have done 2 folds each
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(execution, "run_fold", interrupting)
    res = mlcli("cv", small_binary, "--models", "logreg,tree", "--format", "json")
    assert res.exit_code == 130
    doc = json.loads(res.stdout)
    assert doc["interrupted"] is True and doc["fits"] == {"total": 15, "done": 6}
    rows = {r["model"]: r for r in doc["leaderboard"]}
    # folds run model by model, fold by fold
    assert rows["logreg"]["folds"] == rows["tree"]["folds"] == rows["baseline"]["folds"] == 2
    assert rows["logreg"]["status"] == "interrupted" and rows["logreg"]["score"] is not None
    assert "interrupted: partial leaderboard from 6 of 15 fits" in res.stderr


def test_interrupted_run_saves_no_bundle(mlcli, small_binary, monkeypatch, tmp_path):
    def interrupting(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cvrun, "save_best", interrupting)  # Ctrl-C during the refit on all rows
    res = mlcli("cv", small_binary, "--models", "logreg", "--save-best", tmp_path / "b", "-q", "--format", "json")
    assert res.exit_code == 130
    doc = json.loads(res.stdout)
    assert doc["leaderboard"][0]["status"] == "ok" and doc["saved"] is None and doc["interrupted"]
    monkeypatch.setattr(execution, "run_fold", interrupting)
    res = mlcli("cv", small_binary, "--models", "logreg", "--save-best", tmp_path / "b", "-q")
    assert res.exit_code == 130
    assert not (tmp_path / "b").exists()


# --------------------------------------------------------------------------------------------- parallel plan

@pytest.mark.parametrize("cores, jobs, threads, expected", [
    (8, None, None, (1, 8)),
    (8, 2, None, (2, 4)),
    (8, 3, None, (3, 2)),
    (8, -1, None, (8, 1)),
    (8, 16, None, (8, 1)),
    (8, 2, 8, (2, 4)),
    (8, 2, 2, (2, 2)),
    (2, 2, None, (2, 1)),
])
def test_jobs_times_threads_never_exceeds_the_cores(monkeypatch, cores, jobs, threads, expected):
    import joblib

    monkeypatch.delenv("MLCLI_THREADS")  # the conftest's 1 would cap the default threads (test_cv_threads.py)
    monkeypatch.setattr(joblib, "cpu_count", lambda *a, **k: cores)
    notes = []
    got = execution.plan_parallel(jobs, threads, None, notes.append)
    assert got == expected
    assert got[0] * got[1] <= cores
    assert bool(notes) == (jobs == 16 or threads == 8)


def test_each_model_gets_the_planned_threads(small_binary, monkeypatch):
    import joblib

    monkeypatch.setattr(joblib, "cpu_count", lambda *a, **k: 4)
    seen = []
    real = execution.build_pipeline

    def spying_build(schema, config):
        seen.append(config.n_threads)
        return real(schema, config)

    monkeypatch.setattr(execution, "build_pipeline", spying_build)  # the fold fits
    monkeypatch.setattr(cvrun, "build_pipeline", spying_build)  # the checks before them
    monkeypatch.setattr(cvrun, "plan_parallel", lambda j, t, s, n: (1, 2))  # sequential run, 2 threads a model
    result = cvrun.run_cv(request.CVRequest(DataOptions(str(small_binary)), models=["rf"], folds=2))
    assert set(seen) == {2} and result.threads == 2
    assert seen and result.rows[0].status == "ok"


def test_parallel_jobs_give_the_sequential_results(mlcli, small_binary):
    a = run_json(mlcli, small_binary, "--models", "logreg,tree", "--folds", "3", "--jobs", "1", "--threads", "1")
    b = run_json(mlcli, small_binary, "--models", "logreg,tree", "--folds", "3", "--jobs", "2")
    assert [(r["name"], r["mean"], r["fold_scores"]) for r in a["leaderboard"]] == \
        [(r["name"], r["mean"], r["fold_scores"]) for r in b["leaderboard"]]
    assert b["parallel"]["jobs"] == 2


# --------------------------------------------------------------------------------------------- render

def test_progress_bar_counts_models_times_folds_on_a_terminal():
    from rich.console import Console

    from mlcli.render.cv import FoldProgress

    buf = io.StringIO()
    with FoldProgress(Console(file=buf, force_terminal=True, width=120)) as progress:
        progress(0, 10, "")
        progress(4, 10, "logreg · fold 2")
    assert "models × folds" in buf.getvalue() and "4/10" in buf.getvalue()
    quiet = io.StringIO()
    with FoldProgress(Console(file=quiet, force_terminal=False)) as progress:
        progress(1, 10, "x")
    assert quiet.getvalue() == ""


def test_group_values_unit(small_binary):
    ds = load_dataset(DataOptions(str(small_binary)))
    ds2, groups = folds.group_values(ds, "color")
    assert "color" not in ds2.X.columns and len(groups) == len(ds.X)

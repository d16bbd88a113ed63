"""Early stopping of the boosters and the dense matrix for tree ensembles (issue 14).

Data: GENERATED (a noisy linear signal over numeric and categorical columns), large enough that early
stopping carves its validation slice (at least MIN_ROWS training rows).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlcli.data.schema import ColumnInfo, Schema, prepare_frame
from mlcli.errors import ConfigError
from mlcli.evaluation.scoring import predict_indices
from mlcli.models import early_stopping as ES
from mlcli.models.build import ModelConfig, build_pipeline
from mlcli.models.registry import MODELS
from mlcli.models.steps import DenseIfSmall, final_model

from conftest import cli

N = 1600


def _frame(task: str, n: int = N, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "noise": rng.normal(size=n),
                      "c": rng.choice(["p", "q", "r"], size=n)})
    signal = X["a"] - 0.5 * X["b"] + (X["c"] == "q") + rng.normal(scale=0.8, size=n)
    if task == "binary":
        y = (signal > 0.3).astype(int).to_numpy()
    elif task == "multiclass":
        y = np.digitize(signal, [-0.5, 0.8])
    else:
        y = signal.to_numpy()
    return X, y


def _schema(task: str) -> Schema:
    cols = [ColumnInfo("a", "float64", "numeric"), ColumnInfo("b", "float64", "numeric"),
            ColumnInfo("noise", "float64", "numeric"), ColumnInfo("c", "object", "categorical")]
    return Schema("y", task, cols)


def _fit(model: str, task: str, **params):
    X, y = _frame(task)
    schema = _schema(task)
    Xp = prepare_frame(X, schema)
    pipe = build_pipeline(schema, ModelConfig(model, params=params, seed=3, n_threads=1))
    pipe.fit(Xp, y)
    return pipe, Xp, y


BOOSTERS = [m for m in ("xgboost", "lightgbm", "catboost") if MODELS[m].installed()]
TASKS = ("binary", "multiclass", "regression")


@pytest.mark.parametrize("model", BOOSTERS)
@pytest.mark.parametrize("task", TASKS)
def test_boosters_stop_early_on_a_slice_of_the_training_rows(model, task):
    pipe, Xp, y = _fit(model, task)
    stop = ES.stopping_of(pipe.steps[-1][1])
    assert stop is not None and stop["stopped"]
    assert stop["validation_rows"] == round(N * ES.FRACTION)
    assert 1 <= stop["iterations"] < stop["budget"] == ES.BUDGET  # a noisy signal stops well before 2000
    # the library model holds no more trees than the rounds kept: predictions use exactly those
    pred, _ = predict_indices(pipe, Xp, task)
    assert len(pred) == N


def test_xgboost_keeps_only_the_trees_up_to_the_best_round():
    pipe, Xp, _ = _fit("xgboost", "binary")
    model = final_model(pipe)
    stop = ES.stopping_of(pipe.steps[-1][1])
    assert model.get_booster().num_boosted_rounds() == stop["iterations"]
    Xt = pipe[:-1].transform(Xp)
    import xgboost as xgb

    contribs = model.get_booster().predict(xgb.DMatrix(Xt), pred_contribs=True)
    margin = model.predict(Xt, output_margin=True)
    assert np.allclose(contribs.sum(axis=1), margin, atol=1e-4)  # SHAP adds up to what the model predicts


@pytest.mark.parametrize("model", BOOSTERS)
def test_off_switches(model):
    key = ES.ROUTES[model].iterations
    pipe, _, _ = _fit(model, "binary", early_stopping="false")
    assert ES.stopping_of(pipe.steps[-1][1]) is None
    assert final_model(pipe).get_params()[key] == MODELS[model].defaults[key]  # the usual count
    pipe, _, _ = _fit(model, "binary", early_stopping_rounds=0)
    assert ES.stopping_of(pipe.steps[-1][1]) is None
    pipe, _, _ = _fit(model, "binary", **{key: 40})  # the user's count is the budget
    stop = ES.stopping_of(pipe.steps[-1][1])
    assert stop["budget"] == 40 and stop["iterations"] <= 40


@pytest.mark.parametrize("params, message", [
    ({"early_stopping": "maybe"}, "early_stopping must be true or false"),
    ({"early_stopping_rounds": -3}, "early_stopping_rounds must be a whole number"),
    ({"validation_fraction": 0.9}, "validation_fraction must be between 0 and 0.5"),
])
def test_bad_early_stopping_values_are_one_line_errors(params, message):
    with pytest.raises(ConfigError, match=message) as err:
        build_pipeline(_schema("binary"), ModelConfig("xgboost", params=params))
    assert "\n" not in str(err.value)


def test_few_rows_choose_the_rounds_on_inner_folds():
    """Below 1,000 rows no slice is set aside: each of 3 inner folds stops early on its held-out third, and
    the model is refitted on every row with the mean of those counts (not the usual fixed 300)."""
    X, y = _frame("binary", n=300)
    schema = _schema("binary")
    pipe = build_pipeline(schema, ModelConfig("xgboost", seed=1, n_threads=1))
    pipe.fit(prepare_frame(X, schema), y)
    stop = ES.stopping_of(pipe.steps[-1][1])
    assert stop["inner_folds"] == 3 and stop["validation_rows"] == 0 and stop["stopped"]
    assert 1 <= stop["iterations"] < 300
    assert "the mean of where 3 inner folds" in ES.stopping_line(stop)


def test_too_few_rows_for_inner_folds_fit_the_usual_count():
    X, y = _frame("binary", n=40)
    schema = _schema("binary")
    pipe = build_pipeline(schema, ModelConfig("xgboost", seed=1, n_threads=1))
    pipe.fit(prepare_frame(X, schema), y)
    stop = ES.stopping_of(pipe.steps[-1][1])
    assert stop == {"iterations": 300, "budget": ES.BUDGET, "patience": ES.PATIENCE, "validation_rows": 0,
                    "inner_folds": 0, "stopped": False, "small_data": ES.SMALL_DATA["xgboost"]}
    assert "fewer than 60 or a class of fewer than 3" in ES.stopping_line(stop)


@pytest.mark.parametrize("model", BOOSTERS)
def test_few_rows_fit_the_users_count(model):
    X, y = _frame("binary", n=300)
    schema = _schema("binary")
    key = ES.ROUTES[model].iterations
    pipe = build_pipeline(schema, ModelConfig(model, {key: 40}, seed=1, n_threads=1))
    pipe.fit(prepare_frame(X, schema), y)
    assert ES.stopping_of(pipe.steps[-1][1])["iterations"] == 40


def test_histogram_boosting_uses_its_own_early_stopping():
    pipe, _, _ = _fit("hgb", "binary")
    model = final_model(pipe)
    assert model.early_stopping is True and model.max_iter == ES.BUDGET
    stop = ES.stopping_of(model)
    assert stop["stopped"] and stop["iterations"] == model.n_iter_ < ES.BUDGET
    pipe, _, _ = _fit("hgb", "binary", early_stopping="false")
    assert final_model(pipe).early_stopping is False


def test_class_weights_and_early_stopping_together():
    X, y = _frame("binary")
    schema = _schema("binary")
    pipe = build_pipeline(schema, ModelConfig("xgboost", seed=1, n_threads=1, class_weight="balanced"))
    pipe.fit(prepare_frame(X, schema), y)
    assert ES.stopping_of(pipe.steps[-1][1])["stopped"]
    assert type(final_model(pipe)).__name__ == "XGBClassifier"


def test_resampling_pipelines_keep_the_usual_count():
    X, y = _frame("binary")
    schema = _schema("binary")
    pipe = build_pipeline(schema, ModelConfig("lightgbm", seed=1, n_threads=1, balance="oversample"))
    pipe.fit(prepare_frame(X, schema), y)
    assert ES.stopping_of(pipe.steps[-1][1]) is None
    assert final_model(pipe).n_estimators == MODELS["lightgbm"].defaults["n_estimators"]


def test_the_validation_slice_never_holds_a_test_fold_row(monkeypatch):
    """cv: every row early stopping validates on belongs to the training rows of the fold being fitted."""
    from mlcli.data.dataset import Dataset
    from mlcli.experiments.cv.execution import run_fold
    from mlcli.experiments.cv.folds import make_splits

    X, y = _frame("binary", n=2000)
    X["a"] = np.arange(len(X), dtype=float)  # a row id that passes through the numeric branch unchanged
    schema = _schema("binary")
    Xp = prepare_frame(X, schema)
    seen: list[np.ndarray] = []
    original = ES._FIT["xgboost"]

    def spy(est, X, y, weight, a, v, rounds, params):
        seen.append(np.asarray(X[v][:, 0]).ravel().astype(int))
        assert not set(a) & set(v)
        original(est, X, y, weight, a, v, rounds, params)

    monkeypatch.setitem(ES._FIT, "xgboost", spy)
    splits = make_splits(y, "binary", [0, 1], 5, 1, 0)
    config = ModelConfig("xgboost", seed=0, n_threads=1)
    assert isinstance(Xp, pd.DataFrame) and Dataset  # the fold fit takes the prepared frame
    for si, split in enumerate(splits):
        res = run_fold(0, si, schema, config, Xp, y, split.train, split.test, [0, 1], False, False, None)
        assert res.status == "ok", res.error
        ids = seen[-1]
        assert len(ids) == round(len(split.train) * ES.FRACTION)
        assert set(ids) <= set(split.train) and not set(ids) & set(split.test)


def test_dense_if_small():
    from scipy import sparse

    X = sparse.random(100, 20, density=0.1, format="csr", random_state=0)
    out = DenseIfSmall().fit(X).transform(X)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and np.allclose(out, X.toarray())
    assert sparse.issparse(DenseIfSmall(max_bytes=100 * 20 * 4 - 1).fit(X).transform(X))  # too big
    wide = sparse.random(100, 2000, density=0.01, format="csr", random_state=0)  # mostly empty: sparse is faster
    assert sparse.issparse(DenseIfSmall().fit(wide).transform(wide))


def test_forests_get_the_same_trees_dense_or_sparse():
    X, y = _frame("binary", n=600)
    schema = _schema("binary")
    Xp = prepare_frame(X, schema)
    dense = build_pipeline(schema, ModelConfig("rf", seed=1, n_threads=1))
    assert [n for n, _ in dense.steps] == ["preprocess", "dense", "model"]
    sparse_pipe = build_pipeline(schema, ModelConfig("rf", seed=1, n_threads=1))
    sparse_pipe.set_params(dense__max_bytes=0)
    p1 = dense.fit(Xp, y).predict_proba(Xp)
    p2 = sparse_pipe.fit(Xp, y).predict_proba(Xp)
    assert np.array_equal(p1, p2)


def test_train_reports_and_saves_the_rounds(tmp_path):
    X, y = _frame("binary", n=1500)
    X["y"] = y
    data = tmp_path / "d.csv"
    X.to_csv(data, index=False)
    out = tmp_path / "bundle"
    res = cli("train", data, "--model", "xgboost", "--target", "y", "--out", out, "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    stop = doc["early_stopping"]
    assert stop["stopped"] and stop["validation_rows"] == 120 and stop["iterations"] < ES.BUDGET
    assert f"early stopping: {stop['iterations']} of at most 2000 rounds" in res.stderr
    meta = json.loads((out / "mlcli.json").read_text())
    assert meta["early_stopping"] == stop
    again = cli("predict", out, data, "--format", "json")
    assert again.exit_code == 0, again.stderr


def _fitted_booster(pipe):
    return final_model(pipe)


def test_multiclass_keeps_the_usual_trees_on_small_data():
    if "xgboost" not in BOOSTERS:
        pytest.skip("xgboost not installed")
    pipe, _, _ = _fit("xgboost", "multiclass")
    assert _fitted_booster(pipe).get_params()["max_depth"] == 6
    assert "small_data" not in ES.stopping_of(pipe.steps[-1][1])


@pytest.mark.parametrize("task", ("binary", "regression"))
def test_small_data_gets_shallower_subsampled_trees(task):
    """Fewer than SMALL_ROWS fitted rows: XGBoost's small-data settings (chosen on the gauntlet's small
    tables), said in the stopping record; from SMALL_ROWS rows on, the usual depth 6 and no subsampling."""
    if "xgboost" not in BOOSTERS:
        pytest.skip("xgboost not installed")
    pipe, _, _ = _fit("xgboost", task)  # 1,600 rows
    booster = _fitted_booster(pipe)
    assert booster.get_params()["max_depth"] == 4 and booster.get_params()["subsample"] == 0.8
    stop = ES.stopping_of(pipe.steps[-1][1])
    assert stop["small_data"] == ES.SMALL_DATA["xgboost"]
    assert "fewer than 3,000 rows: max_depth=4, min_child_weight=2" in ES.stopping_line(stop)
    X, y = _frame(task, n=ES.SMALL_ROWS + 400)
    schema = _schema(task)
    big = build_pipeline(schema, ModelConfig("xgboost", seed=3, n_threads=1))
    big.fit(prepare_frame(X, schema), y)
    assert _fitted_booster(big).get_params()["max_depth"] == 6
    assert "small_data" not in ES.stopping_of(big.steps[-1][1])


def test_small_data_settings_leave_the_users_keys():
    if "xgboost" not in BOOSTERS:
        pytest.skip("xgboost not installed")
    pipe, _, _ = _fit("xgboost", "binary", max_depth=7)
    params = _fitted_booster(pipe).get_params()
    assert params["max_depth"] == 7 and params["subsample"] == 0.8
    assert "max_depth" not in ES.stopping_of(pipe.steps[-1][1])["small_data"]
    X, y = _frame("binary", n=300)  # the inner folds get the settings too
    schema = _schema("binary")
    small = build_pipeline(schema, ModelConfig("xgboost", seed=1, n_threads=1))
    small.fit(prepare_frame(X, schema), y)
    assert _fitted_booster(small).get_params()["max_depth"] == 4
    assert ES.stopping_of(small.steps[-1][1])["inner_folds"] == 3

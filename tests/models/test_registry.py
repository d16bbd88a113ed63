"""Contract test over every registry entry: fit and predict on small data for each task it claims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcli.data.roles import infer_schema
from mlcli.data.schema import prepare_frame
from mlcli.evaluation.scoring import predict_indices
from mlcli.models.build import ModelConfig, build_pipeline
from mlcli.models.registry import MODELS


def _data(task: str):
    """Generated: 120 rows with numeric, categorical (with a missing value) and learnable signal."""
    rng = np.random.default_rng(3)
    n = 120
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                       "c": rng.choice(["u", "v", "w"], size=n)})
    df.loc[5, "c"] = None
    df.loc[7, "a"] = np.nan
    signal = df["a"].fillna(0) + (df["c"] == "u")
    if task == "binary":
        y = (signal > 0.3).astype(int)
    elif task == "multiclass":
        y = pd.cut(signal, [-np.inf, -0.3, 0.6, np.inf], labels=False).astype(int)
    else:
        y = 2 * signal + rng.normal(scale=0.1, size=n)
    df["y"] = y
    return df


CASES = [(name, task) for name, spec in MODELS.items() for task in spec.tasks if spec.installed()
         and name != "transformer"]


@pytest.mark.parametrize("name,task", CASES)
def test_every_model_fits_and_predicts(name, task):
    df = _data(task)
    schema = infer_schema(df, "y", task)
    X = prepare_frame(df, schema)
    y = df["y"].to_numpy()
    pipe = build_pipeline(schema, ModelConfig(name, seed=0, n_threads=1))
    pipe.fit(X, y)
    pred, proba = predict_indices(pipe, X.head(10), task)
    assert len(pred) == 10
    if task == "regression":
        assert proba is None and np.isfinite(pred).all()
    else:
        k = len(np.unique(y))
        assert proba is not None and proba.shape == (10, k)
        assert np.allclose(proba.sum(axis=1), 1, atol=1e-6)
        assert set(pred) <= set(range(k))
        # the model learned something: training accuracy above the majority-class rate
        full, _ = predict_indices(pipe, X, task)
        assert (full == y).mean() > np.bincount(y).max() / len(y) - 0.02


def test_registry_entries_are_complete():
    for name, spec in MODELS.items():
        assert spec.tasks, name
        assert spec.summary, name


def test_unknown_model_suggestion():
    from mlcli.errors import ConfigError
    from mlcli.models.registry import get_spec

    with pytest.raises(ConfigError, match="did you mean 'lightgbm'"):
        get_spec("lightgmb")
    assert get_spec("XGB").name == "xgboost"


def test_word_values_of_a_numeric_default_are_accepted_where_scikit_learn_takes_them():
    """A regression forest's max_features defaults to 1.0 but takes 'log2' (tune's search space draws it);
    an SVM's C takes no words."""
    from mlcli.errors import ConfigError
    from mlcli.models.estimators import make_estimator

    assert make_estimator("rf", "regression", {"max_features": "log2"}).max_features == "log2"
    with pytest.raises(ConfigError, match="the 'C' parameter of model 'svm' must be a number, got 'abc'"):
        make_estimator("svm", "binary", {"C": "abc"})

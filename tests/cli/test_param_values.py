"""--param values out of range or of the wrong type (zero or negative sizes, counts, rates, fractions): exit 2
with one line in scikit-learn's words, before any work (nothing read, nothing fitted, no bundle).

Swept over every unsupervised method (cluster, reduce, anomalies) and over the models whose library checks a
value late (LightGBM, CatBoost: after the data is read and encoded) or never (XGBoost fitted nothing with
n_estimators=0, CatBoost took a negative learning rate, the autoencoder a bottleneck of 0). Generated data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import error_line


@pytest.fixture
def rows(tmp_path):
    """Generated: 120 rows, two numeric columns, one categorical, a binary label."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120), "c": rng.choice(list("xyz"), 120)})
    df["label"] = np.where(df.a > 0, "yes", "no")
    df.to_csv(tmp_path / "rows.csv", index=False)
    return tmp_path / "rows.csv"


def _int(name, key, value, low=1, high="inf)"):
    right = high if high.endswith(("]", ")")) else f"{high}]"
    return f"The '{key}' parameter of {name} must be an int in [{low}, {right}. Got {value} instead."


@pytest.mark.parametrize("command, param, message", [
    (["anomalies", "--method", "autoencoder"], "bottleneck=0", _int("autoencoder", "bottleneck", 0)),
    (["anomalies", "--method", "autoencoder"], "hidden=-4", _int("autoencoder", "hidden", -4)),
    (["anomalies", "--method", "autoencoder"], "epochs=0", _int("autoencoder", "epochs", 0)),
    (["anomalies", "--method", "autoencoder"], "batch_size=2.5", _int("autoencoder", "batch_size", 2.5)),
    (["anomalies", "--method", "autoencoder"], "hidden=wide", _int("autoencoder", "hidden", "'wide'")),
    (["anomalies", "--method", "autoencoder"], "learning_rate=0",
     "The 'learning_rate' parameter of autoencoder must be a float in (0, inf). Got 0 instead."),
    (["anomalies", "--method", "autoencoder"], "validation=1",
     "The 'validation' parameter of autoencoder must be a float in [0, 1). Got 1 instead."),
    (["anomalies", "--method", "isolation-forest"], "n_estimators=0",
     "The 'n_estimators' parameter of IsolationForest must be an int in the range [1, inf). Got 0 instead."),
    (["anomalies", "--method", "lof"], "n_neighbors=-3",
     "The 'n_neighbors' parameter of LocalOutlierFactor must be an int in the range [1, inf) or None. Got -3 "
     "instead."),
    (["anomalies", "--method", "one-class-svm"], "tol=-1",
     "The 'tol' parameter of OneClassSVM must be a float in the range (0.0, inf). Got -1 instead."),
    (["cluster", "--method", "kmeans"], "n_init=0",
     "The 'n_init' parameter of KMeans must be a str among {'auto'} or an int in the range [1, inf). Got 0 "
     "instead."),
    (["cluster", "--method", "gmm"], "n_init=0",
     "The 'n_init' parameter of GaussianMixture must be an int in the range [1, inf). Got 0 instead."),
    (["reduce", "--method", "pca"], "tol=-1",
     "The 'tol' parameter of PCA must be a float in the range [0.0, inf). Got -1 instead."),
    (["cluster", "--method", "dbscan"], "min_samples=0",
     "The 'min_samples' parameter of DBSCAN must be an int in the range [1, inf). Got 0 instead."),
    (["cluster", "--method", "dbscan"], "eps=-1",
     "The 'eps' parameter of DBSCAN must be a float in the range (0.0, inf). Got -1 instead."),
    (["reduce", "--method", "tsne"], "perplexity=0",
     "The 'perplexity' parameter of TSNE must be a float in the range (0.0, inf). Got 0 instead."),
    (["reduce", "--method", "tsne"], "max_iter=10",
     "The 'max_iter' parameter of TSNE must be an int in the range [250, inf). Got 10 instead."),
])
def test_unsupervised_params_are_checked_before_the_data_is_read(mlcli, rows, command, param, message):
    if "autoencoder" in command:
        pytest.importorskip("torch")
    r = mlcli(*command, rows, "--param", param)  # not --quiet: a notice ('columns: ...') would be a read
    assert error_line(r) == message


def test_autoencoder_checks_its_parameters_when_fitted_directly():
    from mlcli.errors import ConfigError
    from mlcli.models.autoencoder import Autoencoder

    with pytest.raises(ConfigError, match=r"The 'bottleneck' parameter of autoencoder must be an int in \[1, inf\)\. "
                                          r"Got 0 instead\."):
        Autoencoder(bottleneck=0).fit(np.zeros((30, 4)))


@pytest.mark.parametrize("model, param, message", [
    ("xgboost", "n_estimators=0", _int("xgboost", "n_estimators", 0)),
    ("xgboost", "max_depth=-1", _int("xgboost", "max_depth", -1, low=0)),
    ("xgboost", "subsample=0", "The 'subsample' parameter of xgboost must be a float in (0, 1]. Got 0 instead."),
    ("lightgbm", "n_estimators=-1", _int("lightgbm", "n_estimators", -1)),
    ("lightgbm", "num_leaves=1", _int("lightgbm", "num_leaves", 1, low=2)),
    ("lightgbm", "learning_rate=0",
     "The 'learning_rate' parameter of lightgbm must be a float in (0, inf). Got 0 instead."),
    ("catboost", "iterations=0", _int("catboost", "iterations", 0)),
    ("catboost", "depth=0", _int("catboost", "depth", 0, high="16")),
    ("catboost", "learning_rate=-0.1",
     "The 'learning_rate' parameter of catboost must be a float in (0, inf). Got -0.1 instead."),
    ("mlp", "hidden_layer_sizes=[64,0]",
     "The 'hidden_layer_sizes' parameter of mlp must be an int in [1, inf) or a list of them. Got [64, 0] instead."),
    ("rusboost", "n_estimators=0",
     "The 'n_estimators' parameter of RUSBoostClassifier must be an int in the range [1, inf). Got 0 instead."),
])
def test_model_params_are_checked_before_fitting(mlcli, rows, tmp_path, model, param, message):
    r = mlcli("train", rows, "--model", model, "--param", param, "--out", tmp_path / "m", "-q")
    assert error_line(r) == message
    assert not (tmp_path / "m").exists()


def test_the_same_check_in_cv_and_tune(mlcli, rows):
    message = _int("xgboost", "n_estimators", 0)
    assert error_line(mlcli("cv", rows, "--models", "xgboost", "-p", "n_estimators=0", "-q")) == message
    assert error_line(mlcli("tune", rows, "--model", "xgboost", "-p", "n_estimators=0", "-q")) == message


def test_a_resampler_param_is_checked_before_resampling(mlcli, rows):
    r = mlcli("train", rows, "--model", "logreg", "--balance", "oversample", "-p", "shrinkage=-1", "-q")
    assert error_line(r) == ("The 'shrinkage' parameter of RandomOverSampler must be a float in the range [0.0, inf), "
                             "an instance of 'dict' or None. Got -1 instead.")


def test_values_in_range_still_work(mlcli, rows):
    for args in (["anomalies", rows, "--method", "isolation-forest", "-p", "n_estimators=20"],
                 ["train", rows, "--model", "lightgbm", "-p", "max_depth=0", "-p", "n_estimators=20"]):
        r = mlcli(*args, "--format", "json", "-q")
        assert r.exit_code == 0, r.stderr

"""The transformer estimator on a tiny random BERT (built in a temp dir): fitting, predicting, bundles."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from mlcli.errors import BundleError, ConfigError, DataError

from conftest import review_frame

FAST = {"epochs": 6, "learning_rate": 5e-3, "batch_size": 16, "verbose": 0, "n_threads": 1}


@pytest.fixture(scope="module")
def fitted(tiny_bert):
    """A classifier fitted on 160 generated reviews (labels 0/1), with 40 held-out rows."""
    from mlcli.text.estimator import TransformerClassifier

    df = review_frame(200, seed=3)
    y = (df.score == "other").astype(int).to_numpy()
    est = TransformerClassifier(base_model=str(tiny_bert), **FAST)
    est.fit(df[["review"]].iloc[:160], y[:160])
    return est, df.iloc[160:][["review"]], y[160:]


def test_classifier_learns_the_sentiment_words(fitted):
    est, X_test, y_test = fitted
    proba = est.predict_proba(X_test)
    assert proba.shape == (40, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (est.predict(X_test) == y_test).mean() >= 0.8
    assert est.n_epochs_ == 6 and len(est.history_) == 6
    assert est.history_[-1]["train_loss"] < est.history_[0]["train_loss"]


def test_same_seed_same_model(fitted, tiny_bert):
    from sklearn.base import clone

    est, X_test, _ = fitted
    df = review_frame(200, seed=3)
    y = (df.score == "other").astype(int).to_numpy()
    again = clone(est).fit(df[["review"]].iloc[:160], y[:160])
    np.testing.assert_allclose(again.predict_proba(X_test), est.predict_proba(X_test), atol=1e-6)


def test_save_and_load_artifacts_give_identical_predictions(fitted, tmp_path):
    est, X_test, _ = fitted
    before = est.predict_proba(X_test)
    est.save_artifacts(tmp_path / "model")
    assert (tmp_path / "model" / "model.safetensors").is_file()
    assert (tmp_path / "model" / "tokenizer.json").is_file() or (tmp_path / "model" / "vocab.txt").is_file()
    blob = pickle.dumps(est)  # a copy made while the weights are saved beside it leaves the torch objects out
    assert len(blob) < 20_000
    loaded = pickle.loads(blob)
    with pytest.raises(BundleError, match="weights are not loaded"):
        loaded.predict(X_test)
    loaded.load_artifacts(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict_proba(X_test), before)
    # once the bundle is written, a plain pickle keeps the weights again
    est.forget_saved_artifacts()
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X_test), before)


def test_load_artifacts_from_an_empty_directory(fitted, tmp_path):
    est, _, _ = fitted
    (tmp_path / "model").mkdir()
    with pytest.raises(BundleError, match="transformer weights are missing"):
        est.load_artifacts(tmp_path / "model")


def test_regressor_follows_the_target(tiny_bert):
    from mlcli.text.estimator import TransformerRegressor

    df = review_frame(160, seed=5)
    est = TransformerRegressor(base_model=str(tiny_bert), **FAST).fit(df[["review"]].iloc[:120], df.stars[:120])
    pred = est.predict(df[["review"]].iloc[120:])
    assert pred.shape == (40,)
    assert np.corrcoef(pred, df.stars[120:])[0, 1] > 0.6


def test_several_text_columns_are_joined_with_their_names():
    from mlcli.text.columns import join_texts

    frame = pd.DataFrame({"title": ["Nice", None], "body": ["good tea", "bad"]})
    assert join_texts(frame) == ["title: Nice | body: good tea", "body: bad"]
    assert join_texts(frame[["body"]]) == ["good tea", "bad"]


def test_early_stopping_keeps_a_validation_split(tiny_bert):
    from mlcli.text.estimator import TransformerClassifier

    df = review_frame(100, seed=1)
    y = (df.score == "other").astype(int).to_numpy()
    est = TransformerClassifier(base_model=str(tiny_bert), **{**FAST, "epochs": 3, "early_stopping": 1,
                                                              "class_weight": "balanced"})
    est.fit(df[["review"]], y)
    assert all("val_loss" in h for h in est.history_)
    assert 1 <= est.n_epochs_ <= 3


@pytest.mark.parametrize("param,value,message", [
    ("epochs", 0, "'epochs' parameter of model 'transformer' must be an int >= 1, got 0"),
    ("learning_rate", 2.0, "'learning_rate' parameter of model 'transformer' must be a number in (0, 1)"),
    ("batch_size", "8", "'batch_size' parameter of model 'transformer' must be an int >= 1"),
    ("class_weight", "heavy", "'class_weight' parameter of model 'transformer' must be 'balanced'"),
    ("early_stopping", -1, "'early_stopping' parameter"),
])
def test_bad_parameters_are_one_sentence(tiny_bert, param, value, message):
    from mlcli.text.estimator import TransformerClassifier

    est = TransformerClassifier(base_model=str(tiny_bert), **{param: value})
    with pytest.raises(ConfigError) as info:
        est.check_setup()
    assert message in str(info.value)


def test_empty_text_is_refused(tiny_bert):
    from mlcli.text.estimator import TransformerClassifier

    X = pd.DataFrame({"review": [None, "", "  "]})
    with pytest.raises(DataError, match="text column 'review' is empty: every value is missing or blank"):
        TransformerClassifier(base_model=str(tiny_bert), **FAST).fit(X, [0, 1, 0])


def test_base_model_checks(tmp_path, tiny_bert):
    from mlcli.text import base_model as bm

    with pytest.raises(ConfigError, match="no such directory"):
        bm.resolve_base_model(str(tmp_path / "nothing"))
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"holds no usable model \(model weights and a tokenizer missing\)"):
        bm.resolve_base_model(str(tmp_path / "half"))
    assert bm.max_positions(tiny_bert) == 64
    assert bm.check_max_length(tiny_bert, None, str(tiny_bert), default=128) == 64
    with pytest.raises(ConfigError, match=r"--max-length 100 is more than .* supports \(64 tokens\)"):
        bm.check_max_length(tiny_bert, 100, str(tiny_bert))


def test_default_model_is_found_in_its_package_without_importing_it():
    import sys

    from mlcli.text import base_model as bm

    path = bm.resolve_base_model(None)
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()
    assert bm.max_positions(path) == 512
    assert bm.PACKAGED_MODULE not in sys.modules


def test_registry_entry_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys; from mlcli.models.estimators import make_estimator; from mlcli.models.registry import "
            "get_spec; "
            "e = make_estimator('transformer', 'binary'); s = get_spec('bert'); "
            "assert s.text_only and s.name == 'transformer'; "
            "print(type(e).__name__, 'torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["TransformerClassifier", "False", "False"]

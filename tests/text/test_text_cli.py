"""mlcli train/evaluate/predict with --model transformer and --text-features, on a tiny random BERT."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from conftest import assert_error, review_frame
from conftest import cli as run


def fine_tune_args(tiny_bert):
    return ["--model", "transformer", "--base-model", tiny_bert, "--epochs", "6", "--learning-rate", "5e-3",
            "--threads", "1"]


@pytest.fixture(scope="module")
def trained(tiny_bert, tmp_path_factory):
    """A bundle fine-tuned through the CLI on 200 generated reviews, plus 60 unseen ones (labelled)."""
    d = tmp_path_factory.mktemp("text-cli")
    review_frame(200, seed=2).drop(columns=["stars"]).to_csv(d / "reviews.csv", index=False)
    review_frame(60, seed=9).drop(columns=["stars"]).to_csv(d / "new.csv", index=False)
    r = run("train", d / "reviews.csv", "--target", "score", *fine_tune_args(tiny_bert), "--out", d / "bundle",
            "--format", "json")
    assert r.exit_code == 0, r.stderr
    return d, json.loads(r.stdout), r.stderr


def test_train_reports_held_out_metrics_and_progress(trained):
    d, doc, stderr = trained
    assert doc["model"] == "transformer" and doc["task"] == "binary"
    assert doc["rows"] == {"train": 160, "test": 40, "dropped_missing_target": 0}
    assert doc["metrics"]["accuracy"] >= 0.8
    assert "fine-tuning on 160 rows (cpu)" in stderr and "loss" in stderr and "steps" in stderr
    meta = json.loads((d / "bundle" / "mlcli.json").read_text())
    assert meta["model"] == "transformer" and meta["classes"] == ["great", "other"]
    assert (d / "bundle" / "model" / "model.safetensors").is_file()


def test_predict_matches_the_model_at_the_end_of_training(trained):
    """predict from the saved bundle gives what the in-memory model gave, and evaluate agrees with it."""
    from mlcli.data.schema import check_against_schema
    from mlcli.models.bundle import load_bundle

    d, _, _ = trained
    r = run("predict", d / "bundle", d / "new.csv", "--keep", "id", "--format", "csv")
    assert r.exit_code == 0, r.stderr
    pred = pd.read_csv(io.StringIO(r.stdout))
    assert list(pred.columns) == ["id", "prediction", "proba_great", "proba_other"]
    new = pd.read_csv(d / "new.csv")
    assert (pred.prediction == new.score).mean() >= 0.8
    bundle = load_bundle(d / "bundle")
    proba = bundle.pipeline.predict_proba(check_against_schema(new, bundle.schema))
    np.testing.assert_allclose(pred[["proba_great", "proba_other"]].to_numpy(), proba, atol=1e-6)

    r = run("evaluate", d / "bundle", d / "new.csv", "--format", "json")
    assert r.exit_code == 0, r.stderr
    acc = json.loads(r.stdout)["metrics"]["accuracy"]
    assert acc == pytest.approx((pred.prediction == new.score).mean(), abs=1e-9)


def test_quiet_silences_the_progress_bar(tiny_bert, tmp_path):
    review_frame(60, seed=4).to_csv(tmp_path / "r.csv", index=False)
    r = run("train", tmp_path / "r.csv", "--target", "stars", *fine_tune_args(tiny_bert), "--epochs", "1",
            "--out", tmp_path / "b", "--format", "json", "--quiet", "--max-length", "32")
    assert r.exit_code == 0, r.stderr
    assert r.stderr == ""
    doc = json.loads(r.stdout)
    assert doc["task"] == "regression" and "rmse" in doc["metrics"]


def test_text_features_embed_feeds_a_tabular_model(tiny_bert, tmp_path):
    review_frame(120, seed=6).drop(columns=["stars"]).to_csv(tmp_path / "r.csv", index=False)
    r = run("train", tmp_path / "r.csv", "--target", "score", "--model", "logreg", "--text-features", "both",
            "--base-model", tiny_bert, "--out", tmp_path / "b", "--format", "json", "-q")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["metrics"]["accuracy"] >= 0.8
    assert doc["importances"][0]["feature"] == "review"  # TF-IDF and embedding features map back to the column
    r = run("predict", tmp_path / "b", tmp_path / "r.csv", "--format", "csv")
    assert r.exit_code == 0 and len(pd.read_csv(io.StringIO(r.stdout))) == 120


# ------------------------------------------------------------------------------------------ bad input

def test_no_text_column_names_the_columns_seen(titanic, tiny_bert):
    assert_error(run("train", titanic, "--model", "transformer", "--drop", "Name", "--base-model", tiny_bert),
                 "model 'transformer' reads free text, but no column is text; columns seen:", "Name (dropped",
                 "Sex (categorical)", "Age (numeric)", "--text COLUMN")


def test_all_missing_text_column(tmp_path, tiny_bert):
    df = review_frame(40)
    df["note"] = np.nan
    df.to_csv(tmp_path / "r.csv", index=False)
    assert_error(run("train", tmp_path / "r.csv", "--target", "score", "--model", "transformer", "--text", "note",
                     "--drop", "review", "--base-model", tiny_bert),
                 "text column 'note' is empty: every value is missing or blank")
    assert_error(run("train", tmp_path / "r.csv", "--target", "score", "--model", "transformer", "--drop",
                     "review", "--base-model", tiny_bert), "no column is text", "note (constant: all missing)")


def test_base_model_path_without_a_model(reviews_csv, tmp_path):
    (tmp_path / "notamodel").mkdir()
    (tmp_path / "notamodel" / "readme.txt").write_text("hello")
    assert_error(run("train", reviews_csv, "--model", "transformer", "--base-model", tmp_path / "notamodel"),
                 "holds no usable model (config.json, model weights and a tokenizer missing)",
                 "expected a Hugging Face model directory with config.json, model.safetensors")
    assert_error(run("train", reviews_csv, "--model", "transformer", "--base-model", tmp_path / "nowhere"),
                 "no such directory")
    assert_error(run("train", reviews_csv, "--model", "logreg", "--text-features", "embed", "--base-model",
                     tmp_path / "notamodel"), "holds no usable model")


def test_max_length_beyond_the_model(reviews_csv, tiny_bert):
    assert_error(run("train", reviews_csv, "--model", "transformer", "--base-model", tiny_bert, "--max-length",
                     "512"), "--max-length 512 is more than --base-model", "supports (64 tokens)",
                 "use --max-length 64 or less")


def test_numeric_text_column(titanic, tiny_bert):
    assert_error(run("train", titanic, "--model", "transformer", "--text", "Age", "--base-model", tiny_bert),
                 "text column 'Age' holds numbers", "--numeric or --categorical")
    assert_error(run("train", titanic, "--model", "logreg", "--text", "Age"),
                 "text column 'Age' holds numbers")


def test_option_misuse(reviews_csv, tiny_bert):
    assert_error(run("train", reviews_csv, "--model", "logreg", "--epochs", "2"),
                 "--epochs applies to --model transformer only")
    assert_error(run("train", reviews_csv, "--model", "logreg", "--batch-size", "8"),
                 "--batch-size applies to --model transformer or --text-features embed|both only")
    assert_error(run("train", reviews_csv, "--model", "transformer", "--text-features", "embed"),
                 "--text-features embed is for tabular models")
    assert_error(run("train", reviews_csv, "--model", "logreg", "--text-features", "words"),
                 "unknown --text-features 'words'; choose tfidf, embed or both")
    assert_error(run("train", reviews_csv, "--model", "transformer", "--epochs", "2", "--param", "epochs=3"),
                 "--epochs and --param epochs=... both set 'epochs'")
    assert_error(run("train", reviews_csv, "--model", "transformer", "--base-model", tiny_bert, "--balance", "smote"),
                 "model 'transformer' reads raw text; use --class-weight balanced instead")
    assert_error(run("train", reviews_csv, "--model", "transformer", "--base-model", tiny_bert, "--param",
                     "learning_rate=3"), "'learning_rate' parameter of model 'transformer' must be a number in (0, 1)")

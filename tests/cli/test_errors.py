"""Every bad input: one line on stderr, exit code 2, nothing on stdout, nothing half-written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import assert_error


def test_missing_file(mlcli):
    assert_error(mlcli("train", "nope.csv"), "file not found: nope.csv")


def test_empty_file(mlcli, tmp_path):
    (tmp_path / "empty.csv").write_text("")
    assert_error(mlcli("train", "empty.csv"), "empty.csv is empty")


def test_header_only(mlcli, tmp_path):
    (tmp_path / "h.csv").write_text("a,b,c\n")
    assert_error(mlcli("train", "h.csv"), "has a header but no data rows")


def test_not_a_table(mlcli, tmp_path):
    (tmp_path / "blob.csv").write_bytes(bytes(range(256)) * 10)
    assert_error(mlcli("train", "blob.csv"), "not a text table")


def test_single_column_is_not_a_table(mlcli, tmp_path):
    (tmp_path / "one.csv").write_text("hello\nworld\nagain\n")
    assert_error(mlcli("train", "one.csv"), "is not a table")


def test_target_missing_suggests(mlcli, titanic):
    assert_error(mlcli("train", titanic, "--target", "Survivd"), "target column 'Survivd' not found",
                 "did you mean 'Survived'?")


def test_one_class_target(mlcli, tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,x\n3,4,x\n5,6,x\n")
    assert_error(mlcli("train", "d.csv"), "target 'y' has only one class ('x')")


def test_rows_with_missing_target_are_dropped_and_said(mlcli, small_binary, tmp_path):
    df = pd.read_csv(small_binary)
    df.loc[:4, "label"] = np.nan
    df.to_csv(tmp_path / "m.csv", index=False)
    r = mlcli("train", "m.csv", "--model", "logreg", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert "dropped 5 row(s) with a missing target 'label'" in r.stderr


def test_class_too_small_for_stratified_split(mlcli, small_binary, tmp_path):
    df = pd.read_csv(small_binary)
    df.loc[0, "label"] = "maybe"
    df.to_csv(tmp_path / "s.csv", index=False)
    assert_error(mlcli("train", "s.csv", "--model", "logreg"), "class too small", "'maybe' has 1")


def test_unknown_model_lists_valid(mlcli, titanic):
    assert_error(mlcli("train", titanic, "--model", "xgbost"), "unknown model 'xgbost'",
                 "did you mean 'xgboost'?", "valid models: logreg")


def test_unknown_param(mlcli, titanic):
    assert_error(mlcli("train", titanic, "--model", "svm", "--param", "Cc=3"), "unknown parameter 'Cc'",
                 "did you mean 'C'?")


def test_ill_typed_param(mlcli, titanic):
    assert_error(mlcli("train", titanic, "--model", "svm", "--param", "C=abc"),
                 "the 'C' parameter of model 'svm' must be a number, got 'abc'")


def test_param_out_of_range(mlcli, titanic):
    assert_error(mlcli("train", titanic, "--model", "rf", "--param", "n_estimators=0"),
                 "The 'n_estimators' parameter of RandomForestClassifier must be an int in the range [1, inf)")


def test_param_without_equals(mlcli, titanic):
    assert_error(mlcli("train", titanic, "--model", "rf", "--param", "n_estimators"), "--param expects key=value")


def test_model_without_regression(mlcli, small_regression):
    assert_error(mlcli("train", small_regression, "--model", "nb-gaussian"),
                 "model 'nb-gaussian' does not do regression")


def test_unknown_override_column(mlcli, titanic):
    assert_error(mlcli("train", titanic, "--drop", "Nmae"), "column 'Nmae' (given with --drop) not found",
                 "did you mean 'Name'?")


@pytest.fixture
def bundle(mlcli, small_binary):
    r = mlcli("train", small_binary, "--model", "logreg", "--out", "bundle", "--format", "json")
    assert r.exit_code == 0, r.stderr
    return "bundle"


def test_predict_missing_columns(mlcli, bundle, small_binary, tmp_path):
    pd.read_csv(small_binary).drop(columns=["x1", "color"]).to_csv(tmp_path / "new.csv", index=False)
    assert_error(mlcli("predict", bundle, "new.csv"),
                 "is missing 2 column(s) the model was trained on: x1, color")


def test_predict_wrong_type(mlcli, bundle, small_binary, tmp_path):
    """Mostly text where the model has numbers: refused (a few such values are read as missing, tests/data)."""
    df = pd.read_csv(small_binary)
    df["x1"] = df["x1"].astype(str)
    df.loc[3:, "x1"] = "lots"
    df.to_csv(tmp_path / "new.csv", index=False)
    assert_error(mlcli("predict", bundle, "new.csv"), "'x1' should be numeric but holds values like 'lots' "
                 f"({len(df) - 3} of its {len(df)} values are not numbers)")


def test_evaluate_without_target(mlcli, bundle, small_binary, tmp_path):
    pd.read_csv(small_binary).drop(columns=["label"]).to_csv(tmp_path / "new.csv", index=False)
    assert_error(mlcli("evaluate", bundle, "new.csv"), "evaluate needs labelled data",
                 "target column 'label' not found")


def test_evaluate_unseen_label(mlcli, bundle, small_binary, tmp_path):
    df = pd.read_csv(small_binary)
    df.loc[0, "label"] = "perhaps"
    df.to_csv(tmp_path / "new.csv", index=False)
    assert_error(mlcli("evaluate", bundle, "new.csv"), "label(s) the model never saw: perhaps")


def test_not_a_bundle(mlcli, small_binary, tmp_path):
    (tmp_path / "notabundle").mkdir()
    assert_error(mlcli("predict", "notabundle", small_binary), "notabundle is not an mlcli model bundle")
    assert_error(mlcli("evaluate", "nowhere", small_binary), "model bundle not found: nowhere")


def test_refuses_to_overwrite_foreign_directory(mlcli, small_binary, tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.txt").write_text("do not delete")
    assert_error(mlcli("train", small_binary, "--model", "logreg", "--out", "precious"), "refusing to overwrite")
    assert (tmp_path / "precious" / "thesis.txt").read_text() == "do not delete"


def test_threshold_out_of_range(mlcli, bundle, small_binary):
    assert_error(mlcli("predict", bundle, small_binary, "--threshold", "1.5"), "--threshold must be between 0 and 1")


def test_interrupt_leaves_no_partial_bundle(mlcli, small_binary, tmp_path, monkeypatch):
    import skops.io

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skops.io, "dump", interrupted)  # Ctrl-C while the pipeline file is written
    r = mlcli("train", small_binary, "--model", "logreg", "--out", "m1")
    assert r.exit_code == 130
    assert "interrupted" in r.stderr
    assert not (tmp_path / "m1").exists()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_interrupt_keeps_previous_bundle(mlcli, bundle, small_binary, tmp_path, monkeypatch):
    import skops.io

    before = (tmp_path / bundle / "mlcli.json").read_text()
    monkeypatch.setattr(skops.io, "dump", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    r = mlcli("train", small_binary, "--model", "rf", "--out", bundle)
    assert r.exit_code == 130
    assert (tmp_path / bundle / "mlcli.json").read_text() == before


def test_internal_error_is_one_line_exit_1(mlcli, small_binary, monkeypatch):
    import mlcli.experiments.train as tr

    monkeypatch.setattr(tr, "native_importances", lambda p: 1 / 0)
    r = mlcli("train", small_binary, "--model", "logreg")
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines()[-1].startswith("mlcli: internal error: ZeroDivisionError")
    assert "--debug" in r.stderr
    assert "Traceback" not in r.stderr


def test_usage_error_exit_2(mlcli, small_binary):
    r = mlcli("train", small_binary, "--format", "xml")
    assert r.exit_code == 2

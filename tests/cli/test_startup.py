"""The help path stays light, and the installed entry point works in a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import SAMPLE, modules_after

HEAVY = ("torch", "transformers", "sklearn", "xgboost", "lightgbm", "catboost", "imblearn", "pandas", "shap",
         "dask", "distributed", "matplotlib", "numpy")


def test_help_imports_nothing_heavy():
    for argv in (["--help"], ["train", "--help"], ["cv", "--help"], ["models", "--help"]):
        loaded = modules_after(*argv)
        assert not loaded & set(HEAVY), (argv, loaded & set(HEAVY))


def test_models_list_imports_no_model_library():
    loaded = modules_after("models", "--format", "json")
    assert not loaded & {"torch", "transformers", "sklearn", "xgboost", "lightgbm", "catboost"}


def test_subprocess_smoke(tmp_path):
    """The real console entry point: train, then predict through a pipe."""
    exe = [sys.executable, "-m", "mlcli"]
    train = subprocess.run([*exe, "train", str(SAMPLE / "titanic.csv"), "--model", "logreg", "--out", "m"],
                           capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert train.returncode == 0, train.stderr
    doc = json.loads(train.stdout)  # stdout is a pipe: JSON
    assert doc["metrics"]["accuracy"] > 0.75
    data = (SAMPLE / "titanic.csv").read_text()
    pred = subprocess.run([*exe, "predict", "m", "-"], input=data, capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert pred.returncode == 0, pred.stderr
    lines = pred.stdout.splitlines()
    assert lines[0] == "prediction,proba_0,proba_1" and len(lines) == 1310
    bad = subprocess.run([*exe, "train", "missing.csv"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip() == "mlcli: error: file not found: missing.csv"

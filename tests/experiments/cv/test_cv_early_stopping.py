"""cv reports the rounds early stopping kept in each fold: in the JSON rows, the CSV and the table's footnote."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from mlcli.data.dataset import DataOptions
from mlcli.experiments.cv.request import CVRequest
from mlcli.experiments.cv.run import run_cv
from mlcli.render.cv import leaderboard_csv, render_cv


@pytest.fixture(scope="module")
def noisy_csv(tmp_path_factory):
    """Generated: 1,800 rows, a weak signal in noise, so a booster stops well before its budget."""
    rng = np.random.default_rng(7)
    n = 1800
    X = rng.normal(size=(n, 6))
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-(0.8 * X[:, 0] - 0.5 * X[:, 1]))), "yes", "no")
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    df["outcome"] = y
    path = tmp_path_factory.mktemp("es") / "noisy.csv"
    df.to_csv(path, index=False)
    return path


def _doc(path, models="lightgbm,logreg", params=None):
    req = CVRequest(DataOptions(str(path), target="outcome"), models=[models], folds=3, leak_check=False,
                    threads=1, params=params or {})
    return run_cv(req).to_dict()


def test_rounds_kept_are_reported_per_model(noisy_csv):
    doc = _doc(noisy_csv)
    rows = {r["name"]: r for r in doc["leaderboard"]}
    es = rows["lightgbm"]["early_stopping"]
    assert es["folds"] == 3
    assert 1 <= es["rounds_min"] <= es["rounds_median"] <= es["rounds_max"] < 2000  # stopped before the budget
    assert rows["logreg"]["early_stopping"] is None and rows["baseline"]["early_stopping"] is None
    console = Console(file=io.StringIO(), width=120, force_terminal=False)
    render_cv(console, doc)
    text = console.file.getvalue()
    assert f"early stopping (rounds kept, median over the folds): lightgbm {es['rounds_median']}" in text
    header, *lines = leaderboard_csv(doc).splitlines()
    assert header.split(",")[-1] == "rounds_median"
    by_name = {line.split(",")[1]: line.split(",")[-1] for line in lines}
    assert by_name["lightgbm"] == str(es["rounds_median"]) and by_name["logreg"] == ""


def test_no_rounds_when_early_stopping_is_off(noisy_csv):
    doc = _doc(noisy_csv, "lightgbm", {"early_stopping": False})
    assert all(r["early_stopping"] is None for r in doc["leaderboard"])

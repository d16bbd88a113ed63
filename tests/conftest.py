"""Shared fixtures. Data made here is generated (labelled so); sample_data/ holds the real datasets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolate(tmp_path, monkeypatch):
    """Every test runs in its own directory so default bundle paths (models/...) never collide."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLCLI_HOME", str(tmp_path / ".mlcli-home"))
    monkeypatch.setenv("COLUMNS", "120")
    # one thread per model: on a shared 2-core runner, boosting libraries at all cores oversubscribe badly
    monkeypatch.setenv("MLCLI_THREADS", "1")


class Run:
    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | bytes | None = None):
        from mlcli.cli.app import app

        return self.runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture
def mlcli():
    """Invoke the CLI in-process: result.exit_code, result.stdout, result.stderr."""
    return Run()


@pytest.fixture
def titanic() -> Path:
    return SAMPLE / "titanic.csv"


@pytest.fixture
def small_binary(tmp_path) -> Path:
    """Generated: 200 rows, numeric + categorical + missing values, binary target 'label'."""
    rng = np.random.default_rng(0)
    n = 200
    x1 = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    x2 = rng.normal(size=n)
    logit = 2 * x1 + (color == "red") * 1.5 - 0.5
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    df = pd.DataFrame({"x1": x1, "color": color, "x2": x2, "label": y})
    df.loc[::17, "x2"] = np.nan
    path = tmp_path / "small_binary.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def small_regression(tmp_path) -> Path:
    """Generated: 200 rows, y = 3*a - 2*b + noise, with a categorical shift."""
    rng = np.random.default_rng(1)
    n = 200
    a, b = rng.normal(size=n), rng.normal(size=n)
    grp = rng.choice(["p", "q"], size=n)
    y = 3 * a - 2 * b + (grp == "p") * 2 + rng.normal(scale=0.3, size=n)
    path = tmp_path / "small_regression.csv"
    pd.DataFrame({"a": a, "b": b, "grp": grp, "target": y}).to_csv(path, index=False)
    return path

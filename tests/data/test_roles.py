"""Inferring the target, the task and the role of every column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcli.data.read import read_table
from mlcli.data.roles import infer_role, infer_schema
from mlcli.data.target import choose_target, infer_task
from mlcli.errors import DataError


def test_target_inference():
    df = pd.DataFrame({"a": [1, 2], "Label": [0, 1], "z": [3, 4]})
    assert choose_target(df, None)[0] == "Label"
    df = pd.DataFrame({"a": [1, 2], "z": [3, 4]})
    col, reason = choose_target(df, None)
    assert col == "z" and "last column" in reason
    assert choose_target(df, "A")[0] == "a"  # case-insensitive match


@pytest.mark.parametrize("values,task", [
    (["yes", "no"] * 10, "binary"),
    ([0, 1] * 10, "binary"),
    (["a", "b", "c"] * 10, "multiclass"),
    ([1, 2, 3, 4] * 10, "multiclass"),
    (list(np.linspace(0, 1, 40)), "regression"),
    (list(range(100)), "regression"),
])
def test_task_inference(values, task):
    assert infer_task(pd.Series(values, name="t")) == task


def test_task_forced():
    assert infer_task(pd.Series([1, 2, 3, 4] * 10, name="t"), "regression") == "regression"
    with pytest.raises(DataError, match="needs a numeric target"):
        infer_task(pd.Series(["a", "b"] * 5, name="t"), "regression")


def test_roles():
    n = 100
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "id": np.arange(1, n + 1),
        "num": rng.normal(size=n),
        "const": ["same"] * n,
        "cat": rng.choice(["a", "b"], size=n),
        "review": [f"this product was really {w} and I would buy it {i}" for i, w in
                   enumerate(rng.choice(["good", "bad"], size=n))],
        "when": pd.date_range("2020-01-01", periods=n).strftime("%Y-%m-%d"),
        "code": [f"X{i:04d}" for i in range(n)],
        "y": rng.choice([0, 1], size=n),
    })
    roles = {c.name: c.role for c in infer_schema(df, "y", "binary").columns}
    assert roles == {"id": "identifier", "num": "numeric", "const": "constant", "cat": "categorical",
                     "review": "text", "when": "datetime", "code": "identifier"}


def test_role_overrides():
    df = pd.DataFrame({"a": [1, 2, 3] * 10, "b": ["x", "y", "z"] * 10, "y": [0, 1, 0] * 10})
    schema = infer_schema(df, "y", "binary", categorical=["a"], drop=["b"])
    assert {c.name: c.role for c in schema.columns} == {"a": "categorical", "b": "dropped"}


def test_titanic_roles_are_sensible(titanic):
    df = read_table(str(titanic))
    roles = {c.name: c.role for c in infer_schema(df, "Survived", "binary").columns}
    assert roles["PassengerId"] == "identifier"
    assert roles["Sex"] == "categorical"
    assert roles["Age"] == "numeric"
    assert roles["Name"] == "text"  # titles (Mr, Mrs, Master) carry signal through TF-IDF


def test_integer_measure_is_not_an_identifier():
    s = pd.Series(np.random.default_rng(0).permutation(1000)[:50] * 7, name="income")
    assert infer_role(s)[0] == "numeric"

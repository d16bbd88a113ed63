"""Contract over every entry of the unsupervised registry (cluster, reduce, anomalies): a new method is tested
the moment it is registered, through its command, on iris (shipped)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mlcli.errors import ConfigError
from mlcli.models.unsupervised import KINDS, METHODS, get_method, make_method

from conftest import SAMPLE, assert_error, modules_after

IRIS = SAMPLE / "iris.csv"
ENTRIES = [(kind, name) for kind in KINDS for name in METHODS[kind]]
OUTPUT = {"cluster": ["cluster"], "reduce": None, "anomalies": ["anomaly_score", "anomaly"]}


def test_every_entry_is_complete():
    for kind, name in ENTRIES:
        spec = METHODS[kind][name]
        assert spec.kind == kind and spec.summary and ":" in spec.path
        if kind == "cluster" and name != "dbscan":
            assert spec.k_param, name
        if kind == "reduce":
            assert spec.dims_param, name
        for alias in spec.aliases:
            assert get_method(kind, alias) is spec


@pytest.mark.parametrize("kind, name", ENTRIES)
def test_every_installed_method_runs_through_its_command(mlcli, kind, name):
    spec = METHODS[kind][name]
    if not spec.installed():
        assert_error(mlcli(kind, IRIS, "--method", name), f"needs the '{spec.install}' package")
        return
    args = ["--k", "3"] if spec.k_param and kind == "cluster" else []
    result = mlcli(kind, IRIS, "--method", name, "--drop", "species", *args, "-o", "rows.csv", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    rows = pd.read_csv("rows.csv")
    assert doc["command"] == kind and doc["method"] == name and len(rows) == 150
    expected = OUTPUT[kind] or doc["components"]
    assert list(rows.columns)[:len(expected)] == expected
    assert all(c.startswith("proba_") for c in list(rows.columns)[len(expected):])  # a mixture's memberships
    assert rows.notna().all().all()


@pytest.mark.parametrize("kind, name", [e for e in ENTRIES if METHODS[e[0]][e[1]].installed()])
def test_unknown_parameter_is_one_sentence(kind, name):
    with pytest.raises(ConfigError, match=f"method '{name}' has no parameter not_a_param"):
        make_method(METHODS[kind][name], {"not_a_param": 1})


def test_help_lists_every_method(mlcli):
    for kind in KINDS:
        text = mlcli(kind, "--help").stdout
        assert all(name in " ".join(text.split()) for name in METHODS[kind]), kind


def test_models_kind_lists_the_methods_and_their_parameters(mlcli):
    for kind in KINDS:
        rows = json.loads(mlcli("models", "--kind", kind, "--format", "json").stdout)
        assert [r["name"] for r in rows] == list(METHODS[kind])
        assert all(r["installed"] == METHODS[kind][r["name"]].installed() for r in rows)
    doc = json.loads(mlcli("models", "kmeans", "--format", "json").stdout)
    assert doc["task"] == "cluster" and doc["params"]["n_init"] == 10 and "n_clusters" in doc["params"]
    assert json.loads(mlcli("models", "svm", "--format", "json").stdout)["model"] == "svm"  # a model name wins
    assert_error(mlcli("models", "--kind", "clusters"), "--kind must be one of cluster, reduce, anomalies")


def test_help_and_listing_stay_light():
    heavy = {"torch", "sklearn", "pandas", "numpy", "matplotlib", "umap"}
    for argv in (["cluster", "--help"], ["reduce", "--help"], ["anomalies", "--help"],
                 ["models", "--kind", "anomalies", "--format", "json"]):
        assert not modules_after(*argv) & heavy, argv

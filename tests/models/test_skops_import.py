"""Saving and loading a bundle does not import torch (skops' import walks scikit-learn's packages, and the
array-API backends among them would import torch, dask and cupy: 1.5 s on every train and predict)."""

from __future__ import annotations

import importlib.util

import pytest

from conftest import modules_after


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed: nothing to avoid")
def test_train_and_predict_with_a_tree_model_never_import_torch(tmp_path, titanic):
    out = tmp_path / "bundle"
    mods = modules_after("train", str(titanic), "--model", "tree", "--out", str(out), "--quiet", "--no-leak-check")
    assert (out / "mlcli.json").exists()
    assert "skops" in mods and "torch" not in mods
    mods = modules_after("predict", str(out), str(titanic), "-o", str(tmp_path / "p.csv"))
    assert (tmp_path / "p.csv").exists()
    assert "torch" not in mods


def test_the_real_backend_still_imports_after_skops():
    import sys

    from mlcli.models.persist import skops_io

    skops_io()
    assert not any(isinstance(sys.modules.get(n), type(sys)) and not getattr(sys.modules[n], "__file__", "x")
                   for n in ("sklearn.externals.array_api_compat.torch",))

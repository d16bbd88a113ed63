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


def test_skops_import_does_not_walk_every_scikit_learn_module():
    import subprocess
    import sys

    code = ("import sys\nfrom mlcli.models.persist import skops_io\nskops_io()\n"
            "walked = ('sklearn.gaussian_process', 'sklearn.semi_supervised', 'sklearn.cross_decomposition')\n"
            "print(sorted(m for m in walked if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_skops_import_leaves_all_estimators_as_it_was():
    import sklearn.utils

    from mlcli.models.persist import skops_io

    walk = sklearn.utils.all_estimators
    skops_io()
    assert sklearn.utils.all_estimators is walk


def test_the_real_backend_still_imports_after_skops():
    import sys

    from mlcli.models.persist import skops_io

    skops_io()
    assert not any(isinstance(sys.modules.get(n), type(sys)) and not getattr(sys.modules[n], "__file__", "x")
                   for n in ("sklearn.externals.array_api_compat.torch",))


def test_a_bundle_of_many_arrays_saves_in_linear_time_and_loads_back():
    """skops checks the names written before each array; mlcli's archive keeps them in a set (an ensemble of
    bagged forests holds ~10^4 arrays: the list skops asks for made saving quadratic). Same content back."""
    import numpy as np

    from mlcli.models.trusted import _IndexedZipFile, skops_io

    sio = skops_io()
    import skops.io._persist as persist

    assert persist.ZipFile is _IndexedZipFile
    arrays = [np.arange(5, dtype=float) + i for i in range(3000)]
    back = sio.loads(sio.dumps({"arrays": arrays}), trusted=[])
    assert len(back["arrays"]) == 3000 and all(np.array_equal(a, b) for a, b in zip(arrays, back["arrays"]))

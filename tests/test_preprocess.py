"""The preprocessing blocks mlcli writes itself behave exactly like the scikit-learn steps they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from mlcli.pipeline.preprocess import MISSING, CategoryOneHot, _ObjectCaster


def _reference(min_frequency, max_categories):
    return Pipeline([("object", _ObjectCaster()), ("impute", SimpleImputer(strategy="constant", fill_value=MISSING)),
                     ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=min_frequency,
                                              max_categories=max_categories))])


@pytest.mark.parametrize("min_frequency", [0.01, 0.05, 3, None])
@pytest.mark.parametrize("max_categories", [50, 5, 2, None])
def test_category_one_hot_matches_sklearn(min_frequency, max_categories):
    """Same columns, names and values as SimpleImputer -> OneHotEncoder(infrequent_if_exist), with missing
    values, rare levels and levels never seen in training (GENERATED data)."""
    rng = np.random.default_rng(7)
    for _ in range(10):
        k, n = int(rng.integers(1, 60)), int(rng.integers(5, 2000))
        p = rng.dirichlet(np.ones(k) * rng.uniform(0.1, 3))
        train = rng.choice([f"L{i}" for i in range(k)], size=n, p=p).astype(object)
        train[rng.random(n) < 0.1] = np.nan
        test = rng.choice([f"L{i}" for i in range(k + 5)], size=300).astype(object)
        test[rng.random(300) < 0.1] = np.nan
        tr = pd.DataFrame({"c": pd.Series(train).astype("category")})
        te = pd.DataFrame({"c": pd.Series(test, dtype="str")})  # new data arrives as strings
        ref = _reference(min_frequency, max_categories).fit(tr)
        ours = CategoryOneHot(min_frequency=min_frequency, max_categories=max_categories).fit(tr)
        assert list(ours.get_feature_names_out(["c"])) == list(ref.get_feature_names_out(["c"]))
        for data in (tr, te):
            assert np.array_equal(ours.transform(data).toarray(), ref.transform(data).toarray())


def test_category_one_hot_dense_output_and_non_string_levels():
    X = pd.DataFrame({"k": [1, 2, 2, None, 3, 3, 3]})
    enc = CategoryOneHot(min_frequency=None, max_categories=None, sparse_output=False).fit(X)
    out = enc.transform(pd.DataFrame({"k": [3, None, 7]}))
    assert isinstance(out, np.ndarray)
    assert list(enc.get_feature_names_out(["k"])) == ["k_1.0", "k_2.0", "k_3.0", "k___missing__"]
    assert out.tolist() == [[0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]  # an unseen level: all zeros

"""The preprocessing blocks mlcli writes itself behave exactly like the scikit-learn steps they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from mlcli.features.onehot import MISSING, CategoryOneHot
from mlcli.features.transformers import ObjectCaster


def _reference(min_frequency, max_categories):
    return Pipeline([("object", ObjectCaster()), ("impute", SimpleImputer(strategy="constant", fill_value=MISSING)),
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


def test_csr_hstack_equals_scipy_hstack():
    """Dense blocks with zeros and NaN, CSR blocks with explicit zeros, row slices that do not divide evenly."""
    from scipy import sparse

    from mlcli.features.preprocess import csr_hstack

    rng = np.random.default_rng(3)
    n = 1001
    dense = rng.normal(size=(n, 4))
    dense[rng.random((n, 4)) < 0.3] = 0.0
    dense[rng.random((n, 4)) < 0.05] = np.nan
    onehot = sparse.random(n, 7, density=0.15, format="csr", random_state=1)
    onehot.data[::5] = 0.0  # explicit zeros are kept, as scipy keeps them
    empty = sparse.csr_matrix((n, 3))
    blocks = [dense, onehot, empty, dense[:, :1]]
    ours = csr_hstack(blocks, n, chunk=128)
    ref = sparse.hstack([sparse.csr_matrix(b) if not sparse.issparse(b) else b for b in blocks]).tocsr()
    assert ours.shape == ref.shape and ours.nnz == ref.nnz
    assert np.array_equal(ours.toarray(), ref.toarray(), equal_nan=True)


def test_median_imputer_matches_simple_imputer():
    """Medians, indicators for columns that had missing values, columns with no observed value dropped."""
    import warnings

    from mlcli.features.transformers import MedianImputer

    rng = np.random.default_rng(5)
    train = pd.DataFrame(rng.normal(size=(500, 5)), columns=list("abcde"))
    train.loc[rng.random(500) < 0.2, "a"] = np.nan
    train.loc[rng.random(500) < 0.5, "c"] = np.nan
    train["e"] = np.nan  # never observed
    test = pd.DataFrame(rng.normal(size=(50, 5)), columns=list("abcde"))
    test.loc[::3, ["a", "b", "e"]] = np.nan  # 'b' had no missing values in training: no indicator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SimpleImputer(strategy="median", add_indicator=True).fit(train)
        expected, expected_train = ref.transform(test), ref.transform(train)
    ours = MedianImputer().fit(train)
    assert list(ours.get_feature_names_out()) == list(ref.get_feature_names_out())
    assert np.allclose(ours.transform(test), expected, equal_nan=True)
    assert np.allclose(ours.transform(train.to_numpy()), expected_train)

"""Contract battery over every resampler in the registry, in the spirit of imbalanced-learn's
``utils/estimator_checks.py``: a ``--balance`` method is held to it the moment it is registered.

For every entry of ``mlcli.models.resamplers.RESAMPLERS``, on generated imbalanced binary data, it guarantees that:

- the class counts move as the entry's kind promises (over: the minority grows and the majority is kept; under:
  the majority shrinks, or for cleaning methods does not grow, and the minority is kept; combined: the minority
  grows), through ``mlcli balance``'s ``resample_frame``;
- the rows come back in the input's columns and order, integer columns stay integers, over-sampling keeps the
  original rows first and unchanged, under-sampling by selection returns input rows; the same seed gives the
  same rows;
- categorical values in the output are levels of the input (or missing), for every method that takes categorical
  columns; a method that cannot handle the columns it is given says so in one sentence (DataError/ConfigError);
- in a training pipeline the resampler runs at fit time only: predictions and the model's input have one row per
  row given.

Entries are skipped, with the pip line, when imbalanced-learn is not installed.
"""

from __future__ import annotations

from functools import cache
from importlib.util import find_spec

import numpy as np
import pandas as pd
import pytest

from mlcli.data.dataset import SYNTHETIC
from mlcli.data.roles import infer_schema
from mlcli.data.schema import Schema, prepare_frame
from mlcli.errors import ConfigError, DataError
from mlcli.evaluation.scoring import predict_indices
from mlcli.experiments.balance import resample_frame
from mlcli.features.provenance import model_input
from mlcli.models.build import ModelConfig, build_pipeline
from mlcli.models.resamplers import INSTALL, RESAMPLERS, ResamplerSpec

TARGET = "outcome"
MAJORITY, MINORITY = "well", "sick"
N_MAJORITY, N_MINORITY = 130, 30
SEED = 3

_NO_IMBLEARN = pytest.mark.skipif(find_spec("imblearn") is None,
                                  reason=f"the resamplers need imbalanced-learn, not installed: pip install {INSTALL}")
METHODS = [pytest.param(name, id=name, marks=_NO_IMBLEARN) for name in RESAMPLERS]
NEIGHBOUR_METHODS = [pytest.param(name, id=name, marks=_NO_IMBLEARN)
                     for name, spec in RESAMPLERS.items() if spec.neighbours]


# ------------------------------------------------------------------------------------------------------ data


@cache
def _frame(kind: str) -> pd.DataFrame:
    """Generated: 160 rows, 130 'well' and 30 'sick' (the target 'outcome'), the minority shifted in every column.

    numeric: 'visits' (integers 0..15) and 'score' (floats); mixed: those and 'region' (north/south/east, some
    missing); categorical: 'region' and 'smoker' (yes/no) only.
    """
    rng = np.random.default_rng(4)
    n = N_MAJORITY + N_MINORITY
    y = np.array([MAJORITY] * N_MAJORITY + [MINORITY] * N_MINORITY)
    minor = y == MINORITY
    df = pd.DataFrame({"visits": rng.integers(0, 12, size=n) + 4 * minor,
                       "score": rng.normal(size=n) + 1.5 * minor})
    if kind in ("mixed", "categorical"):
        df["region"] = np.where(rng.random(n) < 0.3 + 0.4 * minor, "north", rng.choice(["south", "east"], size=n))
        df.loc[::19, "region"] = None
    if kind == "categorical":
        df["smoker"] = np.where(rng.random(n) < 0.2 + 0.5 * minor, "yes", "no")
        df = df.drop(columns=["visits", "score"])
    df[TARGET] = y
    return df


def _schema(df: pd.DataFrame) -> Schema:
    return infer_schema(df, TARGET, "binary")


def _frame_for(spec: ResamplerSpec) -> pd.DataFrame:
    """A frame the method accepts: SMOTE-N is for all-categorical data, SMOTE-NC for categorical + numeric."""
    return _frame({"all": "categorical", "mixed": "mixed"}.get(spec.categorical, "numeric"))


def _resample(df: pd.DataFrame, name: str, seed: int = SEED) -> pd.DataFrame:
    out, _ = resample_frame(df, TARGET, _schema(df), RESAMPLERS[name], {}, None, seed)
    return out


def _counts(df: pd.DataFrame) -> tuple[int, int]:
    counts = df[TARGET].value_counts()
    return int(counts.get(MAJORITY, 0)), int(counts.get(MINORITY, 0))


def _is_cleaning(spec: ResamplerSpec) -> bool:
    """A cleaning method (Tomek links, ENN ...) removes only the rows it finds noisy: no target count."""
    from imblearn.under_sampling.base import BaseCleaningSampler

    from mlcli.models.estimators import import_object

    return issubclass(import_object(spec.path, install=INSTALL), BaseCleaningSampler)


def _accepts_categorical(name: str, spec: ResamplerSpec) -> bool:
    """SMOTE-NC / SMOTE-N, smote (which becomes one of them), and methods that only copy or drop rows."""
    return spec.categorical is not None or name == "smote" or not spec.synthesises


def _one_line(exc: BaseException) -> str:
    message = str(exc)
    assert message and "\n" not in message, message
    return message


# ---------------------------------------------------------------------------------------------------- checks


@pytest.mark.parametrize("name", METHODS)
def test_class_counts_move_as_the_kind_promises(name):
    spec = RESAMPLERS[name]
    df = _frame_for(spec)
    out = _resample(df, name)
    major, minor = _counts(out)
    if spec.kind == "over":
        assert minor > N_MINORITY and major == N_MAJORITY, (major, minor)
    elif spec.kind == "under":
        assert minor == N_MINORITY, (major, minor)
        if _is_cleaning(spec):
            assert major <= N_MAJORITY, (major, minor)
        else:
            assert major < N_MAJORITY, (major, minor)
    elif spec.kind == "combined":
        assert minor > N_MINORITY, (major, minor)
    else:
        pytest.fail(f"resampler '{name}': no check for kind {spec.kind!r}; add one here")


@pytest.mark.parametrize("name", METHODS)
def test_rows_keep_the_input_columns_and_types(name):
    spec = RESAMPLERS[name]
    df = _frame_for(spec)
    out = _resample(df, name)
    made = out.pop(SYNTHETIC) if SYNTHETIC in out.columns else None  # the rows balance made, marked
    assert list(out.columns) == list(df.columns)
    assert (made is None) == (spec.kind == "under" and not spec.synthesises)  # a real subset: nothing to mark
    assert set(out[TARGET]) == {MAJORITY, MINORITY}
    for col in df.columns:
        if pd.api.types.is_integer_dtype(df[col]):
            assert pd.api.types.is_integer_dtype(out[col]), (col, out[col].dtype)
        if pd.api.types.is_numeric_dtype(df[col]):
            assert out[col].notna().all(), col
    if spec.kind == "over":  # the original rows first, unchanged, and only the added rows marked
        pd.testing.assert_frame_equal(out.iloc[:len(df)].reset_index(drop=True), df.reset_index(drop=True))
        assert (made[:len(df)] == 0).all() and (made[len(df):] == 1).all()
    elif spec.kind == "under" and not spec.synthesises:  # a subset of the original rows
        assert len(out.merge(df.drop_duplicates(), how="left", indicator=True).query("_merge != 'both'")) == 0
    pd.testing.assert_frame_equal(_resample(df, name).drop(columns=SYNTHETIC, errors="ignore"), out)  # same seed


@pytest.mark.parametrize("name", METHODS)
def test_categorical_values_stay_real_levels(name):
    spec = RESAMPLERS[name]
    df = _frame("categorical" if spec.categorical == "all" else "mixed")
    cats = _schema(df).by_role("categorical")
    assert cats, "the frame must hold a categorical column"
    if not _accepts_categorical(name, spec):
        with pytest.raises((DataError, ConfigError)) as err:
            _resample(df, name)
        assert "categorical" in _one_line(err.value)
        return
    out = _resample(df, name)
    for col in cats:
        levels = set(df[col].dropna())
        values = set(out[col].dropna())
        assert values <= levels, (col, values - levels)


@pytest.mark.parametrize("name", METHODS)
def test_skipped_at_predict_time(name):
    spec = RESAMPLERS[name]
    df = _frame_for(spec)
    schema = _schema(df)
    X = prepare_frame(df, schema)
    pipe = build_pipeline(schema, ModelConfig("logreg", balance=name, seed=SEED))
    pipe.fit(X, df[TARGET].to_numpy())
    assert hasattr(pipe.named_steps["resample"], "sampler_")  # it ran at fit time
    for rows in (X, X.head(37)):
        pred, proba = predict_indices(pipe, rows, "binary")
        assert pred.shape == (len(rows),) and set(np.unique(pred)) <= {0, 1}
        assert proba is not None and proba.shape == (len(rows), 2)
        assert model_input(pipe, rows).shape[0] == len(rows)


@pytest.mark.parametrize("name", METHODS)
def test_runs_or_refuses_in_one_sentence_on_any_frame(name):
    """On numeric, mixed and all-categorical data a method either resamples or says why not: never a traceback
    from inside imbalanced-learn."""
    for kind in ("numeric", "mixed", "categorical"):
        df = _frame(kind)
        try:
            out = _resample(df, name)
        except (DataError, ConfigError) as exc:
            assert "balance method '" in _one_line(exc), (kind, str(exc))
        else:
            assert list(out.drop(columns=SYNTHETIC, errors="ignore").columns) == list(df.columns), kind


def test_smote_n_needs_categorical_columns():
    df = _frame("numeric")
    with pytest.raises(DataError, match="is for all-categorical data") as err:
        _resample(df, "smote-n")
    _one_line(err.value)
    with pytest.raises(ConfigError, match="is for categorical columns, and there are none") as err:
        build_pipeline(_schema(df), ModelConfig("logreg", balance="smote-n"))
    _one_line(err.value)


def test_smote_nc_needs_numeric_and_categorical_columns():
    with pytest.raises(DataError, match="smote-nc") as err:
        _resample(_frame("numeric"), "smote-nc")
    _one_line(err.value)
    with pytest.raises(ConfigError, match="is for categorical columns, and there are none") as err:
        build_pipeline(_schema(_frame("numeric")), ModelConfig("logreg", balance="smote-nc"))
    _one_line(err.value)


@pytest.mark.parametrize("name", NEIGHBOUR_METHODS)
def test_too_few_minority_rows_for_the_neighbours(name):
    """Three minority rows are too few for 5 neighbours: one sentence naming the parameter, in both routes."""
    spec = RESAMPLERS[name]
    df = _frame_for(spec)
    small = pd.concat([df[df[TARGET] == MAJORITY], df[df[TARGET] == MINORITY].head(3)], ignore_index=True)
    with pytest.raises(DataError, match=f"needs at least 6 rows of every class \\({spec.neighbours}=5") as err:
        _resample(small, name)
    _one_line(err.value)
    schema = _schema(small)
    pipe = build_pipeline(schema, ModelConfig("logreg", balance=name, seed=SEED))
    with pytest.raises(DataError, match=spec.neighbours) as err:
        pipe.fit(prepare_frame(small, schema), small[TARGET].to_numpy())
    _one_line(err.value)

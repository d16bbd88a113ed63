"""Contract battery over every model in the registry, in the spirit of imbalanced-learn's
``utils/estimator_checks.py``: a model is held to it the moment it is registered.

For every (model, task) an entry of ``mlcli.models.registry.MODELS`` claims, on generated data with a numeric,
a categorical and a free-text column (all with missing values), it guarantees that:

1. the pipeline fits and predicts every row: class indices in range and probabilities that sum to 1, or finite
   regression predictions; and it learned something (above the majority rate / R^2 > 0);
2. the same seed gives identical predictions and probabilities;
3. ``--threads`` reaches the library estimator's own threads parameter;
4. ``--class-weight balanced`` reaches the model the way its entry says, or is refused in one sentence;
5. a saved and reloaded bundle predicts exactly what the fitted pipeline predicts;
6. native importances name user columns and add up to 1 (or there are none, and the answer is ``[]``);
7. SHAP values add up to the explained output, per user column.

An entry whose library is not installed is skipped with the pip line that installs it: nothing is left out
silently. The transformer (a text-only model) runs against the session's tiny random BERT.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec

import numpy as np
import pandas as pd
import pytest

from mlcli.data.roles import infer_schema
from mlcli.data.schema import Schema, prepare_frame
from mlcli.errors import ConfigError
from mlcli.evaluation.scoring import predict_indices
from mlcli.models.build import ModelConfig, build_pipeline
from mlcli.models.registry import MODELS
from mlcli.models.spec import REGRESSION
from mlcli.models.steps import ClassWeighted, final_model, unwrap

from conftest import FILLER, NEGATIVE, NOUNS, POSITIVE

SEED = 7
N_ROWS = 120
ROLES = {"num": "numeric", "cat": "categorical", "review": "text"}

# Fewer trees / iterations than the registry defaults: the battery is about contracts, not accuracy, and must stay
# fast on a 2-core runner with one thread per model.
FAST_PARAMS: dict[str, dict] = {
    "rf": {"n_estimators": 20}, "extratrees": {"n_estimators": 20}, "balanced-rf": {"n_estimators": 20},
    "xgboost": {"n_estimators": 30}, "lightgbm": {"n_estimators": 30}, "catboost": {"iterations": 30},
    "hgb": {"max_iter": 30}, "adaboost": {"n_estimators": 20}, "rusboost": {"n_estimators": 20},
    "easy-ensemble": {"n_estimators": 5}, "mlp": {"max_iter": 200},
    # the transformer's base_model (the tiny random BERT) is added at run time: see _params
    "transformer": {"epochs": 1, "batch_size": 16, "verbose": 0},
}


def _install_line(spec) -> str:
    extra = f" (or: pip install 'mlcli[{spec.extra}]')" if spec.extra else ""
    return f"pip install {spec.install}{extra}"


def _cases(tasks: tuple[str, ...] | None = None) -> list:
    """Every (model, task) the registry claims, built at import time: a new entry is a new row of cases."""
    out = []
    for name, spec in MODELS.items():
        for task in spec.tasks:
            if tasks is not None and task not in tasks:
                continue
            marks = pytest.mark.skipif(
                not spec.installed(),
                reason=f"model '{name}' needs the '{spec.package}' package, not installed: {_install_line(spec)}")
            out.append(pytest.param(name, task, id=f"{name}-{task}", marks=marks))
    return out


CASES = _cases()
CLASSIFICATION_CASES = _cases(("binary", "multiclass"))


# ------------------------------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class Data:
    frame: pd.DataFrame
    schema: Schema
    X: pd.DataFrame
    y: np.ndarray
    classes: list

    @property
    def used(self) -> set[str]:
        return {c.name for c in self.schema.used}


@cache
def _data(task: str) -> Data:
    """Generated: 120 rows. 'num' (normal, ~9 % missing), 'cat' (red/green/blue, ~8 % missing) and 'review'
    (4-7 words from the tiny BERT's vocabulary, mostly distinct, ~6 % missing). The target follows
    num + (cat == red) + (review holds a positive word): above the median (binary), its terciles (multiclass, 3
    classes) or 2x the signal plus noise (regression)."""
    rng = np.random.default_rng(11)
    a = rng.normal(size=N_ROWS)
    color = rng.choice(["red", "green", "blue"], size=N_ROWS)
    happy = rng.random(N_ROWS) < 0.5
    reviews = []
    for i in range(N_ROWS):
        words = [*rng.choice(FILLER, size=rng.integers(2, 5)), rng.choice(NOUNS),
                 rng.choice(POSITIVE if happy[i] else NEGATIVE)]
        rng.shuffle(words)
        reviews.append(" ".join(words))
    signal = a + 1.0 * (color == "red") + 1.0 * happy
    df = pd.DataFrame({"num": a, "cat": color, "review": reviews})
    df.loc[::11, "num"] = np.nan
    df.loc[3::13, "cat"] = None
    df.loc[5::17, "review"] = None
    if task == "binary":
        df["y"] = (signal > np.median(signal)).astype(int)
    elif task == "multiclass":
        df["y"] = pd.qcut(signal, 3, labels=False).astype(int)
    else:
        df["y"] = 2 * signal + rng.normal(scale=0.2, size=N_ROWS)
    schema = infer_schema(df, "y", task)
    _assert_exercises_every_role(schema, df)
    y = df["y"].to_numpy()
    classes = [] if task in REGRESSION else sorted(np.unique(y).tolist())
    return Data(df, schema, prepare_frame(df, schema), y, classes)


def _assert_exercises_every_role(schema: Schema, df: pd.DataFrame) -> None:
    """The roles come from mlcli's own inference: the frame really holds numeric, categorical and text columns,
    each with missing values (so imputation and missing-text handling run in every model)."""
    assert {c.name: c.role for c in schema.columns} == ROLES, [(c.name, c.role, c.reason) for c in schema.columns]
    for col in ROLES:
        assert df[col].isna().any(), col
    texts = df["review"].dropna()
    assert (texts.str.split().str.len() >= 3).all() and texts.nunique() > 0.8 * len(texts)


# --------------------------------------------------------------------------------------------------- fitting


def _params(name: str, request) -> dict:
    params = dict(FAST_PARAMS.get(name, {}))
    if MODELS[name].text_only:  # the tiny random BERT (session fixture), loaded offline like a real model
        params["base_model"] = str(request.getfixturevalue("tiny_bert"))
    return params


def _fit(name: str, task: str, params: dict, **config) -> object:
    data = _data(task)
    pipe = build_pipeline(data.schema, ModelConfig(name, params=dict(params), seed=SEED, **config))
    return pipe.fit(data.X, data.y)


@pytest.fixture(scope="module")
def fitted():
    """fitted(name, task, params) -> the pipeline fitted with seed 7 on the task's data, once per module."""
    cache_: dict[tuple[str, str], object] = {}

    def get(name: str, task: str, params: dict):
        if (name, task) not in cache_:
            cache_[(name, task)] = _fit(name, task, params)
        return cache_[(name, task)]

    return get


def _library_estimator(pipe) -> object:
    """The library's estimator in an unfitted pipeline: inside class weights, early stopping, calibration and
    a target transform."""
    return unwrap(final_model(pipe))


# ---------------------------------------------------------------------------------------------------- checks


@pytest.mark.parametrize("name, task", CASES)
def test_fit_predict(name, task, request, fitted):
    data = _data(task)
    pipe = fitted(name, task, _params(name, request))
    pred, proba = predict_indices(pipe, data.X, task)
    assert pred.shape == (N_ROWS,)
    # A random 2-layer BERT fine-tuned for one epoch on 120 rows learns nothing dependable: for text-only models
    # only shapes and ranges are checked (tests/text holds their learning tests). The baseline learns nothing by
    # design: it predicts the training mean (R^2 exactly 0) or the class shares (the majority class).
    learns = not MODELS[name].text_only
    if task in REGRESSION:
        assert proba is None and np.isfinite(pred).all()
        r2 = 1 - ((data.y - pred) ** 2).sum() / ((data.y - data.y.mean()) ** 2).sum()
        if MODELS[name].baseline:
            assert r2 == pytest.approx(0.0, abs=1e-9) and np.ptp(pred) == 0
        elif learns:
            assert r2 > 0, f"training R^2 {r2:.3f}"
        return
    k = len(data.classes)
    assert set(np.unique(pred)) <= set(range(k))
    if hasattr(pipe, "predict_proba"):
        assert proba is not None and proba.shape == (N_ROWS, k)
        assert np.isfinite(proba).all() and (proba >= 0).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    if learns:
        majority = np.bincount(data.y).max() / N_ROWS
        accuracy = float((pred == data.y).mean())
        assert accuracy > majority - 0.02, f"training accuracy {accuracy:.3f}, majority rate {majority:.3f}"


@pytest.mark.parametrize("name, task", CASES)
def test_same_seed_same_predictions(name, task, request, fitted):
    data = _data(task)
    params = _params(name, request)
    first = predict_indices(fitted(name, task, params), data.X, task)
    second = predict_indices(_fit(name, task, params), data.X, task)
    assert np.array_equal(first[0], second[0])
    if first[1] is not None:
        assert np.array_equal(first[1], second[1])


@pytest.mark.parametrize("name, task", CASES)
def test_threads_reach_the_estimator(name, task, request):
    spec = MODELS[name]
    if spec.threads_param is None:
        pytest.skip(f"model '{name}' has no threads parameter (threads_param is None)")
    data = _data(task)
    params = _params(name, request)
    est = _library_estimator(build_pipeline(data.schema, ModelConfig(name, params=params, seed=SEED, n_threads=3)))
    own = est.get_params(deep=False)
    if spec.threads_param not in own:
        pytest.skip(f"{type(est).__name__} ({name}, {task}) has no '{spec.threads_param}' parameter")
    assert own[spec.threads_param] == 3
    # without --threads, MLCLI_THREADS (1 in the tests) decides
    default = _library_estimator(build_pipeline(data.schema, ModelConfig(name, params=params, seed=SEED)))
    assert default.get_params(deep=False)[spec.threads_param] == 1


@pytest.mark.parametrize("name, task", CLASSIFICATION_CASES)
def test_class_weights_reach_the_model(name, task, request):
    spec = MODELS[name]
    data = _data(task)
    params = _params(name, request)
    config = ModelConfig(name, params=params, seed=SEED, class_weight="balanced")
    if spec.class_weight is None:
        with pytest.raises(ConfigError, match="does not take class weights") as err:
            build_pipeline(data.schema, config)
        assert "\n" not in str(err.value)
        return
    pipe = build_pipeline(data.schema, config)
    template = _library_estimator(pipe)
    pipe.fit(data.X, data.y)
    model = final_model(pipe)
    if spec.class_weight == "class_weight":
        assert template.get_params(deep=False)["class_weight"] == "balanced"
        assert unwrap(model).get_params(deep=False)["class_weight"] == "balanced"  # the fitted one too
    elif spec.class_weight == "sample_weight":
        assert isinstance(pipe.steps[-1][1], ClassWeighted) and pipe.steps[-1][1].class_weight == "balanced"
        assert not isinstance(model, ClassWeighted)  # final_model reaches the fitted library estimator
    elif spec.class_weight == "auto_class_weights":
        assert model.get_params()["auto_class_weights"] == "Balanced"
    else:
        pytest.fail(f"model '{name}': no check for class_weight kind {spec.class_weight!r}; add one here")
    pred, _ = predict_indices(pipe, data.X, task)
    assert pred.shape == (N_ROWS,) and set(np.unique(pred)) <= set(range(len(data.classes)))


@pytest.mark.parametrize("name, task", CASES)
def test_bundle_round_trip(name, task, request, fitted, tmp_path):
    from mlcli.models.bundle import load_bundle, save_bundle

    data = _data(task)
    pipe = fitted(name, task, _params(name, request))
    meta = {"model": name, "task": task, "target": "y", "classes": data.classes, "schema": data.schema.to_dict()}
    save_bundle(tmp_path / "b", pipe, meta)
    bundle = load_bundle(tmp_path / "b")
    assert bundle.task == task and bundle.classes == data.classes and bundle.schema == data.schema
    before = predict_indices(pipe, data.X, task)
    after = predict_indices(bundle.pipeline, data.X, task)
    assert np.array_equal(before[0], after[0])
    if before[1] is not None:
        np.testing.assert_allclose(after[1], before[1])


@pytest.mark.parametrize("name, task", CASES)
def test_native_importances_name_user_columns(name, task, request, fitted):
    from mlcli.explain.native import has_native, native_importances

    data = _data(task)
    pipe = fitted(name, task, _params(name, request))
    importances = native_importances(pipe)
    if not has_native(pipe):
        assert importances == []
        return
    assert importances, f"model '{name}' has native importances but reports none"
    features = [i["feature"] for i in importances]
    assert set(features) <= data.used and len(set(features)) == len(features)
    assert all(i["importance"] >= 0 for i in importances)
    # each share is rounded to 6 decimals: the sum is 1 within 5e-7 per column
    assert sum(i["importance"] for i in importances) == pytest.approx(1.0, abs=max(1e-6, 5e-7 * len(features)))


@pytest.mark.parametrize("name, task", CASES)
def test_shap_values_add_up(name, task, request, fitted):
    from mlcli.explain.shap import needs_background, needs_shap_package, shap_values

    if MODELS[name].text_only:
        pytest.skip(f"model '{name}' is text-only: SHAP over columns would re-run the fine-tuned network for "
                    "every coalition, and the tiny random BERT's outputs carry nothing to attribute")
    data = _data(task)
    pipe = fitted(name, task, _params(name, request))
    if needs_shap_package(pipe) and find_spec("shap") is None:
        pytest.skip(f"SHAP for model '{name}' needs the 'shap' package: pip install shap (or 'mlcli[explain]')")
    X = data.X.head(6)
    background = data.X.head(15) if needs_background(pipe) else None
    sv = shap_values(pipe, data.schema, X, task, data.classes, background=background, seed=0)
    k = len(data.classes) if task == "multiclass" else 1
    assert sv.values.shape == (len(X), k, len(sv.columns))
    assert sv.base.shape == sv.output.shape == (len(X), k)
    assert set(sv.columns) <= data.used
    scale = max(1.0, float(np.abs(sv.output).max()))
    np.testing.assert_allclose(sv.base + sv.values.sum(axis=-1), sv.output, rtol=1e-4, atol=1e-4 * scale)
    # the output explained is the model's own (for probability and prediction outputs; margins: test_shap.py)
    if sv.kind == "probability":
        proba = pipe.predict_proba(X)
        np.testing.assert_allclose(sv.output, proba[:, 1:] if task == "binary" else proba, rtol=1e-5, atol=1e-6)
    elif sv.kind == "prediction":
        np.testing.assert_allclose(sv.output[:, 0], pipe.predict(X), rtol=1e-5, atol=1e-6)

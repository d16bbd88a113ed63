"""Contract battery for `mlcli explain`: every method, one model per SHAP route of the registry, and every kind
of missing value, driven through the CLI the way a user runs it (train a bundle, then explain it).

Data: generated (150 rows, binary target 'y' with signal), with a numeric, a categorical (a pandas Categorical in
the feature frame), a free-text and a date column, each with missing values; row ``ROW`` is missing in all four.

For every (model, method) it guarantees that `mlcli explain BUNDLE DATA` exits 0 and its JSON ranks exactly the
data's columns (so every column with a missing value), with finite importances; that SHAP's direction of the
categorical column is a string or null; that ``--row`` explains a row whose values are missing, and its
contributions add up. For every kind of column it also explains rows that are all missing in that column.

The models are chosen from the registry by SHAP route (``ModelSpec.explainer``): per route, the first installed
'fast' entry that does binary classification (else the first installed one), so a new route is covered the moment
an entry uses it; a route with nothing installed is skipped with the pip line that installs it.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from mlcli.experiments.explain import METHODS
from mlcli.models.registry import MODELS

from conftest import FILLER, NEGATIVE, NOUNS, POSITIVE
from conftest import cli as _cli

N_ROWS = 150
SEED = 5
ROW = 7  # missing in every feature column; `--row ROW` explains it
ROLES = {"num": "numeric", "cat": "categorical", "note": "text", "when": "datetime"}
COLUMNS = set(ROLES)
BLANK_ROWS = 60  # the all-missing files: the first rows of the data, one column emptied
FAST = {"rf": ["n_estimators=30"], "extratrees": ["n_estimators=30"], "xgboost": ["n_estimators=30"],
        "lightgbm": ["n_estimators=30"], "catboost": ["iterations=30"], "hgb": ["max_iter=30"],
        "mlp": ["max_iter=200"]}


# ------------------------------------------------------------------------------------------------ the cases

def _pip_line(spec) -> str:
    extra = f" (or: pip install 'mlcli[{spec.extra}]')" if spec.extra else ""
    return f"pip install {spec.install}{extra}"


def _route_models() -> list:
    """One model per SHAP route (a pytest.param per route, skipped with its pip line when none is installed)."""
    out = []
    for route in dict.fromkeys(s.explainer for s in MODELS.values()):
        specs = [s for s in MODELS.values()
                 if s.explainer == route and "binary" in s.tasks and not s.text_only and not s.baseline]
        installed = sorted((s for s in specs if s.installed()), key=lambda s: not s.fast)
        if installed:
            out.append(pytest.param(installed[0].name, id=f"{route}-{installed[0].name}"))
        elif specs:
            reason = f"no model of SHAP route '{route}' installed: {_pip_line(specs[0])}"
            skip = pytest.mark.skip(reason=reason)
            out.append(pytest.param(specs[0].name, id=f"{route}-{specs[0].name}", marks=skip))
    return out


def _combine(models: list, values: list[str]) -> list:
    return [pytest.param(*m.values, v, id=f"{m.id}-{v}", marks=m.marks) for m in models for v in values]


ROUTE_MODELS = _route_models()
EXPLAIN_METHODS = [*METHODS, "row"]  # every --method, and one row explained with --row
CASES = _combine(ROUTE_MODELS, EXPLAIN_METHODS)
BLANK_CASES = _combine(ROUTE_MODELS, list(ROLES))


# ------------------------------------------------------------------------------------------------ data

def _notes(rng: np.random.Generator, y: np.ndarray) -> list[str]:
    """Free text, 4-7 words a row, mostly distinct; the sentiment words lean towards the class."""
    out = []
    for label in y:
        lean = POSITIVE if (label == 1) == (rng.random() < 0.8) else NEGATIVE
        words = [*rng.choice(FILLER, size=rng.integers(2, 5)), rng.choice(NOUNS), rng.choice(lean)]
        rng.shuffle(words)
        out.append(" ".join(words))
    return out


def make_frame(n: int = N_ROWS, seed: int = SEED) -> pd.DataFrame:
    """Generated: num and cat carry the signal; every feature column has missing values, row ROW in all."""
    rng = np.random.default_rng(seed)
    num = rng.normal(size=n)
    cat = rng.choice(["red", "green", "blue"], size=n)
    logit = 1.5 * num + 1.5 * (cat == "red") - 0.7
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    days = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, size=n), unit="D")
    df = pd.DataFrame({"num": num, "cat": cat, "note": _notes(rng, y), "when": days.strftime("%Y-%m-%d"), "y": y})
    for col in ROLES:
        missing = rng.random(n) < 0.12
        missing[ROW] = True
        df[col] = df[col].astype(object).where(~missing, None) if col != "num" else df[col].where(~missing)
    return df


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, str]:
    """The data file ('full') and, per column, its first BLANK_ROWS rows with that column emptied."""
    root = tmp_path_factory.mktemp("explain-contract")
    df = make_frame()
    files = {"full": root / "data.csv"}
    df.to_csv(files["full"], index=False)
    for col in ROLES:
        files[col] = root / f"blank-{col}.csv"
        df.head(BLANK_ROWS).assign(**{col: np.nan}).to_csv(files[col], index=False)
    return {k: str(v) for k, v in files.items()}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, data):
    """bundles(model): trained on the full data on first use, `mlcli train` as a user runs it."""
    root = tmp_path_factory.mktemp("explain-contract-bundles")
    made: dict[str, str] = {}

    def get(model: str) -> str:
        if model not in made:
            params = [a for p in FAST.get(model, []) for a in ("--param", p)]
            out = root / model
            r = _cli("train", data["full"], "--target", "y", "--model", model, "--out", out, "-q", "-f", "json",
                     *params)
            assert r.exit_code == 0, r.stderr
            made[model] = str(out)
        return made[model]

    return get


def explain_json(bundle: str, path: str, *args: str) -> dict:
    r = _cli("explain", bundle, path, *args, "-f", "json", "-q")
    assert r.exit_code == 0, (r.exit_code, r.stderr)
    return json.loads(r.stdout)


def _method_args(method: str) -> list[str]:
    return ["--row", str(ROW)] if method == "row" else ["--method", method, "--repeats", "2"]


# ------------------------------------------------------------------------------------------------ checks

def check_ranking(doc: dict) -> None:
    """Exactly the data's columns, each once, with a finite importance; in every method's list too."""
    lists = [doc["features"]] + [m["features"] for m in doc["methods"].values()]
    assert doc["methods"]
    for features in lists:
        names = [f["name"] for f in features]
        assert sorted(names) == sorted(COLUMNS), names
        assert all(isinstance(f["importance"], float | int) and math.isfinite(f["importance"]) for f in features)


def shap_direction(doc: dict, column: str) -> str | None:
    direction = {f["name"]: f["direction"] for f in doc["methods"]["shap"]["features"]}[column]
    assert direction is None or isinstance(direction, str), direction
    return direction


def check_row(doc: dict) -> None:
    assert doc["row"] == ROW
    assert all(doc["values"][c] is None for c in ROLES)  # every feature of ROW is missing
    assert {c["name"] for c in doc["contributions"]} == COLUMNS
    total = doc["base_value"] + sum(c["contribution"] for c in doc["contributions"])
    assert total == pytest.approx(doc["output_value"], abs=1e-3)


# ------------------------------------------------------------------------------------------------ tests

def test_the_data_has_every_kind_of_missing_value():
    """The battery's premise: each column gets its role, and the categorical one is a pandas Categorical."""
    from mlcli.data.roles import infer_schema
    from mlcli.data.schema import prepare_frame

    df = make_frame()
    schema = infer_schema(df, "y", "binary")
    assert {c.name: c.role for c in schema.columns} == ROLES
    X = prepare_frame(df, schema)
    assert isinstance(X["cat"].dtype, pd.CategoricalDtype)
    assert all(X[c].isna().sum() >= 5 for c in ROLES) and X.iloc[ROW].isna().all()
    assert df["note"].str.split().str.len().min() >= 3 and df["note"].nunique() > 0.9 * df["note"].notna().sum()
    assert 0.25 < df["y"].mean() < 0.75


@pytest.mark.parametrize("model, method", CASES)
def test_explain_with_missing_values(bundles, data, model, method):
    doc = explain_json(bundles(model), data["full"], *_method_args(method))
    if method == "row":
        check_row(doc)
        return
    check_ranking(doc)
    if "shap" in doc["methods"]:  # None only where the model ignores the column (CatBoost with few trees may)
        direction = shap_direction(doc, "cat")
        assert direction is None or direction.startswith("highest for "), direction


@pytest.mark.parametrize("model, column", BLANK_CASES)
def test_explained_rows_all_missing_in_one_column(bundles, data, model, column):
    doc = explain_json(bundles(model), data[column], "--method", "all", "--repeats", "2")
    assert doc["rows"] == BLANK_ROWS
    check_ranking(doc)
    assert set(doc["methods"]) >= {"permutation", "shap"}
    assert shap_direction(doc, column) is None  # one value (missing) everywhere: no direction
    shap_direction(doc, "cat")


def test_categorical_direction_counts_missing_values_as_their_own_group():
    from mlcli.explain.shap import _direction

    raw = pd.Series(pd.Categorical(["a", "b", None, "a", "b", None, "a", None]))
    values = np.array([0.1, -0.2, 0.9, 0.1, -0.2, 0.8, 0.0, 1.0])
    assert _direction(values, raw, "categorical") == "highest for (missing)"
    assert _direction(-values, raw, "categorical") == "highest for b"
    assert _direction(values, pd.Series(pd.Categorical([None] * 8, categories=["a"])), "categorical") is None
    assert _direction(np.zeros(8), raw, "categorical") is None  # a column the model ignores pushes nowhere

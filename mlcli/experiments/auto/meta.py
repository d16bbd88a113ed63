"""FLAML's shipped zero-shot tables, read without importing FLAML: a dataset's meta-features, its nearest
neighbour among the datasets FLAML mined, and that neighbour's ranked configurations for one learner.

FLAML (2.x) ships one table per learner and task inside its wheel, ``flaml/default/<learner>/<task>.json``:
``meta_feature_names`` (rows, features, classes, share of numeric features), ``preprocessing`` (a ``center``
and a ``scale`` per meta-feature), ``neighbors`` (each a mined dataset's standardised meta-features and its
``choice``: indices into the portfolio, best first) and ``portfolio`` (the configurations). The neighbour is
the one nearest, by Euclidean distance, to ``(meta-features - center) / scale``; FLAML's own
``flaml.default.suggest_config`` does the same with scikit-learn's ``NearestNeighbors`` (the tests compare).
The files are found with ``importlib.util.find_spec("flaml")``, which imports nothing.

**Which columns count.** FLAML computes the meta-features on the frame its ``DataTransformer`` leaves: one
column per user column, less constant and identifier-like columns, categorical and text columns as
non-numeric. mlcli's schema already drops identifiers and constants, so :func:`meta_of_schema` counts the
raw columns mlcli uses (``Schema.used``, before one-hot or TF-IDF expansion): numeric and datetime columns
as numeric, categorical and text columns as not. (FLAML adds up to nine numeric parts per datetime column;
with the feature scales of its tables, 130 columns for binary tasks, that rarely changes the neighbour.)
"""

from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

FLAML_LEARNERS = ("lgbm", "xgboost", "xgb_limitdepth", "rf", "extra_tree")
TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class MetaFeatures:
    """The four numbers FLAML's tables are indexed by."""

    n_rows: int
    n_features: int
    n_classes: int  # 0 for regression, as FLAML counts it
    numeric_share: float  # numeric columns / all used columns, in [0, 1]

    def value(self, name: str) -> float:
        values = {"NumberOfInstances": self.n_rows, "NumberOfFeatures": self.n_features,
                  "NumberOfClasses": self.n_classes, "PercentageOfNumericFeatures": self.numeric_share}
        if name not in values:
            raise ValueError(f"FLAML table asks for meta-feature '{name}', which mlcli does not compute")
        return float(values[name])


def meta_features(task: str, n_rows: int, n_features: int, n_classes: int, numeric_share: float) -> MetaFeatures:
    """Meta-features as FLAML's tables expect them (regression has 0 classes whatever is passed)."""
    return MetaFeatures(int(n_rows), int(n_features), 0 if task == "regression" else int(n_classes),
                        min(max(float(numeric_share), 0.0), 1.0))


def meta_of_schema(schema: Any, n_rows: int, n_classes: int) -> MetaFeatures:
    """Meta-features of an mlcli schema (see the module docstring for which columns count)."""
    used = schema.used
    numeric = sum(c.role in ("numeric", "datetime") for c in used)
    return meta_features(schema.task, n_rows, len(used), n_classes, numeric / len(used) if used else 1.0)


def flaml_default_dir() -> Path | None:
    """``flaml/default`` of the installed FLAML, or None when FLAML is not installed (nothing is imported)."""
    spec = importlib.util.find_spec("flaml")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "default"
    return path if path.is_dir() else None


@lru_cache(maxsize=32)
def load_table(learner: str, task: str) -> dict[str, Any] | None:
    """FLAML's table for ``learner`` and ``task``, or None when FLAML or that table is missing."""
    base = flaml_default_dir()
    path = base / learner / f"{task}.json" if base is not None else None
    if path is None or not path.is_file():
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def nearest_neighbour(table: dict[str, Any], meta: MetaFeatures) -> int:
    """Index in ``table['neighbors']`` of the mined dataset nearest to ``meta`` (the first of equals)."""
    prep = table["preprocessing"]
    point = [(meta.value(name) - c) / s
             for name, c, s in zip(table["meta_feature_names"], prep["center"], prep["scale"], strict=True)]
    distances = [math.dist(point, n["features"]) for n in table["neighbors"]]
    return min(range(len(distances)), key=distances.__getitem__)


def ranked_configs(learner: str, task: str, meta: MetaFeatures) -> list[dict[str, Any]]:
    """The nearest neighbour's configurations for ``learner``, best first, as FLAML ranks them; each a copy
    of FLAML's hyperparameters without ``FLAML_sample_size`` (the rows FLAML's search had subsampled to).
    An empty dict is the learner's own defaults. [] when FLAML or the table is not installed."""
    table = load_table(learner, task)
    if table is None:
        return []
    neighbour = table["neighbors"][nearest_neighbour(table, meta)]
    out = []
    for index in neighbour["choice"]:
        config = dict(table["portfolio"][index].get("hyperparameters") or {})
        config.pop("FLAML_sample_size", None)
        out.append(config)
    return out


def learner_rank(task: str, meta: MetaFeatures, learners: tuple[str, ...]) -> list[str]:
    """``learners`` in the order FLAML's cross-learner table (``all``) ranks their best configuration for the
    nearest neighbour; learners it does not rank keep their given order at the end."""
    table = load_table("all", task)
    if table is None:
        return list(learners)
    neighbour = table["neighbors"][nearest_neighbour(table, meta)]
    order: list[str] = []
    for index in neighbour["choice"]:
        name = table["portfolio"][index]["class"]
        if name in learners and name not in order:
            order.append(name)
    return order + [n for n in learners if n not in order]

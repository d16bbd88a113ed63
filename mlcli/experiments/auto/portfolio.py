"""The zero-shot portfolio of ``mlcli auto``: strong configurations to try first, cheapest per expected gain first.

:func:`portfolio` turns a dataset's shape (rows, used columns, classes, share of numeric columns, text or not)
into an ordered list of :class:`Candidate` (registry model, ``--param`` values, a label such as
``lightgbm#flaml1``, the expected seconds of one fold fit). Nothing is fitted and nothing heavy is imported.

**Order.** Three tiers, each tried before the next; the expected gain falls from tier to tier:

1. ``default`` - the registry defaults of the usual five models, as ``train --model M`` fits them: logistic
   regression (linear regression for a numeric target), random forest, and the strong boosters CatBoost,
   LightGBM and XGBoost (with early stopping, as ``cv`` fits them); cheapest first, so the first model of a
   short budget is a cheap one. The best of them by out-of-fold score is the guard's reference
   (:func:`mlcli.experiments.auto.board.guard_choice`): on the gauntlet's small files the best of the usual
   five on the held-out rows was the linear model or the forest on 9 of 26, which a booster-only reference
   never saw. With a strictly positive, strongly skewed regression target (skewness above 2, the target
   advice's rule), the three boosters' defaults are tried on log(1 + y) too (``lightgbm#log``: as
   ``--log-target``, predicting in the target's units), so the out-of-fold score chooses between the scales.
2. ``flaml`` - FLAML's meta-learned configurations for this data (:mod:`mlcli.experiments.auto.meta`: the
   nearest mined dataset's ranked list for lgbm, xgboost, xgb_limitdepth, rf and extra_tree), rank by rank:
   every learner's first choice before any second choice, cheapest first within a rank (equal expected gain).
3. ``variant`` - hand-written configurations (:data:`HAND_WRITTEN`) and, with text and the text extra
   installed, sentence-embedding paths (``--text-features embed``); cheapest first.

A configuration equal to an earlier one (FLAML's ``{}``, the learner's defaults) is left out; models that are
not installed or do not do the task are skipped; with text columns k-NN is skipped (Euclidean distance over
20,000 sparse TF-IDF columns is slow and weak). ``limit`` keeps the first ``limit`` candidates.

**Expected cost** of a fold fit: ``cv``'s table (:data:`mlcli.experiments.cv.schedule.SECONDS`, one thread, an
Adult-sized fold, registry defaults) scaled by rows x columns, times a factor for how much more work the
configuration does than the defaults: boosting rounds expected (``30 / learning_rate`` under early stopping,
the set count without), leaves or depth (square root), column subsampling; trees and features per split for
forests; hidden units for the MLP; plus, for embeddings, 25 texts a second (README, measured on 2 shared cores).

**Translating FLAML.** ``lgbm`` -> ``lightgbm``: its parameters keep their names; ``log_max_bin`` is *not*
passed on (max_bin = 2**v - 1), because mlcli's ``--param`` check accepts only the parameters that LightGBM's
scikit-learn class names, and ``max_bin`` travels in its ``**kwargs`` (a test notices when that changes).
``xgboost`` -> ``xgboost`` with ``max_leaves``, ``max_depth=0`` and ``grow_policy=lossguide`` (as FLAML fits it);
``xgb_limitdepth`` -> ``xgboost`` with its ``max_depth``. ``rf`` / ``extra_tree`` -> ``rf`` / ``extratrees``:
``max_leaves`` -> ``max_leaf_nodes``, ``max_features`` a share of the columns (a float scikit-learn takes as
such), ``criterion`` for classification only (FLAML drops it for regression too). FLAML's
``FLAML_sample_size`` is dropped.

**Rounds.** FLAML tuned ``n_estimators`` together with the learning rate, without early stopping. mlcli's
early stopping (:mod:`mlcli.models.early_stopping`) takes ``n_estimators`` as the *budget* and stops on a
validation slice, so FLAML's count becomes a ceiling that can only be cut where the slice stops improving.
Counts above :data:`ROUND_CAP` (2,000, mlcli's own budget) are cut to it with the learning rate raised by the
same factor (learning rate x rounds, how far boosting goes, is kept) so that no configuration costs tens of
thousands of rounds. Early stopping needs 1,000 training rows, else the wrapper fits the registry's count
(300) and would ignore FLAML's: for data whose smallest training part (two thirds, a 3-fold split) is below
that, the configurations say ``early_stopping=false`` and fit FLAML's count. Forests keep at most
:data:`FOREST_CAP` (500) trees: a forest's score plateaus long before FLAML's 2,047, its cost does not.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field, replace
from typing import Any

from mlcli.experiments.auto.meta import MetaFeatures, meta_features, ranked_configs

TIERS = ("default", "flaml", "variant")
ROUND_CAP = 2000  # boosting rounds at most (mlcli.models.early_stopping.BUDGET)
FOREST_CAP = 500  # trees at most in a forest
TRAIN_SHARE = 2 / 3  # the smallest share of the rows a fold trains on (3 folds)
STOP_ROWS = 1000  # training rows early stopping needs (mlcli.models.early_stopping.MIN_ROWS)
ROUNDS_AT_LR = 30.0  # rounds early stopping is expected to keep: ROUNDS_AT_LR / learning_rate
USUAL_ROUNDS = {"lightgbm": 300, "xgboost": 300, "catboost": 500}  # the registry's counts without early stopping
EMBED_ROWS_PER_S = 25.0
STRONG = ("lightgbm", "xgboost", "catboost")
USUAL = ("logreg", "rf", *STRONG)  # the default tier: the models people try first (the gauntlet's usual five)
FLAML_MODEL = {"lgbm": "lightgbm", "xgboost": "xgboost", "xgb_limitdepth": "xgboost", "rf": "rf",
               "extra_tree": "extratrees"}


@dataclass(frozen=True)
class Candidate:
    """One configuration to try: a registry model with ``--param`` values."""

    model: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    cost_s: float = 0.0  # expected seconds of one fold fit, one thread
    tier: str = "default"
    text_features: str | None = None  # tfidf | embed with text columns, else None
    why: str = ""
    log_target: bool = False  # regression: fitted on log(1 + y), predicting in the target's units


# (label suffix, params, rationale) per model; rounds for the boosters are added by _rounds_for
HAND_WRITTEN: dict[str, list[tuple[str, dict[str, Any], str]]] = {
    "catboost": [
        ("d8", {"depth": 8, "learning_rate": 0.05, "l2_leaf_reg": 3},
         "deeper symmetric trees at a slower rate: higher-order interactions on larger data"),
        ("d4", {"depth": 4, "learning_rate": 0.05, "l2_leaf_reg": 10},
         "shallow, strongly regularised trees: small or noisy data"),
        ("lr03", {"learning_rate": 0.03, "l2_leaf_reg": 5},
         "the default trees learnt more slowly and smoothed more: a little better when time allows"),
    ],
    "logreg": [
        ("C0.1", {"C": 0.1}, "strong L2 penalty: many, collinear or sparse (TF-IDF) columns"),
        ("C10", {"C": 10.0}, "weak penalty: many rows for few columns"),
    ],
    "ridge": [("alpha10", {"alpha": 10.0}, "regression: a stronger L2 penalty than ridge's default 1.0")],
    "mlp": [("256x128", {"hidden_layer_sizes": [256, 128], "alpha": 1e-3},
             "two wider layers, a little weight decay: larger data (the registry's early stopping ends it)")],
}
DEFAULT_WHY = {
    "lightgbm": "strong default: leaf-wise boosting, early-stopped", "xgboost": "strong default: depth-6 boosting",
    "catboost": "strong default: symmetric trees, native categoricals", "logreg": "linear baseline, fast",
    "ridge": "L2-penalised linear regression", "knn": "k-NN, k=5: a different inductive bias for ensembles",
    "mlp": "MLP (100 units), early-stopped", "rf": "random forest defaults", "extratrees": "extra trees defaults",
}


def portfolio(task: str, n_rows: int, n_features: int, n_classes: int, numeric_share: float, text: bool,
              limit: int | None = None, skewed: bool = False) -> list[Candidate]:
    """The candidates for data of this shape, in the order to try them (see the module docstring); ``skewed``:
    a strictly positive, strongly skewed regression target, for which the boosters' defaults are also tried
    on log(1 + y) right after the default tier."""
    meta = meta_features(task, n_rows, n_features, n_classes, numeric_share)
    defaults = _defaults(task, meta, text)
    if skewed and task == "regression":
        defaults += _log_targets(task, meta, text)
    raw = defaults + _flaml(task, meta, text) + _variants(task, meta, text)
    seen: set[tuple[str, str, str | None, bool]] = set()
    out: list[Candidate] = []
    for cand in raw:
        key = (cand.model, repr(sorted(cand.params.items())), cand.text_features, cand.log_target)
        if key in seen or not _usable(cand.model, task):
            continue
        seen.add(key)
        out.append(cand)
    return out[:limit] if limit is not None else out


def _usable(model: str, task: str) -> bool:
    from mlcli.models.registry import MODELS

    spec = MODELS[model]
    return spec.path_for(task) is not None and spec.installed()


def embedding_available() -> bool:
    """Whether ``--text-features embed`` can run: the text extra (torch, transformers, the packaged model)."""
    from mlcli.text.base_model import PACKAGED_MODULE

    return all(importlib.util.find_spec(p) is not None for p in ("torch", "transformers", PACKAGED_MODULE))


def _candidate(model: str, params: dict[str, Any], label: str, tier: str, meta: MetaFeatures, text: bool,
               why: str, text_features: str = "tfidf") -> Candidate:
    cost = expected_cost(model, params, meta)
    if text and text_features == "embed":
        cost += meta.n_rows / EMBED_ROWS_PER_S
    return Candidate(model, params, label, round(cost, 3), tier, text_features if text else None, why)


def _by_cost(cands: list[Candidate]) -> list[Candidate]:
    return sorted(cands, key=lambda c: (c.cost_s, c.label))


def _defaults(task: str, meta: MetaFeatures, text: bool) -> list[Candidate]:
    models = list(USUAL)
    return _by_cost([_candidate(m, {}, _label(m, task, "default"), "default", meta, text, DEFAULT_WHY[m])
                     for m in models])


def _log_targets(task: str, meta: MetaFeatures, text: bool) -> list[Candidate]:
    """The boosters at their defaults on log(1 + y) (as ``--log-target``), cheapest first: their out-of-fold
    predictions, in the target's units, compete with the raw fits' on the same score."""
    why = "fitted on log(1 + y): a positive, strongly skewed target (as --log-target)"
    return _by_cost([replace(_candidate(m, {}, _label(m, task, "log"), "default", meta, text, why), log_target=True)
                     for m in STRONG])


def _flaml(task: str, meta: MetaFeatures, text: bool) -> list[Candidate]:
    """FLAML's choices, rank by rank (every learner's first before any second), cheapest first in a rank."""
    lists = {learner: ranked_configs(learner, task, meta) for learner in FLAML_MODEL}
    out: list[Candidate] = []
    for rank in range(max((len(v) for v in lists.values()), default=0)):
        row = []
        for learner, configs in lists.items():
            if rank >= len(configs):
                continue
            model = FLAML_MODEL[learner]
            params = translate(learner, task, configs[rank], meta.n_rows)
            tag = "flaml-depth" if learner == "xgb_limitdepth" else "flaml"
            label = _label(model, task, f"{tag}{rank + 1}" if configs[rank] else "default")
            why = f"FLAML's choice {rank + 1} for the nearest mined dataset ({learner})"
            row.append(_candidate(model, params, label, "flaml", meta, text, why))
        out += _by_cost(row)
    return out


def _variants(task: str, meta: MetaFeatures, text: bool) -> list[Candidate]:
    regression = task == "regression"
    plain = ["rf", "extratrees", "mlp", "logreg"] + (["ridge"] if regression else []) + ([] if text else ["knn"])
    cands = [_candidate(m, {}, _label(m, task, "default"), "variant", meta, text, DEFAULT_WHY[m]) for m in plain]
    for model, entries in HAND_WRITTEN.items():
        if (model == "logreg" and regression) or (model == "ridge" and not regression):
            continue  # logreg's regressor is OLS (no penalty); ridge's classifier is logreg
        for suffix, params, why in entries:
            full = {**params, **_rounds_for(model, params, meta.n_rows)}
            cands.append(_candidate(model, full, _label(model, task, suffix), "variant", meta, text, why))
    k = knn_neighbours(meta.n_rows)
    if not text and k is not None:
        cands.append(_candidate("knn", {"n_neighbors": k, "weights": "distance"}, f"knn#k{k}", "variant", meta,
                                text, "k about sqrt(rows)/2, distance-weighted: more rows average more neighbours"))
    if text and embedding_available():
        for model in ("logreg", "lightgbm"):
            cands.append(_candidate(model, {}, _label(model, task, "embed"), "variant", meta, text,
                                    "sentence embeddings of the text columns (--text-features embed)", "embed"))
    return _by_cost(cands)


def _label(model: str, task: str, suffix: str) -> str:
    """'lightgbm#flaml1'; logreg's regressor is named 'linear', as reports name it."""
    from mlcli.models.registry import MODELS

    return f"{MODELS[model].display_name(task)}#{suffix}"


def knn_neighbours(n_rows: int) -> int | None:
    """k for the k-NN variant: an odd number near sqrt(rows) / 2, from 7 to 51; None below 40 rows (the
    default k=5 is then all there is room for)."""
    if n_rows < 40:
        return None
    k = min(max(int(round(math.sqrt(n_rows) / 2)), 7), 51)
    return k if k % 2 else k + 1


def stops_early(n_rows: int) -> bool:
    """Whether every fold's training part is large enough for early stopping's validation slice."""
    return n_rows * TRAIN_SHARE >= STOP_ROWS


def _rounds_for(model: str, params: dict[str, Any], n_rows: int) -> dict[str, Any]:
    """Rounds for a hand-written booster at a learning rate below 0.1: the registry's count (or, with early
    stopping, mlcli's budget) scaled by 0.1 / learning rate, so a slower rate gets room to converge. The
    budget is a ceiling under early stopping; the cost estimate counts the rounds expected."""
    if model not in USUAL_ROUNDS or "learning_rate" not in params:
        return {}
    key = "iterations" if model == "catboost" else "n_estimators"
    base = ROUND_CAP if stops_early(n_rows) else USUAL_ROUNDS[model]
    out: dict[str, Any] = {key: int(round(base * max(1.0, 0.1 / params["learning_rate"])))}
    if not stops_early(n_rows):  # else the wrapper would fit the registry's count, not this one
        out["early_stopping"] = False
    return out


def translate(learner: str, task: str, config: dict[str, Any], n_rows: int) -> dict[str, Any]:
    """mlcli ``--param`` values for one FLAML configuration (see the module docstring)."""
    params = {k: v for k, v in config.items() if k not in ("FLAML_sample_size", "log_max_bin")}
    if not params:
        return {}
    if learner in ("rf", "extra_tree"):
        if "max_leaves" in params:
            params["max_leaf_nodes"] = int(params.pop("max_leaves"))
        if task == "regression":
            params.pop("criterion", None)
        if "n_estimators" in params:
            params["n_estimators"] = min(int(params["n_estimators"]), FOREST_CAP)
        return params
    if learner == "lgbm" and "max_leaves" in params:
        params["num_leaves"] = params.pop("max_leaves")
    if learner == "xgboost":
        params.update(max_depth=0, grow_policy="lossguide")
    return _cap_rounds(params, n_rows)


def _cap_rounds(params: dict[str, Any], n_rows: int) -> dict[str, Any]:
    count = params.get("n_estimators")
    if count is None:
        return params
    count = int(count)
    if count > ROUND_CAP and "learning_rate" in params:
        params["learning_rate"] = min(1.0, params["learning_rate"] * count / ROUND_CAP)
    params["n_estimators"] = min(count, ROUND_CAP)
    if not stops_early(n_rows):
        params["early_stopping"] = False
    return params


def expected_cost(model: str, params: dict[str, Any], meta: MetaFeatures) -> float:
    """Expected seconds of one fold fit of ``model`` with ``params`` on data of shape ``meta``."""
    from mlcli.experiments.cv.schedule import Costs

    base = Costs([model], meta.n_rows, meta.n_features).prior[0]
    return base * _work_factor(model, params, meta)


def _work_factor(model: str, params: dict[str, Any], meta: MetaFeatures) -> float:
    """How much more work than the registry defaults (1.0) the configuration does."""
    if model in USUAL_ROUNDS:
        return _rounds_factor(model, params, meta.n_rows) * _size_factor(model, params, meta.n_rows)
    if model in ("rf", "extratrees"):
        p = max(meta.n_features, 1)
        default_tried = p if meta.n_classes == 0 else math.sqrt(p)
        tried = float(params.get("max_features", default_tried / p)) * p
        return params.get("n_estimators", 100) / 100 * _clip(tried / default_tried, 0.1, 20.0)
    if model == "mlp":
        return sum(params.get("hidden_layer_sizes", [100])) / 100
    return 1.0


def _rounds_factor(model: str, params: dict[str, Any], n_rows: int) -> float:
    key = "iterations" if model == "catboost" else "n_estimators"
    lr = float(params.get("learning_rate", 0.1))
    if stops_early(n_rows) and params.get("early_stopping", True):
        rounds = min(params.get(key, ROUND_CAP), ROUNDS_AT_LR / lr)
        return rounds / min(ROUND_CAP, ROUNDS_AT_LR / 0.1)
    return params.get(key, USUAL_ROUNDS[model]) / USUAL_ROUNDS[model]


def _size_factor(model: str, params: dict[str, Any], n_rows: int) -> float:
    """Tree size against the default's (square root: histogram work grows slower than leaves) x columns used."""
    if model == "catboost":
        return params.get("depth", 6) / 6
    if model == "lightgbm":
        room = max(2.0, n_rows / max(params.get("min_child_samples", 20), 1))
        leaves, ref = min(params.get("num_leaves", 31), room), 31
    elif params.get("max_depth", 6) == 0:
        leaves, ref = min(params.get("max_leaves", 64), n_rows), 64
    else:
        leaves, ref = min(2 ** params.get("max_depth", 6), n_rows), 64
    cols = params.get("colsample_bytree", 1.0) * params.get("colsample_bylevel", 1.0)
    return _clip(math.sqrt(leaves / ref), 0.25, 8.0) * max(cols, 0.05)


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)

"""The default model when `train` is given none, chosen by the shape of the data.

Boosted trees (XGBoost) are the default for tables. On text-dominated data — free-text columns half of the
used columns or more — a linear model on the TF-IDF features is the better default: on the gauntlet's news
file (AG News, 7,600 rows, two text columns) logistic regression reached accuracy 0.873 in 21 s where XGBoost
took 491 s for 0.811, and on the SMS spam collection it had the best ROC AUC of the usual five (0.9976 vs
XGBoost's 0.9955) at a quarter of the time (benchmarks/gauntlet). Giving --model (or --param, which belongs
to a model) keeps the model asked for.
"""

from __future__ import annotations

from typing import Any

from mlcli.data.dataset import Notify
from mlcli.data.schema import Schema
from mlcli.models.registry import get_spec

TABLE_DEFAULT = "xgboost"
TEXT_DEFAULT = "logreg"


def text_dominated(schema: Schema) -> bool:
    used = schema.used
    text = [c for c in used if c.role == "text"]
    return bool(text) and 2 * len(text) >= len(used)


def choose_default(config: Any, schema: Schema, notify: Notify) -> Any:
    """Switch ``config`` (a ModelConfig holding the table default) to the text default when the data is
    text-dominated; returns the new model's registry entry, or None when nothing changed."""
    if config.model != TABLE_DEFAULT or not text_dominated(schema):
        return None
    config.model = TEXT_DEFAULT
    spec = get_spec(TEXT_DEFAULT)
    text = schema.by_role("text")
    notify(f"model: {spec.display_name(schema.task)} — the default when free text is most of the data "
           f"({', '.join(text)} of {len(schema.used)} column(s)): a linear model on TF-IDF is as accurate as "
           f"boosted trees there and many times faster; --model {TABLE_DEFAULT} for the trees")
    return spec

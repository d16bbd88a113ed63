"""The default model when `train` is given none, chosen by the shape of the data.

Boosted trees (XGBoost) are the default for tables. Three shapes get another model, each chosen on the gauntlet
(benchmarks/gauntlet: real files nobody here developed with):

* Text-dominated data — free-text columns half of the used columns or more: a linear model on the TF-IDF
  features. On the news file (AG News, 7,600 rows, two text columns) logistic regression reached accuracy 0.873
  in 21 s where XGBoost took 491 s for 0.811, and on the SMS spam collection it had the best ROC AUC of the
  usual five (0.9976 vs XGBoost's 0.9955) at a quarter of the time.
* Multiclass tables of fewer than SMALL_ROWS training rows: CatBoost. On the gauntlet's 8 such files
  (default_policy.py) it was within 0.02 (normalised) of the best of the usual five on the held-out rows of 6
  where XGBoost was on 2, and by 5-fold cross-validation on the training rows on 5 where XGBoost was on 2
  (mean normalised gap 0.016 against 0.094): vowels macro F1 0.960 against 0.903, soybean 0.982 against 0.962.
  XGBoost's small-data settings (models.early_stopping.SMALL_DATA) serve binary and regression, where they won.
* Binary and regression tables of SMALL_ROWS training rows or more: CatBoost. On the 8 gauntlet files where
  this applies (5 regressions, 3 binary; held-out parts of 1,022 to 5,631 rows) its held-out score was above
  XGBoost's on 7 (superstore R² 0.255 against 0.077, lending_club 0.500 against 0.410, crop_yield 0.961 against
  0.891, stroke ROC AUC 0.842 against 0.823; below on mammography, 0.959 against 0.963), within 0.02
  (normalised) of the best of the usual five on 7 where XGBoost was on 3; early-stopped, it took seconds a fit
  there. Below SMALL_ROWS the shallow XGBoost led (default_policy.py). Multiclass tables that large keep
  XGBoost: CatBoost was slower there (562 s on 20,728 tweets of 13 classes) and not ahead.

Giving --model (or --param, which belongs to a model) keeps the model asked for.
"""

from __future__ import annotations

from typing import Any

from mlcli.data.dataset import Notify
from mlcli.data.schema import Schema
from mlcli.models.early_stopping import SMALL_ROWS
from mlcli.models.registry import get_spec

TABLE_DEFAULT = "xgboost"
TEXT_DEFAULT = "logreg"
CATBOOST = "catboost"  # small multiclass tables, and binary and regression tables from SMALL_ROWS rows


def text_dominated(schema: Schema) -> bool:
    used = schema.used
    text = [c for c in used if c.role == "text"]
    return bool(text) and 2 * len(text) >= len(used)


def choose_default(config: Any, schema: Schema, notify: Notify, train_rows: int) -> Any:
    """Switch ``config`` (a ModelConfig holding the table default) to the model the data's shape calls for
    (``train_rows``: the rows the model will be fitted on); returns the new model's registry entry, or None
    when nothing changed."""
    if config.model != TABLE_DEFAULT:
        return None
    if text_dominated(schema):
        text = schema.by_role("text")
        return _switch(config, TEXT_DEFAULT, schema, notify,
                       f"the default when free text is most of the data ({', '.join(text)} of {len(schema.used)} "
                       "column(s)): a linear model on TF-IDF is as accurate as boosted trees there and many times "
                       "faster", "the trees")
    if not get_spec(CATBOOST).installed():
        return None
    if schema.task == "multiclass" and train_rows < SMALL_ROWS:
        return _switch(config, CATBOOST, schema, notify,
                       f"the default for multiclass tables of fewer than {SMALL_ROWS:,} training rows "
                       f"({train_rows:,} here): closer to the best of the usual models than XGBoost on the "
                       "gauntlet's real files", "XGBoost")
    if schema.task != "multiclass" and train_rows >= SMALL_ROWS:
        return _switch(config, CATBOOST, schema, notify,
                       f"the default for binary and regression tables of {SMALL_ROWS:,} training rows or more "
                       f"({train_rows:,} here): ahead of XGBoost on 7 of the gauntlet's 8 such files", "XGBoost")
    return None


def _switch(config: Any, model: str, schema: Schema, notify: Notify, why: str, instead: str) -> Any:
    config.model = model
    spec = get_spec(model)
    notify(f"model: {spec.display_name(schema.task)} — {why}; --model {TABLE_DEFAULT} for {instead}")
    return spec


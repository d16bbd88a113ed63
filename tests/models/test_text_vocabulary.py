"""A model's own cap on the TF-IDF vocabulary (``ModelSpec.text_vocabulary``): CatBoost keeps at most 1,000
terms per text column (a 20,000-term vocabulary ran past 10 minutes on a 7,600-row news file), the other models
the usual 20,000, and a smaller vocabulary asked for is kept."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from mlcli.data.roles import infer_schema
from mlcli.features.preprocess import PreprocessOptions
from mlcli.features.transformers import TextVectorizer
from mlcli.models.build import ModelConfig, build_pipeline, model_preprocess
from mlcli.models.registry import get_spec


def _text_schema():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(3000)]
    df = pd.DataFrame({"review": [" ".join(rng.choice(words, size=12)) for _ in range(400)],
                       "num": rng.normal(size=400), "y": rng.integers(0, 2, size=400)})
    return df, infer_schema(df, "y", "binary")


def _vocab_sizes(model: str, options: PreprocessOptions | None = None) -> list[int]:
    df, schema = _text_schema()
    pipe = build_pipeline(schema, ModelConfig(model, preprocess=options or PreprocessOptions()))
    pre = pipe.steps[0][1]
    found = [t for _, t, _ in pre.transformers if isinstance(t, TextVectorizer)]
    assert found, "the text column has no TF-IDF branch"
    return [t.max_features for t in found]


@pytest.mark.parametrize("model, expected", [("catboost", 1000), ("xgboost", 20000), ("logreg", 20000)])
def test_each_model_gets_its_vocabulary(model, expected):
    if not get_spec(model).installed():
        pytest.skip(f"{model} not installed")
    assert _vocab_sizes(model) == [expected]


def test_a_smaller_vocabulary_asked_for_is_kept():
    small = replace(PreprocessOptions(), text_max_features=300)
    assert model_preprocess(get_spec("catboost"), small).text_max_features == 300
    assert model_preprocess(get_spec("catboost"), PreprocessOptions()).text_max_features == 1000


def test_capped_catboost_fits_with_at_most_the_cap_of_terms():
    if not get_spec("catboost").installed():
        pytest.skip("catboost not installed")
    df, schema = _text_schema()
    pipe = build_pipeline(schema, ModelConfig("catboost", params={"iterations": 5}))
    pipe.fit(df[["review", "num"]], df["y"].to_numpy())
    pre = pipe.steps[0][1]
    vec = pre.named_transformers_[next(n for n, t, _ in pre.transformers if isinstance(t, TextVectorizer))]
    assert len(vec.vectorizer_.vocabulary_) <= 1000

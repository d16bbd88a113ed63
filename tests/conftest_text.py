"""Fixtures for the text tests: a tiny random BERT written to disk, and generated review data.

Import the fixtures into a test module with ``from conftest_text import *``. The tiny model (2 layers,
hidden size 32, a WordPiece vocabulary of ~120 tokens) is built once per session in a temporary directory
and loaded through the same code as a real model directory; nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

POSITIVE = ["good", "great", "excellent", "lovely", "tasty", "fresh", "perfect", "delicious"]
NEGATIVE = ["bad", "awful", "terrible", "bland", "stale", "horrible", "broken", "soggy"]
NEUTRAL = ["okay", "average", "fine", "normal", "plain", "usual"]
NOUNS = ["coffee", "tea", "pasta", "sauce", "bread", "soup", "cake", "rice"]
FILLER = ["the", "a", "this", "was", "is", "really", "very", "quite", "and", "it", "taste", "product", "i",
          "bought", "again", "would", "not", "buy", "with", "of"]
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def write_tiny_bert(directory: Path, *, max_positions: int = 64, seed: int = 0) -> Path:
    """A random 2-layer BERT (hidden 32) with a WordPiece vocab.txt, saved like save_pretrained() does."""
    from mlcli.text.runtime import require_torch

    torch, _ = require_torch("the tiny test model")  # offline, quiet (no progress bars)
    from transformers import BertConfig, BertModel

    letters = list("abcdefghijklmnopqrstuvwxyz0123456789")
    vocab = SPECIAL + sorted(set(POSITIVE + NEGATIVE + NEUTRAL + NOUNS + FILLER)) + letters + \
        ["##" + c for c in letters] + list(".,!?:|'-")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    (directory / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": max_positions}))
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=max_positions, pad_token_id=0)
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(str(directory), safe_serialization=True)
    return directory


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """Path of the tiny random BERT directory (session-wide; treat it as read-only)."""
    return write_tiny_bert(tmp_path_factory.mktemp("tiny-bert") / "model")


def review_frame(n: int = 160, *, classes: int = 2, seed: int = 0) -> pd.DataFrame:
    """Generated reviews: the label follows the sentiment words (binary: great/other; 3 classes: +neutral)."""
    rng = np.random.default_rng(seed)
    kinds = [POSITIVE, NEGATIVE, NEUTRAL][:classes]
    names = ["great", "other", "meh"][:classes]
    rows = []
    for i in range(n):
        k = i % classes
        words = list(rng.choice(FILLER, size=rng.integers(3, 8))) + [rng.choice(NOUNS)] + \
            list(rng.choice(kinds[k], size=rng.integers(1, 3)))
        rng.shuffle(words)
        rows.append({"id": f"r{i:04d}", "review": " ".join(words), "score": names[k],
                     "stars": float(5 - 3 * k + rng.normal(scale=0.3))})
    return pd.DataFrame(rows)


@pytest.fixture
def reviews_csv(tmp_path) -> Path:
    """Generated: 160 short reviews, binary target 'score' (great/other), plus an 'id' and a 'stars' column."""
    path = tmp_path / "reviews.csv"
    review_frame(160).drop(columns=["stars"]).to_csv(path, index=False)
    return path

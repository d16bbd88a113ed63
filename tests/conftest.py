"""Shared fixtures and helpers. Data made here is generated (labelled so); sample_data/ holds the real datasets.

The text fixtures build a tiny random BERT (2 layers, hidden size 32, a WordPiece vocabulary of ~120 tokens)
once per session in a temporary directory; it is loaded through the same code as a real model directory and
nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolate(tmp_path, monkeypatch):
    """Every test runs in its own directory so default bundle paths (models/...) never collide."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLCLI_HOME", str(tmp_path / ".mlcli-home"))
    monkeypatch.setenv("COLUMNS", "120")
    # one thread per model: on a shared 2-core runner, boosting libraries at all cores oversubscribe badly
    monkeypatch.setenv("MLCLI_THREADS", "1")


def cli(*args, input: str | bytes | None = None):
    """Invoke the CLI in-process: result.exit_code, result.stdout, result.stderr (also usable outside tests'
    function-scoped fixtures, e.g. to build a bundle once per module)."""
    from typer.testing import CliRunner

    from mlcli.cli.app import app

    return CliRunner().invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture
def mlcli():
    """The CLI, invoked in-process (see :func:`cli`)."""
    return cli


def assert_error(result, *fragments: str) -> str:
    """A user error as the contract says: exit 2, nothing on stdout, no traceback, exactly one 'mlcli: error:'
    line on stderr and it is the last thing printed, holding every fragment. Returns the message."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("mlcli: error: ")]
    assert len(errors) == 1, result.stderr
    assert result.stderr.rstrip().endswith(errors[0]), result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    assert result.stdout == ""
    return errors[0].removeprefix("mlcli: error: ")


def error_line(result) -> str:
    """:func:`assert_error`, and the error is the only line on stderr; returns the message."""
    message = assert_error(result)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return message


def modules_after(*argv: str) -> set[str]:
    """The top-level modules a fresh `mlcli ARGV...` process has imported when it ends."""
    code = (
        "import sys\n"
        f"sys.argv = ['mlcli', *{list(argv)!r}]\n"
        "from mlcli.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('\\nMODULES=' + ','.join(sorted(m.split('.')[0] for m in sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES=")][-1]
    return set(line.removeprefix("MODULES=").split(","))


@pytest.fixture
def titanic() -> Path:
    return SAMPLE / "titanic.csv"


@pytest.fixture
def small_binary(tmp_path) -> Path:
    """Generated: 200 rows, numeric + categorical + missing values, binary target 'label'."""
    rng = np.random.default_rng(0)
    n = 200
    x1 = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    x2 = rng.normal(size=n)
    logit = 2 * x1 + (color == "red") * 1.5 - 0.5
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    df = pd.DataFrame({"x1": x1, "color": color, "x2": x2, "label": y})
    df.loc[::17, "x2"] = np.nan
    path = tmp_path / "small_binary.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def small_regression(tmp_path) -> Path:
    """Generated: 200 rows, y = 3*a - 2*b + noise, with a categorical shift."""
    rng = np.random.default_rng(1)
    n = 200
    a, b = rng.normal(size=n), rng.normal(size=n)
    grp = rng.choice(["p", "q"], size=n)
    y = 3 * a - 2 * b + (grp == "p") * 2 + rng.normal(scale=0.3, size=n)
    path = tmp_path / "small_regression.csv"
    pd.DataFrame({"a": a, "b": b, "grp": grp, "target": y}).to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------------------------- text

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

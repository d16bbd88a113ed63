"""mlcli embed: sentence embeddings of a text column, streamed chunk by chunk to a file or stdout."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.chunks import CHUNK_ROWS, read_chunks
from mlcli.data.dataset import Notify, quiet
from mlcli.data.missing import NA_VALUES
from mlcli.data.roles import infer_role
from mlcli.errors import ConfigError, DataError, did_you_mean, quote_list

OUTPUT_KINDS = {".parquet": "parquet", ".pq": "parquet", ".npy": "npy", ".csv": "csv", ".tsv": "tsv",
                ".txt": "csv", ".json": "jsonl", ".jsonl": "jsonl", ".ndjson": "jsonl"}



@dataclass
class EmbedRequest:
    path: str
    text: list[str] = field(default_factory=list)  # empty: the columns whose role is text
    output: str | None = None  # None: stdout
    keep: list[str] = field(default_factory=list)
    pooling: str = "mean"
    normalize: bool = False
    reduce: str | None = None  # "pca:K"
    batch_size: int = 32
    max_length: int | None = None  # None: 256 tokens, or less if the model takes less
    base_model: str | None = None
    fmt: str = "csv"  # for stdout: csv | json (JSON Lines)
    sep: str | None = None
    encoding: str | None = None
    chunk_rows: int = CHUNK_ROWS
    progress: bool = True
    color_by: str | None = None  # a column carried beside the projection (for a figure), not written
    keep_projection: bool = False  # keep the --reduce projection in the result (for --plot)


@dataclass
class EmbedResult:
    rows: int
    missing: int
    dim: int
    columns: list[str]
    output: str
    seconds: float
    model: str
    embed_seconds: float = 0.0  # embedding only (no reading, no model loading)
    projection: pd.DataFrame | None = field(default=None, repr=False)  # pc1..pcK (+ color_by), with --plot

    @property
    def rows_per_second(self) -> float:
        return round(self.rows / self.embed_seconds, 1) if self.embed_seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"command": "embed", "rows": self.rows, "missing_text": self.missing, "dimensions": self.dim,
                "text_columns": self.columns, "output": self.output, "seconds": round(self.seconds, 3),
                "embed_seconds": round(self.embed_seconds, 3),
                "rows_per_second": self.rows_per_second, "model": self.model}


def parse_reduce(text: str | None) -> int | None:
    if not text:
        return None
    method, _, k = text.strip().lower().partition(":")
    if method != "pca" or not k.isdigit() or int(k) < 1:
        raise ConfigError(f"--reduce expects pca:K with K a positive whole number (e.g. pca:2), got '{text}'")
    return int(k)


def output_kind(path: str | None, fmt: str) -> str:
    if path is None or path == "-":
        if fmt not in ("csv", "json"):
            raise ConfigError(f"--format for embed is csv or json (JSON Lines), got '{fmt}'")
        return "csv" if fmt == "csv" else "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_KINDS:
        raise ConfigError(f"cannot tell the output format of '{path}' from its extension; use .parquet, .npy, "
                          ".csv, .tsv or .jsonl")
    return OUTPUT_KINDS[suffix]


def _split(values: list[str] | None) -> list[str]:
    return [c.strip() for v in values or [] for c in v.split(",") if c.strip()]


def choose_text_columns(chunk: pd.DataFrame, given: list[str], keep: list[str]) -> list[str]:
    from mlcli.text.columns import check_not_numeric

    for col in keep:
        if col not in chunk.columns:
            raise DataError(f"--keep column '{col}' not found{did_you_mean(col, chunk.columns)}; "
                            f"columns are: {quote_list(chunk.columns, 20)}")
    if given:
        for col in given:
            if col not in chunk.columns:
                raise DataError(f"text column '{col}' not found{did_you_mean(col, chunk.columns)}; "
                                f"columns are: {quote_list(chunk.columns, 20)}")
        columns = given
    else:
        roles = {c: infer_role(chunk[c])[0] for c in chunk.columns if c not in keep}
        columns = [c for c, r in roles.items() if r == "text"]
        if not columns:
            seen = ", ".join(f"{c} ({r})" for c, r in roles.items())
            raise DataError(f"no text column found; columns seen: {seen}; name the text column with --text COLUMN")
    for col in columns:
        s = chunk[col]
        if pd.api.types.is_numeric_dtype(s) and s.notna().any():
            check_not_numeric(col, str(s.dtype), s.dropna().iloc[0])
    return columns


def _texts(chunk: pd.DataFrame, columns: list[str]) -> list[str]:
    from mlcli.text.columns import join_texts

    frame = chunk[columns].astype(object)
    na = set(NA_VALUES) - {""}
    frame = frame.apply(lambda s: s.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                                        or str(v).strip() in na else v))
    return join_texts(frame)


class _Writer:
    """Writes (kept columns, vectors) chunk by chunk; files appear atomically at close()."""

    def __init__(self, kind: str, path: str | None, keep: list[str], names: list[str], stdout: Any = None):
        self.kind, self.path, self.keep, self.names = kind, path, keep, names
        self.stdout = stdout if stdout is not None else sys.stdout
        self.rows = 0
        self.tmp: Path | None = None
        self._parquet = None
        if path:
            target = Path(path)
            if target.is_dir():
                raise ConfigError(f"-o {path} is a directory; give a file name ending in .parquet, .npy, .csv or "
                                  ".jsonl")
            self.tmp, self.fh = _temp_file(target)
        else:
            self.fh = self.stdout

    def frame(self, kept: pd.DataFrame, vectors: np.ndarray, all_columns: bool = False) -> pd.DataFrame:
        """The kept columns (all carried ones, or --keep's) beside the vectors, one row per input row."""
        kept = kept if all_columns else kept[self.keep]
        emb = pd.DataFrame(vectors, columns=self.names, index=kept.index)
        return pd.concat([kept.reset_index(drop=True), emb.reset_index(drop=True)], axis=1)

    def write(self, kept: pd.DataFrame, vectors: np.ndarray) -> None:
        kept = kept[self.keep]  # a column carried only for a figure is not written
        if self.kind == "npy":
            self.fh.write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
        elif self.kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(self.frame(kept, vectors), preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.fh, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        elif self.kind == "jsonl":
            records = kept.reset_index(drop=True).to_dict(orient="records")
            lines = []
            for rec, vec in zip(records, vectors):
                rec["embedding"] = None if np.isnan(vec).any() else [round(float(v), 6) for v in vec]
                lines.append(json.dumps(rec, default=str, ensure_ascii=False))
            self._text("\n".join(lines) + "\n")
        else:
            text = self.frame(kept, vectors).to_csv(index=False, header=self.rows == 0, float_format="%.6g",
                                                     sep="\t" if self.kind == "tsv" else ",")
            self._text(text)
        self.rows += len(vectors)

    def _text(self, text: str) -> None:
        if self.tmp is None:
            self.stdout.write(text)
            self.stdout.flush()
        else:
            self.fh.write(text.encode("utf-8"))

    def close(self, dim: int) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self.tmp is None:
            return
        self.fh.close()
        if self.kind == "npy":  # the header (which holds the row count) first, then the vectors
            final, out = _temp_file(Path(self.path))
            try:
                with out, open(self.tmp, "rb") as body:
                    np.lib.format.write_array_header_1_0(
                        out, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False,
                              "shape": (self.rows, dim)})
                    while block := body.read(1 << 20):
                        out.write(block)
                os.replace(final, self.tmp)
            except BaseException:
                final.unlink(missing_ok=True)
                raise
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self.tmp is not None:
            try:
                self.fh.close()
            finally:
                self.tmp.unlink(missing_ok=True)


def _temp_file(target: Path) -> tuple[Path, Any]:
    """A new temporary file next to ``target``: a unique name, created exclusively (never through a symlink),
    with the usual permissions; (its path, its binary handle)."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise ConfigError(f"-o {target}: cannot write in directory {target.parent}: {exc.strerror or exc}") from exc
    mask = os.umask(0o022)
    os.umask(mask)
    os.fchmod(fd, 0o666 & ~mask)
    return Path(name), os.fdopen(fd, "wb")


def embed(req: EmbedRequest, notify: Notify = quiet, stdin: Any = None, stdout: Any = None) -> EmbedResult:
    """Embed ``req.path``; rows go to ``req.output`` or to ``stdout`` (default: sys.stdout at call time)."""
    from mlcli.text import base_model as bm
    from mlcli.text.embedding import get_encoder
    from mlcli.text.progress import Progress

    t0 = time.perf_counter()
    k, kind, keep, given = _check_request(req)
    path = bm.resolve_base_model(req.base_model)
    max_length = bm.check_max_length(path, req.max_length, req.base_model, default=256)
    chunks, total = read_chunks(req.path, sep=req.sep, encoding=req.encoding, chunk_rows=req.chunk_rows,
                                stdin=stdin, notify=notify)
    first = next(chunks, None)
    if first is None or len(first) == 0:
        raise DataError(f"{req.path if req.path != '-' else '<stdin>'} has a header but no data rows")
    columns = choose_text_columns(first, given, keep)
    carry = _carry(first, keep, req.color_by)
    notify(f"embedding text column(s) {', '.join(columns)} with {bm.describe(req.base_model)}")
    encoder = get_encoder(path, pooling=req.pooling, normalize=req.normalize, max_length=max_length,
                          batch_size=req.batch_size)
    if k and k > encoder.dim:
        raise ConfigError(f"--reduce pca:{k} asks for more components than the {encoder.dim} embedding dimensions")
    names = [f"pc{i + 1}" for i in range(k)] if k else [f"emb{i}" for i in range(encoder.dim)]
    writer = _Writer(kind, req.output, keep, names, stdout)
    progress = Progress(total or 0, "embedding", "rows", enabled=req.progress)
    t_embed = time.perf_counter()
    try:
        n_rows, n_missing, projection = _stream(_chain(first, chunks), columns, carry, encoder, k, writer,
                                                progress)
        writer.close(k or encoder.dim)
    except BaseException:
        progress.close()
        writer.abort()
        raise
    if n_missing:
        notify(f"{n_missing} row(s) with missing text got empty (NaN) vectors")
    now = time.perf_counter()
    return EmbedResult(n_rows, n_missing, k or encoder.dim, columns, req.output or "<stdout>", now - t0,
                       bm.describe(req.base_model), now - t_embed,
                       projection=projection if req.keep_projection else None)


def _carry(first: pd.DataFrame, keep: list[str], color_by: str | None) -> list[str]:
    """The input columns carried beside the vectors: --keep, and the column a figure is coloured by."""
    if not color_by or color_by in keep:
        return keep
    if color_by not in first.columns:
        raise DataError(f"--color-by column '{color_by}' not found{did_you_mean(color_by, first.columns)}")
    return [*keep, color_by]


def _check_request(req: EmbedRequest) -> tuple[int | None, str, list[str], list[str]]:
    """(--reduce components, output kind, --keep columns, --text columns), checked before any reading."""
    k = parse_reduce(req.reduce)
    kind = output_kind(req.output, req.fmt)
    keep = _split(req.keep)
    if kind == "npy" and keep:
        raise ConfigError("--keep needs a table output (.parquet, .csv or .jsonl); a .npy file holds only the vectors")
    if req.batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {req.batch_size}")
    return k, kind, keep, _split(req.text)


def _stream(chunks: Iterator[pd.DataFrame], columns: list[str], keep: list[str], encoder: Any, k: int | None,
            writer: _Writer, progress: Any) -> tuple[int, int, pd.DataFrame | None]:
    """Embed chunk by chunk and write as it goes; (rows, rows without text, the --reduce projection beside the
    carried columns, or None). Rows are held back only while
    no text has been seen yet (an all-empty column is an error, not a file of NaN) and for --reduce (PCA
    needs every vector)."""
    n_rows = n_missing = 0
    pending: list[tuple[pd.DataFrame, np.ndarray]] = []
    seen_text = False
    for chunk in chunks:
        texts = _texts(chunk, columns)
        present = np.array([bool(t) for t in texts])
        vectors = np.full((len(texts), encoder.dim), np.nan, dtype=np.float32)
        if present.any():
            vectors[present] = encoder.encode([t for t, p in zip(texts, present) if p],
                                              progress=lambda n: progress.update(n))
        progress.update(int((~present).sum()))
        n_rows += len(texts)
        n_missing += int((~present).sum())
        kept = chunk[keep] if keep else pd.DataFrame(index=chunk.index)
        seen_text = seen_text or bool(present.any())
        if k or not seen_text:
            pending.append((kept, vectors))
            continue
        for held in pending:
            writer.write(*held)
        pending = []
        writer.write(kept, vectors)
    progress.close()
    if not seen_text:
        what = f"text column '{columns[0]}' is" if len(columns) == 1 else \
            f"text columns {', '.join(repr(c) for c in columns)} are"
        raise DataError(f"{what} empty: every value is missing or blank")
    if k:
        kept, reduced = pd.concat([p[0] for p in pending]), _pca(np.vstack([p[1] for p in pending]), k)
        writer.write(kept, reduced)
        return n_rows, n_missing, writer.frame(kept, reduced, all_columns=True)
    for held in pending:
        writer.write(*held)
    return n_rows, n_missing, None


def _chain(first: pd.DataFrame, rest: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    yield first
    yield from rest


def _pca(vectors: np.ndarray, k: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    ok = ~np.isnan(vectors).any(axis=1)
    if ok.sum() < max(k, 2):
        raise DataError(f"--reduce pca:{k} needs at least {max(k, 2)} rows with text, got {int(ok.sum())}")
    out = np.full((len(vectors), k), np.nan, dtype=np.float32)
    out[ok] = PCA(n_components=k, random_state=0).fit_transform(vectors[ok].astype(np.float64))
    return out

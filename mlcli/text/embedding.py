"""Sentence embeddings: a frozen encoder with mean or CLS pooling, and a scikit-learn transformer around it.

Texts are embedded in length-sorted batches under ``torch.inference_mode()``. Since the encoder is frozen,
an embedding depends only on its text: the encoder remembers the vectors it computed (per process, bounded),
so the rows a pipeline embeds during fit are not embedded again when it scores them.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from mlcli.errors import BundleError, ConfigError
from mlcli.text import base_model as bm
from mlcli.text import runtime as rt
from mlcli.text.columns import check_not_empty, join_texts

POOLINGS = ("mean", "cls")
_CACHE_ROWS = 200_000


class SentenceEncoder:
    """A loaded encoder: ``encode(texts) -> float32 array (n, dim)``."""

    def __init__(self, path: Path, *, pooling: str = "mean", normalize: bool = False, max_length: int = 256,
                 batch_size: int = 32, device: str = "auto", n_threads: int | None = None):
        if pooling not in POOLINGS:
            raise ConfigError(f"unknown pooling '{pooling}'; choose mean or cls")
        self.torch, _ = rt.require_torch("text embeddings")
        rt.set_threads(self.torch, n_threads)
        self.path = Path(path)
        self.pooling = pooling
        self.normalize = normalize
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = rt.pick_device(self.torch, device)
        self.tokenizer = rt.load_tokenizer(self.path)
        self.model = rt.load_encoder(self.path).to(self.device).eval()
        self.dim = int(self.model.config.hidden_size)
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()

    def _key(self, text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keys = [self._key(t) for t in texts]
        todo: dict[bytes, list[int]] = {}
        for i, k in enumerate(keys):
            hit = self._cache.get(k)
            if hit is not None:
                out[i] = hit
            else:
                todo.setdefault(k, []).append(i)
        if progress is not None and len(texts) - sum(map(len, todo.values())):
            progress(len(texts) - sum(map(len, todo.values())))
        if todo:
            first = [rows[0] for rows in todo.values()]
            vectors = self._embed([texts[i] for i in first], progress, [len(r) for r in todo.values()])
            for (k, rows), vec in zip(todo.items(), vectors):
                out[rows] = vec
                self._cache[k] = vec
            while len(self._cache) > _CACHE_ROWS:
                self._cache.popitem(last=False)
        return out

    def _embed(self, texts: list[str], progress: Callable[[int], None] | None, weights: list[int]) -> np.ndarray:
        torch = self.torch
        ids = rt.tokenize(self.tokenizer, texts, self.max_length)
        pad = rt.pad_id(self.tokenizer)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for rows in rt.sorted_batches([len(x) for x in ids], self.batch_size):
                input_ids, mask = rt.collate(torch, [ids[i] for i in rows], pad, self.device)
                with rt.autocast(torch, self.device):
                    hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state.float()
                if self.pooling == "cls":
                    vec = hidden[:, 0]
                else:
                    m = mask.unsqueeze(-1).to(hidden.dtype)
                    vec = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
                if self.normalize:
                    vec = torch.nn.functional.normalize(vec, p=2, dim=1)
                out[rows] = vec.cpu().numpy()
                if progress is not None:
                    progress(int(sum(weights[i] for i in rows)))
        return out


_ENCODERS: dict[tuple, SentenceEncoder] = {}


def get_encoder(path: Path, **options: Any) -> SentenceEncoder:
    """A loaded encoder, shared within the process (loading takes seconds; CV folds reuse it)."""
    key = (str(Path(path).resolve()), tuple(sorted(options.items())))
    if key not in _ENCODERS:
        if len(_ENCODERS) >= 4:
            _ENCODERS.pop(next(iter(_ENCODERS)))
        _ENCODERS[key] = SentenceEncoder(path, **options)
    return _ENCODERS[key]


class TextEmbedder(TransformerMixin, BaseEstimator):
    """Sentence embeddings of a text column as features (``--text-features embed|both``).

    Nothing is learned: the encoder is frozen, so fitting only checks the column and the base model.
    Missing text is embedded as empty text. The bundle keeps the base model's path (or the packaged
    default), not its weights: the base model must be there when the bundle is used.
    """

    def __init__(self, base_model: str | None = None, pooling: str = "mean", normalize: bool = False,
                 max_length: int | None = None, batch_size: int = 32, n_threads: int | None = None,
                 verbose: int = 0):
        self.base_model = base_model
        self.pooling = pooling
        self.normalize = normalize
        self.max_length = max_length
        self.batch_size = batch_size
        self.n_threads = n_threads
        self.verbose = verbose

    def check_setup(self) -> Path:
        if self.pooling not in POOLINGS:
            raise ConfigError(f"unknown pooling '{self.pooling}'; choose mean or cls")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1, got {self.batch_size}")
        if self.max_length is not None and (not isinstance(self.max_length, int) or self.max_length < 8):
            raise ConfigError(f"--max-length must be at least 8, got {self.max_length}")
        path = bm.resolve_base_model(self.base_model)
        if not any((path / f).is_file() for f in ("model.safetensors", "model.safetensors.index.json")):
            raise ConfigError(f"{bm.describe(self.base_model)} has its weights only in PyTorch's pickle format "
                              "(pytorch_model.bin), which a model bundle does not hold (loading a pickle can run "
                              "code): save it as safetensors first (model.save_pretrained(path, "
                              "safe_serialization=True))")
        self._max_length = bm.check_max_length(path, self.max_length, self.base_model, default=256)
        return path

    def fit(self, X: Any, y: Any = None) -> TextEmbedder:
        path = self.check_setup()
        columns = [str(c) for c in getattr(X, "columns", ["text"])]
        check_not_empty(join_texts(X), columns)
        self.columns_ = columns
        self.max_length_ = self._max_length
        self.dim_ = bm.hidden_size(path) or self._encoder(path).dim
        self.n_features_in_ = len(columns)
        return self

    def _encoder(self, path: Path | None = None) -> SentenceEncoder:
        if path is None:
            try:
                path = bm.resolve_base_model(self.base_model)
            except ConfigError as exc:
                raise BundleError(f"this model embeds text with {bm.describe(self.base_model)}, which is not "
                                  f"usable here: {exc}") from exc
        return get_encoder(path, pooling=self.pooling, normalize=bool(self.normalize),
                           max_length=self._max_len(path), batch_size=int(self.batch_size),
                           n_threads=self.n_threads)

    def _max_len(self, path: Path) -> int:
        if getattr(self, "max_length_", None) is None:
            return bm.check_max_length(path, self.max_length, self.base_model, default=256)
        return self.max_length_

    def transform(self, X: Any) -> np.ndarray:
        encoder = self._encoder()
        if encoder.dim != getattr(self, "dim_", encoder.dim):
            raise BundleError(f"the base model now at {encoder.path} gives {encoder.dim}-dimensional embeddings, "
                              f"but this model was trained on {self.dim_}; use the base model it was trained with")
        texts = join_texts(X)
        if self.verbose and len(texts) >= 256:
            from mlcli.text.progress import Progress

            bar = Progress(len(texts), f"embedding {len(texts)} texts", "rows")
            try:
                return encoder.encode(texts, progress=bar.update)
            finally:
                bar.close()
        return encoder.encode(texts)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array([f"emb{i}" for i in range(self.dim_)], dtype=object)

"""The torch/transformers side: importing them lazily, offline loading, devices, batching.

Only functions here import torch or transformers, and only when called.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlcli.errors import ConfigError, MissingDependency, first_line


def offline() -> None:
    """Hugging Face offline mode: nothing is ever fetched from the hub."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def require_torch(purpose: str) -> tuple[Any, Any]:
    """(torch, transformers), or MissingDependency with the install line."""
    offline()
    try:
        import torch
    except ImportError as exc:
        raise MissingDependency("torch", purpose, extra="text") from exc
    try:
        import transformers
    except ImportError as exc:
        raise MissingDependency("transformers", purpose, extra="text") from exc
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return torch, transformers


def pick_device(torch: Any, device: str = "auto") -> Any:
    device = (device or "auto").lower()
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device '{device}' was asked for, but no CUDA GPU is available")
    return torch.device(device)


def set_threads(torch: Any, n_threads: int | None) -> None:
    if n_threads and n_threads > 0 and torch.get_num_threads() != n_threads:
        torch.set_num_threads(int(n_threads))


@contextlib.contextmanager
def no_prompts() -> Iterator[None]:
    """While a Hugging Face loader runs, standard input is an empty stream: no library question can read the
    user's piped data as an answer (the loaders are also told trust_remote_code=False, so none should ask)."""
    saved = sys.stdin
    sys.stdin = io.StringIO("")
    try:
        yield
    finally:
        sys.stdin = saved


def refuse_custom_code(path: Path) -> None:
    """The last check before a loader opens ``path``: a folder that would need its own code is refused."""
    from mlcli.text.base_model import custom_code

    code = custom_code(Path(path))
    if code:
        raise ConfigError(f"the model in {path} needs custom code to load: {code}; mlcli never runs a model's own "
                          "code")


def load_tokenizer(path: Path) -> Any:
    from transformers import AutoTokenizer

    refuse_custom_code(path)
    try:
        with no_prompts():
            return AutoTokenizer.from_pretrained(str(path), trust_remote_code=False, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - any loading failure is a broken model directory
        raise ConfigError(f"the tokenizer in {path} could not be loaded: {first_line(exc)}") from exc


def load_sequence_model(path: Path, num_labels: int, regression: bool) -> Any:
    from transformers import AutoModelForSequenceClassification

    kwargs: dict[str, Any] = {"num_labels": num_labels}
    if regression:
        kwargs["problem_type"] = "regression"
    refuse_custom_code(path)
    try:
        with no_prompts():
            return AutoModelForSequenceClassification.from_pretrained(str(path), trust_remote_code=False,
                                                                      local_files_only=True, **kwargs)
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(f"the model in {path} could not be loaded for sequence classification: "
                          f"{first_line(exc)}") from exc


def load_encoder(path: Path) -> Any:
    from transformers import AutoModel

    refuse_custom_code(path)
    try:
        with no_prompts():
            return AutoModel.from_pretrained(str(path), trust_remote_code=False, local_files_only=True)
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(f"the model in {path} could not be loaded: {first_line(exc)}") from exc


def tokenize(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids per text (with special tokens, truncated, not padded)."""
    if not texts:
        return []
    enc = tokenizer(list(texts), truncation=True, max_length=max_length, padding=False,
                    return_attention_mask=False, return_token_type_ids=False)
    return enc["input_ids"]


def pad_id(tokenizer: Any) -> int:
    pid = getattr(tokenizer, "pad_token_id", None)
    return int(pid) if pid is not None else 0


def collate(torch: Any, ids: Sequence[Sequence[int]], pad: int, device: Any) -> tuple[Any, Any]:
    """Pad a batch to its longest member: (input_ids, attention_mask) on ``device``."""
    width = max(len(x) for x in ids)
    arr = np.full((len(ids), width), pad, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for i, x in enumerate(ids):
        arr[i, :len(x)] = x
        mask[i, :len(x)] = 1
    return torch.from_numpy(arr).to(device), torch.from_numpy(mask).to(device)


def sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Inference batches of similar length (longest first), so little compute goes to padding."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


def bucketed_batches(lengths: Sequence[int], batch_size: int, rng: np.random.RandomState,
                     bucket: int = 50) -> list[np.ndarray]:
    """Training batches: shuffled, then sorted by length within pools of ``bucket`` batches, then shuffled."""
    order = rng.permutation(len(lengths))
    lengths = np.asarray(lengths)
    batches = []
    pool = batch_size * bucket
    for start in range(0, len(order), pool):
        chunk = order[start:start + pool]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def autocast(torch: Any, device: Any) -> Any:
    """Mixed precision on CUDA (bf16 where supported, else fp16); a no-op context on the CPU."""
    import contextlib

    if device.type != "cuda":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast(device_type="cuda", dtype=dtype)


def needs_grad_scaler(torch: Any, device: Any) -> bool:
    return device.type == "cuda" and not torch.cuda.is_bf16_supported()

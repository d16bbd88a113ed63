"""Checks of a pipeline built from a verified bundle, before any of its weights or base models are loaded:
the folders its steps read stay inside the bundle, its sentence-embedding steps use a base model the bundle
holds (or the packaged default, identified by package, version and sha256), and what it predicts agrees with
the description (task, classes, input columns)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlcli.errors import BundleError
from mlcli.models.manifest import SAFE_NAME

IN_BUNDLE = "bundle:"  # a base model path recorded relative to the bundle folder


def estimators_in(obj: Any, _depth: int = 0, _seen: set[int] | None = None) -> Iterator[Any]:
    """Every estimator reachable from ``obj`` (pipeline steps, a column transformer's branches, an ensemble's
    members, wrapped models, unfitted templates), each once."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen or _depth > 24:
        return
    seen.add(id(obj))
    if isinstance(obj, (list, tuple)):
        children: Any = obj
    elif isinstance(obj, dict):
        children = obj.values()
    elif hasattr(obj, "get_params"):
        yield obj
        children = vars(obj).values()
    else:
        return
    for child in children:
        if isinstance(child, (list, tuple, dict)) or hasattr(child, "get_params"):
            yield from estimators_in(child, _depth + 1, seen)


def is_embedder(obj: Any) -> bool:
    return type(obj).__name__ == "TextEmbedder" and type(obj).__module__ == "mlcli.text.embedding"


def is_transformer_model(obj: Any) -> bool:
    return type(obj).__module__ == "mlcli.text.estimator" and hasattr(obj, "save_artifacts")


def check_artifact_dirs(folder: Path, meta: dict[str, Any], steps: list[tuple[str, Any]]) -> None:
    """A step that keeps files beside the pipeline (a fine-tuned transformer's weights) reads the folder named
    after it: that name must be one plain folder name, so the folder is inside the bundle (whose files the
    verifier has checked: listed, hashed, no link)."""
    del meta
    for name, _ in steps:
        if not isinstance(name, str) or not SAFE_NAME.match(name) or name.startswith("."):
            raise BundleError(f"{folder}: a pipeline step named {str(name)[:60]!r} would read files outside the "
                              "bundle; nothing was loaded")


def place_base_models(folder: Path, meta: dict[str, Any], pipeline: Any) -> None:
    """Point every sentence-embedding step at a base model the bundle vouches for: a folder inside it, or the
    packaged default whose version and sha256 match what was recorded. Anything else is refused."""
    from mlcli.text import base_model as bm

    entries = [e for e in meta.get("base_models") or [] if e.get("use") == "embedding"]
    for step in (s for s in estimators_in(pipeline) if is_embedder(s)):
        value = step.base_model
        if bm.is_default(value):
            _check_packaged(folder, [e for e in entries if "package" in e], meta.get("format_version", 2))
        elif isinstance(value, str) and value.startswith(IN_BUNDLE):
            rel = value[len(IN_BUNDLE):]
            if not any(e.get("path") == rel for e in entries):
                raise BundleError(f"{folder}: an embedding step uses {rel!r}, which mlcli.json does not record as a "
                                  "base model of the bundle; nothing was loaded")
            step.base_model = str(folder / rel)
        else:
            raise BundleError(f"{folder}: an embedding step uses the base model {str(value)[:80]!r}, outside the "
                              "bundle: a bundle uses only files it holds (or the packaged default model); retrain "
                              "it with this mlcli, which copies the base model in; nothing was loaded")


def _check_packaged(folder: Path, entries: list[dict[str, Any]], version: int) -> None:
    from mlcli.text import base_model as bm

    if not entries:
        if version >= 3:
            raise BundleError(f"{folder}: an embedding step uses the packaged default model, which mlcli.json does "
                              "not identify (package, version, sha256); nothing was loaded")
        return  # a bundle from before base models were recorded: the packaged default, unidentified
    name, installed, digest = bm.packaged_identity()
    entry = entries[0]
    if entry.get("package") != name or entry.get("sha256") != digest:
        raise BundleError(f"{folder} embeds text with {entry.get('package')} {entry.get('version')}, but the "
                          f"installed {name} {installed} differs (its files' sha256 does not match): install "
                          f"{entry.get('package')}=={entry.get('version')}")


def check_consistency(folder: Path, meta: dict[str, Any], pipeline: Any) -> None:
    """The description and the pipeline agree: a classifier for a classification task with as many classes
    as described, a regressor for regression, and the input columns of the schema."""
    task, classes = meta["task"], meta.get("classes") or []
    if task in ("binary", "multiclass", "regression"):
        fitted = getattr(pipeline.steps[-1][1], "classes_", None)
        fitted = fitted if fitted is not None and len(fitted) else None  # CatBoost's regressor has empty classes_
        if task == "regression" and fitted is not None:
            raise BundleError(f"{folder}/mlcli.json says regression, but its pipeline is a classifier of "
                              f"{len(fitted)} classes; nothing was loaded")
        if task != "regression" and (fitted is None or len(fitted) != len(classes)):
            found = "no classes" if fitted is None else f"{len(fitted)} classes"
            raise BundleError(f"{folder}/mlcli.json lists {len(classes)} classes for a {task} model, but its pipeline "
                              f"predicts {found}; nothing was loaded")
    expected = {c["name"] for c in meta["schema"]["columns"]
                if c["role"] in ("numeric", "categorical", "text", "datetime")}
    names = getattr(pipeline, "feature_names_in_", None)
    if names is not None and {str(n) for n in names} != expected:
        raise BundleError(f"{folder}: the pipeline takes the columns {', '.join(sorted(map(str, names)))[:120]}, "
                          "not the ones mlcli.json describes; nothing was loaded")

"""The base models a bundle's text steps use, kept inside the bundle so that it is a closed world.

A sentence-embedding step reads its base model every time it embeds: a model given with ``--base-model
PATH`` is copied into the bundle (``base-models/N``, plain files only) and the step records the path
relative to the bundle; the packaged default stays in its package and is identified by package name,
version and sha256. A fine-tuned transformer keeps its own weights (``model/``): its base model is recorded
for the reader only.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlcli.models.manifest import path_problem
from mlcli.models.verify import PICKLE_SUFFIXES
from mlcli.models.verify_built import IN_BUNDLE, estimators_in, is_embedder, is_transformer_model

FOLDER = "base-models"


@contextlib.contextmanager
def keep_base_models(pipeline: Any, folder: Path) -> Iterator[list[dict[str, Any]]]:
    """While the pipeline is written into ``folder``: its embedding steps point inside the bundle (their
    models copied there). Yields the ``base_models`` entries of mlcli.json; the steps are put back after."""
    found = list(estimators_in(pipeline))
    embedders = [s for s in found if is_embedder(s)]
    tuned = [s for s in found if is_transformer_model(s)]
    entries: list[dict[str, Any]] = []
    restore: list[tuple[Any, Any]] = []
    copied: dict[Path, str] = {}
    try:
        for step in embedders:
            entry = _entry("embedding", step.base_model)
            if "package" not in entry:
                source = Path(str(step.base_model)).expanduser().resolve()
                if source not in copied:
                    copied[source] = _copy(source, folder, len(copied))
                entry["path"] = copied[source]
                restore.append((step, step.base_model))
                step.base_model = IN_BUNDLE + copied[source]
            if entry not in entries:
                entries.append(entry)
        for step in tuned:
            entry = _entry("fine-tuning", step.base_model)
            if entry not in entries:
                entries.append(entry)
        yield entries
    finally:
        for step, value in restore:
            step.base_model = value


def _entry(use: str, base_model: Any) -> dict[str, Any]:
    from mlcli.text import base_model as bm

    if bm.is_default(base_model):
        name, version, digest = bm.packaged_identity()
        return {"use": use, "name": name, "package": name, "version": version, "sha256": digest}
    return {"use": use, "name": str(base_model)}


def _copy(source: Path, folder: Path, index: int) -> str:
    """Copy the model folder's plain files (links followed, hidden files and odd names left out) into the
    bundle; returns the folder's path inside the bundle."""
    rel = f"{FOLDER}/{index}"
    target = folder / rel
    for path in sorted(source.rglob("*")):
        name = path.relative_to(source).as_posix()
        if not path.is_file() or path_problem(f"{rel}/{name}") or name.lower().endswith(PICKLE_SUFFIXES):
            continue  # pickle-based weights (pytorch_model.bin) stay out: the bundle holds the safetensors
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / name)
    return rel

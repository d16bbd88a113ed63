"""Model bundles: a directory with the fitted pipeline (model.joblib) and mlcli.json.

Writes are atomic: the bundle is written into a temporary sibling directory and renamed into place, so an
interrupted run never leaves a half-written bundle. Steps that keep large artefacts outside the pickle
(the transformer's weights) implement ``save_artifacts(dir)`` / ``load_artifacts(dir)``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcli.data.schema import Schema
from mlcli.errors import BundleError, ConfigError

META_FILE = "mlcli.json"
MODEL_FILE = "model.joblib"
ROWS_FILE = "train_rows.npy"  # sorted 64-bit hashes of the training rows (feature values and target)
FORMAT_VERSION = 1


@dataclass
class Bundle:
    path: Path
    pipeline: Any
    meta: dict[str, Any]

    @property
    def schema(self) -> Schema:
        return Schema.from_dict(self.meta["schema"])

    @property
    def task(self) -> str:
        return self.meta["task"]

    @property
    def classes(self) -> list[Any]:
        return self.meta.get("classes") or []

    @property
    def threshold(self) -> float | None:
        return self.meta.get("threshold")

    def train_rows(self) -> Any:
        """The sorted hashes of the rows the model was trained on, or None (a bundle from before they were
        kept). Plain uint64 numbers: np.load with allow_pickle=False builds nothing else."""
        import numpy as np

        path = self.path / ROWS_FILE
        if not path.is_file():
            return None
        try:
            rows = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise BundleError(f"{path} could not be read: {exc}") from exc
        if rows.dtype != np.uint64 or rows.ndim != 1:
            raise BundleError(f"{path} is not a list of row hashes")
        return rows


def is_bundle(path: Path) -> bool:
    return (path / META_FILE).is_file() and (path / MODEL_FILE).is_file()


def _artifact_steps(pipeline: Any):
    steps = getattr(pipeline, "steps", [])
    for name, step in steps:
        if hasattr(step, "save_artifacts") and hasattr(step, "load_artifacts"):
            yield name, step


def save_bundle(path: str | Path, pipeline: Any, meta: dict[str, Any], train_rows: Any = None) -> Path:
    """Write the bundle atomically; ``train_rows``: the hashes of the training rows (data.dataset.row_hashes),
    kept so evaluate and explain can tell when they are given rows the model was trained on."""
    import joblib

    target = Path(path)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"--out {target} exists and is a file; give a directory path")
    if target.is_dir() and any(target.iterdir()) and not is_bundle(target):
        raise ConfigError(f"--out {target} is a non-empty directory that is not an mlcli bundle; "
                          "refusing to overwrite it: give another path")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a bundle gets the usual directory permissions
    old = None
    try:
        for name, step in _artifact_steps(pipeline):
            step.save_artifacts(tmp / name)
        joblib.dump(pipeline, tmp / MODEL_FILE, compress=3)
        if train_rows is not None:
            import numpy as np

            np.save(tmp / ROWS_FILE, np.unique(np.asarray(train_rows, dtype=np.uint64)), allow_pickle=False)
        meta = {"format_version": FORMAT_VERSION, **meta}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, default=_json_default) + "\n")
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not target.exists():
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def load_bundle(path: str | Path) -> Bundle:
    import joblib

    p = Path(path)
    if not p.exists():
        raise BundleError(f"model bundle not found: {p}")
    if not p.is_dir() or not (p / META_FILE).is_file():
        raise BundleError(f"{p} is not an mlcli model bundle (no {META_FILE}); train one with: "
                          f"mlcli train DATA --out {p}")
    try:
        meta = json.loads((p / META_FILE).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BundleError(f"{p / META_FILE} is unreadable: {exc}") from exc
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise BundleError(f"{p} was written by a newer mlcli (bundle format {meta.get('format_version')}); "
                          "upgrade mlcli to use it")
    if not (p / MODEL_FILE).is_file():
        raise BundleError(f"{p} is an incomplete bundle: {MODEL_FILE} is missing")
    try:
        pipeline = joblib.load(p / MODEL_FILE)
    except ModuleNotFoundError as exc:
        raise BundleError(f"{p} needs the '{exc.name}' package to load, which is not installed") from exc
    except Exception as exc:
        raise BundleError(f"{p / MODEL_FILE} could not be loaded: {exc}") from exc
    for name, step in _artifact_steps(pipeline):
        step.load_artifacts(p / name)
    return Bundle(p, pipeline, meta)


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return repr(value)

"""Model bundles: a directory with the fitted pipeline in a format whose loading builds only known types
(``mlcli.models.persist``), the training rows' hashes, and mlcli.json, which records a sha256 of every file.

Loading runs the verifier (:mod:`mlcli.models.verify`: the description against its schema, a closed world of
listed plain files, sizes, hashes, types, the signature) before anything is built, then checks the built
pipeline against the description (:mod:`mlcli.models.verify_built`) before any weights or base model are
loaded. A bundle from before this format (a pickle, ``model.joblib``) is refused unless the caller trusts it
(--trust-pickle). A sentence-embedding step's base model is copied into the bundle (``base-models/N``), or,
for the packaged default, identified by package, version and sha256.
Writes are atomic: the bundle is written into a temporary sibling directory and renamed into place, so an
interrupted run never leaves a half-written bundle. Steps that keep large artefacts outside the pipeline file
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

from mlcli.data.dataset import warn
from mlcli.data.schema import Schema
from mlcli.errors import BundleError, ConfigError, first_line
from mlcli.models.base_models import keep_base_models
from mlcli.models.bundle_checks import clean_stale_temps, file_hashes, version_differences
from mlcli.models.manifest import FORMAT_VERSION
from mlcli.models.persist import read_pipeline, write_pipeline
from mlcli.models.signing import sign
from mlcli.models.verify import META_FILE, PICKLE_FILE, PIPELINE_FILE, verify_bundle
from mlcli.models.verify_built import check_artifact_dirs, check_consistency, place_base_models

ROWS_FILE = "train_rows.npy"  # sorted 64-bit hashes of the training rows (feature values and target)


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


UNSUPERVISED_TASKS = {"clustering": "cluster", "reduction": "reduce"}  # task -> the command that saves it


def require_supervised(bundle: Bundle, command: str) -> None:
    """evaluate and explain need a model of a target; a cluster or reduce bundle only places new rows."""
    if bundle.task in UNSUPERVISED_TASKS:
        raise BundleError(f"{bundle.path} is a {bundle.task} bundle (saved by mlcli {UNSUPERVISED_TASKS[bundle.task]}"
                          f"), not a model of a target: {command} needs one from mlcli train; place new rows with "
                          f"mlcli predict {bundle.path} DATA")


def is_bundle(path: Path) -> bool:
    return (path / META_FILE).is_file() and ((path / PIPELINE_FILE).is_file() or (path / PICKLE_FILE).is_file())


def _artifact_steps(pipeline: Any):
    steps = getattr(pipeline, "steps", [])
    for name, step in steps:
        if all(hasattr(step, hook) for hook in ("save_artifacts", "load_artifacts", "forget_saved_artifacts")):
            yield name, step


def check_bundle_path(path: str | Path, flag: str = "--out") -> Path:
    """Fail now, before any work, when a bundle cannot be written to ``path``: an existing file, a non-empty
    directory that is not a bundle, or a place this process cannot create a directory in (read-only,
    immutable, no permission)."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{flag} {target} exists and is a file; give a directory path")
    if target.is_dir() and any(target.iterdir()) and not is_bundle(target):
        raise ConfigError(f"{flag} {target} is a non-empty directory that is not an mlcli bundle; "
                          "refusing to overwrite it: give another path")
    parent = target.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{flag} {target}: {parent} is not a directory")
    try:
        probe = Path(tempfile.mkdtemp(prefix=".mlcli-write-check-", dir=parent))
        probe.rmdir()
    except OSError as exc:
        raise ConfigError(f"{flag} {target}: cannot write in {parent} ({exc.strerror or exc})") from None
    return target


def save_bundle(path: str | Path, pipeline: Any, meta: dict[str, Any], train_rows: Any = None,
                sign_key: bytes | None = None) -> Path:
    """Write the bundle atomically; ``train_rows``: the hashes of the training rows (data.dataset.row_hashes),
    kept so evaluate and explain can tell when they are given rows the model was trained on; ``sign_key``:
    sign the description (:mod:`mlcli.models.signing`)."""
    target = check_bundle_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(target.parent, target.name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a bundle gets the usual directory permissions
    old = None
    try:
        _write_files(tmp, pipeline, meta, train_rows, sign_key)
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


def _write_files(folder: Path, pipeline: Any, meta: dict[str, Any], train_rows: Any,
                 sign_key: bytes | None) -> None:
    steps = list(_artifact_steps(pipeline))
    for name, step in steps:
        step.save_artifacts(folder / name)
    try:
        with keep_base_models(pipeline, folder) as base_models:
            boosters = write_pipeline(pipeline, folder)
    finally:  # the weights were left out of this file only: a later copy of the step keeps them
        for _, step in steps:
            step.forget_saved_artifacts()
    if train_rows is not None:
        import numpy as np

        np.save(folder / ROWS_FILE, np.unique(np.asarray(train_rows, dtype=np.uint64)), allow_pickle=False)
    meta = {**{k: v for k, v in meta.items() if k not in ("format_version", "files", "boosters", "signature",
                                                         "base_models")},
            "format_version": FORMAT_VERSION, "boosters": boosters, "files": file_hashes(folder),
            "base_models": base_models}
    meta = json.loads(json.dumps(meta, default=_json_default, allow_nan=False))  # plain JSON, as it is read back
    if sign_key is not None:
        meta = sign(meta, sign_key)
    (folder / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")


def read_meta(path: str | Path) -> tuple[Path, dict[str, Any]]:
    """(the bundle folder, its description), after the checks loading makes: the verifier's, and the built
    pipeline against its description (nothing of the weights or base models is loaded)."""
    verdict = verify_bundle(path)
    if verdict.meta["format_version"] >= 2:
        build_checked(verdict.folder, verdict.meta)
    return verdict.folder, verdict.meta


def load_bundle(path: str | Path, *, trust_pickle: bool = False, notify: Any = None) -> Bundle:
    """Verify, build, check the built pipeline against the description, then load the weights; ``notify``
    gets one warning when it was saved with other library versions."""
    verdict = verify_bundle(path, trust_pickle=trust_pickle)
    p, meta = verdict.folder, verdict.meta
    if meta["format_version"] < 2:
        pipeline = _load_pickle(p, trust_pickle)
    else:
        pipeline = build_checked(p, meta)
    for name, step in _artifact_steps(pipeline):
        try:
            step.load_artifacts(p / name)
        except ConfigError as exc:
            raise BundleError(f"{p}: {exc}") from None
    differences = version_differences(meta.get("libraries"))
    if differences and notify is not None:
        warn(notify, f"{p} was saved with other library versions: {', '.join(differences)}; its predictions may "
                     "differ slightly")
    return Bundle(p, pipeline, meta)


def build_checked(folder: Path, meta: dict[str, Any]) -> Any:
    """The pipeline of a verified bundle, checked against its description; no weights or base model loaded."""
    pipeline = read_pipeline(folder, meta["boosters"])
    check_artifact_dirs(folder, meta, list(_artifact_steps(pipeline)))
    place_base_models(folder, meta, pipeline)
    check_consistency(folder, meta, pipeline)
    return pipeline


def _load_pickle(p: Path, trust_pickle: bool) -> Any:
    """A bundle of the old format: a pickle, which can run any code when it is loaded (the verifier has
    refused it unless trust_pickle)."""
    if not trust_pickle:
        raise BundleError(f"{p} is an old bundle saved as a pickle ({PICKLE_FILE}): add --trust-pickle only if you "
                          "trust where it came from")
    import joblib

    try:
        return joblib.load(p / PICKLE_FILE)
    except ModuleNotFoundError as exc:
        raise BundleError(f"{p} needs the '{exc.name}' package to load, which is not installed") from None
    except Exception as exc:  # noqa: BLE001 - whatever a foreign pickle raises
        raise BundleError(f"{p / PICKLE_FILE} could not be loaded: {first_line(exc)}") from None


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return repr(value)

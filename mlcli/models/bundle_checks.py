"""What is checked before anything of a bundle is built: its description (mlcli.json) has the fields and types
mlcli writes, every file matches the sha256 recorded for it, and the library versions it was saved with."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Any

from mlcli.errors import BundleError

TASKS = ("binary", "multiclass", "regression", "clustering", "reduction")  # the last two: cluster / reduce --out
ROLES = ("numeric", "categorical", "text", "datetime", "identifier", "constant", "dropped")
_SHA = re.compile(r"^[0-9a-f]{64}$")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_hashes(folder: Path) -> dict[str, str]:
    """The sha256 of every file below ``folder``, by its path relative to it ('/' separated)."""
    return {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def verify_files(folder: Path, files: dict[str, str]) -> None:
    """Every listed file exists inside the bundle and has the recorded sha256; else one line naming it."""
    root = folder.resolve()
    for name, digest in files.items():
        path = (folder / name).resolve()
        if root not in path.parents:
            raise BundleError(f"{folder}/mlcli.json lists a file outside the bundle: {name}")
        if not path.is_file():
            raise BundleError(f"{folder} is incomplete: {name} is missing")
        if sha256_file(path) != digest:
            raise BundleError(f"{folder}/{name} does not match the sha256 recorded in mlcli.json: the file was "
                              "changed or damaged after it was saved; nothing was loaded")


def _problem(meta: Any) -> str | None:
    """What is wrong with a bundle description, or None."""
    if not isinstance(meta, dict):
        return f"it is {type(meta).__name__}, not an object"
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return f"format_version must be a whole number, got {version!r}"
    for key, kind in (("model", str), ("target", str), ("schema", dict)):
        if not isinstance(meta.get(key), kind):
            return f"'{key}' must be {'text' if kind is str else 'an object'}, got {meta.get(key)!r}"[:160]
    if meta.get("task") not in TASKS:
        return f"'task' must be one of {', '.join(TASKS)}, got {meta.get('task')!r}"
    if not isinstance(meta.get("classes", []), list) or (
            meta["task"] in ("binary", "multiclass") and not meta.get("classes")):
        return "'classes' must be the list of class labels"
    threshold = meta.get("threshold")
    if threshold is not None and (not isinstance(threshold, (int, float)) or isinstance(threshold, bool)):
        return f"'threshold' must be a number or null, got {threshold!r}"
    return _schema_problem(meta["schema"]) or (_files_problem(meta) if version >= 2 else None)


def _schema_problem(schema: dict[str, Any]) -> str | None:
    columns = schema.get("columns")
    if not isinstance(columns, list) or not columns:
        return "'schema.columns' must be a list of columns"
    for col in columns:
        if not isinstance(col, dict) or not isinstance(col.get("name"), str) or col.get("role") not in ROLES:
            return f"'schema.columns' has an entry that is not a column with a name and a role: {col!r}"[:160]
        if set(col) - {"name", "dtype", "role", "reason", "n_unique", "missing"}:
            return f"column '{col['name']}' has unknown fields: {', '.join(sorted(set(col) - {'name'}))}"[:160]
    return None


def _files_problem(meta: dict[str, Any]) -> str | None:
    files, boosters = meta.get("files"), meta.get("boosters", [])
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) and _SHA.match(v)
                                              for k, v in files.items()):
        return "'files' must map each file of the bundle to its sha256"
    if not isinstance(boosters, list) or not all(isinstance(b, dict) and b.get("file") in files for b in boosters):
        return "'boosters' must list files of the bundle"
    return None


def validate_meta(meta: Any, where: Path) -> dict[str, Any]:
    problem = _problem(meta)
    if problem:
        raise BundleError(f"{where} is not a valid bundle description: {problem}")
    return meta


def version_differences(libraries: Any) -> list[str]:
    """'scikit-learn 1.9.0 (now 1.9.1)' for each library whose installed version differs from the saved one."""
    from importlib import metadata

    out = []
    for dist, saved in (libraries or {}).items() if isinstance(libraries, dict) else ():
        if dist in ("mlcli", "python") or not isinstance(saved, str):
            continue
        try:
            now = metadata.version(dist)
        except metadata.PackageNotFoundError:
            now = "not installed"
        if now != saved:
            out.append(f"{dist} {saved} (now {now})")
    return out


def clean_stale_temps(parent: Path, name: str) -> None:
    """Remove the temporary folders ``.NAME.tmp-PID-*`` that a killed save left, when process PID is gone."""
    for path in parent.glob(f".{name}.tmp-*"):
        match = re.match(rf"^\.{re.escape(name)}\.tmp-(\d+)-", path.name)
        if match and path.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True

"""Small pieces the bundle writer and verifier share: file hashes, the library versions a bundle was saved
with, and the clean-up of temporary folders a killed save left."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Any


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_hashes(folder: Path) -> dict[str, str]:
    """The sha256 of every file below ``folder``, by its path relative to it ('/' separated)."""
    return {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}


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

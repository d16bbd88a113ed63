"""mlcli sign: sign a bundle you trust with your team's key (HMAC-SHA256 over mlcli.json, which holds every
file's sha256; :mod:`mlcli.models.signing` says why this scheme). The bundle is verified and its pipeline
checked against its description first: a signature vouches only for a bundle loading would accept."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from mlcli.data.dataset import Notify, quiet
from mlcli.errors import ConfigError
from mlcli.models.bundle import build_checked
from mlcli.models.signing import KEY_ENV, KEY_FILE_ENV, key_id, sign, signing_key
from mlcli.models.verify import META_FILE, verify_bundle


def require_key(key_file: str | None = None, what: str = "signing") -> bytes:
    """The signing key, or a one-line error saying how to give one (checked before any work)."""
    key = signing_key(key_file)
    if key is None:
        raise ConfigError(f"{what} needs a key: set {KEY_ENV} (the key) or {KEY_FILE_ENV} (a file holding it), or "
                          "give --key-file")
    return key


def sign_bundle(path: str, key_file: str | None = None, notify: Notify = quiet) -> dict[str, Any]:
    key = require_key(key_file, "mlcli sign")
    verdict = verify_bundle(path)
    if verdict.meta["format_version"] < 2:
        raise ConfigError(f"{verdict.folder} is an old pickle bundle: upgrade it first (mlcli inspect "
                          f"{verdict.folder} --upgrade --trust-pickle), then sign it")
    build_checked(verdict.folder, verdict.meta)
    replaced = (verdict.meta.get("signature") or {}).get("key_id")
    meta = sign(verdict.meta, key)
    _write_atomic(verdict.folder / META_FILE, meta)
    notify(f"{verdict.folder} signed with key {key_id(key)}" + (f" (replacing key {replaced}'s signature)"
                                                                 if replaced and replaced != key_id(key) else ""))
    return {"command": "sign", "bundle": str(verdict.folder), "key_id": key_id(key), "files": len(meta["files"]),
            "replaced": replaced}


def _write_atomic(path: Path, meta: dict[str, Any]) -> None:
    import json

    fd, tmp = tempfile.mkstemp(prefix=".mlcli.json.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(meta, indent=2) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

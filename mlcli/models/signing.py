"""Signed bundles for teams that share models: an HMAC-SHA256 over the whole description (mlcli.json without
its signature), which holds the sha256 of every file, so one signature covers every byte of the bundle.

Why HMAC with a shared key and not public-key signing (``model-signing``, Sigstore): a team that shares
models already shares secrets; HMAC needs no new dependency, no network, no certificate authority, and
verifies in microseconds. What it does not give: telling apart who of the key holders signed, or letting
someone verify without being able to sign. The key comes from ``MLCLI_SIGNING_KEY`` (the key itself) or
``MLCLI_SIGNING_KEY_FILE`` (a file holding it), at least 16 bytes; ``MLCLI_REQUIRE_SIGNATURE=1`` makes every
command that loads a bundle refuse one without a valid signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from mlcli.errors import ConfigError

SCHEME = "hmac-sha256"
MIN_KEY_BYTES = 16
KEY_ENV, KEY_FILE_ENV, REQUIRE_ENV = "MLCLI_SIGNING_KEY", "MLCLI_SIGNING_KEY_FILE", "MLCLI_REQUIRE_SIGNATURE"


def signing_key(key_file: str | None = None) -> bytes | None:
    """The key from ``key_file``, else the environment; None when none is set. A key too short, or a key file
    that cannot be read, is a one-line error."""
    source = key_file or os.environ.get(KEY_FILE_ENV)
    if source:
        try:
            key = Path(source).expanduser().read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"the signing key file {source} cannot be read ({exc.strerror or exc})") from None
        where = f"the key file {source}"
    elif os.environ.get(KEY_ENV):
        key, where = os.environ[KEY_ENV].encode("utf-8"), KEY_ENV
    else:
        return None
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(f"{where} holds {len(key)} bytes: a signing key needs at least {MIN_KEY_BYTES} (e.g. "
                          "python3 -c 'import secrets; print(secrets.token_hex(32))')")
    return key


def signature_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def key_id(key: bytes) -> str:
    """A short public name of a key (the start of its sha256): which key signed, without revealing it."""
    return hashlib.sha256(b"mlcli-key-id:" + key).hexdigest()[:16]


def _payload(meta: dict[str, Any]) -> bytes:
    body = {k: v for k, v in meta.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def sign(meta: dict[str, Any], key: bytes) -> dict[str, Any]:
    """``meta`` with its signature."""
    value = hmac.new(key, _payload(meta), hashlib.sha256).hexdigest()
    return {**{k: v for k, v in meta.items() if k != "signature"},
            "signature": {"scheme": SCHEME, "key_id": key_id(key), "value": value}}


def check_signature(meta: dict[str, Any], key: bytes | None) -> tuple[str, str]:
    """(status, what it means): status is 'valid', 'invalid', 'unchecked' (signed, but not with the key at
    hand or no key at hand) or 'unsigned'."""
    sig = meta.get("signature")
    if not sig:
        return "unsigned", "not signed: anyone who edits mlcli.json can change what it says"
    if key is None:
        return "unchecked", f"signed with key {sig['key_id']}, not checked: no key is set ({KEY_ENV} or {KEY_FILE_ENV})"
    if sig["key_id"] != key_id(key):
        return "unchecked", f"signed with key {sig['key_id']}, not the key at hand ({key_id(key)})"
    expected = hmac.new(key, _payload(meta), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(sig["value"])):
        return "invalid", (f"its signature does not match its contents under key {sig['key_id']}: mlcli.json was "
                           "changed after it was signed")
    return "valid", f"signed with key {sig['key_id']}, signature valid"

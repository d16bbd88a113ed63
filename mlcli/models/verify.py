"""The one verifier of a bundle, shared by loading and `mlcli inspect`: everything is checked before anything
of the bundle is built, and inspect reports exactly the findings that decide whether loading goes ahead.

A bundle is a closed world: mlcli.json is valid against its schema (:mod:`mlcli.models.manifest`); the
folder holds plain files and folders only (no symbolic link, no device or pipe), every file is listed with
its sha256 and every listed file is there; no file holds code (``.py``) or declares custom code to the
Hugging Face loaders (``auto_map``); sizes are within what a model can need (:mod:`mlcli.models.limits`);
the pipeline builds only trusted types; and, with a key at hand, the signature matches
(:mod:`mlcli.models.signing`). Loading stops at the first refusal; inspect collects every finding.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcli.errors import BundleError, first_line
from mlcli.models import manifest as mf
from mlcli.models.bundle_checks import sha256_file
from mlcli.models.limits import archive_problem, npy_file_problem, safetensors_problem
from mlcli.models.signing import check_signature, signature_required, signing_key
from mlcli.text.base_model import CODE_SUFFIXES, CUSTOM_CODE_KEYS

META_FILE = "mlcli.json"
PIPELINE_FILE = "pipeline.skops"
PICKLE_FILE = "model.joblib"  # format version 1: a pickle, loaded only with --trust-pickle
MAX_ENTRIES = 100_000
MAX_JSON_BYTES = 16 << 20
# weights and objects in formats whose loading unpickles (PyTorch .bin/.pt, joblib, pickle): mlcli writes none
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".dill")


@dataclass
class Finding:
    severity: str  # 'refuse': loading will not go ahead; 'note': worth knowing, loading goes ahead
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "message": self.message}


@dataclass
class Verdict:
    folder: Path
    meta: dict[str, Any] | None
    findings: list[Finding] = field(default_factory=list)
    signature: str = "unsigned"  # valid | invalid | unchecked | unsigned
    signature_text: str = ""  # what the status means, in a sentence
    collect: bool = False
    damaged: set[str] = field(default_factory=set)  # files whose size or hash was refused: never opened after
    types: list[dict[str, Any]] = field(default_factory=list)  # what the pipeline file would build

    @property
    def refusal(self) -> str | None:
        return next((f.message for f in self.findings if f.severity == "refuse"), None)

    def refuse(self, message: str) -> None:
        """Loading stops here (raises); inspect notes it and goes on."""
        self.findings.append(Finding("refuse", message))
        if not self.collect:
            raise BundleError(message)

    def note(self, message: str) -> None:
        self.findings.append(Finding("note", message))


def verify_bundle(path: str | Path, *, trust_pickle: bool = False, collect: bool = False) -> Verdict:
    """Check the bundle at ``path`` without building anything of it. Raises BundleError at the first refusal,
    or (``collect``) returns every finding; a folder that is no bundle at all always raises."""
    folder = Path(path)
    meta = read_manifest(folder)
    verdict = Verdict(folder, meta, collect=collect)
    problem = mf.manifest_problem(meta)
    if problem:
        verdict.refuse(f"{folder / META_FILE} is not a valid bundle description: {problem}")
        return verdict
    version = meta["format_version"]
    if version > mf.FORMAT_VERSION:
        raise BundleError(f"{folder} was written by a newer mlcli (bundle format {version}, this mlcli reads up to "
                          f"{mf.FORMAT_VERSION}); upgrade mlcli to use it")
    if version == 1:
        _legacy(verdict, trust_pickle)
        return verdict
    files = meta["files"]
    _walk(verdict, files)
    _listed(verdict, files)
    _custom_code(verdict, files)
    _hashes(verdict, files)
    _sizes(verdict, files)
    _types(verdict)
    _signature(verdict)
    return verdict


def read_manifest(folder: Path) -> dict[str, Any]:
    """mlcli.json, parsed strictly (no NaN, no repeated key) after its size is checked; BundleError when the
    folder is no bundle or the description cannot be read at all."""
    if not folder.exists():
        raise BundleError(f"model bundle not found: {folder}")
    meta_path = folder / META_FILE
    if not folder.is_dir() or not os.path.lexists(meta_path):
        raise BundleError(f"{folder} is not an mlcli model bundle (no {META_FILE}); train one with: "
                          f"mlcli train DATA --out {folder}")
    info = os.lstat(meta_path)
    if not stat.S_ISREG(info.st_mode):
        raise BundleError(f"{meta_path} is not a plain file (a link, a folder or a device): nothing was loaded")
    if info.st_size > mf.MAX_META_BYTES:
        raise BundleError(f"{meta_path} is {info.st_size / 2**20:,.0f} MiB, more than a bundle description can "
                          f"need ({mf.MAX_META_BYTES >> 20} MiB): nothing was loaded")
    try:
        return mf.strict_json(meta_path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BundleError(f"{meta_path} is unreadable: {first_line(exc)}") from None


def _legacy(verdict: Verdict, trust_pickle: bool) -> None:
    folder = verdict.folder
    if not trust_pickle:
        verdict.refuse(f"{folder} is an old bundle saved as a pickle ({PICKLE_FILE}), which can run any code when "
                       f"it is loaded; if you trust where it came from, convert it once: mlcli inspect {folder} "
                       "--upgrade --trust-pickle")
    elif not (folder / PICKLE_FILE).is_file():
        verdict.refuse(f"{folder} is an incomplete bundle: {PICKLE_FILE} is missing")


def _walk(verdict: Verdict, files: dict[str, str]) -> None:
    """Plain files and folders only, each file listed; a file of code is named as such."""
    root = verdict.folder
    count = 0
    for here, dirs, names in os.walk(root, followlinks=False):
        for name in sorted(dirs) + sorted(names):
            count += 1
            full = Path(here) / name
            rel = full.relative_to(root).as_posix()
            mode = os.lstat(full).st_mode
            if count > MAX_ENTRIES:
                verdict.refuse(f"{root} holds more than {MAX_ENTRIES:,} files: not a bundle mlcli wrote")
                return
            if stat.S_ISLNK(mode):
                verdict.refuse(f"{root}/{rel} is a symbolic link: a bundle holds plain files only (a link can point "
                               "anywhere on disk); nothing was loaded")
            elif stat.S_ISDIR(mode):
                continue
            elif not stat.S_ISREG(mode):
                verdict.refuse(f"{root}/{rel} is not a plain file (a pipe, socket or device); nothing was loaded")
            elif rel == META_FILE:
                continue
            elif rel.lower().endswith(CODE_SUFFIXES):
                verdict.refuse(f"{root}/{rel} is code: a bundle never holds or runs code; nothing was loaded")
            elif rel.lower().endswith(PICKLE_SUFFIXES):
                verdict.refuse(f"{root}/{rel} is in a pickle-based format, which can run code when it is read; mlcli "
                               "bundles hold safetensors, skops and the boosters' own formats only; nothing was loaded")
            elif rel not in files:
                verdict.refuse(f"{root}/{rel} is not listed in mlcli.json: every file of a bundle is listed with its "
                               "sha256; remove the file or get the bundle again from its source")
        dirs[:] = [d for d in dirs if not os.path.islink(Path(here) / d)]


def _listed(verdict: Verdict, files: dict[str, str]) -> None:
    for name in files:
        if name == META_FILE:
            verdict.refuse(f"{verdict.folder}/mlcli.json lists itself among its files")
            continue
        full = verdict.folder / name
        try:
            mode = os.lstat(full).st_mode
        except OSError:
            verdict.refuse(f"{verdict.folder} is incomplete: {name} is missing")
            continue
        if not stat.S_ISREG(mode):
            verdict.refuse(f"{verdict.folder}/{name} is not a plain file; nothing was loaded")
        elif name.lower().endswith(CODE_SUFFIXES):
            verdict.refuse(f"{verdict.folder}/{name} is code: a bundle never holds or runs code; nothing was loaded")


def _custom_code(verdict: Verdict, files: dict[str, str]) -> None:
    """A model folder whose JSON files name custom code for the Hugging Face loaders (``auto_map``) is refused:
    mlcli loads with trust_remote_code=False, and a bundle that needs code is not one it wrote."""
    for name in files:
        full = verdict.folder / name
        if not name.endswith(".json") or "/" not in name or not full.is_file() or full.is_symlink():
            continue
        if full.stat().st_size > MAX_JSON_BYTES:
            verdict.refuse(f"{verdict.folder}/{name} is larger than a model's settings can need")
            continue
        try:
            data = mf.strict_json(full.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            verdict.refuse(f"{verdict.folder}/{name} is unreadable: {first_line(exc)}")
            continue
        keys = [k for k in CUSTOM_CODE_KEYS if isinstance(data, dict) and k in data]
        if keys:
            verdict.refuse(f"{verdict.folder}/{name} declares custom code ('{keys[0]}'), which mlcli never runs; "
                           "nothing was loaded")


def _sizes(verdict: Verdict, files: dict[str, str]) -> None:
    for name in files:
        full = verdict.folder / name
        if name in verdict.damaged or not full.is_file() or full.is_symlink():
            continue
        problem = None
        if name == PIPELINE_FILE:
            problem = archive_problem(full)
        elif name.endswith(".npy"):
            problem = npy_file_problem(full)
        elif name.endswith(".safetensors"):
            problem = safetensors_problem(full)
        if problem:
            verdict.damaged.add(name)
            verdict.refuse(f"{verdict.folder}/{name} {problem}; nothing was loaded")


def _hashes(verdict: Verdict, files: dict[str, str]) -> None:
    for name, digest in files.items():
        full = verdict.folder / name
        if not full.is_file() or full.is_symlink():
            continue
        if sha256_file(full) != digest:
            verdict.damaged.add(name)
            verdict.refuse(f"{verdict.folder}/{name} does not match the sha256 recorded in mlcli.json: the file was "
                           "changed or damaged after it was saved; nothing was loaded")


def _types(verdict: Verdict) -> None:
    """Every type the pipeline file would build is one mlcli trusts (read from its schema, nothing built)."""
    from mlcli.models.persist import untrusted_types
    from mlcli.models.trusted import types_in

    path = verdict.folder / PIPELINE_FILE
    if PIPELINE_FILE in verdict.damaged or not path.is_file() or path.is_symlink():
        return  # a damaged or oversized archive is not opened
    try:
        bad = untrusted_types(path)
        verdict.types = [{"type": t, "trusted": t not in bad} for t in types_in(path)]
    except BundleError as exc:
        verdict.refuse(str(exc))
        return
    if bad:
        verdict.refuse(f"{path} would build {', '.join(bad[:3])}, which mlcli does not trust; nothing was loaded "
                       "(a bundle holds only mlcli's models and steps)")


def _signature(verdict: Verdict) -> None:
    status, meaning = check_signature(verdict.meta, signing_key())
    verdict.signature, verdict.signature_text = status, meaning
    if status == "invalid":
        verdict.refuse(f"{verdict.folder}: {meaning}; nothing was loaded")
    elif signature_required() and status != "valid":
        verdict.refuse(f"{verdict.folder} is {meaning.split(':')[0]}, and MLCLI_REQUIRE_SIGNATURE is set: only "
                       "bundles signed with your key load; sign a bundle you trust with mlcli sign")

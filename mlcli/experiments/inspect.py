"""mlcli inspect: what a bundle holds — model, task, target, classes, schema, metrics, base models, versions,
files and their hashes, the types loading it would build — and the verifier's verdict: every finding, and
for a refused bundle why. It runs the same checks as loading (:mod:`mlcli.models.verify`, then the built
pipeline against its description) without loading any weights. ``--upgrade`` rewrites a bundle of the old
pickle format in the safe one (only with --trust-pickle: reading a pickle runs it)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from mlcli.data.dataset import Notify, quiet
from mlcli.errors import BundleError, ConfigError, MlcliError
from mlcli.models.bundle import ROWS_FILE, build_checked, load_bundle, save_bundle
from mlcli.models.bundle_checks import sha256_file, version_differences
from mlcli.models.manifest import manifest_problem
from mlcli.models.verify import META_FILE, PICKLE_FILE, PIPELINE_FILE, Verdict, verify_bundle

DESCRIBED = ("model", "task", "target", "target_reason", "classes", "threshold", "created", "metrics", "baseline",
             "params", "preprocess", "seed", "data", "base_models", "boosters")


def inspect_bundle(path: str, *, upgrade: bool = False, trust_pickle: bool = False,
                   notify: Notify = quiet) -> dict[str, Any]:
    verdict = verify_bundle(path, collect=True, trust_pickle=trust_pickle or upgrade)
    meta = verdict.meta
    valid = manifest_problem(meta) is None
    if not valid:  # nothing of an invalid description is shown as fact: the one line says what is wrong
        raise BundleError(verdict.refusal)
    legacy = valid and meta["format_version"] < 2
    if upgrade and not legacy:
        notify(f"{verdict.folder} is already in the current bundle format: nothing to upgrade")
    elif upgrade:
        if not trust_pickle:
            raise ConfigError(f"--upgrade reads the old bundle's pickle, which can run any code: add --trust-pickle "
                              f"if you trust where {verdict.folder} came from")
        _upgrade(verdict.folder, meta, notify)
        return inspect_bundle(str(verdict.folder), notify=notify) | {"upgraded": True}
    if valid and not legacy and not verdict.refusal:
        _build(verdict)
    doc: dict[str, Any] = {"command": "inspect", "bundle": str(verdict.folder),
                           "verdict": "refused" if verdict.refusal else "loads", "reason": verdict.refusal,
                           "findings": [f.to_dict() for f in verdict.findings], "signature": verdict.signature,
                           "signature_text": verdict.signature_text,
                           "format_version": meta.get("format_version") if isinstance(meta, dict) else None,
                           "format": "pickle (old format: loading it runs code)" if legacy else
                           "skops pipeline, boosters in their own formats, weights as safetensors (loading builds "
                           "only trusted types and never runs code)",
                           "files": _files(verdict.folder, meta.get("files") if valid else None),
                           "types": verdict.types, "upgraded": False}
    if valid:
        doc.update({key: meta.get(key) for key in DESCRIBED})
        doc["columns"] = [c for c in meta["schema"]["columns"] if c.get("role") in
                          ("numeric", "categorical", "text", "datetime")]
        doc["libraries"] = _libraries(meta)
    doc["warnings"] = _warnings(doc, legacy, meta if valid else {})
    return doc


def _build(verdict: Verdict) -> None:
    """The checks loading makes once the pipeline is built (no weights, no base model loaded)."""
    try:
        build_checked(verdict.folder, verdict.meta)
    except MlcliError as exc:
        verdict.refuse(str(exc))


def _upgrade(folder: Path, meta: dict[str, Any], notify: Notify) -> None:
    bundle = load_bundle(folder, trust_pickle=True)
    keep = {k: v for k, v in meta.items() if k not in ("format_version", "files", "boosters")}
    save_bundle(folder, bundle.pipeline, keep)
    notify(f"{folder} rewritten in the current bundle format; {PICKLE_FILE} is gone")


def _files(folder: Path, recorded: dict[str, str] | None) -> list[dict[str, Any]]:
    """Every entry of the folder (links and odd files shown, never followed or opened) and every listed file."""
    recorded = recorded or {}
    found: dict[str, int] = {}
    for here, dirs, names in os.walk(folder, followlinks=False):
        for name in names + [d for d in dirs if os.path.islink(Path(here) / d)]:
            full = Path(here) / name
            found[full.relative_to(folder).as_posix()] = os.lstat(full).st_mode
    out = []
    for name in sorted(set(recorded) | set(found)):
        mode = found.get(name)
        plain = mode is not None and stat.S_ISREG(mode)
        digest = sha256_file(folder / name) if plain else None
        kind = "missing" if mode is None else "file" if plain else "link" if stat.S_ISLNK(mode) else "not a file"
        out.append({"name": name, "role": _role(name), "kind": kind,
                    "bytes": os.lstat(folder / name).st_size if plain else None, "sha256": digest,
                    "recorded": name in recorded or name == META_FILE,
                    "ok": None if name not in recorded else digest == recorded[name]})
    return out


def _role(name: str) -> str:
    if name == META_FILE:
        return "description"
    if name == PIPELINE_FILE:
        return "pipeline"
    if name == ROWS_FILE:
        return "training-row hashes"
    if name == PICKLE_FILE:
        return "pickle"
    if name.startswith("booster-"):
        return "booster"
    if name.startswith("base-models/"):
        return "base model"
    return "weights/tokenizer" if "/" in name else "other"


def _libraries(meta: dict[str, Any]) -> list[dict[str, Any]]:
    saved = meta.get("libraries") if isinstance(meta.get("libraries"), dict) else {}
    differing = {d.split(" ")[0] for d in version_differences(saved)}
    return [{"name": k, "saved": v, "differs": k in differing} for k, v in saved.items()]


def _warnings(doc: dict[str, Any], legacy: bool, meta: dict[str, Any]) -> list[str]:
    out = []
    if legacy:
        out.append(f"an old pickle bundle: predict, evaluate and explain refuse it; convert it once with "
                   f"mlcli inspect {doc['bundle']} --upgrade --trust-pickle if you trust where it came from")
    out += [f["message"] for f in doc["findings"] if f["severity"] == "note"]
    differences = version_differences(meta.get("libraries"))
    if differences:
        out.append(f"saved with other library versions: {', '.join(differences)}")
    return out


def refused(doc: dict[str, Any]) -> BundleError | None:
    """The error `mlcli inspect` ends with when loading would refuse the bundle (exit 2, after the report)."""
    return BundleError(f"loading would refuse it: {doc['reason']}") if doc.get("verdict") == "refused" else None

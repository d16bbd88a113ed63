"""mlcli inspect: what a bundle holds — model, task, target, classes, schema, metrics, versions, files and their
hashes, and the types loading it would build — read without building the model. ``--upgrade`` rewrites a
bundle of the old pickle format in the safe one (only with --trust-pickle: reading a pickle runs it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlcli.data.dataset import Notify, quiet
from mlcli.errors import BundleError, ConfigError
from mlcli.models.bundle import PICKLE_FILE, ROWS_FILE, load_bundle, read_meta, save_bundle
from mlcli.models.bundle_checks import sha256_file, version_differences
from mlcli.models.persist import PIPELINE_FILE, trusted_types, types_in


def inspect_bundle(path: str, *, upgrade: bool = False, trust_pickle: bool = False,
                   notify: Notify = quiet) -> dict[str, Any]:
    folder, meta = read_meta(path)
    legacy = meta["format_version"] < 2
    if upgrade and not legacy:
        notify(f"{folder} is already in the current bundle format: nothing to upgrade")
    elif upgrade:
        if not trust_pickle:
            raise ConfigError(f"--upgrade reads the old bundle's pickle, which can run any code: add --trust-pickle "
                              f"if you trust where {folder} came from")
        _upgrade(folder, meta, notify)
        folder, meta = read_meta(folder)
        legacy = False
    files = _files(folder, meta)
    doc = {"command": "inspect", "bundle": str(folder), "format_version": meta["format_version"],
           "format": "pickle (old format: loading it runs code)" if legacy else
           "skops + the boosters' own formats (loading builds only trusted types)",
           "model": meta["model"], "task": meta["task"], "target": meta["target"],
           "target_reason": meta.get("target_reason"), "classes": meta.get("classes"),
           "threshold": meta.get("threshold"), "created": meta.get("created"),
           "columns": [c for c in meta["schema"]["columns"] if c.get("role") in
                       ("numeric", "categorical", "text", "datetime")],
           "metrics": meta.get("metrics"), "baseline": meta.get("baseline"), "params": meta.get("params"),
           "libraries": _libraries(meta), "files": files, "boosters": meta.get("boosters", []),
           "types": [] if legacy else _types(folder), "upgraded": bool(upgrade and not legacy)}
    doc["warnings"] = _warnings(doc, legacy, meta)
    return doc


def _upgrade(folder: Path, meta: dict[str, Any], notify: Notify) -> None:
    bundle = load_bundle(folder, trust_pickle=True)
    keep = {k: v for k, v in meta.items() if k not in ("format_version", "files", "boosters")}
    save_bundle(folder, bundle.pipeline, keep)
    notify(f"{folder} rewritten in the current bundle format; {PICKLE_FILE} is gone")


def _files(folder: Path, meta: dict[str, Any]) -> list[dict[str, Any]]:
    recorded = meta.get("files") or {}
    names = sorted(set(recorded) | {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()})
    out = []
    for name in names:
        path = folder / name
        exists = path.is_file()
        digest = sha256_file(path) if exists else None
        role = "description" if name == "mlcli.json" else (
            "pipeline" if name == PIPELINE_FILE else "training-row hashes" if name == ROWS_FILE else
            "pickle" if name == PICKLE_FILE else "booster" if name.startswith("booster-") else "weights/tokenizer")
        out.append({"name": name, "role": role, "bytes": path.stat().st_size if exists else None, "sha256": digest,
                    "recorded": name in recorded or name == "mlcli.json",
                    "ok": None if name not in recorded else digest == recorded[name]})
    return out


def _types(folder: Path) -> list[dict[str, Any]]:
    path = folder / PIPELINE_FILE
    if not path.is_file():
        return []
    try:
        from mlcli.models.persist import skops_io

        sio = skops_io()

        beyond_skops = set(sio.get_untrusted_types(file=path))
        names = types_in(path)
    except (BundleError, ImportError, ValueError):
        return []
    trusted = trusted_types()
    return [{"type": t, "trusted": t not in beyond_skops or t in trusted} for t in names]


def _libraries(meta: dict[str, Any]) -> list[dict[str, Any]]:
    saved = meta.get("libraries") if isinstance(meta.get("libraries"), dict) else {}
    differing = {d.split(" ")[0] for d in version_differences(saved)}
    return [{"name": k, "saved": v, "differs": k in differing} for k, v in saved.items()]


def _warnings(doc: dict[str, Any], legacy: bool, meta: dict[str, Any]) -> list[str]:
    out = []
    if legacy:
        out.append(f"an old pickle bundle: predict, evaluate and explain refuse it; convert it once with "
                   f"mlcli inspect {doc['bundle']} --upgrade --trust-pickle if you trust where it came from")
    for f in doc["files"]:
        if f["ok"] is False or (f["recorded"] and f["sha256"] is None):
            out.append(f"{f['name']} does not match the sha256 recorded in mlcli.json: loading will be refused")
        elif not f["recorded"] and not legacy:
            out.append(f"{f['name']} is not part of the bundle (not recorded in mlcli.json); it is never read")
    bad = [t["type"] for t in doc["types"] if not t["trusted"]]
    if bad:
        out.append(f"the pipeline would build types mlcli does not trust ({', '.join(bad[:3])}): loading will be "
                   "refused")
    differences = version_differences(meta.get("libraries"))
    if differences:
        out.append(f"saved with other library versions: {', '.join(differences)}")
    return out

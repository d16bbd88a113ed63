"""What a run record holds beyond the command line: data fingerprints, library versions, the fields taken
from a result document, and runs compared side by side.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def file_fingerprint(path: str | None) -> str | None:
    """sha256 of a data file's bytes (first 16 hex digits); None for stdin or a missing file."""
    import hashlib

    if not path or path == "-" or not os.path.isfile(path):
        return None
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()[:16]


def summarize(doc: dict[str, Any] | None) -> dict[str, Any]:
    """The fields of a run record taken from a command's JSON result (train, cv, evaluate)."""
    if not doc:
        return {}
    from mlcli.evaluation.metrics import MAIN_METRIC

    out: dict[str, Any] = {"task": doc.get("task"), "target": doc.get("target")}
    details: dict[str, Any] = {}
    if doc.get("command") == "cv" or "leaderboard" in doc:
        board = doc.get("leaderboard") or []
        best = next((r for r in board if r.get("best")), board[0] if board else None)
        out["model"] = best.get("name") if best else None
        out["metrics"] = (best or {}).get("mean") or {}
        out["main_metric"] = doc.get("metric")
        out["bundle"] = doc.get("saved")
        details["leaderboard"] = [{"name": r.get("name"), "model": r.get("model"), "score": r.get("score"),
                                   "score_std": r.get("score_std"), "status": r.get("status")} for r in board]
        details["folds"] = doc.get("folds")
        details["rows"] = doc.get("rows")
    else:
        out["model"] = doc.get("model")
        out["metrics"] = doc.get("metrics") or {}
        out["bundle"] = doc.get("bundle")
        out["main_metric"] = (doc.get("gap") or {}).get("metric") or MAIN_METRIC.get(doc.get("task") or "")
        details["rows"] = doc.get("rows")
    if out.get("bundle"):
        out["bundle"] = str(Path(out["bundle"]).resolve())
    out["details"] = {k: v for k, v in details.items() if v is not None}
    return {k: v for k, v in out.items() if v is not None}


def _flat(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def compare_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Settings (recipe, data, seed, libraries) and metrics of runs side by side; differing settings first."""
    from mlcli.evaluation.metrics import LOWER_IS_BETTER

    flats = []
    for run in runs:
        recipe = dict(run.get("recipe") or {})
        flat = _flat(recipe, "")
        flat.update({"data_fingerprint": run.get("data_fingerprint"), "mlcli_version": run.get("mlcli_version")})
        flat.update(_flat(run.get("libraries") or {}, "libraries"))
        flats.append(flat)
    keys: list[str] = []
    for flat in flats:
        keys += [k for k in flat if k not in keys]
    settings = [{"key": k, "values": [f.get(k) for f in flats],
                 "differs": len({json.dumps(f.get(k), sort_keys=True, default=str) for f in flats}) > 1} for k in keys]
    settings.sort(key=lambda s: not s["differs"])  # stable: recipe order within each group
    names: list[str] = []
    for run in runs:
        names += [m for m in (run.get("metrics") or {}) if m not in names]
    metrics = []
    for m in names:
        values = [(run.get("metrics") or {}).get(m) for run in runs]
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        lower = m in LOWER_IS_BETTER
        best = (min(numbers) if lower else max(numbers)) if numbers else None
        metrics.append({"metric": m, "values": values, "higher_is_better": not lower,
                        "best": [r["id"] for r, v in zip(runs, values) if best is not None and v == best]
                        if len(set(numbers)) > 1 else []})
    return {"runs": [{k: r.get(k) for k in ("id", "command", "model", "status", "started", "data",
                                            "main_metric", "duration")} for r in runs],
            "settings": settings, "metrics": metrics}

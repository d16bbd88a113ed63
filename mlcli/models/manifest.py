"""The schema of a bundle's description (mlcli.json), checked before any field of it is used.

A bundle is input from a stranger: every field loading or a report reads has a declared type here, numbers
must be finite, text and lists have sizes, and a field mlcli does not write is refused. The schema is
versioned by ``format_version``: version 2 bundles (before base models were recorded) and version 3 ones are
read; :data:`FORMAT_VERSION` is written. The checks are plain data, so `mlcli inspect` and loading agree.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

FORMAT_VERSION = 3
READABLE_VERSIONS = (2, 3)  # version 1: the old pickle bundles (their own path, --trust-pickle)
TASKS = ("binary", "multiclass", "regression", "clustering", "reduction")  # the last two: cluster / reduce --out
ROLES = ("numeric", "categorical", "text", "datetime", "identifier", "constant", "dropped")
MAX_META_BYTES = 16 << 20
SHA = re.compile(r"^[0-9a-f]{64}$")
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$")  # one component of a path inside a bundle

# a booster entry names one of these (library, class) pairs and nothing else: data, never an attribute lookup
BOOSTER_CLASSES = {
    ("xgboost", "xgboost.sklearn:XGBClassifier"), ("xgboost", "xgboost.sklearn:XGBRegressor"),
    ("lightgbm", "lightgbm.sklearn:LGBMClassifier"), ("lightgbm", "lightgbm.sklearn:LGBMRegressor"),
    ("catboost", "catboost.core:CatBoostClassifier"), ("catboost", "catboost.core:CatBoostRegressor"),
}
BOOSTER_SUFFIX = {"xgboost": ".ubj", "lightgbm": ".txt", "catboost": ".cbm"}
BOOSTER_SLOTS = ("estimator_", "regressor_", "estimator", "regressor")  # where mlcli's wrappers keep a model

Check = Callable[[Any], "str | None"]  # a value -> what is wrong with it, or None


def _show(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def text(max_len: int = 4096) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, str):
            return f"must be text, got {_show(v)}"
        return None if len(v) <= max_len and "\x00" not in v else f"must be text of at most {max_len} characters"
    return check


def number(lo: float = -math.inf, hi: float = math.inf) -> Check:
    def check(v: Any) -> str | None:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and lo <= v <= hi
        return None if ok else f"must be a finite number{_range(lo, hi)}, got {_show(v)}"
    return check


def whole(lo: int = 0, hi: int = 2**53) -> Check:
    def check(v: Any) -> str | None:
        ok = isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
        return None if ok else f"must be a whole number{_range(lo, hi)}, got {_show(v)}"
    return check


def _at(where: str, problem: str) -> str:
    """A nested problem named by its path: ("schema", "'columns' must ...") -> "'schema.columns' must ..."."""
    if problem.startswith("'"):
        return f"'{where}.{problem[1:]}"
    if problem.startswith("["):
        index, _, rest = problem.partition("] ")
        return f"'{where}{index}]' {rest}" if not rest.startswith("'") else f"'{where}{index}].{rest[1:]}"
    return f"'{where}' {problem}"


def _range(lo: float, hi: float) -> str:
    if math.isinf(lo) and math.isinf(hi):
        return ""
    if hi >= 2**53 or math.isinf(hi):
        return f" of at least {lo:g}"
    return f" in [{lo:g}, {hi:g}]"


def boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"must be true or false, got {_show(v)}"


def one_of(*values: Any) -> Check:
    def check(v: Any) -> str | None:
        return None if any(v == x and type(v) is type(x) for x in values) else \
            f"must be one of {', '.join(map(str, values))}, got {_show(v)}"
    return check


def optional(inner: Check) -> Check:
    def check(v: Any) -> str | None:
        return None if v is None else inner(v)
    return check


def either(*inners: Check) -> Check:
    def check(v: Any) -> str | None:
        problems = [inner(v) for inner in inners]
        return None if any(p is None for p in problems) else problems[-1]
    return check


def items(inner: Check, max_items: int = 100_000, unique: bool = False) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, list) or len(v) > max_items:
            return f"must be a list of at most {max_items} items, got {_show(v)}"
        for i, item in enumerate(v):
            problem = inner(item)
            if problem:
                return f"[{i}] {problem}"
        if unique and len({json.dumps(x, sort_keys=True) for x in v}) != len(v):
            return "must not repeat a value"
        return None
    return check


def mapping(values: Check, max_items: int = 10_000) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, dict) or len(v) > max_items:
            return f"must be an object, got {_show(v)}"
        for key, value in v.items():
            problem = text(256)(key) or values(value)
            if problem:
                return _at(str(key)[:40], problem)
        return None
    return check


def record(fields: dict[str, Check], required: tuple[str, ...] = (), rest: Check | None = None) -> Check:
    """An object with these fields (those in ``required`` must be there); other fields are refused, or checked
    with ``rest`` when it is given."""
    def check(v: Any) -> str | None:
        if not isinstance(v, dict):
            return f"must be an object, got {_show(v)}"
        for key in required:
            if key not in v:
                return f"lacks '{key}'"
        for key, value in v.items():
            if key not in fields and rest is None:
                return f"has a field mlcli does not write: '{str(key)[:40]}'"
            problem = (fields.get(key) or rest)(value)
            if problem:
                return _at(key, problem)
        return None
    return check


def plain(max_depth: int = 8) -> Check:
    """Any JSON value of bounded depth: text, finite numbers, booleans, null, lists and objects of them
    (parameters, a leaderboard, what the report shows as it is)."""
    def check(v: Any, depth: int = 0) -> str | None:
        if depth > max_depth:
            return f"is nested more than {max_depth} levels deep"
        if v is None or isinstance(v, bool):
            return None
        if isinstance(v, (int, float)):
            return None if math.isfinite(v) else f"holds a number that is not finite: {_show(v)}"
        if isinstance(v, str):
            return None if len(v) <= 100_000 else "holds text over 100,000 characters"
        if isinstance(v, list):
            return next((p for p in (check(x, depth + 1) for x in v) if p), None)
        if isinstance(v, dict):
            return next((p for p in (check(x, depth + 1) for x in v.values()) if p), None)
        return f"holds a value of an unknown kind: {_show(v)}"
    return check


LABEL = either(text(1024), number(), boolean)  # a class label as JSON keeps it
METRICS = mapping(optional(number()))
COLUMN = record({"name": text(1024), "dtype": text(64), "role": one_of(*ROLES), "reason": optional(text()),
                 "n_unique": optional(whole()), "missing": optional(number(0, 1))}, required=("name", "role"))
SCHEMA = record({"target": optional(text(1024)), "task": optional(text(32)),
                 "columns": items(COLUMN, 100_000)}, required=("columns",))
BOOSTER = record({"file": text(256), "library": one_of(*BOOSTER_SUFFIX), "class": text(128),
                  "place": items(one_of(*BOOSTER_SLOTS), 4), "member": items(whole(0, 100_000), 2)},
                 required=("file", "library", "class", "place"))
BASE_MODEL = record({"use": one_of("embedding", "fine-tuning"), "name": text(1024),
                     "package": text(128), "version": text(64), "sha256": text(64), "path": text(256)},
                    required=("use", "name"))
SIGNATURE = record({"scheme": one_of("hmac-sha256"), "key_id": text(64), "value": text(128)},
                   required=("scheme", "key_id", "value"))
DATA = record({"source": optional(text()), "fingerprint": optional(text(128)), "rows": optional(whole()),
               "train_rows": optional(whole()), "test_rows": optional(whole())}, rest=plain(4))

FIELDS: dict[str, Check] = {
    "format_version": whole(1, 1000), "mlcli_version": text(64), "created": text(64),
    "libraries": mapping(text(64), 200), "model": text(256), "task": one_of(*TASKS), "target": optional(text(1024)),
    "target_reason": optional(text()), "classes": items(LABEL, 100_000, unique=True),
    "threshold": optional(number(0, 1)), "schema": SCHEMA, "params": mapping(plain()),
    "preprocess": optional(mapping(plain())),
    "seed": optional(whole(0, 2**32)), "data": optional(DATA), "metrics": optional(METRICS),
    "train_metrics": optional(METRICS),
    "importances": optional(items(record({"feature": text(1024), "importance": number()}), 10_000)),
    "balance": optional(text(64)), "ratio": optional(either(number(0), text(64))),
    "class_weight": optional(either(text(64), mapping(number(0)))), "log_target": optional(boolean),
    "baseline": optional(record({"priors": optional(items(number(0, 1))), "mean": optional(number())})),
    "warnings": optional(items(text(), 1000)), "early_stopping": optional(mapping(plain())),
    "calibration": optional(record({"method": one_of("sigmoid", "isotonic"), "folds": whole(2, 100),
                                    "by": one_of("--calibrate", "model")}, required=("method",))),
    "cv": optional(mapping(plain())), "auto": optional(mapping(plain(12))), "k": optional(whole(1)),
    "components": optional(items(text(256), 100_000)),
    "boosters": items(BOOSTER, 100_000), "files": mapping(text(64), 100_000),
    "base_models": items(BASE_MODEL, 64), "signature": SIGNATURE,
}
REQUIRED = ("format_version", "model", "task", "target", "schema", "files", "boosters")


def manifest_problem(meta: Any) -> str | None:
    """What is wrong with a bundle description against the schema of its format version, or None."""
    if not isinstance(meta, dict):
        return f"it is {type(meta).__name__}, not an object"
    version = meta.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version == 1:
        return record({**FIELDS, "files": optional(FIELDS["files"]), "boosters": optional(FIELDS["boosters"])},
                      ("format_version", "model", "task", "target", "schema"))(meta) or _consistency(meta)
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        return None  # a newer mlcli wrote it: the caller says to upgrade
    problem = record(FIELDS, REQUIRED)(meta)
    if problem:
        return problem
    if version not in READABLE_VERSIONS:
        return f"'format_version' {version} is not one this mlcli reads ({', '.join(map(str, READABLE_VERSIONS))})"
    return _consistency(meta) or _files_problem(meta)


def _consistency(meta: dict[str, Any]) -> str | None:
    task, classes = meta["task"], meta.get("classes") or []
    if task == "binary" and len(classes) != 2:
        return f"a binary model must have 2 classes, 'classes' has {len(classes)}"
    if task == "multiclass" and len(classes) < 2:
        return f"a multiclass model must have at least 2 classes, 'classes' has {len(classes)}"
    if task not in ("binary", "multiclass") and classes:
        return f"a {task} model has no classes, but 'classes' lists {len(classes)}"
    if meta.get("threshold") is not None and task != "binary":
        return f"a decision threshold applies to binary models only, this is a {task} model"
    names = [c["name"] for c in meta["schema"]["columns"]]
    if len(set(names)) != len(names):
        return "'schema.columns' names a column twice"
    schema = meta["schema"]
    unsupervised = task in ("clustering", "reduction") and schema.get("task") == "unsupervised"
    if schema.get("task") is not None and schema["task"] != task and not unsupervised:
        return f"'schema.task' says {schema['task']!r} where 'task' says {task!r}"
    if schema.get("target") is not None and meta.get("target") is not None and schema["target"] != meta["target"]:
        return f"'schema.target' says {schema['target']!r} where 'target' says {meta['target']!r}"
    return None


def _files_problem(meta: dict[str, Any]) -> str | None:
    files = meta["files"]
    for name, digest in files.items():
        problem = path_problem(name)
        if problem:
            return f"'files' lists {name!r}, {problem}"
        if not SHA.match(digest):
            return f"'files' records {digest[:20]!r} for {name}, which is not a sha256"
    if "pipeline.skops" not in files:
        return "'files' does not list pipeline.skops"
    seen = set()
    for b in meta.get("boosters") or []:
        if (b["library"], b["class"]) not in BOOSTER_CLASSES:
            return f"'boosters' names {b['library']} {b['class']!r}, which is not a model format mlcli writes"
        if b["file"] not in files or not b["file"].endswith(BOOSTER_SUFFIX[b["library"]]) or b["file"] in seen:
            return f"'boosters' names {b['file']!r}, which is not a {b['library']} file of the bundle"
        if "member" in b and len(b["member"]) != 2:
            return "'boosters' places a booster in a member that is not [member, fold]"
        if b["class"].endswith("Classifier") != (meta["task"] in ("binary", "multiclass")):
            return f"'boosters' names {b['class']!r} for a {meta['task']} model"
        seen.add(b["file"])
    for entry in meta.get("base_models") or []:
        if "path" in entry and (path_problem(entry["path"]) or not any(
                f.startswith(entry["path"].rstrip("/") + "/") for f in files)):
            return f"'base_models' points to {entry['path']!r}, which is not a folder of the bundle"
        if "package" in entry and not SHA.match(entry.get("sha256", "")):
            return f"'base_models' names the package {entry['package']!r} without its sha256"
    return None


def path_problem(name: str) -> str | None:
    """What makes ``name`` unsafe as a path inside a bundle, or None: relative, '/'-separated, each part
    plain (no '..', no leading dot-dot tricks, no backslash, no control character)."""
    if not name or len(name) > 512:
        return "which is not a file name"
    if name.startswith("/") or "\\" in name or re.match(r"^[A-Za-z]:", name):
        return "which is not a path inside the bundle"
    parts = name.split("/")
    if any(p in ("", ".", "..") or not SAFE_NAME.match(p) for p in parts) or len(parts) > 8:
        return "which is not a plain path inside the bundle"
    return None


def strict_json(raw: str) -> Any:
    """json.loads that refuses NaN/Infinity and repeated keys (which the standard parser accepts)."""
    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ValueError(f"the key {key!r} appears twice")
            out[key] = value
        return out

    return json.loads(raw, parse_constant=no_constant, object_pairs_hook=no_repeats)

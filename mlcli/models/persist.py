"""How a fitted pipeline is written to and read from a bundle without ever running code from the files.

The scikit-learn / imbalanced-learn pipeline goes through ``skops.io``, which records every object as its
type and plain state (numbers, strings, arrays) and, on loading, builds only the types it is told to trust.
The types mlcli trusts are derived from its own registries: every model and resampler class, mlcli's own
pipeline steps, and the scikit-learn building blocks its pipelines are made of (:func:`trusted_types`).
Boosted trees keep their library's own format beside it (XGBoost UBJSON, LightGBM model text, CatBoost
``.cbm``): their wrappers' plain settings go through skops, the trees through the library's loader, which
reads data, not code. The fine-tuned transformer's weights are safetensors (``save_artifacts``).
An ensemble at a pipeline's end (:mod:`mlcli.models.ensemble`) holds whole member pipelines: the boosters at
each member's end are found and written the same way, recorded with the member they belong to.
"""

from __future__ import annotations

import importlib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcli.errors import BundleError, MissingDependency, first_line
from mlcli.models.manifest import BOOSTER_SLOTS
from mlcli.models.trusted import skops_io, trusted_types, types_in  # noqa: F401 - types_in: part of this API

PIPELINE_FILE = "pipeline.skops"

# --------------------------------------------------------------------------------------------- boosters

@dataclass
class Native:
    """One library's own model format: how to take its trees out of the wrapper and put them back."""

    library: str  # the import name
    suffix: str
    whole: bool  # the wrapper itself is saved natively (CatBoost) instead of just its trees

    def owns(self, obj: Any) -> bool:
        return type(obj).__module__.split(".")[0] == self.library and hasattr(obj, "fit")

    def fitted(self, obj: Any) -> bool:
        if self.whole:
            return bool(obj.is_fitted())
        return getattr(obj, "_Booster", None) is not None


NATIVE = (Native("xgboost", ".ubj", False), Native("lightgbm", ".txt", False), Native("catboost", ".cbm", True))
_SLOTS = BOOSTER_SLOTS  # where mlcli's wrappers keep a model


def _locations(pipeline: Any) -> list[tuple[Any, Any, Any, Native, list[str], list[int] | None]]:
    """(owner, step index or attribute, booster, format, place, member) of every fitted booster at the end of
    the pipeline, or at the end of each member pipeline of an ensemble there (``member``: [member, fold
    model], else None)."""
    from mlcli.models.ensemble import ensemble_of

    ensemble = ensemble_of(pipeline)
    if ensemble is None:
        return [(*found, None) for found in _final_locations(pipeline)]
    return [(*found, [i, j]) for i, folds in enumerate(ensemble.members_) for j, member in enumerate(folds)
            for found in _final_locations(member)]


def _final_locations(pipeline: Any) -> list[tuple[Any, Any, Any, Native, list[str]]]:
    """(owner, step index or attribute, booster, format, place) of every fitted booster at the pipeline's end:
    the final step itself, or inside ClassWeighted / TransformedTargetRegressor; ``place`` is the chain of
    attribute names from the final step (what the loader follows)."""
    found = []
    stack: list[tuple[Any, Any, list[str]]] = [(pipeline.steps, len(pipeline.steps) - 1, [])]
    while stack:
        owner, key, place = stack.pop()
        obj = owner[key][1] if isinstance(owner, list) else getattr(owner, key, None)
        fmt = next((f for f in NATIVE if f.owns(obj)), None)
        if fmt is not None:
            if fmt.fitted(obj):
                found.append((owner, key, obj, fmt, place))
            continue
        stack += [(obj, slot, place + [slot]) for slot in _SLOTS if obj is not None and hasattr(obj, slot)]
    return found


def _take(owner: Any, key: Any, obj: Any, fmt: Native, path: Path) -> Any:
    """Write the booster natively to ``path``; return what to put back after skops has written the rest."""
    if fmt.whole:
        obj.save_model(str(path), format="cbm")
        _put(owner, key, "passthrough" if isinstance(owner, list) else None)
        return obj
    booster = obj._Booster
    booster.save_model(str(path))
    obj._Booster = None
    return booster


def _put(owner: Any, key: Any, value: Any) -> None:
    if isinstance(owner, list):
        owner[key] = (owner[key][0], value)
    else:
        setattr(owner, key, value)


def write_pipeline(pipeline: Any, folder: Path) -> list[dict[str, Any]]:
    """Write ``pipeline`` into ``folder``; returns the boosters written beside it (their file, format and
    place), which the loader needs. ``pipeline`` is left as it was."""
    sio = skops_io()

    boosters, restore = [], []
    templates = _unfitted_templates(pipeline)
    try:
        for i, (owner, key, obj, fmt, place, member) in enumerate(_locations(pipeline)):
            name = f"booster-{i}{fmt.suffix}"
            restore.append((owner, key, obj, fmt, _take(owner, key, obj, fmt, folder / name)))
            boosters.append({"file": name, "library": fmt.library,
                             "class": f"{type(obj).__module__}:{type(obj).__qualname__}", "place": place,
                             **({"member": member} if member is not None else {})})
        sio.dump(pipeline, folder / PIPELINE_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=3)
    finally:
        for owner, key, obj, fmt, taken in reversed(restore):
            if fmt.whole:
                _put(owner, key, obj)
            else:
                obj._Booster = taken
        if templates is not None:
            templates[0].members = templates[1]
    return boosters


def _unfitted_templates(pipeline: Any) -> tuple[Any, Any] | None:
    """An ensemble's member templates (its ``members`` parameter, what ``fit`` would refit) are written
    unfitted, so no booster hides in them: the fitted ``members_`` predict. Returns (the ensemble, its templates
    as they were) to put back, or None."""
    from mlcli.models.ensemble import ensemble_of

    ensemble = ensemble_of(pipeline)
    if ensemble is None:
        return None
    from sklearn.base import clone

    templates = ensemble.members
    ensemble.members = [clone(m) for m in templates]
    return ensemble, templates


# --------------------------------------------------------------------------------------------- reading

def _untrusted(sio: Any, path: Path) -> tuple[list[str], list[str]]:
    """(the types of a skops file beyond skops' own defaults, those of them mlcli does not trust), read from
    the file's schema without building anything."""
    try:
        beyond_skops = sio.get_untrusted_types(file=path)
    except Exception as exc:  # noqa: BLE001 - whatever a damaged or hostile archive raises
        raise BundleError(f"{path} is not a readable pipeline file: {first_line(exc)}") from None
    return beyond_skops, [t for t in beyond_skops if t not in trusted_types()]


def untrusted_types(path: Path) -> list[str]:
    """The types of a skops file that neither skops' defaults nor mlcli's registries trust."""
    try:
        sio = skops_io()
    except ImportError as exc:
        raise MissingDependency("skops", "loading a model bundle") from exc
    return _untrusted(sio, path)[1]


def read_pipeline(folder: Path, boosters: list[dict[str, Any]]) -> Any:
    """The pipeline of a bundle folder that passed the verifier; refuses any type mlcli does not trust."""
    try:
        sio = skops_io()
    except ImportError as exc:
        raise MissingDependency("skops", "loading a model bundle") from exc
    path = folder / PIPELINE_FILE
    beyond_skops, bad = _untrusted(sio, path)
    if bad:
        raise BundleError(f"{path} would build {', '.join(bad[:3])}, which mlcli does not trust; nothing was loaded "
                          "(a bundle holds only mlcli's models and steps)")
    try:
        pipeline = sio.load(path, trusted=beyond_skops)
    except (MemoryError, RecursionError) as exc:
        raise BundleError(f"{path} could not be read: {type(exc).__name__}") from None
    except Exception as exc:  # noqa: BLE001 - a damaged file whose hash was recomputed
        raise BundleError(f"{path} could not be read: {first_line(exc)}") from None
    if not hasattr(pipeline, "steps") or not pipeline.steps:
        raise BundleError(f"{path} does not hold a pipeline; nothing was loaded")
    for item in boosters:
        _restore(pipeline, folder, item)
    missing = _unfilled(pipeline)
    if missing:
        raise BundleError(f"{folder}/mlcli.json lists no entry in 'boosters' for the model at "
                          f"{missing[0] or 'the end'} of the pipeline, which was saved without its trees; nothing was "
                          "loaded")
    return pipeline


def _unfilled(pipeline: Any) -> list[str]:
    """The places of fitted models whose trees are missing after every listed booster was put back: a fitted
    slot (the final step, ``estimator_``, ``regressor_``) that holds a booster wrapper without its booster,
    or nothing where CatBoost was taken out."""
    from mlcli.models.ensemble import ensemble_of

    ensemble = ensemble_of(pipeline)
    pipes = [pipeline] if ensemble is None else [m for folds in getattr(ensemble, "members_", []) for m in folds]
    out = []
    for pipe in pipes:
        stack: list[tuple[Any, Any, list[str]]] = [(pipe.steps, len(pipe.steps) - 1, [])]
        while stack:
            owner, key, place = stack.pop()
            obj = owner[key][1] if isinstance(owner, list) else getattr(owner, key, None)
            fitted_slot = not place or place[-1].endswith("_")
            fmt = next((f for f in NATIVE if f.owns(obj)), None)
            if obj is None or (isinstance(obj, str) and obj == "passthrough") or fmt is not None:
                if fitted_slot and (fmt is None or not fmt.fitted(obj)):
                    out.append(".".join(place))
                continue
            stack += [(obj, slot, place + [slot]) for slot in _SLOTS if hasattr(obj, slot)]
    return out


# (library, 'module:Class') -> the class's module and name: a fixed table, never a lookup of a name from the file
_BOOSTER_TYPES = {("xgboost", "xgboost.sklearn:XGBClassifier"): ("xgboost", "XGBClassifier"),
                  ("xgboost", "xgboost.sklearn:XGBRegressor"): ("xgboost", "XGBRegressor"),
                  ("lightgbm", "lightgbm.sklearn:LGBMClassifier"): ("lightgbm", "LGBMClassifier"),
                  ("lightgbm", "lightgbm.sklearn:LGBMRegressor"): ("lightgbm", "LGBMRegressor"),
                  ("catboost", "catboost.core:CatBoostClassifier"): ("catboost", "CatBoostClassifier"),
                  ("catboost", "catboost.core:CatBoostRegressor"): ("catboost", "CatBoostRegressor")}


def _booster_type(folder: Path, item: dict[str, Any]) -> type:
    where = _BOOSTER_TYPES.get((item.get("library"), item.get("class")))
    if where is None:
        raise BundleError(f"{folder}/mlcli.json names a model format mlcli does not know: {item.get('library')!r} "
                          f"{item.get('class')!r}; nothing was loaded")
    try:
        return getattr(importlib.import_module(where[0]), where[1])
    except ImportError as exc:
        raise MissingDependency(where[0], f"this model bundle ({where[1]})") from exc


def _restore(pipeline: Any, folder: Path, item: dict[str, Any]) -> None:
    fmt = next(f for f in NATIVE if f.library == item["library"])
    cls = _booster_type(folder, item)
    path = folder / item["file"]
    pipeline = _member(pipeline, folder, item.get("member"))
    owner, key = pipeline.steps, len(pipeline.steps) - 1
    try:
        for attr in item.get("place") or []:
            if attr not in _SLOTS:
                raise AttributeError(attr)
            owner, key = (owner[key][1] if isinstance(owner, list) else getattr(owner, key)), attr
        current = owner[key][1] if isinstance(owner, list) else getattr(owner, key)
    except (AttributeError, IndexError, TypeError) as exc:
        raise BundleError(f"{folder}/mlcli.json places a booster at {item.get('place')!r}, where the pipeline has "
                          f"no model ({first_line(exc)}); nothing was loaded") from None
    expected = (current is None or isinstance(current, str) and current == "passthrough") if fmt.whole \
        else isinstance(current, cls)
    if not expected:
        raise BundleError(f"{folder}/mlcli.json places a {cls.__name__} where the pipeline holds "
                          f"{type(current).__name__}; nothing was loaded")
    try:
        if fmt.whole:
            model = cls()
            model.load_model(str(path), format="cbm")
            _put(owner, key, model)
        else:
            current._Booster = _native_booster(fmt.library, path)
    except Exception as exc:  # noqa: BLE001 - each library raises its own error type for a damaged file
        raise BundleError(f"{path} could not be read by {fmt.library}: {first_line(exc)}") from None


def _member(pipeline: Any, folder: Path, member: Any) -> Any:
    """The pipeline a booster belongs to: the bundle's own, or a member pipeline of the ensemble in it."""
    if member is None:
        return pipeline
    from mlcli.models.ensemble import ensemble_of

    ensemble = ensemble_of(pipeline)
    members = getattr(ensemble, "members_", None) or []
    ok = (isinstance(member, list) and len(member) == 2 and all(type(v) is int and v >= 0 for v in member)
          and member[0] < len(members) and member[1] < len(members[member[0]]))
    if not ok:
        raise BundleError(f"{folder}/mlcli.json places a booster in ensemble member {member!r}, which the "
                          "pipeline does not have; nothing was loaded")
    return members[member[0]][member[1]]


def _native_booster(library: str, path: Path) -> Any:
    if library == "xgboost":
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(str(path))
        return booster
    import lightgbm as lgb

    return lgb.Booster(model_file=str(path))

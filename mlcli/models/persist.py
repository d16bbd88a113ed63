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
import json
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mlcli.errors import BundleError, MissingDependency

PIPELINE_FILE = "pipeline.skops"

# the pieces mlcli's pipelines are built from, besides the registered models and resamplers ('module:Name')
BUILDING_BLOCKS = (
    "sklearn.pipeline:Pipeline", "imblearn.pipeline:Pipeline", "sklearn.compose:ColumnTransformer",
    "sklearn.compose:TransformedTargetRegressor", "sklearn.preprocessing:StandardScaler",
    "sklearn.preprocessing:MinMaxScaler", "sklearn.preprocessing:RobustScaler",
    "sklearn.preprocessing:PolynomialFeatures", "sklearn.preprocessing:OneHotEncoder",
    "sklearn.preprocessing:OrdinalEncoder", "sklearn.impute:SimpleImputer",
    "sklearn.feature_extraction.text:TfidfVectorizer", "sklearn.decomposition:PCA",
    "sklearn.calibration:CalibratedClassifierCV", "sklearn.calibration:_CalibratedClassifier",
    "sklearn.calibration:_SigmoidCalibration", "sklearn.isotonic:IsotonicRegression", "sklearn.tree._tree:Tree",
    "sklearn.neighbors:KDTree", "sklearn.neighbors:BallTree", "sklearn.neighbors:NearestNeighbors",
    "sklearn.metrics._dist_metrics:EuclideanDistance64", "sklearn.metrics._dist_metrics:EuclideanDistance32",
    "sklearn.metrics._dist_metrics:ManhattanDistance64", "sklearn.metrics._dist_metrics:MinkowskiDistance64",
    "sklearn.metrics._dist_metrics:ChebyshevDistance64", "sklearn.cluster:KMeans", "sklearn.cluster:MiniBatchKMeans",
    "sklearn.preprocessing:LabelEncoder",
    "sklearn.tree:DecisionTreeClassifier", "sklearn.tree:DecisionTreeRegressor",
    "sklearn.ensemble._hist_gradient_boosting.binning:_BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor:TreePredictor",
    "sklearn._loss.loss:HalfBinomialLoss", "sklearn._loss.loss:HalfMultinomialLoss",
    "sklearn._loss.loss:HalfSquaredError", "sklearn._loss.link:LogitLink", "sklearn._loss.link:IdentityLink",
    "sklearn._loss.link:MultinomialLogit", "sklearn._loss.link:Interval",
    "sklearn.neural_network._stochastic_optimizers:AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers:SGDOptimizer",
    "sklearn.feature_extraction.text:TfidfTransformer", "sklearn.preprocessing:LabelBinarizer",
    "sklearn.preprocessing:FunctionTransformer", "sklearn.tree:ExtraTreeClassifier", "sklearn.tree:ExtraTreeRegressor",
    "sklearn.linear_model:LogisticRegression", "sklearn.linear_model:Ridge",  # an ensemble's stacker
    "sklearn.utils._bunch:Bunch", "collections:OrderedDict", "numpy:dtype", "scipy.sparse:csr_matrix",
    "scipy.sparse:csc_matrix", "numpy.random:RandomState", "numpy.random:Generator",
    "sklearn.mixture:GaussianMixture",  # mlcli cluster --method gmm --out (kmeans and PCA are listed above)
)
STEP_MODULES = ("mlcli.features.transformers", "mlcli.features.onehot", "mlcli.features.preprocess",
                "mlcli.models.steps", "mlcli.models.early_stopping", "mlcli.text.columns", "mlcli.text.embedding",
                "mlcli.text.estimator", "mlcli.models.ensemble",
                "mlcli.models.assign")


def skops_io() -> Any:
    """``skops.io``, imported without the walk over every scikit-learn module that skops makes at import.

    skops lists every scikit-learn estimator when it is imported (``all_estimators``: importing all of
    scikit-learn, and through its array-API layer torch, dask and cupy when installed: 0.7 s to 2.4 s on every
    train, predict and evaluate) only to trust them by default. mlcli trusts by its own list
    (:func:`trusted_types`), so the walk is replaced by an empty list while skops imports: every scikit-learn
    type in a bundle must then be one mlcli trusts (stricter, never looser).
    """
    import sys

    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    import sklearn.utils

    walk = sklearn.utils.all_estimators
    sklearn.utils.all_estimators = lambda *args, **kwargs: []
    try:
        import skops.io as sio
    finally:
        sklearn.utils.all_estimators = walk
    import skops.io._persist as persist

    persist.ZipFile = _IndexedZipFile
    return sio


class _IndexedZipFile(zipfile.ZipFile):
    """The archive skops writes, with the names written so far kept in a set.

    skops asks ``namelist()`` once per array it saves to skip duplicates; ZipFile builds that list afresh each
    time, so saving n arrays costs n² (an ensemble of bagged forests, ~10⁴ arrays: over ten minutes instead of
    seconds). Reading is unchanged.
    """

    def namelist(self) -> Any:
        if self.mode == "r":
            return super().namelist()
        seen = self.__dict__.setdefault("_mlcli_names", [0, set()])
        seen[1].update(info.filename for info in self.filelist[seen[0]:])
        seen[0] = len(self.filelist)
        return seen[1]


def _qualified(path: str) -> str | None:
    """'module:Name' -> the name skops records for that type ('sklearn.svm._classes.SVC'), or None when its
    library is not installed."""
    module, _, name = path.partition(":")
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    return f"{obj.__module__}.{obj.__qualname__}"


def _step_classes() -> list[str]:
    """mlcli's own estimators and transformers: the classes of its step modules with a fit method."""
    out = []
    for module_name in STEP_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for obj in vars(module).values():
            if isinstance(obj, type) and obj.__module__ == module_name and (
                    hasattr(obj, "fit") or hasattr(obj, "fit_resample")):
                out.append(f"{obj.__module__}.{obj.__qualname__}")
    return out


@cache
def trusted_types() -> frozenset[str]:
    """Every type a bundle may build: from the model and resampler registries, mlcli's steps, and the
    building blocks above."""
    from mlcli.models.registry import MODELS
    from mlcli.models.resamplers import RESAMPLERS

    paths = [p for s in MODELS.values() for p in (s.classifier, s.regressor) if p]
    paths += [s.path for s in RESAMPLERS.values()] + list(BUILDING_BLOCKS)
    names = {q for q in map(_qualified, paths) if q}
    return frozenset(names | set(_step_classes()))


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
_SLOTS = ("estimator_", "regressor_", "estimator", "regressor")  # where mlcli's wrappers keep a model


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

def types_in(path: Path) -> list[str]:
    """Every type a skops file would build, read from its schema without building anything."""
    try:
        with zipfile.ZipFile(path) as z:
            schema = json.loads(z.read("schema.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise BundleError(f"{path} is not a readable pipeline file: {exc}") from None
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack += list(node.values())
        elif isinstance(node, list):
            stack += node
    return sorted(found)


def untrusted(path: Path, beyond_skops: list[str] | None = None) -> list[str]:
    """The types of a skops file that neither skops' defaults nor mlcli's registries trust."""
    sio = skops_io()

    beyond_skops = sio.get_untrusted_types(file=path) if beyond_skops is None else beyond_skops
    return [t for t in beyond_skops if t not in trusted_types()]


def read_pipeline(folder: Path, boosters: list[dict[str, Any]]) -> Any:
    """The pipeline of a bundle folder whose files were verified; refuses any type mlcli does not trust."""
    try:
        sio = skops_io()
    except ImportError as exc:
        raise MissingDependency("skops", "loading a model bundle") from exc
    path = folder / PIPELINE_FILE
    try:
        beyond_skops = sio.get_untrusted_types(file=path)
    except Exception as exc:  # noqa: BLE001 - a damaged file (its hash matched: saved that way)
        raise BundleError(f"{path} is not a readable pipeline file: {exc}") from None
    bad = untrusted(path, beyond_skops)
    if bad:
        raise BundleError(f"{path} would build {', '.join(bad[:3])}, which mlcli does not trust; nothing was loaded "
                          "(a bundle holds only mlcli's models and steps)")
    pipeline = sio.load(path, trusted=beyond_skops)
    for item in boosters:
        _restore(pipeline, folder, item)
    return pipeline


def _restore(pipeline: Any, folder: Path, item: dict[str, Any]) -> None:
    fmt = next((f for f in NATIVE if f.library == item.get("library")), None)
    if fmt is None or f"{item.get('class', '').replace(':', '.')}" not in trusted_types():
        raise BundleError(f"{folder} names a model format mlcli does not know: {item.get('library')!r} "
                          f"{item.get('class')!r}")
    path = folder / item["file"]
    pipeline = _member(pipeline, folder, item.get("member"))
    owner, key = pipeline.steps, len(pipeline.steps) - 1
    for attr in item.get("place") or []:
        owner, key = (owner[key][1] if isinstance(owner, list) else getattr(owner, key)), attr
    try:
        if fmt.whole:
            module, _, name = item["class"].partition(":")
            model = getattr(importlib.import_module(module), name)()
            model.load_model(str(path), format="cbm")
            _put(owner, key, model)
        else:
            wrapper = owner[key][1] if isinstance(owner, list) else getattr(owner, key)
            wrapper._Booster = _native_booster(fmt.library, path)
    except (OSError, ValueError, RuntimeError) as exc:
        raise BundleError(f"{path} could not be read by {fmt.library}: {exc}") from None


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

"""The types a bundle may build, and skops imported cheaply.

The types mlcli trusts are derived from its own registries: every model and resampler class, mlcli's own
pipeline steps, and the scikit-learn building blocks its pipelines are made of (:func:`trusted_types`);
a skops file is audited against them from its schema (:func:`types_in`) before anything is built.
"""

from __future__ import annotations

import importlib
import json
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

from mlcli.errors import BundleError

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
                "mlcli.models.assign", "mlcli.models.calibrate")


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


def types_in(path: Path) -> list[str]:
    """Every type a skops file would build, read from its schema without building anything."""
    try:
        with zipfile.ZipFile(path) as z:
            schema = json.loads(z.read("schema.json"))
    except (OSError, KeyError, ValueError, RecursionError, MemoryError, zipfile.BadZipFile) as exc:
        raise BundleError(f"{path} is not a readable pipeline file: {type(exc).__name__} {str(exc)[:80]}") from None
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

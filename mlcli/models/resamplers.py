"""The resampler registry (imbalanced-learn): one entry per method, imported only when used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlcli.errors import ConfigError, did_you_mean, quote_list
from mlcli.models.estimators import check_param_types, import_object, init_names
from mlcli.models.params import validate_library

_O, _U, _C = "imblearn.over_sampling:", "imblearn.under_sampling:", "imblearn.combine:"


@dataclass(frozen=True)
class ResamplerSpec:
    name: str
    summary: str
    path: str
    kind: str  # over | under | combined
    neighbours: str | None = None  # the parameter that counts neighbours of the same class (k_neighbors ...)
    synthesises: bool = False  # makes new rows by interpolation (needs numeric or categorical-aware input)
    categorical: str | None = None  # None: numeric only; "mixed": SMOTE-NC; "all": SMOTE-N
    seeded: bool = True
    aliases: tuple[str, ...] = ()


RESAMPLERS: dict[str, ResamplerSpec] = {s.name: s for s in (
    ResamplerSpec("oversample", "Random over-sampling of minority classes (copies rows)", _O + "RandomOverSampler",
                  "over", aliases=("random-over", "ros")),
    ResamplerSpec("undersample", "Random under-sampling of majority classes", _U + "RandomUnderSampler", "under",
                  aliases=("random-under", "rus")),
    ResamplerSpec("smote", "SMOTE: synthetic minority rows by interpolation (SMOTE-NC with categoricals)",
                  _O + "SMOTE", "over", "k_neighbors", True),
    ResamplerSpec("smote-nc", "SMOTE-NC: SMOTE for mixed numeric and categorical columns", _O + "SMOTENC", "over",
                  "k_neighbors", True, "mixed", aliases=("smotenc",)),
    ResamplerSpec("smote-n", "SMOTE-N: SMOTE for all-categorical data", _O + "SMOTEN", "over", "k_neighbors", True,
                  "all", aliases=("smoten",)),
    ResamplerSpec("borderline-smote", "Borderline-SMOTE: synthesise near the class border", _O + "BorderlineSMOTE",
                  "over", "k_neighbors", True, aliases=("borderline",)),
    ResamplerSpec("svm-smote", "SVM-SMOTE: synthesise along an SVM's support vectors", _O + "SVMSMOTE", "over",
                  "k_neighbors", True, aliases=("svmsmote",)),
    ResamplerSpec("adasyn", "ADASYN: more synthetic rows where the minority is hard to learn", _O + "ADASYN", "over",
                  "n_neighbors", True),
    ResamplerSpec("nearmiss-1", "NearMiss-1 under-sampling", _U + "NearMiss", "under", seeded=False,
                  aliases=("nearmiss",)),
    ResamplerSpec("nearmiss-2", "NearMiss-2 under-sampling", _U + "NearMiss", "under", seeded=False),
    ResamplerSpec("nearmiss-3", "NearMiss-3 under-sampling", _U + "NearMiss", "under", seeded=False),
    ResamplerSpec("tomek", "Remove Tomek links (cleaning under-sampling)", _U + "TomekLinks", "under", seeded=False,
                  aliases=("tomek-links",)),
    ResamplerSpec("enn", "Edited nearest neighbours (cleaning under-sampling)", _U + "EditedNearestNeighbours",
                  "under", seeded=False, aliases=("edited-nearest-neighbours",)),
    ResamplerSpec("cluster-centroids", "Replace majority rows by k-means centroids (prototype under-sampling)",
                  _U + "ClusterCentroids", "under", synthesises=True, aliases=("centroids",)),
    ResamplerSpec("smote-tomek", "SMOTE, then remove Tomek links", _C + "SMOTETomek", "combined", None, True,
                  aliases=("smotetomek",)),
    ResamplerSpec("smote-enn", "SMOTE, then edited nearest neighbours", _C + "SMOTEENN", "combined", None, True,
                  aliases=("smoteenn",)),
)}


INSTALL = "imbalanced-learn"  # the pip distribution of every resampler

# what `--balance` accepts besides resamplers
STRATEGIES = ("none", "class-weight")


def get_resampler(name: str) -> ResamplerSpec:
    key = name.strip().lower().replace("_", "-")
    table = {n: n for n in RESAMPLERS} | {a: s.name for s in RESAMPLERS.values() for a in s.aliases}
    if key not in table:
        raise ConfigError(f"unknown balance method '{name}'{did_you_mean(key, [*table, *STRATEGIES])}; "
                          f"methods: {quote_list([*STRATEGIES, *RESAMPLERS], 40)}")
    return RESAMPLERS[table[key]]


def resolve_for_columns(spec: ResamplerSpec, n_categorical: int, n_other: int) -> ResamplerSpec:
    """SMOTE becomes SMOTE-NC when categorical columns are present, SMOTE-N when all columns are."""
    if spec.name == "smote" and n_categorical:
        return RESAMPLERS["smote-n"] if n_other == 0 else RESAMPLERS["smote-nc"]
    return spec


def make_resampler(spec: ResamplerSpec, params: dict[str, Any] | None = None, *, seed: int = 0,
                   ratio: Any = None, categorical_features: list[int] | None = None) -> Any:
    cls = import_object(spec.path, purpose=f"balance method '{spec.name}'", install=INSTALL)
    kwargs: dict[str, Any] = {}
    if spec.seeded:
        kwargs["random_state"] = seed
    if spec.name.startswith("nearmiss-"):
        kwargs["version"] = int(spec.name[-1])
    if spec.categorical == "mixed":
        kwargs["categorical_features"] = categorical_features or []
    if ratio is not None:
        kwargs["sampling_strategy"] = ratio
    sampler = cls(**kwargs)
    params = dict(params or {})
    if params:
        accepted = set(sampler.get_params(deep=False)) | init_names(cls)
        for key in params:
            if key not in accepted:
                raise ConfigError(f"unknown parameter '{key}' for balance method '{spec.name}'"
                                  f"{did_you_mean(key, accepted)}; it takes: {quote_list(sorted(accepted))}")
        check_param_types(spec.name, sampler, params)
        sampler.set_params(**params)
        validate_library(sampler)  # imbalanced-learn's own checks, before any row is read or resampled
    return sampler


def parse_ratio(text: str | None) -> Any:
    """--ratio: a number (minority/majority after resampling, binary) or auto|minority|not majority|all."""
    if text is None:
        return None
    words = {"auto", "minority", "not minority", "not majority", "all", "majority"}
    if text.strip().lower() in words:
        return text.strip().lower()
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"--ratio must be a number in (0, 1] or one of {', '.join(sorted(words))}; got '{text}'")
    if not 0 < value <= 1:
        raise ConfigError(f"--ratio must be in (0, 1] (minority rows per majority row after resampling), got {value}")
    return value

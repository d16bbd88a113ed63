"""What a cv run compares: the request, the models and sets, grid points and balance strategies."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from mlcli.data.dataset import DataOptions, Notify, quiet
from mlcli.errors import ConfigError, quote_list
from mlcli.features.preprocess import PreprocessOptions
from mlcli.models.build import ModelConfig
from mlcli.models.estimators import parse_value
from mlcli.models.registry import MODELS, get_spec, models_for

MODEL_SETS = ("fast", "all")
MAX_SECONDS = 7 * 24 * 3600  # 604,800 s: the longest --time-limit / --timeout taken (a week)
MIN_SEARCH_SECONDS = 1.0  # auto and tune: no model is read, cross-validated and scored from the command line in less


def check_seconds(value: float, option: str, minimum: float = 0.0) -> None:
    """A time limit from the user: positive, finite, at most :data:`MAX_SECONDS` and at least ``minimum``; one
    line naming the option otherwise (before any data is read)."""
    if not value > 0:  # zero, negative or NaN
        raise ConfigError(f"{option} must be a positive number of seconds, got {value:g}")
    if not value <= MAX_SECONDS:  # inf, 1e12: past any timer, and never what was meant
        raise ConfigError(f"{option} must be at most {MAX_SECONDS} seconds (7 days), got {value:g}")
    if value < minimum:
        raise ConfigError(f"{option} must be at least {minimum:g} second{'s' if minimum != 1 else ''}, got {value:g}: "
                          "no model is read, cross-validated and scored in less")


def round_seconds() -> list[float]:
    """1, 1.5, 2, 3, 5, 7, 10, 15, ... seconds up to :data:`MAX_SECONDS`: the limits a message suggests."""
    return [m * 10 ** e for e in range(7) for m in (1, 1.5, 2, 3, 5, 7) if m * 10 ** e <= MAX_SECONDS]


@dataclass
class CVRequest:
    data: DataOptions
    models: list[str] = field(default_factory=lambda: ["fast"])  # names, comma lists, or the sets fast/all
    params: dict[str, Any] = field(default_factory=dict)
    preprocess: PreprocessOptions = field(default_factory=PreprocessOptions)
    seed: int = 42
    folds: int = 5
    folds_given: bool = True  # False: the default count, which a class of fewer rows lowers (cv.folds)
    repeats: int = 1
    groups: str | None = None
    metric: str | None = None
    grid: dict[str, list[Any]] = field(default_factory=dict)
    jobs: int | None = None  # default: chosen from the work on this machine, every worker thread on a Dask cluster
    threads: int | None = None
    scheduler: str | None = None
    timeout: float | None = None
    oof: bool = False
    train_scores: bool = False  # also score each fold's training rows (always on with a grid)
    save_best: str | None = None
    balance: list[str] | None = None  # strategies compared on the same folds: none, class-weight, smote, ...
    ratio: Any = None  # the resamplers' sampling strategy
    log_target: bool = False  # regression: fit on log(1 + y)
    leak_check: bool = True  # screen every column for a leak of the target before fitting
    learning_curve: bool = False  # refit the leading models on growing shares of each fold's training rows
    calibrate: str | None = None  # --calibrate: every model that does not calibrate itself (models.calibrate)


def split_names(items: list[str] | None) -> list[str]:
    out: list[str] = []
    for item in items or []:
        out.extend(x.strip() for x in item.split(",") if x.strip())
    return out


def parse_grid(items: list[str] | None) -> dict[str, list[Any]]:
    """``["max_depth=2,4,8", "n_estimators=50,200"]`` -> {"max_depth": [2, 4, 8], "n_estimators": [50, 200]}."""
    grid: dict[str, list[Any]] = {}
    for item in items or []:
        key, sep, values = item.partition("=")
        key = key.strip()
        texts = [v.strip() for v in values.split(",")]
        if not sep or not key or not any(texts):
            raise ConfigError(f"--grid expects key=v1,v2,..., got '{item}'")
        if "" in texts:
            raise ConfigError(f"--grid {key} has an empty value in '{values}'")
        if key in grid:
            raise ConfigError(f"--grid {key} is given twice; list all its values once: {key}=v1,v2,...")
        parsed = [parse_value(t) for t in texts]
        kinds = [_kind(v) for v in parsed if v is not None]
        if len(set(kinds)) > 1:
            odd = next(t for t, v in zip(texts, parsed) if v is not None and _kind(v) != kinds[0])
            raise ConfigError(f"--grid {key} mixes {' and '.join(sorted(set(kinds)))} values ('{odd}'); "
                              "give values of one type")
        grid[key] = parsed
    return grid


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "number"
    return "text" if isinstance(value, str) else type(value).__name__


def check_model_names(names: list[str]) -> None:
    """Fail on an unknown model before any data is read."""
    for name in names:
        if name.lower() in MODEL_SETS:
            continue
        try:
            get_spec(name)
        except ConfigError as exc:
            raise ConfigError(f"{exc}; or a set: {', '.join(MODEL_SETS)}") from None


def expand_models(names: list[str], task: str, notify: Notify = quiet) -> list[str]:
    """Registry names for ``names``: sets expanded to the installed models that do ``task``; no repeats.

    Sets leave out models that fine-tune on text (``text_only``: far slower in every fold); name one to
    include it.
    """
    return [m for m, _ in expand_marked(names, task, notify)]


def expand_marked(names: list[str], task: str, notify: Notify = quiet) -> list[tuple[str, bool]]:
    """(model, came from a set) pairs."""
    out: dict[str, bool] = {}
    kind = "regression" if task == "regression" else "classification"
    for name in names:
        if name.lower() in MODEL_SETS:
            members = [s for s in MODELS.values() if s.path_for(task) and not s.text_only and not s.baseline
                       and (s.fast or name.lower() == "all")]
            missing = [s.name for s in members if not s.installed()]
            if missing:
                notify(f"--models {name.lower()}: skipping {', '.join(missing)} (not installed)")
            for s in members:
                if s.installed():
                    out.setdefault(s.display_name(task), True)
            continue
        spec = get_spec(name)
        if not spec.path_for(task):
            able = models_for(task)
            raise ConfigError(f"model '{spec.name}' does not do {kind}; models that do: {quote_list(able, 40)}")
        out[spec.display_name(task)] = False
    return list(out.items())


@dataclass(frozen=True)
class Candidate:
    """One leaderboard row: a model with one point of the grid."""

    model: str
    point: tuple[tuple[str, Any], ...] = ()
    balance: str | None = None  # the --balance strategy, as the user named it

    @property
    def label(self) -> str:
        extra = [f"balance={self.balance}"] if self.balance is not None else []
        return " ".join([self.model] + [f"{k}={v}" for k, v in self.point] + extra)

    def config(self, req: CVRequest, threads: int | None) -> ModelConfig:
        if get_spec(self.model).baseline:  # the trivial model takes none of the others' settings
            return ModelConfig(self.model, {}, req.preprocess, req.seed, threads)
        return ModelConfig(self.model, {**req.params, **dict(self.point)}, req.preprocess, req.seed, threads,
                           balance=self.balance, ratio=req.ratio, log_target=req.log_target,
                           calibrate=None if get_spec(self.model).calibrate else req.calibrate)


def make_candidates(models: list[str], grid: dict[str, list[Any]], balances: list[str] | None = None
                    ) -> list[Candidate]:
    points = [tuple(zip(grid, values)) for values in itertools.product(*grid.values())] if grid else [()]
    return [Candidate(m, p, b) for m in models for p in points for b in (balances or [None])]


def check_balances(names: list[str] | None) -> list[str] | None:
    """Validate --balance strategies before any data is read (unknown ones are listed)."""
    if not names:
        return None
    from mlcli.models.resamplers import STRATEGIES, get_resampler

    for name in names:
        if name.strip().lower() not in STRATEGIES:
            get_resampler(name)
    return names

"""What an auto run asks for, its presets and its time budget, checked before any data is read."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from mlcli.data.dataset import DataOptions
from mlcli.errors import ConfigError
from mlcli.experiments.cv.request import MIN_SEARCH_SECONDS, CVRequest, check_seconds
from mlcli.experiments.tune.request import check_resume
from mlcli.features.preprocess import PreprocessOptions

DEFAULT_LIMIT = 300.0


@dataclass(frozen=True)
class Preset:
    """The defaults a preset sets (each one overridden by its own option)."""

    name: str
    folds: int
    tune: bool  # search the most promising models' parameters with the time left
    tiers: tuple[str, ...]  # portfolio tiers tried (mlcli.experiments.auto.portfolio.TIERS)
    flaml_ranks: int  # FLAML's choices per learner at most (fast: the first only)
    why: str
    tune_min_rows: int = 0  # below this many rows the preset does not tune unless --tune or --trials asks


PRESETS = {
    "fast": Preset("fast", 3, False, ("default", "flaml"), 1,
                   "3 folds, the strong defaults and FLAML's first choices, no tuning, an ensemble"),
    "best": Preset("best", 5, True, ("default", "flaml", "variant"), 99,
                   "5 folds, the whole portfolio, tuning with the time left (from 5,000 rows), an ensemble",
                   tune_min_rows=5000),
}
TUNE_SHARE = 0.6  # with tuning, the portfolio may take this share of the search time; tuning takes the rest
RESERVE_SHARE = 0.05  # the share of the limit kept back for ensemble selection (1 to 20 seconds)
CANDIDATE_SHARE = 0.25  # of the portfolio's time: the most one candidate's folds may take


@dataclass
class AutoRequest:
    data: DataOptions
    time_limit: float = DEFAULT_LIMIT  # seconds from the start of the command to the final refit
    preset: str = "best"
    folds: int | None = None  # None: the preset's
    trials: int | None = None  # tuning trials per tuned model; None: as many as the time allows
    tune: bool | None = None  # None: the preset's
    metric: str | None = None
    seed: int = 42
    refit: bool = True  # the final model: each member refitted on all rows (False, --bag: the fold models)
    out: str | None = None
    jobs: int | None = None
    threads: int | None = None
    preprocess: PreprocessOptions = field(default_factory=PreprocessOptions)
    log_target: bool = False
    leak_check: bool = True
    limit_candidates: int | None = None  # the first N portfolio candidates at most (tests, quick looks)
    studies: str | None = None  # the SQLite file that keeps the tuning searches for --resume (None: not kept)
    resume: bool = False  # continue the kept tuning searches of the same data, target, metric and folds
    scheduler: str | None = None  # a Dask scheduler address: the portfolio's and the trials' folds run there
    guard: bool = True  # keep the best default model unless the ensemble beats it on rows its selection did not see
    test_path: str | None = None  # --test FILE: the final model scored on these labelled rows after the search
    models: list[str] | None = None  # --models: only the portfolio's candidates of these registry models

    def check(self) -> Preset:
        """Every problem that needs no data, as one line: nothing is read or fitted before this passes."""
        if self.preset not in PRESETS:
            raise ConfigError(f"unknown --preset '{self.preset}'; choose one of: {', '.join(PRESETS)}")
        check_seconds(self.time_limit, "--time-limit", MIN_SEARCH_SECONDS)
        if self.trials is not None and self.trials < 1:
            raise ConfigError(f"--trials must be at least 1, got {self.trials}")
        if self.folds is not None and self.folds < 2:
            raise ConfigError(f"--folds must be at least 2, got {self.folds}")
        if self.limit_candidates is not None and self.limit_candidates < 1:
            raise ConfigError(f"--candidates must be at least 1, got {self.limit_candidates}")
        if self.metric is not None:
            check_metric_name(self.metric)
        if self.models:
            from mlcli.models.registry import MODELS

            unknown = [m for m in self.models if m not in MODELS or MODELS[m].baseline]
            if unknown:
                names = ", ".join(n for n, s in MODELS.items() if not s.baseline)
                raise ConfigError(f"unknown --models entry '{unknown[0]}'; choose among: {names}")
        if self.resume and not self.settings()[1]:
            raise ConfigError("--resume continues auto's tuning, which this run leaves out; add --tune (the fast "
                              "preset does not tune)")
        check_resume(self.resume, self.studies)
        if self.out:
            from mlcli.models.bundle import check_bundle_path

            check_bundle_path(self.out, "--out")
        return PRESETS[self.preset]

    def settings(self, n_rows: int | None = None) -> tuple[int, bool]:
        """(folds, tune) after the preset; with ``n_rows`` (known once the data is read), the preset does not
        tune data below its ``tune_min_rows`` unless --tune or --trials asks for it: on small data the best of
        hundreds of trials scored on the same folds is mostly the luckiest, and it crowded the ensemble out."""
        preset = PRESETS[self.preset]
        small = n_rows is not None and n_rows < preset.tune_min_rows and self.trials is None
        tune = preset.tune and not small
        return (self.folds or preset.folds, tune if self.tune is None else self.tune)

    def cv_request(self) -> CVRequest:
        """The equivalent cv request: the same folds and checks as `mlcli cv`."""
        folds, _ = self.settings()
        return CVRequest(self.data, models=["baseline"], preprocess=self.preprocess, seed=self.seed, folds=folds,
                         metric=self.metric, jobs=self.jobs, threads=self.threads, oof=True,
                         log_target=self.log_target, leak_check=self.leak_check)


def check_metric_name(metric: str) -> None:
    """An unknown metric fails before the data is read (one that exists, but not for this task, fails once the
    task is known, still before any fit)."""
    from mlcli.evaluation.metrics import resolve_metric

    for task in ("binary", "multiclass", "regression"):
        try:
            resolve_metric(metric, task)
            return
        except ConfigError:
            continue
    names = sorted({n for task in ("binary", "multiclass", "regression") for n in _names(task)})
    raise ConfigError(f"unknown --metric '{metric}'; choose one of: {', '.join(names)}")


def _names(task: str) -> list[str]:
    from mlcli.evaluation.metrics import metric_names

    return list(metric_names(task))


class Budget:
    """The time limit as deadlines: the search (portfolio, then tuning) ends ``reserve`` seconds before the
    limit, which ensemble selection then uses, and, with ``--out``, ``final_s`` earlier still: the expected
    seconds of the final fits (set after the portfolio from the fits measured), so that they too end near the
    limit."""

    def __init__(self, limit: float, start: float | None = None):
        self.limit = float(limit)
        self.start = time.perf_counter() if start is None else start
        self.reserve = min(max(RESERVE_SHARE * self.limit, 1.0), 20.0, 0.5 * self.limit)
        self.final_s = 0.0
        self.phases: dict[str, float] = {}

    @property
    def search_end(self) -> float:
        return self.start + self.limit - self.reserve - self.final_s

    def left(self, until: float | None = None) -> float:
        return (self.search_end if until is None else until) - time.perf_counter()

    def used(self) -> float:
        return time.perf_counter() - self.start

    def portfolio_end(self, tune: bool) -> float:
        """With tuning, the portfolio may use TUNE_SHARE of the search time (all of it without)."""
        if not tune:
            return self.search_end
        return self.start + TUNE_SHARE * (self.search_end - self.start)

    def mark(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.phases[phase] = round(self.phases.get(phase, 0.0) + now - since, 3)
        return now

    def to_dict(self) -> dict[str, Any]:
        return {"time_limit": self.limit, "used_s": round(self.used(), 3), "reserve_s": round(self.reserve, 3),
                "final_reserve_s": round(self.final_s, 3), "phases": dict(self.phases)}

"""What a tune run asks for, checked before any data is read; the cv request it shares folds and checks with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlcli.data.dataset import DataOptions
from mlcli.errors import ConfigError
from mlcli.experiments.cv.request import MIN_SEARCH_SECONDS, CVRequest, check_seconds
from mlcli.features.preprocess import PreprocessOptions
from mlcli.models.registry import get_spec
from mlcli.models.spec import ModelSpec

DEFAULT_TRIALS = 50  # without --trials and --time-limit


@dataclass
class TuneRequest:
    data: DataOptions
    model: str = "lightgbm"
    trials: int | None = None  # None: DEFAULT_TRIALS, or as many as --time-limit allows when it is given
    time_limit: float | None = None  # seconds for the whole run before the --save-best refit
    params: dict[str, Any] = field(default_factory=dict)  # fixed with --param: taken out of the space
    preprocess: PreprocessOptions = field(default_factory=PreprocessOptions)
    seed: int = 42
    folds: int = 5
    repeats: int = 1
    groups: str | None = None
    metric: str | None = None
    threads: int | None = None
    save_best: str | None = None
    log_target: bool = False
    leak_check: bool = True
    space: dict[str, tuple] | None = None  # instead of the registry entry's (a library caller's own space)
    startup_trials: int | None = None  # pruner: trials that are never pruned (default: 5)
    studies: str | None = None  # the SQLite file that keeps searches for --resume (None: nothing kept)
    resume: bool = False  # continue the kept search of the same data, folds, model and space
    scheduler: str | None = None  # a Dask scheduler address: each trial's folds run on that cluster

    @property
    def n_trials(self) -> int | None:
        """Trials to run at most: --trials, else DEFAULT_TRIALS without a time limit, else unbounded."""
        if self.trials is not None:
            return self.trials
        return None if self.time_limit is not None else DEFAULT_TRIALS

    def check(self) -> ModelSpec:
        """Every problem that needs no data, as one line: nothing is read or fitted before this passes."""
        from mlcli.models.space import check_space

        spec = get_spec(self.model)
        if self.trials is not None and self.trials < 1:
            raise ConfigError(f"--trials must be at least 1, got {self.trials}")
        if self.time_limit is not None:
            check_seconds(self.time_limit, "--time-limit", MIN_SEARCH_SECONDS)
        if self.folds < 2:
            raise ConfigError(f"--folds must be at least 2, got {self.folds}")
        if self.repeats < 1:
            raise ConfigError(f"--repeats must be at least 1, got {self.repeats}")
        space = self.space if self.space is not None else spec.search_space
        if not space:
            raise ConfigError(f"model '{spec.name}' has no search space, so there is nothing to tune; models with "
                              f"one: {', '.join(tunable_models())}")
        check_space(spec.name, space)
        check_resume(self.resume, self.studies)
        if self.save_best:
            from mlcli.models.bundle import check_bundle_path

            check_bundle_path(self.save_best, "--save-best")
        return spec

    def cv_request(self) -> CVRequest:
        """The equivalent cv request: the same folds, checks, pipelines and --save-best as `mlcli cv`."""
        return CVRequest(self.data, models=[self.model], params=dict(self.params), preprocess=self.preprocess,
                         seed=self.seed, folds=self.folds, repeats=self.repeats, groups=self.groups,
                         metric=self.metric, threads=self.threads, save_best=self.save_best,
                         log_target=self.log_target, leak_check=self.leak_check)


def tunable_models() -> list[str]:
    from mlcli.models.registry import MODELS

    return [name for name, spec in MODELS.items() if spec.search_space]


def check_resume(resume: bool, studies: str | None) -> None:
    """--resume needs a place where searches are kept, and one kept there."""
    if not resume:
        return
    if not studies:
        raise ConfigError("--resume continues a search kept beside the run history, which MLCLI_HISTORY=0 turns "
                          "off; run without --resume")
    from pathlib import Path

    if not Path(studies).is_file():
        raise ConfigError(f"--resume: no search has been kept yet (no {studies}); run once without --resume")

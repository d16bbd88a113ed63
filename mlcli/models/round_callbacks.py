"""The boosters' round callbacks behind :mod:`mlcli.models.fit_progress`: each tells its progress line when a
library fit starts (how many rounds it may run), every round it runs, and the round of its best validation
score so far when early stopping watches one.

- XGBoost: a ``TrainingCallback``, given as the model's ``callbacks`` parameter (its fit takes none);
- LightGBM: a callback given to fit;
- CatBoost: its training log (``verbose=1``, ``log_cout``) read line by line, as its callbacks rebuild the
  whole metric history at every round (4,000 rounds took 4 times as long).

A callback is handed over as it is when copied: scikit-learn's clone() and the libraries deep-copy the
callbacks they are given, and every copy must report to the same line.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any


def attach(kind: str, model: Any, step: str, progress: Any) -> tuple[dict[str, Any], Any]:
    """Hook ``progress`` to the fit of library ``kind``'s ``model``, the pipeline's ``step``: (the fit arguments
    for the pipeline, the callback now among the model's parameters, to take out after the fit, or None)."""
    if kind == "xgboost":
        callback = _xgboost_class()(progress)
        model.callbacks = [*(model.callbacks or []), callback]
        return {}, callback
    if kind == "lightgbm":
        return {f"{step}__callbacks": [_LightGBMRounds(progress)]}, None
    if kind == "catboost" and not _catboost_logs(model):
        return {f"{step}__verbose": 1, f"{step}__log_cout": _CatBoostLog(progress)}, None
    return {}, None


class _Shared:
    """Copied, a callback is itself (see the module docstring)."""

    def __init__(self, progress: Any):
        self.progress = progress
        self.n = 0
        self.score: Any = None

    def __deepcopy__(self, memo: dict) -> Any:
        return self

    def __copy__(self) -> Any:
        return self


class _LightGBMRounds(_Shared):
    def __call__(self, env: Any) -> None:
        done = env.iteration + 1 - env.begin_iteration
        if done == 1:
            self.progress.begin(env.end_iteration - env.begin_iteration)
            self.score = None
        if self.progress.patience and env.evaluation_result_list:  # the validation score, as early stopping sees it
            value, higher = env.evaluation_result_list[0][2:4]
            if self.score is None or (value > self.score if higher else value < self.score):
                self.score, self.progress.best = value, done
        self.progress.round(done)


class _CatBoostLog(_Shared):
    """CatBoost's training log, a line a round ("41:\tlearn: 0.43\ttest: 0.45\tbest: 0.44 (30)\ttotal: ..."): its
    lines cost nothing measurable."""

    def __init__(self, progress: Any):
        super().__init__(progress)
        self._rest = ""

    def write(self, text: str) -> None:
        *lines, self._rest = (self._rest + text).split("\n")
        for line in lines:
            head, colon, _ = line.partition(":")
            if colon and head.isdigit():
                if head == "0":
                    model = _fitting("catboost:CatBoost")
                    self.progress.begin(_catboost_rounds(model) if model is not None else 0)
                best = line.rpartition("\tbest: ")[2].partition("(")[2].partition(")")[0]  # "best: 0.41 (82)"
                if best.isdigit():
                    self.progress.best = int(best) + 1
                self.progress.round(int(head) + 1)

    def flush(self) -> None:
        pass


@cache
def _xgboost_class() -> type:
    from xgboost.callback import TrainingCallback

    class XGBoostRounds(_Shared, TrainingCallback):
        def before_training(self, model: Any) -> Any:
            est = _fitting("xgboost:XGBModel")
            self.progress.begin(est.get_num_boosting_rounds() if est is not None else 0)
            self.n = 0
            return model

        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            self.n += 1
            if self.progress.patience:  # set by XGBoost's early stopping (after this callback: a round late)
                best = model.attr("best_iteration")
                self.progress.best = int(best) + 1 if best is not None else None
            self.progress.round(self.n)
            return False  # go on

    return XGBoostRounds


def _catboost_logs(model: Any) -> bool:
    """Whether the user asked CatBoost for its own log (which then stays as it was)."""
    params = model.get_params()
    return bool(params.get("verbose")) or any(params.get(k) is not None for k in ("logging_level", "silent",
                                                                                   "verbose_eval"))


def _catboost_rounds(model: Any) -> int:
    params = model.get_params()
    for key in ("iterations", "n_estimators", "num_boost_round", "num_trees"):
        if params.get(key):
            return int(params[key])
    return 1000  # CatBoost's default


def _fitting(path: str) -> Any:
    """The ``module:Class`` model whose fit is running on this thread: its parameters say how many rounds the
    fit runs (XGBoost and CatBoost do not tell their callbacks); None if not found."""
    module, _, name = path.partition(":")
    cls = getattr(sys.modules.get(module), name, None)
    frame = sys._getframe(1)
    for _ in range(64):
        if frame is None or cls is None:
            return None
        code = frame.f_code
        if code.co_varnames[:1] == ("self",) and code.co_name in ("fit", "_fit", "_train"):
            obj = frame.f_locals.get("self")
            if isinstance(obj, cls):
                return obj
        frame = frame.f_back
    return None

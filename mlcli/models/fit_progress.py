"""The progress of one model fit, on stderr: rounds done, time taken and time left for the boosters; the time
taken for the other models.

``cv`` shows a bar over its folds; a single fit (``train``, the refit of ``cv``/``tune --save-best``) used to
show nothing at all, however long it ran (XGBoost on 7,600 rows of TF-IDF: 19 minutes of silence). Now::

    mlcli: fitting xgboost: 420/2000 rounds, 1:02 elapsed, at most 3:54 left

- nothing is shown before the fit has run ``MLCLI_PROGRESS_AFTER`` seconds (3 unless set; 0: at once), so a
  quick fit prints nothing; then the line is redrawn in place on a terminal, and otherwise written at most
  every 15 s (and at once when a new fit starts), with a last line saying how long the fit took;
- XGBoost, LightGBM and CatBoost report every round through their callback APIs; the time left is the rate
  of the rounds so far times the rounds left, an upper bound ("at most") when early stopping may end the fit
  sooner. Below 1,000 training rows early stopping first fits inner folds (``fit 2``, ``fit 3`` ...), and the
  estimate is that of the fit running now;
- the other models offer no per-step hook, so a ticker says how long the fit has run, and gives no estimate;
- the callbacks are there for the fit only: XGBoost's is a model parameter, taken out again of every copy
  the fit made (a bundle keeps no callback: skops would refuse its type); LightGBM's and CatBoost's are fit
  arguments, passed on by mlcli's wrappers (class weights, early stopping, target transforms).

Per round a callback costs a call and a clock read (well under 1 % of the cheapest round).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import threading
import time
from functools import cache
from typing import Any, TextIO

from mlcli.text.progress import _clock

AFTER = 3.0  # seconds a fit runs before its progress is shown
AFTER_ENV = "MLCLI_PROGRESS_AFTER"
EVERY = 15.0  # seconds between lines when stderr is not a terminal
REDRAW = 0.2  # on a terminal
TICK = 1.0  # the ticker's redraw on a terminal (the clock shows whole seconds)
# wrappers around a model that pass the keyword arguments of fit on to it: attribute of the wrapped model
PASS_ON = {"ClassWeighted": "estimator", "EarlyStoppedClassifier": "estimator", "EarlyStoppedRegressor": "estimator",
           "CalibratedModel": "estimator", "TransformedTargetRegressor": "regressor",
           "CalibratedClassifierCV": "estimator"}
BOOSTERS = ("xgboost", "lightgbm", "catboost")


def show_after() -> float:
    """Seconds a fit runs before its progress is shown: MLCLI_PROGRESS_AFTER, else AFTER."""
    try:
        value = float(os.environ.get(AFTER_ENV, "").strip())
    except ValueError:
        return AFTER
    return value if math.isfinite(value) and value >= 0 else AFTER


class FitProgress:
    """The progress line of one fit. The library callbacks call :meth:`begin` when a fit starts and
    :meth:`round` after each round; a ticker thread (:meth:`start`) draws it when no round comes for a while
    (preprocessing, slow rounds, models without rounds). :meth:`close` ends it."""

    def __init__(self, label: str, *, at_most: bool = False, note: str | None = None, after: float | None = None,
                 stream: TextIO | None = None, interval: float | None = None, clock: Any = time.perf_counter):
        self.label = label
        self.at_most = at_most  # early stopping may end a fit before its last round
        self.note = note  # said beside the elapsed time while no round is known
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.after = show_after() if after is None else after
        self.interval = interval if interval is not None else (REDRAW if self.tty else EVERY)
        self.clock = clock
        self.t0 = clock()
        self.fits = 0  # library fits begun (early stopping on inner folds fits several)
        self.total = 0  # rounds the current fit may run (0: not known)
        self.done = 0  # rounds the current fit has run
        self.before = 0  # rounds of the fits before it
        self.shown = False
        self._mark: tuple[float, int] | None = None  # (time, rounds) the current fit's rate counts from
        self._last = -math.inf
        self._drawn: bool | None = None  # whether the last line counted rounds (the first one that does: at once)
        self._width = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def begin(self, total: int) -> None:
        """A library fit starts (told before or after its first round)."""
        self.before += self.done
        self.fits += 1
        self.total = max(int(total or 0), 0)
        self.done = 0
        self._mark = None  # the rate counts from the end of the first round: it also builds the histograms

    def round(self, done: int) -> None:
        """``done`` rounds of the current fit have run."""
        self.done = done
        now = self.clock()
        if self._mark is None:
            self._mark = (now, done)
        elif (now - self._last >= self.interval or not self._drawn) and now - self.t0 >= self.after:
            self._draw(now)

    def eta(self, now: float) -> float | None:
        """Seconds the current fit has left at the rate of its rounds so far (None: not known yet)."""
        if not self.total or self._mark is None or self.done <= self._mark[1]:
            return None
        return (now - self._mark[0]) / (self.done - self._mark[1]) * max(self.total - self.done, 0)

    def line(self, now: float | None = None, final: bool = False) -> str:
        now = self.clock() if now is None else now
        took = _clock(now - self.t0)
        if final:
            rounds = self.before + self.done
            what = f"{rounds} rounds{f' in {self.fits} fits' if self.fits > 1 else ''}, " if self.fits else ""
            return f"mlcli: {self.label}: {what}took {took}"
        if not self.fits:
            return f"mlcli: {self.label}: {took} elapsed" + (f" ({self.note})" if self.note else "")
        name = self.label + (f" (fit {self.fits})" if self.fits > 1 else "")
        count = f"{self.done}/{self.total}" if self.total else f"{self.done}"
        eta = self.eta(now)
        left = "" if eta is None else f", {'at most' if self.at_most else 'about'} {_clock(eta)} left"
        return f"mlcli: {name}: {count} rounds, {took} elapsed{left}"

    def start(self, ticker: bool = True) -> FitProgress:
        if ticker:
            self._thread = threading.Thread(target=self._tick, name="mlcli-fit-progress", daemon=True)
            self._thread.start()
        return self

    def _tick(self) -> None:
        delay = self.after
        period = max(self.interval, TICK)
        while not self._stop.wait(delay):
            now = self.clock()
            if now - self._last >= period - 0.01 or self._drawn != bool(self.fits):
                self._draw(now)
            delay = max(self._last + period - self.clock(), 0.05)

    def _draw(self, now: float, final: bool = False) -> None:
        with self._lock:
            if self._stop.is_set() and not final:
                return
            self._last, self._drawn, self.shown = now, bool(self.fits), True
            self._write(self.line(now, final))

    def _write(self, text: str) -> None:
        try:
            if self.tty:
                text = text[:max(shutil.get_terminal_size().columns - 1, 20)]  # a wrapped line cannot be redrawn
                self.stream.write("\r" + text + " " * max(self._width - len(text), 0))
                self._width = len(text)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed or non-encodable stream: progress is not worth an error
            self.shown = False
            self._stop.set()

    def close(self, finished: bool = True) -> None:
        """Stop the ticker; a line was shown: the last one (how long it took), or on a failed fit a bare newline."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if not self.shown:
            return
        if finished:
            self._draw(self.clock(), final=True)
        if self.tty:
            try:
                self.stream.write("\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass


# ------------------------------------------------------------------------------------------ the callbacks
class _Shared:
    """A callback is handed over as it is: scikit-learn's clone() and the libraries deep-copy the callbacks they
    are given, and every copy must report to the same line."""

    def __init__(self, progress: FitProgress):
        self.progress = progress
        self.n = 0

    def __deepcopy__(self, memo: dict) -> Any:
        return self

    def __copy__(self) -> Any:
        return self


class _LightGBMRounds(_Shared):
    def __call__(self, env: Any) -> None:
        if env.iteration == env.begin_iteration:
            self.progress.begin(env.end_iteration - env.begin_iteration)
        self.progress.round(env.iteration + 1 - env.begin_iteration)


class _CatBoostLog(_Shared):
    """CatBoost's training log (``verbose=1``, ``log_cout``): its callbacks rebuild the whole metric history at
    every round (4,000 rounds took 4 times as long), its log lines ("41:\tlearn: ...") cost nothing measurable."""

    def __init__(self, progress: FitProgress):
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


# ------------------------------------------------------------------------------------------ the fit
def library_model(step: Any) -> tuple[Any, bool]:
    """(the library model inside the wrappers that pass fit arguments on, or None; whether early stopping
    wraps it)."""
    model, stopped = step, False
    for _ in range(8):
        attr = PASS_ON.get(type(model).__name__)
        if attr is None:
            return model, stopped
        stopped = stopped or type(model).__name__.startswith("EarlyStopped")
        model = getattr(model, attr, None)
    return None, stopped


def _library(model: Any) -> str:
    return type(model).__module__.split(".")[0] if model is not None else ""


def walk(root: Any) -> Any:
    """Every estimator reachable from ``root`` (steps, wrapped and fitted models, calibrated copies), once."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (list, tuple)):
            stack.extend(obj)
            continue
        if isinstance(obj, dict):
            stack.extend(obj.values())
            continue
        if not (hasattr(obj, "get_params") or hasattr(obj, "calibrators")) or isinstance(obj, type):
            continue
        yield obj
        stack.extend(v for v in getattr(obj, "__dict__", {}).values()
                     if isinstance(v, (list, tuple, dict)) or hasattr(v, "get_params") or hasattr(v, "calibrators"))


def _strip(root: Any, callback: Any) -> None:
    """Take ``callback`` out of every XGBoost model the fit left (the model given and its fitted copies)."""
    for obj in walk(root):
        callbacks = getattr(obj, "callbacks", None) if _library(obj) == "xgboost" else None
        if isinstance(callbacks, list) and any(c is callback for c in callbacks):
            obj.callbacks = [c for c in callbacks if c is not callback] or None  # no set_params: the booster stays


def fit_with_progress(pipeline: Any, X: Any, y: Any, label: str, enabled: bool = True,
                      stream: TextIO | None = None, after: float | None = None) -> Any:
    """``pipeline.fit(X, y)`` that tells how it goes (see the module docstring); ``label`` names the fit
    ('fitting xgboost on 6,080 rows'). Not ``enabled`` (--quiet): a plain fit. Returns the pipeline."""
    step_name, step = pipeline.steps[-1]
    model, stopped = library_model(step)
    kind = _library(model)
    if not enabled or type(model).__module__.startswith("mlcli.text"):  # fine-tuning shows its own progress
        return pipeline.fit(X, y)
    booster = kind in BOOSTERS
    note = None if booster else f"no estimate: {type(model).__name__ if model is not None else 'the model'} " \
                                "reports no progress while it fits"
    progress = FitProgress(label, at_most=stopped, note=note, stream=stream, after=after)
    kwargs: dict[str, Any] = {}
    callback: Any = None
    if kind == "xgboost":
        callback = _xgboost_class()(progress)
        model.callbacks = [*(model.callbacks or []), callback]
    elif kind == "lightgbm":
        kwargs[f"{step_name}__callbacks"] = [_LightGBMRounds(progress)]
    elif kind == "catboost" and not _catboost_logs(model):
        kwargs.update({f"{step_name}__verbose": 1, f"{step_name}__log_cout": _CatBoostLog(progress)})
    embeds = any(type(o).__name__ == "TextEmbedder" and getattr(o, "verbose", 0) for o in walk(pipeline.steps[0]))
    progress.start(ticker=not embeds)  # sentence embeddings show their own progress line while they run
    finished = False
    try:
        pipeline.fit(X, y, **kwargs)
        finished = True
    finally:
        progress.close(finished)
        if callback is not None:
            _strip(pipeline, callback)
    return pipeline


def wanted(notify: Any) -> bool:
    """Whether a command's notices reach someone (not the silent default of a library call, not --quiet)."""
    from mlcli.data.dataset import quiet

    return notify is not quiet and not getattr(notify, "quiet", False)


def close_bar(bar: Any) -> None:
    """Take a command's live progress bar (cv's folds, tune's trials) off the screen before a refit shows its own
    line: under a live bar, stderr is held back a line at a time and a line redrawn in place never shows."""
    close = getattr(bar, "close", None)
    if callable(close):
        close()

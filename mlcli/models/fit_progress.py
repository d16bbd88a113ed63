"""The progress of one model fit, on stderr: rounds done, time taken and time left for the boosters; the time
taken for the other models.

``cv`` shows a bar over its folds; a single fit (``train``, the refit of ``cv``/``tune --save-best``) used to
show nothing at all, however long it ran (XGBoost on 7,600 rows of TF-IDF: 19 minutes of silence). Now::

    mlcli: fitting xgboost on 6,080 rows: 420/2000 rounds, 1:02 elapsed, 0:40 to 3:54 left

- nothing is shown before the fit has run ``MLCLI_PROGRESS_AFTER`` seconds (3 unless set; 0: at once), so a
  quick fit prints nothing; then the line is redrawn in place on a terminal, and otherwise written at most
  every 15 s (the first line that counts rounds at once), with a last line saying how long the fit took;
- XGBoost, LightGBM and CatBoost report every round (:mod:`mlcli.models.round_callbacks`); the time left is
  the rate of the rounds so far times the rounds left. Under early stopping that is the most it can take; the
  least is the time to the round where it stops if the validation score does not improve again (its best
  round + the patience), so the line gives both ("0:40 to 3:54 left"), or "at most" before a best round is
  known. Below 1,000 training rows early stopping first fits inner folds (``fit 2``, ``fit 3`` ...): the
  estimate is that of the fit running now;
- the other models offer no per-step hook: a ticker says how long the fit has run, and gives no estimate;
- the callbacks are there for the fit only: XGBoost's is a model parameter, taken out again of every copy
  the fit made (a bundle keeps no callback: skops would refuse its type); LightGBM's and CatBoost's are fit
  arguments, passed on by the wrappers around the model (class weights, early stopping, calibration, target
  transforms).

Cost, measured: 0.4-3 us a round (a boosting round on 1,000 rows takes 0.5-2 ms), and 1-3 ms a fit for the
ticker thread and the search for the callback in the fitted copies; fits with and without, alternated, differ
by less than the noise of the machine (a few %, both ways).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import threading
import time
from typing import Any, TextIO

from mlcli.models.round_callbacks import attach
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

    def __init__(self, label: str, *, at_most: bool = False, patience: int | None = None, note: str | None = None,
                 after: float | None = None, stream: TextIO | None = None, interval: float | None = None,
                 clock: Any = time.perf_counter):
        self.label = label
        self.at_most = at_most  # early stopping may end a fit before its last round
        self.patience = patience if at_most else None  # it ends a fit this many rounds after its best round
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
        self.best: int | None = None  # the round of the current fit's best validation score so far (1 = the first)
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
        self.best = None
        self._mark = None  # the rate counts from the end of the first round: it also builds the histograms

    def round(self, done: int) -> None:
        """``done`` rounds of the current fit have run."""
        self.done = done
        now = self.clock()
        if self._mark is None:
            self._mark = (now, done)
        elif (now - self._last >= self.interval or not self._drawn) and now - self.t0 >= self.after:
            self._draw(now)

    def eta(self, now: float) -> tuple[float, float] | None:
        """(soonest, latest) seconds the current fit has left at the rate of its rounds so far: it runs to its
        last round, or early stopping ends it ``patience`` rounds after its best round if the score does not
        improve again (soonest = latest when that is not known); None: not known yet."""
        if not self.total or self._mark is None or self.done <= self._mark[1]:
            return None
        rate = (now - self._mark[0]) / (self.done - self._mark[1])
        left = max(self.total - self.done, 0)
        soonest = left if self.patience is None or self.best is None else \
            min(max(self.best + self.patience - self.done, 0), left)
        return rate * soonest, rate * left

    def line(self, now: float | None = None, final: bool = False, short: bool = False) -> str:
        """The line at ``now``; ``short``: the label without its details ('fitting xgboost', not '... on N rows')."""
        now = self.clock() if now is None else now
        label = self.label.partition(" on ")[0] if short else self.label
        took = _clock(now - self.t0)
        if final:
            rounds = self.before + self.done
            what = f"{rounds} rounds{f' in {self.fits} fits' if self.fits > 1 else ''}, " if self.fits else ""
            return f"mlcli: {label}: {what}took {took}"
        if not self.fits:
            return f"mlcli: {label}: {took} elapsed" + (f" ({self.note})" if self.note and not short else "")
        name = label + (f" (fit {self.fits})" if self.fits > 1 else "")
        count = f"{self.done}/{self.total}" if self.total else f"{self.done}"
        eta = self.eta(now)
        if eta is None:
            left = ""
        elif _clock(eta[0]) != _clock(eta[1]):
            left = f", {_clock(eta[0])} to {_clock(eta[1])} left"
        else:
            left = f", {'at most' if self.at_most and self.best is None else 'about'} {_clock(eta[1])} left"
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
            text = self.line(now, final)
            if self.tty:  # a line that wraps cannot be redrawn: the short label, then cut to the width
                width = max(shutil.get_terminal_size().columns - 1, 20)
                text = (text if len(text) <= width else self.line(now, final, short=True))[:width]
            self._write(text)

    def _write(self, text: str) -> None:
        try:
            if self.tty:
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


def library_model(step: Any) -> tuple[Any, Any]:
    """(the library model inside the wrappers that pass fit arguments on, or None; mlcli's early-stopping
    wrapper around it, or None)."""
    model, stopper = step, None
    for _ in range(8):
        attr = PASS_ON.get(type(model).__name__)
        if attr is None:
            return model, stopper
        if type(model).__name__.startswith("EarlyStopped"):
            stopper = model
        model = getattr(model, attr, None)
    return None, stopper


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
    model, stopper = library_model(step)
    kind = _library(model)
    if not enabled or type(model).__module__.startswith("mlcli.text"):  # fine-tuning shows its own progress
        return pipeline.fit(X, y)
    booster = kind in BOOSTERS
    note = None if booster else f"no estimate: {type(model).__name__ if model is not None else 'the model'} " \
                                "reports no progress while it fits"
    progress = FitProgress(label, at_most=stopper is not None, patience=getattr(stopper, "rounds", None), note=note,
                           stream=stream, after=after)
    kwargs, callback = attach(kind, model, step_name, progress) if booster else ({}, None)
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

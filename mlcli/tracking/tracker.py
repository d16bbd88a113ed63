"""The one interface between a command and its integrations: run history, --save-recipe and MLflow.

The CLI makes a :class:`Tracker` per tracked command and calls it three times: :meth:`Tracker.start` once the
options are final, :meth:`Tracker.result` with the command's result document, and :meth:`Tracker.end` exactly
once, whatever happened. Each integration is an :class:`Integration` with the same three hooks (in the spirit
of Ludwig's callbacks), so the commands know none of them. The history and MLflow only ever warn when they
fail: the run itself (a trained, saved model) must not be lost to a bookkeeping problem. Saving a recipe the
user asked for can fail the run (an unwritable path is the user's to fix).
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mlcli.errors import redact
from mlcli.tracking.recipe import KeySpec, dump_recipe, recipe_document, write_recipe


@dataclass
class RunInfo:
    """What the integrations know of one command run."""

    command: str  # train | cv | evaluate
    command_line: str
    options: dict[str, Any]  # parameter name -> value, as the command received them
    specs: list[KeySpec]  # the command's recipe keys
    notify: Any  # a Notify with .warn
    rerun_of: int | None = None
    history_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)  # extra facts stored with the history record
    doc: dict[str, Any] | None = None  # the result document, once there is one

    def recipe(self, base: Path | None = None) -> dict[str, Any]:
        return effective_recipe(self.command, self.options, self.specs, self.doc, base)


def effective_recipe(name: str, options: dict[str, Any], specs: list[KeySpec], doc: dict[str, Any] | None,
                     base: Path | None = None) -> dict[str, Any]:
    """The recipe that repeats this run: every option set, with the target the run chose."""
    recipe = recipe_document(name, options, specs, base)
    if doc and doc.get("target") and "target" in {s.key for s in specs} and "target" not in recipe:
        recipe["target"] = doc["target"]
    return recipe


class Integration:
    """Hooks called around one command run; the defaults do nothing."""

    def on_start(self, run: RunInfo) -> None:
        pass

    def on_result(self, run: RunInfo) -> None:
        pass

    def on_end(self, run: RunInfo, status: str, error: str | None, seconds: float) -> None:
        pass


class HistoryRecorder(Integration):
    """Writes the run to the SQLite run history (``mlcli.tracking.history``); warns, never fails the run."""

    def _warn(self, run: RunInfo, exc: BaseException) -> None:
        run.notify.warn(f"run not recorded in the history: {' '.join(str(exc).split())}")

    def on_start(self, run: RunInfo) -> None:
        from mlcli import __version__
        from mlcli.tracking import history as H

        try:
            if not H.enabled():
                return
            if run.rerun_of is not None:
                run.details["rerun_of"] = run.rerun_of
            recipe = run.recipe()
            with H.History() as h:
                run.history_id = h.start(run.command, run.command_line, data=recipe.get("data"),
                                         seed=run.options.get("seed"), recipe=recipe, mlcli_version=__version__,
                                         details=run.details or None)
        except Exception as exc:  # noqa: BLE001 - history must never fail the run
            self._warn(run, exc)

    def on_end(self, run: RunInfo, status: str, error: str | None, seconds: float) -> None:
        if run.history_id is None:
            return
        from mlcli.models.versions import library_versions
        from mlcli.tracking import history as H
        from mlcli.tracking import records as R

        try:
            fields = R.summarize(run.doc)
            run.details.update(fields.pop("details", {}))
            with H.History() as h:
                h.finish(run.history_id, status, duration=round(seconds, 3), error=error, recipe=run.recipe(),
                         data_fingerprint=R.file_fingerprint(run.options.get("data")),
                         libraries=library_versions(), details=run.details or None, **fields)
        except Exception as exc:  # noqa: BLE001
            self._warn(run, exc)


class RecipeSaver(Integration):
    """--save-recipe FILE: the effective recipe of a run that finished."""

    def __init__(self, path: str):
        self.path = path

    def on_result(self, run: RunInfo) -> None:
        from mlcli import __version__

        base = Path(self.path).resolve().parent
        recipe = run.recipe(base)
        header = (f"mlcli {run.command} recipe, written by mlcli {__version__} on {datetime.now():%Y-%m-%d %H:%M}\n"
                  f"run it with: mlcli {run.command} --recipe {self.path}  (options on the command line win)")
        write_recipe(self.path, dump_recipe(recipe, header))
        if recipe.get("data") == "-":
            run.notify.warn(f"the data came from stdin, so recipe {self.path} reads stdin too ('data: -')")
        run.notify(f"recipe saved to {self.path}")


class MlflowLogger(Integration):
    """--mlflow URI (or $MLFLOW_TRACKING_URI): params, metrics and the bundle of a run that finished."""

    def __init__(self, uri: str):
        self.uri = uri

    def on_result(self, run: RunInfo) -> None:
        if run.doc is None:
            return
        from mlcli.tracking import records as R
        from mlcli.tracking.mlflow import log_run

        fields = R.summarize(run.doc)
        if not reachable(self.uri, run.notify, then=""):  # it answered before the run; a run may outlive it
            return
        try:
            with contextlib.redirect_stdout(sys.stderr):  # stdout holds only mlcli's data
                run_id = log_run(self.uri, run.command, run.recipe(), fields.get("metrics") or {}, fields.get("bundle"),
                                 history_id=run.history_id, model=fields.get("model"))
        except Exception as exc:  # noqa: BLE001 - the model is trained and saved: warn, do not fail
            run.notify.warn(redact(f"not logged to MLflow at {self.uri}: {' '.join(str(exc).split())}")[:400])
            return
        run.details["mlflow_run"] = run_id
        run.notify(redact(f"logged to MLflow at {self.uri} (run {run_id})"))


class Tracker:
    """Fans the three moments of a run out to its integrations (history first, so the others know its id)."""

    def __init__(self, run: RunInfo, integrations: list[Integration]):
        self.run = run
        self.integrations = integrations

    def start(self) -> None:
        for integration in self.integrations:
            integration.on_start(self.run)

    def result(self, doc: dict[str, Any] | None) -> None:
        self.run.doc = doc
        for integration in self.integrations:
            integration.on_result(self.run)

    def end(self, status: str, error: str | None, seconds: float) -> None:
        for integration in self.integrations:
            integration.on_end(self.run, status, error, seconds)


def make_tracker(run: RunInfo, *, save_recipe: str | None = None, mlflow_uri: str | None = None) -> Tracker:
    """The tracker of a run: the history always (unless MLCLI_HISTORY=0), a recipe and MLflow when asked."""
    integrations: list[Integration] = [HistoryRecorder()]
    if save_recipe:
        integrations.append(RecipeSaver(save_recipe))
    if mlflow_uri:
        integrations.append(MlflowLogger(mlflow_uri))
    return Tracker(run, integrations)


def mlflow_target(uri: str | None, notify: Any) -> str | None:
    """The MLflow URI to log to: --mlflow (mlflow must be installed), else $MLFLOW_TRACKING_URI if usable."""
    from mlcli.tracking.mlflow import available, require

    if uri:
        require()
        return uri if reachable(uri, notify) else None
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if not env:
        return None
    if not available():
        notify.warn("MLFLOW_TRACKING_URI is set but mlflow is not installed, so this run is not logged to "
                    "MLflow: pip install 'mlcli[mlflow]'")
        return None
    return env if reachable(env, notify) else None


def reachable(uri: str, notify: Any, then: str = "; the run goes on without it") -> bool:
    """Whether the tracking server at ``uri`` answers within a couple of seconds; if not, one warning at once
    (credentials redacted), and the run goes on without MLflow instead of waiting on MLflow's retries."""
    from mlcli.tracking.mlflow import unreachable

    why = unreachable(uri)
    if why is not None:
        notify.warn(redact(f"not logged to MLflow: the tracking server at {uri} cannot be reached ({why}){then}"))
    return why is None

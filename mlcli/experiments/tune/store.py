"""Searches kept for ``--resume``: each study's trials in Optuna's RDB storage, an SQLite file beside the run
history (the CLI gives its path; nothing is kept without one). Each trial is stored as its state, its value
and one attribute that holds the rest (:func:`frozen`).

A study is named by what its trials' scores depend on: the rows as loaded (values, columns, target), the task,
the metric, the folds (count, repeats, groups and the seed that shuffles them), the model's configuration
(fixed parameters, preprocessing) and the space searched. ``--resume`` finds the study of the same name, so
its trials were scored on the same folds, adds them to the new search (the sampler and the pruner know them)
and continues; a run without ``--resume`` replaces the study of its name.

The search itself runs on Optuna's in-memory storage: writing a trial to SQLite through SQLAlchemy takes about
10 ms, so finished trials are handed to a writer thread (:class:`StudyWriter`) and the search never waits for
it; the run waits for the writes only at its end. Each trial carries its row (fold scores, metrics, state,
seconds) as the user attribute ``mlcli_row``. Trials' fold predictions (auto's ensemble needs them) are kept
beside the database, one ``.npz`` file per study (:func:`save_predictions`).

Several processes may use the store at once (three ``tune`` runs started together): the database and its
tables are made by one process at a time, under a lock file beside it (two processes creating the tables at
once made one of them fail, and its whole search was not kept); a study is written by one process at a time
(a second run of the same search at the same moment keeps nothing and says so, instead of mixing its trials
into the first one's); and the statements SQLite refuses while another process writes ("database is locked")
are retried for up to :data:`BUSY_S` seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from mlcli.errors import ConfigError, first_line

ROW_ATTR = "mlcli_row"
BUSY_S = 30.0  # how long a statement waits for another process's write (SQLite's busy timeout, and retries)


def data_key(X: Any, y: np.ndarray) -> str:
    """A fingerprint of the rows as loaded: every value, the columns and their order, the target."""
    import pandas as pd

    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    h.update(json.dumps([str(c) for c in X.columns]).encode())
    h.update(np.ascontiguousarray(y).tobytes())
    return h.hexdigest()[:16]


def split_key(splits: list[Any]) -> str:
    """A fingerprint of the folds: every split's held-out rows, in order."""
    h = hashlib.sha256()
    for split in splits:
        h.update(np.asarray(split.test, dtype=np.int64).tobytes())
        h.update(b"|")
    return h.hexdigest()[:16]


def digest(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def config_parts(config: Any, space: dict[str, tuple]) -> dict[str, Any]:
    """What of a model configuration and its space the scores depend on (not its thread count)."""
    return {"config": asdict(replace(config, n_threads=None)), "space": {k: list(v) for k, v in space.items()}}


@dataclass
class StudyLink:
    """Where a search keeps its study, and the stored trials it continues (empty: a new study)."""

    path: str  # the SQLite file
    name: str
    prior: list[Any] = field(default_factory=list)  # optuna FrozenTrials, in number order
    writer: StudyWriter | None = None
    error: str = ""  # why the trials could not be kept (a warning: the search itself is done)

    def start(self, direction: str) -> None:
        self.writer = StudyWriter(self.path, self.name, direction, fresh=not self.prior)

    def keep(self, trial: Any) -> None:
        if self.writer is not None:
            self.writer.put(trial)

    def close(self) -> None:
        if self.writer is not None:
            self.error = self.writer.close()
            self.writer = None


def _storage(path: str) -> Any:
    """Optuna's RDB storage on the SQLite file ``path``: made (file, tables, WAL journal) by one process at a
    time, under the lock file beside it; then opened with a busy timeout (WAL: readers never wait)."""
    import optuna
    from sqlalchemy import event

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _preload()
    with file_lock(f"{path}.lock", wait=BUSY_S, what=f"the kept searches in {path}"):
        storage = retried(lambda: optuna.storages.RDBStorage(
            f"sqlite:///{path}", engine_kwargs={"connect_args": {"timeout": BUSY_S}}))
        with storage.engine.connect() as conn:  # the journal mode is kept in the file: once is enough
            retried(lambda: conn.exec_driver_sql("PRAGMA journal_mode=WAL"))
        storage.engine.dispose()  # the connections made while creating the tables had no pragmas

    @event.listens_for(storage.engine, "connect")
    def _pragmas(conn: Any, record: Any) -> None:
        cursor = conn.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: a commit does not wait for the disk
        cursor.close()

    return storage


def _preload() -> None:
    """What Optuna imports the first time it opens a database (SQLAlchemy's ORM, Alembic: ~0.5 s), imported
    before the lock is taken, so that the lock is held for the database work alone."""
    import importlib

    for name in ("sqlalchemy.orm", "alembic.command", "alembic.config", "alembic.migration", "alembic.script",
                 "optuna.storages._rdb.models"):
        try:
            importlib.import_module(name)
        except ImportError:  # moved in another Optuna: it is imported under the lock then, which is only slower
            pass


def retried(action: Any, wait: float = BUSY_S) -> Any:
    """``action()``, tried again for up to ``wait`` seconds while SQLite says another process holds the
    database (some statements are refused at once, without the busy timeout: switching the journal to WAL,
    a read turned write) or that a table another process made a moment ago already exists."""
    deadline = time.monotonic() + wait
    delay = 0.005
    while True:
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 - re-raised unless it is one of SQLite's transient refusals
            if not transient(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it: Optuna wraps SQLAlchemy's errors) is a refusal that passes."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 8:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    text = " ".join(str(e) for e in seen).lower()
    return any(s in text for s in ("database is locked", "database table is locked", "database is busy",
                                   "already exists", "unique constraint failed: alembic_version",
                                   "unique constraint failed: version_info"))


class Busy(Exception):
    """A lock that another process holds."""


@contextlib.contextmanager
def file_lock(path: str, wait: float, what: str):
    """An exclusive lock on the file ``path`` (made if missing) between processes, released when the block
    ends or the process dies; :class:`Busy` if another process holds it for ``wait`` seconds."""
    handle = open(path, "a+b")  # noqa: SIM115 - closed below
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(handle):
            if time.monotonic() >= deadline:
                raise Busy(f"another mlcli process is using {what}")
            time.sleep(0.02)
        try:
            yield
        finally:
            _unlock(handle)
    finally:
        handle.close()


def _try_lock(handle: Any) -> bool:
    try:
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle: Any) -> None:
    if os.name == "nt":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def study_names(path: str) -> list[str]:
    """The studies kept in ``path`` ([] when there is no such file)."""
    if not Path(path).is_file():
        return []
    import optuna

    try:
        return optuna.get_all_study_names(_storage(path))
    except Exception as exc:  # noqa: BLE001 - not a database, a newer schema, unreadable ...
        raise _unreadable(path, exc) from None


def load_trials(path: str, name: str) -> list[Any] | None:
    """The finished trials of study ``name`` in number order, or None when it is not kept."""
    if not Path(path).is_file():
        return None
    import optuna

    try:
        study = optuna.load_study(study_name=name, storage=_storage(path))
        trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    except KeyError:
        return None
    except Exception as exc:  # noqa: BLE001
        raise _unreadable(path, exc) from None
    return [replace_number(unpacked(t), t.number) for t in trials]


def _unreadable(path: str, exc: Exception) -> ConfigError:
    return ConfigError(f"--resume: the kept searches in {path} cannot be read ({first_line(exc, with_type=True)}); "
                       "move the file away to start afresh")


def replace_number(trial: Any, number: int) -> Any:
    trial.number = number
    return trial


def frozen(trial: Any, row: dict[str, Any]) -> Any:
    """The finished in-memory ``trial`` as a trial to store: its state, its value and one attribute holding
    the rest (parameters with their distributions, the values reported after each fold, the row). One row
    per trial instead of one per parameter and per fold: a trial is stored in ~4 ms instead of ~15-30 ms."""
    import optuna
    from optuna.distributions import distribution_to_json
    from optuna.trial import TrialState

    state = trial.state if trial.state.is_finished() else TrialState.FAIL
    packed = {"params": trial.params,
              "distributions": {k: distribution_to_json(d) for k, d in trial.distributions.items()},
              "steps": [[step, value] for step, value in trial.intermediate_values.items()],
              "user": trial.user_attrs, "row": row}
    return optuna.trial.create_trial(state=state, value=trial.value if state == TrialState.COMPLETE else None,
                                     user_attrs={ROW_ATTR: packed})


def unpacked(trial: Any) -> Any:
    """A stored trial (:func:`frozen`) as the search ran it: parameters, fold values, attributes, its row."""
    import optuna
    from optuna.distributions import json_to_distribution

    packed = trial.user_attrs.get(ROW_ATTR) or {}
    return optuna.trial.create_trial(
        state=trial.state, value=trial.value, params=packed.get("params", {}),
        distributions={k: json_to_distribution(d) for k, d in packed.get("distributions", {}).items()},
        intermediate_values={int(step): value for step, value in packed.get("steps", [])},
        user_attrs={**packed.get("user", {}), ROW_ATTR: packed.get("row", {})})


class StudyWriter:
    """Adds trials to the stored study ``name`` from a thread of its own; :meth:`close` waits for it."""

    def __init__(self, path: str, name: str, direction: str, fresh: bool):
        self.queue: queue.Queue[Any] = queue.Queue()
        self.error = ""
        self.thread = threading.Thread(target=self._run, args=(path, name, direction, fresh), daemon=True,
                                       name="mlcli-study-writer")
        self.thread.start()

    def put(self, trial: Any) -> None:
        self.queue.put(trial)

    def close(self, wait: float = 60.0) -> str:
        self.queue.put(None)
        self.thread.join(wait)
        if self.thread.is_alive():
            return "the study is still being written"
        return self.error

    def _run(self, path: str, name: str, direction: str, fresh: bool) -> None:
        try:
            storage = _storage(path)
            lock = predictions_path(path, name).with_suffix(".lock")
            lock.parent.mkdir(parents=True, exist_ok=True)
            with file_lock(str(lock), wait=0.0, what=f"search {name} (the same data, folds, model and space) "
                                                     "at this moment"):
                self._write(storage, name, direction, fresh)
        except Exception as exc:  # noqa: BLE001 - keeping the study must never fail the search
            self.error = str(exc) if isinstance(exc, Busy) else first_line(exc, with_type=True)
            while self.queue.get() is not None:  # let close() return
                pass

    def _write(self, storage: Any, name: str, direction: str, fresh: bool) -> None:
        import optuna

        if fresh:  # a new search replaces the study of its name
            try:
                retried(lambda: optuna.delete_study(study_name=name, storage=storage))
            except KeyError:
                pass
        study = retried(lambda: optuna.create_study(storage=storage, study_name=name, direction=direction,
                                                    load_if_exists=True))
        while (trial := self.queue.get()) is not None:
            retried(lambda: study.add_trial(trial))  # noqa: B023 - called at once, in this iteration


# --------------------------------------------------------------------------------------------- predictions

def predictions_path(path: str, name: str) -> Path:
    return Path(path).parent / "studies" / f"{name}.npz"


def save_predictions(path: str, name: str, outputs: dict[int, dict[int, Any]]) -> None:
    """Keep the fold predictions of some trials (trial -> split -> FoldResult) beside study ``name``."""
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {}
    for number, folds in outputs.items():
        for si, res in folds.items():
            key = f"t{number}_s{si}"
            for part in ("pred", "proba"):
                if getattr(res, part) is not None:
                    arrays[f"{key}_{part}"] = np.asarray(getattr(res, part))
            meta[key] = {"fit_s": res.fit_s, "predict_s": res.predict_s, "rounds": res.rounds}
    target = predictions_path(path, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp.npz")  # one per writer
    np.savez(tmp, meta=np.array(json.dumps(meta)), **arrays)
    tmp.replace(target)


def load_predictions(path: str, name: str) -> dict[str, Any]:
    """``{"meta": {key: {...}}, key_part: array}`` as saved, or {} when there is none."""
    target = predictions_path(path, name)
    if not target.is_file():
        return {}
    with np.load(target, allow_pickle=False) as data:
        out: dict[str, Any] = {k: data[k] for k in data.files if k != "meta"}
        out["meta"] = json.loads(str(data["meta"])) if "meta" in data.files else {}
    return out

"""Run history: every train / cv / evaluate run in an embedded SQLite database.

The database lives in ``$MLCLI_HOME/history.db`` (default: the per-user data directory, e.g.
``~/.local/share/mlcli``). Each write is one transaction in WAL mode with a busy timeout, so a crash or
Ctrl-C never leaves a half-written record and two runs at once wait for each other instead of losing a
record. The schema version is kept in SQLite's ``user_version``; a database written by a newer mlcli is
refused and left untouched.

A run is inserted as ``running`` when it starts and updated when it ends (finished, failed or
interrupted); a ``running`` record whose process is gone (killed, power cut) reads as interrupted.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlcli.errors import MlcliError, redact_all

SCHEMA_VERSION = 1
DB_NAME = "history.db"
STUDIES_NAME = "studies.db"
BUSY_TIMEOUT_MS = 30_000
STATUSES = ("running", "finished", "failed", "interrupted")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command TEXT NOT NULL,
    command_line TEXT NOT NULL,
    status TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    duration REAL,
    data TEXT,
    data_fingerprint TEXT,
    seed INTEGER,
    model TEXT,
    task TEXT,
    target TEXT,
    main_metric TEXT,
    metrics TEXT,
    recipe TEXT,
    libraries TEXT,
    bundle TEXT,
    error TEXT,
    details TEXT,
    mlcli_version TEXT,
    pid INTEGER,
    host TEXT,
    cwd TEXT
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started);
"""
_JSON_FIELDS = ("metrics", "recipe", "libraries", "details")
_REDACTED = ("command_line", "recipe", "error", "data", "details")  # fields that may hold a URL with credentials
_FIELDS = ("command", "command_line", "status", "started", "finished", "duration", "data", "data_fingerprint",
           "seed", "model", "task", "target", "main_metric", "metrics", "recipe", "libraries", "bundle", "error",
           "details", "mlcli_version", "pid", "host", "cwd")


class HistoryError(MlcliError):
    """The run history database cannot be used (newer schema, not a database, unwritable)."""


def default_home() -> Path:
    """$MLCLI_HOME, else the per-user data directory of the platform."""
    env = os.environ.get("MLCLI_HOME")
    if env:
        return Path(os.path.expanduser(env))
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "mlcli"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "mlcli"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "mlcli"


def default_path() -> Path:
    return default_home() / DB_NAME


def studies_path() -> str | None:
    """Where tune and auto keep their searches for --resume (Optuna's RDB storage, beside the run history);
    None when the history is off."""
    return str(default_home() / STUDIES_NAME) if enabled() else None


def enabled() -> bool:
    """MLCLI_HISTORY=0 (or off/no/false) turns recording off."""
    return os.environ.get("MLCLI_HISTORY", "1").strip().lower() not in ("0", "off", "no", "false")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _header_version(path: Path) -> int | None:
    """The user_version in the file's header, read without opening it with SQLite (so nothing is touched)."""
    with open(path, "rb") as fh:
        head = fh.read(100)
    if len(head) == 0:
        return None  # an empty file: SQLite treats it as a new database
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        raise HistoryError(f"{path} is not an mlcli run history (not an SQLite database); move it away or set "
                           "MLCLI_HOME to another directory")
    return int.from_bytes(head[60:64], "big")


def _newer(path: Path, version: int) -> HistoryError:
    return HistoryError(f"run history {path} was written by a newer mlcli (history schema {version}, this mlcli "
                        f"reads up to {SCHEMA_VERSION}); upgrade mlcli, or set MLCLI_HOME to use another history; "
                        "the file was left untouched")


class History:
    """The run history database. Use as a context manager or call close()."""

    def __init__(self, path: str | Path | None = None, create: bool = True):
        self.path = Path(path) if path is not None else default_path()
        self.conn: sqlite3.Connection | None = None
        self._open(create)

    # ---------------------------------------------------------------- opening and migrating
    def _open(self, create: bool) -> None:
        exists = self.path.exists()
        if exists:
            if self.path.is_dir():
                raise HistoryError(f"run history {self.path} is a directory, not a database file")
            version = _header_version(self.path)
            if version is not None and version > SCHEMA_VERSION:
                raise _newer(self.path, version)
        elif not create:
            self.conn = None
            return
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise HistoryError(f"cannot create the run history folder {self.path.parent}: "
                                   f"{exc.strerror or exc}") from None
        try:
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open the run history {self.path}: {exc}") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]  # a read: changes nothing
            if version > SCHEMA_VERSION:  # the header check above can miss a change still in the WAL
                raise _newer(self.path, version)
            if version < SCHEMA_VERSION:
                self._check_foreign(conn)
            _when_unlocked(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = NORMAL")
            if version < SCHEMA_VERSION:
                self._migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise HistoryError(f"run history {self.path} cannot be used: {exc}; move it away or set MLCLI_HOME "
                               "to another directory") from None
        except BaseException:
            conn.close()
            raise
        self.conn = conn

    def _check_foreign(self, conn: sqlite3.Connection) -> None:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        foreign = tables - {"runs", "sqlite_sequence"}
        if foreign:
            raise HistoryError(f"{self.path} is an SQLite database but not an mlcli run history (it has tables "
                               f"{', '.join(sorted(foreign))}); move it away or set MLCLI_HOME to another directory")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")  # one writer at a time: two first runs do not both create the table
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise _newer(self.path, version)
            if version < 1:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            # future versions: `if version < 2: ALTER TABLE ...`
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---------------------------------------------------------------- writing
    def _write(self, sql: str, args: tuple) -> sqlite3.Cursor:
        assert self.conn is not None
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                cur = self.conn.execute(sql, args)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot write to the run history {self.path}: {exc}") from None
        return cur

    def start(self, command: str, command_line: str, **fields: Any) -> int:
        """Insert a run as ``running``; returns its id."""
        row = {"command": command, "command_line": command_line, "status": "running", "started": now(),
               "pid": os.getpid(), "host": socket.gethostname(), "cwd": os.getcwd(), **fields}
        names = [f for f in _FIELDS if f in row]
        cur = self._write(f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                          tuple(_store(f, row[f]) for f in names))
        return int(cur.lastrowid)

    def finish(self, run_id: int, status: str, **fields: Any) -> None:
        """Set a run's final status and what it produced (metrics, bundle ...)."""
        if status not in STATUSES:
            raise ValueError(status)
        row = {"status": status, "finished": now(), **fields}
        names = [f for f in _FIELDS if f in row]
        self._write(f"UPDATE runs SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
                    (*(_store(f, row[f]) for f in names), run_id))

    # ---------------------------------------------------------------- reading
    def _rows(self, sql: str, args: tuple = ()) -> list[dict[str, Any]]:
        if self.conn is None:
            return []
        try:
            cur = self.conn.execute(sql, args)
            cols = [d[0] for d in cur.description]
            return [_load(dict(zip(cols, r))) for r in cur.fetchall()]
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot read the run history {self.path}: {exc}") from None

    def list(self, limit: int | None = None, command: str | None = None, status: str | None = None,
             model: str | None = None) -> list[dict[str, Any]]:
        """Runs, newest first (status filtering sees a dead ``running`` run as interrupted)."""
        where, args = [], []
        if command:
            where.append("command = ?")
            args.append(command)
        if model:
            where.append("model = ?")
            args.append(model)
        sql = "SELECT * FROM runs" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id DESC"
        if limit is not None and not status:
            sql += f" LIMIT {int(limit)}"
        rows = self._rows(sql, tuple(args))
        if status:
            rows = [r for r in rows if r["status"] == status]
            rows = rows[:limit] if limit is not None else rows
        return rows

    def get(self, run_id: int) -> dict[str, Any]:
        rows = self._rows("SELECT * FROM runs WHERE id = ?", (int(run_id),))
        if not rows:
            top = self.conn.execute("SELECT MAX(id) FROM runs").fetchone()[0] if self.conn is not None else None
            known = f"ids go from 1 to {top}" if top else "no run is recorded yet"
            raise HistoryError(f"run {run_id} not found in the run history ({known}); list them with: mlcli runs list")
        return rows[0]


def _when_unlocked(statement: Any, wait_s: float = BUSY_TIMEOUT_MS / 1000) -> Any:
    """Run a statement that SQLite refuses at once, without its busy handler, while another connection holds a
    lock (switching a new database to WAL while a second process opens it too): retry for up to ``wait_s``."""
    import time

    deadline = time.monotonic() + wait_s
    delay = 0.005
    while True:
        try:
            return statement()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def _store(name: str, value: Any) -> Any:
    if name in _REDACTED:  # a tracking URI's password or token is never stored
        value = redact_all(value)
    if name in _JSON_FIELDS and value is not None:
        return json.dumps(value, default=str)
    return value


def _load(row: dict[str, Any]) -> dict[str, Any]:
    for name in _JSON_FIELDS:
        if row.get(name) is not None:
            try:
                row[name] = json.loads(row[name])
            except (TypeError, ValueError):
                pass
    for name in _REDACTED:  # and never shown, even from a record an older mlcli wrote
        if row.get(name) is not None:
            row[name] = redact_all(row[name])
    details = row.pop("details", None) or {}
    row.update({k: v for k, v in details.items() if k not in row})
    if row["status"] == "running" and not _alive(row.get("pid"), row.get("host")):
        row["status"] = "interrupted"
    return row


def _alive(pid: int | None, host: str | None) -> bool:
    if not pid or host != socket.gethostname():
        return True  # another machine's run: cannot tell, so believe the record
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True

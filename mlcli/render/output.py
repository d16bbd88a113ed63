"""Where output goes: data on stdout (table on a terminal, JSON/CSV when piped), chatter on stderr."""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.text import Text

from mlcli.errors import ConfigError, redact


def stdout_console(width: int | None = None) -> Console:
    return Console(file=sys.stdout, width=width, soft_wrap=False)


def stderr_console() -> Console:
    return Console(file=sys.stderr, stderr=True)


def resolve_format(fmt: str | None, rows: bool = False) -> str:
    """table on a terminal; JSON for reports and CSV for row tables when stdout is not a terminal."""
    if fmt:
        return fmt
    if sys.stdout.isatty():
        return "table"
    return "csv" if rows else "json"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return _finite(value.item())
        except (ValueError, AttributeError):
            return str(value)
    return value


def write_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(_finite(doc), indent=2, default=str) + "\n")
    sys.stdout.flush()


def write_rows(frame: Any, fmt: str, path: str | None = None) -> None:
    """A pandas DataFrame of rows as CSV or JSON records, to a file or stdout."""
    if fmt == "json":
        text = frame.to_json(orient="records", indent=None, force_ascii=False) + "\n"
    else:
        text = frame.to_csv(index=False)
    if path:
        atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


HANG = "  "  # the indent of a notice's continuation lines on a terminal


def wrap_notice(text: str, width: int) -> str:
    """``text`` broken at spaces into lines of at most ``width`` characters, continuation lines indented: a word
    longer than a line (a path, a URL) stays whole on a line of its own rather than being cut."""
    import textwrap

    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines += textwrap.wrap(paragraph, max(width, 20), subsequent_indent=HANG, break_long_words=False,
                               break_on_hyphens=False) or [""]
    return "\n".join(lines)


def wrapped_for(console: Console, text: str) -> str:
    """``text`` as :func:`wrap_notice` wraps it when ``console`` is a terminal; as it is otherwise."""
    return wrap_notice(text, console.width) if console.is_terminal else text


class Notifier:
    """Notices on stderr, silenced by --quiet. Messages are plain text: paths and install lines such as
    'mlcli[text]' hold brackets that are printed as they are, never read as Rich markup.

    On a terminal a notice is wrapped between words at the terminal's width (the terminal itself would cut words
    in two); piped or redirected, each notice stays one line, whatever its length, for grep and logs."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = stderr_console()
        return self._console

    def __call__(self, message: str) -> None:
        self._print("mlcli:", "dim", message)

    def warn(self, message: str) -> None:
        self._print("mlcli: warning:", "yellow", message)

    def _print(self, prefix: str, style: str, message: str) -> None:
        if self.quiet:
            return
        text = wrapped_for(self.console, f"{prefix} {redact(message)}")
        self.console.print(Text.assemble((prefix, style), text[len(prefix):]), highlight=False, soft_wrap=True)


def library_chatter_to_stderr():
    """Send anything a library prints while working to stderr, so stdout holds only mlcli's data."""
    import contextlib

    return contextlib.redirect_stdout(sys.stderr)


def write_table_file(frame: Any, path: str) -> None:
    """Write rows to a file chosen by extension (.parquet, .jsonl/.json, else CSV), atomically."""
    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        atomic_write(path, lambda fh: frame.to_parquet(fh, index=False))
    elif suffix in (".jsonl", ".json", ".ndjson"):
        atomic_write(path, lambda fh: fh.write(frame.to_json(orient="records", lines=True, force_ascii=False)
                                               .encode("utf-8")))
    else:
        atomic_write(path, lambda fh: fh.write(frame.to_csv(index=False, sep="\t" if suffix == ".tsv" else ",")
                                               .encode("utf-8")))


def check_output_file(path: str | None, flag: str, example: str = "out.csv") -> None:
    """Refuse an output file that cannot be written, before any work is done: a directory, something that is
    not a regular file (a device, a FIFO), a folder that does not exist or that this user cannot write in."""
    if not path:
        return
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"{flag} {path} is a directory; give a file name, e.g. {target / example}")
    if target.exists() and not target.is_file():
        raise ConfigError(f"{flag} {path} exists and is not a regular file; give the name of a file to write")
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(f"{flag} {path}: directory {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {path}: cannot write in directory {folder} (permission denied); choose another "
                          "place")


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], Any]) -> None:
    """Write a file all at once or not at all: ``write(fh)`` fills a temporary file created exclusively, with a
    unique name, in the same folder (never through a symlink planted there), which then replaces ``path``;
    on any error or interrupt the temporary file is removed and ``path`` is left as it was."""
    target = Path(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from exc
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o666 & ~_umask())  # mkstemp makes it private; give it the usual permissions
            write(fh)
        os.replace(tmp, target)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask

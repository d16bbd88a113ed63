"""Where output goes: data on stdout (table on a terminal, JSON/CSV when piped), chatter on stderr."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape


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
        from pathlib import Path

        tmp = Path(path).with_name(f".{Path(path).name}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


class Notifier:
    """Notices on stderr, silenced by --quiet. Messages are plain text: paths and install lines such as
    'mlcli[text]' hold brackets that are printed as they are, never read as Rich markup."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = stderr_console()
        return self._console

    def __call__(self, message: str) -> None:
        if not self.quiet:
            self.console.print(f"[dim]mlcli:[/dim] {escape(message)}", highlight=False, markup=True, soft_wrap=True)

    def warn(self, message: str) -> None:
        if not self.quiet:
            self.console.print(f"[yellow]mlcli: warning:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)


def library_chatter_to_stderr():
    """Send anything a library prints while working to stderr, so stdout holds only mlcli's data."""
    import contextlib

    return contextlib.redirect_stdout(sys.stderr)


def write_table_file(frame: Any, path: str) -> None:
    """Write rows to a file chosen by extension (.parquet, .jsonl/.json, else CSV), atomically."""
    from pathlib import Path

    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    suffix = target.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame.to_parquet(tmp, index=False)
    elif suffix in (".jsonl", ".json", ".ndjson"):
        frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_csv(tmp, index=False, sep="\t" if suffix == ".tsv" else ",")
    tmp.replace(target)

"""Error types and the exit codes they map to (DESIGN §2).

Everything the user can fix is an :class:`MlcliError` subclass with exit code 2; the CLI's single error
boundary (``mlcli.cli.app``) turns it into one line on stderr. Anything else is an internal error (exit 1).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (128 + 15)


class MlcliError(Exception):
    """A problem with the user's input; the message is one actionable sentence."""

    exit_code = EXIT_USAGE


class DataError(MlcliError):
    """The data file cannot be used as given (missing, empty, wrong columns, bad target ...)."""


class ConfigError(MlcliError):
    """An option or parameter is wrong (unknown model, bad --param, ...)."""


class SchemaError(DataError):
    """New data does not match the schema stored in a model bundle."""


class BundleError(MlcliError):
    """A path is not a readable mlcli model bundle."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be: every clean-up a KeyboardInterrupt runs (the bundle writer's
    temporary directory, the output files' temporary files, cv's workers) runs for it too; exit code 143."""


class MissingDependency(MlcliError):
    """An optional library is not installed; the message carries the install line."""

    def __init__(self, package: str, purpose: str, extra: str | None = None):
        install = f"pip install 'mlcli[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{purpose} needs the '{package}' package, which is not installed: run {install}")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when nothing is close."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean '{lowered[close[0]]}'?)" if close else ""


def quote_list(items: Iterable[str], limit: int = 12) -> str:
    items = list(items)
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(message: object) -> str:
    """A message on one line: every run of whitespace (newlines included) becomes one space, and any other
    control character (a NUL, an escape sequence from a file name) is shown as its code, never sent raw to a
    terminal."""
    text = " ".join(str(message).split())
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def first_line(exc: BaseException, *, with_type: bool = False) -> str:
    """The first line of an exception's message (libraries often add pages of detail), or its type's name."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    if with_type:
        return f"{type(exc).__name__}: {line}" if line else type(exc).__name__
    return line or type(exc).__name__


# scheme://user:password@host -> scheme://user:***@host (a password may hold ':' or '/', never '@' or a blank;
# 'scheme:/user:...' too: what a URL becomes once it has been through a file-path normalisation)
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*:/{1,2}[^\s/@:?#]*):[^\s@]*@")
# ?token=..., &password=..., api_key=..., access_token=..., secret=...
_QUERY_SECRET = re.compile(r"(?P<head>[?&;][^=&\s#]*?(?:token|password|passwd|pwd|secret|api[_-]?key)"
                           r"[^=&\s#]*=)[^&;\s#]*", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the credentials of any URL in it replaced by ``***``: the password of
    ``scheme://user:password@host`` and the value of a ``token=`` / ``password=`` / ``secret=`` / ``api_key=``
    query parameter. Used wherever a command line, recipe, notice or error may hold a tracking URI."""
    if ":/" not in text and "=" not in text:
        return text
    return _QUERY_SECRET.sub(r"\g<head>***", _URL_PASSWORD.sub(r"\g<head>:***@", text))


def redact_all(value: object) -> object:
    """:func:`redact` applied to every string in a JSON-like value (dicts, lists), e.g. a recipe."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_all(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_all(v) for v in value]
    return value

"""Where library functions send what they have to say: a ``Notify`` (the CLI's goes to stderr, silenced by
--quiet), and warnings through it."""

from __future__ import annotations

from collections.abc import Callable

Notify = Callable[[str], None]


def quiet(_: str) -> None:
    """A Notify that says nothing."""


def warn(notify: Notify, message: str) -> None:
    """A warning through ``notify``: its ``warn`` when it has one (the CLI's Notifier), else as a notice."""
    if hasattr(notify, "warn"):
        notify.warn(message)
    else:
        notify(f"warning: {message}")

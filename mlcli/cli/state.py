"""Process-wide CLI settings set by option callbacks (--debug, --quiet)."""

from __future__ import annotations

import os


class State:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.debug = os.environ.get("MLCLI_DEBUG", "") not in ("", "0")
        self.quiet = False


state = State()

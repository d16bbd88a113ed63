"""Process-wide CLI settings set by option callbacks (--debug, --quiet), and whether SIGTERM arrived."""

from __future__ import annotations

import os


class State:
    def __init__(self) -> None:
        self.terminated = False  # set by the SIGTERM handler (mlcli.cli.app); not reset per command
        self.reset()

    def reset(self) -> None:
        self.debug = os.environ.get("MLCLI_DEBUG", "") not in ("", "0")
        self.quiet = False


state = State()

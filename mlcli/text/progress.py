"""A small progress line on stderr (no Rich: the estimators stay free of the render layer).

On a terminal the line is redrawn in place; otherwise a line is written at most every ``interval``
seconds and at the end, so logs stay short.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """``update(n, **fields)`` after each unit of work; ``close()`` at the end. Disabled: does nothing."""

    def __init__(self, total: int, label: str, unit: str = "steps", enabled: bool = True,
                 stream: TextIO | None = None, interval: float | None = None):
        self.total = max(int(total), 0)  # 0: unknown (a stream); the line shows a count and a rate
        self.label = label
        self.unit = unit
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.2 if self.tty else 15.0)
        self.done = 0
        self.fields: dict[str, Any] = {}
        self.start = time.perf_counter()
        self._last = 0.0
        self._width = 0
        self._shown = -1

    def update(self, n: int = 1, **fields: Any) -> None:
        self.done += n
        self.fields.update(fields)
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last >= self.interval or (self.total and self.done >= self.total):
            self._last = now
            self._write(self.line(now))

    def line(self, now: float | None = None, final: bool = False) -> str:
        elapsed = (now or time.perf_counter()) - self.start
        if self.total:
            share = min(self.done / self.total, 1.0)
            parts = [f"mlcli: {self.label} [{'#' * int(share * 20):<20}] {share:4.0%} {self.done}/{self.total} "
                     f"{self.unit}"]
        else:
            parts = [f"mlcli: {self.label} {self.done} {self.unit}",
                     f"{self.done / elapsed if elapsed > 0 else 0:.1f} {self.unit}/s"]
        for key, value in self.fields.items():
            parts.append(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}")
        if self.total and self.done < self.total and not final:
            if self.done:
                parts.append(f"ETA {_clock(elapsed / self.done * (self.total - self.done))}")
        elif final or self.total:
            parts.append(f"took {_clock(elapsed)}")
        return "  ".join(parts)

    def _write(self, text: str) -> None:
        self._shown = self.done
        try:
            if self.tty:
                pad = max(self._width - len(text), 0)
                self.stream.write("\r" + text + " " * pad)
                self._width = len(text)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False

    def close(self) -> None:
        if not self.enabled:
            return
        if self._shown != self.done or not self.total:
            self._write(self.line(final=True))
        if self.tty:
            try:
                self.stream.write("\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass
        self.enabled = False

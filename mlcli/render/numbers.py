"""How numbers and shares read in every table: one place, so a column of RMSEs and a column of AUCs each look right.

A score below 10 (AUC, accuracy, R², log loss) keeps ``digits`` decimals (4 by default), so a column of them lines
up and a difference in the fourth decimal stays visible. A larger one keeps 4 significant digits and no more, with
thousands separators: ``4,651 ± 297``, not ``4650.7142 ± 296.7401``. Pass ``scale`` (the largest magnitude in the
column, see :func:`scale_of`) so every cell of a column gets the same number of decimals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

SIGNIFICANT = 4  # digits kept for numbers of 10 and more


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def scale_of(values: Iterable[Any]) -> float:
    """The largest finite magnitude among ``values`` (None and non-numbers ignored); 0.0 when there is none."""
    return max((abs(float(v)) for v in values if _is_real(v) and math.isfinite(v)), default=0.0)


def decimals(magnitude: float, digits: int = 4) -> int:
    """Decimals for a number of this size: ``digits`` below 10, else what keeps 4 significant digits (never more
    than ``digits``): 12.35, 465.1, 4,651, 46,507."""
    if not math.isfinite(magnitude) or magnitude < 10:
        return digits
    whole = int(math.floor(math.log10(magnitude))) + 1
    return max(0, min(digits, SIGNIFICANT - whole))


def _fixed(value: float, places: int, tiny_as_exponent: bool = True) -> str:
    if tiny_as_exponent and places > 0 and value != 0 and abs(value) < 0.5 * 10.0 ** -places:
        return f"{value:.1e}"  # would read 0.0000: two significant digits instead
    text = f"{value:,.{places}f}"
    return text[1:] if text.startswith("-") and float(text[1:].replace(",", "")) == 0 else text


def fmt_num(value: Any, digits: int = 4, *, scale: float | None = None) -> str:
    """A number for a table cell: '—' for None, ints as they are, floats as the module docstring says."""
    if value is None:
        return "—"
    if not isinstance(value, float):
        return str(value)
    if not math.isfinite(value):
        return f"{value}"
    size = max(abs(value), scale or 0.0)
    # a tiny value alone reads as 1.2e-05; in a column of larger ones it reads 0.0000 like its neighbours' decimals
    return _fixed(value, decimals(size, digits), tiny_as_exponent=size == abs(value))


def fmt_signed(value: Any, digits: int = 4, *, scale: float | None = None) -> str:
    """:func:`fmt_num` with its sign shown: '+0.0145', '-312', '+4,651' (a change, a contribution); a value that
    reads as zero has none."""
    text = fmt_num(value, digits, scale=scale)
    if text.startswith("-") or not isinstance(value, float) or not math.isfinite(value):
        return text
    return text if float(text.replace(",", "")) == 0 else "+" + text


def mean_std(mean: Any, std: Any, digits: int = 4, *, scale: float | None = None) -> str:
    """'0.8612 ± 0.0213', '4,651 ± 297': the spread with the mean's decimals (the larger of the two decides)."""
    if mean is None:
        return "—"
    if std is None or not _is_real(std):
        return fmt_num(mean, digits, scale=scale)
    size = scale_of([mean, std, scale])
    return f"{fmt_num(float(mean), digits, scale=size)} ± {fmt_num(float(std), digits, scale=size)}"


def fmt_share(fraction: Any, places: int = 0) -> str:
    """A share as a percentage that never rounds a real share away: '<1%' and '>99%' where '0%' or '100%' would
    hide that some, or not all, rows are counted ('<0.1%' and '>99.9%' with one decimal)."""
    if fraction is None:
        return "—"
    value = float(fraction)
    text = f"{value:.{places}%}"
    shown = float(text[:-1])
    if value > 0 and shown == 0:
        return f"<{10.0 ** -places:.{places}f}%"
    if value < 1 and shown >= 100:
        return f">{100 - 10.0 ** -places:.{places}f}%"
    return text[1:] if text.startswith("-") and shown == 0 else text

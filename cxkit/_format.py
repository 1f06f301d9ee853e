"""Numbers in words for readers: durations in the unit their size calls for, percentages,
counts. Never ``nan``, ``inf`` or ``NaT``: what is not known says so.

>>> duration_text(0.0104)   # days
'15 minutes'
>>> duration_text(46)
'46 days'
>>> duration_text(400)
'13 months'
>>> pct_text(12.345), count_text(1234567.0)
('12.3%', '1,234,567')
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = [
    "duration_text",
    "pct_text",
    "count_text",
    "number_text",
    "money_text",
    "is_known",
    "UNKNOWN",
]

#: What a reader sees where a number is not known.
UNKNOWN = "not known"

_UNITS = (  # (name, length in days, use while the value is below this many days)
    ("second", 1 / 86_400, 2 / 1_440),
    ("minute", 1 / 1_440, 2 / 24),
    ("hour", 1 / 24, 3),
    ("day", 1, 61),
    ("week", 7, 0),  # weeks are only used when asked for
    ("month", 365.25 / 12, 730.5),
    ("year", 365.25, math.inf),
)


def is_known(value):
    """False for None, NaN, NaT and infinities."""
    if value is None:
        return False
    try:
        if pd.isna(value):
            return False
    except (TypeError, ValueError):
        return True
    return not (isinstance(value, float) and math.isinf(value))


def _days(value):
    if isinstance(value, pd.Timedelta | __import__("datetime").timedelta):
        return pd.Timedelta(value) / pd.Timedelta(days=1)
    if isinstance(value, str):
        return pd.Timedelta(value) / pd.Timedelta(days=1)
    return float(value)


def duration_text(value, *, unit=None, digits=0):
    """A duration (days as a number, or a Timedelta / ``"36h"``) in the unit its size calls for:
    seconds, minutes, hours, days, months or years; ``unit=`` forces one ("hour", "week" …).
    Infinite or missing durations read as ``"not known"``."""
    if not is_known(value):
        return UNKNOWN
    days = _days(value)
    if not math.isfinite(days):
        return UNKNOWN
    if unit is None:
        name, length = next((n, ln) for n, ln, below in _UNITS if abs(days) < below)
    else:
        name, length = next(((n, ln) for n, ln, _ in _UNITS if n == unit.rstrip("s")), (None, 0))
        if name is None:
            raise ValueError(f"unit must be one of {[u[0] for u in _UNITS]}, got {unit!r}")
    amount = round(days / length, digits)
    text = f"{amount:,.{digits}f}"
    plural = "" if amount == 1 else "s"
    return f"{text} {name}{plural}"


def pct_text(value, digits=1):
    """A percentage (already ×100) as text: ``12.3%``; unknown as ``"not known"``."""
    if not is_known(value):
        return UNKNOWN
    return f"{float(value):,.{digits}f}%"


def count_text(value):
    """A whole number of people or rows with thousands separators."""
    if not is_known(value):
        return UNKNOWN
    return f"{int(round(float(value))):,}"


def number_text(value, digits=1):
    """Any number with thousands separators and ``digits`` decimals."""
    if not is_known(value):
        return UNKNOWN
    return f"{float(value):,.{digits}f}"


def money_text(value, currency=None):
    """An amount of money with its currency after it: ``1,234 EUR``, ``0.50 EUR`` (cents
    only below 100 and when there are some), ``1,234`` when the data spec names no currency.

    >>> money_text(184526.4, "EUR"), money_text(0.5, "USD"), money_text(5, "")
    ('184,526 EUR', '0.50 USD', '5')
    """
    if not is_known(value):
        return UNKNOWN
    v = float(value)
    text = f"{v:,.2f}" if abs(v) < 100 and not v.is_integer() else f"{v:,.0f}"
    return f"{text} {currency}" if currency else text

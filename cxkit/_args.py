"""Checks of common arguments at the boundary: durations and moments in time."""

from __future__ import annotations

import numbers

import pandas as pd

from .data import DataError


def duration(value, argument, source, *, allow_zero=False):
    """A positive ``Timedelta`` from ``"14D"``, ``"36h"``, a Timedelta or a timedelta.

    A bare number is refused: pandas would read ``14`` as 14 nanoseconds, which silently turns
    a 14-day window into nothing.

    >>> duration("14D", "window", "funnel()")
    Timedelta('14 days 00:00:00')
    """
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        raise DataError(
            f"{source}({argument}=...)",
            [
                {
                    "column": argument,
                    "expected": f"a duration with a unit, e.g. '{value}D' for "
                    f"{value} days or '{value}h' for hours; got the bare number {value!r}",
                }
            ],
        )
    try:
        td = pd.Timedelta(value)
    except (ValueError, TypeError):
        td = pd.NaT
    if pd.isna(td) or td < pd.Timedelta(0) or (td == pd.Timedelta(0) and not allow_zero):
        raise DataError(
            f"{source}({argument}=...)",
            [
                {
                    "column": argument,
                    "expected": "a positive duration such as '14D', '36h' or "
                    f"'90min'; got {value!r}",
                }
            ],
        )
    return td


def moment(value, argument, source):
    """A naive-UTC ``Timestamp`` from a date string, Timestamp or datetime (aware → UTC).

    >>> moment("2025-06-30", "observed_at", "funnel()")
    Timestamp('2025-06-30 00:00:00')
    """
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        raise DataError(
            f"{source}({argument}=...)",
            [
                {
                    "column": argument,
                    "expected": f"a date or timestamp such as '2025-06-30'; got "
                    f"the number {value!r} (it would be read as nanoseconds after 1970)",
                }
            ],
        )
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = pd.NaT
    if pd.isna(ts):
        raise DataError(
            f"{source}({argument}=...)",
            [
                {
                    "column": argument,
                    "expected": f"a date or timestamp such as '2025-06-30'; got {value!r}",
                }
            ],
        )
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts

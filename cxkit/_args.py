"""Checks of common arguments at the boundary: columns, durations, moments in time, finite numbers."""

from __future__ import annotations

import numbers

import pandas as pd

from .data import DataError


def require_columns(table, columns, source, *, hint=None):
    """Raise a :class:`DataError` naming each of ``columns`` that ``table`` lacks.

    >>> require_columns(pd.DataFrame({"a": [1]}), ["a"], "f()")  # nothing missing: no error
    """
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(
            source,
            [{"column": c, "expected": "required column is missing"} for c in missing],
            columns=table.columns,
            hint=hint,
        )


def duration(value, argument, source, *, allow_zero=False):
    """A positive ``Timedelta`` from ``"14D"``, ``"36h"``, a Timedelta or a timedelta.

    A bare number is refused: pandas would read ``14`` as 14 nanoseconds, which silently turns
    a 14-day window into nothing.

    >>> duration("14D", "window", "funnel()")
    Timedelta('14 days 00:00:00')
    """
    given = value
    if isinstance(value, str):  # "60" is a number too: pandas would read it as 60 ns
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, numbers.Number) and not isinstance(value, bool) and value == value:
        raise DataError(
            f"{source}({argument}=...)",
            [
                {
                    "column": argument,
                    "expected": f"a duration with a unit, e.g. '{value:g}D' for "
                    f"{value:g} days or '{value:g}h' for hours; got the bare number {given!r}",
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


def observed_at_of(table, given, source):
    """The extraction moment for an analysis handed a single table: ``given``, else the one a
    loaded table carries in ``attrs["observed_at"]`` (set by ``read_journey``); None when
    neither says, so that the caller decides between refusing and a documented fallback.
    """
    value = given if given is not None else getattr(table, "attrs", {}).get("observed_at")
    return None if value is None else moment(value, "observed_at", source)


def jsonable(value):
    """``value`` with dates, durations, numpy scalars and tuples made JSON-serialisable.

    Result tables keep their notes in ``DataFrame.attrs``; pandas writes attrs into Parquet
    metadata with ``json.dumps``, so a Timestamp there makes ``to_parquet`` fail. Dates become
    ISO text, durations pandas' text (``"14 days 00:00:00"``; read back with
    ``pd.Timedelta``).

    >>> jsonable({"window": pd.Timedelta("14D"), "at": pd.Timestamp("2025-06-30"), "n": 3})
    {'window': '14 days 00:00:00', 'at': '2025-06-30T00:00:00', 'n': 3}
    """
    import datetime as dt

    import numpy as np

    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date, np.datetime64)):
        return None if pd.isna(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, (pd.Timedelta, dt.timedelta, np.timedelta64)):
        return None if pd.isna(value) else str(pd.Timedelta(value))
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def infinite_values(frame, columns):
    """The numeric ``columns`` of ``frame`` holding infinite values, as DataError problems
    (column, how many rows, up to five row labels); categorical and text columns are skipped.

    >>> import numpy as np, pandas as pd
    >>> infinite_values(pd.DataFrame({"r": [1.0, np.inf]}), ["r"])[0]["rows"]
    1
    """
    import numpy as np

    problems = []
    for c in columns:
        s = frame[c]
        if isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s):
            continue
        bad = np.isinf(s.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            problems.append(
                {
                    "column": c,
                    "expected": "finite numbers; some are infinite",
                    "rows": int(bad.sum()),
                    "examples": [str(i) for i in frame.index[bad][:5]],
                }
            )
    return problems

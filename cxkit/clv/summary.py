"""Frequency, recency, age and spend per buyer: the inputs of the repeat-buying (BTYD) models.

The convention is the one of Fader, Hardie & Lee and of the ``lifetimes`` and ``pymc-marketing``
libraries: a customer's purchases on one calendar day count as one; the first purchase starts
the relationship and is not counted; ``frequency`` is the number of later purchase days,
``recency`` the time from the first to the last purchase day, ``T`` the time from the first
purchase day to the day of ``observed_at``, all in ``time_unit``; ``monetary_value`` is the
mean amount of the repeat purchase days (a day's amounts summed), 0 without repeats.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._args import jsonable, observed_at_of, require_columns
from ..data import DataError, Journey
from ..engine.journey import is_engine

__all__ = ["clv_summary", "purchase_rule", "UNIT_DAYS"]

#: Length of each ``time_unit`` in days (a month is a twelfth of a year).
UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12, "Y": 365.25}

_SOURCE = "clv_summary()"


def _as_list(x):
    return [x] if isinstance(x, str) else list(x)


def purchase_rule(journey_or_events, event=None):
    """Which events are purchases, and in words why: ``(names or None, rule text)``.

    ``event=`` wins; else a non-contractual spec's ``[business] activity``; else every event
    with an amount (``value``); else the funnel's last step; else the events named like a
    purchase or an order (as for customers derived from events), sorted; else ``[]``.
    ``names`` None with a rule means "every event with an amount".
    """
    from ..data.journey import purchase_like

    events = journey_or_events
    spec = None
    if isinstance(journey_or_events, Journey):
        events, spec = journey_or_events.events, journey_or_events.spec
    if event is not None:
        return _as_list(event), "the events given"
    if spec is not None and spec.activity and spec.business_model == "non-contractual":
        return _as_list(spec.activity), "the spec's activity events"
    if "value" in events.columns and events["value"].notna().any():
        return None, "events with an amount"
    steps = (spec.funnel or {}).get("steps") if spec is not None else None
    if steps:
        last = list(steps.values())[-1] if isinstance(steps, dict) else steps[-1]
        return _as_list(last), "the funnel's last step"
    like = sorted(purchase_like(events["event"].dropna().unique())) if len(events) else []
    if like:
        return like, "events named like a purchase"
    return [], "no purchase events known"


def no_purchases(rule, names):
    """The DataError for a log with no purchase events by ``rule`` (both engines raise it)."""
    return DataError(
        _SOURCE,
        [
            {
                "column": "event",
                "expected": f"purchase events ({rule}"
                + (f": {names}" if names else "")
                + "); none found",
            }
        ],
        hint="name the purchase events with event='purchase', or give the events an "
        "amount column 'value'",
    )


def clv_summary(
    journey_or_events,
    observed_at=None,
    time_unit="W",
    *,
    event=None,
    value="value",
):
    """One row per buyer: ``frequency``, ``recency``, ``T`` and ``monetary_value``.

    Parameters
    ----------
    journey_or_events : Journey or DataFrame
        A Journey (its events, ``observed_at`` and spec) or an events table with
        ``customer_id``, ``timestamp``, ``event`` (and the amount column).
    observed_at : str or Timestamp, optional
        End of the observation. Default: the Journey's, else the table's
        ``attrs["observed_at"]``, else the latest purchase. Purchases after it are left out
        and counted in ``.attrs["excluded"]``.
    time_unit : {"W", "D", "M", "Y"}
        Unit of ``recency`` and ``T``: weeks (the published CDNOW convention), days, months
        (a twelfth of a year) or years. Purchases are grouped by calendar day whatever the unit.
    event : str or list of str, optional
        Which events are purchases. Default: the spec's ``[business] activity`` for a
        non-contractual business, else every event with an amount, else the funnel's last step,
        else the events named like a purchase or an order.
    value : str or None
        The amount column (``value``, the contract's revenue). None, or a table without it:
        ``monetary_value`` is left out (a frequency-only model).

    Returns
    -------
    DataFrame
        ``customer_id``, ``frequency`` (int), ``recency``, ``T``, ``monetary_value``; one row
        per customer with a purchase on or before ``observed_at``. ``.attrs`` holds
        ``observed_at``, ``time_unit``, ``purchases`` (the rule in words), ``excluded`` and
        ``missing_amounts`` (purchases without an amount: they count as purchases but not in
        the mean).

    Raises
    ------
    DataError
        No purchase event, no purchase on or before ``observed_at``, a missing column.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08",
    ...                                                  "2024-01-15", "2024-01-10"]),
    ...                     "event": "purchase", "value": [10.0, 20.0, 40.0, 5.0]})
    >>> clv_summary(log, observed_at="2024-01-29").round(2).to_dict("list")
    ... # doctest: +NORMALIZE_WHITESPACE
    {'customer_id': ['a', 'b'], 'frequency': [2, 0], 'recency': [2.0, 0.0],
     'T': [4.0, 2.71], 'monetary_value': [30.0, 0.0]}
    """
    if is_engine(journey_or_events):  # DuckDB, Spark, a warehouse: the same rules in Ibis
        from ..engine.clv import clv_summary as on_engine

        return on_engine(journey_or_events, observed_at, time_unit, event=event, value=value)
    if time_unit not in UNIT_DAYS:
        raise DataError(
            _SOURCE,
            [
                {
                    "column": "time_unit",
                    "expected": f"one of {sorted(UNIT_DAYS)}; got {time_unit!r}",
                }
            ],
        )
    events = journey_or_events
    origin = "given" if observed_at is not None else None
    if isinstance(journey_or_events, Journey):
        if observed_at is None:
            observed_at, origin = journey_or_events.observed_at, "the Journey's observed_at"
        events = journey_or_events.events
    if not isinstance(events, pd.DataFrame):
        raise DataError(
            _SOURCE,
            [
                {
                    "column": "journey_or_events",
                    "expected": "a cxkit.Journey or the events DataFrame; got "
                    f"{type(events).__name__}",
                }
            ],
        )
    require_columns(events, ["customer_id", "timestamp", "event"], _SOURCE)
    names, rule = purchase_rule(journey_or_events, event)
    has_value = value is not None and value in events.columns
    if value is not None and value != "value" and not has_value:
        raise DataError(
            _SOURCE,
            [{"column": value, "expected": "the amount column named by value= is missing"}],
            columns=events.columns,
            hint="value=None for a frequency-only summary",
        )
    if names is None:
        mask = events["value" if value is None else value].notna().to_numpy()
    else:
        mask = events["event"].isin(names).to_numpy()
    if not mask.any():
        raise no_purchases(rule, names)
    if origin is None and events.attrs.get("observed_at") is not None:
        origin = "the table's extraction moment (events.attrs)"
    end = observed_at_of(events, observed_at, "clv_summary")
    ts = events["timestamp"]
    if end is None:
        end = pd.Timestamp(ts[mask].max())
        origin = "the latest purchase (no observed_at given)"
    late = mask & (ts > end).to_numpy()
    mask &= ~late
    if not mask.any():
        raise DataError(
            _SOURCE,
            [{"column": "timestamp", "expected": f"a purchase on or before {end}; none found"}],
        )
    codes, ids = pd.factorize(events["customer_id"].to_numpy()[mask], sort=True)
    day = ts.to_numpy()[mask].astype("datetime64[D]").astype("int64")
    amount = (
        pd.to_numeric(events[value], errors="coerce").to_numpy(float)[mask]
        if has_value
        else np.full(len(day), np.nan)
    )
    # one row per customer and purchase day, sorted: a day's amounts summed (NaN if none known)
    per_day = (
        pd.DataFrame({"c": codes, "d": day, "v": amount})
        .groupby(["c", "d"], sort=True)["v"]
        .sum(min_count=1)
    )
    c = per_day.index.get_level_values("c").to_numpy()
    d = per_day.index.get_level_values("d").to_numpy()
    v = per_day.to_numpy(float)
    n = len(ids)
    first_row = np.r_[True, c[1:] != c[:-1]]
    first = d[first_row]
    last = d[np.r_[c[1:] != c[:-1], True]]
    days = np.bincount(c, minlength=n)
    repeat = ~first_row & ~np.isnan(v)
    known = np.bincount(c[repeat], minlength=n)
    total = np.bincount(c[repeat], weights=v[repeat], minlength=n)
    end_day = np.datetime64(pd.Timestamp(end).to_datetime64(), "D").astype("int64")
    unit = UNIT_DAYS[time_unit]
    table = pd.DataFrame(
        {
            "customer_id": ids,
            "frequency": (days - 1).astype("int64"),
            "recency": (last - first) / unit,
            "T": (end_day - first) / unit,
        }
    )
    if has_value:
        table["monetary_value"] = np.divide(total, known, out=np.zeros(n), where=known > 0)
    table.attrs = jsonable(
        {
            "observed_at": end,
            "observed_at_from": origin,
            "time_unit": time_unit,
            "purchases": rule if names is None else f"{rule}: {', '.join(map(str, names))}",
            "amount": value if has_value else None,
            "excluded": {"purchases after observed_at": int(late.sum())},
            "missing_amounts": int(np.isnan(amount).sum()) if has_value else None,
        }
    )
    return table

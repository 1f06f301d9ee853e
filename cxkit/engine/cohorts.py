"""Cohort retention on an engine: the (cohort, periods since signup) counts as one Ibis query.

Calendar periods are computed in SQL as pandas' period ordinals (days, weeks ending Sunday,
months, quarters, years since 1970), so the cells equal :func:`cxkit.cohort_retention`'s."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import DataError
from .journey import _ibis
from .retention import _lit, _obs, survival_expr

#: pandas period frequency -> how its ordinal is computed in SQL
PERIODS = ("D", "W", "M", "Q", "Y")


def _ordinal(ts, period):
    """pandas' period ordinal of a timestamp column (``pd.Period(ts, period).ordinal``)."""
    ibis = _ibis()
    year = ts.year().cast("int64") - 1970
    if period == "Y":
        return year
    if period == "Q":
        return year * 4 + ts.quarter().cast("int64") - 1
    if period == "M":
        return year * 12 + ts.month().cast("int64") - 1
    days = ts.date().delta(ibis.date(1970, 1, 1), unit="day").cast("int64")
    if period == "D":
        return days
    return ((days + 3) / 7).floor().cast("int64") + 1  # W-SUN: weeks ending on Sunday


def cohort_retention(journey, period="M", kind="contract", *, observed_at=None, touchpoints=None):
    """:func:`cxkit.cohort_retention` on an :class:`~cxkit.engine.EngineJourney`."""
    from ..retention.cohorts import _cells, _check_size, _period_codes

    where = "cohort_retention"
    if kind not in ("contract", "activity"):
        raise DataError(
            where, [{"column": "kind", "expected": f"'contract' or 'activity', got {kind!r}"}]
        )
    freq = str(period).upper()
    if freq == "A":
        freq = "Y"
    if freq not in PERIODS:
        raise DataError(
            where,
            [
                {
                    "column": "period",
                    "expected": f"on an engine, one of 'D', 'W', 'M', 'Q', 'Y'; got {period!r}",
                }
            ],
        )
    observed = _obs(journey, observed_at, where)
    rows, counts, _ = survival_expr(journey, observed)
    excluded = int(journey.execute(counts).iloc[0]["excluded"] or 0)
    rows = rows.mutate(cohort=_ordinal(rows.signup_at, freq))
    obs_period = int(_period_codes(np.array([observed.value]), period)[0])
    sizes = journey.execute(rows.group_by("cohort").aggregate(n=rows.count()))
    c0 = int(sizes["cohort"].min()) if len(sizes) else obs_period
    n_cohorts = int(obs_period - c0 + 1)
    _check_size(n_cohorts, period, where)
    n_periods = n_cohorts
    size = np.zeros(n_cohorts, np.int64)
    size[sizes["cohort"].to_numpy(int) - c0] = sizes["n"].to_numpy(int)
    if kind == "contract":
        # lost in period k: churned customers by the period of their churn
        lost_rows = rows.filter(rows.churned).mutate(
            k=_ordinal(rows.signup_at + _days_interval(rows.duration_days), freq) - rows.cohort
        )
        lost = journey.execute(lost_rows.group_by(["cohort", "k"]).aggregate(n=lost_rows.count()))
        grid = np.zeros((n_cohorts, n_periods), np.int64)
        grid[lost["cohort"].to_numpy(int) - c0, lost["k"].to_numpy(int)] = lost["n"].to_numpy(int)
        retained = size[:, None] - np.cumsum(grid, axis=1)
    else:
        ev = journey.events
        tp = ev.filter(ev.timestamp <= _lit(observed))
        if touchpoints is not None:
            names = [touchpoints] if isinstance(touchpoints, str) else list(touchpoints)
            tp = tp.filter(tp.event.isin(names))
        r = rows.select(r_id=rows.customer_id, r_signup=rows.signup_at, r_cohort=rows.cohort)
        j = tp.join(r, [tp.customer_id == r.r_id, tp.timestamp >= r.r_signup])
        j = j.select(cid=j.r_id, cohort=j.r_cohort, k=_ordinal(j.timestamp, freq) - j.r_cohort)
        seen = j.distinct()
        cells = journey.execute(seen.group_by(["cohort", "k"]).aggregate(n=seen.count()))
        retained = np.zeros((n_cohorts, n_periods), np.int64)
        retained[cells["cohort"].to_numpy(int) - c0, cells["k"].to_numpy(int)] = cells[
            "n"
        ].to_numpy(int)
    return _cells(retained, size, c0, obs_period, period, observed, kind, excluded)


def _days_interval(days):
    """Fractional days as an interval, rounded to the microsecond (the end of a duration)."""
    return (days * 86_400 * 10**6).round().cast("int64").as_interval("us")


def first_signup(journey):
    """The first signup in the customers table (a Timestamp)."""
    return pd.Timestamp(journey.execute(journey.customers.signup_at.min()))

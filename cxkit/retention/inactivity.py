"""How long without activity counts as lost, for non-contractual data.

A shop's customers never cancel: they stop coming back. :func:`choose_inactivity` picks the gap
after which a customer counts as lost — the data spec's when it states one that fits the data,
else :func:`typical_gap`, a high quantile of the gaps between a customer's own touchpoints — so a
year-scale purchase log gets months and a minutes-scale clickstream gets minutes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._args import duration as _duration
from .._args import moment
from ..data import Journey
from ..engine.journey import is_engine
from .checks import _DAY_NS, _as_list, _check_columns, _events_observed_at, _ns

__all__ = ["typical_gap", "choose_inactivity"]


_DEFAULT_INACTIVITY = "90D"  # the spec's default: a gap no spec file or Spec(...) stated


def _nice_gap(days):
    """Round a gap up to whole minutes, hours or days, by its size."""
    # to whole milliseconds first, then in integers: a quantile interpolated in floats can come
    # out as 89.00000000000001 days (DuckDB's, where numpy's is 89.0), which must not become 90
    ms = int(round(days * 86_400_000))
    for unit in (86_400_000, 3_600_000, 60_000):
        if ms >= unit:
            return pd.Timedelta(milliseconds=-(-ms // unit) * unit)
    return pd.Timedelta(minutes=1)


def typical_gap(data, *, quantile=0.9, observed_at=None, touchpoints=None):
    """The gap between a customer's consecutive touchpoints that ``quantile`` of gaps stay within.

    Parameters
    ----------
    data : Journey or DataFrame
        A Journey (touchpoints of its customers from signup on) or an events table.
    quantile : float
        0.9: nine in ten returns come sooner than the gap.
    observed_at : optional
        Touchpoints after it are ignored. Default: the Journey's (or the table's).
    touchpoints : list of str, optional
        Event names that count (default every event).

    Returns
    -------
    Timedelta or None
        Rounded up to whole minutes, hours or days; None when no customer came back.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.retention.inactivity import typical_gap
    >>> typical_gap(cxkit.load_sample()) > pd.Timedelta("1D")
    True
    """
    where = "typical_gap"
    if is_engine(data):
        from ..engine.retention import typical_gap as on_engine

        return on_engine(data, quantile=quantile, observed_at=observed_at, touchpoints=touchpoints)
    if isinstance(data, Journey):
        events, obs = data.events, data.observed_at
        obs = obs if observed_at is None else moment(observed_at, "observed_at", where)
    else:
        _check_columns(data, ["customer_id", "timestamp"], where, "data")
        events, obs = data, _events_observed_at(data, observed_at, where)
    ids = events["customer_id"]
    if not isinstance(ids.dtype, pd.CategoricalDtype):
        ids = ids.astype("category")
    codes = ids.cat.codes.to_numpy().astype("int64")
    ts = _ns(events["timestamp"])
    keep = ts <= obs.value
    if touchpoints is not None:
        keep &= events["event"].isin(_as_list(touchpoints)).to_numpy()
    if isinstance(data, Journey):
        signup = pd.Series(
            _ns(data.customers["signup_at"]), index=data.customers["customer_id"].to_numpy()
        )
        start = signup.reindex(ids.cat.categories).to_numpy()
        known = ~np.isnan(start)
        begin = np.where(known, start, 0).astype("int64")[codes]
        keep &= known[codes] & (ts >= begin)
        # the signup itself is a touchpoint (as in activity_table)
        codes = np.r_[codes[keep], np.flatnonzero(known)]
        ts = np.r_[ts[keep], start[known].astype("int64")]
    else:
        codes, ts = codes[keep], ts[keep]
    order = np.lexsort((ts, codes))
    codes, ts = codes[order], ts[order]
    same = codes[1:] == codes[:-1]
    gaps = (ts[1:] - ts[:-1])[same]
    gaps = gaps[gaps > 0]
    if len(gaps) == 0:
        return None
    return _nice_gap(float(np.quantile(gaps, quantile)) / _DAY_NS)


def choose_inactivity(data, *, inactivity=None, observed_at=None, touchpoints=None):
    """The inactivity gap after which a non-contractual customer counts as lost, and its source.

    In order: ``inactivity`` when given; the Journey's spec (``business.inactivity``) when a
    spec states one that leaves time to see a lapse (at most half the time the data covers);
    else :func:`typical_gap` (90% of returns come sooner), capped at a third of the time the
    data covers.

    Returns
    -------
    (Timedelta, str)
        The gap and where it came from: ``"argument"``, ``"spec"`` or ``"data"``.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.retention.inactivity import choose_inactivity
    >>> choose_inactivity(cxkit.load_sample(), inactivity="60D")
    (Timedelta('60 days 00:00:00'), 'argument')
    """
    where = "choose_inactivity"
    if is_engine(data):
        from ..engine.retention import choose_inactivity as on_engine

        return on_engine(
            data, inactivity=inactivity, observed_at=observed_at, touchpoints=touchpoints
        )
    if inactivity is not None:
        return _duration(inactivity, "inactivity", where), "argument"
    if isinstance(data, Journey):
        obs = (
            data.observed_at if observed_at is None else moment(observed_at, "observed_at", where)
        )
        first = data.customers["signup_at"].min()
        spec = data.spec
        stated = spec.inactivity
        touchpoints = spec.activity if touchpoints is None else touchpoints
    else:
        obs = _events_observed_at(data, observed_at, where)
        first, stated = data["timestamp"].min(), None
    span = pd.Timestamp(obs) - pd.Timestamp(first) if pd.notna(first) else pd.Timedelta(0)
    return _settle(
        span,
        stated,
        lambda: typical_gap(data, observed_at=observed_at, touchpoints=touchpoints),
        where,
    )


def _settle(span, stated, typical, where):
    """The gap of :func:`choose_inactivity` once the data covers ``span`` (both engines):
    ``stated`` (the spec's) when at most half the span, else ``typical()`` (the default when
    None), capped at a third of the span."""
    if stated is not None:
        gap = _duration(stated, "business.inactivity", "spec")
        if gap <= span / 2:
            return gap, "spec"
    gap = typical()
    if gap is None:
        gap = _duration(_DEFAULT_INACTIVITY, "inactivity", where)
    if span > pd.Timedelta(0):
        gap = min(gap, _nice_gap(span / 3 / pd.Timedelta("1D")))
    return gap, "data"

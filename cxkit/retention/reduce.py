"""Retention as survival analysis: how long customers stay, and what shortens it.

Two halves, kept apart (see the design's "Growing past one machine"):

* **reduction** — the journey to small per-customer tables: :func:`survival_table` (contract
  churn from ``churned_at``), :func:`activity_table` (non-contractual churn: no touchpoint for a
  while), :func:`time_varying_table` (start/stop intervals for drivers that change over time) and
  :func:`cohort_retention`. Plain pandas/numpy, vectorized, no statistics.
* **statistics** on those tables — :func:`kaplan_meier`, :func:`survival_summary`,
  :func:`logrank`, :func:`cox`, :func:`cox_time_varying`, :func:`rmst` (lifelines and scipy,
  imported inside the functions so that ``import cxkit`` stays light).

Censoring follows the data contract: every duration ends at churn or at the journey's
``observed_at`` (the extraction moment, the latest timestamp across *all* tables — never the
last date of one table). Churn after ``observed_at`` is censored there; customers who sign up
after it are left out and counted in ``result.attrs``.

Units: durations in (fractional) days; ``survival`` in Kaplan–Meier curves is a probability
(0–1, as in lifelines); shares in summary tables (``pct_*``) are percentages (0–100).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._args import duration as _duration  # `duration` is a common local name here
from .._args import jsonable, moment
from ..data import SIGNUP_ATTRIBUTES, DataError, Journey
from ..engine.journey import is_engine
from .checks import (
    _CORE,
    _DAY_NS,
    _as_list,
    _check_columns,
    _check_touchpoints,
    _customers_and_observed,
    _events_observed_at,
    _ns,
)
from .inactivity import choose_inactivity, typical_gap  # noqa: F401  (re-exported)


def survival_table(data, *, observed_at=None):
    """One row per customer: how long they have been a customer, and whether they churned.

    Parameters
    ----------
    data : Journey or DataFrame
        A :class:`cxkit.Journey` (its ``observed_at`` is the default censoring date) or a
        customers table, checked as :func:`cxkit.read_customers` checks it (ids present and
        unique, signup dates present and parseable, no churn before signup). A table from a
        Journey (``journey.customers``) remembers the Journey's ``observed_at``; any other
        table needs ``observed_at``: its last date is not the end of observation.
    observed_at : str or Timestamp, optional
        Censoring date. Default: the Journey's (or the table's ``attrs["observed_at"]``).

    Returns
    -------
    DataFrame
        ``customer_id``, ``signup_at``, ``duration_days`` (float, fractional days from signup
        to churn, or to ``observed_at`` for customers still active — censored), ``churned``
        (bool; churn after ``observed_at`` is censored there) and every other attribute of the
        customers table. ``.attrs`` holds ``observed_at`` (ISO text; ``pd.Timestamp`` reads it
        back), ``excluded_signup_after`` (customers
        who signed up after ``observed_at``, left out) and ``churn_after_observed`` (censored).

    Raises
    ------
    DataError
        No ``observed_at`` to be found; a bad customers table (the column, the number of rows
        and examples are named); or every customer signed up after ``observed_at``.

    Examples
    --------
    >>> import cxkit
    >>> table = cxkit.survival_table(cxkit.load_sample())
    >>> list(table.columns[:4])
    ['customer_id', 'signup_at', 'duration_days', 'churned']
    """
    where = "survival_table"
    if is_engine(data):
        from ..engine.retention import survival_table as on_engine

        return on_engine(data, observed_at=observed_at)
    customers, observed = _customers_and_observed(data, observed_at, where)
    obs = observed.value
    signup = _ns(customers["signup_at"])
    if "churned_at" in customers.columns:
        churn_raw = customers["churned_at"].astype("datetime64[ns]")
        has_churn = churn_raw.notna().to_numpy()
        churn = churn_raw.to_numpy().astype("int64")
    else:
        has_churn = np.zeros(len(customers), bool)
        churn = np.zeros(len(customers), "int64")
    keep = signup <= obs
    if len(keep) and not keep.any():
        raise DataError(
            f"{where}(observed_at=...)",
            [
                {
                    "column": "observed_at",
                    "expected": f"a moment after some signup; every customer ({len(keep)}) "
                    f"signed up after {observed} (the first on "
                    f"{customers['signup_at'].min()}), so none is left to follow",
                    "rows": len(keep),
                }
            ],
            hint="observed_at is the extraction moment: the end of the data, not its start",
        )
    churned = has_churn & (churn <= obs)
    end = np.where(churned, churn, obs)
    duration = (end - signup) / _DAY_NS
    attributes = [c for c in customers.columns if c not in _CORE]
    out = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "signup_at": customers["signup_at"].to_numpy(),
            "duration_days": duration,
            "churned": churned,
        }
    )
    for col in attributes:
        out[col] = customers[col].to_numpy()
        if isinstance(customers[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(customers[col].dtype)
    out = out[keep].reset_index(drop=True)
    out.attrs = jsonable(
        {
            "observed_at": observed,
            "excluded_signup_after": int((~keep).sum()),
            "churn_after_observed": int((has_churn & keep & ~churned).sum()),
            "source": customers.attrs.get("source", "DataFrame"),
        }
    )
    return out


def activity_table(data, *, inactivity=None, observed_at=None, touchpoints=None):
    """Non-contractual churn: a customer is lost after ``inactivity`` without any touchpoint.

    For businesses with no cancellation date. A customer's lifetime starts at signup (or, with
    a bare events table, at their first touchpoint) and ends at their last touchpoint before the
    first gap of at least ``inactivity`` — that is when they were last seen. A customer whose
    latest touchpoint is more recent than ``inactivity`` before ``observed_at`` has not lapsed
    yet: not churned, but censored at ``observed_at − inactivity`` — the last moment at which a
    lapse could still have been seen. (Censoring at their latest touchpoint would be
    informative: a customer who really left after ``observed_at − inactivity`` looks active,
    and would stay "at risk" exactly where their churn happened, overstating survival.)
    Customers who start after ``observed_at − inactivity`` carry no information and are left
    out (counted in ``attrs["excluded_too_recent"]``). Customers who come back after a lapse
    still count as churned at the first lapse; how many did is in
    ``attrs["returned_after_lapse"]``.

    Parameters
    ----------
    data : Journey or DataFrame
        A Journey (customers' ``signup_at`` starts the lifetime and their attributes are kept;
        events before signup — the funnel — and prospects are ignored), or an events table
        (every id is a customer from their first touchpoint; ``observed_at`` then required
        unless the table carries ``attrs["observed_at"]``, as ``journey.events`` does).
    inactivity : str or Timedelta, optional
        How long without a touchpoint counts as lost, with a unit (``"60D"``; a bare number
        is refused: pandas would read 60 as 60 nanoseconds). Default: chosen by
        :func:`choose_inactivity` — the Journey's spec (``business.inactivity``) when it states
        one that fits the data, else a high quantile of the gaps between a customer's
        touchpoints (so a year-scale purchase log and a minutes-scale clickstream both get a
        gap of their own scale).
    observed_at : str or Timestamp, optional
        End of observation. Default: the Journey's. Touchpoints after it are ignored (counted).
    touchpoints : list of str, optional
        Event names that count as a sign of life. Default: every event.

    Returns
    -------
    DataFrame
        ``customer_id``, ``start_at``, ``last_seen_at``, ``duration_days``, ``churned``, and the
        customers' attributes with a Journey. ``.attrs``: ``inactivity`` (as text, e.g.
        ``"60 days 00:00:00"``), ``observed_at``, ``censored_at`` (ISO text),
        ``excluded_too_recent``, ``returned_after_lapse``, ``events_after_observed``,
        ``customers_without_touchpoints``
        (none after signup: the signup itself counts as a touchpoint, so they are lost at
        signup once ``inactivity`` has passed).

    Examples
    --------
    >>> import cxkit
    >>> table = cxkit.activity_table(cxkit.load_sample(), inactivity="60D")
    >>> bool(table["churned"].any())
    True
    """
    where = "activity_table"
    if is_engine(data):
        from ..engine.retention import activity_table as on_engine

        return on_engine(
            data, inactivity=inactivity, observed_at=observed_at, touchpoints=touchpoints
        )
    named = data.events if isinstance(data, Journey) else data
    if touchpoints is not None and isinstance(named, pd.DataFrame):
        _check_columns(named, ["event"], where, "data")
        _check_touchpoints(named, touchpoints, where)
    if inactivity is None:
        inactivity = choose_inactivity(data, observed_at=observed_at, touchpoints=touchpoints)[0]
    gap = _duration(inactivity, "inactivity", where).value
    if isinstance(data, Journey):
        events, customers = data.events, data.customers
        observed = moment(
            data.observed_at if observed_at is None else observed_at, "observed_at", where
        )
    elif isinstance(data, pd.DataFrame):
        _check_columns(data, ["customer_id", "timestamp"], where, "data")
        events, customers = data, None
        observed = _events_observed_at(data, observed_at, where)
    else:
        raise DataError(
            where,
            [
                {
                    "column": "data",
                    "expected": f"a Journey or an events DataFrame, got {type(data).__name__}",
                }
            ],
        )
    obs = observed.value
    ids = events["customer_id"]
    if not isinstance(ids.dtype, pd.CategoricalDtype):
        ids = ids.astype("category")
    ts = _ns(events["timestamp"])
    mask = ts <= obs
    after = int((~mask).sum())
    if touchpoints is not None:
        mask &= events["event"].isin(_as_list(touchpoints)).to_numpy()
    codes = ids.cat.codes.to_numpy().astype("int64")
    if customers is not None:
        # one row per customer; their signup counts as a touchpoint, earlier events (the
        # funnel) and prospects' events do not
        table = survival_table(customers, observed_at=observed)
        start = _ns(table["signup_at"])
        row_of_code = np.full(len(ids.cat.categories) + 1, -1, "int64")
        pos = ids.cat.categories.get_indexer(table["customer_id"])
        row_of_code[pos[pos >= 0]] = np.flatnonzero(pos >= 0)
        rows = row_of_code[codes]
        mask &= rows >= 0
        mask &= ts >= start[np.maximum(rows, 0)]
        n_customers = len(table)
        touched = np.bincount(rows[mask], minlength=n_customers) > 0
        rows = np.r_[rows[mask], np.arange(n_customers)]
        ts = np.r_[ts[mask], start]
    else:
        rows, ts = codes[mask], ts[mask]
    order = np.lexsort((ts, rows))
    rows, ts = rows[order], ts[order]
    n = len(rows)
    last = np.ones(n, bool)
    last[:-1] = rows[1:] != rows[:-1]
    first = np.r_[True, rows[1:] != rows[:-1]] if n else np.zeros(0, bool)
    following = np.empty(n, "int64")
    following[:-1] = ts[1:]
    following[last] = obs
    lapse = (following - ts) >= gap
    # each customer ends at their first lapse, or (censored) at their latest touchpoint
    lapse_idx = np.flatnonzero(lapse)
    lapse_rows, first_pos = np.unique(rows[lapse_idx], return_index=True)
    lapse_at = lapse_idx[first_pos]
    end_idx = np.flatnonzero(last)
    end_rows = rows[end_idx]
    at = end_idx.copy()
    where_lapse = np.searchsorted(end_rows, lapse_rows)
    returned = int((at[where_lapse] != lapse_at).sum())
    at[where_lapse] = lapse_at
    churned = np.zeros(len(end_rows), bool)
    churned[where_lapse] = True
    begin = ts[first]
    seen = ts[at]
    # A lapse at t can only be seen once t + inactivity has passed, so everyone still active is
    # censored at observed_at - inactivity, not at their latest touchpoint: a customer who
    # really left after that moment looks active, and censoring them later would keep them
    # "at risk" exactly where their churn would have been (informative censoring).
    censor_at = obs - gap
    end = np.where(churned, seen, censor_at)
    informative = churned | (begin <= censor_at)
    too_recent = int((~informative).sum())
    out = pd.DataFrame(
        {
            "customer_id": (
                table["customer_id"].to_numpy()[end_rows]
                if customers is not None
                else np.asarray(ids.cat.categories[end_rows], dtype=object)
            ),
            "start_at": begin.astype("datetime64[ns]"),
            "last_seen_at": seen.astype("datetime64[ns]"),
            "duration_days": (end - begin) / _DAY_NS,
            "churned": churned,
        }
    )
    if customers is not None:
        for col in table.columns:
            if col not in ("customer_id", "signup_at", "duration_days", "churned"):
                out[col] = table[col].to_numpy()[end_rows]
                if isinstance(table[col].dtype, pd.CategoricalDtype):
                    out[col] = out[col].astype(table[col].dtype)
        without = int((~touched).sum())
        excluded = table.attrs["excluded_signup_after"]
    else:
        without, excluded = 0, 0
    out = out[informative].reset_index(drop=True)
    out.attrs = jsonable(
        {
            "inactivity": pd.Timedelta(gap),
            "censored_at": pd.Timestamp(censor_at),
            "excluded_too_recent": too_recent,
            "observed_at": observed,
            "returned_after_lapse": returned,
            "events_after_observed": after,
            "customers_without_touchpoints": without,
            "excluded_signup_after": excluded,
        }
    )
    return out


def retention_table(journey, *, inactivity=None, touchpoints=None, observed_at=None):
    """How long each customer stayed, by the journey's business model — one entry point.

    Contractual data (churn dates in ``customers``): :func:`survival_table`. Non-contractual
    data: :func:`activity_table` — a customer is lost after ``inactivity`` without one of the
    ``touchpoints`` (default: the spec's ``business.activity``, else every event), the gap
    chosen by :func:`choose_inactivity`.

    Returns
    -------
    DataFrame
        ``customer_id``, ``duration_days``, ``churned`` and the customers' attributes (plus
        ``signup_at``, or ``start_at``/``last_seen_at``). ``.attrs`` adds ``business_model``;
        for non-contractual data ``inactivity_days``, ``inactivity_source`` (``"argument"``,
        ``"spec"``, ``"data"``) and ``touchpoints`` (the event names, or None for every event).

    Examples
    --------
    >>> import cxkit
    >>> table = cxkit.retention.retention_table(cxkit.load_sample())
    >>> table.attrs["business_model"]
    'contractual'
    """
    if is_engine(journey):
        from ..engine.retention import retention_table as on_engine

        return on_engine(
            journey, inactivity=inactivity, touchpoints=touchpoints, observed_at=observed_at
        )
    if not isinstance(journey, Journey):
        raise DataError(
            "retention_table",
            [{"column": "journey", "expected": f"a Journey, got {type(journey).__name__}"}],
            hint="cxkit.read_journey(folder) or cxkit.load_sample()",
        )
    return _by_business_model(
        journey,
        (survival_table, choose_inactivity, activity_table),
        inactivity=inactivity,
        touchpoints=touchpoints,
        observed_at=observed_at,
        check=lambda names: _check_touchpoints(journey.events, names, "retention_table"),
    )


def _by_business_model(journey, engine, *, inactivity, touchpoints, observed_at, check=None):
    """:func:`retention_table` with one engine's ``(survival_table, choose_inactivity,
    activity_table)``; ``check`` vets the touchpoint names first (the pandas engine's)."""
    survival, choose, activity = engine
    if journey.business_model == "contractual":
        table = survival(journey, observed_at=observed_at)
        table.attrs["business_model"] = "contractual"
        return table
    touchpoints = journey.spec.activity if touchpoints is None else touchpoints
    if check is not None:
        check(touchpoints)
    gap, source = choose(
        journey, inactivity=inactivity, observed_at=observed_at, touchpoints=touchpoints
    )
    table = activity(journey, inactivity=gap, observed_at=observed_at, touchpoints=touchpoints)
    table.attrs.update(
        business_model="non-contractual",
        inactivity_days=gap / pd.Timedelta("1D"),
        inactivity_source=source,
        touchpoints=None if touchpoints is None else _as_list(touchpoints),
    )
    return table


def _window_name(prefix, window, argument, where):
    days = _duration(window, argument, where) / pd.Timedelta("1D")
    label = f"{days:g}d" if days == int(days) else str(window).lower()
    return f"{prefix}_{label}"


def time_varying_table(
    journey,
    *,
    tickets_window="30D",
    ticket_event="support_ticket",
    detractor=True,
    engagement_event=None,
    engagement_window="30D",
    covariates=None,
    observed_at=None,
):
    """Start/stop intervals per customer for drivers that change over time.

    Drivers measured as totals at the end credit long-lived customers with more tickets
    (immortal-time bias). Here each customer's follow-up (days since signup, to churn or
    ``observed_at``) is split at every change of a driver, so that each interval carries the
    values known during it — the input of lifelines' ``CoxTimeVaryingFitter``
    (:func:`cox_time_varying`).

    Drivers:

    * ``support_tickets_<window>`` — support tickets in the last ``tickets_window`` (+1 at each
      ticket, −1 when it leaves the window);
    * ``detractor`` — 1 from an NPS answer of 0–6 until the next NPS answer (which sets it
      again), 0 before any answer or after a 7–10;
    * ``<engagement_event>s_<window>`` (optional) — e.g. ``engagement_event="app_login"``: logins
      in the last ``engagement_window``, a visible trace of disengagement;
    * fixed ``covariates`` known at signup, repeated on every interval.

    Parameters
    ----------
    journey : Journey
    tickets_window, engagement_window : str
        Rolling windows (``"30D"``).
    ticket_event, engagement_event : str
        Event names in ``journey.events``. ``engagement_event=None`` leaves it out.
    detractor : bool
        Add the NPS detractor indicator (needs NPS answers in ``journey.surveys``).
    covariates : sequence of str, optional
        Customer attributes known at signup to carry along. Default: those of
        ``cxkit.data.SIGNUP_ATTRIBUTES`` (plan, acquisition channel, device, region) present.
    observed_at : optional
        End of observation; default the Journey's.

    Returns
    -------
    DataFrame
        ``customer_id``, ``start``, ``stop`` (days since signup), ``churned`` (True only on a
        churner's last interval), the drivers, the fixed covariates. ``.attrs`` counts
        customers left out with no follow-up time (churned or observed at signup) and holds
        ``observed_at`` (ISO text), ``drivers`` and ``covariates``.

    Examples
    --------
    >>> import cxkit
    >>> tv = cxkit.time_varying_table(cxkit.load_sample())
    >>> bool((tv["stop"] > tv["start"]).all())
    True
    """
    where = "time_varying_table"
    if is_engine(journey):
        from ..engine.timevarying import time_varying_table as on_engine

        return on_engine(
            journey,
            tickets_window=tickets_window,
            ticket_event=ticket_event,
            detractor=detractor,
            engagement_event=engagement_event,
            engagement_window=engagement_window,
            covariates=covariates,
            observed_at=observed_at,
        )
    if not isinstance(journey, Journey):
        raise DataError(
            where,
            [
                {
                    "column": "journey",
                    "expected": "a Journey (events, customers and surveys are all needed)",
                    "rows": None,
                }
            ],
            hint="cxkit.read_journey(folder) or cxkit.load_sample()",
        )
    if covariates is None:
        covariates = [c for c in SIGNUP_ATTRIBUTES if c in journey.customers.columns]
    covariates = _as_list(covariates)
    _check_columns(journey.customers, covariates, where, "covariates")
    base = survival_table(journey, observed_at=observed_at)
    observed = pd.Timestamp(base.attrs["observed_at"])
    ev, sv = journey.events, journey.surveys

    def events_of(name):
        rows = (ev["event"] == name).to_numpy()
        return ev["customer_id"].to_numpy()[rows], _ns(ev["timestamp"])[rows]

    def nps():
        rows = (sv["survey"] == "nps").to_numpy()
        return (
            sv["customer_id"].to_numpy()[rows],
            _ns(sv["timestamp"])[rows],
            sv["score"].to_numpy()[rows],
        )

    parts, names = _drivers(
        base,
        _ns(base["signup_at"]),
        events_of,
        nps,
        tickets_window=tickets_window,
        ticket_event=ticket_event,
        detractor=detractor,
        engagement_event=engagement_event,
        engagement_window=engagement_window,
        where=where,
    )
    return _intervals(base, parts, names, covariates, observed)


def _drivers(
    base,
    signup,
    events_of,
    nps,
    *,
    tickets_window,
    ticket_event,
    detractor,
    engagement_event,
    engagement_window,
    where,
):
    """The drivers' change points of time_varying_table (both engines): (parts, names).

    ``events_of(name)``: (customer ids, timestamps in ns) of one event; ``nps()``: (customer
    ids, timestamps in ns, scores) of the NPS answers; ``signup``: the survival table's
    signups in ns. ``parts`` holds (customer position, time in days, column name, delta or
    value); events of customers not in ``base`` are left out."""
    id_index = pd.Index(base["customer_id"])
    parts, names = [], []

    def rolling(event_name, window, argument, column):
        win = _duration(window, argument, where).value / _DAY_NS
        ids, ts = events_of(event_name)
        pos = id_index.get_indexer(ids)
        t = (ts - signup[np.maximum(pos, 0)]) / _DAY_NS
        ok = pos >= 0
        pos, t = pos[ok], t[ok]
        parts.append(
            (np.r_[pos, pos], np.r_[t, t + win], column, np.r_[np.ones(len(t)), -np.ones(len(t))])
        )

    tickets_col = _window_name("support_tickets", tickets_window, "tickets_window", where)
    rolling(ticket_event, tickets_window, "tickets_window", tickets_col)
    names.append((tickets_col, "count"))
    if engagement_event is not None:
        col = _window_name(f"{engagement_event}s", engagement_window, "engagement_window", where)
        rolling(engagement_event, engagement_window, "engagement_window", col)
        names.append((col, "count"))
    if detractor:
        ids, ts, score = nps()
        pos = id_index.get_indexer(ids)
        t = (ts - signup[np.maximum(pos, 0)]) / _DAY_NS
        value = (score <= 6).astype(float)
        ok = pos >= 0
        parts.append((pos[ok], t[ok], "detractor", value[ok]))
        names.append(("detractor", "state"))
    return parts, names


def _intervals(base, parts, names, covariates, observed):
    """time_varying_table's start/stop rows from the survival table and the drivers' change
    points ``parts`` (customer position, days since signup, column, delta or value)."""
    n = len(base)
    duration = base["duration_days"].to_numpy()
    # one long frame of change points plus a start row per customer, sorted by (customer, time)
    pos = np.concatenate([np.arange(n)] + [p[0] for p in parts])
    t = np.concatenate([np.zeros(n)] + [p[1] for p in parts])
    t = np.maximum(t, 0.0)  # changes before signup set the starting state
    frame = pd.DataFrame(
        {"pos": pos, "t": t, "is_start": np.r_[np.ones(n, bool), np.zeros(len(pos) - n, bool)]}
    )
    for col, kind in names:
        vals = np.full(len(pos), 0.0 if kind == "count" else np.nan)
        vals[:n] = 0.0
        offset = n
        for p in parts:
            if p[2] == col:
                vals[offset : offset + len(p[0])] = p[3]
            offset += len(p[0])
        frame[col] = vals
    frame = frame.sort_values(
        ["pos", "t", "is_start"], ascending=[True, True, False], kind="stable"
    )
    for col, kind in names:
        if kind == "count":
            frame[col] = frame.groupby("pos", sort=False)[col].cumsum()
        else:  # state: carried forward; each customer's start row is 0
            frame[col] = frame[col].ffill()
    # the state at a time is the one after its last change
    frame = frame[~frame.duplicated(["pos", "t"], keep="last")]
    p = frame["pos"].to_numpy()
    start = frame["t"].to_numpy()
    stop = np.empty(len(frame))
    stop[:-1] = start[1:]
    last = np.r_[p[1:] != p[:-1], True]
    stop[last] = duration[p[last]]
    stop = np.minimum(stop, duration[p])
    keep = start < stop
    zero = int((duration <= 0).sum())
    churned = last & base["churned"].to_numpy()[p]
    # a churner's final row is the last interval only if it was kept; earlier change points at
    # or after the churn time are dropped with keep, so move the event onto the last kept row
    frame = frame.assign(start=start, stop=stop, churned=churned)[keep]
    p = frame["pos"].to_numpy()
    last = np.r_[p[1:] != p[:-1], True] if len(p) else np.array([], bool)
    frame["churned"] = last & base["churned"].to_numpy()[p]
    out = pd.DataFrame(
        {
            "customer_id": base["customer_id"].to_numpy()[p],
            "start": frame["start"].to_numpy(),
            "stop": frame["stop"].to_numpy(),
            "churned": frame["churned"].to_numpy(),
        }
    )
    for col, _ in names:
        values = frame[col].to_numpy()
        out[col] = np.rint(values).astype("int64")
    for col in covariates:
        out[col] = base[col].to_numpy()[p]
        if isinstance(base[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(base[col].dtype)
    out.attrs = jsonable(
        {
            "observed_at": observed,
            "no_follow_up": zero,
            "excluded_signup_after": base.attrs["excluded_signup_after"],
            "drivers": [c for c, _ in names],
            "covariates": covariates,
            "customers": int(n - zero),
        }
    )
    return out

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

import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._args import duration as _duration  # `duration` is a common local name here
from ._args import jsonable, moment, observed_at_of
from ._stats import ADJUSTMENTS, adjust_pvalues
from .data import SIGNUP_ATTRIBUTES, DataError, Journey, _examples

__all__ = [
    "survival_table",
    "activity_table",
    "time_varying_table",
    "cohort_retention",
    "kaplan_meier",
    "survival_summary",
    "logrank",
    "cox",
    "cox_time_varying",
    "CoxResult",
    "rmst",
    "REFERENCE_LEVELS",
]

#: Reference level of a categorical covariate (hazard ratios are relative to it). Columns not
#: listed here use their most frequent level.
REFERENCE_LEVELS = {"acquisition_channel": "organic", "plan": "monthly"}

_DAY_NS = 86_400 * 10**9
_CORE = ("customer_id", "signup_at", "churned_at")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _ns(series):
    """datetime64 values as int64 nanoseconds (NaT → min int)."""
    return series.astype("datetime64[ns]").to_numpy().astype("int64")


def _events_observed_at(events, observed_at, where):
    """``observed_at`` for a bare events table: given, or the one a loaded table carries."""
    observed = observed_at_of(events, observed_at, where)
    if observed is None:
        raise DataError(
            where,
            [
                {
                    "column": "observed_at",
                    "expected": "the moment the data "
                    "was extracted when a bare events table is given",
                }
            ],
            hint="pass the Journey instead, or observed_at=journey.observed_at",
        )
    return observed


def _validated_customers(frame, where):
    """``frame`` checked as a customers table (the loader's checks: ids present and unique,
    dates parseable, no missing signup, no churn before signup), with its dates parsed.

    The caller's frame is neither modified nor reordered: only ``signup_at`` and ``churned_at``
    are replaced by parsed copies when they were not datetimes already."""
    from .data import _parse_timestamps, read_customers

    try:
        read_customers(frame)  # copies its input; raises on every problem it finds
    except DataError as err:
        raise DataError(
            f"{where}: customers {err.source}",
            err.problems,
            columns=err.columns,
            hint=err.hint or "fix these rows, or read the file with cxkit.read_customers",
        ) from None
    parsed = {
        col: _parse_timestamps(frame[col])[0]
        for col in ("signup_at", "churned_at")
        if col in frame.columns and frame[col].dtype != "datetime64[ns]"
    }
    return frame.assign(**parsed) if parsed else frame


def _customers_and_observed(data, observed_at, where):
    """(customers, observed_at) from a Journey or a customers DataFrame."""
    if isinstance(data, Journey):
        observed = data.observed_at if observed_at is None else observed_at
        return data.customers, moment(observed, "observed_at", where)
    if isinstance(data, pd.DataFrame):
        missing = [c for c in ("customer_id", "signup_at") if c not in data.columns]
        if missing:
            raise DataError(
                where,
                [{"column": c, "expected": "required column is missing"} for c in missing],
                columns=data.columns,
                hint="pass a Journey or a table from cxkit.read_customers",
            )
        observed = observed_at_of(data, observed_at, where)
        if observed is None:
            raise DataError(
                where,
                [
                    {
                        "column": "observed_at",
                        "expected": "the moment the data "
                        "was extracted; a customers table alone does not say it "
                        "(its last date is not the end of observation)",
                    }
                ],
                hint="pass the Journey (cxkit.read_journey) instead, or "
                "observed_at=journey.observed_at",
            )
        return _validated_customers(data, where), observed
    raise DataError(
        where,
        [
            {
                "column": "data",
                "expected": f"a Journey or a customers DataFrame, got {type(data).__name__}",
            }
        ],
    )


def _check_columns(table, columns, where, argument):
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(
            where,
            [
                {
                    "column": argument,
                    "expected": f"column '{c}' to exist in the table; it does not",
                }
                for c in missing
            ],
            columns=table.columns,
            hint="use one of the columns present",
        )


def _check_survival(table, where):
    """A survival table (or a Journey, turned into one) with sane durations and churn flags."""
    if isinstance(table, Journey):
        table = survival_table(table)
    if not isinstance(table, pd.DataFrame):
        raise DataError(
            where,
            [
                {
                    "column": "table",
                    "expected": "a survival table (cxkit.survival_table) or a Journey, "
                    f"got {type(table).__name__}",
                }
            ],
        )
    _check_columns(table, ["duration_days", "churned"], where, "table")
    if len(table) == 0:
        raise DataError(
            where, [{"column": None, "expected": "at least one customer; the table is empty"}]
        )
    problems = []
    col = table["duration_days"]
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        days = col.to_numpy(float, na_value=np.nan)
        bad = ~np.isfinite(days) | (days < 0)
    else:  # text, timedeltas, booleans: not a number of days
        bad = np.ones(len(col), bool)
    if bad.any():
        problems.append(
            {
                "column": "duration_days",
                "expected": "a finite number of days, 0 or more, in every row",
                "rows": int(bad.sum()),
                "examples": _examples(table, bad, "duration_days"),
            }
        )
    churned = table["churned"]
    if isinstance(churned.dtype, pd.CategoricalDtype):
        churned = churned.astype(object)
    # True/False or 1/0 only (NaN and strings such as "yes"/"no" are refused, not guessed)
    bad = ~churned.isin([True, False]).to_numpy()
    if bad.any():
        problems.append(
            {
                "column": "churned",
                "expected": "True/False (or 1/0) in every row: did the customer churn",
                "rows": int(bad.sum()),
                "examples": _examples(table, bad, "churned"),
            }
        )
    if problems:
        raise DataError(
            where, problems, hint="build the table with cxkit.survival_table or activity_table"
        )
    return table


def _check_alpha(alpha, where):
    ok = isinstance(alpha, (int, float, np.floating)) and not isinstance(alpha, bool)
    if not (ok and 0 < alpha < 1):
        raise DataError(
            f"{where}(alpha=...)",
            [
                {
                    "column": "alpha",
                    "expected": "1 − confidence level, strictly between 0 and 1 (0.05 for "
                    f"95% intervals); got {alpha!r}",
                }
            ],
        )


def _one_column(by, where):
    """``by`` as one column name (a one-element list is accepted)."""
    if by is None or isinstance(by, str):
        return by
    if isinstance(by, (list, tuple, pd.Index)):
        if len(by) == 1:
            return by[0]
        raise DataError(
            f"{where}(by=...)",
            [
                {
                    "column": "by",
                    "expected": f"one column to split by; got {len(by)}: {list(by)}",
                }
            ],
            hint="combine them first, e.g. table.assign(group=table['plan'].astype(str) + ' / '"
            " + table['device'].astype(str)), then by='group'",
        )
    return by


def _as_list(value):
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _groups(table, by, where):
    """[(level, sub-table)] in the column's order; rows with no group are counted and warned."""
    if by is None:
        return [(None, table)]
    _check_columns(table, [by], where, "by")
    col = table[by]
    missing = col.isna()
    if missing.all():
        raise DataError(
            f"{where}(by=...)",
            [
                {
                    "column": by,
                    "expected": "at least one customer with a value to group by; every "
                    "value is missing",
                    "rows": int(missing.sum()),
                }
            ],
            hint="choose a column that is filled in",
        )
    if missing.any():
        warnings.warn(
            f"{where}: {int(missing.sum())} customer(s) with no value in '{by}' are left out",
            stacklevel=3,
        )
    if isinstance(col.dtype, pd.CategoricalDtype):
        levels = [lv for lv in col.cat.categories if (col == lv).any()]
    else:
        levels = sorted(col.dropna().unique(), key=str)
    return [(lv, table[col == lv]) for lv in levels]


def _reference_level(name, series):
    levels = series.dropna()
    preferred = REFERENCE_LEVELS.get(name)
    if preferred is not None and (levels == preferred).any():
        return preferred
    counts = levels.value_counts(sort=False)
    return counts.index[int(np.argmax(counts.to_numpy()))]


def _zgrid(alpha):
    from scipy.stats import norm

    return float(norm.ppf(1 - alpha / 2))


# --------------------------------------------------------------------------------------------
# reduction: journey -> per-customer tables
# --------------------------------------------------------------------------------------------


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


def activity_table(data, *, inactivity="60D", observed_at=None, touchpoints=None):
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
    inactivity : str or Timedelta
        How long without a touchpoint counts as lost, with a unit (``"60D"``; a bare number
        is refused: pandas would read 60 as 60 nanoseconds).
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
    n = len(base)
    id_index = pd.Index(base["customer_id"])
    signup = _ns(base["signup_at"])
    duration = base["duration_days"].to_numpy()

    parts = []  # (customer position, time in days, column name, delta or value)

    def rolling(event_name, window, argument, column):
        win = _duration(window, argument, where).value / _DAY_NS
        ev = journey.events
        rows = (ev["event"] == event_name).to_numpy()
        pos = id_index.get_indexer(ev["customer_id"].to_numpy()[rows])
        t = (_ns(ev["timestamp"])[rows] - signup[np.maximum(pos, 0)]) / _DAY_NS
        ok = pos >= 0
        pos, t = pos[ok], t[ok]
        parts.append(
            (np.r_[pos, pos], np.r_[t, t + win], column, np.r_[np.ones(len(t)), -np.ones(len(t))])
        )

    names = []
    tickets_col = _window_name("support_tickets", tickets_window, "tickets_window", where)
    rolling(ticket_event, tickets_window, "tickets_window", tickets_col)
    names.append((tickets_col, "count"))
    if engagement_event is not None:
        col = _window_name(f"{engagement_event}s", engagement_window, "engagement_window", where)
        rolling(engagement_event, engagement_window, "engagement_window", col)
        names.append((col, "count"))
    if detractor:
        sv = journey.surveys
        nps = (sv["survey"] == "nps").to_numpy()
        pos = id_index.get_indexer(sv["customer_id"].to_numpy()[nps])
        t = (_ns(sv["timestamp"])[nps] - signup[np.maximum(pos, 0)]) / _DAY_NS
        value = (sv["score"].to_numpy()[nps] <= 6).astype(float)
        ok = pos >= 0
        parts.append((pos[ok], t[ok], "detractor", value[ok]))
        names.append(("detractor", "state"))

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


def _period_codes(values_ns, period):
    """Calendar period ordinal of each timestamp (``period`` a pandas frequency: D, W, M, Q)."""
    values = np.asarray(values_ns).astype("datetime64[ns]")
    unit = {"M": "M", "D": "D", "Y": "Y"}.get(str(period).upper())
    if unit is not None:  # numpy's calendar units share pandas' period ordinals (fast path)
        return values.astype(f"datetime64[{unit}]").astype("int64")
    return pd.DatetimeIndex(values).to_period(period).asi8


def _period_end_ns(ordinals, period):
    return pd.PeriodIndex.from_ordinals(ordinals, freq=period).end_time.asi8


def cohort_retention(data, period="M", kind="contract", *, observed_at=None, touchpoints=None):
    """Signup cohort × periods since signup: the share of each cohort still retained.

    Periods are calendar periods: period 0 is the signup period itself, period 1 the next one,
    and so on. A cell counts only when the whole calendar period has been observed (it ended by
    ``observed_at``) — otherwise it is left blank (NaN), never zero or partial.

    Parameters
    ----------
    data : Journey, or DataFrame
        ``kind="contract"``: a Journey or a customers table (then ``observed_at`` is required
        unless the table carries ``attrs["observed_at"]``, as ``journey.customers`` does).
        ``kind="activity"``: a Journey (cohorts from ``signup_at``), or an events table (cohort
        = period of the first touchpoint; ``observed_at`` required likewise).
    period : str
        Pandas period frequency: ``"M"`` (month), ``"W"``, ``"Q"``, ``"D"``.
    kind : {"contract", "activity"}
        ``"contract"``: share not churned by the end of the period. ``"activity"``: share with
        any touchpoint (at or after signup) in the period.
    observed_at : optional
        End of observation; default the Journey's.
    touchpoints : list of str, optional
        For ``kind="activity"``: event names that count (default every event).

    Returns
    -------
    DataFrame
        Long, one row per cohort × period: ``cohort`` (a pandas Period), ``period`` (0, 1, …),
        ``cohort_size``, ``retained`` (count, NaN when not fully observed), ``pct_retained``
        (0–100, NaN when not fully observed). ``.attrs``: ``kind``, ``period``,
        ``observed_at`` (ISO text), ``excluded_signup_after``.

    Examples
    --------
    >>> import cxkit
    >>> cells = cxkit.cohort_retention(cxkit.load_sample(), period="M")
    >>> float(cells.query("period == 0")["pct_retained"].max()) <= 100
    True
    """
    where = "cohort_retention"
    if kind not in ("contract", "activity"):
        raise DataError(
            where, [{"column": "kind", "expected": f"'contract' or 'activity', got {kind!r}"}]
        )
    try:
        pd.Period("2024-01-01", freq=period)
    except (ValueError, TypeError):
        raise DataError(
            where,
            [
                {
                    "column": "period",
                    "expected": "a pandas period frequency "
                    f"such as 'M', 'W', 'Q', 'D'; got {period!r}",
                }
            ],
        ) from None
    events = None
    if kind == "activity" and isinstance(data, pd.DataFrame) and "timestamp" in data.columns:
        observed = _events_observed_at(data, observed_at, where)
        events = data
        ids = events["customer_id"].astype("category")
        codes = ids.cat.codes.to_numpy().astype("int64")
        ts = _ns(events["timestamp"])
        first = pd.Series(ts).groupby(codes).min()
        first = first[first.to_numpy() <= observed.value]
        customer_code = first.index.to_numpy()
        signup = first.to_numpy()
        excluded = 0
    else:
        customers, observed = _customers_and_observed(data, observed_at, where)
        if kind == "activity":
            if not isinstance(data, Journey):
                raise DataError(
                    where,
                    [
                        {
                            "column": "data",
                            "expected": "a Journey or an events table for kind='activity'",
                        }
                    ],
                )
            events = data.events
        table = survival_table(customers, observed_at=observed)
        excluded = table.attrs["excluded_signup_after"]
        signup = _ns(table["signup_at"])
    obs = observed.value
    obs_period = _period_codes(np.array([obs]), period)[0]
    cohort = _period_codes(signup, period)
    c0 = cohort.min() if len(cohort) else obs_period
    cohort_i = cohort - c0
    n_cohorts = int(obs_period - c0 + 1)
    n_periods = n_cohorts
    size = np.bincount(cohort_i, minlength=n_cohorts)

    if kind == "contract":
        end = signup + (table["duration_days"].to_numpy() * _DAY_NS).round().astype("int64")
        churned = table["churned"].to_numpy()
        k = _period_codes(end[churned], period) - cohort[churned]
        lost = np.bincount(
            cohort_i[churned] * n_periods + k, minlength=n_cohorts * n_periods
        ).reshape(n_cohorts, n_periods)
        retained = size[:, None] - np.cumsum(lost, axis=1)
    else:
        ev_ids = events["customer_id"]
        if not isinstance(ev_ids.dtype, pd.CategoricalDtype):
            ev_ids = ev_ids.astype("category")
        ev_codes = ev_ids.cat.codes.to_numpy().astype("int64")
        ts = _ns(events["timestamp"])
        if touchpoints is not None:
            sel = events["event"].isin(_as_list(touchpoints)).to_numpy()
            ev_codes, ts = ev_codes[sel], ts[sel]
        row_of_code = np.full(len(ev_ids.cat.categories) + 1, -1, "int64")
        if isinstance(data, Journey):
            pos = ev_ids.cat.categories.get_indexer(table["customer_id"])
            row_of_code[pos[pos >= 0]] = np.flatnonzero(pos >= 0)
        else:
            row_of_code[customer_code] = np.arange(len(customer_code))
        row = row_of_code[ev_codes]
        ok = (row >= 0) & (ts <= obs)
        row, ts = row[ok], ts[ok]
        ok = ts >= signup[row]
        row, ts = row[ok], ts[ok]
        k = _period_codes(ts, period) - cohort[row]
        key = np.unique(row * n_periods + k)
        r, k = key // n_periods, key % n_periods
        retained = np.bincount(
            cohort_i[r] * n_periods + k, minlength=n_cohorts * n_periods
        ).reshape(n_cohorts, n_periods)

    cohorts = np.arange(n_cohorts) + c0
    cell_period = cohorts[:, None] + np.arange(n_periods)[None, :]
    complete = _period_end_ns(cell_period.ravel(), period).reshape(cell_period.shape) <= obs
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100.0 * retained / size[:, None]
    retained = np.where(complete, retained, np.nan)
    pct = np.where(complete & (size[:, None] > 0), pct, np.nan)
    cohort_index = np.repeat(np.arange(n_cohorts), n_periods)
    out = pd.DataFrame(
        {
            "cohort": pd.PeriodIndex.from_ordinals(cohorts[cohort_index], freq=period),
            "period": np.tile(np.arange(n_periods), n_cohorts),
            "cohort_size": size[cohort_index],
            "retained": retained.ravel(),
            "pct_retained": pct.ravel(),
        }
    )
    out = out[(out["cohort_size"] > 0) & (cell_period.ravel() <= obs_period)]
    out = out.reset_index(drop=True)
    out.attrs = jsonable(
        {
            "kind": kind,
            "period": period,
            "observed_at": observed,
            "excluded_signup_after": excluded,
        }
    )
    return out


# --------------------------------------------------------------------------------------------
# statistics: Kaplan–Meier, summaries, log-rank
# --------------------------------------------------------------------------------------------


def _km_arrays(duration, churned, alpha):
    """Kaplan–Meier on one group, with lifelines' timeline (0 and every distinct duration)."""
    duration = np.asarray(duration, float)
    churned = np.asarray(churned, bool)
    times, inverse = np.unique(duration, return_inverse=True)
    removed = np.bincount(inverse, minlength=len(times))
    events = np.bincount(inverse, weights=churned, minlength=len(times)).astype("int64")
    if len(times) == 0 or times[0] != 0:
        times = np.r_[0.0, times]
        removed = np.r_[0, removed]
        events = np.r_[0, events]
    at_risk = len(duration) - np.r_[0, np.cumsum(removed)[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(np.where(at_risk > 0, 1 - events / at_risk, 1.0))
        term = np.where(at_risk > events, events / (at_risk * (at_risk - events)), 0.0)
        greenwood = np.cumsum(term)
        z = _zgrid(alpha)
        v = np.log(survival)
        low = np.exp(-np.exp(np.log(-v) - z * np.sqrt(greenwood) / v))
        high = np.exp(-np.exp(np.log(-v) + z * np.sqrt(greenwood) / v))
    low = np.where(np.isnan(low), 1.0, low)
    high = np.where(np.isnan(high), 1.0, high)
    return {
        "time": times,
        "survival": survival,
        "ci_low": low,
        "ci_high": high,
        "at_risk": at_risk.astype("int64"),
        "churned": events,
        "censored": (removed - events).astype("int64"),
        "_greenwood": greenwood,
    }


def kaplan_meier(table, by=None, *, alpha=0.05):
    """Kaplan–Meier retention curve(s), tidy.

    Parameters
    ----------
    table : DataFrame or Journey
        A survival table (:func:`survival_table` or :func:`activity_table`): ``duration_days``
        (finite, ≥ 0) and ``churned`` (True/False or 1/0). A Journey is turned into its
        :func:`survival_table`.
    by : str, optional
        One column to split by; one curve per level. (To split by several, combine them into
        one column first.)
    alpha : float
        1 − confidence level of the pointwise interval (exponential Greenwood, as lifelines),
        strictly between 0 and 1.

    Returns
    -------
    DataFrame
        [``by``], ``time`` (days; 0 and every distinct duration), ``survival`` (probability of
        still being a customer, 0–1), ``ci_low``, ``ci_high``, ``at_risk`` (customers still
        followed just before ``time``), ``churned`` and ``censored`` at ``time``. The number at
        risk at any day ``t`` is the ``at_risk`` of the first row with ``time >= t`` (0 past the
        end), so at-risk counts can be exported or drawn under any axis.

    Raises
    ------
    DataError
        Missing, negative or infinite durations; churn flags other than True/False or 1/0
        (``"yes"``/``"no"`` are not guessed); several ``by`` columns; a ``by`` column with no
        value at all; ``alpha`` outside (0, 1).

    Examples
    --------
    >>> import cxkit
    >>> curve = cxkit.kaplan_meier(cxkit.survival_table(cxkit.load_sample()), by="plan")
    >>> list(curve.columns[:3])
    ['plan', 'time', 'survival']
    """
    where = "kaplan_meier"
    table = _check_survival(table, where)
    by = _one_column(by, where)
    _check_alpha(alpha, where)
    frames = []
    for level, sub in _groups(table, by, where):
        if len(sub) == 0:
            continue
        arrays = _km_arrays(sub["duration_days"], sub["churned"], alpha)
        arrays.pop("_greenwood")
        frame = pd.DataFrame(arrays)
        if by is not None:
            if not sub["churned"].any():
                warnings.warn(
                    f"{where}: group {by}={level!r} has no churn (all "
                    f"{len(sub)} customers censored); its curve stays at 1",
                    stacklevel=2,
                )
            frame.insert(0, by, level)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    if by is not None and isinstance(table[by].dtype, pd.CategoricalDtype):
        out[by] = out[by].astype(table[by].dtype)
    out.attrs = jsonable({"alpha": alpha, "by": by})
    return out


def _step_at(times, values, t):
    """Right-continuous step function value at t (values at times[i] hold until times[i+1])."""
    i = np.searchsorted(times, t, side="right") - 1
    return values[i] if i >= 0 else np.nan


def _first_time_below(times, values, threshold=0.5):
    below = np.flatnonzero(values <= threshold)
    return float(times[below[0]]) if len(below) else np.inf


def survival_summary(table, by=None, times=(30, 90, 180, 365), *, alpha=0.05):
    """Median lifetime with its CI, and the share retained at chosen days, per group.

    Parameters
    ----------
    table : DataFrame
        A survival table.
    by : str, optional
        Column to split by.
    times : sequence of float
        Days at which to report the share still retained.
    alpha : float
        1 − confidence level.

    Returns
    -------
    DataFrame
        One row per group: [``by``], ``customers``, ``churned``, ``median_days`` (inf when the
        curve never reaches 50%), ``median_ci_low``, ``median_ci_high`` (where the CI band
        crosses 50%, as lifelines), then for each day ``t`` ``pct_retained_<t>d``,
        ``ci_low_<t>d``, ``ci_high_<t>d`` (percentages; NaN past the group's follow-up).

    Examples
    --------
    >>> import cxkit
    >>> table = cxkit.survival_table(cxkit.load_sample())
    >>> cxkit.survival_summary(table, by="plan", times=(90, 365)).shape[0]
    2
    """
    where = "survival_summary"
    table = _check_survival(table, where)
    by = _one_column(by, where)
    _check_alpha(alpha, where)
    rows = []
    for level, sub in _groups(table, by, where):
        if len(sub) == 0:
            continue
        km = _km_arrays(sub["duration_days"], sub["churned"], alpha)
        t, s = km["time"], km["survival"]
        row = {} if by is None else {by: level}
        row.update(
            customers=len(sub),
            churned=int(sub["churned"].sum()),
            median_days=_first_time_below(t, s),
            median_ci_low=_first_time_below(t, km["ci_low"]),
            median_ci_high=_first_time_below(t, km["ci_high"]),
        )
        end = float(sub["duration_days"].max())
        for day in times:
            inside = day <= end
            label = f"{day:g}d"
            row[f"pct_retained_{label}"] = 100 * _step_at(t, s, day) if inside else np.nan
            row[f"ci_low_{label}"] = 100 * _step_at(t, km["ci_low"], day) if inside else np.nan
            row[f"ci_high_{label}"] = 100 * _step_at(t, km["ci_high"], day) if inside else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    if by is not None and isinstance(table[by].dtype, pd.CategoricalDtype):
        out[by] = out[by].astype(table[by].dtype)
    out.attrs = jsonable({"alpha": alpha, "times": list(times)})
    return out


def _adjust(p, method):
    if method in ADJUSTMENTS:
        return adjust_pvalues(p, method)
    raise DataError(
        "logrank",
        [
            {
                "column": "correction",
                "expected": f"'holm', 'bonferroni', 'fdr_bh' or None; got {method!r}",
            }
        ],
    )


def logrank(table, by, *, correction="holm"):
    """Log-rank tests: all groups at once, and every pair with a multiple-comparison correction.

    Parameters
    ----------
    table : DataFrame
        A survival table.
    by : str
        Column whose groups are compared.
    correction : {"holm", "bonferroni", "fdr_bh", None}
        Adjustment of the pairwise p-values (the overall test is one test, not adjusted).

    Returns
    -------
    DataFrame
        One row for the overall test (``comparison="all groups"``) and one per pair:
        ``comparison``, ``group_a``, ``group_b``, ``test_statistic`` (chi-squared), ``df``,
        ``p_value``, ``p_adjusted``, ``customers``, ``churned``.

    Examples
    --------
    >>> import cxkit
    >>> table = cxkit.survival_table(cxkit.load_sample())
    >>> cxkit.logrank(table, by="plan")["comparison"].iloc[0]
    'all groups'
    """
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    where = "logrank"
    table = _check_survival(table, where)
    by = _one_column(by, where)
    if by is None:
        raise DataError(
            where,
            [{"column": "by", "expected": "a column whose groups to compare"}],
            columns=table.columns,
        )
    groups = [(lv, sub) for lv, sub in _groups(table, by, where) if len(sub)]
    if len(groups) < 2:
        raise DataError(
            where,
            [{"column": by, "expected": f"at least two groups to compare; found {len(groups)}"}],
        )
    for level, sub in groups:
        if not sub["churned"].any():
            warnings.warn(
                f"{where}: group {by}={level!r} has no churn (all {len(sub)} customers "
                "censored); it is compared as such",
                stacklevel=2,
            )
    sub = pd.concat([s for _, s in groups])
    overall = multivariate_logrank_test(sub["duration_days"], sub[by].astype(str), sub["churned"])
    rows = [
        {
            "comparison": "all groups",
            "group_a": None,
            "group_b": None,
            "test_statistic": float(overall.test_statistic),
            "df": int(overall.degrees_of_freedom),
            "p_value": float(overall.p_value),
            "customers": len(sub),
            "churned": int(sub["churned"].sum()),
        }
    ]
    for i in range(len(groups)):
        for j in range(i + 1, len(groups)):
            (a, ta), (b, tb) = groups[i], groups[j]
            res = logrank_test(
                ta["duration_days"], tb["duration_days"], ta["churned"], tb["churned"]
            )
            rows.append(
                {
                    "comparison": f"{a} vs {b}",
                    "group_a": a,
                    "group_b": b,
                    "test_statistic": float(res.test_statistic),
                    "df": 1,
                    "p_value": float(res.p_value),
                    "customers": len(ta) + len(tb),
                    "churned": int(ta["churned"].sum() + tb["churned"].sum()),
                }
            )
    out = pd.DataFrame(rows)
    out["p_adjusted"] = out["p_value"]
    if len(out) > 1:
        out.loc[1:, "p_adjusted"] = _adjust(out["p_value"].iloc[1:], correction)
    cols = [
        "comparison",
        "group_a",
        "group_b",
        "test_statistic",
        "df",
        "p_value",
        "p_adjusted",
        "customers",
        "churned",
    ]
    out = out[cols]
    out.attrs = jsonable({"by": by, "correction": correction})
    return out


# --------------------------------------------------------------------------------------------
# statistics: Cox models
# --------------------------------------------------------------------------------------------


@dataclass
class CoxResult:
    """A fitted Cox model with tidy results.

    Attributes
    ----------
    hazard_ratios_ : DataFrame
        One row per term: ``term`` (``plan=annual``), ``covariate``, ``level``, ``reference``,
        ``label`` (``plan: annual vs monthly``), ``hazard_ratio``, ``ci_low``, ``ci_high``,
        ``p_value``, ``coef``, ``se``.
    model_ : lifelines CoxPHFitter or CoxTimeVaryingFitter
    concordance_ : float or None
        Cross-validated concordance (mean over folds); None for time-varying models.
    concordance_train_ : float or None
        Concordance on the data the model was fitted on (optimistic).
    ph_check_ : DataFrame or None
        Proportional-hazards test per term (lifelines' ``proportional_hazard_test``, rank
        time transform): ``term``, ``test_statistic``, ``p_value``, ``p_adjusted`` (Holm,
        across terms), ``violates`` (``p_adjusted < ph_alpha``), ``advice`` (plain words).
    ph_summary_ : str
        The proportional-hazards check in one paragraph.
    skipped_ : list of str
        Covariates left out, and why.
    n_, events_ : int
        Customers (or intervals' customers) and churn events used.
    """

    hazard_ratios_: pd.DataFrame
    model_: object
    concordance_: float | None = None
    concordance_train_: float | None = None
    ph_check_: pd.DataFrame | None = None
    ph_summary_: str = ""
    skipped_: list = field(default_factory=list)
    n_: int = 0
    events_: int = 0
    kind_: str = "fixed"

    def __repr__(self):
        lines = [
            f"CoxResult({self.kind_} covariates, n={self.n_:,}, churned={self.events_:,}"
            + (
                f", concordance (cross-validated)={self.concordance_:.3f}"
                if self.concordance_ is not None
                else ""
            )
            + ")"
        ]
        for _, r in self.hazard_ratios_.iterrows():
            lines.append(
                f"  {r['term']:<32} HR {r['hazard_ratio']:6.2f} "
                f"[{r['ci_low']:.2f}, {r['ci_high']:.2f}]  p={r['p_value']:.3g}"
            )
        if self.ph_summary_:
            lines.append("  " + self.ph_summary_)
        if self.skipped_:
            lines.append("  skipped: " + "; ".join(self.skipped_))
        return "\n".join(lines)


def _design(table, covariates, where):
    """Numeric design matrix: categoricals one-hot against their reference level; constant
    covariates are skipped with a warning. Returns (X, terms, skipped, dropped_rows)."""
    columns, terms, skipped = {}, [], []
    missing = table[covariates].isna().any(axis=1).to_numpy()
    for name in covariates:
        col = table[name][~missing]
        if pd.api.types.is_bool_dtype(col) or (
            pd.api.types.is_numeric_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype)
        ):
            values = col.to_numpy().astype(float)
            if np.nanstd(values) == 0:
                skipped.append(f"{name} (constant: {values[0]:g} for everyone)")
                continue
            columns[name] = values
            terms.append({"term": name, "covariate": name, "level": None, "reference": None})
            continue
        ref = _reference_level(name, col)
        levels = (
            list(col.cat.categories)
            if isinstance(col.dtype, pd.CategoricalDtype)
            else sorted(col.unique(), key=str)
        )
        levels = [lv for lv in levels if lv != ref and (col == lv).any()]
        if not levels:
            skipped.append(f"{name} (constant: {ref!r} for everyone)")
            continue
        for lv in levels:
            term = f"{name}={lv}"
            columns[term] = (col == lv).to_numpy().astype(float)
            terms.append({"term": term, "covariate": name, "level": lv, "reference": ref})
    if skipped:
        warnings.warn(f"{where}: skipped " + "; ".join(skipped), stacklevel=3)
    if missing.any():
        warnings.warn(
            f"{where}: {int(missing.sum())} row(s) with a missing covariate value are left out",
            stacklevel=3,
        )
    X = pd.DataFrame(columns, index=table.index[~missing])
    return X, terms, skipped, missing


def _hr_table(model, terms, alpha):
    s = model.summary
    z = _zgrid(alpha)
    rows = []
    for t in terms:
        coef, se = float(s.loc[t["term"], "coef"]), float(s.loc[t["term"], "se(coef)"])
        name = str(t["covariate"]).replace("_", " ")
        label = name if t["level"] is None else f"{name}: {t['level']} vs {t['reference']}"
        rows.append(
            {
                **t,
                "label": label,
                "hazard_ratio": np.exp(coef),
                "ci_low": np.exp(coef - z * se),
                "ci_high": np.exp(coef + z * se),
                "p_value": float(s.loc[t["term"], "p"]),
                "coef": coef,
                "se": se,
            }
        )
    return pd.DataFrame(rows)


def _ph_check(model, frame, terms, alpha_ph):
    from lifelines.statistics import proportional_hazard_test

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = proportional_hazard_test(model, frame, time_transform="rank")
    s = test.summary
    names = [n if isinstance(n, str) else n[0] for n in s.index]
    stats = dict(zip(names, s["test_statistic"].to_numpy(), strict=True))
    ps = dict(zip(names, s["p"].to_numpy(), strict=True))
    raw = np.array([float(ps.get(t["term"], np.nan)) for t in terms])
    adjusted = adjust_pvalues(np.nan_to_num(raw, nan=1.0), "holm")
    rows = []
    for t, p, p_adj in zip(terms, raw, adjusted, strict=True):
        bad = bool(p_adj < alpha_ph)
        if bad:
            advice = (
                f"the effect of {t['covariate']} changes with time since signup: "
                f"stratify on it (cox(..., strata=['{t['covariate']}'])) if you only "
                "need the other hazard ratios, or split follow-up into periods (e.g. "
                "first 90 days vs later) and read one hazard ratio per period"
            )
        else:
            advice = "no evidence against a constant hazard ratio"
        rows.append(
            {
                "term": t["term"],
                "test_statistic": float(stats.get(t["term"], np.nan)),
                "p_value": p,
                "p_adjusted": p_adj,
                "violates": bad,
                "advice": advice,
            }
        )
    check = pd.DataFrame(rows)
    violators = check.loc[check["violates"], "term"].tolist()
    if violators:
        summary = (
            "Proportional hazards: " + ", ".join(violators) + " violate(s) the assumption "
            f"(Holm-adjusted p < {alpha_ph:g}); its hazard ratio is an average over time. "
            "Stratify on "
            "it, or model a time-varying effect; with many customers small, harmless "
            "departures are also flagged, so look at the curves too."
        )
    else:
        summary = (
            f"Proportional hazards: no covariate violates the assumption (Holm-adjusted p ≥ "
            f"{alpha_ph:g} for each); the hazard ratios can be read as constant over "
            "time."
        )
    return check, summary


def _design_varying(table, covariates, where):
    """:func:`_design`, refusing a model in which every covariate was constant."""
    X, terms, skipped, missing = _design(table, covariates, where)
    if not terms:
        raise DataError(
            where,
            [
                {
                    "column": "covariates",
                    "expected": "at least one covariate "
                    "that varies; all were constant: " + "; ".join(skipped),
                }
            ],
        )
    return X, terms, skipped, missing


def _warn_not_at_signup(columns, where):
    """Customer attributes are exported as of extraction; only those the data dictionary marks
    as known at signup are safe as fixed covariates (a tier earned by staying long 'explains'
    staying long)."""
    from .data import SIGNUP_ATTRIBUTES

    rest = [c for c in columns if c not in SIGNUP_ATTRIBUTES]
    if rest:
        warnings.warn(
            f"{where}: {rest} are not marked as known at signup "
            f"({', '.join(SIGNUP_ATTRIBUTES)}). An attribute recorded later (e.g. a loyalty "
            "tier earned by staying) makes long-lived customers look protected by it "
            "(immortal-time bias); use it only if it was fixed at signup.",
            stacklevel=3,
        )


def cox(
    table,
    covariates,
    *,
    strata=None,
    penalizer=0.0,
    alpha=0.05,
    cv=5,
    random_state=0,
    ph_alpha=0.05,
):
    """Cox proportional-hazards model on attributes known at signup.

    Fits lifelines' ``CoxPHFitter``. Categorical covariates are one-hot encoded against a
    reference level (:data:`REFERENCE_LEVELS`: ``organic`` for ``acquisition_channel``,
    ``monthly`` for ``plan``; otherwise the most frequent level). Constant covariates are
    skipped with a warning. Only use attributes fixed at signup here: drivers that change over
    time (tickets, NPS answers, engagement) belong in :func:`cox_time_varying`.

    Parameters
    ----------
    table : DataFrame
        A survival table.
    covariates : sequence of str
        Columns of ``table``.
    strata : sequence of str, optional
        Columns to stratify on (own baseline hazard each, no hazard ratio) — the usual fix when
        a covariate violates proportional hazards.
    penalizer : float
        Ridge penalty passed to lifelines.
    alpha : float
        1 − confidence level of the hazard-ratio intervals.
    cv : int
        Folds for the cross-validated concordance (0 or 1 skips it).
    random_state : int
        Seed of the fold split.
    ph_alpha : float
        Significance level of the proportional-hazards test.

    Returns
    -------
    CoxResult
        ``.hazard_ratios_``, ``.model_``, ``.concordance_`` (cross-validated),
        ``.concordance_train_``, ``.ph_check_``, ``.ph_summary_``, ``.skipped_``.

    Examples
    --------
    >>> import cxkit
    >>> table = cxkit.survival_table(cxkit.load_sample())
    >>> fit = cxkit.cox(table, ["plan", "acquisition_channel"])
    >>> "plan=annual" in set(fit.hazard_ratios_["term"])
    True
    """
    from lifelines import CoxPHFitter
    from lifelines.utils import k_fold_cross_validation

    where = "cox"
    table = _check_survival(table, where)
    _check_alpha(alpha, where)
    covariates = _as_list(covariates)
    strata = _as_list(strata)
    if not covariates:
        raise DataError(
            where,
            [{"column": "covariates", "expected": "at least one column"}],
            columns=table.columns,
        )
    _check_columns(table, covariates, where, "covariates")
    _check_columns(table, strata, where, "strata")
    _warn_not_at_signup(covariates + strata, where)
    X, terms, skipped, missing = _design_varying(table, covariates, where)
    kept = table[~missing]
    frame = X.assign(
        duration_days=kept["duration_days"].to_numpy(),
        churned=kept["churned"].to_numpy().astype(int),
    )
    for s in strata:
        frame[s] = kept[s].astype(str).to_numpy()
    if frame["churned"].sum() == 0:
        raise DataError(
            where,
            [{"column": "churned", "expected": "some churn to model; every customer is censored"}],
        )
    model = CoxPHFitter(penalizer=penalizer, alpha=alpha)
    model.fit(frame, "duration_days", "churned", strata=strata or None)
    hr = _hr_table(model, terms, alpha)
    concordance = None
    if cv and cv > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = k_fold_cross_validation(
                CoxPHFitter(penalizer=penalizer),
                frame,
                "duration_days",
                "churned",
                k=cv,
                scoring_method="concordance_index",
                seed=random_state,
                fitter_kwargs={"strata": strata} if strata else {},
            )
        concordance = float(np.mean(scores))
    check, summary = _ph_check(model, frame, terms, ph_alpha)
    return CoxResult(
        hazard_ratios_=hr,
        model_=model,
        concordance_=concordance,
        concordance_train_=float(model.concordance_index_),
        ph_check_=check,
        ph_summary_=summary,
        skipped_=skipped,
        n_=len(frame),
        events_=int(frame["churned"].sum()),
        kind_="fixed",
    )


def cox_time_varying(table, covariates=None, *, penalizer=0.0, alpha=0.05):
    """Cox model with time-varying covariates (lifelines' ``CoxTimeVaryingFitter``).

    Parameters
    ----------
    table : DataFrame
        From :func:`time_varying_table`: ``customer_id``, ``start``, ``stop``, ``churned`` and
        covariates.
    covariates : sequence of str, optional
        Default: the table's drivers and fixed covariates (``table.attrs``), or every column
        besides the interval columns.
    penalizer : float
        Ridge penalty passed to lifelines.
    alpha : float
        1 − confidence level.

    Returns
    -------
    CoxResult
        ``.hazard_ratios_``, ``.model_``; no concordance or PH test (lifelines offers none for
        time-varying fits).

    Examples
    --------
    >>> import cxkit
    >>> tv = cxkit.time_varying_table(cxkit.load_sample())
    >>> fit = cxkit.cox_time_varying(tv)
    >>> "detractor" in set(fit.hazard_ratios_["term"])
    True
    """
    from lifelines import CoxTimeVaryingFitter

    where = "cox_time_varying"
    _check_columns(table, ["customer_id", "start", "stop", "churned"], where, "table")
    if covariates is None:
        covariates = list(table.attrs.get("drivers", [])) + list(table.attrs.get("covariates", []))
        if not covariates:
            covariates = [
                c for c in table.columns if c not in ("customer_id", "start", "stop", "churned")
            ]
    covariates = _as_list(covariates)
    _check_columns(table, covariates, where, "covariates")
    X, terms, skipped, missing = _design_varying(table, covariates, where)
    kept = table[~missing]
    frame = X.assign(
        customer_id=kept["customer_id"].to_numpy(),
        start=kept["start"].to_numpy(),
        stop=kept["stop"].to_numpy(),
        churned=kept["churned"].to_numpy().astype(int),
    )
    if frame["churned"].sum() == 0:
        raise DataError(
            where,
            [{"column": "churned", "expected": "some churn to model; every customer is censored"}],
        )
    model = CoxTimeVaryingFitter(penalizer=penalizer, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        model.fit(
            frame, id_col="customer_id", event_col="churned", start_col="start", stop_col="stop"
        )
    hr = _hr_table(model, terms, alpha)
    return CoxResult(
        hazard_ratios_=hr,
        model_=model,
        skipped_=skipped,
        n_=int(frame["customer_id"].nunique()),
        events_=int(frame["churned"].sum()),
        kind_="time-varying",
        ph_summary_="Proportional hazards: not tested for time-varying fits.",
    )


# --------------------------------------------------------------------------------------------
# statistics: restricted mean survival time
# --------------------------------------------------------------------------------------------


def _rmst_one(duration, churned, horizon):
    """RMST up to ``horizon`` and its Greenwood-based variance (Klein & Moeschberger eq. 4.4.4,
    as R's survRM2): Var = Σ_{t_i ≤ τ} A_i² d_i / (n_i (n_i − d_i)), A_i = ∫_{t_i}^{τ} S."""
    km = _km_arrays(duration, churned, 0.05)
    t, s = km["time"], km["survival"]
    inside = t <= horizon
    t, s = t[inside], s[inside]
    d, n = km["churned"][inside], km["at_risk"][inside]
    widths = np.diff(np.r_[t, horizon])
    pieces = s * widths
    area = pieces.sum()
    tail = np.cumsum(pieces[::-1])[::-1]  # A_i: S is s_j on [t_j, t_j+1), so Σ_{j≥i}
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where((n > d) & (d > 0), d / (n * (n - d)), 0.0)
    var = float(np.sum(tail**2 * term))
    return float(area), var


def _horizon_days(horizon, where):
    """τ in days from a number of days or a duration such as ``"365D"`` or ``"52W"``."""
    if isinstance(horizon, numbers.Real) and not isinstance(horizon, bool):
        days = float(horizon)
        if not (np.isfinite(days) and days > 0):
            raise DataError(
                f"{where}(horizon=...)",
                [
                    {
                        "column": "horizon",
                        "expected": f"a positive number of days (or '365D'); got {horizon!r}",
                    }
                ],
            )
        return days
    return _duration(horizon, "horizon", where) / pd.Timedelta("1D")


def rmst(table, by=None, horizon=365, *, alpha=0.05, reference=None):
    """Restricted mean survival time: expected days as a customer within ``horizon`` days.

    The area under the Kaplan–Meier curve up to ``horizon``, with a confidence interval from
    the Greenwood-based variance of Klein & Moeschberger (2003, eq. 4.4.4), the formula of R's
    ``survRM2`` (lifelines' ``restricted_mean_survival_time(return_variance=True)`` returns the
    variance of min(T, τ) instead — lifelines issue #1682). With ``by``, also the difference of
    each group from a reference group, with its CI and p-value (independent groups).

    Parameters
    ----------
    table : DataFrame
        A survival table.
    by : str, optional
        Column to split by.
    horizon : float or str
        τ in days (365: "expected days as a customer within the first year"), or a duration
        such as ``"365D"`` or ``"52W"`` (converted to days).
    alpha : float
        1 − confidence level.
    reference : optional
        The group differences are taken against. Default: :data:`REFERENCE_LEVELS` for the
        column, else the largest group.

    Returns
    -------
    DataFrame
        One row per group: [``by``], ``versus`` (empty), ``rmst_days``, ``se``, ``ci_low``,
        ``ci_high``, ``customers``; then one row per other group: ``versus`` = the reference,
        ``rmst_days`` = group − reference difference, its ``se``, CI and ``p_value``.
        ``.attrs["horizon"]``. A group followed for less than ``horizon`` gets NaN and a warning.

    Examples
    --------
    >>> import cxkit
    >>> table = cxkit.survival_table(cxkit.load_sample())
    >>> bool(cxkit.rmst(table, by="plan", horizon=365)["rmst_days"].notna().all())
    True
    """
    from scipy.stats import norm

    where = "rmst"
    table = _check_survival(table, where)
    by = _one_column(by, where)
    _check_alpha(alpha, where)
    horizon = _horizon_days(horizon, where)
    z = _zgrid(alpha)
    rows = []
    for level, sub in _groups(table, by, where):
        if len(sub) == 0:
            continue
        follow = float(sub["duration_days"].max())
        if follow < horizon:
            warnings.warn(
                f"{where}: {'' if by is None else f'group {by}={level!r}: '}followed "
                f"for {follow:.0f} days at most, less than the horizon of "
                f"{horizon:g}; its RMST is left blank (choose a shorter horizon)",
                stacklevel=2,
            )
            est, var = np.nan, np.nan
        else:
            est, var = _rmst_one(sub["duration_days"], sub["churned"], horizon)
        se = np.sqrt(var)
        row = {} if by is None else {by: level}
        row.update(
            versus=None,
            rmst_days=est,
            se=se,
            ci_low=est - z * se,
            ci_high=est + z * se,
            p_value=np.nan,
            customers=len(sub),
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    if by is not None and len(out) > 1:
        levels = list(out[by])
        if reference is None:
            ref = REFERENCE_LEVELS.get(by)
            if ref not in levels:
                ref = levels[int(np.argmax(out["customers"].to_numpy()))]
        else:
            ref = reference
            if ref not in levels:
                raise DataError(
                    where, [{"column": "reference", "expected": f"one of {levels}; got {ref!r}"}]
                )
        r = out[out[by] == ref].iloc[0]
        diffs = []
        for _, g in out[out[by] != ref].iterrows():
            est = g["rmst_days"] - r["rmst_days"]
            se = np.sqrt(g["se"] ** 2 + r["se"] ** 2)
            diffs.append(
                {
                    by: g[by],
                    "versus": ref,
                    "rmst_days": est,
                    "se": se,
                    "ci_low": est - z * se,
                    "ci_high": est + z * se,
                    "p_value": 2 * norm.sf(abs(est / se)) if se > 0 else np.nan,
                    "customers": int(g["customers"] + r["customers"]),
                }
            )
        out = pd.concat([out, pd.DataFrame(diffs)], ignore_index=True)
    out.attrs = jsonable({"horizon": horizon, "alpha": alpha})
    return out

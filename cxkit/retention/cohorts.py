"""Cohort retention: the share of each signup cohort still a customer after k periods."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._args import jsonable
from ..data import DataError, Journey
from ..engine.frames import customers_frame
from ..engine.journey import is_engine
from .checks import _DAY_NS, _as_list, _customers_and_observed, _events_observed_at, _ns
from .reduce import survival_table

#: Most signup cohorts (calendar periods spanned) a cohort table takes: the table is cohorts ×
#: periods, so minutes over years (``period="min"``) asked for terabytes.
MAX_COHORTS = 2_000


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
    if is_engine(data):
        from ..engine.cohorts import cohort_retention as on_engine

        return on_engine(data, period, kind, observed_at=observed_at, touchpoints=touchpoints)
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
    _check_size(n_cohorts, period, where)
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

    return _cells(retained, size, c0, obs_period, period, observed, kind, excluded)


def _check_size(n_cohorts, period, where):
    """A DataError when ``period`` gives more than MAX_COHORTS cohorts (both engines)."""
    if n_cohorts > MAX_COHORTS:
        raise DataError(
            f"{where}(period=...)",
            [
                {
                    "column": "period",
                    "expected": f"at most {MAX_COHORTS:,} calendar periods from the first "
                    f"signup to observed_at; period={period!r} gives {n_cohorts:,} (a table of "
                    f"{n_cohorts:,} × {n_cohorts:,} cells)",
                }
            ],
            hint="use a coarser period: 'D', 'W', 'M' or 'Q'",
        )


def _cells(retained, size, c0, obs_period, period, observed, kind, excluded):
    """The long cohort table from the retained counts (cohorts × periods since signup) and the
    cohort sizes; cells whose calendar period had not ended by ``observed`` are blank."""
    obs = observed.value
    n_cohorts, n_periods = retained.shape
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


def cohort_period(span):
    """The calendar period for cohorts over a span of data (a Timedelta): months from half a
    year, weeks from six weeks, days from a week; None below (too short for cohorts)."""
    days = pd.Timedelta(span) / pd.Timedelta("1D")
    for period, at_least in (("M", 180), ("W", 42), ("D", 7)):
        if days >= at_least:
            return period
    return None


def cohort_table(journey, *, period=None):
    """Cohort retention by the journey's business model — one entry point.

    Contractual data: share not yet churned (``kind="contract"``). Non-contractual data: share
    with an activity touchpoint (the spec's ``business.activity``, else any event) in each
    period (``kind="activity"``). ``period`` defaults to :func:`cohort_period` of the data's
    span; when the data is too short for cohorts the result is empty, with ``attrs["period"]``
    None.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.retention.cohorts import cohort_table
    >>> cohort_table(cxkit.load_sample()).attrs["kind"]
    'contract'
    """
    contract = journey.business_model == "contractual"
    kind = "contract" if contract else "activity"
    if period is None:
        if is_engine(journey):
            from ..engine.cohorts import first_signup

            period = cohort_period(journey.observed_at - first_signup(journey))
        else:
            period = cohort_period(
                journey.observed_at - customers_frame(journey)["signup_at"].min()
            )
    if period is None:
        cols = ["cohort", "period", "cohort_size", "retained", "pct_retained"]
        out = pd.DataFrame({c: [] for c in cols})
        out.attrs = {"kind": kind, "period": None}
        return out
    touchpoints = None if contract else journey.spec.activity
    out = cohort_retention(journey, period=period, kind=kind, touchpoints=touchpoints)
    out.attrs["touchpoints"] = touchpoints
    return out

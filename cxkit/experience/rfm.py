"""Recency–frequency–monetary segments of buyers, from the events' revenue."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._args import jsonable, observed_at_of
from ..data import DataError, Journey
from ..engine.journey import is_engine
from .scores import _as_list

#: The standard R × F segment grid: (segment, R scores, F scores, meaning), best first. Every one
#: of the 25 (R, F) cells belongs to exactly one segment.
RFM_SEGMENTS = (
    ("champions", (5,), (4, 5), "bought recently and buy often"),
    ("loyal", (3, 4), (4, 5), "buy often, fairly recently"),
    ("potential loyalists", (4, 5), (2, 3), "recent, a few purchases"),
    ("new", (5,), (1,), "first purchase very recently"),
    ("promising", (4,), (1,), "recent, one purchase"),
    ("need attention", (3,), (3,), "average recency and frequency"),
    ("about to sleep", (3,), (1, 2), "few purchases, not recently"),
    ("can't lose them", (1, 2), (5,), "used to buy most often, long ago"),
    ("at risk", (1, 2), (3, 4), "bought often, long ago"),
    ("hibernating", (1, 2), (1, 2), "few purchases, long ago"),
)


_SEGMENT_NAMES = [s[0] for s in RFM_SEGMENTS]


_SEGMENT_GRID = np.empty((6, 6), dtype=object)  # [R, F], 1-based


for _name, _rs, _fs, _ in RFM_SEGMENTS:
    for _r in _rs:
        for _f in _fs:
            _SEGMENT_GRID[_r, _f] = _name


def _quintile_score(values, higher_is_better):
    """Score 1–5: 1 + floor(5 × share of customers with a strictly worse value).

    Ties share a score (the one of their lowest-placed member), so the score does not depend on
    row order; with many ties (e.g. one-time buyers) some scores stay unused.
    """
    x = pd.Series(np.asarray(values, float))
    worse = (x if higher_is_better else -x).rank(method="min").to_numpy() - 1
    return (1 + (5 * worse.astype("int64")) // len(x)).astype("int64")


def rfm(events, *, observed_at=None, event=None):
    """Recency, frequency and monetary value per customer, with scores and named segments.

    Parameters
    ----------
    events : DataFrame or Journey
        The events table (or a Journey: its events and ``observed_at``).
    observed_at : str or Timestamp, optional
        The moment recency is measured to. Default: the Journey's ``observed_at``, else the
        events table's ``attrs["observed_at"]`` (set by cxkit's loaders), else the latest event
        (``.attrs["observed_at_from"]`` says which). Events after it are left out (counted in
        ``.attrs["excluded"]``).
    event : str or list of str, optional
        Which events count as purchases. Default: every event with a ``value`` (revenue), so
        page views and logins do not count. With ``event=``, those events count and
        ``monetary`` sums their values (missing values as 0).

    Returns
    -------
    DataFrame
        One row per person with at least one qualifying event: ``customer_id``, ``recency``
        (days since the last one), ``frequency`` (how many), ``monetary`` (sum of value),
        ``r_score``, ``f_score``, ``m_score`` (1–5, 5 best), ``rfm`` (e.g. "545") and
        ``segment`` (ordered categorical, :data:`RFM_SEGMENTS`, from R and F).
        ``.attrs["observed_at"]`` is the moment used, as ISO text.

    Notes
    -----
    Scores are quintiles of customers: score = 1 + floor(5 × share of customers whose value is
    strictly worse), where worse means longer ago for recency and lower for frequency and
    monetary. Tied customers share a score whatever the row order (all one-time buyers get
    F = 1), so with heavy ties fewer than five scores are used. Segments follow the common R × F
    grid (champions R5 F4–5, loyal R3–4 F4–5, … hibernating R1–2 F1–2).

    Examples
    --------
    >>> import cxkit
    >>> j = cxkit.load_sample()
    >>> table = cxkit.rfm(j)
    >>> bool(table["r_score"].between(1, 5).all())
    True
    """
    if is_engine(events):
        from ..engine.rfm import rfm as on_engine

        return on_engine(events, observed_at=observed_at, event=event)
    origin = None
    if isinstance(events, Journey):
        if observed_at is None:
            observed_at, origin = events.observed_at, "the Journey's observed_at"
        events = events.events
    if not isinstance(events, pd.DataFrame):
        raise DataError(
            "rfm(events=...)",
            [
                {
                    "column": "events",
                    "expected": "the events "
                    f"DataFrame or a cxkit.Journey; got {type(events).__name__}",
                }
            ],
        )
    need = ["customer_id", "timestamp", "event"] + (["value"] if event is None else [])
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise DataError(
            "rfm(events=...)",
            [{"column": c, "expected": "required column is missing"} for c in missing],
            columns=events.columns,
            hint="without a value column, name the purchase events: event='purchase'"
            if missing == ["value"]
            else None,
        )
    if observed_at is not None:
        origin = origin or "given"
    elif events.attrs.get("observed_at") is not None:
        origin = "the table's extraction moment (events.attrs)"
    observed_at = observed_at_of(events, observed_at, "rfm")
    if observed_at is None:
        observed_at = pd.Timestamp(events["timestamp"].max())
        origin = "the latest event (no observed_at given)"
    if event is None:
        mask = events["value"].notna().to_numpy()
        rule = "events with a value"
    else:
        names = _as_list(event)
        mask = events["event"].isin(names).to_numpy()
        rule = f"events {names}"
    late = mask & (events["timestamp"] > observed_at).to_numpy()
    mask &= ~late
    if not mask.any():
        raise _none_found(event, rule, observed_at)
    cols = ["customer_id", "timestamp"] + (["value"] if "value" in events.columns else [])
    rows = events.loc[mask, cols]
    rows = rows.assign(
        customer_id=rows["customer_id"].astype(object),
        value=rows["value"].fillna(0.0) if "value" in rows else 0.0,
    )
    g = rows.groupby("customer_id", sort=True)
    table = pd.DataFrame(
        {"last": g["timestamp"].max(), "frequency": g.size(), "monetary": g["value"].sum()}
    ).reset_index()
    return _scored(table, observed_at, origin, rule, int(late.sum()))


def _none_found(event, rule, observed_at):
    """The DataError of :func:`rfm` when no event qualifies (both engines)."""
    return DataError(
        "rfm(events=...)",
        [
            {
                "column": "value" if event is None else "event",
                "expected": f"at least one qualifying event ({rule}) on or before "
                f"{observed_at}; none found",
            }
        ],
        hint="name the purchase events with event='purchase'",
    )


def _scored(table, observed_at, origin, rule, late):
    """Scores and segments on the per-customer table (``customer_id``, ``last``,
    ``frequency``, ``monetary``), shared by the engines."""
    table.insert(1, "recency", (observed_at - table.pop("last")) / pd.Timedelta(days=1))
    table["frequency"] = table["frequency"].astype("int64")
    table["r_score"] = _quintile_score(table["recency"], higher_is_better=False)
    table["f_score"] = _quintile_score(table["frequency"], higher_is_better=True)
    table["m_score"] = _quintile_score(table["monetary"], higher_is_better=True)
    table["rfm"] = (
        table["r_score"].astype(str) + table["f_score"].astype(str) + table["m_score"].astype(str)
    )
    table["segment"] = pd.Categorical(
        _SEGMENT_GRID[table["r_score"].to_numpy(), table["f_score"].to_numpy()],
        categories=_SEGMENT_NAMES,
        ordered=True,
    )
    table.attrs = jsonable(
        {
            "observed_at": observed_at,
            "observed_at_from": origin,
            "counted": rule,
            "excluded": {"qualifying events after observed_at": late},
        }
    )
    return table


def rfm_summary(table):
    """Segment sizes and value from an :func:`rfm` table, one row per segment (best first).

    Returns
    -------
    DataFrame
        ``segment``, ``customers``, ``pct_customers``, ``monetary`` (sum), ``pct_monetary``,
        ``mean_recency``, ``mean_frequency``, ``mean_monetary``. Empty segments are kept with 0.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.experience import rfm_summary
    >>> summary = rfm_summary(cxkit.rfm(cxkit.load_sample()))
    >>> int(summary["customers"].sum()) > 0
    True
    """
    missing = [
        c for c in ("segment", "recency", "frequency", "monetary") if c not in table.columns
    ]
    if missing:
        raise DataError(
            "rfm_summary(table=...)",
            [{"column": c, "expected": "a column of cxkit.rfm's result"} for c in missing],
            columns=table.columns,
            hint="pass the table returned by cxkit.rfm",
        )
    g = table.groupby("segment", observed=False, sort=True)
    out = g.agg(
        customers=("recency", "size"),
        monetary=("monetary", "sum"),
        mean_recency=("recency", "mean"),
        mean_frequency=("frequency", "mean"),
        mean_monetary=("monetary", "mean"),
    ).reset_index()
    out.insert(2, "pct_customers", 100 * out["customers"] / max(len(table), 1))
    total = table["monetary"].sum()
    out.insert(4, "pct_monetary", 100 * out["monetary"] / total if total else np.nan)
    return out

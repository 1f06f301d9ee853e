"""RFM on an engine: recency, frequency and monetary value per buyer as one Ibis aggregation;
the quintile scores and segments run on the pulled-back table as in :func:`cxkit.rfm`."""

from __future__ import annotations

import pandas as pd

from .._args import moment
from ..data import DataError
from .retention import _lit


def rfm(journey, *, observed_at=None, event=None):
    """:func:`cxkit.rfm` on an :class:`~cxkit.engine.EngineJourney` (same table and attrs)."""
    from ..experience.rfm import _none_found, _scored
    from ..experience.scores import _as_list

    if observed_at is None:
        observed, origin = journey.observed_at, "the Journey's observed_at"
    else:
        observed, origin = moment(observed_at, "observed_at", "rfm"), "given"
    ev = journey.events
    if event is None and "value" not in ev.columns:
        raise DataError(
            "rfm(events=...)",
            [{"column": "value", "expected": "required column is missing"}],
            columns=[c for c in ev.columns if c != "_row"],
            hint="without a value column, name the purchase events: event='purchase'",
        )
    if event is None:
        mask, rule = ev.value.notnull(), "events with a value"
    else:
        names = _as_list(event)
        mask, rule = ev.event.isin(names), f"events {names}"
    obs = _lit(observed)
    qualifying = ev.filter(mask)
    late = int(journey.execute((qualifying.timestamp > obs).cast("int64").sum()) or 0)
    rows = qualifying.filter(qualifying.timestamp <= obs)
    value = rows.value.cast("float64").fill_null(0.0) if "value" in rows.columns else 0.0
    rows = rows.mutate(v=value)
    table = journey.execute(
        rows.group_by("customer_id").aggregate(
            last=rows.timestamp.max(), frequency=rows.count(), monetary=rows.v.sum()
        )
    )
    if not len(table):
        raise _none_found(event, rule, observed)
    table = table.sort_values("customer_id", kind="stable").reset_index(drop=True)
    table["customer_id"] = table["customer_id"].astype(object)
    table["last"] = pd.to_datetime(table["last"]).astype("datetime64[ns]")
    table["frequency"] = table["frequency"].astype("int64")
    table["monetary"] = table["monetary"].astype(float)
    return _scored(table, pd.Timestamp(observed), origin, rule, late)

"""time_varying_table on an engine: the drivers' change points are selected in SQL (only the
ticket / engagement events and NPS answers of followed customers come back), and the start/stop
intervals are assembled by the pandas code (:func:`cxkit.retention.reduce._intervals`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._args import duration as _duration
from ..data import SIGNUP_ATTRIBUTES, DataError

_DAY_NS = 86_400 * 10**9


def _ns(values):
    return pd.to_datetime(values).astype("datetime64[ns]").to_numpy().astype("int64")


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
    """:func:`cxkit.time_varying_table` on an :class:`~cxkit.engine.EngineJourney`."""
    from ..retention.checks import _as_list
    from ..retention.reduce import _intervals, _window_name
    from .retention import survival_table

    where = "time_varying_table"
    columns = list(journey.customers.columns)
    if covariates is None:
        covariates = [c for c in SIGNUP_ATTRIBUTES if c in columns]
    covariates = _as_list(covariates)
    missing = [c for c in covariates if c not in columns]
    if missing:
        raise DataError(
            where,
            [{"column": c, "expected": "a column of the customers table"} for c in missing],
            columns=columns,
        )
    base = survival_table(journey, observed_at=observed_at)
    observed = pd.Timestamp(base.attrs["observed_at"])
    id_index = pd.Index(base["customer_id"])
    signup = _ns(base["signup_at"])
    parts, names = [], []

    def rolling(event_name, window, argument, column):
        win = _duration(window, argument, where).value / _DAY_NS
        ev = journey.events
        rows = journey.execute(
            ev.filter(ev.event == event_name).select("customer_id", "timestamp", "_row")
        ).sort_values("_row", kind="stable")
        pos = id_index.get_indexer(rows["customer_id"].to_numpy())
        t = (_ns(rows["timestamp"]) - signup[np.maximum(pos, 0)]) / _DAY_NS
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
        if journey.surveys is not None:
            sv = journey.surveys
            rows = journey.execute(
                sv.filter(sv.survey == "nps").select("customer_id", "timestamp", "score")
            ).sort_values("timestamp", kind="stable")
        else:
            rows = pd.DataFrame({"customer_id": [], "timestamp": [], "score": []})
        pos = id_index.get_indexer(rows["customer_id"].astype(object).to_numpy())
        t = (_ns(rows["timestamp"]) - signup[np.maximum(pos, 0)]) / _DAY_NS
        value = (rows["score"].to_numpy(float) <= 6).astype(float)
        ok = pos >= 0
        parts.append((pos[ok], t[ok], "detractor", value[ok]))
        names.append(("detractor", "state"))
    return _intervals(base, parts, names, covariates, observed)

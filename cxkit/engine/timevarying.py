"""time_varying_table on an engine: the drivers' change points are selected in SQL (only the
ticket / engagement events and NPS answers of followed customers come back), and the start/stop
intervals are assembled by the pandas code (:func:`cxkit.retention.reduce._drivers`,
:func:`~cxkit.retention.reduce._intervals`)."""

from __future__ import annotations

import pandas as pd

from ..data import SIGNUP_ATTRIBUTES, DataError


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
    from ..retention.reduce import _drivers, _intervals
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

    def events_of(name):
        ev = journey.events
        rows = journey.execute(
            ev.filter(ev.event == name).select("customer_id", "timestamp", "_row")
        ).sort_values("_row", kind="stable")
        return rows["customer_id"].to_numpy(), _ns(rows["timestamp"])

    def nps():
        if journey.surveys is not None:
            sv = journey.surveys
            rows = journey.execute(
                sv.filter(sv.survey == "nps").select("customer_id", "timestamp", "score")
            ).sort_values("timestamp", kind="stable")
        else:
            rows = pd.DataFrame({"customer_id": [], "timestamp": [], "score": []})
        return (
            rows["customer_id"].astype(object).to_numpy(),
            _ns(rows["timestamp"]),
            rows["score"].to_numpy(float),
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

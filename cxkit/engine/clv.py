"""The repeat-buying (BTYD) summary on an engine: frequency, recency, T and monetary value per
buyer as one Ibis expression, with the rules of :func:`cxkit.clv_summary` (purchases grouped by
calendar day; the first purchase day starts the relationship and is not counted).

>>> import cxkit
>>> j = cxkit.read_journey(cxkit.sample_dir(), engine="duckdb")  # doctest: +SKIP
>>> cxkit.clv_summary(j).head()                                   # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from .._args import jsonable, moment
from ..data import DataError
from .journey import ROW, EngineJourney, _ibis
from .retention import _lit

_SOURCE = "clv_summary()"


def _as_list(x):
    return [x] if isinstance(x, str) else list(x)


def purchase_rule(journey, event=None):
    """:func:`cxkit.clv.summary.purchase_rule` on an engine journey: ``(names or None, rule)``,
    asking the engine only what the rule needs (whether any amount is known, the event names)."""
    from ..data.journey import purchase_like

    ev, spec = journey.events, journey.spec
    if event is not None:
        return _as_list(event), "the events given"
    if spec.activity and spec.business_model == "non-contractual":
        return _as_list(spec.activity), "the spec's activity events"
    if "value" in ev.columns and journey.execute(ev.value.notnull().any()):
        return None, "events with an amount"
    steps = (spec.funnel or {}).get("steps")
    if steps:
        last = list(steps.values())[-1] if isinstance(steps, dict) else steps[-1]
        return _as_list(last), "the funnel's last step"
    names = journey.execute(ev.select("event").filter(ev.event.notnull()).distinct())["event"]
    like = sorted(purchase_like(names.astype(str))) if len(names) else []
    if like:
        return like, "events named like a purchase"
    return [], "no purchase events known"


def clv_summary(journey, observed_at=None, time_unit="W", *, event=None, value="value"):
    """:func:`cxkit.clv_summary` on an :class:`~cxkit.engine.EngineJourney` (same table, same
    attrs, same errors). Two scans of the purchases: one for the counts the attrs and errors
    need, one for the per-buyer aggregation (per customer and day, then per customer).

    Examples
    --------
    >>> import pandas as pd
    >>> from cxkit.engine import EngineJourney
    >>> log = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...                     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08",
    ...                                                  "2024-01-10"]),
    ...                     "event": "purchase", "value": [10.0, 20.0, 5.0]})
    >>> j = EngineJourney.from_frames(log, observed_at="2024-01-29")  # doctest: +SKIP
    >>> clv_summary(j)["frequency"].tolist()                          # doctest: +SKIP
    [1, 0]
    """
    from ..clv.summary import UNIT_DAYS, no_purchases

    ibis = _ibis()
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
    if not isinstance(journey, EngineJourney):
        raise DataError(
            _SOURCE,
            [
                {
                    "column": "journey_or_events",
                    "expected": "a cxkit.Journey, an engine journey or the events DataFrame; "
                    f"got {type(journey).__name__}",
                }
            ],
        )
    origin = "given"
    if observed_at is None:
        observed_at, origin = journey.observed_at, "the Journey's observed_at"
    ev = journey.events
    names, rule = purchase_rule(journey, event)
    has_value = value is not None and value in ev.columns
    if value is not None and value != "value" and not has_value:
        raise DataError(
            _SOURCE,
            [{"column": value, "expected": "the amount column named by value= is missing"}],
            columns=[c for c in ev.columns if c != ROW],
            hint="value=None for a frequency-only summary",
        )
    if names is None:
        mask = ev["value" if value is None else value].notnull()
    else:
        mask = ev.event.isin(names) if names else ibis.literal(False)
    bought = ev.filter(mask)
    amount = bought[value].cast("float64") if has_value else ibis.null("float64")
    bought = bought.select("customer_id", "timestamp", v=amount)
    end = None if observed_at is None else moment(observed_at, "observed_at", "clv_summary")
    counts = bought.aggregate(
        n=bought.count(),
        latest=bought.timestamp.max(),
        late=(bought.timestamp > _lit(end)).cast("int64").sum() if end is not None else 0,
        missing=(
            (bought.v.isnull() & (bought.timestamp <= _lit(end))).cast("int64").sum()
            if end is not None
            else bought.v.isnull().cast("int64").sum()
        ),
    )
    counts = journey.execute(counts).iloc[0]
    if not int(counts["n"]):
        raise no_purchases(rule, names)
    if end is None:
        end = pd.Timestamp(counts["latest"])
        origin = "the latest purchase (no observed_at given)"
    late = int(counts["late"] or 0)
    if late == int(counts["n"]):
        raise DataError(
            _SOURCE,
            [{"column": "timestamp", "expected": f"a purchase on or before {end}; none found"}],
        )
    kept = bought.filter(bought.timestamp <= _lit(end))
    # one row per customer and purchase day: a day's amounts summed (null if none known)
    per_day = kept.group_by(
        ["customer_id", kept.timestamp.date().epoch_days().name("d")]
    ).aggregate(v=kept.v.sum())
    per_day = per_day.mutate(
        repeat=per_day.d > per_day.d.min().over(ibis.window(group_by="customer_id"))
    )
    known = per_day.repeat & per_day.v.notnull()
    end_day = ibis.literal(pd.Timestamp(end).date()).epoch_days()
    unit = UNIT_DAYS[time_unit]
    table = per_day.group_by("customer_id").aggregate(
        frequency=per_day.count() - 1,
        recency=(per_day.d.max() - per_day.d.min()).cast("float64") / unit,
        T=(end_day - per_day.d.min()).cast("float64") / unit,
        total=known.ifelse(per_day.v, 0.0).sum(),
        known=known.cast("int64").sum(),
    )
    table = journey.execute(table).sort_values("customer_id", kind="stable")
    table = table.reset_index(drop=True)
    out = pd.DataFrame(
        {
            "customer_id": table["customer_id"].astype(object).to_numpy(),
            "frequency": table["frequency"].astype("int64").to_numpy(),
            "recency": table["recency"].astype(float).to_numpy(),
            "T": table["T"].astype(float).to_numpy(),
        }
    )
    if has_value:
        known = table["known"].astype("int64").to_numpy()
        total = table["total"].astype(float).to_numpy()
        out["monetary_value"] = 0.0
        out.loc[known > 0, "monetary_value"] = total[known > 0] / known[known > 0]
    out.attrs = jsonable(
        {
            "observed_at": end,
            "observed_at_from": origin,
            "time_unit": time_unit,
            "purchases": rule if names is None else f"{rule}: {', '.join(map(str, names))}",
            "amount": value if has_value else None,
            "excluded": {"purchases after observed_at": late},
            "missing_amounts": int(counts["missing"] or 0) if has_value else None,
        }
    )
    return out

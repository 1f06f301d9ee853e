"""Retention reductions as Ibis expressions: survival (contract churn) and activity (a lapse
after an inactivity gap), with the same rules and results as :mod:`cxkit.retention.reduce`."""

from __future__ import annotations

import pandas as pd

from .._args import duration as _duration
from .._args import jsonable, moment
from ..data import DataError
from .journey import EngineJourney, _ibis

_DAY_US = 86_400 * 10**6
_CORE = ("customer_id", "signup_at", "churned_at")


def _journey(data, where):
    if not isinstance(data, EngineJourney):
        raise DataError(
            where,
            [{"column": "data", "expected": f"an EngineJourney, got {type(data).__name__}"}],
        )
    return data


def _obs(journey, observed_at, where):
    observed = journey.observed_at if observed_at is None else observed_at
    return moment(observed, "observed_at", where)


def _lit(ts):
    return _ibis().literal(pd.Timestamp(ts).to_pydatetime(), type="timestamp")


def _days(end, begin):
    """Fractional days from ``begin`` to ``end`` (exact to the microsecond)."""
    return end.delta(begin, unit="microsecond").cast("float64") / _DAY_US


def _interval(td):
    return _ibis().interval(microseconds=int(pd.Timedelta(td).value // 1000))


def _pandas(frame, times=(), categories=()):
    for col in times:
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    for col in categories:
        if col in frame.columns and frame[col].dtype == object:
            frame[col] = frame[col].astype("category")
    return frame


def survival_expr(journey, observed):
    """(expression of the kept customers' survival rows, counts expression)."""
    c = journey.customers
    obs = _lit(observed)
    churned = c.churned_at.notnull() & (c.churned_at <= obs)
    end = churned.ifelse(c.churned_at, obs)
    attributes = [col for col in c.columns if col not in _CORE]
    rows = c.mutate(
        duration_days=_days(end, c.signup_at), churned=churned, keep=c.signup_at <= obs
    )
    counts = rows.aggregate(
        n=rows.count(),
        excluded=(~rows.keep).cast("int64").sum(),
        churn_after=(rows.keep & c.churned_at.notnull() & ~churned).cast("int64").sum(),
        first=c.signup_at.min(),
    )
    rows = rows.filter(rows.keep).select(
        "customer_id", "signup_at", "duration_days", "churned", *attributes
    )
    return rows, counts, attributes


def survival_table(data, *, observed_at=None):
    """:func:`cxkit.survival_table` on an engine journey (same columns, rows and attrs)."""
    where = "survival_table"
    journey = _journey(data, where)
    observed = _obs(journey, observed_at, where)
    rows, counts, attributes = survival_expr(journey, observed)
    got = journey.execute(counts).iloc[0]
    n, excluded = int(got["n"]), int(got["excluded"] or 0)
    if n and excluded == n:
        raise DataError(
            f"{where}(observed_at=...)",
            [
                {
                    "column": "observed_at",
                    "expected": f"a moment after some signup; every customer ({n}) signed up "
                    f"after {observed} (the first on {got['first']}), so none is left to follow",
                    "rows": n,
                }
            ],
            hint="observed_at is the extraction moment: the end of the data, not its start",
        )
    out = journey.execute(rows.order_by(["signup_at", "customer_id"]))
    out = _pandas(out, ("signup_at",), attributes)
    out["churned"] = out["churned"].astype(bool)
    out["customer_id"] = out["customer_id"].astype(object)
    out.attrs = jsonable(
        {
            "observed_at": observed,
            "excluded_signup_after": excluded,
            "churn_after_observed": int(got["churn_after"] or 0),
            "source": journey.source,
        }
    )
    return out


def _touchpoints(journey, observed, touchpoints):
    """Each customer's touchpoints from signup on (the signup itself is one), up to
    ``observed``: (rows expression with customer_id, ts; kept-customers expression)."""
    ev = journey.events
    rows, _, attributes = survival_expr(journey, observed)
    kept = rows.select("customer_id", "signup_at", *attributes)
    obs = _lit(observed)
    tp = ev.filter(ev.timestamp <= obs)
    if touchpoints is not None:
        names = [touchpoints] if isinstance(touchpoints, str) else list(touchpoints)
        tp = tp.filter(tp.event.isin(names))
    k = kept.select(k_id=kept.customer_id, k_signup=kept.signup_at).view()
    tp = tp.join(k, [tp.customer_id == k.k_id, tp.timestamp >= k.k_signup]).select(
        customer_id=tp.customer_id, ts=tp.timestamp, is_event=_ibis().literal(True)
    )
    signups = kept.select(
        customer_id=kept.customer_id, ts=kept.signup_at, is_event=_ibis().literal(False)
    )
    return tp.union(signups), kept, attributes


def typical_gap(journey, *, quantile=0.9, observed_at=None, touchpoints=None):
    """:func:`cxkit.retention.inactivity.typical_gap` on an engine journey."""
    from ..retention.inactivity import _nice_gap

    observed = _obs(journey, observed_at, "typical_gap")
    tp, _, _ = _touchpoints(journey, observed, touchpoints)
    ibis = _ibis()
    w = ibis.window(group_by="customer_id", order_by="ts")
    gaps = tp.mutate(gap=tp.ts.lead().over(w).delta(tp.ts, unit="microsecond"))
    gaps = gaps.filter(gaps.gap > 0)
    got = journey.execute(gaps.aggregate(n=gaps.count(), q=gaps.gap.quantile(quantile))).iloc[0]
    if not int(got["n"]):
        return None
    return _nice_gap(float(got["q"]) * 1000 / (86_400 * 10**9))


def choose_inactivity(journey, *, inactivity=None, observed_at=None, touchpoints=None):
    """:func:`cxkit.retention.inactivity.choose_inactivity` on an engine journey."""
    from ..retention.inactivity import _settle

    where = "choose_inactivity"
    if inactivity is not None:
        return _duration(inactivity, "inactivity", where), "argument"
    obs = _obs(journey, observed_at, where)
    first = journey.execute(journey.customers.signup_at.min())
    spec = journey.spec
    touchpoints = spec.activity if touchpoints is None else touchpoints
    span = obs - pd.Timestamp(first) if pd.notna(first) else pd.Timedelta(0)
    return _settle(
        span,
        spec.inactivity,
        lambda: typical_gap(journey, observed_at=observed_at, touchpoints=touchpoints),
        where,
    )


def activity_table(data, *, inactivity=None, observed_at=None, touchpoints=None):
    """:func:`cxkit.activity_table` on an engine journey (same columns, rows and attrs)."""
    where = "activity_table"
    journey = _journey(data, where)
    ibis = _ibis()
    if touchpoints is not None:
        touchpoints = [touchpoints] if isinstance(touchpoints, str) else list(touchpoints)
        present = set(
            journey.execute(
                journey.events.filter(journey.events.event.isin(touchpoints))
                .select("event")
                .distinct()
            )["event"]
        )
        if not present:
            raise DataError(
                where,
                [
                    {
                        "column": "touchpoints",
                        "expected": f"event names of the events; none of {touchpoints} is",
                    }
                ],
            )
    if inactivity is None:
        inactivity = choose_inactivity(journey, observed_at=observed_at, touchpoints=touchpoints)[
            0
        ]
    gap_td = _duration(inactivity, "inactivity", where)
    observed = _obs(journey, observed_at, where)
    obs = _lit(observed)
    censor_at = observed - gap_td
    tp, kept, attributes = _touchpoints(journey, observed, touchpoints)
    w = ibis.window(group_by="customer_id", order_by="ts")
    tp = tp.mutate(following=tp.ts.lead().over(w).fill_null(obs))
    tp = tp.mutate(lapse=tp.following >= tp.ts + _interval(gap_td))
    per = tp.group_by("customer_id").aggregate(
        begin=tp.ts.min(),
        last=tp.ts.max(),
        lapse_at=tp.lapse.ifelse(tp.ts, None).min(),
        touched=tp.is_event.cast("int64").sum(),
    )
    churned = per.lapse_at.notnull()
    seen = churned.ifelse(per.lapse_at, per["last"])
    end = churned.ifelse(per.lapse_at, _lit(censor_at))
    per = per.mutate(
        churned=churned,
        seen=seen,
        duration_days=_days(end, per.begin),
        returned=churned & (per.lapse_at < per["last"]),
        informative=churned | (per.begin <= _lit(censor_at)),
    )
    k = kept.view()
    full = per.join(k, per.customer_id == k.customer_id).select(
        customer_id=per.customer_id,
        start_at=per.begin,
        last_seen_at=per.seen,
        duration_days=per.duration_days,
        churned=per.churned,
        informative=per.informative,
        returned=per.returned,
        touched=per.touched,
        **{c: k[c] for c in attributes},
    )
    counts = full.aggregate(
        too_recent=(~full.informative).cast("int64").sum(),
        returned=full.returned.cast("int64").sum(),
        without=(full.touched == 0).cast("int64").sum(),
    )
    ev = journey.events
    after = journey.execute((ev.timestamp > obs).cast("int64").sum())
    got = journey.execute(counts).iloc[0]
    _, survival_counts, _ = survival_expr(journey, observed)
    excluded = int(journey.execute(survival_counts).iloc[0]["excluded"] or 0)
    out = full.filter(full.informative).select(
        "customer_id", "start_at", "last_seen_at", "duration_days", "churned", *attributes
    )
    out = journey.execute(out.order_by(["start_at", "customer_id"]))
    out = _pandas(out, ("start_at", "last_seen_at"), attributes)
    out["churned"] = out["churned"].astype(bool)
    out["customer_id"] = out["customer_id"].astype(object)
    out.attrs = jsonable(
        {
            "inactivity": gap_td,
            "censored_at": pd.Timestamp(censor_at),
            "excluded_too_recent": int(got["too_recent"] or 0),
            "observed_at": observed,
            "returned_after_lapse": int(got["returned"] or 0),
            "events_after_observed": int(after or 0),
            "customers_without_touchpoints": int(got["without"] or 0),
            "excluded_signup_after": excluded,
        }
    )
    return out


def retention_table(journey, *, inactivity=None, touchpoints=None, observed_at=None):
    """:func:`cxkit.retention.retention_table` on an engine journey."""
    from ..retention.reduce import _by_business_model

    return _by_business_model(
        journey,
        (survival_table, choose_inactivity, activity_table),
        inactivity=inactivity,
        touchpoints=touchpoints,
        observed_at=observed_at,
    )

"""Who is a row at a cutoff, and whether they churned in the horizon after it.

Two ways to say that a customer churned, one per business model:

* ``label="churned_at"`` (contractual: subscriptions, contracts) — the customer is a row when
  they signed up before the cutoff and had not churned by it; the label is a churn date in
  ``(cutoff, cutoff + horizon]``.
* ``label="inactivity"`` (non-contractual: shops, marketplaces, no churn dates) — the customer
  is a row when they signed up before the cutoff and had **at least one activity event in the
  lookback before it** (``[cutoff - lookback, cutoff)``: active at the cutoff); the label is
  **no activity event in** ``(cutoff, cutoff + horizon]``. Activity is the events the spec names
  (``[business] activity``), or every event. ``churned_at`` is not used.

In both, the label is unknown (NaN) when ``cutoff + horizon`` is after ``observed_at``.
Everything here is vectorised: one pass over the activity events, sorted once.

>>> import cxkit
>>> from cxkit.churn.labels import label_settings
>>> label_settings(cxkit.load_sample())["label"]
'churned_at'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._args import duration
from ..data import DataError

__all__ = ["LABELS", "label_settings", "rows_and_labels"]

#: The two label definitions, by business model.
LABELS = {"contractual": "churned_at", "non-contractual": "inactivity"}

_DAY = pd.Timedelta(days=1)


def label_settings(journey, *, label=None, lookback=None, horizon=None, activity=None):
    """The label definition and windows for a journey, defaults decided by its business model.

    Parameters
    ----------
    journey : Journey
    label : {"churned_at", "inactivity"}, optional
        Default: ``"churned_at"`` for contractual journeys, ``"inactivity"`` otherwise.
    lookback : str or Timedelta, optional
        Default ``"90D"``; with inactivity labels at least the inactivity gap.
    horizon : str or Timedelta, optional
        Default ``"30D"``; with inactivity labels the inactivity gap — the spec's, else the
        data's, the same gap retention uses (:func:`cxkit.retention.choose_inactivity`).
    activity : list of str, optional
        Events that count as activity (inactivity labels). Default: the spec's, else every event.

    Returns
    -------
    dict
        ``label``, ``lookback``, ``horizon`` (Timedeltas) and ``activity`` (list or None).
    """
    from ..retention.inactivity import choose_inactivity

    return _settings(
        journey,
        choose_inactivity,
        label=label,
        lookback=lookback,
        horizon=horizon,
        activity=activity,
    )


def _settings(journey, choose_inactivity, *, label, lookback, horizon, activity):
    """:func:`label_settings` with the inactivity gap of ``choose_inactivity`` (each engine
    passes its own; the engine's reads the gap with a query)."""
    source = "churn_dataset"
    if label is None:
        label = LABELS.get(journey.business_model, "churned_at")
    if label not in LABELS.values():
        raise DataError(
            f"{source}(label=...)",
            [
                {
                    "column": "label",
                    "expected": "'churned_at' (contractual) or 'inactivity' (non-contractual)",
                    "rows": 1,
                    "examples": [label],
                }
            ],
        )
    if activity is None and label == "inactivity":
        activity = journey.spec.activity
    if isinstance(activity, str):
        activity = [activity]
    if label == "inactivity":  # the same gap as retention: the spec's, else the data's
        gap, _ = choose_inactivity(journey, touchpoints=activity)
    else:
        gap = pd.Timedelta("90D")
    if horizon is None:
        horizon = gap if label == "inactivity" else "30D"
    if lookback is None:
        lookback = max(pd.Timedelta("90D"), gap) if label == "inactivity" else "90D"
    return {
        "label": label,
        "lookback": duration(lookback, "lookback", source),
        "horizon": duration(horizon, "horizon", source),
        "activity": None if activity is None else [str(a) for a in activity],
    }


def rows_and_labels(journey, cut, cust_index, *, label, lookback, horizon, activity, codes):
    """Rows (customer × cutoff positions) and their labels.

    Parameters
    ----------
    journey : Journey
    cut : DatetimeIndex
        Sorted cutoffs.
    cust_index : Index
        Customer ids, in the order of ``journey.customers``.
    label, lookback, horizon, activity
        From :func:`label_settings`.
    codes : callable
        ``codes(values, index)`` → position of each id in ``index`` (-1 when absent).

    Returns
    -------
    dict
        ``ci``, ``ki`` (row positions: customer, cutoff), ``label`` (float, NaN unknown),
        ``known`` (bool per row), ``signed`` and ``active`` (customers × cutoffs),
        ``late_churn`` (churn dates after observed_at, ignored).
    """
    customers = journey.customers
    observed = np.datetime64(pd.Timestamp(journey.observed_at))
    signup = customers["signup_at"].to_numpy("datetime64[ns]")
    cv = cut.to_numpy()
    signed = signup[:, None] < cv[None, :]
    late_churn = np.zeros(len(customers), bool)
    if label == "churned_at":
        churn = customers["churned_at"].to_numpy("datetime64[ns]")
        late_churn = churn > observed
        churn = np.where(late_churn, np.datetime64("NaT"), churn)
        active = signed & ~(churn[:, None] <= cv[None, :])  # NaT compares False
        ci, ki = np.nonzero(active)
        end = cv[ki] + horizon.to_timedelta64()
        ch = churn[ci]
        lab = ((ch > cv[ki]) & (ch <= end)).astype(float)
    else:
        ci, ki = np.nonzero(signed)
        before, after = _activity_counts(
            journey, cv, ci, ki, cust_index, lookback, horizon, activity, codes
        )
        keep = before > 0
        ci, ki = ci[keep], ki[keep]
        lab = (after[keep] == 0).astype(float)
        active = np.zeros_like(signed)
        active[ci, ki] = True
        end = cv[ki] + horizon.to_timedelta64()
    known = end <= observed
    lab[~known] = np.nan
    return {
        "ci": ci,
        "ki": ki,
        "label": lab,
        "known": known,
        "signed": signed,
        "active": active,
        "late_churn": late_churn,
    }


def _activity_events(journey, activity, cust_index, codes):
    """(customer position, time in ns) of the activity events of known customers."""
    events = journey.events
    mine = codes(events["customer_id"], cust_index) if len(events) else np.zeros(0, int)
    keep = mine >= 0
    if activity is not None:
        kinds = events["event"].astype(str)
        named = kinds.isin(activity).to_numpy()
        if not named.any():
            present = sorted(pd.unique(kinds))[:12]
            raise DataError(
                "spec [business] activity",
                [
                    {
                        "column": "business.activity",
                        "expected": "names of events in the events table; none of them occurs",
                        "rows": len(activity),
                        "examples": list(activity)[:5],
                    }
                ],
                columns=present,
                hint="name the events that count as activity (e.g. purchase), or leave "
                "activity out to count every event",
            )
        keep &= named
    t = events["timestamp"].to_numpy("datetime64[ns]").astype("int64")
    return mine[keep], t[keep]


def _activity_counts(journey, cv, ci, ki, cust_index, lookback, horizon, activity, codes):
    """Per (customer, cutoff) row: activity events in [c - lookback, c) and in (c, c + horizon].

    Every time that matters (events and window edges) is replaced by its rank among them, so a
    (customer, rank) pair is one exact int64 key; counts are differences of searchsorted
    positions on the sorted keys."""
    ac, at = _activity_events(journey, activity, cust_index, codes)
    c_ns = cv.astype("int64")
    edges = np.concatenate([c_ns - lookback.value, c_ns, c_ns + horizon.value])
    times = np.unique(np.concatenate([at, edges]))
    n = np.int64(len(times))

    def key(cust, t):
        return cust.astype(np.int64) * n + np.searchsorted(times, t)

    keys = np.sort(key(ac, at))
    c = c_ns[ki]
    lo, cc, hi = key(ci, c - lookback.value), key(ci, c), key(ci, c + horizon.value)
    before = np.searchsorted(keys, cc, "left") - np.searchsorted(keys, lo, "left")
    after = np.searchsorted(keys, hi, "right") - np.searchsorted(keys, cc, "right")
    return before, after

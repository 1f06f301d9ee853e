"""Churn labels at a few cutoffs on an engine journey, without the features.

:func:`label_counts` is the engine side of :func:`cxkit.churn.pipeline.recent_churn`: how many
customers are active at each cutoff and how many of them churn within the horizon, by the
rules of :func:`cxkit.churn.labels.rows_and_labels` (churn dates, or no activity within the
horizon after activity within the lookback before). Only one row per cutoff comes back.

>>> import cxkit
>>> from cxkit.churn.labels import label_settings
>>> from cxkit.engine.labels import label_counts
>>> j = cxkit.read_journey(cxkit.sample_dir(), engine="duckdb")  # doctest: +SKIP
>>> label_counts(j, [j.observed_at], label_settings(j))        # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from .journey import _ibis
from .retention import _interval, _lit


def label_counts(journey, cutoffs, settings):
    """Per cutoff: ``active`` (customers with a row) and ``churned`` (rows whose label is
    known and says churned), as a DataFrame indexed by the cutoffs' positions."""
    ibis = _ibis()
    obs = _lit(pd.Timestamp(journey.observed_at))
    H = _interval(settings["horizon"])
    cut = pd.DatetimeIndex(cutoffs)
    cuts = ibis.memtable(
        pd.DataFrame({"k": range(len(cut)), "c": cut.astype("datetime64[us]")}).astype(
            {"k": "int64"}
        )
    )
    cu = journey.customers
    churn = ibis.ifelse(cu.churned_at <= obs, cu.churned_at, None)  # later dates are ignored
    grid = cu.select(cid=cu.customer_id, signup=cu.signup_at, churn=churn).cross_join(cuts)
    grid = grid.filter(grid.signup < grid.c)
    if settings["label"] == "churned_at":
        grid = grid.filter(~(grid.churn <= grid.c).fill_null(False))
        churned = ((grid.churn > grid.c) & (grid.churn <= grid.c + H)).fill_null(False)
    else:
        L = _interval(settings["lookback"])
        ev = journey.events
        if settings["activity"] is not None:
            ev = ev.filter(ev.event.isin(list(settings["activity"])))
        a = ev.select(a_id=ev.customer_id, a_t=ev.timestamp)
        # activity of the customers near each cutoff (few cutoffs: a join on the id, then the
        # window test, stays small)
        aw = a.join(grid, a.a_id == grid.cid)
        counts = aw.group_by(["cid", "k"]).aggregate(
            before=((aw.a_t >= aw.c - L) & (aw.a_t < aw.c)).cast("int64").sum(),
            after=((aw.a_t > aw.c) & (aw.a_t <= aw.c + H)).cast("int64").sum(),
        )
        grid = counts.filter(counts.before > 0).join(cuts, "k")
        churned = grid.after == 0
    grid = grid.mutate(churned=(churned & (grid.c + H <= obs)).cast("int64"))
    got = journey.execute(
        grid.group_by("k").aggregate(active=grid.count(), churned=grid.churned.sum())
    )
    out = got.set_index("k").reindex(range(len(cut))).fillna(0).astype("int64")
    return out[["active", "churned"]]

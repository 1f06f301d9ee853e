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

from .churn import rows_and_labels
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
    grid = rows_and_labels(
        journey, cuts, cut, settings, (), H, _interval(settings["lookback"]), obs
    )
    grid = grid.filter(grid.active)
    got = journey.execute(
        grid.group_by("k").aggregate(
            active=grid.count(),
            churned=((grid.label == 1) & grid.known).cast("int64").sum(),
        )
    )
    out = got.set_index("k").reindex(range(len(cut))).fillna(0).astype("int64")
    return out[["active", "churned"]]

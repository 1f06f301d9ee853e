"""What people who stop at a funnel step do next, inside their window."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._args import jsonable
from .._stats import wilson as _wilson
from ..data import DataError
from ..engine.journey import ROW, is_engine
from .reduce import _prepare


def drop_off_paths(
    events,
    steps=None,
    *,
    step,
    n=5,
    length=3,
    window="14D",
    by=None,
    customers=None,
    observed_at=None,
    **options,
):
    """What people whose deepest step is ``step`` did next, inside their window.

    Parameters
    ----------
    step : int or str
        The step people stopped at: 1-based index or step name; not the last step.
    n : int, default 5
        Most common paths to keep per path length (× group).
    length : int, default 3
        Longest next-event sequence to count (1 = only the next event).
    Others as in :func:`funnel`.

    Returns
    -------
    DataFrame
        ``length``, ``path`` (events joined by " → "; "(nothing)" when no event followed inside
        the window), ``customers``, ``pct`` (of the droppers in the group), ``ci_low``,
        ``ci_high`` (Wilson 95%), ``droppers`` (people who stopped at the step, in the group),
        plus the ``by`` column(s). A person with fewer next events than ``length`` counts for the
        shorter path only. Next events are looked for until the end of the (overall) window from
        the entry, also when ``step_windows`` is given.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS
    >>> paths = cxkit.drop_off_paths(cxkit.load_sample(), STEPS, step="add_to_cart", n=3)
    >>> int(paths["length"].max()) <= 3
    True
    """
    complete_only = options.pop("complete_only", False)
    _, table, groups, attrs, extras = _prepare(
        events,
        steps,
        window,
        by,
        customers,
        observed_at,
        complete_only,
        "drop_off_paths",
        keep_all=True,
        positions=True,
        **options,
    )
    labels = list(attrs["steps"])
    K = len(labels)
    if isinstance(step, str):
        if step not in labels:
            raise DataError(
                "drop_off_paths(step=...)",
                [{"column": "step", "expected": f"a step name; {step!r} is not one"}],
                columns=labels,
            )
        k = labels.index(step) + 1
    else:
        k = int(step)
    if not 1 <= k < K:
        raise DataError(
            "drop_off_paths(step=...)",
            [{"column": "step", "expected": f"a step before the last (1–{K - 1}); got {step!r}"}],
            columns=labels,
        )
    if not isinstance(length, int | np.integer) or length < 1:
        raise DataError(
            "drop_off_paths(length=...)",
            [{"column": "length", "expected": f"a whole number ≥ 1; got {length!r}"}],
        )
    droppers = (table["depth"] == k).to_numpy()
    sub = table[droppers].reset_index(drop=True)
    gsub = groups[droppers].reset_index(drop=True) if groups is not None else None

    limit = np.minimum(
        (sub["step_1_at"] + attrs["window"]).to_numpy().view("int64"), attrs["observed_at"].value
    )
    if is_engine(events):
        names = _next_events_engine(events, sub, k, limit, length)
    else:
        # the step-k row of each dropper in the sorted log, then the rows that follow it
        cust, t = extras["cust"], extras["t"]
        ev_names = np.asarray(extras["ev_values"], dtype=object)[extras["ev"]]
        at = extras["chosen"][k - 1, droppers]
        names = []
        valid = np.ones(len(sub), bool)
        for i in range(1, length + 1):
            row = np.minimum(at + i, len(t) - 1)
            valid &= (at + i < len(t)) & (cust[row] == cust[at]) & (t[row] <= limit)
            names.append(np.where(valid, ev_names[row], None))
    frames = []
    for i in range(1, length + 1):
        if i == 1:
            path = np.where(names[0] == None, "(nothing)", names[0])  # noqa: E711
            keep = np.ones(len(sub), bool)
        else:
            keep = names[i - 1] != None  # noqa: E711
            path = pd.Series(names[0]).astype(str)
            for j in range(1, i):
                path = path + " → " + pd.Series(names[j]).astype(str)
            path = path.to_numpy()
        frame = pd.DataFrame({"length": i, "path": path})
        if gsub is not None:
            frame = pd.concat([gsub, frame], axis=1)
        frames.append(frame[keep])
    gcols = list(gsub.columns) if gsub is not None else []
    long = pd.concat(frames, ignore_index=True)
    counts = long.groupby(gcols + ["length", "path"], observed=True).size()
    counts = counts.rename("customers").reset_index()
    if gcols:
        totals = gsub.value_counts().rename("droppers").reset_index()
        counts = counts.merge(totals, on=gcols, how="left")
    else:
        counts["droppers"] = len(sub)
    counts["pct"] = 100 * counts["customers"] / counts["droppers"]
    counts["ci_low"], counts["ci_high"] = _wilson(counts["customers"], counts["droppers"])
    counts = counts.sort_values(
        gcols + ["length", "customers", "path"],
        ascending=[True] * len(gcols) + [True, False, True],
    )
    counts = counts.groupby(gcols + ["length"], observed=True).head(n).reset_index(drop=True)
    counts.insert(len(gcols), "step", labels[k - 1])
    attrs = dict(attrs)
    attrs["droppers"] = int(len(sub))
    counts.attrs = jsonable(attrs)
    return counts[
        gcols + ["step", "length", "path", "customers", "pct", "ci_low", "ci_high", "droppers"]
    ]


def _next_events_engine(journey, sub, k, limit, length):
    """The ``length`` events after each dropper's step-``k`` event (same person, in time and
    then file order, up to ``limit``) found in the engine: one array of names (None when
    there is none) per position, as the pandas branch builds them."""
    import ibis

    d = pd.DataFrame(
        {
            "pos": np.arange(len(sub), dtype="int64"),
            "cid": sub["customer_id"].astype(str).to_numpy(),
            "t_k": sub[f"step_{k}_at"].astype("datetime64[us]").to_numpy(),
            "row_k": sub[f"step_{k}_row"].astype("int64").to_numpy(),
            "lim": pd.to_datetime(limit).astype("datetime64[us]"),
        }
    )
    ev = journey.events
    D = ibis.memtable(d)
    j = ev.join(D, ev.customer_id == D.cid)
    later = (j.timestamp > j.t_k) | ((j.timestamp == j.t_k) & (j[ROW] > j.row_k))
    j = j.filter(later & (j.timestamp <= j.lim))
    j = j.mutate(n=ibis.row_number().over(group_by="pos", order_by=["timestamp", ROW]))
    got = journey.execute(j.filter(j.n < length).select("pos", "n", "event"))
    names = []
    for i in range(length):
        at_i = got.loc[got["n"] == i]
        col = np.full(len(sub), None, dtype=object)
        col[at_i["pos"].to_numpy("int64")] = at_i["event"].astype(str).to_numpy(object)
        names.append(col)
    return names

"""The funnel reduction as one Ibis expression (same rules as :func:`cxkit.funnel_table`).

The pandas reduction sorts the log once and follows every entry through the steps with
``searchsorted``. Here the same walk is relational:

* the funnel's rows get ``seq``, their position within the person ordered by time and then by
  the tie order (``_row``: the file's row order);
* for every row and step ``k``, a window gives ``next_k``: the first row of step ``k`` *at or
  after this row's time* (a ``RANGE`` frame over time, so rows tied with it count, as the
  pandas search starts at the tie group);
* a chain is one entry; each step is one join of the chains with the rows on
  ``(person, seq)``. A candidate the chain already used (possible only when a step shares events
  with an earlier one and rows tie) is replaced by the next row of its step, once per such
  earlier step — issue 12's rule: one row never counts for two steps;
* ``strict`` and ``exclude`` count the breaking rows with a running sum, so "no breaker strictly
  between the previous step and the candidate" is a difference of two sums.

Per person, the deepest chain wins and among those the earliest entry. Only the reduced table
(one row per entrant) is pulled back into memory.
"""

from __future__ import annotations

import warnings

import pandas as pd

from .._args import jsonable, moment
from ..data import DataError
from ..funnel.reduce import breaker_events
from ..funnel.steps import (
    _normalise_steps,
    _parse_step_windows,
    _parse_time,
    _parse_window,
    _stacklevel,
)
from .journey import ROW, EngineJourney, _ibis
from .retention import _interval


def _unpack(data, observed_at, where):
    if not isinstance(data, EngineJourney):
        raise DataError(
            f"{where}(events=...)",
            [
                {
                    "column": "events",
                    "expected": "a journey opened with read_journey(engine='duckdb') or "
                    f"cxkit.connect; got {type(data).__name__}",
                }
            ],
        )
    observed = data.observed_at if observed_at is None else observed_at
    return data, moment(observed, "observed_at", where)


def funnel_table(
    data,
    steps=None,
    *,
    window="14D",
    observed_at=None,
    strict=False,
    start=None,
    end=None,
    entry="all",
    exclude=None,
    stages=None,
    step_windows=None,
    closed_only=False,
    carry=(),
    raw_attrs=False,
    step_rows=False,
):
    """:func:`cxkit.funnel_table` on an :class:`~cxkit.engine.EngineJourney`.

    Same parameters and result; ``entry_row`` is the entry event's ``_row`` (its row in the
    file). ``closed_only`` judges people on entries whose window had closed (as
    ``complete_only``); ``carry`` names events columns to return as they are on the entry
    event (for ``by``); ``step_rows`` adds ``step_<k>_row``, the ``_row`` of each step's event
    (for the paths that follow a step).
    """
    where = "funnel_table"
    journey, observed = _unpack(data, observed_at, where)
    ibis = _ibis()
    window_td = _parse_window(window, where)
    labels, step_events = _normalise_steps(steps, stages, where)
    step_tds = _parse_step_windows(step_windows, labels, where)
    if entry not in ("all", "first"):
        raise DataError(
            "funnel_table(entry=...)",
            [{"column": "entry", "expected": f"'all' or 'first'; got {entry!r}"}],
        )
    start = _parse_time(start, "start", where)
    end = _parse_time(end, "end", where)
    if isinstance(exclude, str):
        exclude = [exclude]
    exclude = list(exclude or [])
    carry = [c for c in carry if c in journey.events.columns]
    K = len(labels)

    ev = journey.events
    wanted = sorted({e for names in step_events for e in names} | set(exclude))
    L = ev.filter(ev.event.isin(wanted)).select("customer_id", "timestamp", "event", ROW, *carry)
    by_seq = ibis.window(group_by="customer_id", order_by=["timestamp", ROW])
    L = L.mutate(seq=ibis.row_number().over(by_seq))
    at_or_after = ibis.window(group_by="customer_id", order_by="timestamp", range=(0, None))
    after = ibis.window(group_by="customer_id", order_by="seq", rows=(1, None))
    upto = ibis.window(group_by="customer_id", order_by="seq", rows=(None, 0))
    overlaps = {
        k: [j for j in range(k) if set(step_events[j]) & set(step_events[k])] for k in range(K)
    }
    breaks = {k: breaker_events(step_events, k, strict, exclude) for k in range(1, K)}
    cols = {}
    for k in range(1, K):
        mine = ibis.ifelse(L.event.isin(step_events[k]), L.seq, None)
        cols[f"nt{k}"] = mine.min().over(at_or_after)
        if overlaps[k]:
            cols[f"na{k}"] = mine.min().over(after)
        if breaks[k]:
            bad = L.event.isin(breaks[k]).cast("int64")
            cols[f"c{k}"] = bad.sum().over(upto)
            cols[f"b{k}"] = bad
    L = L.mutate(**cols)
    L = L.mutate(**{f"e{k}": L[f"c{k}"] - L[f"b{k}"] for k in range(1, K) if breaks[k]}).drop(
        *[f"b{k}" for k in range(1, K) if breaks[k]]
    )

    # entries
    E = L.filter(L.event.isin(step_events[0]))
    if entry == "first":
        # (the window in its own column first: Spark cannot filter on a window expression)
        E = E.mutate(first_seq=E.seq.min().over(group_by="customer_id"))
        E = E.filter(E.seq == E.first_seq).drop("first_seq")
    if start is not None:
        E = E.filter(E.timestamp >= start.to_pydatetime())
    if end is not None:
        E = E.filter(E.timestamp < end.to_pydatetime())
    win = _interval(window_td)
    obs = ibis.literal(observed.to_pydatetime(), type="timestamp")
    closed_counts = None
    if closed_only:
        closed = E.timestamp + win <= obs
        per = E.group_by("customer_id").aggregate(
            last=E.timestamp.max(),
            n_closed=closed.cast("int64").sum(),
            n_open=(~closed).cast("int64").sum(),
        )
        got = journey.execute(
            per.aggregate(
                entrants_all=per.count(),
                open_windows=(per["last"] + win > obs).cast("int64").sum(),
                kept=(per.n_closed > 0).cast("int64").sum(),
                open_entries=per.n_open.sum(),
                judged=((per.n_closed > 0) & (per.n_open > 0)).cast("int64").sum(),
            )
        ).iloc[0]
        closed_counts = {
            "entrants_all": int(got["entrants_all"]),
            "open_windows": int(got["open_windows"] or 0),
            "left_out_open": int(got["entrants_all"]) - int(got["kept"] or 0),
            "open_entries_left_out": int(got["open_entries"] or 0),
            "judged_on_closed": int(got["judged"] or 0),
        }
        E = E.filter(closed)

    chain = E.select(
        cust=E.customer_id,
        e_seq=E.seq,
        e_row=E[ROW],
        e_t=E.timestamp,
        lim=E.timestamp + win,
        p0=E.seq,
        t0=E.timestamp,
        alive=ibis.literal(True),
        prev=E.seq,
        prev_t=E.timestamp,
        **{c: E[c] for c in carry},
        **({"nt": E["nt1"]} if K > 1 else {}),
        **({"pc": E["c1"], "pe": E["e1"]} if K > 1 and breaks[1] else {}),
    )
    for k in range(1, K):
        cand = chain.nt
        # a row this chain already used (only rows of earlier steps sharing events, tied in
        # time) is replaced by the next row of this step, once per such step
        for _ in overlaps[k]:
            R = L.select(r_cust=L.customer_id, r_seq=L.seq, r_na=L[f"na{k}"]).view()
            chain = chain.mutate(cand=cand)
            used = ibis.literal(False)
            for i in overlaps[k]:
                used = used | (chain[f"p{i}"] == chain.cand).fill_null(False)
            chain = chain.mutate(used=used)
            chain = (
                chain.left_join(R, [chain.cust == R.r_cust, chain.cand == R.r_seq])
                .select(
                    *[c for c in chain.columns if c not in ("cand", "used", "nt")],
                    nt=ibis.ifelse(chain.used, R.r_na, chain.cand),
                )
                .view()
            )
            cand = chain.nt
        fetch = {"r_cust": L.customer_id, "r_seq": L.seq, "r_t": L.timestamp, "r_row": L[ROW]}
        if k + 1 < K:
            fetch["r_nt"] = L[f"nt{k + 1}"]
            if breaks[k + 1]:
                fetch["r_pc"], fetch["r_pe"] = L[f"c{k + 1}"], L[f"e{k + 1}"]
        if breaks[k]:
            fetch["r_c"], fetch["r_e"] = L[f"c{k}"], L[f"e{k}"]
        R = L.select(**fetch).view()
        j = chain.left_join(R, [chain.cust == R.r_cust, chain.nt == R.r_seq])
        ok = chain.alive & R.r_seq.notnull() & (R.r_t <= chain.lim)
        if step_tds[k] is not None:
            ok = ok & (R.r_t <= chain.prev_t + _interval(step_tds[k]))
        if breaks[k]:
            between = ibis.ifelse(R.r_seq > chain.prev, R.r_e - chain.pc, chain.pe - R.r_c)
            ok = ok & (between == 0)
        ok = ok.fill_null(False)
        keep = [
            c
            for c in chain.columns
            if c not in ("alive", "prev", "prev_t", "nt", "pc", "pe", "r_t")
        ]
        nxt = {
            "alive": ok,
            f"p{k}": ibis.ifelse(ok, R.r_seq, None),
            f"t{k}": ibis.ifelse(ok, R.r_t, None),
            f"w{k}": ibis.ifelse(ok, R.r_row, None),
            "prev": R.r_seq,
            "prev_t": R.r_t,
        }
        if k + 1 < K:
            nxt["nt"] = ibis.ifelse(ok, R.r_nt, None)  # a dead chain looks up nothing
            if breaks[k + 1]:
                nxt["pc"], nxt["pe"] = R.r_pc, R.r_pe
        chain = j.select(*[chain[c] for c in keep], **nxt).view()

    depth = ibis.literal(1)
    for k in range(1, K):
        depth = depth + chain[f"p{k}"].notnull().cast("int64")
    chain = chain.mutate(depth=depth)
    per = ibis.window(group_by="cust")
    chain = chain.mutate(best=chain.depth.max().over(per), last_entry_at=chain.e_t.max().over(per))
    chain = chain.filter(chain.depth == chain.best)
    chain = chain.mutate(first_seq=chain.e_seq.min().over(per))
    chain = chain.filter(chain.e_seq == chain.first_seq)
    out_expr = chain.select(
        customer_id=chain.cust,
        depth=chain.depth.cast("int64"),
        entry_row=chain.e_row.cast("int64"),
        **{f"step_{k + 1}_at": chain[f"t{k}"] for k in range(K)},
        last_entry_at=chain.last_entry_at,
        window_open=chain.last_entry_at + win > obs,
        **{c: chain[c] for c in carry},
        **(
            {f"step_{k + 1}_row": (chain[f"w{k}"] if k else chain.e_row) for k in range(K)}
            if step_rows
            else {}
        ),
    ).order_by("customer_id")
    out = journey.execute(out_expr)
    for k in range(K):
        col = f"step_{k + 1}_at"
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    out["last_entry_at"] = pd.to_datetime(out["last_entry_at"]).astype("datetime64[ns]")
    out["window_open"] = out["window_open"].astype(bool)
    out["customer_id"] = out["customer_id"].astype(object)

    metrics = {f"s{k}": L.event.isin(step_events[k]).cast("int64").sum() for k in range(K)}
    metrics["after"] = (L.timestamp > obs).cast("int64").sum()
    counts = journey.execute(L.aggregate(**metrics)).iloc[0]
    unmatched = [lab for k, lab in enumerate(labels) if not int(counts[f"s{k}"] or 0)]
    if unmatched:
        warnings.warn(
            f"funnel: no event matches step(s) {unmatched}; they count zero people",
            UserWarning,
            stacklevel=_stacklevel(),
        )
    people = int(journey.execute(ev.customer_id.nunique()))
    out.attrs = {
        "steps": dict(zip(labels, [list(e) for e in step_events], strict=True)),
        "window": window_td,
        "step_windows": dict(zip(labels, step_tds, strict=True)),
        "observed_at": observed,
        "strict": bool(strict),
        "entry": entry,
        "exclude": exclude,
        "people": people,
        "entrants": int(len(out)),
        "unmatched_steps": unmatched,
        "events_after_observed_at": int(counts["after"] or 0),
        "engine": journey.engine,
    }
    if closed_counts is not None:
        out.attrs["closed_counts"] = closed_counts
    if not raw_attrs:
        out.attrs = jsonable(out.attrs)
    return out


def prepare(journey, steps, window, by, observed_at, complete_only, source, **options):
    """``cxkit.funnel.reduce._prepare`` on an engine: (None, table, groups, attrs, None).

    ``by`` may name events columns (their value on the entry event, carried through the
    query) or customer attributes (looked up for the entrants). ``keep_all`` (the pandas
    reduction's rows for the paths after a step) adds each step event's ``_row`` instead."""
    step_rows = bool(options.pop("keep_all", False))
    options.pop("positions", None)  # the pandas chains' positions: the step rows serve here
    from ..funnel.reduce import _DEFAULTS, _MISSING, _finish_attrs

    if by is not None and not isinstance(by, str | list | tuple):
        raise DataError(
            f"{source}(by=...)",
            [{"column": "by", "expected": f"a column name or a list of names; got {by!r}"}],
        )
    cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    on_events = [c for c in cols if c in journey.events.columns and c not in _KEYS]
    table = funnel_table(
        journey,
        steps,
        window=window,
        observed_at=observed_at,
        closed_only=bool(complete_only),
        carry=on_events,
        raw_attrs=True,
        step_rows=step_rows,
        **{**_DEFAULTS, **options},
    )
    groups = None
    if cols:
        out = {}
        customers = journey.customers
        for col in cols:
            if col in on_events:
                values = table.pop(col)
            elif col in customers.columns and col != "customer_id":
                attr = journey.execute(customers.select("customer_id", col))
                attr = attr.drop_duplicates("customer_id").set_index("customer_id")[col]
                values = attr.reindex(pd.Index(table["customer_id"].astype(str)))
                values = values.reset_index(drop=True)
            else:
                have = [c for c in journey.events.columns if c not in _KEYS]
                have += [c for c in customers.columns if c != "customer_id" and c not in have]
                raise DataError(
                    f"{source}(by=...)",
                    [
                        {
                            "column": "by",
                            "expected": "a column of the events or customers table; "
                            f"'{col}' is in neither",
                        }
                    ],
                    columns=have,
                )
            values = values.astype(object).where(values.notna(), _MISSING)
            out[col] = values.astype(str).to_numpy()
        groups = pd.DataFrame(out)
    attrs = dict(table.attrs)
    closed = attrs.pop("closed_counts", None)
    attrs["complete_only"] = bool(complete_only)
    return None, table, groups, _finish_attrs(table, attrs, closed, groups), None


_KEYS = ("customer_id", "timestamp", ROW)

"""The buyer funnel: where do people drop off, how long do steps take, what do droppers do next.

Two halves, as everywhere in cxkit:

* the **reduction** :func:`funnel_table` turns the event log into one row per person (how deep
  they got, and when they reached each step). It sorts once and then works on numpy arrays with
  one loop over the steps — no loop over people or events;
* the **statistics** (:func:`funnel`, :func:`time_to_convert`, :func:`funnel_trend`,
  :func:`compare_funnel`, :func:`drop_off_paths`) work on that small table.

Semantics (ClickHouse ``windowFunnel``-style)
---------------------------------------------
* A person *enters* at any event of step 1 (every one of them is a possible start).
* Each later step is matched by the earliest event row of that step at or after the previous
  step's time, other than a row the chain already used (also when timestamps tie: two purchase
  rows at one moment are two steps, never three; among tied rows the input order decides), no
  later than ``window`` after the entry (the boundary counts).
* Optional per-step windows (``step_windows``) also limit the time from the previous step to a
  step (boundary included). Both limits must hold; the match is still the *earliest* row after
  the previous step, so if that one is too late the chain stops there.
* A person's depth is the deepest chain over all their entries; step times come from the earliest
  entry that reaches that depth.
* A step may be a list of alternative events (``["ad_click", "social_click"]``).

Counts equal ClickHouse's ``windowFunnel(window)(timestamp, cond1, cond2, ...)`` on the same data
(checked in ``benchmarks/bench_funnel.py`` and the tests), with one documented difference: when
one row matches two consecutive steps (the same event in steps ``k`` and ``k+1``, or overlapping
alternatives), ClickHouse lets that single row count for both steps; cxkit needs two rows
(``["search", "search"]`` means "searched twice"). PostHog and Mixpanel differ more: they start
the window at the *first* entry only (``entry="first"`` here), PostHog counts a step only if it
happens strictly after the previous one in its default ordered mode and attributes breakdowns to
the first touch, and Mixpanel counts re-entries as new conversions. Nothing is dropped silently:
what was left out is counted in ``result.attrs``.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd

from .._args import jsonable, moment, observed_at_of, require_columns
from .._pages import in_small_pages
from ..data import DataError, Journey
from ..data.sorting import in_order
from ..engine.journey import is_engine
from .steps import _normalise_steps, _parse_step_windows, _parse_time, _parse_window, _stacklevel

_MISSING = "(missing)"


def _unpack(events, customers, observed_at):
    """Accept a Journey or an events DataFrame; return (events, customers, observed_at)."""
    if isinstance(events, Journey):
        journey = events
        events = journey.events
        if customers is None:
            customers = journey.customers
        if observed_at is None:
            observed_at = journey.observed_at
    if not isinstance(events, pd.DataFrame):
        raise DataError(
            "funnel(events=...)",
            [
                {
                    "column": "events",
                    "expected": "a DataFrame "
                    f"of events or a cxkit.Journey, got {type(events).__name__}",
                }
            ],
        )
    require_columns(
        events,
        ["customer_id", "timestamp", "event"],
        "funnel(events=...)",
        hint="read the log with cxkit.read_events, which maps your column names",
    )
    observed = observed_at_of(events, observed_at, "funnel")
    if observed is None:  # a hand-made table: the end of the data is its latest event
        observed = moment(events["timestamp"].max(), "observed_at", "funnel")
    return events, customers, observed


def _codes(series):
    """Integer codes and their values (categoricals use their own codes: no hashing)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), series.cat.categories
    codes, values = pd.factorize(series, sort=False)
    return codes, values


def _as_int64_ns(ts):
    return ts.to_numpy(dtype="datetime64[ns]").view("int64")


def funnel_table(
    events,
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
):
    """Reduce the event log to one row per person who entered the funnel.

    Parameters
    ----------
    events : DataFrame or Journey
        The events table (``customer_id``, ``timestamp``, ``event``), in any order.
    steps : list or dict
        Funnel steps in order. An item is an event name or a list of alternative events; a dict
        maps step names to event(s). May be omitted when ``stages`` is given (then the stages).
    window : str or Timedelta
        Time allowed from the entry to the last step (boundary included).
    observed_at : Timestamp, optional
        End of the data; default the journey's ``observed_at`` or the latest event.
    step_windows : dict or list, optional
        Each step's own limit on the time since the *previous* step (boundary included), on top
        of ``window``: a dict ``{step name: duration}`` or a list with one duration per step
        after the first (``None`` = no own limit). The matched step is still the earliest row
        after the previous step; if it comes too late, the chain stops (another entry may do
        better).
    strict : bool
        If True, an event of another funnel step between two steps of a chain breaks it
        (repeats of the earlier step do not). Rows with equal timestamps are ordered as in the
        input.
    start, end : date, optional
        Only step-1 events with ``start <= timestamp < end`` are entries.
    entry : {"all", "first"}
        ``"first"``: only each person's first step-1 event (in the whole log) is an entry.
    exclude : list of str, optional
        Events that break a chain when they occur between two of its steps.
    stages : dict, optional
        Map events to stages (see :data:`STAGES`); the steps are then the stages.

    Returns
    -------
    DataFrame
        One row per entrant: ``customer_id``, ``depth`` (number of steps reached), ``entry_row``
        (position of the entry event in ``events``), ``step_1_at`` … ``step_K_at`` (NaT when not
        reached), ``last_entry_at`` and ``window_open`` (the last entry's window ends after
        ``observed_at``, so the person may still go deeper). ``attrs`` hold the step names and
        events, the window and step windows (as text, e.g. ``"14 days 00:00:00"``; read back
        with ``pd.Timedelta``), ``observed_at`` (ISO text) and counts. ``window_open``
        looks at ``window`` only, so with ``step_windows`` it may flag people who can no
        longer go deeper.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS
    >>> table = cxkit.funnel_table(cxkit.load_sample(), STEPS)
    >>> int(table["depth"].max())
    6

    Checkout must follow the cart within a day, purchase the checkout within an hour:

    >>> import pandas as pd
    >>> quick = cxkit.funnel_table(
    ...     cxkit.load_sample(), STEPS, step_windows={"checkout": "1D", "purchase": "1h"}
    ... )
    >>> buyers = quick[quick["depth"] == 6]
    >>> bool((buyers["step_6_at"] - buyers["step_5_at"] <= pd.Timedelta("1h")).all())
    True
    """
    options = dict(
        window=window,
        observed_at=observed_at,
        strict=strict,
        start=start,
        end=end,
        entry=entry,
        exclude=exclude,
        stages=stages,
        step_windows=step_windows,
    )
    if is_engine(events):  # DuckDB, Spark, a warehouse: the same rules as one Ibis expression
        from ..engine.funnel import funnel_table as on_engine

        return on_engine(events, steps, **options)
    out, _ = _reduce(events, steps, **options)
    out.attrs = jsonable(out.attrs)
    return out


@in_small_pages  # its arrays are short-lived and written in order
def _reduce(
    events,
    steps,
    *,
    window,
    observed_at,
    strict,
    start,
    end,
    entry,
    exclude,
    stages,
    step_windows=None,
    keep_all=False,
    closed_only=False,
    positions=False,
):
    """funnel_table's work; also returns the sorted log and (with ``positions``) each step's
    matched row.

    ``closed_only``: use only entries whose window had closed by ``observed_at`` (what
    ``complete_only=True`` asks for); people with no such entry are counted, not kept."""
    events, _, observed = _unpack(events, None, observed_at)
    window_td = _parse_window(window, "funnel_table")
    labels, step_events = _normalise_steps(steps, stages, "funnel_table")
    step_tds = _parse_step_windows(step_windows, labels, "funnel_table")
    if entry not in ("all", "first"):
        raise DataError(
            "funnel_table(entry=...)",
            [{"column": "entry", "expected": f"'all' or 'first'; got {entry!r}"}],
        )
    start = _parse_time(start, "start", "funnel_table")
    end = _parse_time(end, "end", "funnel_table")
    if isinstance(exclude, str):
        exclude = [exclude]
    exclude = list(exclude or [])

    ts = events["timestamp"]
    if not pd.api.types.is_datetime64_any_dtype(ts):
        raise DataError(
            "funnel_table(events=...)",
            [{"column": "timestamp", "expected": f"datetime values; got {ts.dtype}"}],
            hint="read the log with cxkit.read_events",
        )
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    t = _as_int64_ns(ts)
    if len(t) and t.min() == np.iinfo(np.int64).min:  # NaT (a min: no column of flags)
        bad = ts.isna().to_numpy()
        raise DataError(
            "funnel_table(events=...)",
            [
                {
                    "column": "timestamp",
                    "expected": "a timestamp in every row",
                    "rows": int(bad.sum()),
                    "examples": [f"row {i + 1}" for i in np.flatnonzero(bad)[:5]],
                }
            ],
        )

    cust_codes, cust_values = _codes(events["customer_id"])
    ev_codes, ev_values = _codes(events["event"])
    ev_values = pd.Index(np.asarray(ev_values, dtype=object))
    if len(cust_codes) and cust_codes.min() < 0:
        bad = cust_codes < 0
        raise DataError(
            "funnel_table(events=...)",
            [
                {
                    "column": "customer_id",
                    "expected": "a person id in every row",
                    "rows": int(bad.sum()),
                    "examples": [f"row {i + 1}" for i in np.flatnonzero(bad)[:5]],
                }
            ],
        )

    def lookup_of(names):
        codes = ev_values.get_indexer(list(names))
        lookup = np.zeros(len(ev_values) + 1, bool)  # code -1 (missing) hits the last slot
        lookup[codes[codes >= 0]] = True
        return lookup

    # only rows of funnel (or exclusion) events matter, unless the caller needs the whole log
    rows = None
    if not keep_all:
        wanted = [e for names in step_events for e in names] + exclude
        hit = lookup_of(wanted)
        if not _all_hit(hit, ev_codes):  # else every row is wanted (a log read for it)
            rows = np.flatnonzero(hit[ev_codes])
            cust_codes, t, ev_codes = cust_codes[rows], t[rows], ev_codes[rows]

    # sort once by (person, time), keeping input order within ties
    if in_order(cust_codes, t):  # as read_events gives it
        order = None
        cust, tt, evc = cust_codes, t, ev_codes
    else:
        order = np.lexsort((t, cust_codes))
        cust, tt, evc = cust_codes[order], t[order], ev_codes[order]
    if rows is not None:
        order = rows if order is None else rows[order]

    def mask_of(names):
        return lookup_of(names)[evc]

    step_masks = _step_masks(step_events, lookup_of, evc)
    unmatched = [lab for lab, m in zip(labels, step_masks, strict=True) if not m.any()]
    if unmatched:
        warnings.warn(
            f"funnel: no event matches step(s) {unmatched}; they count zero people. "
            f"Events present include {list(ev_values[:8])}",
            UserWarning,
            stacklevel=_stacklevel(),
        )

    window_ns = int(window_td.value)
    entry_mask = step_masks[0].copy()
    if entry == "first":
        first = np.flatnonzero(entry_mask)
        keep = np.ones(len(first), bool)
        keep[1:] = cust[first[1:]] != cust[first[:-1]]
        entry_mask[:] = False
        entry_mask[first[keep]] = True
    if start is not None:
        entry_mask &= tt >= start.value
    if end is not None:
        entry_mask &= tt < end.value
    closed_counts = None
    if closed_only:
        # judge each person on the entries that had their whole window: an entry whose window
        # is still open could still go deeper, a closed one cannot
        closed = entry_mask & (tt + window_ns <= observed.value)
        every = np.flatnonzero(entry_mask)  # sorted by person and time
        last = every[np.r_[cust[every[1:]] != cust[every[:-1]], True]] if len(every) else every
        people = cust[last]
        kept = np.unique(cust[closed])
        closed_counts = {
            "entrants_all": int(len(people)),
            "open_windows": int((tt[last] + window_ns > observed.value).sum()),
            "left_out_open": int(len(people) - len(kept)),
            "open_entries_left_out": int((entry_mask & ~closed).sum()),
            "judged_on_closed": int(np.isin(kept, cust[entry_mask & ~closed]).sum()),
        }
        entry_mask = closed

    breakers = _breakers(step_masks, step_events, mask_of, strict, exclude)
    step_ns = [None if td is None else int(td.value) for td in step_tds]
    entries, reached = _chains(cust, tt, step_masks, entry_mask, window_ns, breakers, step_ns)

    K = len(labels)
    m = len(entries)
    depth = np.ones(m, np.int64)
    for k, (alive, _, _) in enumerate(reached, start=2):
        depth[alive] = k
    ecust = cust[entries]
    first_of_person = np.ones(m, bool)
    np.not_equal(ecust[1:], ecust[:-1], out=first_of_person[1:])
    seg_start = np.flatnonzero(first_of_person)
    if len(seg_start) == m:  # one entry per person: it is the person's best and last
        person_of = None
        last_entry_t = tt[entries]
    else:
        # each person's first entry of greatest depth
        seg_max = np.maximum.reduceat(depth, seg_start)
        seg_id = np.cumsum(first_of_person) - 1
        cand = np.flatnonzero(depth == seg_max[seg_id])
        firstbest = cand[np.r_[True, seg_id[cand[1:]] != seg_id[cand[:-1]]]]
        last_entry_t = tt[entries[np.r_[seg_start[1:], m] - 1]]
        depth = depth[firstbest]
        # entry -> column of its person, for the chosen entries only
        person_of = np.full(m, -1, entries.dtype)
        person_of[firstbest] = np.arange(len(firstbest), dtype=entries.dtype)
        entries = entries[firstbest]

    def per_person(first, values, fill):
        """Steps x persons: ``first`` for step 1, then field ``values`` (1: rows, 2: times) of
        the chosen entries' matches, ``fill`` where a step was not reached."""
        out = np.full((K, len(entries)), fill, dtype=first.dtype)
        out[0] = first
        for k, step in enumerate(reached, start=1):
            alive, got = step[0], step[values]
            if person_of is not None:
                alive = person_of[alive]
                keep = alive >= 0
                alive, got = alive[keep], got[keep]
            out[k, alive] = got
        return out

    entry_row = (order[entries] if order is not None else entries).astype(np.int64, copy=False)
    if isinstance(events["customer_id"].dtype, pd.CategoricalDtype):
        # the entry rows' own values: keeps the dtype as it is (from_codes would re-check
        # that every category is unique, 0.4 s for 1.5M people)
        ids = events["customer_id"].array.take(entry_row)
    else:
        ids = cust_values.take(cust[entries])
    columns = {
        "customer_id": ids,
        "depth": depth,
        "entry_row": entry_row,
    }
    at = per_person(tt[entries], 2, np.iinfo(np.int64).min).view("datetime64[ns]")
    for k in range(K):
        columns[f"step_{k + 1}_at"] = at[k]
    columns["last_entry_at"] = last_entry_t.view("datetime64[ns]")
    columns["window_open"] = last_entry_t + window_ns > observed.value
    # one block per column, no copy: pandas would otherwise stack the step times into a new
    # block (0.3 s at 10M events)
    out = pd.DataFrame(columns, copy=False)
    out.attrs = {
        "steps": dict(zip(labels, [list(e) for e in step_events], strict=True)),
        "window": window_td,
        "step_windows": dict(zip(labels, step_tds, strict=True)),
        "observed_at": observed,
        "strict": bool(strict),
        "entry": entry,
        "exclude": exclude,
        "people": int(len(cust_values)),
        "entrants": int(len(out)),
        "unmatched_steps": unmatched,
        "events_after_observed_at": int((tt > observed.value).sum()),
    }
    if closed_counts is not None:
        out.attrs["closed_counts"] = closed_counts
    extras = {
        "order": order,
        "chosen": per_person(entries, 1, -1) if positions else None,
        "cust": cust,
        "t": tt,
        "ev": evc,
        "ev_values": ev_values,
    }
    return out, extras


def breaker_events(step_events, k, strict, exclude):
    """The events whose rows break the transition from step k-1 to step k (0-based k): the
    excluded ones, and with ``strict`` every other step's event that is not of these two steps.
    Both engines use it."""
    bad = set(exclude or ())
    if strict:
        allowed = set(step_events[k - 1]) | set(step_events[k])
        for j, names in enumerate(step_events):
            if j not in (k - 1, k):
                bad |= {e for e in names if e not in allowed}
    return sorted(bad)


def _breakers(step_masks, step_events, mask_of, strict, exclude):
    """Per step transition k-1 -> k: cumulative count of rows that break a chain, or None."""
    K = len(step_masks)
    out = [None] * K
    if not strict and not exclude:
        return out
    cums = {}  # without strict every transition has the same breakers: one count
    for k in range(1, K):
        names = tuple(breaker_events(step_events, k, strict, exclude))
        if not names:
            continue
        if names not in cums:
            bad = mask_of(list(names))
            cums[names] = None
            if bad.any():  # int32 counts when the rows allow: half the memory of int64
                dtype = np.int32 if len(bad) < np.iinfo(np.int32).max else np.int64
                cums[names] = np.zeros(len(bad) + 1, dtype)
                np.cumsum(bad, dtype=dtype, out=cums[names][1:])
        out[k] = cums[names]
    return out


def _tie_start(cust, t, dtype):
    """A function mapping sorted rows to the first row of their (person, time) group, where the
    rows "at or after" their time start."""
    n = len(t)
    tied = np.zeros(n, bool)
    np.equal(cust[1:], cust[:-1], out=tied[1:])
    tied[1:] &= t[1:] == t[:-1]
    later = np.flatnonzero(tied)  # rows with the same person and time as the row before
    if not len(later):
        return lambda rows: rows
    if len(later) > n // 8:  # ties everywhere: one lookup table
        start = np.arange(n, dtype=dtype)
        start[later] = 0
        np.maximum.accumulate(start, out=start)
        return lambda rows: start[rows]
    # few ties: look the rows up among the tied ones only
    first = np.r_[True, np.diff(later) != 1]  # a run of tied rows starts one row earlier
    start = np.maximum.accumulate(np.where(first, later - 1, 0))
    last = len(later) - 1

    def lookup(rows):
        i = np.minimum(np.searchsorted(later, rows), last)
        hit = np.flatnonzero(later[i] == rows)
        out = rows.copy()
        out[hit] = start[i[hit]]
        return out

    return lookup


def _chains(cust, t, step_masks, entry_mask, window_ns, breakers, step_ns=None):
    """Follow every entry through the steps at once.

    ``step_ns[k]`` (optional) limits the time from step k-1 to step k, in ns. Returns the entry
    positions and, for each later step reached by some chain, ``(alive, rows, times)``: the
    entries whose chain reached it (increasing indices into the entries), the sorted-row
    positions of their matches and those rows' times. Positions are int32 when the rows allow
    it (half the memory traffic of int64).
    """
    n = len(t)
    dtype = np.int32 if n < np.iinfo(np.int32).max else np.int64
    entries = np.flatnonzero(entry_mask).astype(dtype)
    K = len(step_masks)
    steps = []
    if not len(entries):
        return entries, steps
    at_or_after = _tie_start(cust, t, dtype)
    # entries still going, and their state: row, person and time of the last matched step,
    # latest time allowed
    alive = np.arange(len(entries), dtype=dtype)
    prev = entries
    person = cust[entries]
    prev_t = t[entries]
    limit = prev_t + window_ns
    for k in range(1, K):
        rows = np.flatnonzero(step_masks[k]).astype(dtype)
        if not len(rows):
            break
        last = len(rows) - 1
        j = np.searchsorted(rows, at_or_after(prev))
        cand = rows.take(j, mode="clip")
        cand_t, cand_person = t[cand], cust[cand]
        # Not a row this chain already used. Chain times never decrease, so a used row can only
        # be in prev's tie group, where the search starts; each used row is met once, hence at
        # most k skips (ties of several rows of one event: ["purchase"] * 3 needs three rows).
        idx = np.flatnonzero((j <= last) & (cand_t == prev_t) & (cand_person == person))
        if len(idx):
            used = _rows_used(entries, steps, alive[idx])  # k x len(idx)
        for _ in range(k):
            if not len(idx):
                break
            again = (used == cand[idx]).any(axis=0)
            idx, used = idx[again], used[:, again]
            if not len(idx):
                break
            j[idx] += 1
            cand[idx] = rows.take(j[idx], mode="clip")
            cand_t[idx], cand_person[idx] = t[cand[idx]], cust[cand[idx]]
            tied = (
                (j[idx] <= last) & (cand_t[idx] == prev_t[idx]) & (cand_person[idx] == person[idx])
            )
            idx, used = idx[tied], used[:, tied]
        ok = j <= last
        ok &= (cand_person == person) & (cand_t <= limit)
        if step_ns is not None and step_ns[k] is not None:
            ok &= cand_t - prev_t <= step_ns[k]
        if breakers[k] is not None:
            lo = np.minimum(prev, cand) + 1
            hi = np.maximum(prev, cand)
            cum = breakers[k]
            ok &= (cum[np.maximum(hi, lo)] - cum[lo]) == 0
        ok = np.flatnonzero(ok)  # one mask to positions, then five gathers
        alive, prev, person, prev_t, limit = (
            alive.take(ok),
            cand.take(ok),
            person.take(ok),
            cand_t.take(ok),
            limit.take(ok),
        )
        if not len(alive):
            break
        steps.append((alive, prev, prev_t))
    return entries, steps


def _all_hit(hit, codes):
    """Whether every row's code (-1: missing, the last slot of ``hit``) is a wanted one (a
    log read with only the funnel's events)."""
    if not len(codes):
        return True
    if hit[:-1].all():
        return bool(codes.min() >= 0)
    return bool(hit[codes].all())


def _step_masks(step_events, lookup_of, evc):
    """One row mask per step. Steps that share no event: one gather of each row's step, then
    a comparison per step (a gather per step costs 3x more at 12M rows)."""
    names = [e for events in step_events for e in events]
    if len(set(names)) < len(names) or len(step_events) > 127:
        return [lookup_of(events)[evc] for events in step_events]
    step_of = np.full(len(lookup_of([])), -1, np.int8)  # code -1 (missing) hits the last slot
    for k, events in enumerate(step_events):
        step_of[lookup_of(events)] = k
    step = step_of[evc]
    return [step == k for k in range(len(step_events))]


def _rows_used(entries, steps, which):
    """The rows matched so far (one row per step) by the chains of entries ``which``, all of
    which reached the last step in ``steps``."""
    used = [entries[which]]
    for alive, rows, _ in steps:
        used.append(rows[np.searchsorted(alive, which)])
    return np.stack(used)


def _group_values(table, events, customers, by, source):
    """One group label per person of ``table``: an events column on the entry event, else a
    customers attribute. Missing values become "(missing)"."""
    cols = [by] if isinstance(by, str) else list(by)
    out = {}
    for col in cols:
        if col in events.columns and col not in ("customer_id", "timestamp"):
            values = events[col].iloc[table["entry_row"].to_numpy()].reset_index(drop=True)
        elif customers is not None and col in customers.columns and col != "customer_id":
            attr = customers.drop_duplicates("customer_id").set_index("customer_id")[col]
            values = attr.reindex(pd.Index(table["customer_id"].astype(str))).reset_index(
                drop=True
            )
        else:
            have = [c for c in events.columns if c not in ("customer_id", "timestamp")]
            if customers is not None:
                have += [c for c in customers.columns if c != "customer_id" and c not in have]
            raise DataError(
                f"{source}(by=...)",
                [
                    {
                        "column": "by",
                        "expected": f"a column of "
                        f"the events{' or customers' if customers is not None else ''} "
                        f"table; '{col}' is in neither",
                    }
                ],
                columns=have,
                hint="pass customers=journey.customers (or the Journey itself) to "
                "group by a customer attribute",
            )
        values = values.astype(object).where(values.notna(), _MISSING)
        out[col] = values.astype(str).to_numpy()
    return pd.DataFrame(out)


def _factorize_rows(keys):
    if keys.shape[1] == 1:
        codes, uniq = pd.factorize(keys.iloc[:, 0], sort=True)
        return codes, pd.DataFrame({keys.columns[0]: uniq})
    uniq = keys.drop_duplicates().sort_values(list(keys.columns)).reset_index(drop=True)
    codes = pd.MultiIndex.from_frame(uniq).get_indexer(pd.MultiIndex.from_frame(keys))
    return codes, uniq


def _prepare(events, steps, window, by, customers, observed_at, complete_only, source, **options):
    if is_engine(events):
        from ..engine.funnel import prepare

        return prepare(events, steps, window, by, observed_at, complete_only, source, **options)
    if isinstance(events, str | os.PathLike):
        events = _read_for_funnel(events, steps, by, source, **options)
    events_df, customers, observed = _unpack(events, customers, observed_at)
    if by is not None and not isinstance(by, str | list | tuple):
        raise DataError(
            f"{source}(by=...)",
            [
                {
                    "column": "by",
                    "expected": f"a column name or a list of names; got {type(by).__name__}",
                }
            ],
        )
    table, extras = _reduce(
        events_df,
        steps,
        window=window,
        observed_at=observed,
        closed_only=bool(complete_only),
        **{**_DEFAULTS, **options},
    )
    groups = None
    if by is not None:
        groups = _group_values(table, events_df, customers, by, source)
    attrs = dict(table.attrs)
    closed = attrs.pop("closed_counts", None)
    attrs["complete_only"] = bool(complete_only)
    return events_df, table, groups, _finish_attrs(table, attrs, closed, groups), extras


def _read_for_funnel(path, steps, by, source, *, stages=None, exclude=None, keep_all=False, **_):
    """The events file at ``path`` as read for this funnel: only the rows of its steps' (and
    excluded) events and, without ``by``, only the three required columns. The rows left out
    cannot change the result: the reduction looks at no other row (except with ``keep_all``,
    which reads them all), and the file's last timestamp stays the end of the data
    (``attrs["observed_at"]``)."""
    from ..data import read_events
    from ..data.contract import NoEventRows

    if keep_all:
        return read_events(path)
    _, step_events = _normalise_steps(steps, stages, source)
    exclude = [exclude] if isinstance(exclude, str) else list(exclude or [])
    wanted = [e for names in step_events for e in names] + exclude
    columns = [] if by is None else None
    try:
        return read_events(path, columns=columns, events=wanted)
    except NoEventRows:  # no step matches a row: the funnel of the whole log says so
        return read_events(path, columns=columns)


def _finish_attrs(table, attrs, closed, groups):
    """The summary counts funnel() reports beside the reduced table (shared by the engines)."""
    attrs["open_windows"] = int(table["window_open"].sum())
    attrs["open_not_converted"] = int(
        (table["window_open"] & (table["depth"] < len(attrs["steps"]))).sum()
    )
    attrs["left_out_open"] = 0
    if closed is not None:
        # counts of the whole population; the table holds only entries with closed windows
        attrs["open_windows"] = closed["open_windows"]
        attrs.pop("open_not_converted")
        attrs["left_out_open"] = closed["left_out_open"]
        attrs["open_entries_left_out"] = closed["open_entries_left_out"]
        attrs["judged_on_closed"] = closed["judged_on_closed"]
    if groups is not None:
        attrs["missing_group"] = int((groups == _MISSING).any(axis=1).sum())
    table.attrs = jsonable(attrs)
    return attrs


_DEFAULTS = {
    "strict": False,
    "start": None,
    "end": None,
    "entry": "all",
    "exclude": None,
    "stages": None,
    "step_windows": None,
}

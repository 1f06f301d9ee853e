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
  step's time, other than the row that matched the previous step, no later than ``window`` after
  the entry (the boundary counts).
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

import sys
import warnings

import numpy as np
import pandas as pd

from ._args import duration, jsonable, moment, observed_at_of
from ._stats import Z95 as _Z95
from ._stats import adjust_pvalues as _adjust
from ._stats import wilson as _wilson
from .data import DataError, Journey

__all__ = [
    "read_funnel_spec",
    "funnel",
    "funnel_table",
    "time_to_convert",
    "funnel_trend",
    "drop_off_paths",
    "compare_funnel",
    "segment_gaps",
    "STAGES",
    "STEPS",
    "STAGE_ORDER",
]

#: Journey stages in order.
STAGE_ORDER = ("awareness", "consideration", "decision", "purchase", "post-purchase")

#: Default mapping of the sample's events to journey stages (pass as ``stages=``).
STAGES = {
    "ad_click": "awareness",
    "social_click": "awareness",
    "email_click": "awareness",
    "referral_visit": "awareness",
    "organic_search": "awareness",
    "site_visit": "consideration",
    "product_view": "consideration",
    "add_to_cart": "decision",
    "checkout": "decision",
    "purchase": "purchase",
    "onboarding_complete": "post-purchase",
    "app_login": "post-purchase",
    "email_open": "post-purchase",
    "whatsapp_message": "post-purchase",
    "support_ticket": "post-purchase",
}

#: The sample's buyer funnel: a step name and the event(s) that count for it.
STEPS = {
    "awareness": ["ad_click", "social_click", "email_click", "referral_visit", "organic_search"],
    "site_visit": "site_visit",
    "product_view": "product_view",
    "add_to_cart": "add_to_cart",
    "checkout": "checkout",
    "purchase": "purchase",
}


def read_funnel_spec(folder=None):
    """The funnel steps and window for a data folder: its ``funnel.json``, else the sample's.

    Your events have their own names; put a ``funnel.json`` beside them and every notebook and
    report uses it::

        {"steps": {"awareness": ["ad_click", "newsletter_click"], "visit": "page_view",
                   "cart": "add_to_cart", "purchase": "order_completed"},
         "window": "7D"}

    A step maps to one event name or a list of alternatives.

    Returns
    -------
    (dict, str)
        ``steps`` (step name → event or list of events) and ``window``.

    Examples
    --------
    >>> from cxkit.funnel import read_funnel_spec
    >>> steps, window = read_funnel_spec()
    >>> list(steps)[-1], window
    ('purchase', '14D')
    """
    import json
    from pathlib import Path

    path = Path(folder) / "funnel.json" if folder is not None else None
    if path is None or not path.exists():
        return dict(STEPS), "14D"
    try:
        spec = json.loads(path.read_text())
        steps = spec["steps"]
        if not isinstance(steps, dict) or not steps:
            raise ValueError("steps must be a non-empty object")
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(
            path,
            [
                {
                    "column": "steps",
                    "expected": f'{{"steps": {{"step name": "event" or [events], '
                    f'...}}, "window": "14D"}} ({exc})',
                }
            ],
        ) from None
    return steps, spec.get("window", "14D")


_MISSING = "(missing)"


# --------------------------------------------------------------------------------------------
# argument handling
# --------------------------------------------------------------------------------------------


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
    missing = [c for c in ("customer_id", "timestamp", "event") if c not in events.columns]
    if missing:
        raise DataError(
            "funnel(events=...)",
            [{"column": c, "expected": "required column is missing"} for c in missing],
            columns=events.columns,
            hint="read the log with cxkit.read_events, which maps your column names",
        )
    observed = observed_at_of(events, observed_at, "funnel")
    if observed is None:  # a hand-made table: the end of the data is its latest event
        observed = moment(events["timestamp"].max(), "observed_at", "funnel")
    return events, customers, observed


def _parse_window(window, source="funnel"):
    return duration(window, "window", source)


def _parse_step_windows(step_windows, labels, source="funnel"):
    """Per-step limits from the previous step: a list of K Timedeltas or None (None for step 1
    and for steps without their own limit)."""
    K = len(labels)
    out = [None] * K
    if step_windows is None:
        return out
    where = f"{source}(step_windows=...)"
    if isinstance(step_windows, dict):
        unknown = [key for key in step_windows if key not in labels[1:]]
        if unknown:
            raise DataError(
                where,
                [
                    {
                        "column": "step_windows",
                        "expected": "names of steps after the first (the first has no "
                        "previous step)",
                        "rows": len(unknown),
                        "examples": unknown[:5],
                    }
                ],
                columns=labels[1:],
            )
        items = [(labels.index(key), value) for key, value in step_windows.items()]
    elif isinstance(step_windows, list | tuple):
        if len(step_windows) != K - 1:
            raise DataError(
                where,
                [
                    {
                        "column": "step_windows",
                        "expected": f"one entry per step after the first ({K - 1} for "
                        f"{K} steps; None = no own limit); got {len(step_windows)}",
                    }
                ],
                columns=labels[1:],
            )
        items = list(enumerate(step_windows, start=1))
    else:
        raise DataError(
            where,
            [
                {
                    "column": "step_windows",
                    "expected": "a dict {step name: duration} or a list with one duration (or "
                    f"None) per step after the first; got {type(step_windows).__name__}",
                }
            ],
        )
    bad = []
    for k, value in items:
        if value is None:
            continue
        try:
            out[k] = duration(value, "step_windows", "funnel", allow_zero=True)
        except DataError:
            bad.append(f"{labels[k]}: {value!r}")
    if bad:
        raise DataError(
            where,
            [
                {
                    "column": "step_windows",
                    "expected": "durations such as '1D', '36h' or '30min' (or None)",
                    "rows": len(bad),
                    "examples": bad[:5],
                }
            ],
        )
    return out


def _normalise_steps(steps, stages, source="funnel"):
    """Return (labels, list of tuples of event names)."""
    if stages is not None:
        if not isinstance(stages, dict) or not stages:
            raise DataError(
                f"{source}(stages=...)",
                [{"column": "stages", "expected": "a dict mapping event names to stage names"}],
            )
        order = [s for s in STAGE_ORDER if s in set(stages.values())]
        order += [s for s in dict.fromkeys(stages.values()) if s not in order]
        wanted = order if steps is None else list(steps)
        unknown = [s for s in wanted if s not in order]
        if unknown:
            raise DataError(
                f"{source}(steps=...)",
                [
                    {
                        "column": "steps",
                        "expected": "stage names that appear in stages",
                        "rows": len(unknown),
                        "examples": unknown[:5],
                    }
                ],
                columns=order,
            )
        steps = {s: [e for e, st in stages.items() if st == s] for s in wanted}
    if steps is None or (hasattr(steps, "__len__") and len(steps) == 0):
        raise DataError(
            f"{source}(steps=...)",
            [
                {
                    "column": "steps",
                    "expected": "at least one "
                    "step (a list of event names, or a dict {step name: event(s)})",
                }
            ],
        )
    if isinstance(steps, str):
        steps = [steps]
    if not isinstance(steps, (dict, list, tuple)):
        raise DataError(
            f"{source}(steps=...)",
            [
                {
                    "column": "steps",
                    "expected": "a list of event names (an item may be a list of "
                    "alternatives) or a dict {step name: event(s)}; got "
                    f"{type(steps).__name__} {steps!r}",
                }
            ],
        )
    items = list(steps.items()) if isinstance(steps, dict) else [(None, s) for s in steps]
    labels, events = [], []
    for label, item in items:
        alts = (
            (item,)
            if isinstance(item, str)
            else tuple(item)
            if isinstance(item, (list, tuple, set))
            else ()
        )
        if not alts or not all(isinstance(a, str) for a in alts):
            raise DataError(
                f"{source}(steps=...)",
                [
                    {
                        "column": "steps",
                        "expected": "each step an event name or a non-empty list of event names",
                        "rows": 1,
                        "examples": [item],
                    }
                ],
            )
        name = str(label) if label is not None else " | ".join(alts)
        if name in labels:  # the same event twice in a row: "A", "A (2)"
            name = f"{name} ({sum(lab.split(' (')[0] == name for lab in labels) + 1})"
        labels.append(name)
        events.append(alts)
    return labels, events


def _parse_time(value, name, source):
    return None if value is None else moment(value, name, source)


# --------------------------------------------------------------------------------------------
# the reduction
# --------------------------------------------------------------------------------------------


def _stacklevel():
    """Stack level of the first frame outside cxkit, so warnings point at the user's call."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("cxkit"):
        frame, level = frame.f_back, level + 1
    return level


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
        reached), ``last_entry_at`` and ``window_open`` (some entry's window ends after
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
    out, _ = _reduce(
        events,
        steps,
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
    out.attrs = jsonable(out.attrs)
    return out


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
):
    """funnel_table's work; also returns the sorted log and each step's matched row."""
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
    if ts.isna().any():
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

    t = _as_int64_ns(ts)
    cust_codes, cust_values = _codes(events["customer_id"])
    ev_codes, ev_values = _codes(events["event"])
    ev_values = pd.Index(np.asarray(ev_values, dtype=object))
    if (cust_codes < 0).any():
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
    if keep_all:
        rows = None
    else:
        wanted = [e for names in step_events for e in names] + exclude
        rows = np.flatnonzero(lookup_of(wanted)[ev_codes])
        cust_codes, t, ev_codes = cust_codes[rows], t[rows], ev_codes[rows]

    # sort once by (person, time), keeping input order within ties
    n = len(t)
    if n < 2 or np.all(
        (cust_codes[1:] > cust_codes[:-1])
        | ((cust_codes[1:] == cust_codes[:-1]) & (t[1:] >= t[:-1]))
    ):
        order = None
        cust, tt, evc = cust_codes, t, ev_codes
    else:
        order = np.lexsort((t, cust_codes))
        cust, tt, evc = cust_codes[order], t[order], ev_codes[order]
    if rows is not None:
        order = rows if order is None else rows[order]

    def mask_of(names):
        return lookup_of(names)[evc]

    step_masks = [mask_of(names) for names in step_events]
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

    breakers = _breakers(step_masks, step_events, mask_of, strict, exclude)
    step_ns = [None if td is None else int(td.value) for td in step_tds]
    pos, entries = _chains(cust, tt, step_masks, entry_mask, window_ns, breakers, step_ns)

    K = len(labels)
    reached = pos >= 0
    depth = reached.sum(axis=0)
    m = len(entries)
    ecust = cust[entries]
    if m:
        seg_start = np.flatnonzero(np.r_[True, ecust[1:] != ecust[:-1]])
        seg_id = np.cumsum(np.r_[True, ecust[1:] != ecust[:-1]]) - 1
        seg_max = np.maximum.reduceat(depth, seg_start)
        best = depth == seg_max[seg_id]
        cand = np.flatnonzero(best)
        firstbest = cand[np.r_[True, seg_id[cand[1:]] != seg_id[cand[:-1]]]]
        seg_end = np.r_[seg_start[1:], m] - 1
        last_entry_t = tt[entries[seg_end]]
    else:
        firstbest = np.zeros(0, np.int64)
        last_entry_t = np.zeros(0, np.int64)

    chosen = np.ascontiguousarray(pos[:, firstbest])  # steps x persons, rows contiguous
    person = ecust[firstbest]
    if isinstance(events["customer_id"].dtype, pd.CategoricalDtype):
        ids = pd.Categorical.from_codes(person, dtype=events["customer_id"].dtype)
    else:
        ids = cust_values.take(person)
    columns = {
        "customer_id": ids,
        "depth": depth[firstbest].astype(np.int64),
        "entry_row": (order[chosen[0]] if order is not None else chosen[0]).astype(np.int64),
    }
    nat = np.iinfo(np.int64).min
    for k in range(K):
        at = np.where(chosen[k] >= 0, tt[np.maximum(chosen[k], 0)], nat)
        columns[f"step_{k + 1}_at"] = at.view("datetime64[ns]")
    columns["last_entry_at"] = last_entry_t.view("datetime64[ns]")
    columns["window_open"] = last_entry_t + window_ns > observed.value
    out = pd.DataFrame(columns)
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
    extras = {
        "order": order,
        "chosen": chosen,
        "cust": cust,
        "t": tt,
        "ev": evc,
        "ev_values": ev_values,
    }
    return out, extras


def _breakers(step_masks, step_events, mask_of, strict, exclude):
    """Per step transition k-1 -> k: cumulative count of rows that break a chain, or None."""
    K = len(step_masks)
    excl = mask_of(exclude) if exclude else None
    out = [None] * K
    if not strict and excl is None:
        return out
    n = len(step_masks[0])
    for k in range(1, K):
        bad = np.zeros(n, bool) if excl is None else excl.copy()
        if strict:
            allowed = set(step_events[k - 1]) | set(step_events[k])
            others = [
                e
                for j, names in enumerate(step_events)
                if j not in (k - 1, k)
                for e in names
                if e not in allowed
            ]
            if others:
                bad |= mask_of(others)
        if bad.any():
            out[k] = np.r_[0, np.cumsum(bad, dtype=np.int64)]
    return out


def _chains(cust, t, step_masks, entry_mask, window_ns, breakers, step_ns=None):
    """Follow every entry through the steps at once.

    ``step_ns[k]`` (optional) limits the time from step k-1 to step k, in ns. Returns ``pos``
    (steps × entries; sorted-row position of each step's match or -1) and the entry positions.
    """
    n = len(t)
    entries = np.flatnonzero(entry_mask)
    K = len(step_masks)
    pos = np.full((K, len(entries)), -1, dtype=np.int64)
    if not len(entries):
        return pos, entries
    pos[0] = entries
    # first position of each row's (person, time) tie group: "at or after" this time
    new = np.ones(n, bool)
    new[1:] = (cust[1:] != cust[:-1]) | (t[1:] != t[:-1])
    tie_start = np.maximum.accumulate(np.where(new, np.arange(n), 0))
    alive = np.arange(len(entries))  # entries still going, and their state:
    prev = entries.copy()  # row of the last matched step
    limit = t[entries] + window_ns  # latest time allowed
    for k in range(1, K):
        rows = np.flatnonzero(step_masks[k])
        if not len(rows) or not len(alive):
            break
        last = len(rows) - 1
        j = np.searchsorted(rows, tie_start[prev])
        j += rows[np.minimum(j, last)] == prev  # not the row that matched the previous step
        ok = j <= last
        cand = rows[np.minimum(j, last)]
        ok &= (cust[cand] == cust[prev]) & (t[cand] <= limit)
        if step_ns is not None and step_ns[k] is not None:
            ok &= t[cand] - t[prev] <= step_ns[k]
        if breakers[k] is not None:
            lo = np.minimum(prev, cand) + 1
            hi = np.maximum(prev, cand)
            cum = breakers[k]
            ok &= (cum[np.maximum(hi, lo)] - cum[lo]) == 0
        alive, prev, limit = alive[ok], cand[ok], limit[ok]
        pos[k, alive] = prev
    return pos, entries


# --------------------------------------------------------------------------------------------
# statistics helpers
# --------------------------------------------------------------------------------------------


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


def _summarise(table, labels, groups=None):
    """The tidy funnel of a per-person table (optionally by groups)."""
    K = len(labels)
    depth = table["depth"].to_numpy()
    if groups is None:
        codes, uniques, gcols = np.zeros(len(table), np.int64), None, []
        G = 1
    else:
        keys = groups.reset_index(drop=True)
        gcols = list(keys.columns)
        codes, uniques = _factorize_rows(keys)
        G = len(uniques)
    counts = np.bincount(codes * (K + 1) + depth, minlength=G * (K + 1)).reshape(G, K + 1)
    reached = counts[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]  # reached[g, k-1] = depth >= k
    rows = []
    for k in range(K):
        n_k = reached[:, k]
        start_n = reached[:, 0]
        prev_n = reached[:, k - 1] if k else reached[:, 0]
        if k:
            sel = depth > k  # reached step k + 1
            gap = table[f"step_{k + 1}_at"].to_numpy()[sel].view("int64") - table[
                f"step_{k}_at"
            ].to_numpy()[sel].view("int64")
            if groups is None:
                med = np.array([np.median(gap) if len(gap) else np.nan])
            else:
                med = pd.Series(gap.astype(float)).groupby(codes[sel]).median()
                med = med.reindex(range(G)).to_numpy()
            med = pd.to_timedelta(med, unit="ns").to_numpy()
            lo, hi = _wilson(n_k, prev_n)
        else:
            med = np.full(G, np.timedelta64("NaT", "ns"))
            lo = hi = np.full(G, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            frame = pd.DataFrame(
                {
                    "step_index": k + 1,
                    "step": labels[k],
                    "customers": n_k,
                    "pct_of_start": np.where(start_n > 0, 100 * n_k / start_n, np.nan),
                    "pct_of_previous": np.where(prev_n > 0, 100 * n_k / prev_n, np.nan),
                    "ci_low": lo,
                    "ci_high": hi,
                    "median_time_to_step": pd.to_timedelta(med),
                }
            )
        if groups is not None:
            for c in gcols:
                frame.insert(0, c, uniques[c].to_numpy())
        rows.append(frame)
    out = pd.concat(rows, ignore_index=True)
    if groups is not None:
        out = out.sort_values(gcols + ["step_index"], kind="stable").reset_index(drop=True)
    return out


def _factorize_rows(keys):
    if keys.shape[1] == 1:
        codes, uniq = pd.factorize(keys.iloc[:, 0], sort=True)
        return codes, pd.DataFrame({keys.columns[0]: uniq})
    uniq = keys.drop_duplicates().sort_values(list(keys.columns)).reset_index(drop=True)
    codes = pd.MultiIndex.from_frame(uniq).get_indexer(pd.MultiIndex.from_frame(keys))
    return codes, uniq


def _prepare(events, steps, window, by, customers, observed_at, complete_only, source, **options):
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
        events_df, steps, window=window, observed_at=observed, **{**_DEFAULTS, **options}
    )
    groups = None
    if by is not None:
        groups = _group_values(table, events_df, customers, by, source)
    attrs = dict(table.attrs)
    attrs["open_windows"] = int(table["window_open"].sum())
    attrs["open_not_converted"] = int(
        (table["window_open"] & (table["depth"] < len(attrs["steps"]))).sum()
    )
    attrs["complete_only"] = bool(complete_only)
    attrs["left_out_open"] = 0
    keep = None
    if complete_only:
        keep = ~table["window_open"].to_numpy()
        attrs["left_out_open"] = int((~keep).sum())
        table = table[keep].reset_index(drop=True)
        if groups is not None:
            groups = groups[keep].reset_index(drop=True)
    if groups is not None:
        attrs["missing_group"] = int((groups == _MISSING).any(axis=1).sum())
    table.attrs = jsonable(attrs)
    if keep is not None:
        extras["chosen"] = extras["chosen"][:, keep]
    return events_df, table, groups, attrs, extras


_DEFAULTS = {
    "strict": False,
    "start": None,
    "end": None,
    "entry": "all",
    "exclude": None,
    "stages": None,
    "step_windows": None,
}


def funnel(
    events,
    steps=None,
    *,
    window="14D",
    by=None,
    customers=None,
    observed_at=None,
    strict=False,
    start=None,
    end=None,
    entry="all",
    exclude=None,
    complete_only=False,
    stages=None,
    step_windows=None,
):
    """How many people reach each funnel step, with step conversion and its uncertainty.

    Parameters
    ----------
    events : DataFrame or Journey
        The events table (or a Journey: its customers and ``observed_at`` are used).
    steps : list or dict
        Steps in order; an item is an event or a list of alternative events; a dict names them.
    window : str or Timedelta, default "14D"
        Time allowed from the entry to the last step; a step exactly on the boundary counts.
    step_windows : dict or list, optional
        Per-step windows: the longest time allowed from the previous step to a step, on top of
        ``window`` (both must hold; the boundary counts). A dict ``{step name: "1D"}`` or a list
        with one duration (or ``None``: no own limit) per step after the first.
    by : str or list of str, optional
        Put each person in one group: an events column's value on the person's entry event
        (device, channel, variant) or, if the events lack it, a customers-table attribute.
        People without a value form the group "(missing)".
    customers : DataFrame, optional
        The customers table, for ``by`` on a customer attribute (taken from a Journey).
    observed_at : Timestamp, optional
        End of the data; default the Journey's ``observed_at``, else the latest event.
    strict, start, end, entry, exclude, stages
        See :func:`funnel_table`.
    complete_only : bool, default False
        Leave out entrants whose (last) entry window is still open at ``observed_at`` — both
        those still on their way and those already through — instead of counting them.

    Returns
    -------
    DataFrame
        One row per step (× group): ``step_index`` (1-based), ``step``, ``customers`` (people
        who reached it), ``pct_of_start``, ``pct_of_previous`` (percent), ``ci_low``,
        ``ci_high`` (Wilson 95% on ``pct_of_previous``; NaN for step 1) and
        ``median_time_to_step`` (from the previous step), plus the ``by`` column(s).
        ``attrs``: ``entrants``, ``open_windows`` (entrants whose window was still open at the
        end of the data), ``open_not_converted``, ``left_out_open``, ``missing_group``, the
        steps, window and ``observed_at`` (as text, so the table exports to Parquet).

    Notes
    -----
    See the module docstring for the matching rules. Counts equal ClickHouse's
    ``windowFunnel`` except when one event row can match two consecutive steps (ClickHouse lets
    it count twice; cxkit needs two rows). ``strict=True`` is cxkit's own rule (only other
    funnel steps' events break a chain), not ClickHouse's ``strict_order``.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS
    >>> f = cxkit.funnel(cxkit.load_sample(), STEPS, window="14D")
    >>> list(f["step"])[:3]
    ['awareness', 'site_visit', 'product_view']

    Purchase within an hour of checkout, the rest within the 14 days of the entry:

    >>> g = cxkit.funnel(cxkit.load_sample(), STEPS, step_windows={"purchase": "1h"})
    >>> bool(g["customers"].iloc[-1] <= f["customers"].iloc[-1])
    True
    """
    _, table, groups, attrs, _ = _prepare(
        events,
        steps,
        window,
        by,
        customers,
        observed_at,
        complete_only,
        "funnel",
        strict=strict,
        start=start,
        end=end,
        entry=entry,
        exclude=exclude,
        stages=stages,
        step_windows=step_windows,
    )
    out = _summarise(table, list(attrs["steps"]), groups)
    out.attrs = jsonable(attrs)
    return out


# --------------------------------------------------------------------------------------------
# time to convert
# --------------------------------------------------------------------------------------------


def _kaplan_meier(duration, event):
    """KM curve: (times, survival, lower, upper, at_risk) at the distinct event times.

    Confidence band: log(-log) transform of Greenwood's variance (95%)."""
    duration = np.asarray(duration, float)
    event = np.asarray(event, bool)
    order = np.argsort(duration, kind="stable")
    d_sorted = duration[order]
    e_sorted = event[order]
    times, first = np.unique(d_sorted, return_index=True)
    n = len(d_sorted)
    at_risk = n - first
    deaths = np.add.reduceat(e_sorted.astype(int), first) if n else np.zeros(0, int)
    keep = deaths > 0
    times, at_risk, deaths = times[keep], at_risk[keep], deaths[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1 - deaths / at_risk)
        var = np.cumsum(deaths / (at_risk * (at_risk - deaths)))
        log_s = np.log(surv)
        se = np.sqrt(var) / np.abs(log_s)
        low = surv ** np.exp(_Z95 * se)
        high = surv ** np.exp(-_Z95 * se)
    low = np.where(surv > 0, low, 0.0)
    high = np.where(surv > 0, high, np.where(np.isfinite(high), high, 0.0))
    return times, surv, np.nan_to_num(low), np.nan_to_num(high, nan=1.0), at_risk


def _km_quantile(times, surv, q):
    """Smallest time by which a share q has converted (survival <= 1 - q), NaN if never."""
    hit = np.flatnonzero(surv <= 1 - q + 1e-12)
    return times[hit[0]] if len(hit) else np.nan


def _durations(table, k, window, observed, step_window=None):
    """Time (hours) from step k to k+1 for people who reached step k, and whether they did.

    Non-converters are censored at the end of their window (or of step k+1's own window, or of
    the data, whichever comes first)."""
    at = table[f"step_{k}_at"]
    nxt = table[f"step_{k + 1}_at"]
    reached = table["depth"].to_numpy() >= k
    converted = table["depth"].to_numpy() >= k + 1
    end = np.minimum((table["step_1_at"] + window).to_numpy(), np.datetime64(observed, "ns"))
    if step_window is not None:
        end = np.minimum(end, (at + step_window).to_numpy())
    stop = np.where(converted, nxt.to_numpy(), end)
    hours = (stop - at.to_numpy()) / np.timedelta64(1, "h")
    hours = np.maximum(hours, 0.0)
    return hours[reached], converted[reached]


def time_to_convert(
    events,
    steps=None,
    *,
    window="14D",
    by=None,
    customers=None,
    observed_at=None,
    curve=False,
    **options,
):
    """Time from each step to the next, as a survival question.

    People who reached a step but not the next are censored at the end of their window (or of
    the next step's own window in ``step_windows``, or at the end of the data, if earlier)
    instead of being dropped, so "half convert within 2 days" is true of everyone who reached
    the step. Beside it, the plain quartiles among converters.

    The window runs from the *entry* event, so people censored at its end had less than a full
    window after reaching the step; the Kaplan–Meier ``pct_converted`` therefore estimates
    conversion as if the window did not close (it can slightly exceed the funnel's
    ``pct_of_previous``, which counts only conversions inside the window).

    Parameters
    ----------
    events, steps, window, by, customers, observed_at
        As in :func:`funnel`; other options (strict, start, end, entry, exclude, stages,
        step_windows, complete_only) are passed on.
    curve : bool, default False
        Return the Kaplan–Meier curves instead of the summary: ``step_index``, ``step``,
        ``next_step``, ``hours``, ``pct_converted``, ``ci_low``, ``ci_high``, ``at_risk``
        (for :func:`cxkit.plots.plot_time_to_convert`).

    Returns
    -------
    DataFrame
        One row per step transition (× group): ``step_index``, ``step``, ``next_step``,
        ``reached`` (people at the step), ``converted``, ``censored``, ``pct_converted``
        (Kaplan–Meier, by the end of the window), ``median_hours``, ``q25_hours``, ``q75_hours``
        (time by which 50/25/75% of everyone at the step has converted; NaN = never reached) and
        ``median_hours_converted``, ``q25_hours_converted``, ``q75_hours_converted``.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS
    >>> ttc = cxkit.time_to_convert(cxkit.load_sample(), STEPS)
    >>> list(ttc.columns[:3])
    ['step_index', 'step', 'next_step']
    """
    complete_only = options.pop("complete_only", False)
    _, table, groups, attrs, _ = _prepare(
        events,
        steps,
        window,
        by,
        customers,
        observed_at,
        complete_only,
        "time_to_convert",
        **options,
    )
    labels = list(attrs["steps"])
    window_td, observed = attrs["window"], attrs["observed_at"]
    step_tds = list(attrs["step_windows"].values())
    if groups is None:
        parts = [((), np.ones(len(table), bool))]
        gcols = []
    else:
        gcols = list(groups.columns)
        codes, uniq = _factorize_rows(groups)
        parts = [(tuple(uniq.iloc[g]), codes == g) for g in range(len(uniq))]
    summary, curves = [], []
    for key, mask in parts:
        sub = table[mask]
        for k in range(1, len(labels)):
            hours, conv = _durations(sub, k, window_td, observed, step_tds[k])
            times, surv, low, high, risk = _kaplan_meier(hours, conv)
            head = dict(zip(gcols, key, strict=True))
            head.update(step_index=k, step=labels[k - 1], next_step=labels[k])
            q = np.quantile(hours[conv], [0.25, 0.5, 0.75]) if conv.any() else [np.nan] * 3
            summary.append(
                {
                    **head,
                    "reached": int(len(hours)),
                    "converted": int(conv.sum()),
                    "censored": int((~conv).sum()),
                    "pct_converted": 100 * (1 - surv[-1]) if len(surv) else 0.0,
                    "median_hours": _km_quantile(times, surv, 0.5),
                    "q25_hours": _km_quantile(times, surv, 0.25),
                    "q75_hours": _km_quantile(times, surv, 0.75),
                    "median_hours_converted": q[1],
                    "q25_hours_converted": q[0],
                    "q75_hours_converted": q[2],
                }
            )
            if curve:
                curves.append(
                    pd.DataFrame(
                        {
                            **head,
                            "hours": np.r_[0.0, times],
                            "pct_converted": 100 * (1 - np.r_[1.0, surv]),
                            "ci_low": 100 * (1 - np.r_[1.0, high]),
                            "ci_high": 100 * (1 - np.r_[1.0, low]),
                            "at_risk": np.r_[len(hours), risk],
                        }
                    )
                )
    if curve:
        out = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    else:
        out = pd.DataFrame(summary)
    out.attrs = jsonable(attrs)
    return out


# --------------------------------------------------------------------------------------------
# trend
# --------------------------------------------------------------------------------------------


def funnel_trend(
    events,
    steps=None,
    *,
    period="W",
    window="14D",
    by=None,
    customers=None,
    observed_at=None,
    **options,
):
    """Conversion by entry week or month: the funnel of each entry period.

    Parameters
    ----------
    period : {"W", "M"} or pandas period alias
        Entry period; a person belongs to the period of the entry their chain starts from.
    Others as in :func:`funnel`.

    Returns
    -------
    DataFrame
        :func:`funnel`'s columns per ``period`` (a Timestamp, the period's start), plus
        ``open_windows``: entrants of that period whose window was still open at the end of the
        data (recent periods are incomplete; see ``complete_only``).

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS
    >>> trend = cxkit.funnel_trend(cxkit.load_sample(), STEPS, period="M")
    >>> "period" in trend.columns
    True
    """
    complete_only = options.pop("complete_only", False)
    _, table, groups, attrs, _ = _prepare(
        events, steps, window, by, customers, observed_at, complete_only, "funnel_trend", **options
    )
    alias = {"W": "W-SUN", "M": "M", "MS": "M", "ME": "M", "Q": "Q"}.get(period, period)
    try:
        periods = table["step_1_at"].dt.to_period(alias).dt.start_time
    except (ValueError, TypeError):
        raise DataError(
            "funnel_trend(period=...)",
            [{"column": "period", "expected": f"'W' (weeks) or 'M' (months); got {period!r}"}],
        ) from None
    keys = pd.DataFrame({"period": periods.to_numpy()})
    if groups is not None:
        keys = pd.concat([keys, groups], axis=1)
    out = _summarise(table, list(attrs["steps"]), keys)
    open_by = table.groupby(keys["period"].to_numpy())["window_open"].sum()
    out["open_windows"] = out["period"].map(open_by).fillna(0).astype(int).to_numpy()
    out.attrs = jsonable(attrs)
    return out


# --------------------------------------------------------------------------------------------
# drop-off paths
# --------------------------------------------------------------------------------------------


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

    # the step-k row of each dropper in the sorted log, then the rows that follow it
    cust, t = extras["cust"], extras["t"]
    ev_names = np.asarray(extras["ev_values"], dtype=object)[extras["ev"]]
    at = extras["chosen"][k - 1, droppers]
    limit = np.minimum(
        (sub["step_1_at"] + attrs["window"]).to_numpy().view("int64"), attrs["observed_at"].value
    )
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


# --------------------------------------------------------------------------------------------
# comparing groups
# --------------------------------------------------------------------------------------------


def compare_funnel(
    events,
    steps=None,
    *,
    by,
    baseline=None,
    window="14D",
    customers=None,
    observed_at=None,
    test="z",
    correction="holm",
    alpha=0.05,
    power=0.8,
    **options,
):
    """Test each step's conversion between groups (A/B variants, devices, channels).

    Each group's step conversion (``pct_of_previous``) is compared with the ``baseline`` group,
    or, when no baseline is given, with everyone else pooled ("rest"). For each step and group:
    the difference in percentage points with a Newcombe 95% CI, the relative change, a
    two-proportion z test (``test="z"``) or a chi-square test of the 2×2 table
    (``test="chi2"``, same p-value without continuity correction), the p-value corrected for
    the number of comparisons (Holm by default), and the minimum detectable effect for these
    sample sizes, so that "no significant difference" is not read into an underpowered test.

    Parameters
    ----------
    by : str
        The grouping (as in :func:`funnel`).
    baseline : str, optional
        The reference group (e.g. "control"); default each group against all others.
    test : {"z", "chi2"}
    correction : {"holm", "bonferroni", "fdr_bh", "none"}
    alpha, power : float
        Significance level and power for ``significant`` and ``mde_pp``.
    Others as in :func:`funnel`.

    Returns
    -------
    DataFrame
        One row per step (from step 2) × compared group: ``step_index``, ``step``, ``by``
        (the column), ``group``, ``reference``, ``n_group``, ``pct_group``, ``n_reference``,
        ``pct_reference`` (people at the previous step and the share who continued),
        ``diff_pp``, ``ci_low``, ``ci_high``, ``relative`` (ratio), ``statistic``, ``p_value``,
        ``p_adjusted``, ``significant``, ``mde_pp`` (smallest difference in points these sizes
        detect with the given power) and ``p_overall`` (chi-square across all groups at the
        step).

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS
    >>> cmp = cxkit.compare_funnel(cxkit.load_sample(), STEPS, by="device")
    >>> bool((cmp["p_adjusted"] >= cmp["p_value"]).all())
    True
    """
    from scipy import stats

    if test not in ("z", "chi2"):
        raise DataError(
            "compare_funnel(test=...)",
            [{"column": "test", "expected": f"'z' or 'chi2'; got {test!r}"}],
        )
    if correction not in ("holm", "bonferroni", "fdr_bh", "none", None):
        raise DataError(
            "compare_funnel(correction=...)",
            [{"column": "correction", "expected": "'holm', 'bonferroni', 'fdr_bh' or 'none'"}],
        )
    if not isinstance(by, str):
        raise DataError(
            "compare_funnel(by=...)",
            [{"column": "by", "expected": f"one column name; got {by!r}"}],
        )
    f = funnel(
        events,
        steps,
        window=window,
        by=by,
        customers=customers,
        observed_at=observed_at,
        **options,
    )
    groups = list(pd.unique(f[by]))
    if baseline is not None and baseline not in groups:
        raise DataError(
            "compare_funnel(baseline=...)",
            [{"column": "baseline", "expected": f"one of the groups of '{by}'; got {baseline!r}"}],
            columns=groups,
        )
    K = int(f["step_index"].max())
    rows = []
    for k in range(2, K + 1):
        now = f[f["step_index"] == k].set_index(by)["customers"].reindex(groups).fillna(0)
        before = f[f["step_index"] == k - 1].set_index(by)["customers"].reindex(groups)
        before = before.fillna(0)
        table = np.vstack([now.to_numpy(), (before - now).to_numpy()])
        nonempty = table.sum(axis=0) > 0
        p_overall = np.nan
        if nonempty.sum() >= 2 and (table[:, nonempty].sum(axis=1) > 0).all():
            p_overall = stats.chi2_contingency(table[:, nonempty], correction=False)[1]
        step = f.loc[f["step_index"] == k, "step"].iloc[0]
        for g in groups:
            if g == baseline:
                continue
            x1, n1 = now[g], before[g]
            if baseline is None:
                x2, n2, ref = now.sum() - x1, before.sum() - n1, "rest"
            else:
                x2, n2, ref = now[baseline], before[baseline], baseline
            rows.append(
                {
                    "step_index": k,
                    "step": step,
                    "by": by,
                    "group": g,
                    "reference": ref,
                    **_two_proportions(x1, n1, x2, n2, test, alpha, power),
                    "p_overall": p_overall,
                }
            )
    out = pd.DataFrame(rows)
    if len(out):
        out["p_adjusted"] = _adjust(out["p_value"].to_numpy(), correction)
        out["significant"] = out["p_adjusted"] < alpha
        cols = [
            c for c in out.columns if c not in ("p_adjusted", "significant", "mde_pp", "p_overall")
        ]
        cols.insert(cols.index("p_value") + 1, "p_adjusted")
        out = out[cols + ["significant", "mde_pp", "p_overall"]]
    out.attrs = jsonable(
        {**f.attrs, "test": test, "correction": correction, "alpha": alpha, "power": power}
    )
    return out


def segment_gaps(events, steps=None, *, by=("device", "channel"), **options):
    """Every step × segment comparison of :func:`compare_funnel` over several groupings, the
    largest credible gap first.

    Runs :func:`compare_funnel` (each group against everyone else) for each ``by`` column that
    exists, and sorts: significant gaps first, then by ``relative`` (the lowest ratio of the
    group's step conversion to the rest's first) — so ``.iloc[0]`` is "the segment that falls
    behind, and where". Columns as in :func:`compare_funnel`, plus ``lost``: how many more people
    of the group would have continued at the rest's rate.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS, segment_gaps
    >>> worst = segment_gaps(cxkit.load_sample(), STEPS).iloc[0]
    >>> (worst["group"], worst["step"])
    ('mobile', 'purchase')
    """
    events_df = events.events if isinstance(events, Journey) else events
    customers = options.get("customers")
    if customers is None and isinstance(events, Journey):
        customers = events.customers
    by = [by] if isinstance(by, str) else list(by)
    present = [
        b
        for b in by
        if b in events_df.columns or (customers is not None and b in customers.columns)
    ]
    if not present:
        raise DataError(
            "segment_gaps(by=...)",
            [
                {
                    "column": "by",
                    "expected": f"at least one column of the events or customers table among {by}",
                }
            ],
            columns=events_df.columns,
        )
    parts = [compare_funnel(events, steps, by=b, **options) for b in present]
    out = pd.concat(parts, ignore_index=True)
    if out.empty:
        return out
    out["lost"] = np.maximum(out["n_group"] * (out["pct_reference"] - out["pct_group"]) / 100, 0)
    out = out.sort_values(["significant", "relative"], ascending=[False, True], kind="stable")
    out = out.reset_index(drop=True)
    out.attrs = jsonable(parts[0].attrs)
    return out


def _two_proportions(x1, n1, x2, n2, test, alpha, power):
    from scipy import stats

    x1, n1, x2, n2 = float(x1), float(n1), float(x2), float(n2)
    p1 = x1 / n1 if n1 else np.nan
    p2 = x2 / n2 if n2 else np.nan
    diff = 100 * (p1 - p2)
    # Newcombe's hybrid score interval (method 10) from the two Wilson intervals
    l1, u1 = (v / 100 for v in _wilson(x1, n1))
    l2, u2 = (v / 100 for v in _wilson(x2, n2))
    with np.errstate(invalid="ignore"):
        low = 100 * (p1 - p2 - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2))
        high = 100 * (p1 - p2 + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))
    stat, p_value = np.nan, np.nan
    if n1 and n2:
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        if se > 0:
            z = (p1 - p2) / se
            p_value = float(2 * stats.norm.sf(abs(z)))
            stat = float(z**2) if test == "chi2" else float(z)
        else:
            p_value = 1.0
            stat = 0.0
    mde = np.nan
    if n1 and n2:
        base = p2 if 0 < p2 < 1 else (x1 + x2) / (n1 + n2)
        zsum = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
        mde = float(100 * zsum * np.sqrt(base * (1 - base) * (1 / n1 + 1 / n2)))
    return {
        "n_group": int(n1),
        "pct_group": 100 * p1,
        "n_reference": int(n2),
        "pct_reference": 100 * p2,
        "diff_pp": diff,
        "ci_low": float(low),
        "ci_high": float(high),
        "relative": p1 / p2 if p2 else np.nan,
        "statistic": stat,
        "p_value": p_value,
        "mde_pp": mde,
    }

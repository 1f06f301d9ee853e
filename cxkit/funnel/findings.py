"""What the funnel report says: one function per section of notebook 01.

Each function takes the results the notebook computed (the funnel table, the segment gaps, the
time-to-convert table, the drop-off paths) and returns :class:`~cxkit.story.Finding` objects:
the sentence, the numbers behind it, and whether the section applies to this data. Event and
step names are shown through the spec's labels (``journey.spec.label``), durations in the unit
their size calls for.

>>> import cxkit
>>> from cxkit.funnel import findings, funnel_steps
>>> j = cxkit.load_sample()
>>> fs = funnel_steps(j)
>>> table = cxkit.funnel(j, fs.steps, **fs.kwargs)
>>> findings.weakest_step(table, journey=j).values["step"]
'add_to_cart'
"""

from __future__ import annotations

import pandas as pd

from .._format import duration_text, is_known, money_text
from ..engine.journey import is_engine
from ..story import Finding, not_applicable
from ._ab_findings import ab_test
from ._segment_findings import segment_columns, segment_gaps, segments, worst_gap
from ._words import (
    _ADD_STEPS,
    _NO_STEPS,
    _entrants,
    _label,
    _no_entrants,
    _previous,
    _skip,
    _window_text,
)

__all__ = [
    "overall",
    "weakest_step",
    "segment_columns",
    "segments",
    "segment_gaps",
    "worst_gap",
    "time_to_convert",
    "paths_focus",
    "drop_off_paths",
    "open_windows",
    "ab_test",
    "what_to_do",
    "truth_check",
    "overview",
]


def overall(table, *, journey=None):
    """How many entered the funnel and how many reached its last step (the headline).

    Parameters
    ----------
    table : DataFrame
        :func:`cxkit.funnel` without ``by``.
    journey : Journey, optional
        For labels and the spec's skip list.

    Returns
    -------
    Finding
    """
    key = "funnel.overall"
    if (skipped := _skip(journey, key)) is not None:
        return skipped
    if table is None:
        return not_applicable(key, _NO_STEPS)
    if _entrants(table) == 0:
        return _no_entrants(key, table, journey)
    first, last = table.iloc[0], table.iloc[-1]
    if len(table) == 1:
        return Finding(
            key,
            "**{n:,}** people reached **{first}**. The funnel has one step, so there is no "
            f"step-to-step conversion to show; {_ADD_STEPS}.",
            {"n": int(first["customers"]), "first": _label(journey, first["step"])},
            headline=True,
        )
    return Finding(
        key,
        "Of **{n:,}** people who entered the funnel (at **{first}**), **{reached:,}** "
        "({pct:.1f}%) reached **{last}** within {window} of entering.",
        {
            "n": int(first["customers"]),
            "first": _label(journey, first["step"]),
            "reached": int(last["customers"]),
            "pct": float(last["pct_of_start"]),
            "last": _label(journey, last["step"]),
            "window": _window_text(table),
        },
        headline=True,
    )


def _weakest_row(table):
    later = table[(table["step_index"] > 1) & table["pct_of_previous"].notna()]
    return None if later.empty else later.loc[later["pct_of_previous"].idxmin()]


def weakest_step(table, *, journey=None):
    """The step that loses the largest share of the people who reach the step before it.

    Returns
    -------
    Finding
        ``values``: ``previous``, ``step``, ``pct`` (step conversion), ``ci_low``, ``ci_high``,
        ``lost`` (people at the previous step who did not continue).
    """
    key = "funnel.weakest_step"
    if (skipped := _skip(journey, key)) is not None:
        return skipped
    if table is None:
        return not_applicable(key, _NO_STEPS)
    if len(table) < 2:
        return not_applicable(
            key, f"The funnel has one step, so no step loses people to the next; {_ADD_STEPS}."
        )
    row = _weakest_row(table)
    if _entrants(table) == 0 or row is None:
        return _no_entrants(key, table, journey)
    before = table.loc[table["step_index"] == row["step_index"] - 1].iloc[0]
    return Finding(
        key,
        "The weakest step overall is **{previous} → {step}**: only **{pct:.1f}%** continue "
        "(95% CI {ci_low:.1f}–{ci_high:.1f}%), which loses **{lost:,}** people at that step.",
        {
            "previous": _label(journey, before["step"]),
            "step": _label(journey, row["step"]),
            "pct": float(row["pct_of_previous"]),
            "ci_low": float(row["ci_low"]),
            "ci_high": float(row["ci_high"]),
            "lost": int(before["customers"] - row["customers"]),
        },
    )


def _hours_text(hours):
    return duration_text(hours / 24) if is_known(hours) else None


def _range_text(low, high):
    lo, hi = _hours_text(low), _hours_text(high)
    if lo is None or hi is None:
        return ""
    if lo == hi:
        return f" (the middle half about {lo})"
    return f" (the middle half between {lo} and {hi})"


def time_to_convert(ttc, table=None, *, journey=None):
    """The slowest step transition, in the unit its size calls for (minutes … months).

    Parameters
    ----------
    ttc : DataFrame
        :func:`cxkit.time_to_convert` without ``by`` (times in hours); None when the funnel
        has no steps.
    table : DataFrame, optional
        The whole-population funnel (None: no steps).

    Returns
    -------
    Finding
        ``values``: ``step``, ``next_step``, ``median`` (text) and ``median_hours_converted``
        (median among those who took the step), ``median_hours`` and ``everyone`` (text):
        the Kaplan–Meier time by which half of everyone at the step had taken it (None when
        fewer than half ever do), ``pct``.
    """
    key = "funnel.time_to_convert"
    if (skipped := _skip(journey, key)) is not None:
        return skipped
    if ttc is None:
        return not_applicable(key, _NO_STEPS)
    if ttc.empty:
        return not_applicable(
            key, f"The funnel has one step, so there is no time between steps; {_ADD_STEPS}."
        )
    known = ttc[ttc["median_hours_converted"].notna()]
    if known.empty:
        return not_applicable(key, "No one has moved from one step to the next yet.")
    row = known.loc[known["median_hours_converted"].idxmax()]
    # two different medians: among those who took the step, and (Kaplan-Meier) the time by
    # which half of *everyone* at the step had taken it, which exists only if half ever do
    everyone = _hours_text(row["median_hours"])
    text = (
        "The slowest step is **{step} → {next_step}**: those who take it need a median of "
        "**{median}**{range}. Of everyone at {step}, {pct:.0f}% take it within the window"
    )
    if everyone is None:
        text += "."
    else:
        text += "; half of everyone at {step} has taken it within {everyone}."
    return Finding(
        key,
        text,
        {
            "step": _label(journey, row["step"]),
            "next_step": _label(journey, row["next_step"]),
            "median": _hours_text(row["median_hours_converted"]),
            "median_hours_converted": float(row["median_hours_converted"]),
            "median_hours": float(row["median_hours"]) if is_known(row["median_hours"]) else None,
            "everyone": everyone,
            "range": _range_text(row["q25_hours_converted"], row["q75_hours_converted"]),
            "pct": float(row["pct_converted"]),
        },
    )


def paths_focus(table, gaps, segment_cols=()):
    """Where to look at what droppers do next: ``(step_index, by, group)`` — the step before the
    worst segment gap (with its column and group), else before the weakest step (by the first
    segment column); None for a one-step funnel or when no one continued past step one."""
    worst = worst_gap(gaps)
    if worst is not None:
        return int(worst["step_index"]) - 1, str(worst["by"]), worst["group"]
    row = _weakest_row(table) if len(table) > 1 else None
    if row is None:
        return None
    by = segment_cols[0] if len(segment_cols) else None
    return int(row["step_index"]) - 1, by, None


def _path_text(path, journey):
    return " → ".join(_label(journey, part) for part in str(path).split(" → "))


def _who(group):
    return f" ({group})" if group is not None else ""


def drop_off_paths(paths, table=None, *, group=None, by=None, journey=None):
    """The most common next move of people who stopped at a step (for ``group`` of ``by`` when
    given).

    Parameters
    ----------
    paths : DataFrame or None
        :func:`cxkit.drop_off_paths`; None when there is no step to look at.
    table : DataFrame, optional
        The whole-population funnel (None: the funnel has no steps).

    Returns
    -------
    Finding
    """
    key = "funnel.drop_off_paths"
    if (skipped := _skip(journey, key)) is not None:
        return skipped
    if table is None:
        return not_applicable(key, _NO_STEPS)
    if paths is None and len(table) < 2:
        return not_applicable(key, f"With one step, no one stops between steps; {_ADD_STEPS}.")
    if paths is None:
        why = "No one continued past the first step, so no one stopped after reaching a step."
        return not_applicable(key, why)
    first = paths[paths["length"] == 1] if len(paths) else paths
    if group is not None and by in first.columns:
        first = first[first[by] == group]
    moves = first[first["path"] != "(nothing)"]
    if first.empty:
        return not_applicable(key, "No one stopped at this step inside their window.")
    if moves.empty:
        return Finding(
            key,
            "No one who stopped at **{step}**{who} did anything else inside their window that "
            "the data shows.",
            {"step": _label(journey, first["step"].iloc[0]), "who": _who(group)},
        )
    top = moves.iloc[0]
    nothing = first.loc[first["path"] == "(nothing)", "pct"]
    who = _who(group)
    return Finding(
        key,
        "After **{step}**, the most common next move of those who stopped there{who} was "
        "**{path}**: {pct:.0f}% of them (95% CI {ci_low:.0f}–{ci_high:.0f}%)"
        + ("; {nothing:.0f}% did nothing else inside their window." if len(nothing) else "."),
        {
            "step": _label(journey, top["step"]),
            "path": _path_text(top["path"], journey),
            "pct": float(top["pct"]),
            "ci_low": float(top["ci_low"]),
            "ci_high": float(top["ci_high"]),
            "nothing": float(nothing.iloc[0]) if len(nothing) else 0.0,
            "who": who,
        },
    )


def open_windows(table, closed, *, journey=None):
    """Entrants whose window was still open when the data ends, and what judging people only
    on closed windows changes: ``table`` counts everyone, ``closed`` is the same funnel with
    ``complete_only=True``. The direction is measured, not assumed."""
    key = "funnel.open_windows"
    if (skipped := _skip(journey, key)) is not None:
        return skipped
    if table is None:
        return not_applicable(key, _NO_STEPS)
    if len(table) < 2:
        return not_applicable(
            key, "With one step, everyone who entered has reached it: open windows change nothing."
        )
    attrs = table.attrs
    n, open_ = int(attrs.get("entrants", _entrants(table))), int(attrs.get("open_windows", 0))
    observed = pd.Timestamp(attrs["observed_at"]).strftime("%Y-%m-%d")
    last = _label(journey, table["step"].iloc[-1])
    if open_ == 0:
        return Finding(
            key,
            "Every entrant's window had closed when the data was extracted ({observed}), so no "
            "one counted here is still on their way.",
            {"observed": observed},
        )
    pct, pct_closed = float(table["pct_of_start"].iloc[-1]), float(closed["pct_of_start"].iloc[-1])
    values = {
        "open": open_,
        "n": n,
        "share": 100 * open_ / max(n, 1),
        "observed": observed,
        "waiting": int(attrs.get("open_not_converted", 0)),
        "pct": pct,
        "pct_closed": pct_closed,
        "last": last,
    }
    head = (
        "**{open:,}** of {n:,} entrants ({share:.1f}%) still had an open window when the data "
        "was extracted ({observed}); {waiting:,} of them had not reached {last} yet. "
    )
    judged = "judging each person only on the entries whose window had closed"
    if not is_known(pct_closed) or abs(pct_closed - pct) < 0.1:
        tail = f"This changes little: {judged}, " + "{pct_closed:.1f}% reach **{last}** "
        tail += "against {pct:.1f}% counting everyone, so the two agree."
    else:
        word = "understates" if pct_closed > pct else "overstates"
        tail = f"Counting open windows as they stand {word} conversion: {judged}, "
        tail += "**{pct_closed:.1f}%** reach **{last}** instead of {pct:.1f}%."
    return Finding(key, head + tail, values)


def _order_value(journey, table):
    """Median value of the last step's events, or None when the events carry no value."""
    if journey is None or "value" not in journey.events.columns:
        return None
    names = table.attrs.get("steps", {}).get(table["step"].iloc[-1], [table["step"].iloc[-1]])
    names = [names] if isinstance(names, str) else list(names)
    if is_engine(journey):
        ev = journey.events
        value = journey.execute(ev.filter(ev.event.isin(names)).value.median())
    else:
        values = journey.events.loc[journey.events["event"].isin(names), "value"]
        value = values.median() if values.notna().any() else None
    return float(value) if is_known(value) and value > 0 else None


def _money_text(amount, journey):
    currency = (journey.spec.money.get("currency") if journey is not None else None) or ""
    return money_text(amount, currency)


def _buyers_from(table, step, people):
    """People gained at ``step`` times everyone's conversion from there to the last step."""
    at = table.set_index("step")["customers"]
    return people * at.iloc[-1] / max(at[step], 1)


def what_to_do(table, gaps, *, journey=None, summary=False):
    """The action the data supports: fix the worst segment gap (with the buyers, and money when
    the events carry a value), and the biggest leak for everyone. ``summary=True`` puts the
    fix in the index's executive summary (off by default: :func:`overview` gives the funnel's
    summary sentence, shown by notebook 00).

    Returns
    -------
    list of Finding
    """
    key = "funnel.what_to_do"
    if (skipped := _skip(journey, key)) is not None:
        return [skipped]
    weakest = weakest_step(table, journey=journey)
    if not weakest.applies:
        return [not_applicable(key, weakest.text)]
    out = []
    worst = worst_gap(gaps)
    if worst is not None:
        buyers = _buyers_from(table, worst["step"], float(worst["lost"]))
        value = _order_value(journey, table)
        money = (
            ""
            if value is None
            else (
                f", about {_money_text(buyers * value, journey)} in orders at the median order "
                f"value of {value:,.2f}"
            )
        )
        last_step = worst["step"] == table["step"].iloc[-1]
        reached = (
            "" if last_step else "about {lost:,.0f} more people would have reached {step} and "
        )
        out.append(
            Finding(
                key,
                "**Fix {previous} → {step} for {group}** first: it is the gap the data supports "
                "most firmly. At everyone else's rate, " + reached + "about **{buyers:,.0f}** "
                "more people would have reached {last} over this period{money}. Start where "
                "those who stop go next (above), and check the fix with an A/B test before "
                "rolling it out.",
                {
                    "previous": _label(journey, _previous(table, worst["step_index"])),
                    "step": _label(journey, worst["step"]),
                    "group": str(worst["group"]),
                    "lost": float(worst["lost"]),
                    "buyers": float(buyers),
                    "last": _label(journey, table["step"].iloc[-1]),
                    "money": money,
                    "order_value": value,
                },
                headline=True,
                summary=summary,
            )
        )
    out.append(
        Finding(
            key,
            "The biggest leak for everyone is **{previous} → {step}** ({pct:.1f}% continue): "
            "improving it lifts every segment"
            + (", while the gap above concerns one." if worst is not None else "."),
            dict(weakest.values),
        )
    )
    return out


def truth_check(gaps, truth, *, journey=None):
    """For simulated data: does the worst segment gap match the planted pain point? None when
    there is no truth file."""
    if truth is None or "funnel" not in truth or gaps is None or gaps.empty:
        return None
    pain = truth["funnel"]["pain_point"]
    if pain["segment_column"] not in set(gaps["by"]):
        return None  # the planted segment is not in this data
    worst = worst_gap(gaps)
    hit = worst is not None and (worst["group"], worst["step"]) == (
        pain["segment_value"],
        pain["step"],
    )
    return Finding(
        "funnel.truth_check",
        "*Check against the simulator's truth:* it planted a drop for **{value}** ({column}) at "
        "**{step}** (step probability × {factor}). The analysis "
        + ("found exactly that." if hit else "pointed elsewhere — look closer."),
        {
            "value": pain["segment_value"],
            "column": pain["segment_column"],
            "step": _label(journey, pain["step"]),
            "factor": f"{pain['factor']:g}",
            "found": bool(hit),
        },
    )


def overview(journey):
    """One or two short findings for notebook 00 and the index (cheap: one funnel).

    The headline: the share of entrants reaching the last step and the weakest step. When the
    events carry a ``value``, a second finding (``summary=True``) puts the buyers lost at the
    weakest step in money.

    Examples
    --------
    >>> import cxkit
    >>> [f.key for f in overview(cxkit.load_sample())]
    ['funnel.overview', 'funnel.overview']
    """
    from .stats import funnel
    from .steps import funnel_steps

    key = "funnel.overview"
    if (skipped := _skip(journey, key)) is not None:
        return [skipped]
    fs = funnel_steps(journey)
    if fs.steps is None:
        return [not_applicable(key, fs.notes[0].plain())]
    table = funnel(journey, fs.steps, **fs.kwargs)
    if _entrants(table) == 0:
        return [_no_entrants(key, table, journey)]
    if len(table) == 1:
        f = overall(table, journey=journey)
        return [Finding(key, f.text, f.values, headline=True)]
    weakest = weakest_step(table, journey=journey)
    last = table.iloc[-1]
    values = {
        "pct": float(last["pct_of_start"]),
        "n": _entrants(table),
        "last": _label(journey, last["step"]),
        "window": _window_text(table),
        **{f"weakest_{k}": v for k, v in weakest.values.items()},
    }
    out = [
        Finding(
            key,
            "**{pct:.1f}%** of the {n:,} people who enter the funnel reach **{last}** within "
            "{window}; the weakest step is **{weakest_previous} → {weakest_step}** "
            "({weakest_pct:.1f}% continue).",
            values,
            headline=True,
        )
    ]
    value = _order_value(journey, table)
    if value is not None:
        buyers = _buyers_from(table, _weakest_row(table)["step"], weakest.values["lost"])
        out.append(
            Finding(
                "funnel.overview_value",  # its own fact: its own key
                "The weakest step loses **{lost:,}** people. Had they passed it and gone on at "
                "the rate of those who do, about **{buyers:,.0f}** more would have reached "
                "{last}: about **{money}** in orders over this period at the median order "
                "value.",
                {
                    "lost": weakest.values["lost"],
                    "buyers": float(buyers),
                    "last": values["last"],
                    "money": _money_text(buyers * value, journey),
                },
                summary=True,
            )
        )
    return out

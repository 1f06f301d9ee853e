"""Findings about segments of the funnel (re-exported by :mod:`cxkit.funnel.findings`)."""

from __future__ import annotations

from .._format import is_known
from ..engine.journey import is_engine
from ..story import Finding, escape, not_applicable
from ._words import _ADD_STEPS, _NO_STEPS, _label, _previous, _skip


def segment_columns(journey, steps=None):
    """Events columns to break the funnel down by (their value on the entry event is used):
    :func:`cxkit.data.profile.segment_columns` for the events, keeping those with at least two
    values on the events of the first step (all events when ``steps`` is None)."""
    from ..data.profile import segment_columns as _columns

    if journey.spec.skips("funnel.segments") or not steps or len(steps) < 2:
        return []
    events = journey.events
    columns = _columns(journey, "events")
    first = next(iter(steps.values()))
    first = [first] if isinstance(first, str) else list(first)
    if is_engine(journey):  # the distinct counts in one query
        entry = events.filter(events.event.isin(first))
        if int(journey.execute(entry.count())):
            events = entry
        if not columns:
            return []
        got = journey.execute(events.aggregate(**{c: events[c].nunique() for c in columns}))
        return [c for c in columns if int(got[c].iloc[0]) >= 2]
    entry = events[events["event"].isin(first)]
    events = entry if len(entry) else events
    return [c for c in columns if events[c].nunique(dropna=True) >= 2]


def _why_no_segments(journey):
    from ..data.profile import segment_columns as _columns

    named = _columns(journey, "events") if journey is not None else []
    if journey is not None and journey.spec.segments is None:
        named = [c for c in ("device", "channel") if c in journey.events.columns] or named
    if named:
        return (
            "The funnel is not broken down by segment: "
            + ", ".join(escape(c.replace("_", " ")) for c in named)
            + " has only one value on the entry touchpoints, so there is nothing to compare."
        )
    return (
        "The funnel is not broken down by segment: the touchpoints carry no column such as "
        "device or channel. Add one to the events (its value on the entry touchpoint is used), "
        "or name it under segments in cxkit.toml."
    )


def segments(by_segment, table=None, *, journey=None):
    """Per segment column, the step where its values differ most in step conversion.

    Parameters
    ----------
    by_segment : dict
        Column -> :func:`cxkit.funnel` table with ``by=column``; empty when there is no column.
    table : DataFrame, optional
        The whole-population funnel (None: the funnel has no steps).

    Returns
    -------
    list of Finding
    """
    key = "funnel.segments"
    if (skipped := _skip(journey, key)) is not None:
        return [skipped]
    if table is None:
        return [not_applicable(key, _NO_STEPS)]
    if len(table) < 2:
        why = f"With one step there is no step conversion to compare; {_ADD_STEPS}."
        return [not_applicable(key, why)]
    if not by_segment:
        return [not_applicable(key, _why_no_segments(journey))]
    out = []
    for column, table in by_segment.items():
        later = table[(table["step_index"] > 1) & table["pct_of_previous"].notna()]
        if later.empty:
            continue
        spread = later.groupby("step_index")["pct_of_previous"].agg(lambda s: s.max() - s.min())
        k = spread.idxmax()
        at = later[later["step_index"] == k]
        low, high = at.loc[at["pct_of_previous"].idxmin()], at.loc[at["pct_of_previous"].idxmax()]
        steps = table.drop_duplicates("step_index").set_index("step_index")["step"]
        out.append(
            Finding(
                key,
                "By **{column}**, the step conversions differ most at **{previous} → {step}**: "
                "from {low_pct:.1f}% ({low}) to {high_pct:.1f}% ({high}).",
                {
                    "column": column.replace("_", " "),
                    "previous": _label(journey, steps[k - 1]),
                    "step": _label(journey, steps[k]),
                    "low": str(low[column]),
                    "low_pct": float(low["pct_of_previous"]),
                    "high": str(high[column]),
                    "high_pct": float(high["pct_of_previous"]),
                },
            )
        )
    if not out:
        return [not_applicable(key, "No segment has anyone past the first step to compare.")]
    return out


def worst_gap(gaps):
    """The row of :func:`cxkit.funnel.segment_gaps` for the segment that falls furthest behind
    (significant, below the rest), or None."""
    if gaps is None or gaps.empty:
        return None
    found = gaps[gaps["significant"].astype(bool) & (gaps["diff_pp"] < 0)]
    return None if found.empty else found.iloc[0]


def _p_text(p):
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def segment_gaps(gaps, table, *, journey=None):
    """The segment that falls behind at a step (tested, Holm-corrected), or that none does.

    Parameters
    ----------
    gaps : DataFrame or None
        :func:`cxkit.funnel.segment_gaps`; None when there is no segment column.
    table : DataFrame
        The whole-population funnel (for the step before).

    Returns
    -------
    Finding
        A headline naming the group, the step and the people lost; else the median MDE.
    """
    key = "funnel.segment_gaps"
    if (skipped := _skip(journey, key)) is not None:
        return skipped
    if table is None:
        return not_applicable(key, _NO_STEPS)
    if len(table) < 2:
        return not_applicable(
            key, f"With one step there is no step conversion to compare; {_ADD_STEPS}."
        )
    if gaps is None or gaps.empty:
        return not_applicable(key, _why_no_segments(journey))
    worst = worst_gap(gaps)
    if worst is None:
        mde = gaps["mde_pp"].median()
        if not is_known(mde):
            return not_applicable(
                key, "Too few people reach the later steps to test segments against each other."
            )
        return Finding(
            key,
            "No segment converts significantly worse than the rest at any step. The tests could "
            "detect gaps of about **{mde:.1f}** points or more (median MDE), so smaller gaps may "
            "still exist.",
            {"mde": float(mde)},
        )
    return Finding(
        key,
        "The segment that falls behind: **{group}** ({by}) at **{previous} → {step}** — "
        "{pct:.1f}% continue against {ref:.1f}% of everyone else ({diff:+.1f} points, 95% CI "
        "{ci_low:+.1f} to {ci_high:+.1f}; adjusted p {p}). At the others' rate about "
        "**{lost:,.0f}** more people would have reached {step}.",
        {
            "group": str(worst["group"]),
            "by": str(worst["by"]).replace("_", " "),
            "previous": _label(journey, _previous(table, worst["step_index"])),
            "step": _label(journey, worst["step"]),
            "pct": float(worst["pct_group"]),
            "ref": float(worst["pct_reference"]),
            "diff": float(worst["diff_pp"]),
            "ci_low": float(worst["ci_low"]),
            "ci_high": float(worst["ci_high"]),
            "p": _p_text(float(worst["p_adjusted"])),
            "lost": float(worst["lost"]),
        },
        headline=True,
    )

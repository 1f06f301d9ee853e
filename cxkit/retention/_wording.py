"""Wording shared by the retention findings: durations, "left" for each business model,
points on the curve the follow-up covers, and plain names for model terms."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .._format import _UNITS, duration_text, is_known
from ..story import Finding, not_applicable

_DRIVER_WORDS = {
    "support_tickets_30d": "support contacts in the last 30 days",
    "detractor": "a latest NPS answer of 0–6 (detractor)",
}

#: The unit a per-unit hazard ratio is for (singular, plural).
_UNIT_WORDS = {"support_tickets_30d": ("contact", "contacts")}


def _skipped(journey, key):
    if journey is not None and journey.spec.skips(key):
        return not_applicable(key, "Left out: the data spec lists this section under skip.")
    return None


def _words(name):
    return str(name).replace("_", " ")


def _follow(table):
    return float(table["duration_days"].max()) if len(table) else 0.0


def _nice_days(days):
    """Round a number of days down to a readable amount: months (30 days), days, hours or
    minutes, by its size."""
    for unit in (30.0, 1.0, 1 / 24, 1 / 1_440):
        if days >= unit:
            return math.floor(days / unit) * unit
    return days


def _contractual(table):
    return table.attrs.get("business_model", "contractual") == "contractual"


def _activity_words(table, journey):
    names = table.attrs.get("touchpoints")
    if not names and journey is not None:
        from ..engine.frames import distinct

        present = distinct(journey, "event")  # SELECT DISTINCT on an engine
        if len(present) == 1:
            names = [str(present.iloc[0])]
    if not names:
        return "activity"
    labels = journey.spec.labels if journey is not None else {}
    return " or ".join(str(labels[n]) if n in labels else _words(n) for n in names)


def _lost_after(table, journey):
    """'no purchase for 97 days' — what "left" means for non-contractual data."""
    gap = table.attrs.get("inactivity_days")
    if gap is None:
        gap = pd.Timedelta(table.attrs.get("inactivity", "90D")) / pd.Timedelta("1D")
    return f"no {_activity_words(table, journey)} for {_gap_text(gap)}"


def _dur(days):
    """A duration with one decimal in months and years (8.2 months), whole otherwise."""
    if not is_known(days) or not math.isfinite(float(days)):
        return duration_text(days)
    unit = next(name for name, _, below in _UNITS if abs(float(days)) < below)
    # by the unit, not the words: in Spanish they read "meses", "años"
    return duration_text(days, digits=1 if unit in ("month", "year") else 0)


def _mark_text(days):
    """A horizon or a point on the curve: "90 days", "a year", else in the unit of its size."""
    return {90.0: "90 days", 180.0: "180 days", 365.0: "a year"}.get(float(days)) or (
        duration_text(days)
    )


def _gap_text(days):
    """An inactivity gap: whole days up to two years (97 days, not 3 months)."""
    if is_known(days) and 1 <= days < 730:
        return duration_text(days, unit="day")
    return duration_text(days)


def _p_text(p):
    if not is_known(p):
        return "p not known"
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _marks(follow):
    """Days at which to report the share retained: 90 days and a year where followed, else
    about half the follow-up."""
    marks = [d for d in (90, 365) if d <= follow]
    if not marks and follow > 0:
        marks = [_nice_days(follow / 2)]
    return marks


def segment_columns(table, *, journey=None):
    """Customer attributes to compare retention by: the journey's segments
    (:func:`cxkit.data.profile.segment_columns`) present in ``table`` with at least two values."""
    from ..data.profile import segment_columns as profile_segments

    names = profile_segments(journey, "customers") if journey is not None else []
    return [c for c in names if c in table.columns and table[c].nunique(dropna=True) >= 2]


def rmst_horizon(follow):
    """The RMST horizon in days for a follow-up (days): a year when the data covers well over
    a year, else two thirds of the follow-up, rounded down."""
    if follow >= 1.2 * 365:
        return 365.0
    return _nice_days(follow / 1.5)


def _left_yet(table, journey, key):
    n, follow = len(table), _follow(table)
    if _contractual(table):
        how = "a churn date in the customers table"
    else:
        how = f"a customer goes with {_lost_after(table, journey)}"
    return Finding(
        key,
        "No customer has left yet: all **{n:,}** customers, followed for up to {follow}, are "
        "still with us, so there is no pace of leaving to measure. This section fills in once "
        "departures are recorded ({how}).",
        {"n": n, "follow": duration_text(follow), "how": how, "customers": n, "churned": 0},
        applies=False,
    )


def _term_label(row):
    """The term in words, without its unit: "plan annual (compared with monthly)"."""
    cov = row["covariate"]
    if cov in _DRIVER_WORDS:
        return _DRIVER_WORDS[cov]
    if _kind(row) != "level":
        return _words(cov)
    return f"{_words(cov)} {row['level']} (compared with {row['reference']})"


def _kind(row):
    """``level``, ``yes/no`` or ``per unit`` (older results without the column: by level)."""
    kind = row.get("kind")
    if isinstance(kind, str):
        return kind
    level = row.get("level")
    return (
        "per unit"
        if level is None or (isinstance(level, float) and np.isnan(level))
        else ("level")
    )


def _unit_words(row):
    """(one, many) of a per-unit term: ("contact", "contacts"), else ("unit", "units")."""
    return _UNIT_WORDS.get(row["covariate"], ("unit", "units"))


def _clear_effects(models):
    """Terms whose 95% interval excludes 1: (harmful, protective) yes/no and group terms,
    each ordered by its ratio, and the per-unit terms apart (in model order), because a ratio
    per contact and a ratio for a group are in different units and are not ranked together."""
    fit = models.best_
    hr = fit.hazard_ratios_.copy()
    hr["words"] = [_term_label(r) for _, r in hr.iterrows()]
    hr["kind_"] = [_kind(r) for _, r in hr.iterrows()]
    clear = hr[(hr["ci_low"] > 1) | (hr["ci_high"] < 1)]
    groups = clear[clear["kind_"] != "per unit"]
    harm = groups[groups["hazard_ratio"] > 1].sort_values("hazard_ratio", ascending=False)
    protect = groups[groups["hazard_ratio"] < 1].sort_values("hazard_ratio")
    per_unit = clear[clear["kind_"] == "per unit"]
    return harm, protect, per_unit


def _per_unit_values(row):
    one, many = _unit_words(row)
    hr = float(row["hazard_ratio"])
    words = row["words"]
    return {
        "term": words[:1].upper() + words[1:],
        "hr": hr,
        "lo": float(row["ci_low"]),
        "hi": float(row["ci_high"]),
        "one": one,
        "many": many,
        "hr3": hr**3,
    }


def _needs_of_model(models):
    """The missing data behind a driver model that was not fitted (``Finding.needs``)."""
    why = models.why_fixed_ or ""
    return "customer_attributes" if why.startswith("no customer attribute") else None


def _why_no_model(models):
    why = models.why_fixed_
    if why.startswith("no customer has left"):
        return (
            "No customer has left yet, so nothing can be said about what makes customers "
            "leave sooner."
        )
    if why.startswith("only"):
        return (
            why[0].upper() + why[1:] + " so far: too few to tell what makes customers leave "
            "sooner (the report needs at least 10 departures)."
        )
    if why.startswith("no customer attribute"):
        return (
            "There is no customer attribute known at signup that varies between customers, "
            "so there is nothing to relate to leaving sooner; add such columns to the customers "
            "table, or list them as signup attributes in the data spec."
        )
    return "The model of what makes customers leave sooner could not be fitted on this data."

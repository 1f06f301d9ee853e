"""Findings of the retention report: one function per section of notebook 02.

Each function takes the results the notebook computed (a retention table from
:func:`~cxkit.retention.reduce.retention_table`, the fitted :class:`~cxkit.retention.cox.Drivers`,
cohort cells) and returns :class:`cxkit.story.Finding` objects: the sentence, the numbers behind
it, and whether the section applies to this data. Where it does not (no departures yet, one
segment level, no attribute known at signup …) the finding says why and what would enable it,
and the notebook skips the figure.

>>> import cxkit
>>> from cxkit.retention import findings, retention_table
>>> j = cxkit.load_sample()
>>> found = findings.overall(retention_table(j), journey=j)
>>> found[0].applies, found[0].headline
(True, True)
"""

from __future__ import annotations

import warnings

import numpy as np

from ..story import Finding, not_applicable
from ._wording import (
    _DRIVER_WORDS,
    _activity_words,
    _clear_effects,
    _contractual,
    _dur,
    _follow,
    _gap_text,
    _left_yet,
    _lost_after,
    _mark_text,
    _marks,
    _needs_of_model,
    _nice_days,
    _p_text,
    _per_unit_values,
    _skipped,
    _why_no_model,
    _words,
    rmst_horizon,
    segment_columns,
)

__all__ = [
    "overall",
    "segments",
    "drivers",
    "ph_check",
    "rmst",
    "cohorts",
    "actions",
    "overview",
    "truth_check",
    "segment_columns",
    "rmst_horizon",
]

# ---- sections --------------------------------------------------------------------------------


def overall(table, *, journey=None):
    """How long customers stay: median with its interval (or "more than half still with us"),
    the share retained at 90 days and a year where the follow-up covers them, what "left"
    means, and who was left out.

    Parameters
    ----------
    table : DataFrame
        From :func:`~cxkit.retention.reduce.retention_table`.
    journey : Journey, optional
        For labels and the spec's skip list.

    Returns
    -------
    list of Finding
        The first is the headline (``retention.overall``); then ``retention.retained``,
        ``retention.definition`` (non-contractual data) and ``retention.excluded``.
    """
    from .stats import survival_summary

    key = "retention.overall"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    found = [_definition(table, journey)] if not _contractual(table) else []
    if len(table) == 0:
        return found + [
            not_applicable(
                key,
                "No customer can be followed yet: every customer started too recently to tell "
                "whether they stayed. Extract the data later, or include older customers.",
            )
        ]
    if not table["churned"].any():
        return [_left_yet(table, journey, key)] + found + _excluded(table, journey)
    follow = _follow(table)
    marks = _marks(follow)
    s = survival_summary(table, times=marks).iloc[0]
    values = {
        "customers": int(s["customers"]),
        "churned": int(s["churned"]),
        "median_days": float(s["median_days"]),
        "median_ci_low": float(s["median_ci_low"]),
        "median_ci_high": float(s["median_ci_high"]),
        "follow_days": follow,
        "median": _dur(s["median_days"]),
        "low": _dur(s["median_ci_low"]),
        "high": (
            _dur(s["median_ci_high"]) if np.isfinite(s["median_ci_high"]) else "not yet reached"
        ),
        "follow": _dur(follow),
    }
    if np.isfinite(s["median_days"]):
        text = (
            "Half of all customers have left after **{median}** (95% interval {low} to "
            "{high}); **{churned:,}** of **{customers:,}** customers have left so far."
        )
    else:
        text = (
            "More than half of customers are still with us after **{follow}**, the longest "
            "follow-up; **{churned:,}** of **{customers:,}** have left so far."
        )
    head = Finding(key, text, values, headline=True)
    return [head, _retained(s, marks)] + found + _excluded(table, journey)


def _retained(s, marks):
    parts, values = [], {}
    for i, day in enumerate(marks):
        label = f"{day:g}d"
        pct = float(s[f"pct_retained_{label}"])
        values.update(
            {
                f"day_{i}": float(day),
                f"when_{i}": _mark_text(day),
                f"pct_{i}": pct,
                f"low_{i}": float(s[f"ci_low_{label}"]),
                f"high_{i}": float(s[f"ci_high_{label}"]),
            }
        )
        parts.append(
            f"**{{pct_{i}:.0f}}%** {{when_{i}}} after they started "
            f"(95% interval {{low_{i}:.0f}}–{{high_{i}:.0f}}%)"
        )
    text = "Still with us: " + (", and ".join(parts) if parts else "") + "."
    return Finding("retention.retained", text, values)


def _definition(table, journey):
    source = table.attrs.get("inactivity_source")
    why = {
        "spec": "the gap set in the data spec",
        "argument": "the gap chosen for this report",
        "data": "chosen from the data: nine in ten returns come sooner; set inactivity "
        "under [business] in the data spec to use your own",
    }.get(source, "the gap chosen for this report")
    values = {
        "lost": _lost_after(table, journey),
        "why": why,
        "returned": int(table.attrs.get("returned_after_lapse", 0)),
        "inactivity_days": table.attrs.get("inactivity_days"),
    }
    text = (
        "These customers have no cancellation date, so a customer counts as having left once "
        "there has been **{lost}** ({why})."
    )
    if values["returned"]:
        text += (
            " **{returned:,}** came back after such a gap; they count as having left at the "
            "first one."
        )
    return Finding("retention.definition", text, values)


def _excluded(table, journey):
    a = table.attrs
    values = {
        "after": int(a.get("excluded_signup_after", 0)),
        "late": int(a.get("churn_after_observed", 0)),
        "recent": int(a.get("excluded_too_recent", 0)),
    }
    parts = []
    if values["after"]:
        parts.append("**{after:,}** customers who started after the extraction date are left out")
    if values["late"]:
        parts.append("**{late:,}** departures dated after it count as still active")
    if values["recent"]:
        values["gap"] = _gap_text(a.get("inactivity_days", 0))
        parts.append(
            "**{recent:,}** customers who started within the last {gap} are left out: too "
            "recent to tell whether they left"
        )
    if not parts:
        return []
    text = "; ".join(parts) + "."
    return [Finding("retention.excluded", text[0].upper() + text[1:], values)]


def segments(table, *, journey=None):
    """Who stays longer: one finding per customer attribute with two or more groups (log-rank
    test, Holm-corrected pairs, best and worst group at a point the follow-up covers).

    Each applicable finding carries ``values["column"]``, the column to draw curves by.
    """
    from .stats import logrank, survival_summary

    key = "retention.segments"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    if len(table) == 0 or not table["churned"].any():
        return [not_applicable(key, "Groups can be compared once some customers have left.")]
    columns = segment_columns(table, journey=journey)
    if not columns:
        return [
            not_applicable(
                key,
                "There is no customer attribute with two or more groups to compare (2–12 "
                "values, known at signup); add one to the customers table, or name it under "
                "segments in the data spec.",
                needs="customer_attributes",
            )
        ]
    follow = _follow(table)
    mark = 180.0 if follow >= 180 else _nice_days(follow / 2)
    out = []
    for col in columns:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tests = logrank(table, by=col)
            summary = survival_summary(table, by=col, times=(mark,))
        pct = summary[f"pct_retained_{mark:g}d"]
        ok = summary[pct.notna()]
        if len(ok) < 2:
            continue
        best = ok.loc[pct[pct.notna()].idxmax()]
        worst = ok.loc[pct[pct.notna()].idxmin()]
        p = float(tests["p_value"].iloc[0])
        n_pairs = len(tests) - 1
        values = {
            "column": col,
            "segment": _words(col),
            "verdict": "differ" if p < 0.05 else "do not differ beyond chance",
            "p_value": p,
            "p": _p_text(p),
            "pairs": int((tests["p_adjusted"].iloc[1:] < 0.05).sum()),
            "n_pairs": n_pairs,
            "when": _mark_text(mark),
            "mark_days": mark,
            "best": str(best[col]),
            "best_pct": float(best[f"pct_retained_{mark:g}d"]),
            "worst": str(worst[col]),
            "worst_pct": float(worst[f"pct_retained_{mark:g}d"]),
        }
        pairs = "; {pairs} of {n_pairs} pairs differ after correction" if n_pairs > 1 else ""
        text = (
            "By {segment}: the curves {verdict} ({p}" + pairs + "). After {when}, **{best}** "
            "keeps the most customers (**{best_pct:.0f}%**) and **{worst}** the fewest "
            "(**{worst_pct:.0f}%**)."
        )
        out.append(Finding(key, text, values))
    if not out:
        return [
            not_applicable(
                key, "No attribute has two groups followed long enough to compare them yet."
            )
        ]
    return out


def _time_varying(models, row):
    return models.varying_ is not None and row["covariate"] in set(models.drivers_)


def _group_text(models, row, lead):
    """How a yes/no or group term is read: groups against their reference, a state that
    changes over time against the times without it."""
    if _kind_of(row) == "level":
        return lead + " customers leave at **{hr:.2f}×** the rate (95% interval {lo:.2f}–{hi:.2f})"
    if _time_varying(models, row):
        return (
            lead + " while it holds, customers leave at **{hr:.2f}×** the rate of the times when "
            "it does not (95% interval {lo:.2f}–{hi:.2f})"
        )
    return (
        lead + " customers with it leave at **{hr:.2f}×** the rate of those without "
        "(95% interval {lo:.2f}–{hi:.2f})"
    )


def _kind_of(row):
    return row["kind_"]


def _values(row):
    return {
        "term": row["words"][0].upper() + row["words"][1:],
        "hr": float(row["hazard_ratio"]),
        "lo": float(row["ci_low"]),
        "hi": float(row["ci_high"]),
    }


def drivers(models, *, journey=None):
    """What is associated with leaving sooner: the clearest harmful and protective groups or
    states of the Cox model (time-varying when fitted), every clear per-unit term on its own
    (a ratio per support contact is not ranked against a ratio for a group), how well signup
    traits rank who leaves first, and which experiences were followed over time (only those
    present in the data). The words are of association: these are observed data.

    Parameters
    ----------
    models : Drivers
        From :func:`~cxkit.retention.cox.fit_drivers`.
    """
    key = "retention.drivers"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    if models.best_ is None:
        return [not_applicable(key, _why_no_model(models), _needs_of_model(models))]
    harm, protect, per_unit = _clear_effects(models)
    out = []
    if len(harm):
        top = harm.iloc[0]
        out.append(
            Finding(
                key,
                _group_text(models, top, "**{term}** goes with leaving faster:")
                + ", other things equal.",
                _values(top),
                headline=True,
            )
        )
    if len(protect):
        best = protect.iloc[0]
        out.append(
            Finding(
                key,
                _group_text(models, best, "**{term}** goes with staying longer:") + ".",
                _values(best),
            )
        )
    for _, row in per_unit.iterrows():
        v = _per_unit_values(row)
        way = "leaving faster" if v["hr"] > 1 else "staying longer"
        out.append(
            Finding(
                key,
                "**{term}** go with " + way + ": each one more {one} goes with **{hr:.2f}×** "
                "the rate of leaving (95% interval {lo:.2f}–{hi:.2f}), so three more go with "
                "about **{hr3:.1f}×**. This ratio is per {one}, so it is not ranked against the "
                "ratios of groups.",
                v,
                headline=not out,
            )
        )
    if not out:
        out.append(
            Finding(
                key,
                "Nothing measured here is clearly associated with leaving faster or slower: "
                "every 95% interval of the hazard ratios includes 1.",
            )
        )
    out.append(
        Finding(
            key,
            "These are associations in observed data, not effects measured in an experiment: "
            "something no column records can stand behind both a trait and leaving.",
        )
    )
    if models.varying_ is not None and models.drivers_:
        used = [
            _DRIVER_WORDS.get(d, _words(d))
            for d in models.drivers_
            if d in set(models.varying_.hazard_ratios_["covariate"])
        ]
        if used:
            out.append(
                Finding(
                    key,
                    "Experiences during the relationship are counted when they happen, not as "
                    "totals at the end: {used}.",
                    {"used": "; ".join(used)},
                )
            )
    fixed = models.fixed_
    if fixed is not None and fixed.concordance_ is not None:
        out.append(
            Finding(
                key,
                "Signup traits alone put customers in the order they leave correctly "
                "**{c:.0f}%** of the time on held-out data (50% = a coin flip).",
                {"c": 100 * fixed.concordance_},
            )
        )
    return out


def _untested(models):
    """The sentence on the ratios nobody tested for change over time ("" when none)."""
    if models.varying_ is None:
        return ""
    used = [d for d in models.drivers_ if d in set(models.varying_.hazard_ratios_["covariate"])]
    if not used:
        return ""
    return (
        " The ratios above come from the model that also follows experiences over time; that "
        "model was not tested for ratios changing with time since signup, so read its ratios "
        "as averages over the relationship."
    )


def ph_check(models, *, journey=None):
    """Do the hazard ratios of signup traits change with time since signup? Says what was
    tested (the signup-trait model) and what was not (the model with experiences over time)."""
    key = "retention.ph"
    if (skip := _skipped(journey, key)) is not None:
        return skip
    fit = models.fixed_
    if fit is None or fit.ph_check_ is None or not len(fit.ph_check_):
        return not_applicable(
            key,
            "There is no signup-trait model to check (see above), so whether the hazard ratios "
            "change over time was not tested.",
            _needs_of_model(models),
        )
    check = fit.ph_check_.merge(fit.hazard_ratios_[["term", "covariate", "level", "reference"]])
    bad = check[check["violates"]]
    untested = _untested(models)
    if not len(bad):
        return Finding(
            key,
            "In the model of signup traits alone, no trait's hazard ratio changes clearly with "
            "time since signup (Holm-adjusted test, 5% level): no evidence against reading "
            "them as constant, though not proof that they are." + untested,
            {"terms": len(check)},
        )
    names = sorted({_words(c) for c in bad["covariate"]})
    return Finding(
        key,
        "In the model of signup traits alone, the effect of **{names}** changes with time since "
        "signup, so its hazard ratio is an average over the relationship: read its curves and "
        "expected time below instead. (With many customers, small harmless departures are "
        "flagged too.)" + untested,
        {"names": ", ".join(names), "terms": len(check), "violations": len(bad)},
    )


def rmst(table, *, journey=None, horizon=None):
    """Expected time as a customer within a horizon the follow-up covers: overall, and per
    segment (longest and shortest group).

    Returns findings; ``values["horizon_days"]`` holds the horizon, segment findings carry
    ``values["column"]``.
    """
    from .stats import rmst as rmst_table

    key = "retention.rmst"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    if len(table) == 0 or not table["churned"].any():
        return [
            not_applicable(key, "Expected time as a customer is measured once some have left.")
        ]
    h = rmst_horizon(_follow(table)) if horizon is None else float(horizon)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = rmst_table(table, horizon=h).iloc[0]
    values = {
        "horizon_days": h,
        "h": _mark_text(h),
        "rmst_days": float(res["rmst_days"]),
        "r": _dur(res["rmst_days"]),
        "lo": _dur(res["ci_low"]),
        "hi": _dur(res["ci_high"]),
    }
    out = [
        Finding(
            key,
            "Within **{h}** of starting, a customer stays **{r}** on average (95% interval {lo} to "
            "{hi}).",
            values,
        )
    ]
    for col in segment_columns(table, journey=journey):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = rmst_table(table, by=col, horizon=h)
        groups = res[res["versus"].isna() & res["rmst_days"].notna()]
        groups = groups.sort_values("rmst_days", ascending=False)
        if len(groups) < 2:
            continue
        a, b = groups.iloc[0], groups.iloc[-1]
        v = {"column": col, "segment": _words(col), "h": _mark_text(h), "horizon_days": h}
        for name, g in (("a", a), ("b", b)):
            v.update(
                {
                    name: str(g[col]),
                    f"{name}_days": float(g["rmst_days"]),
                    f"r{name}": _dur(g["rmst_days"]),
                    f"l{name}": _dur(g["ci_low"]),
                    f"h{name}": _dur(g["ci_high"]),
                }
            )
        out.append(
            Finding(
                key,
                "By {segment}: within {h} of starting, a customer from **{a}** stays **{ra}** on "
                "average ({la} to {ha}); one from **{b}** stays **{rb}** ({lb} to {hb}).",
                v,
            )
        )
    return out


_PERIOD_WORDS = {"M": "month", "W": "week", "D": "day", "Q": "quarter"}


def cohorts(cells, table, *, journey=None):
    """How each signup cohort held up, or why there is no cohort table to read.

    Parameters
    ----------
    cells : DataFrame
        From :func:`~cxkit.retention.cohorts.cohort_table`.
    table : DataFrame
        The retention table (for the business model and departures).
    """
    key = "retention.cohorts"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    period = cells.attrs.get("period")
    if period is None or not len(cells):
        return [
            not_applicable(
                key,
                "The data covers too short a time to group customers into calendar cohorts "
                "(at least a week is needed).",
            )
        ]
    unit = _PERIOD_WORDS.get(str(period).upper(), "period")
    contract = cells.attrs.get("kind") == "contract"
    if contract and not table["churned"].any():
        return [
            not_applicable(
                key,
                "No customer has left yet, so every cohort still holds all its customers; the "
                "cohort table shows departures once churn dates are recorded.",
            )
        ]
    later = cells[(cells["period"] > 0) & cells["pct_retained"].notna()]
    if not len(later):
        return [
            not_applicable(
                key,
                f"No cohort has been followed for a whole {unit} after the one it started in "
                "yet, so there is nothing to compare.",
            )
        ]
    counts = later.groupby("period")["cohort"].nunique()
    several = counts[counts >= 2]
    k = 3 if counts.get(3, 0) >= 2 else int((several if len(several) else counts).index.max())
    at = later[later["period"] == k]
    hi, lo = at.loc[at["pct_retained"].idxmax()], at.loc[at["pct_retained"].idxmin()]
    values = {
        "k": k,
        "unit": unit + ("s" if k != 1 else ""),
        "hi": float(hi["pct_retained"]),
        "lo": float(lo["pct_retained"]),
        "hi_c": str(hi["cohort"]),
        "lo_c": str(lo["cohort"]),
        "cohorts": int(at["cohort"].nunique()),
    }
    if contract:
        what = "of their customers"
    else:
        values["what"] = _activity_words(table, journey)
        what = "of their customers with some {what} in that " + unit
    if len(at) >= 2:
        text = (
            "**{k}** {unit} after signup, cohorts keep between **{lo:.0f}%** ({lo_c}) and "
            "**{hi:.0f}%** ({hi_c}) " + what + "."
        )
    else:
        text = "**{k}** {unit} after signup, the {hi_c} cohort keeps **{hi:.0f}%** " + what + "."
    return [Finding(key, text, values)]


def actions(models, *, journey=None):
    """What to look into: one line per clear term, worded by whether it is a trait fixed at
    signup, a state during the relationship, or a count read per unit. The words stay those
    of association: each line says to test an action before relying on it."""
    key = "retention.actions"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    if models.best_ is None:
        why = _why_no_model(models)
        return [not_applicable(key, "Nothing to act on yet. " + why)]
    harm, protect, per_unit = _clear_effects(models)
    out = []
    for _, r in harm.iterrows():
        v = {"term": r["words"], "hr": float(r["hazard_ratio"])}
        if _time_varying(models, r):
            text = (
                "- **{term}** — while it holds, customers leave at {hr:.1f}× the rate: a "
                "follow-up within days may help; test it against a control group first."
            )
        else:
            text = (
                "- **{term}** — customers leave at {hr:.1f}× the rate: count their shorter "
                "expected time as customers when weighing what is spent to acquire them; more "
                "help early on is worth testing."
            )
        out.append(Finding(key, text, v))
    for _, r in per_unit.iterrows():
        v = _per_unit_values(r)
        v["term"] = r["words"]
        if v["hr"] > 1:
            text = (
                "- **{term}** — each one more {one} goes with {hr:.2f}× the rate of leaving "
                "(three: {hr3:.1f}×): find out what brings customers to it, and test a "
                "follow-up against a control group."
            )
        else:
            text = (
                "- **{term}** — each one more {one} goes with {hr:.2f}× the rate of leaving: "
                "an association, not proof that more of it keeps customers."
            )
        out.append(Finding(key, text, v))
    for _, r in protect.iterrows():
        out.append(
            Finding(
                key,
                "- **{term}** — customers leave at {hr:.2f}× the rate. An association, not "
                "proof that moving customers into this group keeps them: test before "
                "investing to grow it.",
                {"term": r["words"], "hr": float(r["hazard_ratio"])},
            )
        )
    if not out:
        out.append(
            Finding(
                key,
                "- Nothing measured goes clearly with the pace of leaving; collect more history "
                "before acting.",
            )
        )
    return out


def truth_check(models, truth):
    """On simulated data: how many planted hazard ratios lie inside the model's intervals
    (None when there is no truth or no model)."""
    if truth is None or models.best_ is None:
        return None
    planted = {d["name"]: d["hazard_ratio"] for d in truth["churn"]["drivers"]}
    hr = models.best_.hazard_ratios_
    expected = hr["term"].map(lambda t: planted.get(t, 1.0))
    inside = int(((hr["ci_low"] <= expected) & (expected <= hr["ci_high"])).sum())
    return Finding(
        "retention.truth",
        "This is simulated data with known answers: the planted hazard ratio lies inside the "
        "95% interval for **{inside} of {n}** terms (traits without a planted effect count as "
        "1). The simulator also plants a hidden *disengaged* state (hazard ratio {dis:g}) that "
        "no column records; leaving it out pulls the other ratios slightly towards 1.",
        {"inside": inside, "n": len(hr), "dis": planted.get("disengaged", 1.0)},
    )


def overview(journey):
    """One or two short findings for notebook 00 and the index: how long customers stay
    (``headline=True, summary=True``). Cheap: one retention table and one Kaplan–Meier curve.
    """
    from .reduce import retention_table

    key = "retention.overall"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    table = retention_table(journey)
    first = next(f for f in overall(table, journey=journey) if f.key == key)
    return [Finding(key, first.text, first.values, headline=True, summary=True)]

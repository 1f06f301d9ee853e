"""Findings of the experience analysis: what the survey scores, the journey map, the landmark
and the value segments say, and whether each applies to this data.

Each function takes the result of an analysis (a table from :func:`cxkit.nps`, :func:`cxkit.csat`
…) and returns :class:`~cxkit.story.Finding` objects. ``why_not(journey, section)`` says before
computing whether a section can run: an empty list when it can, else one not-applicable finding
saying why and what to add. Groups flagged ``small`` (fewer answers than ``min_n``) are never
the subject of a finding.

>>> import cxkit
>>> from cxkit.experience import findings
>>> j = cxkit.load_sample()
>>> [f.key for f in findings.scores(j)]
['experience.nps', 'experience.csat', 'experience.ces']
>>> findings.why_not(j, "rfm")
[]
"""

from __future__ import annotations

from .._format import duration_text, is_known, money_text
from ..data.profile import segment_columns
from ..engine.frames import customers_frame, has_values, surveys_frame
from ..story import Finding, not_applicable

__all__ = [
    "SCORE_KINDS",
    "score_kinds",
    "touchpoint_column",
    "device_column",
    "why_not",
    "scores",
    "nps_score",
    "csat_score",
    "ces_score",
    "csat_by_touchpoint",
    "device_gap",
    "nps_by_segment",
    "journey_map",
    "nps_and_retention",
    "rfm",
    "overview",
]

#: The survey types the kit scores, in the order they are reported.
SCORE_KINDS = ("nps", "csat", "ces")

#: Fewest customers followed from the landmark for the comparison to be worth showing.
LANDMARK_MIN_CUSTOMERS = 100

_NO_SURVEYS = (
    "There are no survey answers, so satisfaction is not scored. Add a surveys file "
    "(customer id, time, survey type, score) to see how customers feel."
)


_NO_RECOMMEND = {
    "nps_segments": "Nobody answered the 0–10 question “how likely are you to recommend us?”, "
    "so customer groups are not compared on it.",
    "landmark": "Nobody answered the 0–10 question “how likely are you to recommend us?”, so "
    "what customers say is not linked to how long they stay. Add those answers to the surveys.",
}


def score_kinds(journey):
    """The survey types with at least one answer in ``surveys_frame(journey)``, in report order."""
    sv = surveys_frame(journey)
    if "survey" not in sv.columns or not len(sv):
        return []
    present = set(sv["survey"].astype(str).unique())
    return [k for k in SCORE_KINDS if k in present]


def touchpoint_column(journey):
    """``"touchpoint"`` or ``"stage"``: the surveys column that says what an answer is about
    (None when neither has a value)."""
    sv = surveys_frame(journey)
    return next((c for c in ("touchpoint", "stage") if c in sv and sv[c].notna().any()), None)


def device_column(journey):
    """``"device"`` when customers (or surveys) have one with at least two values, else None."""
    for table in (customers_frame(journey), surveys_frame(journey)):
        if "device" in table.columns and table["device"].nunique(dropna=True) > 1:
            return "device"
    return None


def _words(column):
    return str(column).replace("_", " ")


def _skipped(journey, section):
    key = f"experience.{section}"
    if journey.spec.skips(key):
        return [not_applicable(key, "This section is skipped in the data spec.")]
    return []


def why_not(journey, section):
    """Whether a section can run on this data: ``[]`` when it can, else one not-applicable
    finding (why, and what to add). A section the spec skips does not run either.

    ``section`` is one of "scores", "touchpoints", "device_gap", "nps_segments",
    "journey_map", "landmark", "rfm".
    """
    if section not in _REASONS:
        raise ValueError(f"why_not: unknown section {section!r}; one of {sorted(_REASONS)}")
    key = f"experience.{section}"
    found = _skipped(journey, section)
    why = _REASONS[section](journey)
    return found or ([not_applicable(key, why, _needs(journey, section))] if why else [])


def _needs(journey, section):
    """The missing data behind a section that does not apply (see ``cxkit.story.Finding``)."""
    if section == "rfm":
        return "revenue"
    kinds = score_kinds(journey)
    if not kinds:
        return "surveys"
    if section in ("touchpoints", "device_gap") and "csat" not in kinds:
        return "surveys.csat"
    if section in ("nps_segments", "landmark") and "nps" not in kinds:
        return "surveys.nps"
    return None


def _why_scores(journey):
    return None if score_kinds(journey) else _NO_SURVEYS


def _why_touchpoints(journey):
    if "csat" not in score_kinds(journey):
        return "The surveys have no satisfaction answers on the 1–5 scale to break down."
    if touchpoint_column(journey) is None:
        return (
            "The satisfaction answers do not say which touchpoint or stage they are about; add "
            "a touchpoint (or stage) column to the surveys to compare them."
        )
    return None


def _why_device_gap(journey):
    if why := _why_touchpoints(journey):
        return why
    if device_column(journey) is None:
        return "There is no device column, so satisfaction is not compared across devices."
    return None


def _why_nps_segments(journey):
    if "nps" not in score_kinds(journey):
        return _NO_RECOMMEND["nps_segments"]
    if not segment_columns(journey, "customers"):
        return (
            "The customers have no attribute with a few distinct values (such as a plan or an "
            "acquisition channel) to compare groups by."
        )
    return None


def _why_landmark(journey):
    cu = customers_frame(journey)
    if "nps" not in score_kinds(journey):
        return _NO_RECOMMEND["landmark"]
    if not cu.attrs.get("churn_dates", True) or not cu["churned_at"].notna().any():
        return (
            "No customer has left in this data (no churn dates), so whether unhappy customers "
            "leave sooner cannot be measured yet."
        )
    if len(cu) < LANDMARK_MIN_CUSTOMERS:
        return (
            f"Too few customers ({len(cu):,}) to compare how long they stay by their answers; "
            f"this needs at least {LANDMARK_MIN_CUSTOMERS:,}."
        )
    return None


def _why_rfm(journey):
    if not has_values(journey):
        return (
            "The events carry no revenue, so value segments are not computed. Add a value "
            "column (the amount of each purchase) to the events."
        )
    return None


_REASONS = {
    "scores": _why_scores,
    "touchpoints": _why_touchpoints,
    "device_gap": _why_device_gap,
    "nps_segments": _why_nps_segments,
    "journey_map": lambda journey: None,
    "landmark": _why_landmark,
    "rfm": _why_rfm,
}


# --- scores -------------------------------------------------------------------------------


def _row(table):
    if table is None or not len(table):
        return None
    row = table.iloc[0]
    return row if int(row["n"]) > 0 else None


def nps_score(table):
    """The overall Net Promoter Score from ``cxkit.nps(journey)``; [] when there are no answers.

    Examples
    --------
    >>> import cxkit
    >>> f = nps_score(cxkit.nps(cxkit.load_sample()))[0]
    >>> f.key, f.values["nps"] == float(cxkit.nps(cxkit.load_sample())["nps"].iloc[0])
    ('experience.nps', True)
    """
    row = _row(table)
    if row is None:
        return []
    text = (
        "**Net Promoter Score: {nps:+.0f}** (95% interval {lo:+.0f} to {hi:+.0f}, {n:,} answers). "
        "It is the share of promoters (answering 9–10 out of 10) minus the share of detractors "
        "(0–6), from −100 to +100: {pro:.0f}% promoters, {det:.0f}% detractors."
    )
    return [Finding("experience.nps", text, _values(row, pro="promoters", det="detractors"))]


def csat_score(table):
    """The overall satisfaction (% of CSAT answers 4–5 of 5) from ``cxkit.csat(journey)``."""
    row = _row(table)
    if row is None:
        return []
    text = (
        "**{csat:.0f}%** of satisfaction answers are 4 or 5 out of 5 (CSAT; 95% interval "
        "{lo:.0f}–{hi:.0f}%, {n:,} answers; mean score {mean:.1f})."
    )
    return [Finding("experience.csat", text, _values(row, "csat", mean="mean_score"))]


def ces_score(table):
    """Customer effort (mean of 1–7, higher = easier) from ``cxkit.ces(journey)``."""
    row = _row(table)
    if row is None:
        return []
    text = (
        "Customer effort: a mean of **{ces:.1f}** out of 7 (95% interval {lo:.1f}–{hi:.1f}, "
        "{n:,} answers, 7 = very easy); {low:.0f}% found it easy (5–7)."
    )
    return [Finding("experience.ces", text, _values(row, "ces", low="low_effort"))]


def _values(row, score="nps", **extra):
    out = {
        "n": int(row["n"]),
        "lo": float(row["ci_low"]),
        "hi": float(row["ci_high"]),
    }
    if score in row.index:
        out[score] = float(row[score])
    out.update({name: float(row[col]) for name, col in extra.items()})
    return out


def scores(journey, *, tables=None):
    """Findings for NPS, CSAT and CES: one each for the survey types that have answers (each
    stands alone), or one not-applicable finding when there are no survey answers at all. The
    first (NPS, else CSAT, else CES) is the headline.

    ``tables`` may hold already computed overall tables ``{"nps": ..., "csat": ...}``.
    """
    from . import scores as s

    found = why_not(journey, "scores")
    if found:
        return found
    tables = dict(tables or {})
    makers = {"nps": (s.nps, nps_score), "csat": (s.csat, csat_score), "ces": (s.ces, ces_score)}
    out = []
    for kind in score_kinds(journey):
        compute, finding = makers[kind]
        table = tables.get(kind)
        out += finding(compute(journey) if table is None else table)
    if out:
        out[0].headline = True  # the first score present is the experience headline
    return out


# --- breakdowns ---------------------------------------------------------------------------


def csat_by_touchpoint(by_point, *, journey=None):
    """The least satisfying touchpoint (or stage) from ``cxkit.csat(journey, by=where)``;
    small groups are never named. Not applicable when no column says where answers are from."""
    key = "experience.touchpoints"
    if journey is not None and (found := why_not(journey, "touchpoints")):
        return found
    where = next((c for c in ("touchpoint", "stage") if c in by_point.columns), None)
    if where is None:
        return why_not(journey, "touchpoints") if journey is not None else []
    reliable = by_point.loc[~by_point["small"] & by_point["n"].gt(0)]
    if len(reliable) < 2:
        return [
            not_applicable(
                key,
                f"Fewer than two {_words(where)}s have enough satisfaction answers (30 or more) "
                "to compare them.",
            )
        ]
    worst = reliable.loc[reliable["csat"].idxmin()]
    best = reliable.loc[reliable["csat"].idxmax()]
    text = (
        "The least satisfying {where} is **{name}**: {csat:.0f}% satisfied (95% interval "
        "{lo:.0f}–{hi:.0f}%, {n:,} answers), against {best_csat:.0f}% at **{best}**, the best."
    )
    values = {
        "where": _words(where),
        "name": _label(journey, worst[where]),
        "csat": float(worst["csat"]),
        "lo": float(worst["ci_low"]),
        "hi": float(worst["ci_high"]),
        "n": int(worst["n"]),
        "best": _label(journey, best[where]),
        "best_csat": float(best["csat"]),
    }
    small = int(by_point["small"].sum())
    if small:
        text += " {small:,} with fewer than 30 answers are marked as small samples."
        values["small"] = small
    return [Finding(key, text, values)]


def _label(journey, name):
    return journey.spec.label(name) if journey is not None else str(name)


def device_gap(cells, by_point, *, journey=None):
    """The widest satisfaction gap of a device at one touchpoint, against all devices there.

    ``cells`` is ``cxkit.csat(journey, by=[where, "device"])``, ``by_point`` is
    ``cxkit.csat(journey, by=where)``. Small cells are never the finding.
    """
    key = "experience.device_gap"
    if journey is not None and (found := why_not(journey, "device_gap")):
        return found
    where = next((c for c in ("touchpoint", "stage") if c in cells.columns), None)
    if where is None or "device" not in cells.columns:
        return [not_applicable(key, "There is no device column to compare devices with.")]
    merged = cells.merge(by_point[[where, "csat"]], on=where, suffixes=("", "_all"))
    merged = merged.loc[~merged["small"] & merged["n"].gt(0)]
    merged = merged.assign(gap=merged["csat"] - merged["csat_all"])
    if merged.empty or merged["device"].nunique() < 2:
        return [
            not_applicable(
                key, "Too few satisfaction answers per device and touchpoint to compare devices."
            )
        ]
    gap = merged.loc[merged["gap"].idxmin()]
    text = (
        "The widest device gap: at **{name}**, customers on **{device}** are satisfied "
        "{csat:.0f}% of the time (95% interval {lo:.0f}–{hi:.0f}%, {n:,} answers), against "
        "{all:.0f}% for all devices."
    )
    values = {
        "name": _label(journey, gap[where]),
        "device": str(gap["device"]),
        "csat": float(gap["csat"]),
        "lo": float(gap["ci_low"]),
        "hi": float(gap["ci_high"]),
        "n": int(gap["n"]),
        "all": float(gap["csat_all"]),
        "gap": float(gap["gap"]),
    }
    return [Finding(key, text, values)]


def nps_by_segment(table, by):
    """One sentence on the NPS per segment from ``cxkit.nps(journey, by=by,
    per_customer="latest")``: the lowest and highest groups that are not small."""
    key = "experience.nps_segments"
    reliable = table.loc[~table["small"] & table["n"].gt(0)]
    if len(reliable) < 2:
        return [
            not_applicable(
                key,
                f"Fewer than two {_words(by)} groups have 30 or more customers who answered, "
                "so their scores are not compared.",
            )
        ]
    low = reliable.loc[reliable["nps"].idxmin()]
    high = reliable.loc[reliable["nps"].idxmax()]
    text = (
        "By {by}, customers' latest answers give the lowest Net Promoter Score in **{low}** "
        "({low_nps:+.0f}, 95% interval {low_lo:+.0f} to {low_hi:+.0f}) and the highest in "
        "**{high}** ({high_nps:+.0f}). Each bar splits the group's latest answers into "
        "detractors (0–6, red), passives (7–8, grey) and promoters (9–10, green)."
    )
    values = {
        "by": _words(by),
        "low": str(low[by]),
        "low_nps": float(low["nps"]),
        "low_lo": float(low["ci_low"]),
        "low_hi": float(low["ci_high"]),
        "high": str(high[by]),
        "high_nps": float(high["nps"]),
    }
    return [Finding(key, text, values)]


# --- journey map, landmark, value segments ------------------------------------------------


def journey_map(jmap, *, journey=None):
    """The biggest loss between journey stages, from :func:`cxkit.experience.journey_map`;
    not applicable (one sentence) when no event matches a stage."""
    key = "experience.journey_map"
    if journey is not None and (found := _skipped(journey, "journey_map")):
        return found
    if jmap.empty or int(jmap["people"].iloc[0]) == 0 or int(jmap["events"].sum()) == 0:
        return [
            not_applicable(
                key,
                "No event matches the journey stages the kit knows, so the journey map "
                "is not drawn. Name the events of each stage (awareness, consideration, "
                "decision, purchase, after purchase) to draw it for your own events.",
            )
        ]
    matched = jmap.loc[jmap["events"].gt(0)].reset_index(drop=True)
    people = matched["people"].to_numpy()
    values = {"people": int(people[0]), "stage": str(matched["stage"].iloc[0])}
    text = "**{people:,}** people reach the {stage} stage or a later one"
    if len(matched) > 1 and people[:-1].min() > 0:
        share = 100 * people[1:] / people[:-1]
        k = int(share.argmin())
        values.update(
            before=str(matched["stage"].iloc[k]),
            after=str(matched["stage"].iloc[k + 1]),
            pct=float(share[k]),
            went_on=int(people[k + 1]),
            previous=int(people[k]),
        )
        text += (
            "; the biggest loss between stages is from **{before}** to **{after}**: "
            "{pct:.0f}% of people go on ({went_on:,} of {previous:,})."
        )
    else:
        text += "."
    missing = [str(st) for st in jmap.loc[jmap["events"].eq(0), "stage"]]
    if missing:
        values["missing"] = ", ".join(missing)
        text += (
            " No event belongs to these stages, so they are left out of the comparison: {missing}."
        )
    return [Finding(key, text, values)]


def nps_and_retention(landmark):
    """What the landmark analysis (:func:`cxkit.nps_landmark`) says about detractors: a
    headline when their hazard ratio's interval excludes 1, else a plain sentence."""
    key = "experience.landmark"
    d = landmark.detractor_hr_
    horizon = landmark.summary_.attrs.get("at_days")
    values = {
        "hr": d["hazard_ratio"],
        "lo": d["ci_low"],
        "hi": d["ci_high"],
        "detractors": int(d["detractors"]),
        "others": int(d["others"]),
        "landmark": _when(landmark.landmark),
        "horizon": duration_text(horizon) if horizon is not None else "follow-up",
    }
    if not d["detractors"] or not is_known(d["hazard_ratio"]):
        return [
            not_applicable(
                key,
                "Too few detractors, or too few departures after the landmark, to compare how "
                "long detractors stay with other customers who answered.",
            )
        ]
    if d["ci_low"] > 1 or d["ci_high"] < 1:
        text = (
            "Customers who were detractors {landmark} left at **{hr:.1f}×** the rate of the "
            "other customers who answered (promoters and passives together) over the next "
            "{horizon} (hazard ratio, 95% interval {lo:.1f}–{hi:.1f}; {detractors:,} "
            "detractors, {others:,} others)."
        )
        return [Finding(key, text, values, headline=True)]
    text = (
        "Detractors {landmark} did not leave measurably faster or slower than "
        "other customers who answered (hazard ratio {hr:.1f}, 95% interval {lo:.1f}–{hi:.1f}; "
        "{detractors:,} detractors, {others:,} others)."
    )
    return [Finding(key, text, values)]


def _when(label):
    label = str(label)
    return label if label.endswith("after signup") else f"on {label}"


def rfm(summary, *, journey=None):
    """Value segments from :func:`cxkit.experience.rfm_summary`: the share of buyers and of
    revenue in the best segments, and the customers who used to buy often but went quiet.
    Amounts carry the spec's currency (``money.currency``) when it gives one."""
    key = "experience.rfm"
    if journey is not None and (found := why_not(journey, "rfm")):
        return found
    top = summary.set_index("segment")
    total = float(top["monetary"].sum())
    if not len(top) or int(top["customers"].sum()) == 0 or total <= 0:
        return [not_applicable(key, "No purchase with a revenue value, so no value segments.")]
    best = top.loc[[s for s in ("champions", "loyal") if s in top.index]]
    risk = top.loc[[s for s in ("at risk", "can't lose them") if s in top.index]]
    currency = (journey.spec.money.get("currency") if journey is not None else None) or ""
    values = {
        "buyers": int(top["customers"].sum()),
        "revenue": money_text(total, currency),
        "pct": float(best["pct_customers"].sum()),
        "rev": float(best["pct_monetary"].sum()),
        "risk_n": int(risk["customers"].sum()),
        "risk_rev": float(risk["pct_monetary"].sum()),
    }
    text = (
        "Of **{buyers:,}** buyers ({revenue} in revenue), champions and loyal customers are "
        "**{pct:.0f}%** but bring **{rev:.0f}%** of the revenue"
    )
    if values["risk_n"]:
        text += (
            "; **{risk_n:,}** customers who used to buy often have gone quiet (at risk or "
            "can't lose them, {risk_rev:.0f}% of revenue so far)."
        )
    else:
        text += "."
    return [Finding(key, text, values, headline=True)]


# --- overview -----------------------------------------------------------------------------


def overview(journey):
    """The experience headline for notebook 00 and the index: the first survey score present
    (NPS, else CSAT, else CES), ``headline=True`` — the same finding :func:`scores` leads with;
    a not-applicable note without surveys. Cheap: one overall score.

    Examples
    --------
    >>> import cxkit
    >>> [f.key for f in overview(cxkit.load_sample())]
    ['experience.nps']
    """
    from . import scores as s

    if found := why_not(journey, "scores"):
        return found
    kind = score_kinds(journey)[0]
    finding = {"nps": nps_score, "csat": csat_score, "ces": ces_score}[kind]
    out = finding(getattr(s, kind)(journey))
    for f in out:
        f.headline = True
    return out

"""The journey at a glance: volumes, dates, customers gained and lost, and who the customers
are — the findings of the overview report (notebook 00).

Every function takes a :class:`~cxkit.Journey` and returns findings (or a small table, or a
figure) that fit the data it is given: "have since left" only where customers have churn dates
(contractual data); for non-contractual data, how many were active lately and how many went
quiet after the spec's inactivity gap.

>>> import cxkit
>>> from cxkit import overview
>>> j = cxkit.load_sample()
>>> f = overview.volumes(j)
>>> f.values["customers"] == len(j.customers)
True
"""

from __future__ import annotations

import pandas as pd

from ._format import duration_text
from ._theme import PALETTE, get_ax
from .data.profile import segment_columns
from .engine.frames import (
    counts,
    customers_frame,
    event_facts,
    has_values,
    last_activity,
    surveys_frame,
)
from .story import Finding, not_applicable

__all__ = [
    "volumes",
    "holdings",
    "gained_lost",
    "plot_gained_lost",
    "mix_column",
    "segment_mix",
    "mix",
    "overview",
    "for_readers",
]

#: Groups with fewer customers are flagged ``small`` in :func:`segment_mix`.
MIN_N = 30

_MIX_HINTS = ("acquisition", "channel", "source", "campaign", "plan", "segment")


def _has_churn_dates(journey):
    return (
        journey.business_model == "contractual"
        and customers_frame(journey)["churned_at"].notna().any()
    )


def _people(journey):
    return event_facts(journey)["people"]


def _recently_active(journey):
    """(active, quiet, period words, verb) for non-contractual data: customers whose last
    activity is within the inactivity gap (the spec's, else the data's) of ``observed_at``."""
    from .retention.inactivity import choose_inactivity

    gap, _ = choose_inactivity(journey)
    verb = "were active"
    if journey.spec.activity:
        last = last_activity(journey, journey.spec.activity)
    elif has_values(journey):
        last, verb = last_activity(journey, valued=True), "bought"
    else:
        last = last_activity(journey)
    ids = pd.Index(customers_frame(journey)["customer_id"].astype(object))
    recent = last.reindex(ids) >= journey.observed_at - gap
    active = int(recent.sum())
    return active, len(ids) - active, duration_text(gap), verb


def volumes(journey):
    """The headline of the overview: the period, people, customers, conversion, and — for
    contractual data — how many have left, or — for non-contractual data — how many were
    active in the last inactivity gap and how many went quiet.

    Returns
    -------
    Finding
        ``headline=True, summary=True``; values ``first``, ``last`` (dates as text),
        ``people``, ``customers``, ``conv`` (%), and ``churned`` or ``active``/``quiet``.

    Examples
    --------
    >>> import cxkit
    >>> volumes(cxkit.load_sample()).values["conv"] > 0
    True
    """
    facts = event_facts(journey)
    people, customers = facts["people"], counts(journey)["customers"]
    values = {
        "first": f"{facts['first']:%d %b %Y}",
        "last": f"{journey.observed_at:%d %b %Y}",
        "people": people,
        "customers": customers,
    }
    text = "From **{first}** to **{last}**, **{people:,}** people appear in the events"
    if facts["prospects"] and people:
        values["conv"] = 100 * customers / people
        text += "; **{customers:,}** became customers ({conv:.1f}%)"
    else:
        text += ", all of them customers ({customers:,})"
    if _has_churn_dates(journey):
        values["churned"] = int(customers_frame(journey)["churned_at"].notna().sum())
        text += ", and **{churned:,}** of those have since left."
    elif journey.business_model == "contractual":
        text += "; none has left so far."
    else:
        active, quiet, period, verb = _recently_active(journey)
        values.update(active=active, quiet=quiet, period=period)
        text += (
            f". **{{active:,}}** {verb} in the last {{period}}; **{{quiet:,}}** have gone quiet."
        )
    return Finding("overview.volumes", text, values, headline=True, summary=True)


def holdings(journey):
    """A small table of what the data holds, in words (only what is there)."""
    n, facts, cu = counts(journey), event_facts(journey), customers_frame(journey)
    rows = [
        ("events", f"{n['events']:,}"),
        ("people in the events", f"{facts['people']:,}"),
        ("customers", f"{n['customers']:,}"),
    ]
    if facts["prospects"]:
        rows.append(("people who never became customers", f"{facts['prospects']:,}"))
    if _has_churn_dates(journey):
        rows.append(("customers who left", f"{int(cu['churned_at'].notna().sum()):,}"))
    sv = surveys_frame(journey)
    if sv is not None and len(sv) and "survey" in sv.columns:
        for kind, n in sv["survey"].astype(str).value_counts().items():
            rows.append((f"survey answers: {kind.upper()}", f"{n:,}"))
    rows += [
        ("first event", f"{facts['first']:%d %b %Y}"),
        ("data extracted", f"{journey.observed_at:%d %b %Y %H:%M}"),
    ]
    return pd.DataFrame(rows, columns=["what", "value"]).set_index("what")


def _last_year(journey):
    end = journey.observed_at
    start = max(end - pd.DateOffset(months=12), customers_frame(journey)["signup_at"].min())
    return start, end


def gained_lost(journey):
    """Customers gained (and, with churn dates, lost) over the last 12 months (or the whole
    period when it is shorter); says what the figure of :func:`plot_gained_lost` shows."""
    key = "overview.gained_lost"
    if journey.spec.skips(key):
        return not_applicable(key, "This section is skipped in the data spec.")
    cu = customers_frame(journey)
    if cu.empty or cu["signup_at"].isna().all():
        return not_applicable(key, "There are no customers with a start date to count.")
    start, end = _last_year(journey)
    values = {
        "period": duration_text((end - start) / pd.Timedelta(days=1)),
        "gained": int(cu["signup_at"].between(start, end).sum()),
    }
    if _has_churn_dates(journey):
        values["lost"] = int(cu["churned_at"].between(start, end).sum())
        values["net"] = values["gained"] - values["lost"]
        text = (
            "In the last {period}, **{gained:,}** customers joined and **{lost:,}** left "
            "(net {net:+,})."
        )
    elif journey.business_model == "contractual":
        text = "In the last {period}, **{gained:,}** customers joined; none has left so far."
    else:
        text = (
            "In the last {period}, **{gained:,}** customers joined. Customers have no end date "
            "in this data, so only arrivals are drawn."
        )
    return Finding(key, text, values)


def plot_gained_lost(journey, *, freq="M", ax=None, **kwargs):
    """Customers gained per period (solid) and, with churn dates, lost (dashed, another colour).

    Examples
    --------
    >>> import cxkit
    >>> ax = plot_gained_lost(cxkit.load_sample())
    """
    ax = get_ax(ax)
    cu = customers_frame(journey)
    code = "M" if freq == "M" else freq

    def line(column, label, **style):
        period = cu[column].dropna().dt.to_period(code).dt.start_time
        counts = period.value_counts().sort_index()
        ax.plot(counts.index, counts.to_numpy(), label=label, **{**style, **kwargs})

    line("signup_at", "joined", color=PALETTE[0], linestyle="-", linewidth=2)
    if _has_churn_dates(journey):
        line("churned_at", "left", color=PALETTE[3], linestyle="--", linewidth=2)
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("")
    ax.set_ylabel(
        {"D": "customers per day", "W": "customers per week"}.get(freq, "customers per month")
    )
    ax.legend(frameon=False)
    ax.set_title("Customers joined and left" if _has_churn_dates(journey) else "Customers joined")
    return ax


def mix_column(journey):
    """The customer attribute to describe the mix by: among
    ``segment_columns(journey, "customers")``, the first that names an acquisition channel,
    source, campaign or plan, else the first; None when there is none."""
    columns = segment_columns(journey, "customers")
    hinted = [c for h in _MIX_HINTS for c in columns if h in c.lower()]
    return (hinted or columns or [None])[0]


def segment_mix(journey, column=None):
    """Customers per level of ``column`` (default :func:`mix_column`): ``customers``,
    ``pct`` (% of customers), ``small`` (fewer than 30), largest first."""
    column = column or mix_column(journey)
    if column is None:
        return pd.DataFrame(columns=[None, "customers", "pct", "small"])
    values = customers_frame(journey)[column].astype(object).fillna("(not given)")
    counts = values.value_counts()
    table = pd.DataFrame(
        {
            column: counts.index.astype(str),
            "customers": counts.to_numpy().astype("int64"),
            "pct": 100 * counts.to_numpy() / max(len(values), 1),
        }
    )
    table["small"] = table["customers"] < MIN_N
    table.attrs = {"column": column}
    return table


def mix(table, *, journey=None):
    """Where customers come from (or which group they belong to): the largest group of
    :func:`segment_mix`; not applicable without a customer attribute to group by."""
    key = "overview.mix"
    if journey is not None and journey.spec.skips(key):
        return not_applicable(key, "This section is skipped in the data spec.")
    column = table.attrs.get("column")
    if column is None or table.empty:
        return not_applicable(
            key,
            "The customers table has no attribute with a few distinct values (such as an "
            "acquisition channel or a plan), so the mix of customers is not shown. Add one to "
            "the customers file, or name it under segments in the data spec.",
            needs="customer_attributes",
        )
    reliable = table.loc[~table["small"]]
    if reliable.empty:
        return not_applicable(
            key, f"Every group has fewer than {MIN_N} customers, too few to describe the mix."
        )
    top = reliable.iloc[0]
    values = {
        "by": column.replace("_", " "),
        "top": str(top[column]),
        "pct": float(top["pct"]),
        "groups": int(len(table)),
    }
    text = "By {by}, the largest of {groups:,} groups is **{top}**, with {pct:.0f}% of customers."
    small = int(table["small"].sum())
    if small:
        values["small"] = small
        text += " {small:,} with fewer than 30 customers are marked as small."
    return Finding(key, text, values)


def overview(journey):
    """The overview's own headline (the volumes), for the index."""
    return [volumes(journey)]


def for_readers(table, digits=1):
    """A result table as readers see it: numbers rounded, flags as "yes"/"" (``small`` becomes
    "small sample"), missing values blank and column names in words.

    Examples
    --------
    >>> import cxkit
    >>> list(for_readers(cxkit.csat(cxkit.load_sample(), by="touchpoint")).columns)[:2]
    ['answers', 'CSAT %']
    """
    out = table.copy()
    if isinstance(out.index, pd.RangeIndex) and len(out.columns) > 1:
        out = out.set_index(out.columns[0])
    for col in out.columns:
        s = out[col]
        if s.dtype == bool:
            out[col] = s.map({True: "yes", False: ""})
        elif s.dtype.kind == "f":
            out[col] = s.round(digits).map(lambda v: "" if pd.isna(v) else f"{v:,.{digits}f}")
        elif s.dtype.kind in "iu":
            out[col] = s.map("{:,}".format)
        else:
            out[col] = s.astype(object).where(s.notna(), "").astype(str)
    out.columns = [_READER_NAMES.get(str(c), str(c).replace("_", " ")) for c in out.columns]
    out.index = out.index.map(lambda v: str(v).replace("_", " ") if isinstance(v, str) else v)
    if out.index.name is not None:
        out.index.name = _READER_NAMES.get(
            str(out.index.name), str(out.index.name).replace("_", " ")
        )
    return out


_READER_NAMES = {
    "n": "answers",
    "csat": "CSAT %",
    "nps": "NPS",
    "ces": "effort (1–7)",
    "ci_low": "95% interval from",
    "ci_high": "to",
    "small": "small sample",
    "pct": "% of customers",
    "pct_customers": "% of customers",
    "pct_monetary": "% of revenue",
    "hazard_ratio": "hazard ratio against promoters",
    "hr_ci_low": "hazard ratio from",
    "hr_ci_high": "to",
    "retained_ci_low": "retained from",
    "retained_ci_high": "to",
}

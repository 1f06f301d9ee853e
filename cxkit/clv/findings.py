"""Findings of the customer-value report (notebook 04): one function per section.

Each takes the :class:`~cxkit.clv.pipeline.ValueRun` the notebook built and returns
:class:`cxkit.story.Finding` objects; where a section does not apply (no purchases, no amounts,
too few repeat buyers, the optional package missing, no churn dates) the finding says why and
what would enable it.

>>> import cxkit
>>> from cxkit.clv import findings, pipeline
>>> run = pipeline.prepare(cxkit.load_sample())
>>> findings.inputs(run)[0].applies
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._format import money_text
from ..story import Finding
from .fit import MIN_REPEAT_BUYERS
from .pipeline import MIN_BUYERS
from .summary import UNIT_DAYS

__all__ = ["inputs", "value", "at_risk", "holdout", "subscriptions", "actions", "overview"]

#: Below this chance of still buying, a customer counts as probably gone.
GONE_BELOW = 0.5

_KEY = "clv"

_WHY = {
    "skipped": "This section is skipped in the data spec.",
    "no_purchases": (
        "The data has no purchases to value: no event carries an amount, and the data spec "
        "names no purchase events. Add each purchase's amount as a value column of the events, "
        "or name the purchase events in the spec's business activity."
    ),
    "too_few": (
        "Only {buyers:,} customers bought, {repeat:,} of them more than once; at least "
        "{need_buyers} buyers and {need_repeat} who came back are needed to learn how often "
        "customers return."
    ),
    "not_installed": (
        "Customer value needs an optional package that this installation lacks; install the kit "
        'with its customer-value extra (pip install "cxkit[clv]") and run the report again.'
    ),
}


def _not(run, key):
    values = {**run.notes, "need_buyers": MIN_BUYERS, "need_repeat": MIN_REPEAT_BUYERS}
    return [Finding(f"{_KEY}.{key}", _WHY[run.why], values, applies=False)]


def inputs(run):
    """Who the buyers are: how many, how many came back, their typical repeat purchase; or,
    once for the whole notebook, why the repeat-buying model cannot run (the later sections
    then return no finding)."""
    if run.why is not None:
        return _not(run, "inputs")
    s = run.summary
    repeat = s["frequency"] > 0
    values = {
        "buyers": len(s),
        "repeat": float(100 * repeat.mean()),
        "mean_repeat": float(s.loc[repeat, "frequency"].mean()),
    }
    text = (
        "**{buyers:,}** customers bought at least once; **{repeat:.0f}%** came back for "
        "another purchase, on average {mean_repeat:.1f} more times so far"
    )
    if "monetary_value" in s and repeat.any():
        values["spend"] = money_text(float(s.loc[repeat, "monetary_value"].mean()), run.currency)
        text += ", spending {spend} a purchase."
    else:
        text += (
            ". The purchases carry no amount, so the model counts purchases only: add each "
            "purchase's amount as a value column to put a money value on customers."
        )
    return [Finding(f"{_KEY}.inputs", text, values)]


def value(run):
    """Headline: the share of the expected value held by the top 20% of customers."""
    if run.why is not None:
        return []  # the first section said why
    r = run.result
    t = r.table
    values = {"top": r.top_share(0.2), "months": r.horizon_months, "buyers": len(t)}
    if r.spend_modelled:
        values["total"] = money_text(float(t["expected_value"].sum()), run.currency)
        text = (
            "The most valuable 20% of customers hold **{top:.0f}%** of the margin expected "
            "from today's {buyers:,} buyers over the next {months} months ({total} in all, "
            "later months discounted)."
            if r.margin is not None
            else "The most valuable 20% of customers hold **{top:.0f}%** of the revenue "
            "expected from today's {buyers:,} buyers over the next {months} months ({total} in "
            "all, later months discounted)."
        )
    else:
        values["total"] = float(t["expected_purchases"].sum())
        text = (
            "The 20% of customers expected to buy most make **{top:.0f}%** of the "
            "{total:,.0f} purchases expected from today's {buyers:,} buyers over the next "
            "{months} months."
        )
    return [Finding(f"{_KEY}.value", text, values, headline=True, summary=True)]


def at_risk(run):
    """Headline: repeat buyers who are probably gone, and what they brought so far."""
    if run.why is not None:
        return []  # the first section said why
    t = run.result.table
    gone = (t["p_alive"] < GONE_BELOW) & (t["frequency"] >= 1)
    values = {"n": int(gone.sum()), "pct": float(100 * gone.mean()), "threshold": 50}
    if not values["n"]:
        return [
            Finding(
                f"{_KEY}.at_risk",
                "No customer who came back has gone quiet for long enough to look lost.",
                values,
            )
        ]
    text = (
        "**{n:,}** customers who came back at least once ({pct:.0f}% of buyers) are probably "
        "gone: their chance of buying again is below {threshold}%, judged by how long they have "
        "been quiet compared with how often they used to buy"
    )
    if "monetary_value" in t:
        past = (t["monetary_value"] * t["frequency"]).to_numpy(float)
        total = past.sum()
        values["past"] = money_text(float(past[gone.to_numpy()].sum()), run.currency)
        values["past_pct"] = float(100 * past[gone.to_numpy()].sum() / total) if total else 0.0
        text += "; their repeat purchases so far came to {past} ({past_pct:.0f}% of all)."
    else:
        text += "."
    return [Finding(f"{_KEY}.at_risk", text, values, headline=True)]


def holdout(run, check):
    """How well the model predicted a period it did not see."""
    key = f"{_KEY}.holdout"
    if run.why is not None:
        return []  # the first section said why
    if check is None:
        return [
            Finding(
                key,
                "The purchase log is too short or too thin to hold back a later period and "
                "check the predictions against it.",
                applies=False,
            )
        ]
    a = check.attrs
    values = {
        "end": pd.Timestamp(a["calibration_end"]).strftime("%d %b %Y"),
        "weeks": float(a["holdout"]) * UNIT_DAYS[a["time_unit"]] / 7,
        "predicted": a["predicted_total"],
        "actual": a["actual_total"],
    }
    values["error"] = (
        100 * (values["predicted"] - values["actual"]) / values["actual"]
        if values["actual"]
        else 0.0
    )
    text = (
        "Fitted only on purchases up to {end} and asked about the {weeks:.0f} weeks after, "
        "the model expected **{predicted:,.0f}** repeat purchases; there were **{actual:,.0f}** "
        "({error:+.0f}%)."
    )
    return [Finding(key, text, values)]


def subscriptions(run, contract):
    """Remaining value of active subscribers by how long they have stayed."""
    key = f"{_KEY}.subscriptions"
    if contract is None or not len(contract):
        return [
            Finding(
                key,
                "Remaining value by tenure needs subscriptions: cancellation dates in the "
                "customers table and revenue on the events.",
                applies=False,
            )
        ]
    a = contract.attrs
    tenure = contract["tenure_days"].to_numpy(float)
    new = contract.loc[tenure <= np.quantile(tenure, 0.25), "expected_value"].mean()
    old = contract.loc[tenure >= np.quantile(tenure, 0.75), "expected_value"].mean()
    values = {
        "n": len(contract),
        "mean": money_text(float(contract["expected_value"].mean()), run.currency),
        "months": a["horizon_months"],
        "kept": float(contract["expected_months"].mean()),
        "monthly": money_text(a["monthly_margin"], run.currency),
        "new": money_text(float(new), run.currency),
        "old": money_text(float(old), run.currency),
    }
    text = (
        "An active subscriber is worth **{mean}** in margin over the next {months} months on "
        "average ({n:,} subscribers): {kept:.1f} months expected, later months discounted, at "
        "{monthly} a month. The newest quarter is worth {new} each and the longest-standing "
        "quarter {old}."
    )
    return [Finding(key, text, values)]


def actions(run):
    """What to do with the value ranking."""
    key = f"{_KEY}.actions"
    if run.why is not None:
        return []
    text = (
        "Use the ranking to decide where effort goes: keep the most valuable fifth close, "
        "reach out to the repeat buyers who have gone quiet while a win-back offer can still "
        "work, and judge any campaign by the value it protects, not by last year's spend."
    )
    return [Finding(key, text)]


def overview(run):
    """One line for notebook 00 and the index: the value headline, or why not."""
    return value(run)

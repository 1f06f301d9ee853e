"""What the churn report says, section by section, computed from the results.

One function per section of notebook 03; each takes the results (any of which may be None when
an earlier step could not run) and returns :class:`~cxkit.story.Finding` objects: the sentence,
the numbers behind it, and whether the section applies to this data.

>>> import cxkit
>>> from cxkit.churn import findings, pipeline
>>> j = cxkit.load_sample()
>>> findings.overview(j)[0].headline
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._format import count_text, duration_text, money_text, pct_text
from ..engine.frames import customers_frame
from ..story import Finding, not_applicable
from .labels import label_settings
from .pipeline import activity_problem, campaign_money, recent_churn, why_not_fit
from .reduce import FAMILY_WORDS

__all__ = [
    "dataset",
    "features",
    "model_comparison",
    "lift",
    "calibration",
    "drivers",
    "planted",
    "scores",
    "contacts",
    "campaign",
    "overview",
]

_NAMES = {"logistic": "logistic regression", "boosting": "gradient boosting"}
_NO_MODEL = "Not shown: there is no churn model for this data (see the model comparison above)."


def _skipped(journey, key):
    if journey is not None and journey.spec.skips(key):
        return not_applicable(key, "Left out: the data spec skips this section.")
    return None


def _label_words(journey, settings, *, future=False):
    """What churn means here, in words: "left" or "made no purchase" (``future``: "leave",
    "make no purchase")."""
    if settings.get("label") != "inactivity":
        return "leave" if future else "left"
    names = settings.get("activity")
    if not names:
        return "have no activity" if future else "had no activity"
    label = journey.spec.label if journey is not None else str
    return ("make no " if future else "made no ") + " or ".join(label(a) for a in names)


def _active_words(journey, settings):
    """What being active means, in words: "made a purchase" or "had any activity"."""
    names = settings.get("activity")
    if not names:
        return "had any activity"
    label = journey.spec.label if journey is not None else str
    return "made a " + " or ".join(label(a) for a in names)


def family_words(family, journey=None):
    """A feature family in words (an event name goes through the spec's labels)."""
    if family in FAMILY_WORDS:
        return FAMILY_WORDS[family]
    if journey is not None and family in journey.spec.labels:
        return journey.spec.label(family)
    return str(family).replace("_", " ")


def dataset(snap, *, journey=None):
    """Base rate and size of the snapshots (``snap``: :func:`pipeline.snapshots`)."""
    key = "churn.dataset"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    if snap.X is None:
        return [not_applicable(key, snap.why)]
    X, y = snap.X, snap.y
    per = pd.DataFrame(X.attrs["per_cutoff"])
    out = []
    if len(X) == 0:
        return [
            not_applicable(
                key,
                "No customer was active at any snapshot, so there is "
                "nothing to predict. More customers or activity would enable it.",
            )
        ]
    known = y.notna()
    values = {
        "k": len(per),
        "first": str(pd.Timestamp(per["cutoff"].min()).date()),
        "last": str(pd.Timestamp(per["cutoff"].max()).date()),
        "rows": count_text(len(X)),
        "lab": count_text(known.sum()),
        "unl": count_text((~known).sum()),
        "h": duration_text(pd.Timedelta(X.attrs["horizon"])),
        "what": _label_words(journey, X.attrs),
    }
    if known.any():
        values["rate"] = pct_text(100 * y[known].mean())
        text = (
            "We took **{k}** monthly snapshots from **{first}** to **{last}**: **{rows}** "
            "customer-snapshots, of which **{lab}** have a known outcome. On average **{rate}** "
            "of active customers {what} within {h} of a snapshot. **{unl}** rows are too "
            "recent to know and are kept for scoring only."
        )
    else:
        text = (
            "We took **{k}** monthly snapshots from **{first}** to **{last}** (**{rows}** "
            "customer-snapshots), but none is old enough for its outcome to be known: that "
            "needs {h} after a snapshot."
        )
    if X.attrs.get("label") == "inactivity":
        text += (
            " With no churn dates in the data, a customer counts as active at a snapshot when "
            "they {did} in the {lb} before it, and as churned when they {what} in the {h} "
            "after it."
        )
        values["lb"] = duration_text(pd.Timedelta(X.attrs["lookback"]))
        values["did"] = _active_words(journey, X.attrs)
    out.append(Finding(key, text, values))
    no_dates = journey is not None and customers_frame(journey)["churned_at"].isna().all()
    if X.attrs.get("label") == "churned_at" and no_dates:
        out.append(
            Finding(
                "churn.no_churn_dates",
                "No customer in the data has a churn date yet, so nobody counts as having left. "
                "If customers are lost by going quiet rather than by cancelling, declare the "
                "business non-contractual in the data spec.",
                {},
            )
        )
    if snap.left_out:
        out.append(
            Finding(
                "churn.left_out",
                "Left out as features because they are recorded as of today, not at signup: "
                "**{cols}**.",
                {"cols": ", ".join(map(str, snap.left_out))},
            )
        )
    return out


def features(X, *, journey=None):
    """How many features and which families this data gives."""
    key = "churn.features"
    if X is None or len(X) == 0:
        return [not_applicable(key, "No features: there are no snapshots (see above).")]
    fam = X.attrs.get("feature_family", {})
    fams = list(dict.fromkeys(fam.get(c, c) for c in X.columns))
    words = [family_words(f, journey) for f in fams]
    return [
        Finding(
            key,
            "**{n}** features in **{f}** families: {names}.",
            {"n": X.shape[1], "f": len(fams), "names": ", ".join(words)},
        )
    ]


_METRIC_WORDS = {
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "brier": "Brier score",
    "log_loss": "log loss",
}


def _diff_values(result, metric, prefix, digits=3):
    """The paired difference (other − simpler model) of one metric as finding values, rounded
    as shown (so that a tiny negative difference does not read "-0.000")."""
    d = result.differences_.loc[metric]
    return {
        f"{prefix}{end}": round(float(d[col]), digits) + 0.0
        for end, col in (("", "difference"), ("_lo", "ci_low"), ("_hi", "ci_high"))
    }


def model_comparison(result, X=None, y=None, *, journey=None):
    """Which model is chosen and how well it ranks churners out of time (the headline).

    The choice and the sentence come from the same numbers: the paired bootstrap difference
    of the two models on the same resampled customers (``result.differences_``); the simpler
    model is used unless the other is clearly better on the selection metric.
    """
    key = "churn.models"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    if result is None:
        why = why_not_fit(X, y) or (
            "No two snapshots are far enough apart, each with churners and customers who "
            "stayed, to test a model on later months. A longer history would enable it."
        )
        return [not_applicable(key, "No churn model: " + why[:1].lower() + why[1:])]
    t, best = result.table, result.best_
    other = next(m for m in t.index if m != best)
    head = Finding(
        key,
        "Tested on later months it never saw, **{m}** ranks churners with ROC AUC **{auc:.2f}** "
        "(95% interval {lo:.2f}–{hi:.2f}); the riskiest 10% of customers churn **{lift:.1f}×** "
        "as often as average.",
        {
            "m": _NAMES.get(best, best),
            "auc": float(t.loc[best, "roc_auc"]),
            "lo": float(t.loc[best, "roc_auc_ci_low"]),
            "hi": float(t.loc[best, "roc_auc_ci_high"]),
            "lift": float(t.loc[best, "lift_at_10pct"]),
        },
        headline=True,
    )
    select = result.notes_.get("select", "log_loss")
    diffs = result.differences_
    simple = str(diffs["versus"].iloc[0]) if len(diffs) else best
    complex_ = next(m for m in t.index if m != simple)
    values = {
        "chosen": _NAMES.get(best, best),
        "simple": _NAMES.get(simple, simple),
        "complex": _NAMES.get(complex_, complex_),
        "Complex": _NAMES.get(complex_, complex_).capitalize(),
        "other": _NAMES.get(other, other).capitalize(),
        "base": pct_text(t.loc[best, "base_rate"]),
        "pr": float(t.loc[best, "pr_auc"]),
        "metric": _METRIC_WORDS.get(select, select),
    }
    if diffs.empty:
        text = (
            "Without bootstrap replicates the two models cannot be told apart, so the simpler "
            "{simple} is used."
        )
    else:
        values.update(_diff_values(result, "roc_auc", "d_auc"))
        auc = (
            "ROC AUC {d_auc:+.3f} for {complex} against {simple} (95% interval {d_auc_lo:+.3f} "
            "to {d_auc_hi:+.3f}, the same customers resampled for both)"
        )
        sel = ""
        if select != "roc_auc":
            values.update(_diff_values(result, select, "d_sel", 4))
            sel = "; {metric} {d_sel:+.4f} ({d_sel_lo:+.4f} to {d_sel_hi:+.4f}, lower is better)"
            if select == "pr_auc":
                sel = "; {metric} {d_sel:+.3f} ({d_sel_lo:+.3f} to {d_sel_hi:+.3f})"
        ahead = diffs.loc[select, "favours"] != simple
        if best == simple and ahead:
            text = (
                "{Complex} is not clearly better: " + auc + sel + ". The simpler {simple} is "
                "used, because the other's advantage on {metric}, the measure the choice is "
                "made on, could be zero."
            )
        elif best == simple:
            text = "{Complex} is no better: " + auc + sel + ". The simpler {simple} is used."
        else:
            text = (
                "{Complex} is clearly better on {metric}, the measure the choice is made on: "
                + auc
                + sel
                + ". Its advantage excludes zero, so it is used instead of the simpler {simple}."
            )
    body = Finding(
        "churn.models_compared",
        text + " The base rate is **{base}**, against a PR AUC of **{pr:.3f}** for {chosen}.",
        values,
    )
    return [head, body]


def _chosen(table, result):
    return table[table["model"] == result.best_]


def lift(result, gains, *, journey=None):
    """How many churners a short list of the riskiest reaches."""
    key = "churn.lift"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    if result is None or gains is None:
        return []  # the calibration beside it says that there is no model
    g = _chosen(gains, result)
    x, r = g["pct_contacted"].to_numpy(float), g["pct_churners_reached"].to_numpy(float)
    return [
        Finding(
            key,
            "Contacting the riskiest **20%** reaches **{g20:.0f}%** of churners, and the riskiest "
            "half **{g50:.0f}%**.",
            {"g20": float(np.interp(20, x, r)), "g50": float(np.interp(50, x, r))},
        )
    ]


def calibration(result, cal, *, journey=None):
    """Whether the predicted probabilities match what happened."""
    key = "churn.calibration"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    if result is None or cal is None:
        return [not_applicable(key, _NO_MODEL)]
    c = _chosen(cal, result)
    w = c["n"].to_numpy(float)
    gap = float(np.average((c["observed"] - c["predicted"]).abs(), weights=w))
    return [
        Finding(
            key,
            "Predicted and observed churn differ by **{gap:.1f} percentage points** on average "
            "across risk groups (the base rate is {base}).",
            {"gap": gap, "base": pct_text(result.table.loc[result.best_, "base_rate"])},
        )
    ]


def drivers(importance, *, journey=None, top=5):
    """The feature families the model relies on (only those in the data, clearly above noise)."""
    key = "churn.drivers"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    if importance is None:
        return [not_applicable(key, _NO_MODEL)]
    has_ci = importance["ci_low"].notna().any()
    strong = (
        importance[importance["ci_low"] > 0]
        if has_ci
        else importance[importance["importance"] > 0]
    )
    if strong.empty:
        return [
            Finding(
                key,
                "No family of features stands out from noise: scrambling any one "
                "of them leaves the ranking about as good.",
                {},
            )
        ]
    out = []
    for i, row in enumerate(strong.head(top).itertuples(), start=1):
        words = family_words(row.family, journey)
        out.append(
            Finding(
                f"{key}.{i}",
                "{i}. **{w}**: without it the model ranks churners {imp:.3f} worse in ROC AUC"
                + (" (95% interval {lo:.3f} to {hi:.3f})." if has_ci else "."),
                {
                    "i": i,
                    "w": words[:1].upper() + words[1:],
                    "imp": float(row.importance),
                    "lo": float(row.ci_low),
                    "hi": float(row.ci_high),
                    "family": row.family,
                },
            )
        )
    return out


def planted(importance, truth):
    """On simulated data only: are the planted drivers found? ([] without a truth file)."""
    if importance is None or not truth or "churn" not in truth:
        return []
    fams = [d["feature_family"] for d in truth["churn"].get("drivers", [])]
    planted_f = list(dict.fromkeys(fams))
    imp = importance.set_index("family")
    found = imp.reindex(planted_f)
    hits = int((found["rank"] <= len(planted_f)).sum())
    det = int((found["ci_low"] > 0).sum())
    out = [
        Finding(
            "churn.planted",
            "The simulator planted churn drivers in **{n}** families; **{hits}** of them rank "
            "among the model's top {n}, and **{det}** have an importance clearly above zero.",
            {"n": len(planted_f), "hits": hits, "det": det},
        )
    ]
    missed = [family_words(f) for f in planted_f if not found.loc[f, "ci_low"] > 0]
    if missed:
        out.append(
            Finding(
                "churn.planted_missed",
                "Not detected: **{m}**. A planted effect can be real yet invisible to a model if "
                "the touchpoints that reveal it are too sparse in the data.",
                {"m": ", ".join(missed)},
            )
        )
    return out


def _clear_families(importance):
    """Family words the importance table draws as clearly above noise (interval above 0)."""
    if importance is None or not len(importance):
        return None
    has_ci = importance["ci_low"].notna().any()
    clear = importance["ci_low"] > 0 if has_ci else importance["importance"] > 0
    return set(importance.loc[clear, "words"].astype(str))


def scores(table, result, *, importance=None, journey=None):
    """Today's scored customers: how many, how many expected to leave, the usual top reason.

    The top reason is named only when it agrees with ``importance`` (from
    :func:`~cxkit.churn.driver_importance`): the most common first reason among the riskiest
    10% whose family the model clearly relies on. Without ``importance`` no reason is named.
    """
    key = "churn.scores"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    if result is None:
        return []  # the campaign above says that there is no model
    if table is None or len(table) == 0:
        return [not_applicable(key, "No customer is active today, so there is no one to score.")]
    h = duration_text(pd.Timedelta(result.spec_["horizon"]))
    values = {
        "n": count_text(len(table)),
        "leavers": count_text(table["churn_probability"].sum()),
        "h": h,
        "what": _label_words(journey, result.spec_, future=True),
    }
    text = (
        "**{n}** customers active today are scored; about **{leavers}** of them are expected "
        "to {what} within {h}."
    )
    clear = _clear_families(importance)
    if table.get("reason_1") is not None and clear:
        top = table["reason_1"].head(max(len(table) // 10, 1))
        top = top[top.isin(clear)]
        if len(top):
            values["reason"] = str(top.mode().iloc[0])
            text += (
                " Most common first reason among the riskiest 10%, of the families the model "
                "clearly relies on: **{reason}**."
            )
    return [Finding(key, text, values)]


def _amount(value, currency):
    return money_text(value, currency)


def _assumptions(money):
    """(template, values) of the sentence stating the money assumptions."""
    cur = money["currency"]
    values = {
        "cc": _amount(money["contact_cost"], cur),
        "oc": _amount(money["offer_cost"], cur),
        "os": 100 * float(money["offer_success"]),
    }
    text = (
        "Assumptions used: contact cost **{cc}**, offer cost **{oc}**, offer success **{os:.0f}%**"
    )
    if money.get("margin_column"):
        text += ", margin from the events' **{mc}** column."
        values["mc"] = money["margin_column"]
    else:
        text += ", margin **{mr:.0f}%** of revenue."
        values["mr"] = 100 * float(money["margin_rate"])
    if money["assumed"]:
        values["names"] = ", ".join(k.replace("_", " ") for k in money["assumed"])
        text += (
            " The data spec does not give the {names}: these are the kit's defaults, "
            "assumptions to replace in the spec's money section."
        )
    if not cur:
        text += (
            " Amounts are in the units of the events' revenue: the data spec names no currency "
            "(add currency to its money section)."
        )
    return text, values


def campaign(held_out, today, money, *, journey=None):
    """What a retention campaign is worth: on the last checked month, and today."""
    key = "churn.campaign"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    if money is not None and money.get("monthly_margin") is None:
        return [
            not_applicable(
                key,
                "No campaign value: the events carry no revenue (a value column) and the data "
                "spec names no margin column, so what a kept customer is worth is unknown. Add "
                "revenue to the events, or [money] margin_column to the data spec.",
                needs="revenue",
            )
        ]
    if held_out is None or money is None or money.get("customer_value") is None:
        return [not_applicable(key, _NO_MODEL)]
    cur = money["currency"]
    out = [Finding("churn.money", *_assumptions(money))]
    b = held_out.attrs.get("in_sample_best") or held_out.attrs["best"]
    chosen = held_out.attrs.get("chosen")
    values = {
        "v": _amount(money["customer_value"], cur),
        "m": money["months_kept"],
        "mm": _amount(money["monthly_margin"], cur),
        "dr": 100 * float(money.get("discount_rate") or 0),
        "n": count_text(len(held_out) - 1),
        "bk": count_text(b["n_contacted"]),
        "bpct": pct_text(b["pct_contacted"]),
        "bp": _amount(b["profit"], cur),
        "os": 100 * float(money["offer_success"]),
    }
    if money.get("value_rule") == "tenure":
        text = (
            "A customer kept is worth the margin they would still bring in over the next 12 "
            "months given how long they have already stayed (read from the retention curve of "
            "all customers), discounted at {dr:.0f}% a year: about **{v}** for today's average "
            "active customer ({m:.1f} expected months × {mm} margin a month). The campaign "
            "below values each customer by their own tenure. "
        )
    elif money.get("value_rule") == "purchases":
        text = (
            "A customer kept is worth the margin the repeat-buying model expects from them over "
            "the next 12 months while they stay, discounted at {dr:.0f}% a year: about **{v}** "
            "on average, more for frequent and recent buyers (see the customer-value report). "
            "The campaign below values each customer today by their own purchases. "
        )
    else:
        text = (
            "A customer kept is worth about **{v}** ({m:.1f} expected months over the next 12 × "
            "{mm} margin a month, discounted at {dr:.0f}% a year). The data has no churn dates, "
            "so how long a customer has already stayed cannot be used: the months assume the "
            "recent churn rate holds, the same for every customer. "
        )
    if chosen is not None:
        values.update(
            k=count_text(chosen["n_contacted"]),
            pct=pct_text(chosen["pct_contacted"]),
            p=_amount(chosen["profit"], cur),
            n0=count_text(chosen["chosen_on"]),
            lo=_amount(chosen["ci_low"], cur),
            hi=_amount(chosen["ci_high"], cur),
        )
    if chosen is not None and chosen["n_contacted"] == 0:
        text += (
            "On the month before the last one we could check ({n0} customers) no share of the "
            "riskiest customers paid for the offer, so the campaign chosen there contacts nobody "
            "and earns nothing on the last month (**{n}** customers). For comparison, the best "
            "share picked in hindsight on the last month itself, {bpct} ({bk} contacted), would "
            "have earned {bp}: "
            "chosen on the same outcomes it is scored on, that figure flatters the campaign."
        )
    elif chosen is not None:
        text += (
            "Contacting the riskiest **{pct}** of customers paid best on the month before the "
            "last one we could check ({n0} customers); on the last month (**{n}** customers) "
            "that share (**{k}** contacted) earned **{p}** net (95% interval {lo} to {hi}, "
            "from resampling that month's customers)"
        )
        if chosen["ci_low"] <= 0 <= chosen["ci_high"]:
            text += ": the interval includes zero, so the campaign may well not pay"
        text += (
            ". For comparison, the best share picked in hindsight on the last month itself, "
            "{bpct} ({bk} contacted), would have earned {bp}: chosen on the same outcomes it is "
            "scored on, that figure flatters the campaign."
        )
    else:
        values.update(k=values["bk"], pct=values["bpct"], p=values["bp"])
        text += (
            "Only one month could be checked, so the depth is the best in hindsight on that "
            "month (**{n}** customers): contacting the riskiest **{k}** ({pct}) would have "
            "earned **{p}** net, a figure that flatters the campaign because it is chosen on "
            "the outcomes it is scored on."
        )
    text += (
        " These profits rest on an assumption: the model ranks who is likely to leave, not "
        "whom the offer would change, and the offer is assumed to keep **{os:.0f}%** of the "
        "contacted customers who would otherwise have left (the offer success). Customers who "
        "would have stayed anyway gain nothing from it; only a test with a held-back group can "
        "measure what the offer really does."
    )
    out.append(Finding(key, text, values))
    if today is not None:
        bt = today.attrs["best"]
        if bt["n_contacted"] > 0:
            out.append(
                Finding(
                    "churn.campaign_today",
                    "Today the best campaign contacts the **{k}** riskiest customers for an expected "
                    "net value of **{p}**.",
                    {"k": count_text(bt["n_contacted"]), "p": _amount(bt["profit"], cur)},
                )
            )
        else:
            out.append(
                Finding(
                    "churn.campaign_today",
                    "Today no group of customers is risky enough for the offer to pay for itself.",
                    {},
                )
            )
    return out


def contacts(contact_list, *, journey=None):
    """Who to contact now: how many, the expected gain, and where the list is."""
    key = "churn.contact_now"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    if contact_list is None:
        return []
    if not len(contact_list):
        return [
            Finding(
                key,
                "No customer is on today's contact list: for none is the offer expected to "
                "pay for its cost.",
            )
        ]
    return [
        Finding(
            key,
            "**{n}** customers are worth contacting now. The riskiest are listed below with "
            "their churn probability, the expected gain of contacting each and their top "
            "reasons; the report writes the whole list as a spreadsheet (contact_now.csv).",
            {"n": count_text(len(contact_list))},
        )
    ]


def overview(journey):
    """One or two short findings for notebook 00 and the index (cheap: labels only).

    The first (``headline=True``) is recent churn in words for the business model; the second
    (``summary=True``), only when revenue makes money computable, is the margin at risk if the
    recent rate holds.
    """
    key = "churn.recent"
    if (skip := _skipped(journey, key)) is not None:
        return [skip]
    if (
        journey.business_model == "contractual"
        and customers_frame(journey)["churned_at"].isna().all()
    ):
        return [
            not_applicable(
                key,
                "No customer has a churn date yet, so recent churn cannot "
                "be measured. Add churned_at to customers, or declare the "
                "business non-contractual in the data spec.",
            )
        ]
    problem = activity_problem(journey, label_settings(journey))
    if problem is not None:
        return [not_applicable(key, problem)]
    rc = recent_churn(journey)
    if rc is None or rc["active"] == 0:
        return [
            not_applicable(
                key,
                "The data is too short to measure recent churn: it needs "
                "customers active at least one horizon before the data ends.",
            )
        ]
    pct = 100 * rc["churned"] / rc["active"]
    values = {
        "n": count_text(rc["active"]),
        "k": count_text(rc["churned"]),
        "pct": pct_text(pct),
        "date": str(rc["cutoff"].date()),
        "h": duration_text(rc["horizon"]),
        "lb": duration_text(rc["lookback"]),
        "what": _label_words(journey, rc),
    }
    if rc["label"] == "inactivity":
        text = (
            "Of the **{n}** customers who {did} in the {lb} before {date}, **{k}** (**{pct}**) "
            "{what} in the {h} after it."
        )
        values["did"] = _active_words(journey, rc)
    else:
        text = (
            "Of the **{n}** customers active on {date}, **{k}** (**{pct}**) left in the {h} "
            "after it."
        )
    out = [Finding(key, text, values, headline=True)]
    money = campaign_money(journey, base_rate=pct, horizon=rc["horizon"])
    if money["customer_value"] is not None and rc["active_now"]:
        leavers = rc["active_now"] * pct / 100
        risk = leavers * money["customer_value"]
        note = (
            " (assuming a margin of {rate:.0f}% of revenue)"
            if "margin_rate" in money["assumed"]
            else ""
        )
        out.append(
            Finding(
                "churn.at_risk",
                "At that rate about **{l}** of today's **{now}** active customers will be lost in "
                "the next {h}, taking about **{risk}** of margin over the next year with them"
                + note
                + ".",
                {
                    "l": count_text(leavers),
                    "now": count_text(rc["active_now"]),
                    "h": values["h"],
                    "risk": _amount(risk, money["currency"]),
                    "rate": 100 * float(money["margin_rate"]),
                },
                summary=True,
            )
        )
    return out

"""The churn analysis as the report runs it: each step returns its result, or None with the
reason when the data cannot support it (too short, too few churners, no revenue).

>>> import cxkit
>>> from cxkit.churn import pipeline
>>> snap = pipeline.snapshots(cxkit.load_sample())
>>> snap.why is None, len(snap.X) > 1000
(True, True)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._format import count_text, duration_text
from ..clv.contractual import _MONTH, VALUE_MONTHS, remaining_months  # moved there (issue 14)
from ..data import DataError
from ..data.profile import signup_attributes
from ..engine.frames import customers_frame, has_events
from ..engine.journey import is_engine
from .labels import label_settings, rows_and_labels
from .reduce import _bad

__all__ = [
    "MIN_CHURNERS",
    "Snapshots",
    "snapshots",
    "why_not_fit",
    "fit",
    "score_today",
    "campaign_money",
    "remaining_months",
    "recent_churn",
    "MONEY_DEFAULTS",
    "campaign_tables",
    "customer_values",
    "today_values",
]

#: A model is fitted only with at least this many churners and as many who stayed (labelled).
MIN_CHURNERS = 20

#: What the campaign assumes where the spec's ``[money]`` is silent (said so in the report).
MONEY_DEFAULTS = {
    "currency": "",
    "margin_rate": 0.3,
    "contact_cost": 1.0,
    "offer_cost": 5.0,
    "offer_success": 0.3,
    "discount_rate": 0.1,
}


@dataclass
class Snapshots:
    """Features and labels at monthly cutoffs (``X``, ``y``), or ``why`` they could not be made."""

    X: pd.DataFrame | None = None
    y: pd.Series | None = None
    settings: dict = field(default_factory=dict)
    left_out: list = field(default_factory=list)
    why: str | None = None


def activity_problem(journey, settings):
    """A sentence when the spec's activity events occur nowhere in the events, else None."""
    names = settings.get("activity")
    if settings.get("label") != "inactivity" or not names:
        return None
    if has_events(journey, names):
        return None
    return (
        "The data spec counts only some events as activity, and none of them occurs in the "
        "events table, so nobody counts as active. Fix the activity list in the spec's business "
        "section."
    )


def snapshots(journey, *, lookback=None, horizon=None, freq="MS"):
    """:func:`~cxkit.churn_dataset` at month starts, with the settings used and the customer
    attributes left out (recorded as of today); ``why`` says what is missing when the data is
    too short for a single snapshot."""
    from .reduce import churn_dataset

    settings = label_settings(journey, lookback=lookback, horizon=horizon)
    known = set(signup_attributes(journey)) | {"customer_id", "signup_at", "churned_at"}
    customers = customers_frame(journey)
    left_out = [c for c in customers.columns if c not in known]
    if len(customers) == 0:
        return Snapshots(settings=settings, why="There are no customers in the data.")
    if (why := activity_problem(journey, settings)) is not None:
        return Snapshots(settings=settings, left_out=left_out, why=why)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X, y = churn_dataset(
                journey,
                freq,
                lookback=settings["lookback"],
                horizon=settings["horizon"],
                label=settings["label"],
            )
    except DataError:
        span = journey.observed_at - customers["signup_at"].min()
        why = (
            f"The data covers {duration_text(span)} from the first signup, too short for a "
            f"monthly snapshot with {duration_text(settings['lookback'])} of history before "
            "it. More history would enable this analysis."
        )
        return Snapshots(settings=settings, left_out=left_out, why=why)
    return Snapshots(X, y, settings, left_out)


def why_not_fit(X, y):
    """None when a model can be fitted and tested out of time on ``X, y``; else the reason, in
    one sentence that says what would enable it."""
    if X is None or y is None:
        return "There are no snapshots to learn from (see above)."
    if len(X) == 0:
        return "No customer was active at any snapshot, so there is nothing to learn from."
    known = y.notna()
    churners, stayed = int((y == 1).sum()), int((y == 0).sum())
    cuts = X.index.get_level_values("cutoff")[known.to_numpy()].unique()
    if known.sum() == 0:
        return (
            "No snapshot is old enough for its outcome to be known yet (the label needs "
            f"{duration_text(pd.Timedelta(X.attrs['horizon']))} after it). More history would "
            "enable a model."
        )
    if churners < MIN_CHURNERS or stayed < MIN_CHURNERS:
        few = "churners" if churners < MIN_CHURNERS else "customers who stayed"
        return (
            f"There are {count_text(churners)} churners and {count_text(stayed)} customers who "
            f"stayed among the snapshots with a known outcome; a model needs at least "
            f"{MIN_CHURNERS} {few}. More customers or a longer history would enable it."
        )
    if len(cuts) < 2:
        return (
            "Only one snapshot has a known outcome; testing a model on later months needs at "
            "least two. A longer history would enable it."
        )
    return None


def fit(X, y, **kwargs):
    """:func:`~cxkit.compare_models` when :func:`why_not_fit` allows it, else None (also None
    when no two cutoffs are far enough apart for an out-of-time test)."""
    from .models import compare_models

    if why_not_fit(X, y) is not None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return compare_models(X, y, **kwargs)
    except DataError:
        return None


def score_today(journey, result):
    """:func:`~cxkit.score` at ``observed_at``, or None without a model or active customers."""
    from .evaluate import score

    if result is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = score(journey, result)
    except (DataError, ValueError):
        return None
    return out if len(out) else None


def _monthly_margin(journey, margin_rate, column):
    """Average margin per active customer per month over the last 90 days, or None."""
    ev = journey.events
    end = pd.Timestamp(journey.observed_at)
    if is_engine(journey):
        people, total, rate = _recent_spend_engine(journey, column, margin_rate, end)
        if people is None:
            return None
        if people == 0 or total <= 0:
            return None
        return rate * total / people / (90 / _MONTH)
    if column is not None and column in ev.columns:
        amount = pd.to_numeric(ev[column], errors="coerce")
        rate = 1.0
    elif "value" in ev.columns:
        amount, rate = pd.to_numeric(ev["value"], errors="coerce"), margin_rate
    else:
        return None
    recent = (ev["timestamp"] > end - pd.Timedelta("90D")).to_numpy()
    mine = ev["customer_id"].isin(journey.customers["customer_id"]).to_numpy() & recent
    people = ev.loc[mine, "customer_id"].nunique()
    total = float(np.nansum(amount.to_numpy(float)[mine]))
    if people == 0 or total <= 0:
        return None
    return rate * total / people / (90 / _MONTH)


def _recent_spend_engine(journey, column, margin_rate, end):
    """(people, total amount, rate) of :func:`_monthly_margin` counted in the engine; people
    is None when the events carry no amount."""
    ev = journey.events
    if column is not None and column in ev.columns:
        amount, rate = ev[column].try_cast("float64"), 1.0
    elif "value" in ev.columns:
        amount, rate = ev["value"].cast("float64"), margin_rate
    else:
        return None, None, None
    from ..engine.retention import _lit

    cu = journey.customers
    recent = ev.filter(ev.timestamp > _lit(end - pd.Timedelta("90D"))).mutate(amount=amount)
    mine = recent.semi_join(cu, "customer_id")
    got = journey.execute(
        mine.aggregate(people=mine.customer_id.nunique(), total=mine.amount.sum())
    ).iloc[0]
    total = float(got["total"]) if pd.notna(got["total"]) else 0.0
    return int(got["people"]), total, rate


def _value_curve(journey):
    """The Kaplan–Meier curve of the journey's customers and their survival table, or None
    without churn dates (non-contractual data)."""
    from ..retention import kaplan_meier, survival_table

    churned = customers_frame(journey).get("churned_at")
    if journey.business_model != "contractual" or churned is None or churned.isna().all():
        return None
    table = survival_table(journey)
    return kaplan_meier(table), table


def campaign_money(journey, *, base_rate=None, horizon=None, value_model="clv", **given):
    """The money of a retention campaign: the spec's ``[money]``, the keywords given (they win),
    the kit's assumed defaults elsewhere; and the value of a customer kept.

    A kept customer is worth their monthly margin (revenue of the last 90 days per active
    customer × ``margin_rate``, or a ``margin_column`` of events) times the months they are
    expected to stay over the next 12, discounted at ``discount_rate`` a year. With churn dates
    the months depend on how long each customer has already stayed
    (:func:`remaining_months` on the Kaplan–Meier curve: ``value_rule == "tenure"``);
    without them (non-contractual data) each buyer is worth the margin the repeat-buying model
    expects from them over the next 12 months while still a customer
    (:func:`cxkit.clv.kept.kept_values`: ``value_rule == "purchases"``), when the optional
    extra ``clv`` is installed and there are enough repeat buyers with amounts; else (or with
    ``value_model="constant"``) the churn rate ``base_rate`` (% per ``horizon``) is assumed to
    stay as it was, the same for everyone (``value_rule == "constant"``).

    Returns
    -------
    dict
        ``currency``, ``margin_rate``, ``contact_cost``, ``offer_cost``, ``offer_success``,
        ``discount_rate``, ``assumed`` (the keys taken from the defaults), ``monthly_margin``,
        ``months_kept`` and ``customer_value`` (the average over today's active customers;
        None when the events carry no revenue), ``value_rule``, ``customer_values`` (per
        active customer id, or None) and ``curve`` (to value customers at other dates).
    """
    spec = dict(journey.spec.money or {})
    out, assumed = {}, []
    for key, default in MONEY_DEFAULTS.items():
        if given.get(key) is not None:
            out[key] = given[key]
        elif spec.get(key) is not None:
            out[key] = spec[key]
        else:
            out[key] = default
            if key != "currency":
                assumed.append(key)
    column = spec.get("margin_column")
    if column is not None and "margin_rate" in assumed:
        assumed.remove("margin_rate")
    monthly = _monthly_margin(journey, float(out["margin_rate"]), column)
    rate = out["discount_rate"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise _bad(
            "campaign_money()", "discount_rate", "a number from 0 to 1 a year (0.1 is 10%)", [rate]
        )
    rate = float(rate)
    months, rule, per_customer, curve, signup = None, None, None, None, None
    found = _value_curve(journey) if monthly is not None else None
    if found is not None:
        curve, table = found
        active = table[~table["churned"].astype(bool)]
        if len(active):
            kept = remaining_months(curve, active["duration_days"], discount_rate=rate)
            per_customer = pd.Series(
                monthly * kept, index=active["customer_id"].to_numpy(), name="customer_value"
            )
            months, rule = float(kept.mean()), "tenure"
            signup = table.set_index("customer_id")["signup_at"]
    if rule is None and monthly is not None and value_model == "clv":
        from ..clv.kept import kept_values

        per_customer = kept_values(
            journey,
            months=VALUE_MONTHS,
            discount_rate=rate,
            margin_rate=float(out["margin_rate"]),
            margin_column=column,
        )
        if per_customer is not None:
            rule = "purchases"
    if rule is None and monthly is not None and base_rate is not None and horizon is not None:
        h_days = pd.Timedelta(horizon) / pd.Timedelta(days=1)
        keep = (1 - min(max(base_rate / 100, 0.0), 1.0)) ** (_MONTH / h_days)
        discount = (1 + rate) ** (-1 / 12)
        months = float(sum((keep * discount) ** m for m in range(VALUE_MONTHS)))
        rule = "constant"
    out.update(
        assumed=assumed,
        margin_column=column,
        monthly_margin=monthly,
        months_kept=months,
        customer_value=float(per_customer.mean())
        if rule == "purchases"
        else (None if months is None else monthly * months),
        value_rule=rule,
        customer_values=per_customer,
        curve=curve if rule == "tenure" else None,
        signup_at=signup,
    )
    return out


def customer_values(money, customer_ids, at):
    """Value of keeping each customer (``customer_ids``) as of ``at`` (one date, or one per
    customer): by their tenure then under the ``"tenure"`` rule, else ``customer_value``."""
    n = len(customer_ids)
    if money.get("value_rule") != "tenure":
        return np.full(n, float(money["customer_value"]))
    signup = pd.DatetimeIndex(money["signup_at"].reindex(pd.Index(customer_ids)))
    at = pd.DatetimeIndex([at] * n if np.ndim(at) == 0 else at)
    tenure = (at - signup) / pd.Timedelta(days=1)
    tenure = np.clip(np.nan_to_num(np.asarray(tenure, float)), 0, None)
    kept = remaining_months(money["curve"], tenure, discount_rate=float(money["discount_rate"]))
    return float(money["monthly_margin"]) * kept


def recent_churn(journey):
    """Churn in the most recent horizon whose end is observed: customers active at
    ``observed_at - horizon`` and how many of them churned by ``observed_at`` (labels only,
    no features: cheap). None when the data is too short or has no customers."""
    settings = label_settings(journey)
    cut = pd.Timestamp(journey.observed_at) - settings["horizon"]
    customers = customers_frame(journey)
    if len(customers) == 0 or not (customers["signup_at"] < cut).any():
        return None
    if activity_problem(journey, settings) is not None:
        return None
    if is_engine(journey):  # the two label counts in SQL
        from ..engine.labels import label_counts

        got = label_counts(journey, [cut, journey.observed_at], settings)
        return {
            **settings,
            "cutoff": cut,
            "active": int(got["active"].iloc[0]),
            "churned": int(got["churned"].iloc[0]),
            "active_now": int(got["active"].iloc[1]),
        }
    from .reduce import _codes_of

    index = pd.Index(customers["customer_id"].astype(object))
    lab = rows_and_labels(journey, pd.DatetimeIndex([cut]), index, **settings, codes=_codes_of)
    now = rows_and_labels(
        journey, pd.DatetimeIndex([journey.observed_at]), index, **settings, codes=_codes_of
    )
    return {
        **settings,
        "cutoff": cut,
        "active": len(lab["ci"]),
        "churned": int(np.nansum(lab["label"])),
        "active_now": len(now["ci"]),
    }


def campaign_tables(result, scores, money, *, n_boot=500, random_state=0):
    """:func:`~cxkit.campaign_value` on the last month the model was tested on (realised) and on
    today's ``scores`` (expected); ``(None, None)`` without a model or a customer value.

    The depth is chosen out of sample: the share of customers (% contacted, riskiest first) that
    earns most on the second-to-last tested month is applied to the last one, and its realised
    profit there is ``.attrs["chosen"]`` of the first table (``pct_contacted``, ``n_contacted``,
    ``profit``, ``chosen_on``: customers of the month it was chosen on). ``.attrs["best"]`` stays
    the best depth in hindsight on the last month itself (``in_sample_best`` too): optimistic,
    for comparison only. With a single tested month ``chosen`` is None. ``chosen`` also holds a
    bootstrap interval of the realised profit (``ci_low``, ``ci_high``, 95%, ``n_boot``
    resamples of the last month's customers, seeded by ``random_state``;
    :func:`~cxkit.churn.evaluate.profit_interval`).
    """
    from .evaluate import campaign_value, profit_interval

    if result is None or money is None or money.get("customer_value") is None:
        return None, None
    costs = {k: float(money[k]) for k in ("contact_cost", "offer_cost", "offer_success")}
    pr = result.predictions_
    col = f"p_{result.best_}"
    folds = np.sort(pr["fold"].unique())

    def value_of(rows):
        if money.get("value_rule") != "tenure" or "cutoff" not in (rows.index.names or []):
            return money["customer_value"]
        ids = rows.index.get_level_values("customer_id")
        return customer_values(money, ids, rows.index.get_level_values("cutoff"))

    def realised(rows):
        return campaign_value(rows[col], rows["churned"], customer_value=value_of(rows), **costs)

    last = pr[pr["fold"] == folds[-1]]
    held_out = realised(last)
    chosen = None
    if len(folds) >= 2:
        earlier = realised(pr[pr["fold"] == folds[-2]])
        share = earlier.attrs["best"]["pct_contacted"]
        n = len(held_out) - 1
        k = int(round(share / 100 * n))
        chosen = {
            "pct_contacted": 100 * k / n,
            "n_contacted": k,
            "profit": float(held_out["profit"].iloc[k]),
            "chosen_pct": float(share),
            "chosen_on": len(earlier) - 1,
        }
        ci = profit_interval(
            last[col],
            last["churned"],
            pct_contacted=chosen["pct_contacted"],
            customer_value=value_of(last),
            n_boot=n_boot,
            random_state=random_state,
            **costs,
        )
        chosen.update(ci_low=ci["ci_low"], ci_high=ci["ci_high"], n_boot=ci["n_boot"])
    held_out.attrs["chosen"] = chosen
    held_out.attrs["in_sample_best"] = dict(held_out.attrs["best"])
    today = None
    if scores is not None and len(scores):
        today = campaign_value(scores, customer_value=today_values(scores, money), **costs)
    return held_out, today


def today_values(scores, money):
    """Value of keeping each scored customer today (``money["customer_values"]`` by
    ``customer_id``, the average ``customer_value`` for anyone it lacks)."""
    per = money.get("customer_values")
    if per is None or "customer_id" not in getattr(scores, "columns", ()):
        return float(money["customer_value"])
    got = per.reindex(pd.Index(scores["customer_id"])).to_numpy(float)
    return np.where(np.isnan(got), float(money["customer_value"]), got)

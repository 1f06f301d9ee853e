"""What each repeat buyer is worth: BG/NBD purchases and P(alive), Gamma-Gamma spend, and the
discounted value over a horizon (pymc-marketing, the optional extra ``clv``)."""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd

from .._args import jsonable, require_columns
from ..data import DataError, Journey
from . import backend
from .summary import UNIT_DAYS, clv_summary

__all__ = ["clv", "CLVResult", "horizon_months", "MIN_REPEAT_BUYERS"]

#: Spend is modelled only with at least this many repeat buyers with a positive amount.
MIN_REPEAT_BUYERS = 20

_SOURCE = "clv()"
_DEFAULT_DISCOUNT = 0.1  # a year, as the campaign's value of a kept customer


def horizon_months(horizon):
    """Whole months in a horizon written ``"12M"``, ``"1Y"``, ``"26W"``, ``"90D"`` (rounded,
    at least 1).

    >>> horizon_months("12M"), horizon_months("2Y"), horizon_months("90D")
    (12, 24, 3)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([DWMY])\s*", str(horizon).upper())
    if m is None:
        raise DataError(
            _SOURCE,
            [
                {
                    "column": "horizon",
                    "expected": f"a number and D, W, M or Y, like '12M'; got {horizon!r}",
                }
            ],
        )
    days = float(m.group(1)) * UNIT_DAYS[m.group(2)]
    return max(1, int(round(days / UNIT_DAYS["M"])))


def _check_summary(summary):
    require_columns(
        summary,
        ["customer_id", "frequency", "recency", "T"],
        _SOURCE,
        hint="make the table with cxkit.clv_summary(journey)",
    )
    f, r, t = (pd.to_numeric(summary[c], errors="coerce") for c in ("frequency", "recency", "T"))
    checks = [
        ("frequency", f.isna() | (f < 0) | (f != f.round()), "a whole number of repeat purchases"),
        ("recency", r.isna() | (r < 0) | (r > t), "between 0 and T"),
        ("recency", (f == 0) & (r != 0), "0 for customers without repeat purchases"),
        ("T", t.isna() | (t < 0), "a time of 0 or more"),
        ("customer_id", summary["customer_id"].duplicated(), "one row per customer"),
    ]
    problems = []
    for column, bad, expected in checks:
        bad = np.asarray(bad, bool)
        if bad.any():
            problems.append(
                {
                    "column": column,
                    "expected": expected,
                    "rows": int(bad.sum()),
                    "examples": list(summary.loc[bad, "customer_id"].head(5)),
                }
            )
    if problems:
        raise DataError(_SOURCE, problems)


def _money(journey, margin, discount):
    money = dict(journey.spec.money or {}) if isinstance(journey, Journey) else {}
    if margin is None:
        margin = money.get("margin_rate")
    if discount is None:
        discount = money.get("discount_rate", _DEFAULT_DISCOUNT)
    for name, x in (("margin", margin), ("discount", discount)):
        if x is not None and (
            isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 <= x <= 1
        ):
            raise DataError(
                _SOURCE, [{"column": name, "expected": f"a number from 0 to 1; got {x!r}"}]
            )
    return (None if margin is None else float(margin)), float(discount)


class CLVResult:
    """A fitted customer-value model (see :func:`clv`).

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha`` (purchase rate), ``a``, ``b`` (dropout; ``s``, ``beta`` for
        Pareto/NBD), and ``p``, ``q``, ``v``
        (spend) when spend is modelled: the MAP estimates, or posterior means when sampled.
    intervals_ : dict or None
        ``{name: (low, high)}`` 95% posterior intervals when sampled (``method="mcmc"``).
    table : DataFrame
        Per customer: the summary columns, ``expected_purchases`` (over the horizon),
        ``p_alive``, ``expected_spend`` and ``expected_value`` (discounted; × margin when a
        margin is known), with ``*_low`` / ``*_high`` 95% intervals when sampled.
    summary : DataFrame
        The :func:`clv_summary` table fitted.
    horizon_months, discount, margin, method, time_unit, fit_seconds, notes
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def spend_modelled(self):
        return "p" in self.params_

    def interval(self, name, level=0.95):
        """Posterior interval of one parameter at ``level`` (None for a MAP fit)."""
        fitted = self.models["spend" if name in ("p", "q", "v") else "purchases"]
        found = fitted.intervals(level)
        return None if found is None else found[name]

    def __repr__(self):
        p = ", ".join(f"{k}={v:.3g}" for k, v in self.params_.items())
        return (
            f"<cxkit.CLVResult: {len(self.table)} customers, {self.method}, "
            f"horizon {self.horizon_months} months; {p}>"
        )

    def top_share(self, top=0.2):
        """Share (%) of the total expected value held by the top ``top`` of customers."""
        v = np.sort(self.table[self.value_column].to_numpy(float))[::-1]
        k = max(1, int(np.ceil(top * len(v))))
        total = v.sum()
        return float(100 * v[:k].sum() / total) if total > 0 else None

    @property
    def value_column(self):
        return "expected_value" if self.spend_modelled else "expected_purchases"

    def plot_value(self, ax=None, **kwargs):
        """Share of expected value by share of customers, most valuable first."""
        from .plots import plot_value_concentration

        return plot_value_concentration(self, ax=ax, **kwargs)

    def plot_p_alive(self, ax=None, **kwargs):
        """P(still a customer) by frequency and recency."""
        from .plots import plot_p_alive

        return plot_p_alive(self, ax=ax, **kwargs)


def clv(
    journey_or_summary,
    horizon="12M",
    discount=None,
    *,
    margin=None,
    model="bgnbd",
    method="map",
    spend=True,
    time_unit="W",
    random_state=0,
    draws=500,
    chains=2,
    **summary_kwargs,
):
    """Expected purchases, P(alive) and value of each repeat buyer over ``horizon``.

    BG/NBD (Fader, Hardie & Lee 2005) for purchases and dropout, Gamma-Gamma for the amount of
    a purchase, both from pymc-marketing with flat priors (the optional extra ``clv``).

    Parameters
    ----------
    journey_or_summary : Journey, events DataFrame or :func:`clv_summary` table
        A Journey or events are summarised first (``summary_kwargs``: ``observed_at``,
        ``event``, ``value``).
    horizon : str
        How far ahead: ``"12M"``, ``"2Y"``, ``"26W"`` (counted in whole months).
    discount : float, optional
        Yearly discount rate of later money (0.1 is 10%). Default: the spec's
        ``[money] discount_rate``, else 10%.
    margin : float, optional
        Share of revenue kept. Default: the spec's ``[money] margin_rate``; without one the
        value is revenue (``.margin`` is None).
    model : {"bgnbd", "pareto"}
        The purchase and dropout model: BG/NBD (customers may leave right after a repeat
        purchase; ``r, alpha, a, b``) or Pareto/NBD (they may leave at any moment;
        ``r, alpha, s, beta``). Same predictions, same table.
    method : {"map", "mcmc"}
        ``"map"``: point estimates in about a second once compiled. ``"mcmc"``: posterior draws
        (``draws`` × ``chains``), intervals in the table; slower.
    spend : bool
        Model the amount (Gamma-Gamma) when the summary has ``monetary_value`` and at least
        :data:`MIN_REPEAT_BUYERS` repeat buyers with a positive amount.
    time_unit : str
        Unit of the summary made from a Journey or events (``"W"``), and of a summary given
        without the ``attrs["time_unit"]`` that :func:`clv_summary` sets.
    random_state : int

    Returns
    -------
    CLVResult

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.clv import simulate_purchases
    >>> events, truth = simulate_purchases(customers=500, seed=1)
    >>> result = cxkit.clv(events, observed_at=truth["observed_at"])  # doctest: +SKIP
    >>> sorted(result.params_)  # doctest: +SKIP
    ['a', 'alpha', 'b', 'p', 'q', 'r', 'v']
    """
    if method not in ("map", "mcmc"):
        raise DataError(
            _SOURCE, [{"column": "method", "expected": f"'map' or 'mcmc'; got {method!r}"}]
        )
    if model not in backend.PURCHASE_PARAMS:
        raise DataError(
            _SOURCE, [{"column": "model", "expected": f"'bgnbd' or 'pareto'; got {model!r}"}]
        )
    data = journey_or_summary
    if isinstance(data, pd.DataFrame) and "frequency" in data.columns:
        summary = data
        if summary_kwargs:
            raise DataError(
                _SOURCE,
                [
                    {"column": k, "expected": "only with a Journey or events, not a summary"}
                    for k in summary_kwargs
                ],
            )
    else:
        summary = clv_summary(data, time_unit=time_unit, **summary_kwargs)
    _check_summary(summary)
    unit = summary.attrs.get("time_unit", time_unit)
    months = horizon_months(horizon)
    margin, discount = _money(data, margin, discount)
    started = time.perf_counter()
    summary = summary.reset_index(drop=True)
    purchases = backend.fit_purchases(
        summary,
        model=model,
        method=method,
        random_state=random_state,
        n_draws=draws,
        chains=chains,
    )
    params = purchases.params()
    notes = {}
    spend_fit = None
    if spend and "monetary_value" in summary.columns:
        buyers = int(((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum())
        if buyers >= MIN_REPEAT_BUYERS:
            spend_fit = backend.fit_spend(
                summary, method=method, random_state=random_state, n_draws=draws, chains=chains
            )
            spend_params = spend_fit.params()
            if spend_params["q"] > 1:
                params.update(spend_params)
            else:
                # the Gamma-Gamma mean spend p·v / (q − 1) is infinite for q ≤ 1 (amounts
                # too heavy-tailed): count purchases only rather than show an endless value
                spend_fit = None
                notes["spend"] = "amounts too uneven for a mean spend (q of 1 or less)"
        else:
            notes["spend"] = f"{buyers} repeat buyers with an amount (need {MIN_REPEAT_BUYERS})"
    elif spend:
        notes["spend"] = "no amounts in the summary"
    # cumulative expected purchases at the end of each month, then discounted increments
    per_month = UNIT_DAYS["M"] / UNIT_DAYS[unit]
    cum = np.stack(
        [
            backend.expected_purchases(purchases, summary, k * per_month)
            for k in range(1, months + 1)
        ]
    )  # (months, draws, customers)
    inc = np.diff(cum, axis=0, prepend=0.0)
    factor = (1 + discount) ** (-np.arange(1, months + 1) / 12)
    disc_purchases = np.tensordot(factor, inc, axes=1)  # (draws, customers)
    table = summary.copy()
    columns = {"expected_purchases": cum[-1], "p_alive": backend.p_alive(purchases, summary)}
    if spend_fit is not None:
        spend_draws = backend.expected_spend(spend_fit, summary)
        n = min(len(spend_draws), len(disc_purchases))
        columns["expected_spend"] = spend_draws
        columns["expected_value"] = (
            disc_purchases[:n] * spend_draws[:n] * (1.0 if margin is None else margin)
        )
    for name, m in columns.items():
        mean, lo, hi = backend.summarise(m)
        table[name] = mean
        if lo is not None:
            table[f"{name}_low"], table[f"{name}_high"] = lo, hi
    table.attrs = jsonable(
        {
            **summary.attrs,
            "horizon_months": months,
            "discount": discount,
            "margin": margin,
            "method": method,
            "notes": notes,
        }
    )
    intervals = purchases.intervals()
    if intervals is not None and spend_fit is not None:
        intervals.update(spend_fit.intervals())
    return CLVResult(
        params_=params,
        intervals_=intervals,
        table=table,
        summary=summary,
        horizon_months=months,
        discount=discount,
        margin=margin,
        method=method,
        model=model,
        time_unit=unit,
        fit_seconds=time.perf_counter() - started,
        notes=notes,
        models={"purchases": purchases, "spend": spend_fit},
    )

"""What a subscriber is still worth: expected remaining (discounted) months given the tenure
they already have, read from the retention curve, × their margin.

The campaign's value of a kept customer (:func:`cxkit.churn.pipeline.campaign_money`) uses
:func:`remaining_months` from here; :func:`contractual_value` is the same rule per active
customer, over any horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import DataError, Journey
from ..engine.journey import is_engine

__all__ = ["remaining_months", "contractual_value", "VALUE_MONTHS"]

#: Months ahead over which a kept customer's margin is counted.
VALUE_MONTHS = 12

#: The retention curve is trusted while at least this many customers (and 5% of them) are still
#: followed; past that it is extended with the churn rate of its last trusted 180 days.
_MIN_AT_RISK = 50
_TAIL_DAYS = 180.0

_MONTH = 365.25 / 12


def remaining_months(curve, tenure_days, *, months=VALUE_MONTHS, discount_rate=0.1):
    """Expected (discounted) months a customer stays within the next ``months``, given that they
    have stayed ``tenure_days`` so far: Σ_{m=0}^{months-1} S(t + m) / S(t) × d^m, with S the
    retention curve, m in months and d = (1 + ``discount_rate``)^(-1/12) a month.

    Parameters
    ----------
    curve : DataFrame
        :func:`cxkit.kaplan_meier` (one curve): ``time`` (days), ``survival``, ``at_risk``.
        Where fewer than 50 customers (or 5%) are still followed it is extended with the
        constant churn rate of its last 180 trusted days (a flat tail would promise that the
        oldest customers never leave).
    tenure_days : array-like
        Days each customer has already stayed.
    months : int
        Months ahead counted (12).
    discount_rate : float
        Yearly rate at which later margin counts less (0.1 is 10% a year).

    Returns
    -------
    ndarray
        Expected months per customer, between 1 and ``months`` (the current month counts).

    Examples
    --------
    >>> import pandas as pd
    >>> flat = pd.DataFrame({"time": [0.0], "survival": [1.0], "at_risk": [100]})
    >>> float(remaining_months(flat, [30], discount_rate=0)[0])
    12.0
    """
    time = curve["time"].to_numpy(float)
    surv = curve["survival"].to_numpy(float)
    at_risk = curve["at_risk"].to_numpy()
    trusted = at_risk >= max(_MIN_AT_RISK, 0.05 * at_risk[0])
    end = time[trusted].max() if trusted.any() else time[0]

    def s_at(t):
        i = np.searchsorted(time, np.minimum(t, end), side="right") - 1
        return surv[np.clip(i, 0, len(surv) - 1)]

    s_end, s_before = s_at(np.array(end)), s_at(np.array(max(end - _TAIL_DAYS, 0.0)))
    hazard = 0.0
    if end > 0 and s_end > 0 and s_before > 0:
        hazard = -np.log(s_end / s_before) / min(_TAIL_DAYS, end)
    t = np.asarray(tenure_days, dtype=float).reshape(-1, 1) + _MONTH * np.arange(months)
    s = s_at(t) * np.exp(-hazard * np.clip(t - end, 0, None))
    ratio = np.divide(s, s[:, :1], out=np.zeros_like(s), where=s[:, :1] > 0)
    ratio[:, 0] = 1.0
    discount = (1 + float(discount_rate)) ** (-np.arange(months) / 12)
    return ratio @ discount


def contractual_value(journey, *, horizon="12M", discount=None, margin=None):
    """Remaining value of each active subscriber: monthly margin × the (discounted) months they
    are expected to stay within ``horizon``, given how long they have already stayed.

    The months come from the Kaplan–Meier curve of all customers (:func:`remaining_months`);
    the monthly margin is the revenue of the last 90 days per active customer × the margin rate,
    as for the campaign (:func:`cxkit.churn.pipeline.campaign_money`).

    Parameters
    ----------
    journey : Journey
        Contractual (churn dates in the customers table).
    horizon : str
        ``"12M"``, ``"2Y"`` … (whole months).
    discount : float, optional
        Yearly rate (default: the spec's ``[money] discount_rate``, else 10%).
    margin : float, optional
        Share of revenue kept (default: the spec's ``[money] margin_rate``, else 30%, as the
        campaign assumes).

    Returns
    -------
    DataFrame
        ``customer_id``, ``tenure_days``, ``expected_months``, ``expected_value``; ``.attrs``:
        ``monthly_margin``, ``margin``, ``discount``, ``horizon_months``.

    Raises
    ------
    DataError
        Without churn dates or without revenue.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.clv import contractual_value
    >>> table = contractual_value(cxkit.load_sample())
    >>> bool((table["expected_months"] <= 12).all())
    True
    """
    from ..churn.pipeline import MONEY_DEFAULTS, _monthly_margin, _value_curve
    from .fit import horizon_months

    source = "contractual_value()"
    if not (isinstance(journey, Journey) or is_engine(journey)):
        raise DataError(
            source, [{"column": "journey", "expected": "a cxkit.Journey with churn dates"}]
        )
    money = dict(journey.spec.money or {})
    margin = money.get("margin_rate", MONEY_DEFAULTS["margin_rate"]) if margin is None else margin
    if discount is None:
        discount = money.get("discount_rate", MONEY_DEFAULTS["discount_rate"])
    months = horizon_months(horizon)
    found = _value_curve(journey)
    if found is None:
        raise DataError(
            source,
            [{"column": "churned_at", "expected": "churn dates of a contractual business"}],
            hint="for repeat buyers without churn dates use cxkit.clv(journey)",
        )
    monthly = _monthly_margin(journey, float(margin), money.get("margin_column"))
    if monthly is None:
        raise DataError(
            source,
            [{"column": "value", "expected": "revenue on the events of the last 90 days"}],
        )
    curve, table = found
    active = table[~table["churned"].astype(bool)]
    kept = remaining_months(
        curve, active["duration_days"], months=months, discount_rate=float(discount)
    )
    out = pd.DataFrame(
        {
            "customer_id": active["customer_id"].to_numpy(),
            "tenure_days": active["duration_days"].to_numpy(float),
            "expected_months": kept,
            "expected_value": monthly * kept,
        }
    )
    out.attrs = {
        "monthly_margin": float(monthly),
        "margin": float(margin),
        "discount": float(discount),
        "horizon_months": months,
    }
    return out

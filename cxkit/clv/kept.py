"""What a repeat buyer is worth if a campaign keeps them: the value they would bring while still
a customer, from the repeat-buying model (for data without churn dates).

A customer the campaign keeps is, by definition, one who stays: their worth is the expected
(discounted) margin over the next months *given that they are still a customer*, which is the
model's expected value divided by their P(alive) (a customer who has left buys nothing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import DataError
from . import backend
from .fit import clv
from .pipeline import MIN_BUYERS
from .summary import clv_summary

__all__ = ["kept_values"]

# the churn notebook asks twice for the same journey (overview and campaign): fit once
_LAST = {"key": None, "journey": None, "values": None}


def kept_values(journey, *, months=12, discount_rate=0.1, margin_rate=0.3, margin_column=None):
    """Value of keeping each buyer over the next ``months``, or None when the model cannot say
    (the optional extra missing, too few buyers or repeat buyers, no amounts).

    Parameters
    ----------
    journey : Journey
    months : int
    discount_rate : float
        A year.
    margin_rate : float
        Share of the amount kept (ignored with ``margin_column``).
    margin_column : str, optional
        An events column holding each purchase's margin (then the margin rate is 1).

    Returns
    -------
    Series or None
        Indexed by ``customer_id``, named ``customer_value``; ``.attrs["result"]`` is the
        :class:`~cxkit.clv.CLVResult`.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.clv.kept import kept_values
    >>> values = kept_values(cxkit.load_sample())  # doctest: +SKIP
    """
    if not backend.available():
        return None
    key = (int(months), float(discount_rate), float(margin_rate), margin_column)
    if _LAST["journey"] is journey and _LAST["key"] == key:
        return _LAST["values"]
    values = _kept_values(journey, months, discount_rate, margin_rate, margin_column)
    _LAST.update(key=key, journey=journey, values=values)
    return values


def _kept_values(journey, months, discount_rate, margin_rate, margin_column):
    value, rate = ("value", float(margin_rate)) if margin_column is None else (margin_column, 1.0)
    try:
        summary = clv_summary(journey, value=value)
    except DataError:
        return None
    if (
        "monetary_value" not in summary
        or len(summary) < MIN_BUYERS
        or not (summary["frequency"] > 0).any()
    ):
        return None
    result = clv(summary, horizon=f"{int(months)}M", discount=discount_rate, margin=rate)
    if not result.spend_modelled:
        return None
    t = result.table
    alive = np.clip(t["p_alive"].to_numpy(float), 1e-6, None)
    out = pd.Series(
        t["expected_value"].to_numpy(float) / alive,
        index=t["customer_id"].to_numpy(),
        name="customer_value",
    )
    out.attrs["result"] = result
    return out

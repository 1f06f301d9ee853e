"""The action list: whom the retention team should contact now, and why.

>>> import pandas as pd
>>> from cxkit.churn.actions import contact_list
>>> scores = pd.DataFrame({"customer_id": ["a", "b", "c"], "churn_probability": [0.9, 0.5, 0.1],
...                        "risk_rank": [1, 2, 3], "reason_1": ["few logins"] * 3,
...                        "reason_1_pts": [20.0, 5.0, 1.0]})
>>> money = {"contact_cost": 1, "offer_cost": 4, "offer_success": 0.5, "customer_value": 100,
...          "currency": "EUR"}
>>> contact_list(scores, money)["customer_id"].tolist()
['a', 'b']
"""

from __future__ import annotations

import pandas as pd

__all__ = ["contact_list"]


def contact_list(scores, money):
    """The customers worth contacting now: the riskiest, down to the depth that maximises the
    expected profit of the campaign (:func:`cxkit.campaign_value` on today's scores).

    Parameters
    ----------
    scores : DataFrame
        :func:`cxkit.score`'s result (riskiest first, with ``reason_*`` columns).
    money : dict
        :func:`cxkit.churn.pipeline.campaign_money`'s result: ``contact_cost``, ``offer_cost``,
        ``offer_success``, ``customer_value`` and ``currency``.

    Returns
    -------
    DataFrame
        One row per customer to contact, riskiest first: ``risk_rank``, ``customer_id``,
        ``churn_probability`` (0–1), ``expected_gain`` (probability × offer success × value of
        a kept customer − cost of contact and offer, in ``currency``), the reasons, and
        ``currency``. Empty (same columns) when no depth is expected to pay.
    """
    from .evaluate import campaign_value

    costs = {k: float(money[k]) for k in ("contact_cost", "offer_cost", "offer_success")}
    value = float(money["customer_value"])
    ranked = scores.sort_values("risk_rank", kind="stable")
    plan = campaign_value(ranked, customer_value=value, **costs)
    depth = int(plan.attrs["best"]["n_contacted"])
    top = ranked.head(depth)
    p = top["churn_probability"].to_numpy(float)
    gain = p * costs["offer_success"] * value - costs["contact_cost"] - costs["offer_cost"]
    reasons = [c for c in ranked.columns if c.startswith("reason_")]
    out = pd.DataFrame(
        {
            "risk_rank": top["risk_rank"].to_numpy(),
            "customer_id": top["customer_id"].to_numpy(),
            "churn_probability": p.round(4),
            "expected_gain": gain.round(2),
        }
    )
    for c in reasons:
        out[c] = top[c].to_numpy()
    out["currency"] = money.get("currency") or ""
    return out

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

import numpy as np
import pandas as pd

__all__ = ["contact_list"]


def contact_list(scores, money):
    """The customers worth contacting now: everyone whose expected gain is positive, riskiest
    first. With one value for every customer this is the riskiest down to the depth that
    maximises the campaign's expected profit (:func:`cxkit.campaign_value` on today's scores);
    with a value per customer (by tenure) a risky customer with little left to lose may be
    left out while a less risky, more valuable one is kept.

    Parameters
    ----------
    scores : DataFrame
        :func:`cxkit.score`'s result (riskiest first, with ``reason_*`` columns).
    money : dict
        :func:`cxkit.churn.pipeline.campaign_money`'s result: ``contact_cost``, ``offer_cost``,
        ``offer_success``, ``customer_value`` and ``currency``; ``customer_values`` (per
        customer id, by tenure) when it has them.

    Returns
    -------
    DataFrame
        One row per customer to contact, riskiest first: ``risk_rank``, ``customer_id``,
        ``churn_probability`` (0–1), ``expected_gain`` (probability × offer success × value of
        a kept customer − cost of contact and offer, in ``currency``), the reasons, and
        ``currency``. Empty (same columns) when no depth is expected to pay.
    """
    from .pipeline import today_values

    costs = {k: float(money[k]) for k in ("contact_cost", "offer_cost", "offer_success")}
    ranked = scores.sort_values("risk_rank", kind="stable")
    values = np.broadcast_to(today_values(ranked, money), (len(ranked),))
    p_all = ranked["churn_probability"].to_numpy(float)
    gain_all = (
        p_all * costs["offer_success"] * values - costs["contact_cost"] - costs["offer_cost"]
    )
    pays = gain_all > 0
    top, p, gain = ranked[pays], p_all[pays], gain_all[pays]
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

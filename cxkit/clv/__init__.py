"""Customer lifetime value: what each customer is worth, for repeat buyers and subscriptions.

* :func:`clv_summary` — frequency, recency, age and spend per buyer (the BTYD inputs);
* :func:`clv` — BG/NBD purchases and P(alive), Gamma-Gamma spend, value over a horizon
  (pymc-marketing, the optional extra ``clv``);
* :func:`simulate_purchases` — a purchase log with planted BG/NBD and Gamma-Gamma parameters;
* :func:`holdout_check` — calibration/holdout: predicted against actual repeat purchases;
* :func:`contractual_value` — remaining value of subscribers given their tenure;
* :func:`sbg` — cohort retention of subscribers, shifted-beta-geometric (pymc-marketing).
"""

from .contractual import contractual_value, remaining_months
from .fit import CLVResult, clv, horizon_months
from .sbg import SBGResult, sbg, sbg_table, simulate_sbg
from .simulate import CDNOW_PARAMS, simulate_purchases
from .summary import clv_summary
from .validate import holdout_check

__all__ = [
    "clv_summary",
    "clv",
    "CLVResult",
    "horizon_months",
    "simulate_purchases",
    "CDNOW_PARAMS",
    "holdout_check",
    "contractual_value",
    "remaining_months",
    "sbg",
    "sbg_table",
    "SBGResult",
    "simulate_sbg",
]

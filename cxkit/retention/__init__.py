"""Retention: how long customers stay, and what shortens it (survival analysis).

The **reduction** (:mod:`.reduce`, :mod:`.cohorts`) turns customers and events into survival
tables — one row per customer with a duration and a churn flag, start–stop rows for time-varying
drivers, cohort cells. The **statistics** (:mod:`.stats`, :mod:`.cox`) run on those small tables:
Kaplan–Meier, log-rank, RMST, Cox models. Input checks shared by both are in :mod:`.checks`.
:func:`retention_table` picks the reduction by the journey's business model (churn dates, or an
inactivity gap); :mod:`.findings` turns the results into the report's sentences.

>>> import cxkit
>>> table = cxkit.survival_table(cxkit.load_sample())
>>> sorted(table.columns[:4])
['churned', 'customer_id', 'duration_days', 'signup_at']
"""

from .checks import REFERENCE_LEVELS
from .cohorts import cohort_retention
from .cox import CoxResult, cox, cox_time_varying
from .reduce import (
    activity_table,
    choose_inactivity,
    retention_table,
    survival_table,
    time_varying_table,
    typical_gap,
)
from .stats import kaplan_meier, logrank, rmst, survival_summary

__all__ = [
    "survival_table",
    "activity_table",
    "retention_table",
    "choose_inactivity",
    "typical_gap",
    "time_varying_table",
    "cohort_retention",
    "kaplan_meier",
    "survival_summary",
    "logrank",
    "cox",
    "cox_time_varying",
    "CoxResult",
    "rmst",
    "REFERENCE_LEVELS",
]

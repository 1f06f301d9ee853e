"""Churn prediction: leakage-free datasets from touchpoints, models compared out of time.

The **reduction** (:mod:`.reduce`) builds one row per customer × cutoff from what happened
strictly before the cutoff, with the label from the horizon after it. The **statistics** compare
models (:mod:`.models`) and read the chosen one (:mod:`.evaluate`): calibration, gains, drivers,
scores and the value of a retention campaign. Labels follow the business model (:mod:`.labels`:
churn dates for contractual data, no activity in the horizon for non-contractual data).
:mod:`.pipeline` runs the steps as the report does (None, with the reason, where the data cannot
support a step); :mod:`.findings` turns the results into the report's sentences, one function
per section, and :mod:`.tables` into tables a stakeholder reads.

>>> import cxkit
>>> X, y = cxkit.churn_dataset(cxkit.load_sample(), "MS", horizon="30D")
>>> len(X) == len(y)
True
"""

from .evaluate import (
    calibration_table,
    campaign_value,
    driver_importance,
    drivers_in_words,
    gains_table,
    profit_interval,
    score,
)
from .models import ModelComparison, compare_models
from .reduce import FAMILY_WORDS, FEATURE_CATALOGUE, churn_dataset, feature_catalogue

__all__ = [
    "FEATURE_CATALOGUE",
    "FAMILY_WORDS",
    "churn_dataset",
    "feature_catalogue",
    "compare_models",
    "ModelComparison",
    "calibration_table",
    "gains_table",
    "driver_importance",
    "drivers_in_words",
    "score",
    "campaign_value",
    "profit_interval",
]

"""Churn prediction: leakage-free datasets from touchpoints, models compared out of time.

The **reduction** (:mod:`.reduce`) builds one row per customer × cutoff from what happened
strictly before the cutoff, with the label from the horizon after it. The **statistics** compare
models (:mod:`.models`) and read the chosen one (:mod:`.evaluate`): calibration, gains, drivers,
scores and the value of a retention campaign.

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
]

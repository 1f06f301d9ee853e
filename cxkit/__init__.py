"""cxkit — customer-journey analysis: buyer funnel, retention, churn and experience scores.

Importing cxkit is cheap: pandas and the loaders only. Analyses, plots and the report load their
heavy dependencies (lifelines, scikit-learn, matplotlib, nbconvert) the first time they are used.

>>> import cxkit
>>> j = cxkit.load_sample()
>>> j.customers.shape[0] > 0
True
"""

from importlib import import_module

# Bound eagerly (all are light; cxkit.clv loads pymc only on the first fit): importing the submodule `cxkit.simulate` or `cxkit.funnel`
# later would otherwise replace the lazily-loaded function with the module of the same name.
from .clv import clv, clv_summary  # noqa: E402
from .data import (
    DataError,
    Journey,
    load_sample,
    read_customers,
    read_events,
    read_journey,
    read_surveys,
    read_truth,
    sample_dir,
)
from .funnel import funnel  # noqa: E402
from .simulate import simulate  # noqa: E402

__version__ = "0.1.0"

# public name -> module that defines it; loaded on first attribute access (PEP 562)
_LAZY = {
    "say": "story",
    "headline": "story",
    "set_theme": "plots",
    # funnel
    "segment_gaps": "funnel",
    "funnel_table": "funnel",
    "time_to_convert": "funnel",
    "funnel_trend": "funnel",
    "drop_off_paths": "funnel",
    "compare_funnel": "funnel",
    "ab_test": "funnel",
    "ABTest": "funnel",
    "STAGES": "funnel",
    # retention
    "survival_table": "retention",
    "activity_table": "retention",
    "kaplan_meier": "retention",
    "survival_summary": "retention",
    "logrank": "retention",
    "cox": "retention",
    "time_varying_table": "retention",
    "cox_time_varying": "retention",
    "rmst": "retention",
    "CoxResult": "retention",
    "cohort_retention": "retention",
    # churn
    "churn_dataset": "churn",
    "compare_models": "churn",
    "score": "churn",
    "campaign_value": "churn",
    "FEATURE_CATALOGUE": "churn",
    "feature_catalogue": "churn",
    "calibration_table": "churn",
    "gains_table": "churn",
    "driver_importance": "churn",
    "drivers_in_words": "churn",
    "ModelComparison": "churn",
    # experience
    "nps": "experience",
    "csat": "experience",
    "ces": "experience",
    "rfm": "experience",
    "rfm_summary": "experience",
    "nps_landmark": "experience",
    "journey_map": "experience",
    # customer lifetime value (clv and clv_summary are bound eagerly above)
    "CLVResult": "clv",
    # report
    "build_report": "report",
    "init_spec": "data.init",
}

__all__ = [
    "DataError",
    "Journey",
    "load_sample",
    "read_customers",
    "read_events",
    "read_journey",
    "read_surveys",
    "read_truth",
    "sample_dir",
    "simulate",
    "funnel",
    "clv",
    "clv_summary",
    *_LAZY,
]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        if name == "plots":
            return import_module(".plots", __name__)
        raise AttributeError(f"module 'cxkit' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

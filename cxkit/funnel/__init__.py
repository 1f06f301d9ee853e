"""The buyer funnel: who reaches each step, where they drop off, how long steps take.

Two halves, as in every analysis of the kit: the **reduction** of the event log to one row per
entrant with the time of each step reached (:mod:`.reduce`, :mod:`.paths`), and **statistics** on
that small table (:mod:`.stats`). Steps and their windows are parsed in :mod:`.steps`; figures
live in :mod:`.plots` (also in :mod:`cxkit.plots`) and what the report says in :mod:`.findings`.

>>> import cxkit
>>> j = cxkit.load_sample()
>>> table = cxkit.funnel(j, ["site_visit", "add_to_cart", "purchase"], window="14D")
>>> list(table["step"])
['site_visit', 'add_to_cart', 'purchase']
"""

from .._stats import adjust_pvalues as _adjust
from .._stats import wilson as _wilson
from . import findings, tables
from .abtest import ABTest, ab_test
from .paths import drop_off_paths
from .reduce import funnel_table
from .stats import compare_funnel, funnel, funnel_trend, segment_gaps, time_to_convert
from .steps import STAGE_ORDER, STAGES, STEPS, FunnelSteps, funnel_steps, read_funnel_spec

__all__ = [
    "read_funnel_spec",
    "funnel_steps",
    "FunnelSteps",
    "findings",
    "tables",
    "funnel",
    "funnel_table",
    "time_to_convert",
    "funnel_trend",
    "drop_off_paths",
    "compare_funnel",
    "segment_gaps",
    "ab_test",
    "ABTest",
    "STAGES",
    "STEPS",
    "STAGE_ORDER",
    "_adjust",
    "_wilson",
]

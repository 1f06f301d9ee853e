"""The data contract: loaders for events, customers and surveys, and the Journey that holds them.

:mod:`.contract` reads and checks each table; :mod:`.journey` reads a whole folder into a
:class:`Journey`.
"""

from .contract import (
    SIGNUP_ATTRIBUTES,
    SURVEY_SCALES,
    DataError,
    _examples,
    _parse_timestamps,
    read_customers,
    read_events,
    read_surveys,
)
from .journey import (
    Journey,
    journey_from_tables,
    load_sample,
    read_journey,
    read_truth,
    sample_dir,
)

__all__ = [
    "DataError",
    "Journey",
    "read_events",
    "read_customers",
    "read_surveys",
    "read_journey",
    "journey_from_tables",
    "read_truth",
    "load_sample",
    "sample_dir",
    "SURVEY_SCALES",
    "SIGNUP_ATTRIBUTES",
    "_examples",
    "_parse_timestamps",
]

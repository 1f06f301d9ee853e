"""Customer experience: NPS, CSAT and CES with intervals, RFM value segments, the journey map,
and NPS against retention without immortal-time bias.

>>> import cxkit
>>> round(float(cxkit.nps(cxkit.load_sample())["nps"].iloc[0]), 1) > -100
True
"""

from .journey_map import JOURNEY_STAGES, journey_map
from .landmark import NPSLandmark, nps_landmark
from .rfm import RFM_SEGMENTS, rfm, rfm_summary
from .scores import ces, csat, nps

__all__ = [
    "nps",
    "csat",
    "ces",
    "rfm",
    "rfm_summary",
    "RFM_SEGMENTS",
    "nps_landmark",
    "NPSLandmark",
    "journey_map",
    "JOURNEY_STAGES",
]

"""What a data folder holds, decided from the data where the spec is silent.

These small functions answer the questions every report section asks before it runs — which
columns can segment the data, which attributes are known at signup — from the spec when it says,
else from the data.

>>> import cxkit
>>> from cxkit.data.profile import segment_columns, signup_attributes
>>> j = cxkit.load_sample()
>>> segment_columns(j, "events")
['channel', 'device']
>>> signup_attributes(j)
['plan', 'acquisition_channel', 'device', 'region']
"""

from __future__ import annotations

from .contract import SIGNUP_ATTRIBUTES

__all__ = ["segment_columns", "candidate_segments", "signup_attributes"]

_NOT_SEGMENTS = {
    "events": {"customer_id", "timestamp", "event", "value", "session_id"},
    "customers": {"customer_id", "signup_at", "churned_at"},
}


def candidate_segments(frame, *, exclude=(), min_levels=2, max_levels=12):
    """Columns of ``frame`` that could segment it: text or categorical columns (or small whole
    numbers) with ``min_levels``–``max_levels`` distinct values, most common value first."""
    out = []
    for col in frame.columns:
        if col in exclude:
            continue
        s = frame[col]
        kind = s.dtype.kind
        if kind == "M" or kind == "m" or kind == "f":
            continue
        levels = s.nunique(dropna=True)
        if min_levels <= levels <= max_levels:
            out.append(col)
    return out


def segment_columns(journey, table):
    """The columns of ``journey.<table>`` ("events" or "customers") to break results down by:
    the spec's ``segments`` that exist in that table, else the candidates found in the data."""
    frame = getattr(journey, table)
    exclude = _NOT_SEGMENTS[table]
    if journey.spec.segments is not None:
        return [c for c in journey.spec.segments if c in frame.columns and c not in exclude]
    if table == "customers":
        exclude = exclude | set(_as_of_extraction(journey))
    return sorted(candidate_segments(frame, exclude=exclude))


def _as_of_extraction(journey):
    """Customer columns not known at signup (they may describe the end of the relationship)."""
    known = set(signup_attributes(journey))
    return [c for c in journey.customers.columns if c not in known]


def signup_attributes(journey):
    """Customer attributes known at signup: the spec's list, else the kit's defaults present."""
    names = journey.spec.signup_attributes
    if names is None:
        names = SIGNUP_ATTRIBUTES
    return [c for c in names if c in journey.customers.columns]

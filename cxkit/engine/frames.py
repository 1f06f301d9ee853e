"""What an engine journey may hand over to pandas: its small tables and counts.

The events table is the one that grows past memory: it is only ever reduced in the engine.
The customers table (one row per customer) and the survey answers (one row per answer) are
bounded by the number of customers, so the analyses that need them whole — segment columns,
experience scores, the report's facts — pull them once (:func:`customers_frame`,
:func:`surveys_frame`, kept on the journey) in the pandas loader's dtypes. Each function takes a
:class:`cxkit.Journey` too and then returns its own tables, so callers need no branch.

Examples
--------
>>> import cxkit
>>> from cxkit.engine.frames import counts
>>> counts(cxkit.load_sample())["customers"]  # doctest: +SKIP
3000
"""

from __future__ import annotations

import pandas as pd

from .journey import _pandas_times, is_engine

_CUSTOMER_TIMES = ("signup_at", "churned_at")


def customers_frame(journey):
    """The customers table as pandas (the loader's order and dtypes: text columns are
    categories, ``attrs["churn_dates"]`` set); pulled once and kept on an engine journey."""
    if not is_engine(journey):
        return journey.customers
    kept = journey.notes.get("_customers_frame")
    if kept is None:
        customers = _pandas_times(journey.execute(journey.customers), _CUSTOMER_TIMES)
        customers = customers.sort_values(["signup_at", "customer_id"], kind="stable")
        customers = customers.reset_index(drop=True)
        for col in customers.columns.difference(["customer_id", *_CUSTOMER_TIMES]):
            if customers[col].dtype == object:
                customers[col] = customers[col].astype("category")
        customers.attrs["churn_dates"] = journey.churn_dates
        kept = journey.notes["_customers_frame"] = customers
    return kept


def surveys_frame(journey):
    """The survey answers as pandas in time order (None on an engine journey without them);
    pulled once and kept on an engine journey."""
    if not is_engine(journey):
        return journey.surveys
    if journey.surveys is None:
        return None
    kept = journey.notes.get("_surveys_frame")
    if kept is None:
        surveys = _pandas_times(journey.execute(journey.surveys), ("timestamp",))
        kept = surveys.sort_values("timestamp", kind="stable").reset_index(drop=True)
        journey.notes["_surveys_frame"] = kept
    return kept


def counts(journey):
    """Rows of each table, ``{"events", "customers", "surveys"}`` (counted by the engine on an
    engine journey; a missing table counts 0)."""
    if not is_engine(journey):
        return {
            "events": len(journey.events),
            "customers": len(journey.customers),
            "surveys": 0 if journey.surveys is None else len(journey.surveys),
        }
    kept = journey.notes.get("_counts")
    if kept is None:
        kept = {
            name: 0 if table is None else int(journey.execute(table.count()))
            for name, table in (
                ("events", journey.events),
                ("customers", journey.customers),
                ("surveys", journey.surveys),
            )
        }
        journey.notes["_counts"] = kept
    return dict(kept)


def distinct(journey, column, table="events"):
    """The distinct non-missing values of one column of ``table``, as a pandas Series in
    sorted order (``SELECT DISTINCT`` on an engine journey)."""
    t = getattr(journey, table)
    if t is None or column not in t.columns:
        return pd.Series([], dtype=object, name=column)
    if not is_engine(journey):
        values = t[column].dropna().unique()
        return pd.Series(sorted(values, key=str), dtype=object, name=column)
    got = journey.execute(t.filter(t[column].notnull()).select(column).distinct())[column]
    return pd.Series(sorted(got, key=str), dtype=object, name=column)


def survey_kinds(journey):
    """The kinds of survey answer the data has (``{"nps", "csat"}`` …), lower-case."""
    if journey.surveys is None:
        return set()
    return {str(kind).lower() for kind in distinct(journey, "survey", "surveys")}

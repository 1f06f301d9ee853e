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

from .journey import ROW, _pandas_times, is_engine

_CUSTOMER_TIMES = ("signup_at", "churned_at")


def customers_frame(journey):
    """The customers table as pandas, as the pandas loader gives it (its row order, text
    columns as categories, ``attrs["churn_dates"]``); pulled once and kept on an engine
    journey."""
    if not is_engine(journey):
        return journey.customers
    kept = journey.notes.get("_customers_frame")
    if kept is None:
        customers = _pulled(journey, journey.customers, ["signup_at"], _CUSTOMER_TIMES)
        text_file = _from_text_file(journey, "customers")
        for col in customers.columns.difference(["customer_id", *_CUSTOMER_TIMES]):
            customers[col] = _as_read(customers[col], text_file)
        customers.attrs["churn_dates"] = journey.churn_dates
        kept = journey.notes["_customers_frame"] = customers
    return kept


def surveys_frame(journey):
    """The survey answers as pandas, as the pandas loader gives them (time order, stage and
    touchpoint as categories; an empty table when there are none); pulled once and kept on an
    engine journey."""
    if not is_engine(journey):
        return journey.surveys
    kept = journey.notes.get("_surveys_frame")
    if kept is None:
        if journey.surveys is None:
            from ..data.journey import _empty_surveys

            kept = _empty_surveys()
        else:
            kept = _pulled(journey, journey.surveys, ["timestamp"], ("timestamp",))
            text_file = _from_text_file(journey, "surveys")
            for col in kept.columns.difference(["customer_id", "timestamp", "survey", "score"]):
                kept[col] = _as_read(kept[col], text_file)
        journey.notes["_surveys_frame"] = kept
    return kept


def _pulled(journey, table, order, times):
    """``table`` as pandas sorted by ``order`` then its file row (the loaders' stable sort)."""
    keys = [*order, ROW] if ROW in table.columns else order
    frame = journey.execute(table.order_by(keys))
    frame = _pandas_times(frame.drop(columns=[ROW], errors="ignore"), times)
    return frame.reset_index(drop=True)


def _from_text_file(journey, name):
    """Whether the table ``name`` of an engine journey was read from a CSV file of a folder
    (DuckDB reads those as text; Parquet and database tables keep their types)."""
    from pathlib import Path

    from ..data.journey import _table_path

    folder = Path(str(journey.source))
    try:
        path = _table_path(folder, name, journey.spec) if folder.is_dir() else None
    except Exception:  # a spec naming a missing file was refused at opening already
        return False
    return path is not None and path.suffix not in (".parquet", ".pq")


def _as_read(column, text_file=True):
    """An extra text column typed as the pandas loader types it: from a CSV file, numbers when
    every value is one (as ``read_csv`` infers them: whole numbers without gaps as int64);
    other text as categories."""
    if column.dtype != object:
        return column
    number = pd.to_numeric(column, errors="coerce")
    if text_file and number.notna().sum() == column.notna().sum() and column.notna().any():
        whole = number.notna().all() and (number == number.round()).all()
        return number.astype("int64") if whole else number.astype("float64")
    return column.astype("category")


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


def event_facts(journey):
    """``{"people", "prospects", "first"}``: distinct people in the events, those of them who
    are not customers, and the first event's time (one query on an engine journey; the
    loader's notes on a Journey)."""
    if not is_engine(journey):
        ev = journey.events
        people = journey.notes.get("people")
        return {
            "people": int(ev["customer_id"].nunique()) if people is None else int(people),
            "prospects": int(journey.notes.get("prospects", 0)),
            "first": ev["timestamp"].min(),
        }
    kept = journey.notes.get("_event_facts")
    if kept is None:
        ev, cu = journey.events, journey.customers
        ids = ev.select("customer_id").distinct()
        prospects = ids.anti_join(cu, "customer_id").count()
        got = journey.execute(
            ev.aggregate(people=ev.customer_id.nunique(), first=ev.timestamp.min())
        ).iloc[0]
        kept = {
            "people": int(got["people"]),
            "prospects": int(journey.execute(prospects)),
            "first": pd.Timestamp(got["first"]),
        }
        journey.notes["_event_facts"] = kept
    return dict(kept)


def last_activity(journey, events=None, *, valued=False):
    """Each person's latest event time (a Series indexed by customer id), among ``events``
    (names; default all) or, with ``valued``, among events with a value; reduced in the
    engine on an engine journey."""
    ev = journey.events
    if not is_engine(journey):
        if events is not None:
            ev = ev.loc[ev["event"].astype(str).isin([str(e) for e in events])]
        if valued:
            ev = ev.loc[ev["value"].notna()]
        return ev.groupby(ev["customer_id"].astype(object), observed=True)["timestamp"].max()
    if events is not None:
        ev = ev.filter(ev.event.isin([str(e) for e in events]))
    if valued:
        ev = ev.filter(ev.value.notnull())
    got = journey.execute(ev.group_by("customer_id").aggregate(timestamp=ev.timestamp.max()))
    got = _pandas_times(got, ("timestamp",))
    return got.set_index(got["customer_id"].astype(object))["timestamp"].rename_axis("customer_id")


def has_values(journey):
    """Whether any event carries a value (an amount)."""
    ev = journey.events
    if "value" not in ev.columns:
        return False
    if not is_engine(journey):
        return bool(ev["value"].notna().any())
    return bool(journey.execute(ev.value.notnull().any()))


def has_events(journey, names):
    """Whether any event is named one of ``names``."""
    names = [str(n) for n in names]
    ev = journey.events
    if not is_engine(journey):
        return bool(ev["event"].astype(str).isin(names).any())
    return bool(journey.execute(ev.event.isin(names).any()))

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

from pathlib import Path

import numpy as np

from .contract import SIGNUP_ATTRIBUTES

__all__ = [
    "segment_columns",
    "candidate_segments",
    "signup_attributes",
    "profile",
    "profile_journey",
    "event_order",
    "guess_mapping",
    "column_kind",
]

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
    if _is_engine(journey):
        return sorted(_engine_candidates(journey, frame, exclude | {"_row"}))
    return sorted(candidate_segments(frame, exclude=exclude))


def _is_engine(journey):
    from ..engine.journey import is_engine

    return is_engine(journey)


def _engine_candidates(journey, table, exclude, min_levels=2, max_levels=12):
    """:func:`candidate_segments` of an engine table: every distinct count in one query."""
    schema = table.schema()
    cols = [
        c
        for c in table.columns
        if c not in exclude and not (schema[c].is_temporal() or schema[c].is_floating())
    ]
    if not cols:
        return []
    got = journey.execute(table.aggregate(**{c: table[c].nunique() for c in cols})).iloc[0]
    return [c for c in cols if min_levels <= int(got[c]) <= max_levels]


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


# --- profile of a whole folder or journey (what `cxkit init` reports) ---------------------------

#: Names (lower case, without _ - or spaces) that a column often has in exports, per canonical
#: column. The canonical name itself, in any case, always counts.
SYNONYMS = {
    "customer_id": (
        "userid",
        "user",
        "customer",
        "customerid",
        "clientid",
        "client",
        "visitorid",
        "memberid",
        "accountid",
        "personid",
        "cid",
        "uid",
    ),
    "timestamp": (
        "ts",
        "time",
        "datetime",
        "date",
        "eventtime",
        "eventtimestamp",
        "eventdate",
        "occurredat",
        "createdat",
        "eventat",
        "timestamputc",
    ),
    "event": ("eventname", "eventtype", "action", "activity", "type", "touchpoint"),
    "value": ("revenue", "amount", "price", "ordervalue", "total", "sales"),
    "device": ("devicetype", "platform"),
    "signup_at": (
        "signupdate",
        "signup",
        "createdat",
        "registeredat",
        "joinedat",
        "startdate",
        "startedat",
        "subscribedat",
        "firstpurchaseat",
    ),
    "churned_at": (
        "churndate",
        "churned",
        "cancelledat",
        "canceledat",
        "enddate",
        "endedat",
        "cancellationdate",
        "unsubscribedat",
    ),
    "survey": ("surveytype", "surveyname", "metric", "kind"),
    "score": ("rating", "answer", "stars", "response"),
}
_REQUIRED = {
    "events": ("customer_id", "timestamp", "event"),
    "customers": ("customer_id", "signup_at"),
    "surveys": ("customer_id", "timestamp", "survey", "score"),
}
_TIMES = {"timestamp", "signup_at", "churned_at"}
_DAY_MONTH = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}"


def _norm(name):
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def column_kind(series):
    """A reader's word for a raw column's type: date/time, whole number, number, true/false,
    text."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return "true/false"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date/time"
    if pd.api.types.is_integer_dtype(series):
        return "whole number"
    if pd.api.types.is_numeric_dtype(series):
        whole = series.dropna()
        return "whole number" if len(whole) and (whole == whole.round()).all() else "number"
    sample = series.dropna().astype(str).head(500)
    if len(sample):
        from .contract import _read_times

        # dates whose reading is unclear (03/05/2024) or whose zone is mixed are still dates
        _, issues, _ = _read_times(sample)
        clear = all(i["kind"] in ("ambiguous", "readings", "zones") for i in issues)
        if sample.str.contains(r"\d", regex=True).all() and clear:
            return "date/time"
    return "text"


def guess_mapping(table, columns, kinds):
    """Canonical column -> the file's column, for columns the file names differently.

    Returns ``(mapping, unmapped)``: ``unmapped`` lists required canonical columns no file
    column looks like."""
    canon = _REQUIRED[table] + tuple(
        c for c in ("channel", "device", "value", "churned_at") if c in _optional(table)
    )
    by_norm = {}
    for col in columns:
        by_norm.setdefault(_norm(col), col)
    mapping, taken = {}, set(c for c in columns if c in canon)
    for name in canon:
        if name in columns:
            continue
        for alias in (_norm(name), *SYNONYMS.get(name, ())):
            col = by_norm.get(alias)
            if col is None or col in taken:
                continue
            if (name in _TIMES) != (kinds.get(col) == "date/time"):
                continue
            mapping[name] = col
            taken.add(col)
            break
    times = [c for c in columns if kinds.get(c) == "date/time" and c not in taken]
    time_cols = [c for c in _REQUIRED[table] if c in _TIMES and c not in columns]
    if len(times) == 1 and len(time_cols) == 1 and time_cols[0] not in mapping:
        mapping[time_cols[0]] = times[0]  # the only date/time column
    unmapped = [c for c in _REQUIRED[table] if c not in columns and c not in mapping]
    return mapping, unmapped


def _optional(table):
    return {"events": ("channel", "device", "value"), "customers": ("churned_at",)}.get(table, ())


def day_first(values):
    """True when dates like 13/05/2024 put the day first, False when 05/13/2024 the month,
    ``"either"`` when every such date reads both ways, None when no date looks like that."""
    import pandas as pd

    text = pd.Series(values).dropna().astype(str).head(20000)
    parts = text.str.extract(_DAY_MONTH).dropna().astype(int)
    if parts.empty:
        return None
    if (parts[0] > 12).any():
        return True
    if (parts[1] > 12).any():
        return False
    return "either"


def profile(folder_or_journey):
    """What a data folder (or a :class:`Journey`) holds: the facts ``cxkit init`` reports.

    Parameters
    ----------
    folder_or_journey : str, Path or Journey
        A folder is read raw first (tables, columns, types, rows, guessed column mapping, day
        first or not), then as a journey with the guessed mapping when that works.

    Returns
    -------
    dict
        ``tables`` (per table: ``file``, ``rows``, ``columns`` name -> type), ``mapping`` and
        ``unmapped`` (per table), ``dayfirst``, ``problem`` (why the folder could not be read as
        a journey, or None) and, when it could: ``people``, ``customers``,
        ``customers_derived``, ``date_range``, ``events`` (per event: ``rows``, ``people``,
        ``median_position`` of a person's first one, ``median_days_from_start``), ``segments``
        (``events`` / ``customers``: column -> levels, 2–12 levels), ``churn_dates``,
        ``churned``, ``purchase_like``, ``value``, ``surveys`` (per kind: answers, lowest and
        highest score).

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.data.profile import profile
    >>> p = profile(cxkit.load_sample())
    >>> p["churn_dates"], p["events"][0]["event"]
    (True, 'app_login')
    """
    return _profile(folder_or_journey)[0]


def _profile(folder_or_journey):
    """(profile dict, Journey or None)."""
    from .journey import Journey

    if isinstance(folder_or_journey, Journey):
        journey = folder_or_journey
        out = {"folder": None, "tables": {}, "mapping": {}, "unmapped": {}, "dayfirst": None}
        out["problem"] = None
        for name in ("events", "customers", "surveys"):
            frame = getattr(journey, name)
            if len(frame):
                kinds = {c: column_kind(frame[c]) for c in frame.columns}
                out["tables"][name] = {"file": None, "rows": len(frame), "columns": kinds}
    else:
        out, journey = _profile_folder(folder_or_journey)
    if journey is not None:
        out.update(profile_journey(journey))
    return out, journey


def _profile_folder(folder):
    from dataclasses import replace
    from pathlib import Path

    from .contract import DataError, _read_table
    from .journey import _table_path, journey_from_folder
    from .spec import READ_KEYS, TABLES, Spec, read_spec

    folder = Path(folder)
    out = {"folder": str(folder), "tables": {}, "mapping": {}, "unmapped": {}, "problem": None}
    try:
        spec = read_spec(folder)
    except DataError as exc:
        spec, out["problem"] = Spec(), f"the spec file could not be used: {exc}"
    firsts, pending = [], {}
    for name in TABLES:
        try:
            path = _table_path(folder, name, spec)
            how = {k: spec.tables.get(name, {}).get(k) for k in READ_KEYS}
            how = {**how, **({} if path is None else _how_written(path, how))}
            raw = None if path is None else _read_table(path, **how)
        except DataError as exc:
            out["problem"] = str(exc)
            continue
        if raw is None:
            continue
        kinds = {c: column_kind(raw[c]) for c in raw.columns}
        mapping, unmapped = guess_mapping(name, list(raw.columns), kinds)
        given = spec.tables.get(name, {})
        mapping = {**mapping, **{k: v for k, v in given.items() if k != "file"}}
        unmapped = [c for c in unmapped if c not in mapping]
        if how["decimal"] is None and _decimal_comma_column(raw, mapping, name):
            how["decimal"] = ","
            raw = _read_table(path, **how)
            kinds = {c: column_kind(raw[c]) for c in raw.columns}
        mapping = {k: v for k, v in mapping.items() if k not in READ_KEYS}
        info = {"file": path.name, "rows": len(raw), "columns": kinds}
        info["read"] = {k: v for k, v in how.items() if v is not None and v != _PLAIN[k]}
        order = ("timestamp", "signup_at", "churned_at")
        times = [mapping.get(c, c) for c in order if mapping.get(c, c) in raw.columns]
        for col in times:
            firsts.append(day_first(raw[col]))
        if times:
            pending[name] = raw[times[0]]
        out["tables"][name] = info
        out["mapping"][name] = {k: v for k, v in mapping.items() if k != v}
        out["unmapped"][name] = unmapped
    out["dayfirst"] = spec.timestamps.get("dayfirst", _vote(firsts))
    out["dayfirst_unclear"] = out["dayfirst"] is None and "either" in firsts
    if "events" not in out["tables"]:
        out["problem"] = out["problem"] or "no events file (events.csv, .csv.gz or .parquet)"
        return _date_ranges(out, pending, spec, firsts, None)
    if any(out["unmapped"].values()):
        out["problem"] = "; ".join(
            f"{name}: no column looks like {', '.join(cols)}; name it in [tables.{name}]"
            for name, cols in out["unmapped"].items()
            if cols
        )
        return _date_ranges(out, pending, spec, firsts, None)
    tables = {
        n: {
            **out["mapping"].get(n, {}),
            **({"file": spec.tables[n]["file"]} if "file" in spec.tables.get(n, {}) else {}),
            **out["tables"][n]["read"],
        }
        for n in out["tables"]
    }
    timestamps = dict(spec.timestamps)
    if out["dayfirst"] is not None:
        timestamps["dayfirst"] = out["dayfirst"]
    try:
        journey = journey_from_folder(folder, replace(spec, tables=tables, timestamps=timestamps))
    except DataError as exc:
        out["problem"] = str(exc)
        return _date_ranges(out, pending, spec, firsts, None)
    return _date_ranges(out, pending, spec, firsts, journey)


#: How a CSV file is written when nothing is said (the loaders' defaults).
_PLAIN = {"encoding": "utf-8", "sep": ",", "decimal": "."}


def _how_written(path, how):
    """The encoding and separator :func:`.sniff.sniff_csv` finds for a CSV file, where the spec
    says nothing: the likely encoding of a file that is not UTF-8 too, so that it can be
    profiled (``cxkit init`` writes what it used into the spec)."""
    from .sniff import sniff_csv

    if Path(path).name.lower().endswith((".parquet", ".pq")):
        return {}
    found = sniff_csv(path, encoding=how.get("encoding"), sep=how.get("sep"))
    out = {}
    if how.get("encoding") is None:
        encoding = found["likely"] or found["encoding"]
        if encoding not in ("utf-8", "utf-8-sig"):
            out["encoding"] = encoding
    if how.get("sep") is None and found["sep"] != ",":
        out["sep"] = found["sep"]
    return out


def _decimal_comma_column(raw, mapping, table):
    """True when the amounts column (events' ``value``) is text written with a decimal comma."""
    from .contract import _decimal_comma

    if table != "events":
        return False
    column = mapping.get("value", "value")
    if column not in raw.columns or raw[column].dtype != object:
        return False
    values = raw[column].dropna()
    return bool(len(values)) and _decimal_comma(values)


def _date_ranges(out, pending, spec, firsts, journey):
    """Each table's first and last timestamp: from the journey when it was read, else parsed
    from the raw column."""
    from .contract import _parse_timestamps

    column = {"events": "timestamp", "customers": "signup_at", "surveys": "timestamp"}
    for name, raw in pending.items():
        if journey is not None:
            parsed = getattr(journey, name)[column[name]]
        else:
            parsed, _ = _parse_timestamps(raw, **_parse_of(spec, firsts))
        if parsed.notna().any():
            out["tables"][name]["date_range"] = [str(parsed.min()), str(parsed.max())]
    return out, journey


def _vote(firsts):
    if True in firsts:
        return True
    if False in firsts:
        return False
    return None


def _parse_of(spec, firsts):
    ts = spec.timestamps
    return {
        "dayfirst": ts.get("dayfirst", _vote(firsts)),
        "date_format": ts.get("format"),
        "timezone": ts.get("timezone"),
    }


def profile_journey(journey):
    """The journey-level part of :func:`profile` (events, segments, churn dates, surveys)."""
    from .journey import purchase_like

    ev, cu, su = journey.events, journey.customers, journey.surveys
    out = {
        "people": int(journey.notes.get("people", ev["customer_id"].nunique())),
        "customers": len(cu),
        "customers_derived": journey.notes.get("customers_derived"),
        "date_range": [str(ev["timestamp"].min()), str(ev["timestamp"].max())],
        "observed_at": str(journey.observed_at),
        "events": event_order(ev),
        "segments": {
            table: {
                c: int(frame[c].nunique())
                for c in candidate_segments(frame, exclude=_NOT_SEGMENTS[table])
            }
            for table, frame in (("events", ev), ("customers", cu))
        },
        "churn_dates": bool(cu.attrs.get("churn_dates", True)),
        "churned": int(cu["churned_at"].notna().sum()),
        "purchase_like": purchase_like(ev["event"].astype(object)),
        "value": bool("value" in ev.columns and ev["value"].notna().any()),
        "surveys": {
            str(kind): {"answers": int(len(g)), "lowest": int(g.min()), "highest": int(g.max())}
            for kind, g in su.groupby("survey")["score"]
        },
    }
    return out


def event_order(events):
    """Per event, most common first: ``rows``, ``people`` who did it, the ``median_position``
    of a person's first one among their distinct events (1 = what people do first) and the
    ``median_days_from_start`` (from the person's first event of any kind)."""
    first = (
        events.groupby(["customer_id", "event"], observed=True)["timestamp"]
        .min()
        .rename("first")
        .reset_index()
    )
    start = events.groupby("customer_id", observed=True)["timestamp"].min()
    first["position"] = first.groupby("customer_id", observed=True)["first"].rank(method="first")
    since = first["first"].to_numpy() - start.reindex(first["customer_id"]).to_numpy()
    first["days"] = since / np.timedelta64(1, "D")
    per = first.groupby("event", observed=True).agg(
        people=("customer_id", "size"),
        median_position=("position", "median"),
        median_days_from_start=("days", "median"),
    )
    per["rows"] = events["event"].value_counts().reindex(per.index)
    per = per.sort_values(["rows", "people"], ascending=False)
    return [
        {
            "event": str(e),
            "rows": int(r.rows),
            "people": int(r.people),
            "median_position": float(r.median_position),
            "median_days_from_start": float(r.median_days_from_start),
        }
        for e, r in per.iterrows()
    ]

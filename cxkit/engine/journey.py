"""A journey whose tables live in a database engine (Ibis tables), and how to open one.

:func:`read_journey_engine` (``cxkit.read_journey(folder, engine="duckdb")``) reads the folder's
Parquet or CSV files with DuckDB, without loading them into memory; :func:`connect` takes any
Ibis backend and the names of its tables. Both give an :class:`EngineJourney`: the same column
contract and spec as the pandas loaders, checked in SQL (missing columns, ids, events and
timestamps, text that is not a time, UTC offsets beside naive times, duplicated customers, churn
before signup, survey scales), each failure a :class:`cxkit.DataError` naming the table, the
column, how many rows and examples.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.contract import _CUSTOMERS, _EVENTS, _MAX_EXAMPLES, _SURVEYS, SURVEY_SCALES, DataError
from ..data.spec import Spec

#: The tie-order column every engine events table carries: rows of one person at one moment
#: are taken in this order (the file's row order; the ``order=`` column of :func:`connect`).
ROW = "_row"


def _ibis():
    try:
        import ibis
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the duckdb engine needs Ibis and DuckDB: pip install 'cxkit[duckdb]'"
        ) from None
    return ibis


def is_engine(obj):
    """True for an :class:`EngineJourney` or an Ibis table (without importing Ibis)."""
    return isinstance(obj, EngineJourney) or type(obj).__module__.startswith("ibis.")


@dataclass
class EngineJourney:
    """A journey whose tables are Ibis tables in one backend (DuckDB, Spark, a warehouse).

    A sibling of :class:`cxkit.Journey` with the same fields, not a subclass: code written
    for pandas tables must not receive SQL tables by accident. The analyses that have an
    engine reduction (``funnel``, ``funnel_table``, ``survival_table``, ``activity_table``,
    ``cohort_retention``, ``rfm``) take it as they take a Journey; :meth:`to_pandas` gives the
    pandas Journey for the others (when the data fits in memory).

    Attributes
    ----------
    events, customers, surveys : ibis Table
        Canonical columns (``surveys`` may be None). ``events`` also has ``_row``, the order of
        rows that tie on person and time.
    observed_at : Timestamp
    backend : ibis backend
    source : str
    spec : Spec
    churn_dates : bool
        Whether the customers table came with a ``churned_at`` column (contractual data).
    """

    events: object
    customers: object
    surveys: object
    observed_at: pd.Timestamp
    backend: object
    source: str = "engine"
    spec: Spec = field(default_factory=Spec)
    churn_dates: bool = True
    notes: dict = field(default_factory=dict)

    @property
    def engine(self):
        """The backend's name, e.g. ``"duckdb"`` or ``"pyspark"``."""
        return getattr(self.backend, "name", type(self.backend).__name__)

    @property
    def business_model(self):
        """As :attr:`cxkit.Journey.business_model`."""
        if self.spec.business_model is not None:
            return self.spec.business_model
        return "contractual" if self.churn_dates else "non-contractual"

    @classmethod
    def from_frames(cls, events, customers=None, surveys=None, *, observed_at=None, backend=None):
        """Canonical pandas tables (or a :class:`cxkit.Journey`) put into a backend as they are
        (in-memory tables; default a new DuckDB connection): the differential tests' way to
        run both engines on one journey. The events' row order is the tie order.

        Examples
        --------
        >>> import cxkit
        >>> from cxkit.engine import EngineJourney
        >>> j = EngineJourney.from_frames(cxkit.load_sample())  # doctest: +SKIP
        """
        from ..data import Journey

        ibis = _ibis()
        spec = Spec()
        churn_dates = True
        if isinstance(events, Journey):
            journey = events
            events, customers, surveys = journey.events, journey.customers, journey.surveys
            observed_at = journey.observed_at if observed_at is None else observed_at
            spec = journey.spec
        if backend is None:
            backend = ibis.duckdb.connect()
            backend.raw_sql("SET TimeZone = 'UTC'")
            _no_progress_bar(backend)

        def table(frame):
            import pyarrow as pa

            frame = frame.copy()
            frame.attrs = {}
            fields = []
            for col in frame.columns:
                if isinstance(frame[col].dtype, pd.CategoricalDtype):
                    frame[col] = frame[col].astype(object)
                if frame[col].dtype == object:  # text, also when empty (else a null column)
                    frame[col] = frame[col].where(frame[col].isna(), frame[col].astype(str))
                    fields.append(pa.field(col, pa.string()))
                elif pd.api.types.is_datetime64_any_dtype(frame[col]):
                    frame[col] = frame[col].astype("datetime64[us]")
                    fields.append(pa.field(col, pa.timestamp("us")))
                else:
                    fields.append(pa.field(col, pa.from_numpy_dtype(frame[col].dtype)))
            schema = pa.schema(fields)
            return ibis.memtable(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))

        ev = events.assign(**{ROW: range(len(events))})
        ev["customer_id"] = ev["customer_id"].astype(str)
        if customers is None:
            from ..data.journey import customers_from_events

            customers = customers_from_events(events)
        churn_dates = customers.attrs.get("churn_dates", "churned_at" in customers.columns)
        if "churned_at" not in customers.columns:
            customers = customers.assign(churned_at=pd.NaT).astype(
                {"churned_at": "datetime64[ns]"}
            )
        if observed_at is None:
            observed_at = max(
                t for t in (events["timestamp"].max(), customers["signup_at"].max()) if pd.notna(t)
            )
        return cls(
            events=table(ev),
            customers=table(customers),
            surveys=None if surveys is None else table(surveys),
            observed_at=pd.Timestamp(observed_at),
            backend=backend,
            source="DataFrame",
            spec=spec,
            churn_dates=bool(churn_dates),
        )

    def execute(self, expr):
        """Run an Ibis expression on this journey's backend; a pandas DataFrame."""
        return self.backend.execute(expr)

    def to_pandas(self):
        """The whole journey as a pandas :class:`cxkit.Journey` (only for data that fits)."""
        from ..data import journey_from_tables

        events = self.execute(self.events.order_by(["customer_id", "timestamp", ROW]))
        events = _pandas_events(events.drop(columns=[ROW]))
        customers = _pandas_times(self.execute(self.customers), ("signup_at", "churned_at"))
        customers = customers.sort_values(["signup_at", "customer_id"], kind="stable")
        customers = customers.reset_index(drop=True)
        customers.attrs["churn_dates"] = self.churn_dates
        for col in customers.columns.difference(["customer_id", "signup_at", "churned_at"]):
            if customers[col].dtype == object:
                customers[col] = customers[col].astype("category")
        surveys = None
        if self.surveys is not None:
            surveys = _pandas_times(self.execute(self.surveys), ("timestamp",))
            surveys = surveys.sort_values("timestamp", kind="stable").reset_index(drop=True)
        return journey_from_tables(
            events,
            customers,
            surveys,
            observed_at=self.observed_at,
            source=self.source,
            spec=self.spec,
        )

    def summary(self):
        """Row counts (computed by the engine)."""
        ev = self.events
        counts = self.execute(
            ev.aggregate(
                events=ev.count(),
                people=ev.customer_id.nunique(),
                first=ev.timestamp.min(),
            )
        ).iloc[0]
        rows = [
            ("events", int(counts["events"])),
            ("people in events", int(counts["people"])),
            ("customers", int(self.execute(self.customers.count()))),
            (
                "survey answers",
                0 if self.surveys is None else int(self.execute(self.surveys.count())),
            ),
            ("first event", counts["first"]),
            ("observed at", self.observed_at),
        ]
        return pd.DataFrame(rows, columns=["what", "value"]).set_index("what")

    def __repr__(self):
        return (
            f"EngineJourney(engine={self.engine!r}, observed_at={self.observed_at}, "
            f"source={self.source!r})"
        )


def _no_progress_bar(backend):
    """Turn DuckDB's progress bar off. In a Jupyter kernel without ipywidgets DuckDB refuses
    the setting (it would need them to draw one) and draws none anyway: then nothing to do."""
    try:
        backend.raw_sql("SET enable_progress_bar = false")
    except Exception as exc:  # duckdb.InvalidInputException, without importing duckdb here
        if "ipywidgets" not in str(exc):
            raise


def _pandas_times(frame, columns):
    for col in columns:
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame


def _pandas_events(frame):
    frame = _pandas_times(frame, ("timestamp",))
    for col in ("customer_id", "event", "channel", "device"):
        if col in frame.columns:
            frame[col] = frame[col].astype("category")
    return frame


# --------------------------------------------------------------------------- opening


#: The environment variable that gives :func:`read_journey_engine` its default memory limit.
MEMORY_LIMIT_ENV = "CXKIT_DUCKDB_MEMORY_LIMIT"


def read_journey_engine(
    folder,
    *,
    engine="duckdb",
    observed_at=None,
    events=None,
    customers=None,
    surveys=None,
    spec=None,
    memory_limit=None,
    threads=None,
    backend=None,
    **config,
):
    """Open a data folder on DuckDB: ``cxkit.read_journey(folder, engine="duckdb")``.

    The files (``events.parquet``, ``events.csv`` …, or the spec's ``[tables.<name>] file``)
    are read by DuckDB where they are: a log larger than memory works. Column mappings,
    timestamps and ``observed_at`` come from the folder's spec as with the pandas loader.

    Parameters
    ----------
    folder : str or Path
    engine : {"duckdb"}
    observed_at, events, customers, surveys, spec
        As :func:`cxkit.read_journey`.
    memory_limit : str, optional
        DuckDB's ``memory_limit`` (e.g. ``"6GB"``); it spills to disk beyond it. Default: the
        environment variable ``CXKIT_DUCKDB_MEMORY_LIMIT`` when set (``cxkit report`` sets it
        for its notebooks), else DuckDB's own default (80% of the machine's memory).
    threads : int, optional
        DuckDB's ``threads``.
    backend : ibis backend, optional
        An open DuckDB connection to use instead of a new one.
    **config
        Other DuckDB settings, e.g. ``temp_directory="/scratch"`` (where it spills). By
        default the allocator returns freed memory soon (``allocator_background_threads``,
        ``allocator_flush_threshold="32MB"``).

    Returns
    -------
    EngineJourney
    """
    from ..data.journey import _LOADERS, _check_mapping, _table_path
    from ..data.spec import read_spec

    if engine != "duckdb":
        raise DataError(
            "read_journey(engine=...)",
            [{"column": "engine", "expected": f"'pandas' or 'duckdb'; got {engine!r}"}],
            hint="for Spark or a warehouse, open it with Ibis and use cxkit.connect(backend, ...)",
        )
    ibis = _ibis()
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(
            folder,
            [{"column": None, "expected": "a folder holding an events file; it is not one"}],
        )
    the_spec = read_spec(folder).override(spec)
    mappings = {"events": events, "customers": customers, "surveys": surveys}
    for name, loader in _LOADERS.items():
        _check_mapping(name, mappings.get(name), loader)
    paths = {name: _table_path(folder, name, the_spec) for name in _LOADERS}
    if paths["events"] is None:
        raise DataError(
            folder,
            [
                {
                    "column": None,
                    "expected": "a file events.csv, events.csv.gz or events.parquet; none found",
                }
            ],
            columns=sorted(p.name for p in folder.iterdir()),
        )
    if backend is None:
        memory_limit = memory_limit or os.environ.get(MEMORY_LIMIT_ENV) or None
        if memory_limit is not None:
            config["memory_limit"] = str(memory_limit)
        if threads is not None:
            config["threads"] = int(threads)
        # give freed memory back to the system soon after each task: otherwise the pages of a
        # finished query stay resident beside the pulled-back table (measured on the churn
        # features, 30M events: 2.5 -> 2.0 GiB peak)
        config.setdefault("allocator_background_threads", True)
        config.setdefault("allocator_flush_threshold", "32MB")
        backend = ibis.duckdb.connect(**config)
    backend.raw_sql("SET TimeZone = 'UTC'")
    _no_progress_bar(backend)
    tables = {}
    for name, path in paths.items():
        if path is None:
            tables[name] = None
            continue
        if path.suffix in (".parquet", ".pq"):
            tables[name] = backend.read_parquet(path, file_row_number=True).rename(
                {ROW: "file_row_number"}
            )
        else:
            raw = backend.read_csv(path, all_varchar=True)  # parsed here, as pandas does
            tables[name] = raw.mutate(**{ROW: ibis.row_number()})
    keywords = {
        name: {
            **the_spec.parse_keywords(),
            **the_spec.loader_keywords(name),
            **(mappings.get(name) or {}),
        }
        for name in _LOADERS
    }
    return _build(
        backend,
        tables,
        keywords,
        the_spec,
        observed_at=observed_at if observed_at is not None else the_spec.observed_at,
        source=str(folder),
        names={n: str(p) for n, p in paths.items() if p is not None},
    )


def connect(
    backend,
    events="events",
    customers=None,
    surveys=None,
    *,
    observed_at=None,
    spec=None,
    order=None,
):
    """A journey from tables of any Ibis backend (DuckDB, Spark, Postgres, BigQuery …).

    Parameters
    ----------
    backend : ibis backend
        E.g. ``ibis.duckdb.connect("shop.db")`` or ``ibis.pyspark.connect(session)``.
    events, customers, surveys : str or ibis Table
        Table names in the backend (or Ibis tables). ``customers`` and ``surveys`` are optional;
        without customers they are derived from the events as the pandas loader does.
    observed_at : str or Timestamp, optional
        When the data was extracted; default the latest timestamp across the tables.
    spec : Spec or dict, optional
        Column mapping (``{"tables": {"events": {"customer_id": "user_id"}}}``), timestamps,
        business model, as in ``cxkit.toml``.
    order : str, optional
        A column of the events giving the order of rows that tie on person and time (an
        insertion id). Without one, tied rows are ordered by event name: a table in a database
        has no row order.

    Returns
    -------
    EngineJourney

    Examples
    --------
    >>> import ibis, cxkit                                        # doctest: +SKIP
    >>> con = ibis.duckdb.connect("shop.duckdb")                  # doctest: +SKIP
    >>> j = cxkit.connect(con, events="clicks", customers="crm")  # doctest: +SKIP
    """
    ibis = _ibis()
    the_spec = Spec().override(spec) if not isinstance(spec, Spec) else spec

    def table(value):
        if value is None:
            return None
        if isinstance(value, str):
            return backend.table(value)
        return value

    tables = {"events": table(events), "customers": table(customers), "surveys": table(surveys)}
    names = {
        n: (v if isinstance(v, str) else f"{n} table")
        for n, v in (("events", events), ("customers", customers), ("surveys", surveys))
        if v is not None
    }
    ev = tables["events"]
    keywords = {
        name: {**the_spec.parse_keywords(), **the_spec.loader_keywords(name)}
        for name in ("events", "customers", "surveys")
    }
    event_col = keywords["events"].get("event", "event")
    if order is not None:
        if order not in ev.columns:
            raise DataError(
                names["events"],
                [{"column": order, "expected": "the order= column; it is not in the table"}],
                columns=list(ev.columns),
            )
        tables["events"] = ev.mutate(**{ROW: ev[order].cast("int64")})
    else:
        tie = [ev[event_col]] if event_col in ev.columns else []
        cust = keywords["events"].get("customer", "customer_id")
        ts = keywords["events"].get("timestamp", "timestamp")
        # ties need an order within a person only: partitioned, so Spark need not sort globally
        keys = [ev[c] for c in (ts,) if c in ev.columns] + tie
        group = [ev[cust]] if cust in ev.columns else []
        tables["events"] = ev.mutate(
            **{ROW: ibis.row_number().over(group_by=group, order_by=keys)}
        )
    return _build(
        backend,
        tables,
        keywords,
        the_spec,
        observed_at=observed_at if observed_at is not None else the_spec.observed_at,
        source=getattr(backend, "name", "engine"),
        names=names,
        numbered=False,  # a database table has no row numbers to quote
    )


# --------------------------------------------------------------------------- the contract

#: keyword of the loader -> canonical column, per table
_KEYS = {
    "events": {
        "customer": "customer_id",
        "timestamp": "timestamp",
        "event": "event",
        "channel": "channel",
        "device": "device",
        "value": "value",
        "session_id": "session_id",
    },
    "customers": {"customer": "customer_id", "signup_at": "signup_at", "churned_at": "churned_at"},
    "surveys": {
        "customer": "customer_id",
        "timestamp": "timestamp",
        "survey": "survey",
        "score": "score",
        "stage": "stage",
        "touchpoint": "touchpoint",
        "comment": "comment",
    },
}
_CONTRACT = {"events": _EVENTS, "customers": _CUSTOMERS, "surveys": _SURVEYS}
_TIMES = {
    "events": ("timestamp",),
    "customers": ("signup_at", "churned_at"),
    "surveys": ("timestamp",),
}


def _rename(table, name, keywords, source):
    """Canonical names for the user's columns; a DataError when a required one is missing."""
    mapping = {}
    for key, canonical in _KEYS[name].items():
        theirs = keywords.get(key) or canonical
        mapping[canonical] = theirs
    missing = [
        f"{c}" + (f" (mapped from '{mapping[c]}')" if mapping[c] != c else "")
        for c in _CONTRACT[name]["required"]
        if mapping[c] not in table.columns
    ]
    if missing:
        raise DataError(
            source,
            [{"column": c, "expected": "required column is missing"} for c in missing],
            columns=[c for c in table.columns if c != ROW],
            hint=f"map your column names in cxkit.toml: [tables.{name}] customer_id = 'user_id'",
        )
    found = {c: theirs for c, theirs in mapping.items() if theirs in table.columns}
    rest = [c for c in table.columns if c not in found.values() and c not in found]
    return table.select(*[table[t].name(c) for c, t in found.items()], *rest), found


def _timestamp(col, keywords, name, column, source, checks):
    """``col`` as a naive UTC timestamp, and the checks that its text was a time."""
    ibis = _ibis()
    dtype = col.type()
    timezone = keywords.get("timezone")
    fmt = keywords.get("date_format")
    if dtype.is_timestamp():
        if dtype.timezone is not None:
            return col.cast(ibis.dtype("timestamp"))  # the session is in UTC: this is UTC
        return _localize(col, timezone)
    if dtype.is_date():
        return _localize(col.cast("timestamp"), timezone)
    if not dtype.is_string():
        raise DataError(
            source,
            [
                {
                    "column": column,
                    "expected": f"timestamps or text dates; the column holds {dtype}",
                }
            ],
        )
    text = col.strip()
    if fmt:
        parsed = text.as_timestamp(fmt)
        aware = ibis.literal(False)
    else:
        if keywords.get("dayfirst"):
            raise DataError(
                source,
                [
                    {
                        "column": column,
                        "expected": "dayfirst dates are read by the pandas engine only; on an "
                        "engine give the exact format",
                    }
                ],
                hint="in cxkit.toml: [timestamps] format = '%d/%m/%Y %H:%M'",
            )
        aware = text.re_search(r"[T ]\d{1,2}:\d\d(:\d\d(\.\d*)?)?\s*(Z|UTC|[+-]\d\d(:?\d\d)?)$")
        as_aware = text.try_cast("timestamp('UTC')").cast("timestamp")
        naive = _localize(text.try_cast("timestamp"), timezone)
        parsed = ibis.ifelse(aware, as_aware, naive)
        if not timezone:
            checks.append(
                (
                    column,
                    "one kind of time: these have a UTC offset while others have none, so the "
                    "zone of the others is unknown (set [timestamps] timezone)",
                    aware,
                    "mixed",
                )
            )
    checks.append(
        (
            column,
            "a date or date-time (text that reads as a time)",
            text.notnull() & (text != "") & parsed.isnull(),
            None,
        )
    )
    return parsed


def _localize(col, timezone):
    """Naive wall times in ``timezone`` -> naive UTC (DuckDB: its ``timezone`` function)."""
    if not timezone:
        return col
    ibis = _ibis()

    import ibis.expr.datatypes as dt

    def _tz(zone, ts): ...

    _tz = ibis.udf.scalar.builtin(
        _tz,
        name="timezone",
        signature=((dt.string, dt.timestamp), dt.Timestamp(timezone="UTC")),
    )

    return _tz(timezone, col).cast("timestamp")


def _canonical(table, name, keywords, source):
    """(canonical table, checks): checks are (column, expected, bad-row predicate, kind)."""
    ibis = _ibis()
    table, found = _rename(table, name, keywords, source)
    checks = []
    columns = {}
    for col in table.columns:
        value = table[col]
        if col == "customer_id" or (name == "events" and col == "event"):
            value = value.cast("string").strip()
            checks.append((col, "a value in every row", value.isnull() | (value == ""), None))
        elif col in _TIMES[name]:
            value = _timestamp(value, keywords, name, col, source, checks)
            if col != "churned_at":
                checks.append((col, "a timestamp in every row", table[col].isnull(), None))
        elif name == "events" and col == "value":
            raw = value
            value = (
                value.cast("float64")
                if value.type().is_numeric()
                else value.cast("string").strip().try_cast("float64")
            )
            checks.append((col, "numbers (revenue)", raw.notnull() & value.isnull(), None))
        elif name == "surveys" and col == "survey":
            value = value.cast("string").strip().lower()
            known = value.isin(list(SURVEY_SCALES))
            checks.append(
                (
                    col,
                    "one of " + ", ".join(SURVEY_SCALES) + "; unknown survey types",
                    value.notnull() & ~known,
                    None,
                )
            )
        elif name == "surveys" and col == "score":
            value = (
                value.try_cast("float64")
                if not value.type().is_numeric()
                else value.cast("float64")
            )
        columns[col] = value
    if name == "customers" and "churned_at" not in columns:
        columns["churned_at"] = ibis.null().cast("timestamp")
    if name == "customers":
        checks.append(
            (
                "churned_at",
                "a churn date on or after signup_at",
                columns["churned_at"] < columns["signup_at"],
                None,
            )
        )
    if name == "surveys":
        kind, score = columns["survey"], columns["score"]
        bad = ibis.literal(False)
        for s, (lo, hi) in SURVEY_SCALES.items():
            bad = bad | ((kind == s) & ((score < lo) | (score > hi) | (score != score.round())))
        checks.append(
            (
                "score",
                "whole numbers in the survey's scale (nps 0–10, csat 1–5, ces 1–7)",
                bad,
                None,
            )
        )
        checks.append(
            ("score", "whole-number scores; these are not numbers", score.isnull(), None)
        )
        columns["score"] = score.cast("int64")
    out = table.select(**columns)
    checks = [(col, expected, bad, kind, table) for col, expected, bad, kind in checks]
    return out, checks


def _run_checks(backend, checks, source, numbered=True):
    """One scan counts every check's bad rows; examples (the file's own values, with the row
    number) only for the failing ones. ``checks``: (column, expected, bad, kind, table)."""
    if not checks:
        return
    table = checks[0][4]
    metrics = {}
    for i, (_, _, bad, kind, _) in enumerate(checks):
        if kind == "mixed":
            metrics[f"a{i}"] = bad.fill_null(False).cast("int64").sum()
            metrics[f"n{i}"] = (~bad.fill_null(True)).cast("int64").sum()
        else:
            metrics[f"c{i}"] = bad.fill_null(False).cast("int64").sum()
    counts = backend.execute(table.aggregate(**metrics)).iloc[0]
    problems = []
    for i, (col, expected, bad, kind, _) in enumerate(checks):
        if kind == "mixed":
            n = int(counts[f"a{i}"] or 0)
            if not (n and int(counts[f"n{i}"] or 0)):
                continue
        else:
            n = int(counts[f"c{i}"] or 0)
            if not n:
                continue
        show = [c for c in dict.fromkeys(["customer_id", col]) if c in table.columns]
        rows = table.filter(bad.fill_null(False))
        if ROW in table.columns:
            rows = rows.order_by(ROW)
        rows = backend.execute(rows.limit(_MAX_EXAMPLES))
        examples = [
            (f"row {int(r[ROW]) + 1}: " if numbered and ROW in rows.columns else "")
            + ", ".join(f"{c}={r[c]}" for c in show)
            for _, r in rows.iterrows()
        ]
        problems.append({"column": col, "expected": expected, "rows": n, "examples": examples})
    if problems:
        raise DataError(source, problems, columns=[c for c in table.columns if c != ROW])


def _build(backend, tables, keywords, spec, *, observed_at, source, names, numbered=True):
    from .._args import moment
    from ..data.journey import PURCHASE_LIKE

    ibis = _ibis()
    out = {}
    for name in ("events", "customers", "surveys"):
        raw = tables.get(name)
        if raw is None:
            out[name] = None
            continue
        where = names.get(name, name)
        canon, checks = _canonical(raw, name, keywords[name], where)
        _run_checks(backend, checks, where, numbered)
        out[name] = canon
    events = out["events"]
    churn_dates = True
    if out["customers"] is None:
        churn_dates = False
        names_present = backend.execute(events.select("event").distinct())["event"].astype(str)
        if spec.activity is not None:
            chosen = [a for a in spec.activity if a in set(names_present)]
            if not chosen:
                raise DataError(
                    names.get("events", "events"),
                    [
                        {
                            "column": "business.activity",
                            "expected": "event names that occur in the events; none of "
                            f"{list(spec.activity)} does",
                        }
                    ],
                    columns=sorted(names_present)[:30],
                )
        else:
            hit = names_present.str.contains(PURCHASE_LIKE, case=False, regex=True)
            chosen = list(names_present[hit]) or list(names_present)
        active = events.filter(events.event.isin(chosen))
        out["customers"] = active.group_by("customer_id").aggregate(
            signup_at=active.timestamp.min(), churned_at=ibis.null().cast("timestamp")
        )
    else:
        customers = out["customers"]
        dup = (
            customers.group_by("customer_id")
            .aggregate(n=customers.count())
            .filter(lambda t: t.n > 1)
        )
        n_dup = int(backend.execute(dup.count()))
        if n_dup:
            ex = backend.execute(dup.order_by("customer_id").limit(_MAX_EXAMPLES))["customer_id"]
            raise DataError(
                names.get("customers", "customers"),
                [
                    {
                        "column": "customer_id",
                        "expected": "one row per customer; these ids appear more than once",
                        "rows": n_dup,
                        "examples": list(ex),
                    }
                ],
            )
        churn_dates = "churned_at" in [
            c for c in _rename(tables["customers"], "customers", keywords["customers"], "")[1]
        ]
    if out["customers"] is not None and "churned_at" not in out["customers"].columns:
        out["customers"] = out["customers"].mutate(churned_at=ibis.null().cast("timestamp"))
    latest = []
    for name, cols in _TIMES.items():
        t = out[name]
        if t is None:
            continue
        got = backend.execute(t.aggregate(**{c: t[c].max() for c in cols}))
        latest += [v for v in got.iloc[0] if pd.notna(v)]
    if observed_at is None:
        observed = pd.Timestamp(max(latest)).tz_localize(None) if latest else None
    else:
        observed = moment(observed_at, "observed_at", "read_journey")
    return EngineJourney(
        events=out["events"],
        customers=out["customers"],
        surveys=out["surveys"],
        observed_at=observed,
        backend=backend,
        source=source,
        spec=spec,
        churn_dates=churn_dates,
    )

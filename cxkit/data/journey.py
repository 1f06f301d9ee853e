"""The Journey (events, customers, surveys, observed_at) and reading a whole data folder."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .cache import cache_folder, journey_key, read_cached
from .contract import (
    _MAX_EXAMPLES,
    DataError,
    _empty_surveys,
    read_customers,
    read_events,
    read_surveys,
)
from .spec import Spec, read_spec


@dataclass
class Journey:
    """The three tables of one extraction, and the moment it was taken.

    Attributes
    ----------
    events, customers, surveys : DataFrame
        Canonical tables (see :func:`read_events`, :func:`read_customers`, :func:`read_surveys`).
        ``surveys`` is an empty table with the canonical columns when there were none.
    observed_at : Timestamp
        When the data was extracted: given by the user, or the latest timestamp across all
        three tables. Every analysis takes its censoring date from here.
    source : str
        Where the tables came from.
    notes : dict
        Counts worth knowing (prospects, unknown survey ids, …), see :meth:`summary`.
    spec : Spec
        What the analyst said about the data (``cxkit.toml`` in the folder, or the defaults).
    """

    events: pd.DataFrame
    customers: pd.DataFrame
    surveys: pd.DataFrame
    observed_at: pd.Timestamp
    source: str = "DataFrame"
    notes: dict = field(default_factory=dict)
    spec: Spec = field(default_factory=Spec)

    @property
    def business_model(self):
        """``"contractual"`` (churn dates in customers) or ``"non-contractual"`` (customers are
        lost after an inactivity gap): the spec's word, else contractual when the customers
        table came with a ``churned_at`` column."""
        if self.spec.business_model is not None:
            return self.spec.business_model
        has_dates = self.customers.attrs.get("churn_dates", True)
        return "contractual" if has_dates else "non-contractual"

    def summary(self):
        """A small table of row counts and what the loader noticed (nothing is dropped)."""
        rows = [
            ("events", len(self.events)),
            ("people in events", self.notes.get("people")),
            ("customers", len(self.customers)),
            ("prospects (in events, never customers)", self.notes.get("prospects")),
            ("customers without any event", self.notes.get("customers_without_events")),
            ("churned customers", int(self.customers["churned_at"].notna().sum())),
            ("survey answers", len(self.surveys)),
            ("survey answers of unknown customers", self.notes.get("unknown_survey_ids")),
            ("first event", self.events["timestamp"].min()),
            ("observed at", self.observed_at),
        ]
        return pd.DataFrame(rows, columns=["what", "value"]).set_index("what")

    def __repr__(self):
        return (
            f"Journey(events={len(self.events):,}, customers={len(self.customers):,}, "
            f"surveys={len(self.surveys):,}, observed_at={self.observed_at}, "
            f"source={self.source!r})"
        )


#: The file names a table may have in a folder.
SUFFIXES = (".parquet", ".pq", ".csv.gz", ".csv")


def _find(folder, stem):
    """The one file of table ``stem`` in ``folder`` (None when there is none); two candidates
    (``events.csv`` beside an older ``events.parquet``) are an error naming both."""
    found = [folder / f"{stem}{suffix}" for suffix in SUFFIXES]
    found = [p for p in found if p.is_file()]
    if len(found) > 1:
        raise DataError(
            folder,
            [
                {
                    "column": None,
                    "expected": f"one file for the {stem} table; there are {len(found)}",
                    "rows": len(found),
                    "examples": [p.name for p in found],
                }
            ],
            hint=f"remove (or move away) the ones that are not current, or name the one to "
            f"read in cxkit.toml: [tables.{stem}] file = '{found[0].name}'",
        )
    return found[0] if found else None


def read_journey(
    folder,
    *,
    observed_at=None,
    events=None,
    customers=None,
    surveys=None,
    spec=None,
    engine="pandas",
    **engine_options,
):
    """Read ``events`` and (optional) ``customers`` and ``surveys`` from a folder.

    Files are found as ``events.csv``, ``events.csv.gz`` or ``events.parquet`` (likewise for
    the others), or as the spec's ``[tables.<name>] file = "..."``. The folder's spec
    (``cxkit.toml``) maps columns, says how timestamps are written and gives ``observed_at``;
    explicit arguments override it. Without a customers file, customers are derived from the
    events (:func:`customers_from_events`).

    Parameters
    ----------
    folder : str or Path
    observed_at : str or Timestamp, optional
        When the data was extracted. Default: the spec's, else the latest timestamp across all
        tables.
    events, customers, surveys : dict, optional
        Column mappings for each loader, as its keywords, e.g.
        ``events={"customer": "user_id", "timestamp": "ts"}``; they update the spec's
        ``[tables.<name>]`` mapping key by key.
    spec : Spec or dict, optional
        Overrides the folder's spec file (``cxkit.toml``) key by key.
    engine : {"pandas", "duckdb"}
        ``"duckdb"``: the files stay on disk and DuckDB reads them (logs larger than memory);
        the result is a :class:`cxkit.engine.EngineJourney` that the reductions accept (see
        :func:`cxkit.engine.read_journey_engine`, which takes ``memory_limit`` and
        ``threads``). Needs ``pip install 'cxkit[duckdb]'``.

    Notes
    -----
    Under ``cxkit report`` the folder is read once: the notebooks' calls load the Journey the
    report stored, keyed by the files' content (:mod:`cxkit.data.cache`).

    Examples
    --------
    >>> import cxkit
    >>> j = cxkit.read_journey(cxkit.sample_dir())
    >>> j.observed_at >= j.events["timestamp"].max()
    True
    """
    if engine != "pandas":
        from ..engine import read_journey_engine

        return read_journey_engine(
            folder,
            engine=engine,
            observed_at=observed_at,
            events=events,
            customers=customers,
            surveys=surveys,
            spec=spec,
            **engine_options,
        )
    folder = Path(folder)
    if folder.is_file():
        raise DataError(
            folder,
            [
                {
                    "column": None,
                    "expected": "a folder holding an events file (and customers, surveys); "
                    "this is a file",
                }
            ],
            hint=f"pass the folder that holds it ({folder.parent}), or read one table with "
            "cxkit.read_events / read_customers / read_surveys",
        )
    if not folder.is_dir():
        raise DataError(
            folder,
            [
                {
                    "column": None,
                    "expected": "a folder holding an events file (and customers, surveys); "
                    "it does not exist",
                }
            ],
        )
    the_spec = read_spec(folder).override(spec)
    given = {"events": events, "customers": customers, "surveys": surveys}

    def read():
        return journey_from_folder(folder, the_spec, observed_at=observed_at, mappings=given)

    cache = cache_folder()  # set by `cxkit report`: the folder was read once already
    if cache is None:
        return read()
    paths = {name: _table_path(folder, name, the_spec) for name in _LOADERS}
    if paths["events"] is None:
        return read()  # its DataError says what is missing
    key = journey_key(paths, the_spec, (str(folder.resolve()), observed_at, given))
    return read_cached(cache, key, read)


_LOADERS = {"events": read_events, "customers": read_customers, "surveys": read_surveys}


def journey_from_folder(folder, spec, *, observed_at=None, mappings=None):
    """Read a folder with exactly this spec (the folder's own spec file is not read)."""
    folder = Path(folder)
    mappings = mappings or {}
    for name, loader in _LOADERS.items():
        _check_mapping(name, mappings.get(name), loader)
    paths = {name: _table_path(folder, name, spec) for name in _LOADERS}
    if paths["events"] is None:
        present = sorted(p.name for p in folder.iterdir())
        raise DataError(
            folder,
            [
                {
                    "column": None,
                    "expected": "a file events.csv, events.csv.gz or events.parquet; none found "
                    "(customers.csv and surveys.csv are optional)",
                }
            ],
            columns=present,
            hint="rename your export, or name it in cxkit.toml: [tables.events] file = '...'",
        )
    parse = spec.parse_keywords()
    tables = {}
    for name, loader in _LOADERS.items():
        if paths[name] is None:
            tables[name] = None
            continue
        keywords = {**parse, **spec.loader_keywords(name), **(mappings.get(name) or {})}
        tables[name] = loader(paths[name], **keywords)
    if tables["customers"] is None:
        tables["customers"] = customers_from_events(tables["events"], activity=spec.activity)
    return journey_from_tables(
        tables["events"],
        tables["customers"],
        tables["surveys"],
        observed_at=observed_at if observed_at is not None else spec.observed_at,
        source=str(folder),
        spec=spec,
    )


def _table_path(folder, name, spec):
    file = spec.tables.get(name, {}).get("file")
    if file is None:
        return _find(folder, name)
    path = folder / file
    if not path.is_file():
        raise DataError(
            spec.source,
            [
                {
                    "column": f"tables.{name}.file",
                    "expected": f"the file {path} to exist; it does not",
                }
            ],
            columns=sorted(p.name for p in folder.iterdir()),
        )
    return path


#: Event names that look like a purchase (matched anywhere in the name, any case).
PURCHASE_LIKE = r"purchase|order|transaction|checkout_complete|buy"


def purchase_like(names):
    """The event names among ``names`` that look like a purchase or an order."""
    names = pd.Series(pd.unique(pd.Series(list(names), dtype=object)), dtype="string")
    hit = names.str.contains(PURCHASE_LIKE, case=False, regex=True).fillna(False)
    return [str(n) for n in names[hit.to_numpy()]]


def customers_from_events(events, activity=None):
    """A customers table derived from the events alone (a clickstream without a CRM export).

    A customer is a person with at least one *activity* event: ``activity`` (the spec's
    ``business.activity``) if given, else the events whose name looks like a purchase or an
    order (``purchase``, ``order``, ``transaction``, ``checkout_complete``, ``buy``), else every
    event. ``signup_at`` is their first activity event; there are no churn dates, so the
    journey is non-contractual unless the spec says otherwise.

    Parameters
    ----------
    events : DataFrame
        Canonical events (:func:`read_events`).
    activity : list of str, optional
        The event names that make a person a customer.

    Returns
    -------
    DataFrame
        ``customer_id``, ``signup_at``, ``churned_at`` (empty), sorted by ``signup_at``;
        ``.attrs["derived"]`` says the rule in words, ``.attrs["churn_dates"]`` is False.

    Examples
    --------
    >>> import pandas as pd
    >>> from cxkit.data import read_events
    >>> from cxkit.data.journey import customers_from_events
    >>> ev = read_events(pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "timestamp": ["2024-01-01", "2024-01-03", "2024-01-02"],
    ...     "event": ["visit", "order", "visit"]}))
    >>> customers_from_events(ev)[["customer_id", "signup_at"]].to_dict("list")
    {'customer_id': ['a'], 'signup_at': [Timestamp('2024-01-03 00:00:00')]}
    """
    names = events["event"].astype(object)
    present = pd.unique(names)
    if activity is not None:
        missing = [a for a in activity if a not in set(present)]
        if len(missing) == len(activity):
            raise DataError(
                events.attrs.get("source", "events"),
                [
                    {
                        "column": "business.activity",
                        "expected": "event names that occur in the events; none of "
                        f"{list(activity)} does",
                    }
                ],
                columns=sorted(map(str, present))[:30],
                hint="list some of the event names above in business.activity",
            )
        chosen, rule = list(activity), "activity events named in the spec"
    else:
        chosen = purchase_like(present)
        rule = "events that look like a purchase or an order"
        if not chosen:
            chosen, rule = list(present), "events of any kind (none looks like a purchase)"
    words = ", ".join(map(str, chosen[:5])) + (" …" if len(chosen) > 5 else "")
    rule = f"people with at least one of the {rule} ({words}); signup is their first one"
    active = events.loc[names.isin(chosen).to_numpy(), ["customer_id", "timestamp"]]
    first = active.groupby("customer_id", observed=True, sort=False)["timestamp"].min()
    frame = pd.DataFrame(
        {
            "customer_id": first.index.astype(str).astype(object),
            "signup_at": first.to_numpy().astype("datetime64[ns]"),
            "churned_at": pd.Series(pd.NaT, index=range(len(first)), dtype="datetime64[ns]"),
        }
    )
    frame = frame.sort_values(["signup_at", "customer_id"], kind="stable").reset_index(drop=True)
    frame.attrs = {"source": "derived from events", "churn_dates": False, "derived": rule}
    return frame


def _check_mapping(name, mapping, loader):
    import inspect

    if mapping is None:
        return
    allowed = [p for p in inspect.signature(loader).parameters if p != "data"]
    if not isinstance(mapping, dict):
        raise DataError(
            f"read_journey({name}=...)",
            [
                {
                    "column": name,
                    "expected": "a dict "
                    f"of the loader's keywords, e.g. {{'{allowed[0]}': 'user_id'}}",
                }
            ],
        )
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        raise DataError(
            f"read_journey({name}=...)",
            [{"column": name, "expected": f"keys among {', '.join(allowed)}; got {unknown}"}],
            hint=f"e.g. {name}={{'{allowed[0]}': 'user_id'}}: the key is cxkit's "
            "name, the value is the column in your file",
        )


def journey_from_tables(
    events, customers, surveys=None, *, observed_at=None, source=None, spec=None
):
    """Build a :class:`Journey` from canonical tables (as returned by the loaders).

    Computes ``observed_at`` when not given and counts prospects and unknown survey ids.
    """
    if surveys is None:
        surveys = _empty_surveys()
    latest = max(
        t
        for t in (
            events["timestamp"].max(),
            customers["signup_at"].max(),
            customers["churned_at"].max(),
            surveys["timestamp"].max(),
        )
        if pd.notna(t)
    )
    if observed_at is None:
        observed = pd.Timestamp(latest)
    else:
        from .._args import moment

        observed = moment(observed_at, "observed_at", "read_journey")
    # every table remembers the extraction moment, so that an analysis given one table alone
    # (survival_table(journey.customers)) still censors at the Journey's observed_at
    # (as ISO text: attrs must stay JSON-serialisable, or DataFrame.to_parquet fails)
    for table in (events, customers, surveys):
        table.attrs = {**table.attrs, "observed_at": observed.isoformat()}
    cust_ids = pd.Index(customers["customer_id"])
    seen = pd.Index(events["customer_id"].unique())
    unknown_survey = ~surveys["customer_id"].isin(cust_ids)
    notes = {
        "people": int(len(seen)),
        "prospects": int((~seen.isin(cust_ids)).sum()),
        "customers_without_events": int((~cust_ids.isin(seen)).sum()),
        "unknown_survey_ids": int(unknown_survey.sum()),
        "after_observed_at": int((events["timestamp"] > observed).sum()),
    }
    if customers.attrs.get("derived"):
        notes["customers_derived"] = customers.attrs["derived"]
    cleaning = {
        name: table.attrs["notes"]
        for name, table in (("events", events), ("customers", customers), ("surveys", surveys))
        if table.attrs.get("notes")
    }
    if cleaning:  # what the loaders detected or repaired (they warned once already)
        notes["cleaning"] = cleaning
    if notes["unknown_survey_ids"]:
        ex = list(pd.unique(surveys.loc[unknown_survey, "customer_id"]))[:_MAX_EXAMPLES]
        warnings.warn(
            f"{surveys.attrs.get('source', 'surveys')}: {notes['unknown_survey_ids']} "
            f"survey answer(s) from ids that are not in customers (e.g. {ex}); they "
            "are kept and count in by-stage scores, not in customer joins",
            stacklevel=2,
        )
    return Journey(
        events, customers, surveys, observed, source or "DataFrame", notes, spec or Spec()
    )


def sample_dir():
    """The folder of the bundled sample data (``data/sample`` in the repository)."""
    return Path(__file__).resolve().parents[2] / "data" / "sample"


def load_sample(*, observed_at=None):
    """The bundled sample journey (simulated, every planted effect in ``truth.json``).

    Returns
    -------
    Journey

    Examples
    --------
    >>> import cxkit
    >>> j = cxkit.load_sample()
    >>> len(j.customers) > 1000
    True
    """
    folder = sample_dir()
    if _find(folder, "events") is None:  # installed without the repository's data folder
        from ..simulate import simulate

        journey, _ = simulate()
        return journey
    return read_journey(folder, observed_at=observed_at)


def read_truth(folder=None):
    """The simulator's ground truth (``truth.json``) of a data folder, or None if it has none."""
    path = Path(folder if folder is not None else sample_dir()) / "truth.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())

"""The Journey (events, customers, surveys, observed_at) and reading a whole data folder."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

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


def _find(folder, stem):
    for suffix in (".parquet", ".pq", ".csv.gz", ".csv"):
        path = folder / f"{stem}{suffix}"
        if path.exists():
            return path
    return None


def read_journey(
    folder, *, observed_at=None, events=None, customers=None, surveys=None, spec=None
):
    """Read ``events``, ``customers`` and (optional) ``surveys`` from a folder.

    Files are found as ``events.csv``, ``events.csv.gz`` or ``events.parquet`` (likewise for
    the others). Column mappings are passed as dicts of loader keywords, e.g.
    ``events={"customer": "user_id", "timestamp": "ts"}``.

    Parameters
    ----------
    folder : str or Path
    observed_at : str or Timestamp, optional
        When the data was extracted. Default: the latest timestamp across all tables.
    events, customers, surveys : dict, optional
        Column mappings for each loader.
    spec : Spec or dict, optional
        Overrides the folder's spec file (``cxkit.toml``) key by key.

    Examples
    --------
    >>> import cxkit
    >>> j = cxkit.read_journey(cxkit.sample_dir())
    >>> j.observed_at >= j.events["timestamp"].max()
    True
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(
            folder,
            [
                {
                    "column": None,
                    "expected": "a folder holding events and customers files; it does not exist",
                }
            ],
        )
    paths = {name: _find(folder, name) for name in ("events", "customers", "surveys")}
    missing = [n for n in ("events", "customers") if paths[n] is None]
    if missing:
        present = sorted(p.name for p in folder.iterdir())
        raise DataError(
            folder,
            [
                {
                    "column": None,
                    "expected": f"a file {n}.csv, {n}.csv.gz or {n}.parquet; none found",
                }
                for n in missing
            ],
            columns=present,
            hint="rename your exports, or call read_events/read_customers directly",
        )
    mappings = {
        "events": (events, read_events),
        "customers": (customers, read_customers),
        "surveys": (surveys, read_surveys),
    }
    for name, (mapping, loader) in mappings.items():
        _check_mapping(name, mapping, loader)
    ev = read_events(paths["events"], **(events or {}))
    cu = read_customers(paths["customers"], **(customers or {}))
    su = read_surveys(paths["surveys"], **(surveys or {})) if paths["surveys"] else None
    the_spec = read_spec(folder).override(spec)
    return journey_from_tables(
        ev,
        cu,
        su,
        observed_at=observed_at if observed_at is not None else the_spec.observed_at,
        source=str(folder),
        spec=the_spec,
    )


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

"""The data spec: what only the analyst knows about a data folder, in one file beside the data.

A folder may hold ``cxkit.toml`` (or ``cxkit.json``): column mapping per table, how timestamps are
written, the funnel, the segments to break down by, the attributes known at signup, the business
model, money, ``observed_at``, labels for event names and sections to skip. ``funnel.json`` (the
older file) keeps working as the funnel part. Everything is optional; what is missing is decided
from the data (:func:`Spec.resolve`).

A full example (every key optional)::

    observed_at = "2025-06-30"
    segments = ["device", "channel", "plan"]       # events columns (on the entry event) or
                                                   # customer attributes
    signup_attributes = ["plan", "region"]         # known when the relationship starts
    skip = ["experience.rfm"]                       # sections to leave out of the report

    [tables.events]                                # the kit's name = your column
    file = "clickstream.csv"
    customer_id = "user_id"
    timestamp = "ts"
    event = "action"
    decimal = ","                                  # 12,50 is 12.50 (also: sep = ";", encoding)

    [timestamps]
    dayfirst = true                                # 03/05/2024 is 3 May
    format = "%d/%m/%Y %H:%M"                      # or one exact format
    timezone = "Europe/Madrid"                     # naive times are in this zone

    [funnel]
    window = "7D"
    entry = "all"                                  # or "first"
    steps = { visit = "page_view", cart = "add_to_cart", purchase = ["order", "reorder"] }
    variant = "arm"                                # an A/B test: the column with each arm

    [business]
    model = "non-contractual"                      # or "contractual" (churned_at in customers)
    inactivity = "90D"                             # lost after this long without activity
    activity = ["order", "reorder"]                # the touchpoints that count as activity

    [money]
    currency = "EUR"
    margin_rate = 0.3                              # or margin_column = "margin"
    contact_cost = 1.0
    offer_cost = 10.0
    offer_success = 0.1
    discount_rate = 0.1                            # a year: later margin of a kept customer

    [labels]
    page_view = "Visited the site"

Examples
--------
>>> from cxkit.data.spec import Spec
>>> spec = Spec.from_dict({"business": {"model": "non-contractual", "inactivity": "90D"}})
>>> spec.business_model, spec.inactivity
('non-contractual', '90D')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .contract import DataError

__all__ = ["Spec", "read_spec", "SPEC_FILES", "BUSINESS_MODELS", "TABLE_KEYS"]

#: File names a spec may have in a data folder, in the order they are looked for.
SPEC_FILES = ("cxkit.toml", "cxkit.json")
BUSINESS_MODELS = ("contractual", "non-contractual")
TABLES = ("events", "customers", "surveys")


@dataclass(frozen=True)
class Spec:
    """What the analyst knows about a data folder. Empty fields are decided from the data.

    Attributes
    ----------
    source : str
        The spec file, or ``"(defaults)"``.
    tables : dict
        Per table (``events``, ``customers``, ``surveys``): ``file``, ``encoding``, ``sep``,
        ``decimal`` and canonical column -> the user's column name.
    timestamps : dict
        ``dayfirst``, ``format``, ``timezone``.
    funnel : dict
        ``steps`` (step name -> event or list of events, in order), ``window``, ``entry``,
        ``step_windows``, ``variant`` (the events column or customer attribute holding each
        person's arm of an A/B test).
    segments : list of str or None
        Columns to break results down by; None: decided from the data.
    signup_attributes : list of str or None
        Customer attributes known at signup; None: the kit's defaults that are present.
    business_model : str or None
        ``"contractual"`` or ``"non-contractual"``; None: contractual when the customers table
        has a ``churned_at`` column.
    inactivity : str or None
        For non-contractual data: the gap after which a customer counts as lost; None: chosen
        from the data (:func:`cxkit.retention.choose_inactivity`).
    activity : list of str or None
        The events that count as activity (None: every event).
    money : dict
        ``currency``, ``margin_rate`` or ``margin_column``, ``contact_cost``, ``offer_cost``,
        ``offer_success``, ``discount_rate`` (a year, for the value of a kept customer).
    observed_at : str or None
    labels : dict
        Event name -> words shown to readers.
    skip : list of str
        Report sections to leave out (``"funnel.segments"``, ``"experience"`` …).
    """

    source: str = "(defaults)"
    tables: dict = field(default_factory=dict)
    timestamps: dict = field(default_factory=dict)
    funnel: dict = field(default_factory=dict)
    segments: list | None = None
    signup_attributes: list | None = None
    business_model: str | None = None
    inactivity: str | None = None
    activity: list | None = None
    money: dict = field(default_factory=dict)
    observed_at: str | None = None
    labels: dict = field(default_factory=dict)
    skip: list = field(default_factory=list)

    @classmethod
    def from_dict(cls, raw, source="(dict)"):
        """A spec from a parsed file; unknown keys and wrong values raise :class:`DataError`
        naming the key (``funnel.window``, ``money.margin_rate`` …)."""
        if not isinstance(raw, dict):
            _bad(source, "(top level)", "a table of keys", type(raw).__name__)
        _known(raw, _TOP, source)
        business = _table(raw, "business", source)
        _known(business, ("model", "inactivity", "activity"), source, "business.")
        model = business.get("model")
        if model is not None and model not in BUSINESS_MODELS:
            _bad(source, "business.model", " or ".join(map(repr, BUSINESS_MODELS)), model)
        inactivity = business.get("inactivity")
        if inactivity is not None:
            _duration(inactivity, "business.inactivity", source)
        labels = _table(raw, "labels", source)
        for event, words in labels.items():
            if not isinstance(words, str):
                _bad(source, f"labels.{event}", "words in quotes", words)
        return cls(
            source=str(source),
            tables=_tables(raw, source),
            timestamps=_timestamps(raw, source),
            funnel=_funnel(_table(raw, "funnel", source), source),
            segments=_names(raw, "segments", source),
            signup_attributes=_names(raw, "signup_attributes", source),
            business_model=model,
            inactivity=None if inactivity is None else str(inactivity),
            activity=_names(business, "activity", source, prefix="business."),
            money=_money(_table(raw, "money", source), source),
            observed_at=_date(raw.get("observed_at"), source),
            labels=labels,
            skip=_names(raw, "skip", source) or [],
        )

    def loader_keywords(self, table):
        """The ``[tables.<table>]`` column mapping as keywords of that table's loader
        (``customer_id = "user_id"`` -> ``customer="user_id"``; ``encoding``, ``sep`` and
        ``decimal`` as they are), ``file`` left out."""
        mapping = self.tables.get(table, {})
        return {_KEYWORD.get(k, k): v for k, v in mapping.items() if k != "file"}

    def parse_keywords(self):
        """The ``[timestamps]`` section as the loaders' keywords (dayfirst, date_format,
        timezone)."""
        ts = self.timestamps
        return {
            "dayfirst": ts.get("dayfirst"),
            "date_format": ts.get("format"),
            "timezone": ts.get("timezone"),
        }

    def override(self, other):
        """This spec with every field that ``other`` (a Spec or dict) sets replaced."""
        if other is None:
            return self
        if isinstance(other, dict):
            other = Spec.from_dict(other, source="spec=")
        default = Spec()
        changed = {
            f.name: getattr(other, f.name)
            for f in fields(Spec)
            if f.name != "source" and getattr(other, f.name) != getattr(default, f.name)
        }
        return replace(self, **changed)

    def skips(self, section):
        """True when ``section`` (``"funnel.segments"``) or its parent (``"funnel"``) is skipped."""
        parts = section.split(".")
        return any(".".join(parts[: i + 1]) in self.skip for i in range(len(parts)))

    def label(self, event):
        """The words readers see for an event name: the spec's label, else the name with
        underscores as spaces (``add_to_cart`` reads "add to cart")."""
        if event in self.labels:
            return str(self.labels[event])
        return str(event).replace("_", " ")


_TOP = (
    "tables",
    "timestamps",
    "funnel",
    "segments",
    "signup_attributes",
    "business",
    "money",
    "observed_at",
    "labels",
    "skip",
)

#: Per table: the column names a ``[tables.<name>]`` section may map (canonical names, or the
#: loader's keyword when it differs), besides ``file``.
TABLE_KEYS = {
    "events": ("customer_id", "timestamp", "event", "channel", "device", "value", "session_id"),
    "customers": ("customer_id", "signup_at", "churned_at"),
    "surveys": (
        "customer_id",
        "timestamp",
        "survey",
        "score",
        "stage",
        "touchpoint",
        "comment",
    ),
}
_KEYWORD = {"customer_id": "customer"}
#: Keys of ``[tables.<name>]`` that say how the file is written, not which column is which.
READ_KEYS = ("encoding", "sep", "decimal")


def _bad(source, key, expected, got):
    raise DataError(
        source,
        [{"column": key, "expected": expected, "rows": 1, "examples": [got]}],
        hint=f"fix the key '{key}' in the spec",
    )


def _known(raw, keys, source, prefix=""):
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        _bad(source, prefix + str(unknown[0]), "one of " + ", ".join(sorted(keys)), unknown)


def _table(raw, key, source, prefix=""):
    value = raw.get(key, {})
    if not isinstance(value, dict):
        _bad(source, prefix + key, "a table ([section] in TOML, an object in JSON)", value)
    return dict(value)


def _tables(raw, source):
    tables = _table(raw, "tables", source)
    _known(tables, TABLES, source, "tables.")
    out = {}
    for name in tables:
        mapping = _table(tables, name, source, "tables.")
        allowed = ("file", *TABLE_KEYS[name], "customer", *READ_KEYS)
        _known(mapping, allowed, source, f"tables.{name}.")
        for key, column in mapping.items():
            if not isinstance(column, str) or not column.strip():
                what = {"file": "a file name", "encoding": "an encoding such as 'cp1252'"}.get(
                    key, "the column's name in your file"
                )
                if key == "sep" and isinstance(column, str) and column:
                    continue  # a tab is all white space
                _bad(source, f"tables.{name}.{key}", what, column)
            if key == "decimal" and column not in (",", "."):
                _bad(source, f"tables.{name}.decimal", "',' (12,50) or '.' (12.50)", column)
        out[name] = {("customer_id" if k == "customer" else k): v for k, v in mapping.items()}
    return out


def _timestamps(raw, source):
    ts = _table(raw, "timestamps", source)
    _known(ts, ("dayfirst", "format", "timezone"), source, "timestamps.")
    if "dayfirst" in ts and not isinstance(ts["dayfirst"], bool):
        _bad(source, "timestamps.dayfirst", "true or false", ts["dayfirst"])
    if "format" in ts and (not isinstance(ts["format"], str) or "%" not in ts["format"]):
        _bad(
            source, "timestamps.format", "a strftime format such as '%d/%m/%Y %H:%M'", ts["format"]
        )
    if "timezone" in ts:
        zone = ts["timezone"]
        try:
            import pandas as pd

            pd.Timestamp("2024-01-01").tz_localize(zone)
        except Exception:
            _bad(
                source, "timestamps.timezone", "a time zone such as 'Europe/Madrid' or 'UTC'", zone
            )
    return ts


def _duration(value, key, source):
    from .._args import duration

    try:
        return duration(value, key, source)
    except DataError:
        _bad(source, key, "a duration with a unit, such as '14D', '36h' or '90min'", value)


def _funnel(funnel, source, prefix="funnel."):
    _known(funnel, ("steps", "window", "entry", "step_windows", "variant"), source, prefix)
    if "variant" in funnel and (not isinstance(funnel["variant"], str) or not funnel["variant"]):
        _bad(
            source,
            prefix + "variant",
            "the name of the column that holds each arm",
            funnel["variant"],
        )
    if "steps" in funnel:
        steps = funnel["steps"]
        ok = isinstance(steps, dict) and len(steps) > 0
        for events in steps.values() if ok else ():
            names = [events] if isinstance(events, str) else events
            ok &= isinstance(names, list) and len(names) > 0
            ok &= all(isinstance(n, str) and n for n in names) if isinstance(names, list) else 0
        if not ok:
            _bad(source, prefix + "steps", "a non-empty table of step = event or [events]", steps)
    if "window" in funnel:
        _duration(funnel["window"], prefix + "window", source)
    if funnel.get("entry", "all") not in ("all", "first"):
        _bad(source, prefix + "entry", "'all' or 'first'", funnel["entry"])
    windows = funnel.get("step_windows")
    if windows is not None:
        if isinstance(windows, dict):
            for step, value in windows.items():
                _duration(value, f"{prefix}step_windows.{step}", source)
        elif isinstance(windows, list):
            for i, value in enumerate(windows):
                if value is not None:
                    _duration(value, f"{prefix}step_windows[{i}]", source)
        else:
            _bad(source, prefix + "step_windows", "a table of step = duration", windows)
    return funnel


def _money(money, source):
    keys = ("currency", "margin_rate", "margin_column", "contact_cost", "offer_cost")
    _known(money, (*keys, "offer_success", "discount_rate"), source, "money.")
    for key in ("currency", "margin_column"):
        if key in money and not isinstance(money[key], str):
            _bad(source, f"money.{key}", "words in quotes", money[key])
    if "margin_rate" in money and "margin_column" in money:
        _bad(source, "money.margin_rate", "margin_rate or margin_column, not both", "both")
    checks = {
        "margin_rate": (lambda x: 0 <= x <= 1, "a number from 0 to 1 (0.3 is 30%)"),
        "contact_cost": (lambda x: x >= 0, "a number of zero or more"),
        "offer_cost": (lambda x: x >= 0, "a number of zero or more"),
        "offer_success": (lambda x: 0 < x <= 1, "a number above 0 and at most 1 (0.1 is 10%)"),
        "discount_rate": (lambda x: 0 <= x <= 1, "a number from 0 to 1 a year (0.1 is 10%)"),
    }
    for key, (ok, expected) in checks.items():
        if key not in money:
            continue
        value = money[key]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or value != value or not ok(value):
            _bad(source, f"money.{key}", expected, value)
    return money


def _date(value, source):
    if value is None:
        return None
    import pandas as pd

    try:
        ok = not isinstance(value, (int, float, bool)) and pd.notna(pd.Timestamp(value))
    except (ValueError, TypeError):
        ok = False
    if not ok:
        _bad(source, "observed_at", "a date such as 2025-06-30", value)
    return str(value)


def _names(raw, key, source, prefix=""):
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _bad(source, prefix + key, "a list of names", value)
    return list(value)


def _parse_file(path):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(path, [{"column": None, "expected": f"UTF-8 text: {exc}"}]) from None
    try:
        if path.suffix == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib
            return tomllib.loads(text)
        return json.loads(text)
    except ValueError as exc:  # TOMLDecodeError and JSONDecodeError are ValueErrors
        raise DataError(
            path, [{"column": None, "expected": f"valid {path.suffix[1:].upper()}: {exc}"}]
        ) from None


def read_spec(folder):
    """The spec of a data folder: its ``cxkit.toml``/``cxkit.json`` (with ``funnel.json`` as the
    funnel part), else the defaults. Two spec files in one folder raise :class:`DataError`."""
    if folder is None:
        return Spec()
    folder = Path(folder)
    found = [folder / name for name in SPEC_FILES if (folder / name).is_file()]
    if len(found) > 1:
        raise DataError(
            folder,
            [{"column": None, "expected": "one spec file", "examples": [p.name for p in found]}],
            hint="keep one of them",
        )
    spec = Spec.from_dict(_parse_file(found[0]), source=found[0]) if found else Spec()
    old = folder / "funnel.json"
    if old.is_file() and not spec.funnel:
        raw = _parse_file(old)
        funnel = _funnel(_table({"funnel": raw}, "funnel", old), old, prefix="")
        spec = replace(spec, funnel=funnel)
    return spec

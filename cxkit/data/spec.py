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

    [tables.events]                                # your column names -> the kit's
    file = "clickstream.csv"
    customer_id = "user_id"
    timestamp = "ts"
    event = "action"

    [timestamps]
    dayfirst = true                                # 03/05/2024 is 3 May
    format = "%d/%m/%Y %H:%M"                      # or one exact format
    timezone = "Europe/Madrid"                     # naive times are in this zone

    [funnel]
    window = "7D"
    entry = "all"                                  # or "first"
    steps = { visit = "page_view", cart = "add_to_cart", purchase = ["order", "reorder"] }

    [business]
    model = "non-contractual"                      # or "contractual" (churned_at in customers)
    inactivity = "90D"                             # lost after this long without activity
    activity = ["purchase"]                        # the touchpoints that count as activity

    [money]
    currency = "EUR"
    margin_rate = 0.3                              # or margin_column = "margin"
    contact_cost = 1.0
    offer_cost = 10.0
    offer_success = 0.1

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

__all__ = ["Spec", "read_spec", "SPEC_FILES", "BUSINESS_MODELS"]

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
        Per table (``events``, ``customers``, ``surveys``): ``file`` and canonical column ->
        the user's column name.
    timestamps : dict
        ``dayfirst``, ``format``, ``timezone``.
    funnel : dict
        ``steps`` (step name -> event or list of events, in order), ``window``, ``entry``,
        ``step_windows``.
    segments : list of str or None
        Columns to break results down by; None: decided from the data.
    signup_attributes : list of str or None
        Customer attributes known at signup; None: the kit's defaults that are present.
    business_model : str or None
        ``"contractual"`` or ``"non-contractual"``; None: contractual when the customers table
        has a ``churned_at`` column.
    inactivity : str
        For non-contractual data: the gap after which a customer counts as lost.
    activity : list of str or None
        The events that count as activity (None: every event).
    money : dict
        ``currency``, ``margin_rate`` or ``margin_column``, ``contact_cost``, ``offer_cost``,
        ``offer_success``.
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
    inactivity: str = "90D"
    activity: list | None = None
    money: dict = field(default_factory=dict)
    observed_at: str | None = None
    labels: dict = field(default_factory=dict)
    skip: list = field(default_factory=list)

    @classmethod
    def from_dict(cls, raw, source="(dict)"):
        """A spec from a parsed file; unknown keys and wrong types raise :class:`DataError`."""
        if not isinstance(raw, dict):
            _bad(source, "(top level)", "a table of keys", type(raw).__name__)
        known = {"tables", "timestamps", "funnel", "segments", "signup_attributes", "business"}
        known |= {"money", "observed_at", "labels", "skip"}
        unknown = sorted(set(raw) - known)
        if unknown:
            _bad(source, unknown[0], "one of " + ", ".join(sorted(known)), unknown)
        business = _table(raw, "business", source)
        model = business.get("model")
        if model is not None and model not in BUSINESS_MODELS:
            _bad(source, "business.model", " or ".join(map(repr, BUSINESS_MODELS)), model)
        return cls(
            source=str(source),
            tables=_table(raw, "tables", source),
            timestamps=_table(raw, "timestamps", source),
            funnel=_table(raw, "funnel", source),
            segments=_names(raw, "segments", source),
            signup_attributes=_names(raw, "signup_attributes", source),
            business_model=model,
            inactivity=str(business.get("inactivity", "90D")),
            activity=_names(business, "activity", source, prefix="business."),
            money=_table(raw, "money", source),
            observed_at=None if raw.get("observed_at") is None else str(raw["observed_at"]),
            labels=_table(raw, "labels", source),
            skip=_names(raw, "skip", source) or [],
        )

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
        """The words readers see for an event name (the name itself when no label is given)."""
        return str(self.labels.get(event, event))


def _bad(source, key, expected, got):
    raise DataError(
        source,
        [{"column": key, "expected": expected, "rows": 1, "examples": [got]}],
        hint=f"fix the key '{key}' in the spec",
    )


def _table(raw, key, source):
    value = raw.get(key, {})
    if not isinstance(value, dict):
        _bad(source, key, "a table ([section] in TOML, an object in JSON)", value)
    return dict(value)


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
    text = path.read_text(encoding="utf-8")
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
        spec = replace(spec, funnel=_table({"funnel": raw}, "funnel", old))
    return spec

"""``cxkit init DIR``: profile a data folder and write a commented starter ``cxkit.toml``.

Every value the kit guessed from the data carries a ``# guess: ...`` comment saying why; what it
could not decide is left commented out with an explanation. The file loads with
:func:`~cxkit.data.spec.read_spec` as written.

Examples
--------
>>> import shutil, tempfile, cxkit
>>> folder = shutil.copytree(cxkit.sample_dir(), tempfile.mkdtemp() + "/data")
>>> path = cxkit.init_spec(folder)
>>> path.name, cxkit.read_journey(folder).spec.business_model
('cxkit.toml', 'contractual')
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .contract import DataError
from .profile import _profile
from .spec import SPEC_FILES, read_spec

__all__ = ["init_spec", "starter_spec"]

#: At most this many funnel steps are guessed.
MAX_STEPS = 6
#: An event is a funnel-step candidate when at least this share of people do it.
MIN_SHARE = 0.05


def init_spec(folder, force=False, *, verbose=False):
    """Profile ``folder`` and write a commented starter ``cxkit.toml`` into it.

    Parameters
    ----------
    folder : str or Path
        The data folder (an events file at least).
    force : bool
        Overwrite an existing ``cxkit.toml``. Without it, an existing spec raises
        :class:`DataError` and nothing is written.
    verbose : bool
        Print what was found and what could not be decided (the CLI does).

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import shutil, tempfile, cxkit
    >>> folder = shutil.copytree(cxkit.sample_dir(), tempfile.mkdtemp() + "/data")
    >>> cxkit.init_spec(folder).name
    'cxkit.toml'
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, [{"column": None, "expected": "a data folder; it does not exist"}])
    target = folder / SPEC_FILES[0]
    others = [folder / n for n in SPEC_FILES if (folder / n).exists()]
    if others and not force:
        raise DataError(
            others[0],
            [{"column": None, "expected": "no spec yet: this folder already has one"}],
            hint="edit it, or run `cxkit init --force` (init_spec(..., force=True)) to replace "
            f"{target.name} with a fresh starter",
        )
    if any(p.name != target.name for p in others):
        raise DataError(
            others[-1],
            [{"column": None, "expected": f"only {target.name}; init writes TOML"}],
            hint=f"move {others[-1].name} away first (a folder holds one spec file)",
        )
    text, found, undecided = starter_spec(folder)
    target.write_text(text, encoding="utf-8")
    read_spec(folder)  # the starter must load as written
    if verbose:
        print(f"wrote {target}")
        print("found:\n" + "\n".join(f"  {line}" for line in found))
        if undecided:
            print("could not decide (left commented in the file):")
            print("\n".join(f"  {line}" for line in undecided))
    return target


def starter_spec(folder_or_journey):
    """The text of a starter spec, the lines of what was found and of what was not decided."""
    p, journey = _profile(folder_or_journey)
    w = _Writer()
    found, undecided = _found_lines(p), []
    w.comment(f"cxkit.toml, written by `cxkit init` on {date.today()} from a profile of the data.")
    w.comment('Values marked "guess" were decided from the data: check them. Lines starting')
    w.comment("with # are for you to decide; remove the # to use one. See the README,")
    w.comment('"Your own data: cxkit.toml".')
    for line in found:
        w.comment("  " + line)
    if p["problem"]:
        w.comment("")
        for line in str(p["problem"]).splitlines():
            w.comment("PROBLEM " + line)
    w.blank()
    _top(w, p, undecided)
    _tables(w, p, undecided)
    _timestamps(w, p, undecided)
    if journey is not None:
        _funnel(w, p, journey, undecided)
        _business(w, p, journey, undecided)
        _money(w, p, undecided)
        _labels(w, p)
    else:
        problem = " ".join(str(p["problem"]).split())
        undecided.append(
            f"funnel, business model, segments: the folder could not be read yet ({problem})"
        )
    return w.text(), found, undecided


class _Writer:
    def __init__(self):
        self.lines = []

    def comment(self, text):
        indent = len(text) - len(text.lstrip())
        lines = textwrap.wrap(text, 97, subsequent_indent=" " * (indent + 2)) or [""]
        self.lines.extend(f"# {line}".rstrip() for line in lines)

    def blank(self):
        self.lines.append("")

    def section(self, name, note=None, commented=False):
        head = ("# " if commented else "") + f"[{name}]"
        self.lines.append(head + (f"  # {note}" if note else ""))

    def value(self, key, value, note=None, commented=False):
        line = ("# " if commented else "") + f"{_key(key)} = {_toml(value)}"
        self.lines.append(line + (f"  # {note}" if note else ""))

    def text(self):
        return "\n".join(self.lines).rstrip() + "\n"


def _key(name):
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def _toml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _found_lines(p):
    lines = []
    for name, t in p["tables"].items():
        span = t.get("date_range")
        when = f", {span[0][:10]} to {span[1][:10]}" if span else ""
        cols = ", ".join(f"{c} ({k})" for c, k in t["columns"].items())
        lines.append(f"{name}: {t['file'] or '(table)'}, {t['rows']:,} rows{when}; {cols}")
    if "events" not in p:
        return lines
    top = ", ".join(f"{e['event']} ({e['rows']:,})" for e in p["events"][:8])
    lines.append(f"{p['people']:,} people, {p['customers']:,} customers; events: {top}")
    usual = sorted(p["events"][:12], key=lambda e: (e["median_position"], -e["people"]))
    order = ", ".join(f"{e['event']} ({e['median_position']:g})" for e in usual)
    lines.append(f"usual order (median position of a person's first one): {order}")
    if p["customers_derived"]:
        lines.append(f"no customers table: customers are {p['customers_derived']}")
    churn = f"churn dates: {p['churned']:,} churned" if p["churn_dates"] else "no churn dates"
    lines.append(churn)
    for kind, s in p["surveys"].items():
        lines.append(
            f"survey {kind}: {s['answers']:,} answers, scores {s['lowest']}-{s['highest']}"
        )
    return lines


def _top(w, p, undecided):
    if "observed_at" in p:
        w.value("observed_at", p["observed_at"][:10], "default: the latest timestamp", True)
    segs = {
        **p.get("segments", {}).get("events", {}),
        **p.get("segments", {}).get("customers", {}),
    }
    if segs:
        levels = ", ".join(f"{c}: {n}" for c, n in segs.items())
        w.value("segments", list(segs), f"guess: columns with 2-12 levels ({levels})")
    elif "segments" in p:
        w.value("segments", [], "no column has 2-12 levels: nothing to break results down by")
    attrs = list(p.get("segments", {}).get("customers", {}))
    if attrs:
        note = "could not decide which customer attributes are known at signup; list them"
        w.value("signup_attributes", attrs, note, True)
        undecided.append("signup_attributes: which customer attributes are known at signup")
    w.value("skip", [], 'report sections to leave out, e.g. "experience.rfm"', True)


#: Why each way of writing a file was guessed (``cxkit init`` says it beside the value).
_READ_NOTES = {
    "encoding": "guess: the file is not UTF-8; it reads as this encoding",
    "sep": "guess: the separator that splits every line alike",
    "decimal": "guess: amounts are written with a decimal comma (12,50)",
}
_SEP_NAMES = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _tables(w, p, undecided):
    for name, t in p["tables"].items():
        mapping = p["mapping"].get(name, {})
        unmapped = p["unmapped"].get(name, [])
        read = t.get("read", {})
        if not mapping and not unmapped and not read:
            continue
        w.blank()
        w.section(f"tables.{name}", "the kit's column name = the name in your file")
        for key, value in read.items():
            note = _READ_NOTES[key]
            if key == "sep":
                note = f"guess: columns separated by {_SEP_NAMES.get(value, repr(value))}"
            if key == "encoding" and value in ("utf-16", "utf-32"):
                note = "the file starts with the mark of this encoding"
            w.value(key, value, note)
        for canon, col in mapping.items():
            w.value(canon, col, f"guess: no column {canon}; {col} looks like it")
        present = ", ".join(t["columns"])
        for canon in unmapped:
            w.value(canon, "?", f"could not map: no column looks like {canon}", True)
            undecided.append(f"tables.{name}.{canon}: which column it is (columns: {present})")


def _timestamps(w, p, undecided):
    w.blank()
    w.section("timestamps")
    if p["dayfirst"] is None and p.get("dayfirst_unclear"):
        note = "could not decide: every date like 03/05/2024 reads either way"
        w.value("dayfirst", True, note, True)
        undecided.append("timestamps.dayfirst: dates like 03/05/2024 read either way")
    elif p["dayfirst"] is None:
        w.value("dayfirst", True, "not needed: no date is written like 03/05/2024", True)
    else:
        how = "13/05/2024: day first" if p["dayfirst"] else "05/13/2024: month first"
        w.value("dayfirst", p["dayfirst"], f"guess: dates such as {how}")
    w.value("format", "%d/%m/%Y %H:%M", "one exact format, if all timestamps share it", True)
    note = "could not decide: times without a zone are taken as they are (e.g. UTC)"
    w.value("timezone", "Europe/Madrid", note, True)
    undecided.append("timestamps.timezone: the zone of times written without one")


def _funnel(w, p, journey, undecided):
    steps, why = guess_steps(p)
    w.blank()
    old = p["folder"] and (Path(p["folder"]) / "funnel.json").is_file()
    if old:
        w.section(
            "funnel", "funnel.json in this folder gives the funnel while this is commented", True
        )
        w.value("window", "14D", "the time allowed from the first step to the last", True)
        return
    w.section("funnel")
    if steps is None:
        w.value("window", "14D", "the time allowed from the first step to the last", True)
        w.comment(f"[funnel.steps]  could not decide: {why}")
        w.comment('visit = "page_view"')
        w.comment('purchase = ["order", "reorder"]')
        undecided.append(f"funnel.steps: {why}")
        return
    window, wwhy = guess_window(journey.events, steps)
    w.value("window", window, f"guess: {wwhy}")
    w.value("entry", "first", 'default "all": every entry counts; "first": first one only', True)
    w.section("funnel.steps", f"guess: {why}")
    for step, events in steps.items():
        w.value(step, events)


def guess_steps(p):
    """Funnel steps from a profile: the events at least 5% of people do, in their usual order
    (median position of a person's first one), cut after the first purchase-like event; the
    events people usually start with form one first step. Returns ``(steps, why)``, steps None
    when fewer than two are found."""
    people = max(p.get("people", 0), 1)
    cands = [e for e in p["events"] if e["people"] >= MIN_SHARE * people]
    cands.sort(key=lambda e: (e["median_position"], e["median_days_from_start"], -e["people"]))
    buys = set(p["purchase_like"])
    cut = next((i for i, e in enumerate(cands) if e["event"] in buys), None)
    if cut is not None:
        cands = cands[: cut + 1]
    starts = [e for e in cands if e["median_position"] == 1]
    rest = [e for e in cands if e["median_position"] != 1]
    if len(rest) > MAX_STEPS - bool(starts):  # keep the most common, in order
        keep = sorted(rest, key=lambda e: -e["people"])[: MAX_STEPS - bool(starts)]
        rest = [e for e in rest if e in keep]
    steps = {}
    if len(starts) > 1:
        steps["first_touch"] = [e["event"] for e in starts]
    elif starts:
        steps[starts[0]["event"]] = starts[0]["event"]
    for e in rest:
        steps[e["event"]] = e["event"]
    if len(steps) < 2:
        return None, "fewer than two events are done by at least 5% of people in a usual order"
    why = "events done by at least 5% of people, in their usual order"
    if len(starts) > 1:
        why += "; the events people start with form one first step"
    if cut is not None:
        why += f", up to the first purchase-like event ({cands[-1]['event']})"
    return steps, why


def guess_window(events, steps):
    """The funnel window: 90% of people who reached the last step did so within it (from their
    first first-step event), rounded up to whole days (hours when under a day)."""
    names = list(steps.values())
    first_step = [names[0]] if isinstance(names[0], str) else list(names[0])
    last_step = [names[-1]] if isinstance(names[-1], str) else list(names[-1])
    ev = events[["customer_id", "timestamp", "event"]]
    kind = ev["event"].astype(object)
    start = ev[kind.isin(first_step).to_numpy()].groupby("customer_id", observed=True)
    start = start["timestamp"].min().rename("start")
    end = ev[kind.isin(last_step).to_numpy()].join(start, on="customer_id", how="inner")
    end = end[end["timestamp"] >= end["start"]]
    took = (end.groupby("customer_id", observed=True)["timestamp"].min() - start).dropna()
    if len(took) < 10:
        return "14D", "too few people reached the last step to measure; 14 days by default"
    q = took.quantile(0.9)
    if q < pd.Timedelta("1D"):
        hours = max(1, math.ceil(q / pd.Timedelta("1h")))
        return f"{hours}h", _within(took, f"{hours} hours")
    days = max(1, math.ceil(q / pd.Timedelta("1D")))
    return f"{days}D", _within(took, f"{days} days")


def _within(took, span):
    return f"90% of the {len(took):,} people who reached the last step did so within {span}"


def _business(w, p, journey, undecided):
    w.blank()
    w.section("business")
    if p["churn_dates"]:
        w.value("model", "contractual", "guess: customers have a churned_at column")
    else:
        w.value("model", "non-contractual", "guess: no churn dates; lost after inactivity")
    activity = p["purchase_like"]
    if activity:
        w.value("activity", activity, "guess: the events that look like a purchase or an order")
    else:
        note = "could not decide: no event looks like a purchase, so every event counts"
        w.value("activity", ["purchase"], note, True)
        undecided.append("business.activity: which events count as activity")
    gap, why = guess_inactivity(journey.events, activity or None)
    commented = p["churn_dates"] or gap is None
    if gap is None:
        w.value("inactivity", "90D", f"could not decide: {why}; 90 days by default", True)
        if not p["churn_dates"]:
            undecided.append(f"business.inactivity: {why}")
    else:
        note = f"guess: {why}" + ("; used only by the non-contractual model" if commented else "")
        w.value("inactivity", gap, note, commented)


def guess_inactivity(events, activity=None):
    """The gap after which a customer counts as lost: 90% of the gaps between one person's
    consecutive activity events are shorter. ``(None, why)`` with fewer than 20 gaps."""
    ev = events
    if activity:
        ev = ev[ev["event"].astype(object).isin(activity).to_numpy()]
    ts = ev["timestamp"].to_numpy()
    ids = ev["customer_id"].astype(object).to_numpy()
    same = ids[1:] == ids[:-1]  # events are sorted by customer, then time
    gaps = (ts[1:] - ts[:-1])[same]
    gaps = gaps[gaps > np.timedelta64(0, "s")]
    if len(gaps) < 20:
        return None, "too few repeat activities to measure the usual gap"
    days = max(1, math.ceil(np.quantile(gaps, 0.9) / np.timedelta64(1, "D")))
    return f"{days}D", f"90% of {len(gaps):,} gaps between a person's activities are shorter"


def _money(w, p, undecided):
    w.blank()
    w.section("money", "could not decide: only you know these", True)
    if p["value"]:
        w.value("currency", "EUR", "events have a value column; name its currency", True)
    else:
        w.value("currency", "EUR", "no value column: revenue sections need one", True)
    w.value("margin_rate", 0.3, "share of revenue kept as margin (or margin_column)", True)
    w.value("contact_cost", 1.0, "cost of contacting one customer in a campaign", True)
    w.value("offer_cost", 10.0, "cost of one retention offer", True)
    w.value("offer_success", 0.1, "share of contacted customers the offer keeps", True)
    undecided.append("money: currency, margin, campaign costs and success rate")


def _labels(w, p):
    w.blank()
    w.section("labels", "words readers see instead of event names", True)
    for e in p["events"][:3]:
        w.value(e["event"], e["event"].replace("_", " ").capitalize(), None, True)

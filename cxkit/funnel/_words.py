"""Small helpers shared by the funnel's findings modules (labels, skips, step lookups)."""

from __future__ import annotations

from .._format import duration_text
from ..story import escape, not_applicable

_ADD_STEPS = "add the steps that lead to it in the [funnel] section of cxkit.toml"
_NO_STEPS = "Skipped: the funnel has no steps yet (see the note at the top of this report)."


def _label(journey, name):
    return str(name) if journey is None else journey.spec.label(str(name))


def _skip(journey, key):
    """A not-applicable finding when the spec skips ``key``, else None."""
    if journey is not None and journey.spec.skips(key):
        return not_applicable(key, "This section is left out: the spec's skip list names it.")
    return None


def _entrants(table):
    return int(table["customers"].iloc[0]) if len(table) else 0


def _previous(table, step_index):
    """The name of the step before ``step_index`` in a (whole-population) funnel table."""
    return table.loc[table["step_index"] == step_index - 1, "step"].iloc[0]


def _window_text(table):
    return duration_text(table.attrs.get("window", "14D"))


def _no_entrants(key, table, journey):
    first = escape(_label(journey, table["step"].iloc[0])) if len(table) else "the first step"
    return not_applicable(
        key,
        f"No one entered the funnel: no event matches its first step ({first}). "
        "Check the first step of the [funnel] section in cxkit.toml.",
    )

"""Findings: sentences whose numbers and names come from the data.

Each analysis has a ``findings`` module whose functions take results and return
:class:`Finding` objects — the text, the numbers behind it, and whether it applies to this data
at all. Notebooks show them (:func:`show`); ``cxkit report`` takes the index's headlines from the
same objects, so every number has one source.

The names in findings (a channel, an event) come from the user's files, so they are escaped
before they are rendered as Markdown: a channel called ``<script>`` shows as text, not markup.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field

from . import i18n
from ._args import jsonable
from ._format import UNKNOWN

__all__ = [
    "say",
    "escape",
    "headline",
    "Finding",
    "not_applicable",
    "show",
    "export_tables",
    "show_table",
]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def escape(value):
    """Escape a value for Markdown rendered to HTML: HTML entities and Markdown punctuation."""
    text = html.escape(str(value), quote=True)
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def _fmt(value, spec):
    if isinstance(value, float) and not math.isfinite(value) or value is None:
        return i18n.translate(UNKNOWN)  # readers never see nan / inf / None
    if spec:
        return format(value, spec)
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str):  # words the code built ("months"); a name from the data stays
        return _words(value)
    return str(value)


def _words(value):
    """A value in the reader's language when the catalog knows it — whole, or item by item
    for a list the code joined with commas ("time as a customer, plan, region")."""
    record = i18n.logging_missing()
    out = i18n.translate(value, record=record)
    if out == value and ", " in value and i18n.language() != "en":
        out = ", ".join(i18n.translate(v, record=record) for v in value.split(", "))
    return out


def _render(template, values, esc):
    import string

    template = i18n.translate(template)  # the reader's language, placeholders kept
    out = []
    for literal, name, spec, conv in string.Formatter().parse(template):
        out.append(literal)
        if name is None:
            continue
        value = values[name]
        if conv == "r":
            value = repr(value)
        text = _fmt(value, spec)
        out.append(esc(text) if esc else text)
    return "".join(out)


def say(template, **values):
    """Render a finding as Markdown, with every value escaped.

    ``template`` is trusted prose written by the notebook author (may use Markdown); values are
    formatted with ``{name}`` or ``{name:.1f}`` and escaped.

    Examples
    --------
    >>> say("The weakest step is **{step}** ({pct:.1f}% continue).", step="checkout", pct=41.25)
    <IPython.core.display.Markdown object>
    """
    from IPython.display import Markdown

    return Markdown(_render(template, values, escape))


def headline(template, *, summary=False, **values):
    """Show a key finding and hand it to the report's index page.

    Displays the sentence like :func:`say`, and attaches a plain-text copy that ``cxkit report``
    collects for ``index.html`` (``summary=True`` also puts it in the executive summary).

    Examples
    --------
    >>> headline("Mobile checkout loses **{pct:.0f}%** of buyers.", pct=64.2)  # doctest: +SKIP
    """
    from IPython.display import display

    from .report import FINDING_MIME

    plain = _render(template, values, None).replace("**", "").replace("`", "")
    display(
        {
            "text/markdown": "> " + _render(template, values, escape),
            "text/plain": plain,
            FINDING_MIME: {"text": plain, "summary": bool(summary)},
        },
        raw=True,
    )


@dataclass
class Finding:
    """One thing the report says, with the numbers behind it.

    Parameters
    ----------
    key : str
        Where it belongs: ``"<analysis>.<section>"`` (``"funnel.weakest_step"``); the part before
        the dot names the analysis, as in a spec's ``skip``.
    text : str
        Trusted Markdown prose with ``{name}`` / ``{name:.1f}`` placeholders for ``values``.
    values : dict
        The numbers and names the text uses (escaped when rendered; kept for dashboards).
    applies : bool
        False when the section does not apply to this data; ``text`` then says why and what
        to add.
    headline : bool
        Shown on the report's index page.
    summary : bool
        Also in the index's executive summary.
    needs : str, optional
        For a section that does not apply: the missing data, as a dotted tag (``"surveys"``,
        ``"surveys.nps"``, ``"revenue"``, ``"customer_attributes"``). The index's "Not covered"
        list says each missing thing once: the first finding per tag, none under a broader tag.

    Examples
    --------
    >>> f = Finding("funnel.overall", "**{pct:.1f}%** buy.", {"pct": 4.25}, headline=True)
    >>> f.plain()
    '4.2% buy.'
    """

    key: str
    text: str
    values: dict = field(default_factory=dict)
    applies: bool = True
    headline: bool = False
    summary: bool = False
    needs: str | None = None

    def markdown(self):
        """The sentence as Markdown, values escaped (a headline is a block quote)."""
        body = _render(self.text, self.values, escape)
        if not self.applies:
            return f"*{body}*"
        return f"> {body}" if self.headline else body

    def plain(self):
        """The sentence as plain text (for the index page and findings.json)."""
        return _render(self.text, self.values, None).replace("**", "").replace("`", "")

    def to_dict(self):
        """JSON-safe: key, text (plain), values, applies, headline, summary (and needs, when
        set)."""
        out = {
            "key": self.key,
            "text": self.plain(),
            "values": {k: jsonable(v) for k, v in self.values.items()},
            "applies": self.applies,
            "headline": self.headline,
            "summary": self.summary,
        }
        if self.needs:
            out["needs"] = self.needs
        return out

    def _repr_markdown_(self):
        return self.markdown()


def not_applicable(key, why, needs=None):
    """A finding saying that a section does not apply to this data, why, and what would enable
    it (``why`` is trusted prose, e.g. "There are no survey answers; add surveys.csv ...").
    ``needs`` tags the missing data (see :class:`Finding`)."""
    return Finding(key, why, applies=False, needs=needs)


def show(*findings):
    """Display findings in a notebook; headlines (and sections that do not apply) are handed
    to ``cxkit report`` for the index page.

    Accepts findings or lists of them; ``None`` entries are ignored.
    """
    from IPython.display import display

    from .report import FINDING_MIME

    flat = []
    for f in findings:
        flat.extend(f if isinstance(f, list | tuple) else [f])
    for f in flat:
        if f is None:
            continue
        bundle = {"text/markdown": f.markdown(), "text/plain": f.plain()}
        if f.headline or f.summary or not f.applies:
            bundle[FINDING_MIME] = f.to_dict()
        display(bundle, raw=True)


_EXPORTS = {"folder": None}


def export_tables(folder):
    """Also write every table :func:`show_table` shows as CSV into ``folder`` (None: stop).

    ``cxkit report`` passes ``<out>/tables`` to each notebook, so a report's tables can be
    opened in a spreadsheet; run interactively, a notebook writes nothing unless asked.

    Examples
    --------
    >>> import cxkit, tempfile
    >>> cxkit.story.export_tables(tempfile.mkdtemp())
    >>> cxkit.story.export_tables(None)
    """
    from pathlib import Path

    _EXPORTS["folder"] = None if folder is None else Path(folder)


def show_table(table, *, name, raw=None, title=None):
    """Display a reader's table and, when exporting (:func:`export_tables`), write the raw
    result behind it as ``<name>.csv`` with a link to it under the table.

    Parameters
    ----------
    table : DataFrame
        What readers see (labels in words, rounded, blanks for unknowns).
    name : str
        File name of the CSV, without extension (letters, digits, ``_`` and ``-``).
    raw : DataFrame, optional
        The full-precision table written to CSV (default: ``table``).
    title : str, optional
        A short caption shown above the table.
    """
    from IPython.display import Markdown, display

    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"show_table: name {name!r} must be letters, digits, _ or -")
    if title:
        display(Markdown(f"**{escape(i18n.translate(title))}**"))
    display(_translated_table(table))
    folder = _EXPORTS["folder"]
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    (table if raw is None else raw).to_csv(path, index=raw is None or _named_index(raw))
    link = i18n.translate("The full table as CSV")
    display(Markdown(f"[{link}]({folder.name}/{path.name})"))


_RANGE = re.compile(r"([-+−]?\d\S*(?: \w+)?) to ([-+−]?\d\S*(?: \w+)?)")


def _translated_table(table):
    """A reader's table in the reader's language: headers, index labels and words in cells
    that the catalog knows (names from the data stay as they are); the CSV stays English."""
    import pandas as pd

    if i18n.language() == "en" or not isinstance(table, pd.DataFrame):
        return table

    def word(v, record=False):
        if not isinstance(v, str):
            return v
        if m := _RANGE.fullmatch(v):  # "2 horas to 14 horas", "-46.2 to -41.3"
            return f"{m[1]} a {m[2]}"
        return i18n.translate(v, record=record or i18n.logging_missing())

    def header(v):
        return word(v, record=True)  # headers are the code's words

    def labels(index, word=word):
        if isinstance(index, pd.MultiIndex):
            return index.set_levels([lvl.map(word) for lvl in index.levels]).set_names(
                [word(n) for n in index.names]
            )
        return index.map(word).rename(word(index.name))

    out = table.copy()
    out.columns = labels(out.columns, header)
    out.index = labels(out.index)
    for col in out.select_dtypes(include=["object", "string"]).columns:
        out[col] = out[col].map(word)
    return out


def _named_index(frame):
    return any(n is not None for n in frame.index.names)

"""Sentences for notebooks whose numbers and names come from the data.

Findings in a notebook are computed, and the names in them (a channel, an event) come from the
user's files, so they must be escaped before they are rendered as Markdown: a channel called
``<script>`` shows as text, not markup.
"""

from __future__ import annotations

import html
import re

__all__ = ["say", "escape", "headline"]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def escape(value):
    """Escape a value for Markdown rendered to HTML: HTML entities and Markdown punctuation."""
    text = html.escape(str(value), quote=True)
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def _fmt(value, spec):
    if spec:
        return format(value, spec)
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _render(template, values, esc):
    import string

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

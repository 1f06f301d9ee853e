"""Sentences for notebooks whose numbers and names come from the data.

Findings in a notebook are computed, and the names in them (a channel, an event) come from the
user's files, so they must be escaped before they are rendered as Markdown: a channel called
``<script>`` shows as text, not markup.
"""

from __future__ import annotations

import html
import re

__all__ = ["say", "escape"]

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


def say(template, **values):
    """Render a finding as Markdown, with every value escaped.

    ``template`` is trusted prose written by the notebook author (may use Markdown); values are
    formatted with ``{name}`` or ``{name:.1f}`` and escaped.

    Examples
    --------
    >>> say("The weakest step is **{step}** ({pct:.1f}% continue).", step="checkout", pct=41.25)
    <IPython.core.display.Markdown object>
    """
    import string

    from IPython.display import Markdown

    out = []
    for literal, name, spec, conv in string.Formatter().parse(template):
        out.append(literal)
        if name is None:
            continue
        value = values[name]
        if conv == "r":
            value = repr(value)
        out.append(escape(_fmt(value, spec)))
    return Markdown("".join(out))

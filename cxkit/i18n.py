"""The language readers see: English (the source) or Spanish, from one catalog.

Texts are written in English in the code and notebooks; ``cxkit/locale/es.json`` maps each
English text (a finding's template with its ``{name}`` placeholders, a notebook's markdown
cell, a chart's title or axis label) to its Spanish version. :func:`translate` looks a text up
exactly and falls back to English, so a text added later without Spanish still reads (in
English) and ``tools/missing_translations.py`` lists it. The language comes from
:func:`set_language` or, by default, the ``CXKIT_LANG`` environment variable, which
``cxkit report --lang es`` sets for the notebooks' kernels.

>>> from cxkit import i18n
>>> i18n.set_language("es"); i18n.translate("Glossary")
'Glosario'
>>> i18n.translate("a text with no Spanish yet")
'a text with no Spanish yet'
>>> i18n.set_language(None)  # back to CXKIT_LANG (default English)
"""

from __future__ import annotations

import json
import os
import re
from functools import cache, lru_cache
from pathlib import Path

__all__ = ["LANGUAGES", "set_language", "language", "translate", "catalog", "missing"]

#: The languages a report can be written in.
LANGUAGES = ("en", "es")

_STATE = {"lang": None}
_MISSING = []  # texts looked up in a non-English language and not found (in order, once each)


def _check(lang):
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}; got {lang!r}")
    return lang


def set_language(lang):
    """Use ``lang`` (``"en"`` or ``"es"``) from now on; None: back to ``CXKIT_LANG``."""
    _STATE["lang"] = None if lang is None else _check(str(lang).lower())


def language():
    """The language in use: :func:`set_language`'s, else ``CXKIT_LANG``, else ``"en"``."""
    if _STATE["lang"] is not None:
        return _STATE["lang"]
    env = os.environ.get("CXKIT_LANG", "").strip().lower()
    return env if env in LANGUAGES else "en"


@cache
def catalog(lang):
    """The mapping English → ``lang`` (empty for English)."""
    if _check(lang) == "en":
        return {}
    path = Path(__file__).with_name("locale") / f"{lang}.json"
    entries = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in entries.items() if isinstance(v, str) and v}


def _key(text):
    return text.strip()


def translate(text, lang=None, *, record=True):
    """``text`` in ``lang`` (default: :func:`language`): the catalog's entry for it, matched
    exactly (surrounding white space aside) or put together from entries for its pieces, else
    ``text`` itself — then remembered in :func:`missing` unless ``record=False`` (for names
    from the data, which may or may not be words the catalog knows)."""
    lang = lang or language()
    if lang == "en" or not isinstance(text, str) or not text.strip():
        return text
    table = catalog(lang)
    key = _key(text)
    found = table.get(key)
    if found is None:
        found = _compose(key, lang)
    if found is None and key[:1].isupper():  # a phrase the code capitalized
        lower = table.get(key[0].lower() + key[1:])
        found = lower[0].upper() + lower[1:] if lower else None
    if found is None:
        if record and key not in _MISSING:
            _MISSING.append(key)
            _log_missing(key)
        return text
    lead = text[: len(text) - len(text.lstrip())]
    tail = text[len(text.rstrip()) :]
    return lead + found + tail


_HOLE = re.compile(r"\{[^{}]*\}")


@cache
def _patterns(lang):
    """Catalog keys with ``{…}`` holes (from f-strings, or a template's own placeholders) as
    regular expressions whose holes match any text: ``(prefix, regex, open_end, holes,
    translation)``, the longest first."""
    out = []
    for key, value in catalog(lang).items():
        holes = _HOLE.findall(key)
        if not holes or len(re.findall(r"[^\W\d_]", _HOLE.sub("", key))) < 3:
            continue  # a key that is mostly holes ("{p})") matches only exactly
        parts, names = [], {}
        pieces = _HOLE.split(key)
        for piece, hole in zip(pieces, [*holes, None], strict=True):
            parts.append(re.escape(piece))
            if hole is None:
                continue
            if hole in names:
                parts.append(f"(?P={names[hole]})")
            else:
                names[hole] = f"h{len(names)}"
                parts.append(f"(?P<{names[hole]}>.+?)")
        regex = re.compile("".join(parts), re.S)
        out.append((pieces[0], regex, pieces[-1] == "", names, value))
    out.sort(key=lambda p: -len(p[1].pattern))
    return out


def _fits(hole):
    """A hole stands for a value (a name, a number, a duration, a list of names), not for
    an untranslated sentence: no sentence break, at most a few words."""
    return ". " not in hole and len(hole.split()) <= 8


@lru_cache(maxsize=4096)
def _compose(text, lang):
    """A text the code put together from pieces (``text += ...``, f-strings): its Spanish
    made of the pieces' Spanish, each piece a catalog key (holes match any text); None when
    some part has no entry."""
    table = catalog(lang)
    keys = sorted((k for k in table if k), key=len, reverse=True)
    patterns = _patterns(lang)
    n = len(text)
    best = {n: ""}  # position -> translation of text[position:]

    def fill(value, names, match):
        for hole, group in names.items():
            got = match.group(group)
            value = value.replace(hole, translate(got, lang, record=False))  # shorter: ends
        return value

    def matches(regex, open_end, i):
        if not open_end:
            m = regex.match(text, i)
            return [m] if m else []
        ends = sorted((e for e in best if e > i), reverse=True)
        return [m for e in ends if (m := regex.fullmatch(text, i, e))][:1]

    for i in range(n - 1, -1, -1):
        if text[i].isspace():
            if i + 1 in best:
                best[i] = text[i] + best[i + 1]
            continue
        # the candidate reaching furthest wins: a key, or a key with holes
        found = None
        for k in keys:
            if text.startswith(k, i) and i + len(k) in best:
                found = (i + len(k), table[k])
                break  # keys are longest first
        for prefix, regex, open_end, names, value in patterns:
            if prefix and not text.startswith(prefix, i):
                continue
            for m in matches(regex, open_end, i):
                if m.end() in best and all(_fits(g) for g in m.groups()):
                    if found is None or m.end() > found[0]:
                        found = (m.end(), fill(value, names, m))
                    break
        if found is not None:
            best[i] = found[1] + best[found[0]]
    return best.get(0)


def translated(text, lang=None):
    """True when ``text`` has an entry in ``lang``'s catalog (or the language is English)."""
    lang = lang or language()
    return lang == "en" or _key(text) in catalog(lang)


def missing():
    """The texts looked up in this process that have no translation yet."""
    return list(_MISSING)


def logging_missing():
    """True when ``CXKIT_MISSING_LOG`` names a file that collects untranslated texts (then
    names from the data are logged too, for a person to sort out)."""
    return bool(os.environ.get("CXKIT_MISSING_LOG"))


def _log_missing(key):
    path = os.environ.get("CXKIT_MISSING_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(key) + "\n")

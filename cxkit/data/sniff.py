"""How a CSV export is written: its text encoding and its column separator, found from its start.

Exports from spreadsheets and CRMs in many countries are UTF-16 (with a byte-order mark),
Windows-1252/latin-1, separated by ``;`` or tabs. :func:`sniff_csv` reads the first 64 KB and
says which encoding and separator to read the file with, so that the loaders either read it
right or say what was found and which keyword to pass (``encoding=``, ``sep=``).

- A byte-order mark (UTF-8, UTF-16, UTF-32) decides the encoding: it cannot be misread.
- Text without one must be UTF-8; anything else is an error naming the likely encoding
  (Windows-1252 when its bytes read as that, else latin-1): guessing a legacy encoding silently
  could turn every accented name into another one.
- The separator is the one of ``,``, ``;``, tab and ``|`` that splits the header and the first
  lines into the same number (two or more) of fields, a comma when it does.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
>>> _ = path.write_bytes("customer_id;timestamp;event\\n1;2024-01-01;visit\\n".encode("utf-16"))
>>> found = sniff_csv(path)
>>> found["encoding"], found["sep"]
('utf-16', ';')
"""

from __future__ import annotations

import codecs
import csv
import gzip

__all__ = ["sniff_csv", "SEPARATORS"]

#: Separators looked for, in order of preference.
SEPARATORS = (",", ";", "\t", "|")
_SEP_WORDS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SAMPLE = 1 << 16


def _head(path):
    name = str(path).lower()
    opener = gzip.open if name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            return fh.read(_SAMPLE)
    except (OSError, EOFError):  # not gzip after all, truncated …: the reader will say so
        return None


def sniff_csv(path, *, encoding=None, sep=None):
    """The encoding and separator of a CSV (or CSV.gz) file, from its first 64 KB.

    Parameters
    ----------
    path : str or Path
    encoding, sep : str, optional
        Given by the user: used as they are (the other one is still found).

    Returns
    -------
    dict
        ``encoding`` and ``sep`` to read with, ``notes`` (plain-language sentences about what
        was detected, for the loader to report), ``problem`` (None, or a dict with
        ``expected`` and ``hint`` when the file cannot be read without a keyword) and
        ``likely`` (with a problem: the encoding the file is probably in, for ``cxkit init``
        to propose; else None).
    """
    out = {"encoding": encoding or "utf-8", "sep": sep or ",", "notes": [], "problem": None}
    out["likely"] = None
    raw = _head(path)
    if raw is None or not raw:
        return out
    if encoding is None:
        bom = next((name for mark, name in _BOMS if raw.startswith(mark)), None)
        if bom is not None:
            out["encoding"] = bom
            if bom != "utf-8-sig":
                out["notes"].append(f"read as {bom.upper()} text (the file starts with its mark)")
        else:
            problem = _not_utf8(raw)
            if problem is not None:
                out["likely"] = problem.pop("likely")
                out["problem"] = problem
                if sep is None:  # the separator, as the file reads in that encoding
                    text = _decode(raw, out["likely"])
                    found = _separator(text, whole=len(raw) < _SAMPLE) if text else None
                    out["sep"] = found or out["sep"]
                return out
    text = _decode(raw, out["encoding"])
    if text is None:
        return out  # the reader will fail and say why
    if sep is None:
        found = _separator(text, whole=len(raw) < _SAMPLE)
        if found is not None and found != ",":
            out["sep"] = found
            out["notes"].append(f"columns separated by {_SEP_WORDS[found]}")
    return out


def _decode(raw, encoding):
    try:
        return codecs.getincrementaldecoder(encoding)().decode(raw, final=False)
    except (UnicodeDecodeError, LookupError):
        return None


def _not_utf8(raw):
    """None when ``raw`` is UTF-8 (a sequence cut at the end of the sample is fine), else the
    problem: UTF-16 without its mark, or a legacy 8-bit encoding."""
    if raw.count(b"\x00") > len(raw) // 4:
        even_nul = raw[0::2].count(b"\x00") > raw[1::2].count(b"\x00")
        guess = "utf-16-be" if even_nul else "utf-16-le"
        return {
            "likely": guess,
            "expected": "UTF-8 text; this file looks like UTF-16 without a byte-order mark",
            "hint": f"pass encoding='{guess}' (in cxkit.toml: [tables.<name>] encoding = "
            f"'{guess}'), or export as UTF-8",
        }
    try:
        codecs.getincrementaldecoder("utf-8")().decode(raw, final=False)
        return None
    except UnicodeDecodeError as exc:
        where = raw.count(b"\n", 0, exc.start) + 1
        guess = "cp1252" if _decode(raw, "cp1252") is not None else "latin-1"
        line = raw.splitlines()[where - 1] if raw.splitlines() else raw
        shown = line.decode(guess, errors="replace").strip()[:80]
        return {
            "likely": guess,
            "expected": f"UTF-8 text; line {where} has the byte 0x{raw[exc.start]:02x}, which "
            f"is not UTF-8 (read as {_NAMES[guess]} the line is {shown!r})",
            "hint": f"pass encoding='{guess}' (in cxkit.toml: [tables.<name>] encoding = "
            f"'{guess}'), or export as UTF-8",
        }


_NAMES = {"cp1252": "Windows-1252", "latin-1": "latin-1"}


def _separator(text, whole):
    lines = text.splitlines()
    if not whole and len(lines) > 1:
        lines = lines[:-1]  # the last line of the sample may be cut
    lines = [ln for ln in lines[:20] if ln.strip()]
    if not lines:
        return None
    for sep in SEPARATORS:
        counts = {len(row) for row in csv.reader(lines, delimiter=sep)}
        if len(counts) == 1 and counts.pop() >= 2:
            return sep
    return None

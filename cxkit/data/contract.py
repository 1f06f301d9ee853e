"""Loaders for the three tables of the data contract, and the `Journey` that holds them.

The contract (see ``docs/data_contract.md``):

========== ====================================== ==========================================
table      required columns                       optional columns
========== ====================================== ==========================================
events     customer_id, timestamp, event          channel, device, value, session_id
customers  customer_id, signup_at                 churned_at, any attribute (plan, region …)
surveys    customer_id, timestamp, survey, score  stage, touchpoint, comment
========== ====================================== ==========================================

Every loader takes a path (CSV, CSV.gz or Parquet) or a DataFrame, and keyword arguments that map
a canonical column to the user's name (``read_events(path, customer="user_id", timestamp="ts")``).
The result always uses the canonical names. Inputs are never modified; bad input raises
:class:`DataError` naming the file, the column, how many rows and up to five examples.

Timestamps: timezone-aware values are converted to UTC and stored as naive UTC, so that every
table compares with every other; naive values are taken as they are.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .read import events_fast, read_file

#: Valid answers per survey type: (lowest, highest). Scores must be whole numbers.
SURVEY_SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


#: Customer attributes that the sample's data dictionary marks as known at signup. Only these may
#: be used as features before a cutoff; everything else is "as of extraction".
SIGNUP_ATTRIBUTES = ("plan", "acquisition_channel", "device", "region")


_EVENTS = {
    "required": ("customer_id", "timestamp", "event"),
    "optional": ("channel", "device", "value", "session_id"),
}


_CUSTOMERS = {"required": ("customer_id", "signup_at"), "optional": ("churned_at",)}


_SURVEYS = {
    "required": ("customer_id", "timestamp", "survey", "score"),
    "optional": ("stage", "touchpoint", "comment"),
}


_MAX_EXAMPLES = 5


class DataError(ValueError):
    """Bad input: names the file, the column, how many rows, examples, and what was expected.

    Parameters
    ----------
    source : str
        The file (or "DataFrame") the problem was found in.
    problems : list of dict
        One dict per problem with keys ``column``, ``expected``, ``rows`` (count) and
        ``examples`` (a few offending values or row numbers).
    columns : sequence of str, optional
        The columns the table does have, listed when a column is missing.
    hint : str, optional
        One suggested fix.
    """

    def __init__(self, source, problems, *, columns=None, hint=None):
        self.source = str(source)
        self.problems = list(problems)
        self.columns = list(columns) if columns is not None else None
        self.hint = hint
        super().__init__(self._message())

    def _message(self):
        lines = [f"{self.source}: {len(self.problems)} problem(s) found"]
        for p in self.problems:
            where = f"column '{p['column']}'" if p.get("column") else "file"
            line = f"  - {where}: {p['expected']}"
            if p.get("rows"):
                line += f" ({p['rows']} row(s)"
                if p.get("examples") is not None and len(p["examples"]):
                    line += f"; e.g. {_fmt_examples(p['examples'])}"
                line += ")"
            lines.append(line)
            if p.get("hint"):
                lines.append(f"    fix: {p['hint']}")
        if self.columns is not None:
            lines.append(f"  columns present: {', '.join(map(str, self.columns)) or '(none)'}")
        if self.hint:
            lines.append(f"  fix: {self.hint}")
        return "\n".join(lines)


def _fmt_examples(examples):
    return ", ".join(repr(e) if isinstance(e, str) else str(e) for e in examples)


def _examples(frame, mask, column):
    """Up to five offending rows as 'row N: value' strings (row = position in the file, 1-based
    after the header line for files)."""
    idx = np.flatnonzero(np.asarray(mask))[:_MAX_EXAMPLES]
    vals = frame[column].iloc[idx] if column in frame.columns else [None] * len(idx)
    return [f"row {i + 1}: {v!r}" for i, v in zip(idx, vals, strict=False)]


def _source_name(data):
    return "DataFrame" if isinstance(data, pd.DataFrame) else str(data)


def _read_table(data, id_columns=(), *, encoding=None, sep=None, decimal=None):
    """Read a path or DataFrame into a fresh DataFrame (never the caller's object).

    CSV files are read in the encoding and with the separator :func:`.sniff.sniff_csv` finds
    (or the ones given); what it detected is in ``frame.attrs["read_notes"]``. With
    ``decimal=","`` numbers are read as 12,50 and 1.234,56 (a point groups thousands)."""
    if isinstance(data, pd.DataFrame):
        return data.copy()
    if data is None:
        raise DataError(
            "(no file)", [{"column": None, "expected": "a path or a DataFrame, got None"}]
        )
    path = Path(data)
    if not path.exists():
        raise DataError(
            path,
            [{"column": None, "expected": "the file to exist; it does not"}],
            hint="check the path, or the folder given to read_journey",
        )
    if path.is_dir():
        raise DataError(path, [{"column": None, "expected": "a file, got a folder"}])
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(path)
            for col in id_columns:
                if col in frame.columns:
                    frame[col] = frame[col].astype("string").astype(object)
            return frame
        from .sniff import sniff_csv

        found = sniff_csv(path, encoding=encoding, sep=sep)
        if found["problem"] is not None:
            raise DataError(path, [{"column": None, **found["problem"]}])
        how = {"encoding": found["encoding"], "sep": found["sep"]}
        dtype = dict.fromkeys(id_columns, str)
        numbers = {"decimal": ",", "thousands": "."} if decimal == "," else {}
        frame = pd.read_csv(path, dtype=dtype, low_memory=False, **how, **numbers)
        _restore_duplicate_headers(frame, path, how)
        frame.attrs["read_notes"] = found["notes"]
        return frame
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise DataError(
            path,
            [
                {
                    "column": None,
                    "expected": f"text in the encoding {encoding or 'utf-8'!r} ({exc})",
                    "hint": "pass encoding= the file's encoding, e.g. encoding='cp1252' "
                    "(in cxkit.toml: [tables.<name>] encoding = 'cp1252')",
                }
            ],
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(
            path,
            [{"column": None, "expected": "a table with a header and rows; the file is empty"}],
        ) from None
    except Exception as exc:  # garbage files: binary, wrong format, bad compression …
        raise DataError(
            path,
            [
                {
                    "column": None,
                    "expected": "a readable CSV, CSV.gz or Parquet "
                    f"file ({type(exc).__name__}: {str(exc)[:200]})",
                }
            ],
        ) from None


def _restore_duplicate_headers(frame, path, how):
    """pandas renames a repeated header ``event,event`` to ``event, event.1``: give the frame
    the file's own names back, so that :func:`_apply_mapping` refuses the repeat."""
    names = [str(c) for c in frame.columns]
    mangled = [c for c in names if "." in c and c.rsplit(".", 1)[0] in names]
    if not mangled:
        return
    header = pd.read_csv(path, header=None, nrows=1, dtype=str, **how).iloc[0].tolist()
    if len(header) == len(names) and len(set(header)) < len(header):
        frame.columns = header


def _apply_mapping(frame, source, canonical, mapping):
    """Rename user columns to canonical names; errors list the columns that exist."""
    repeated = frame.columns[frame.columns.duplicated()].unique()
    if len(repeated):
        counts = frame.columns.value_counts()
        raise DataError(
            source,
            [
                {
                    "column": str(c),
                    "expected": f"one column of each name; the header has {int(counts[c])} "
                    f"columns named {str(c)!r}",
                }
                for c in repeated
            ],
            columns=frame.columns,
            hint="rename or drop the repeated columns in the export",
        )
    problems = []
    rename = {}
    used = {}
    for canon, user in mapping.items():
        if user is not None and user != canon:
            used.setdefault(user, []).append(canon)
    for user, canons in used.items():
        if len(canons) > 1:
            problems.append(
                {
                    "column": user,
                    "expected": f"one cxkit column per column of the file; {user!r} is "
                    f"mapped to {' and '.join(map(repr, canons))}",
                }
            )
    for canon, user in mapping.items():
        if user is None or user == canon:
            continue
        if user in frame.columns and canon in frame.columns and canon not in used:
            problems.append(
                {
                    "column": canon,
                    "expected": f"one column named {canon!r}; the file has one, and "
                    f"{user!r} is mapped onto that name too",
                }
            )
            continue
        if user not in frame.columns:
            problems.append(
                {
                    "column": user,
                    "expected": f"column '{user}' (mapped to "
                    f"'{canon}') to exist; the file lacks it",
                }
            )
        else:
            rename[user] = canon
    if problems:
        lacking = any("lacks it" in p["expected"] for p in problems)
        raise DataError(
            source,
            problems,
            columns=frame.columns,
            hint=f"pass the file's own column name, e.g. {next(iter(mapping))}='<name in your "
            "file>'"
            if lacking
            else "map each cxkit column to one column of the file; rename or drop the other",
        )
    frame = frame.rename(columns=rename)
    missing = [c for c in canonical["required"] if c not in frame.columns]
    if missing:
        raise DataError(
            source,
            [{"column": c, "expected": "required column is missing"} for c in missing],
            columns=frame.columns,
            hint="map your names to cxkit's, e.g. "
            + ", ".join(f"{_ARG_OF.get(c, c)}='<your column>'" for c in missing),
        )
    if len(frame) == 0:
        raise DataError(
            source,
            [{"column": None, "expected": "at least one row; the table is empty"}],
            columns=frame.columns,
        )
    return frame


_ARG_OF = {
    "customer_id": "customer",
    "timestamp": "timestamp",
    "event": "event",
    "signup_at": "signup_at",
    "churned_at": "churned_at",
    "survey": "survey",
    "score": "score",
}


def _parse_timestamps(series, *, dayfirst=None, date_format=None, timezone=None):
    """Parse to datetime64[ns] naive-UTC. Returns (parsed, bad_mask) where bad_mask marks values
    that were present but could not be read (see :func:`_read_times` for the reasons).

    ``date_format`` (a ``strftime`` format) is used exactly; ``dayfirst=True`` reads 03/05/2024
    as 3 May; ``timezone`` (e.g. ``"Europe/Madrid"``) is the zone of naive values, which are
    then converted to naive UTC like aware ones (ambiguous autumn times are read as standard
    time, spring-gap times are moved forward)."""
    parsed, issues, _ = _read_times(
        series, dayfirst=dayfirst, date_format=date_format, timezone=timezone
    )
    bad = np.zeros(len(series), bool)
    for issue in issues:
        bad |= issue["mask"]
    return parsed.where(~bad), bad


#: A UTC offset or Z at the end of a timestamp: the value is aware.
_OFFSET = r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"

#: Day and month as numbers, then the year (03/05/2024, 3.5.24, 03-05-2024 14:00): groups are
#: first number, separator, second number, separator, year, the rest (the time).
_DAY_MONTH = (
    r"^(?P<a>\d{1,2})(?P<s1>[/.-])(?P<b>\d{1,2})(?P<s2>[/.-])(?P<y>\d{4}|\d{2})"
    r"(?P<t>(?:[ T].*)?)$"
)

#: Words, and times without a date, whose meaning changes with the day the file is read.
_RELATIVE = r"(?i)(?:now|today|tomorrow|yesterday|\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:am|pm)?)"

_ISO_WORDS = "ISO 8601 timestamps such as 2024-03-05 14:00:00"


def _read_times(series, *, dayfirst=None, date_format=None, timezone=None):
    """Read one timestamp column in ONE format; returns ``(parsed, issues, note)``.

    ``parsed`` is datetime64[ns] naive UTC; ``issues`` a list of dicts (``kind``,
    ``expected``, ``mask`` of the rows concerned, optional ``examples`` and ``hint``); ``note``
    None or a sentence saying what was inferred (day first because some day is above 12).

    The format of a column is one of: ``date_format`` when given; ISO 8601; numeric day and
    month (03/05/2024) read day first or month first for every row — ``dayfirst`` when given,
    else inferred only when some value can be read one way only, else an ``"ambiguous"`` issue;
    or the format pandas guesses from the first value, used for every row. Values that do not
    fit the column's format are ``"unparsed"``; ``today``, ``now`` and times without a date are
    ``"relative"``; values with a UTC offset beside values without one are a ``"zones"`` issue
    unless ``timezone`` says where the naive ones are.
    """
    s = series
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]"), [], None
    if pd.api.types.is_datetime64_any_dtype(s):
        return _localize(s.astype("datetime64[ns]"), timezone), [], None
    parsed, issues, note = _read_text_times(
        s.reset_index(drop=True), dayfirst, date_format, timezone
    )
    parsed.index = s.index
    return parsed, issues, note


def _read_text_times(s, dayfirst, date_format, timezone):
    nat = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    present = s.notna().to_numpy()
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        # numbers are not timestamps (an epoch would silently become 1970); a column with no
        # value at all (no one has churned) is read as numbers by CSV readers: all missing
        if not present.any():
            return nat, [], None
        return nat, [_issue("unparsed", present, "timestamps, not numbers")], None
    text = s.astype("string[pyarrow]").str.strip()
    issues = []
    relative = text.str.fullmatch(_RELATIVE).fillna(False).to_numpy(bool) & present
    if relative.any():
        issues.append(
            _issue(
                "relative",
                relative,
                "a date and a time; these could not be parsed: words such as 'today' or 'now' "
                "and times without a date mean another moment on every day the file is read",
            )
        )
    rows = present & ~relative
    aware = text.str.contains(_OFFSET, regex=True).fillna(False).to_numpy(bool) & rows
    note = None
    if not rows.any():
        parsed, words, reported = nat.dt.tz_localize("UTC"), _ISO_WORDS, rows
    elif date_format:
        parsed = _parse_utc(text, rows, date_format, aware)
        words, reported = f"timestamps in the format {date_format!r}", np.zeros(len(s), bool)
    else:
        parsed, words, issue, note = _one_format(text, rows, aware, dayfirst)
        reported = np.zeros(len(s), bool)
        if issue is not None:
            issues.append(issue)
            reported = issue["mask"]
    ok = rows & parsed.notna().to_numpy()
    unparsed = rows & ~ok & ~reported
    if unparsed.any():
        issues.append(_issue("unparsed", unparsed, f"{words}; these could not be parsed"))
    if timezone is None and (ok & aware).any() and (ok & ~aware).any():
        naive = ok & ~aware
        first_aware = text[ok & aware].iloc[0]
        issues.append(
            _issue(
                "zones",
                naive,
                f"one kind of time: some rows carry a UTC offset (e.g. {first_aware!r}) and "
                "these do not, so their time zone is unknown",
                hint="pass timezone= the zone of the times without an offset, e.g. "
                "timezone='UTC' (in cxkit.toml: [timestamps] timezone = 'UTC')",
            )
        )
    out = parsed.dt.tz_localize(None).astype("datetime64[ns]")
    if timezone:
        out = out.where(aware, _localize(out, timezone))
    return out, issues, note


def _issue(kind, mask, expected, *, hint=None, examples=None):
    return {"kind": kind, "mask": mask, "expected": expected, "hint": hint, "examples": examples}


def _parse_utc(text, rows, fmt, aware):
    """``text[rows]`` parsed with ``fmt`` to UTC; values with and without an offset are parsed
    apart (pandas gives a naive value that follows an aware one the previous value's offset)."""
    values = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    for group in (rows & aware, rows & ~aware):
        if not group.any():
            continue
        part = text if group.all() else text[group]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                got = pd.to_datetime(part, errors="coerce", utc=True, format=fmt)
            except (ValueError, TypeError):
                continue
        if group.all() and isinstance(got.dtype, pd.DatetimeTZDtype):
            return got
        if isinstance(got.dtype, pd.DatetimeTZDtype):
            got = got.dt.tz_localize(None)
        values[group] = got.to_numpy(dtype="datetime64[ns]")
    return pd.Series(values, index=text.index).dt.tz_localize("UTC")


def _one_format(text, rows, aware, dayfirst):
    """(parsed UTC, the format in words, an issue or None, a note or None) for a column
    without ``date_format``: ISO 8601, numeric day/month, or pandas' guess from one value."""
    iso = _parse_utc(text, rows, "ISO8601", aware)
    iso_ok = rows & iso.notna().to_numpy()
    rest = rows & ~iso_ok
    if not rest.any():
        return iso, _ISO_WORDS, None, None
    parts = _extract_day_month(text[rest])
    slash = parts[0].notna().to_numpy(bool) & (parts[1] == parts[3]).fillna(False).to_numpy(bool)
    if slash.any():  # one separator for the column too (03/05/2024, not also 3.5.2024)
        slash &= (parts[1] == parts[1][slash].iloc[0]).fillna(False).to_numpy(bool)
    if slash.sum() > iso_ok.sum():
        return _day_month(text, rows, aware, rest, parts[slash], dayfirst)
    if iso_ok.any():
        return iso, f"{_ISO_WORDS}, like the other rows", None, None
    from pandas.tseries.api import guess_datetime_format

    first = text[rest].iloc[0]
    fmt = guess_datetime_format(first)
    whole = fmt is not None and "%d" in fmt and any(m in fmt for m in ("%m", "%b", "%B"))
    if not (whole and any(y in fmt for y in ("%Y", "%y"))):
        return iso, f"{_ISO_WORDS} or 25/12/2024 14:00", None, None
    return _parse_utc(text, rows, fmt, aware), f"timestamps like {first!r} ({fmt})", None, None


def _extract_day_month(sub):
    """The groups of :data:`_DAY_MONTH` per value of ``sub`` (Arrow's regex, no Python loop):
    a frame with columns 0–5 as text, missing where the value does not match."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = ["a", "s1", "b", "s2", "y", "t"]
    found = pc.extract_regex(pa.array(sub.array).cast(pa.string()), _DAY_MONTH)
    return pd.DataFrame(
        {i: pc.struct_field(found, name).to_pandas() for i, name in enumerate(names)}
    ).set_axis(sub.index)


def _day_month(text, rows, aware, rest, parts, dayfirst):
    """Numeric day and month, one reading for the whole column (see :func:`_read_times`).
    ``text`` has a RangeIndex; ``parts`` holds the numeric-date rows of it."""
    at = parts.index.to_numpy()
    first, second = parts[0].astype(int), parts[2].astype(int)
    sep = parts[1].iloc[0]
    fmt_words = {True: f"%d{sep}%m{sep}%Y", False: f"%m{sep}%d{sep}%Y"}
    mine = np.zeros(len(text), bool)
    mine[at] = True
    note = None
    if dayfirst is None:
        day_only, month_only = (first > 12).to_numpy(), (second > 12).to_numpy()
        if day_only.any() and month_only.any():
            examples = [
                f"row {i + 1}: {text[i]!r} ({what})"
                for only, what in ((day_only, "day first"), (month_only, "month first"))
                for i in at[only][:2]
            ]
            mask = np.zeros(len(text), bool)
            mask[at[day_only | month_only]] = True
            issue = _issue(
                "readings",
                mask,
                "one way of writing dates; some can only be day first and others only month "
                "first, so the column mixes two formats",
                hint="export the column in one format (ISO 8601: 2024-12-25), or pass "
                "date_format= the format of most rows and fix the others",
                examples=examples,
            )
            return _nat_utc(text), "", issue, None
        if not (day_only.any() or month_only.any()):
            issue = _issue(
                "ambiguous",
                mine,
                "dates that say whether the day or the month comes first; dates such as "
                f"{text[at[0]]!r} read either way (3 May or 5 March)",
                hint="pass dayfirst=True (03/05/2024 is 3 May) or dayfirst=False (5 March), "
                f"or date_format='{fmt_words[True]} %H:%M'; in cxkit.toml: [timestamps] "
                "dayfirst = true",
            )
            return _nat_utc(text), "", issue, None
        dayfirst = bool(day_only.any())
        witness = text[at[np.argmax(day_only if dayfirst else month_only)]]
        reading = "day first" if dayfirst else "month first"
        note = f"dates read {reading}: {witness!r} can only be {reading}"
    import pyarrow as pa
    import pyarrow.compute as pc

    day, month = (first, second) if dayfirst else (second, first)
    year = parts[4].astype(int).to_numpy()
    year = np.where(year >= 100, year, year + np.where(year < 69, 2000, 1900))

    def padded(values, width):
        return pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width, "0")

    iso_text = pc.binary_join_element_wise(
        padded(year, 4),
        padded(month.to_numpy(), 2),
        pc.binary_join_element_wise(padded(day.to_numpy(), 2), pa.array(parts[5]), ""),
        "-",
    )
    values = np.full(len(text), None, dtype=object)
    values[at] = iso_text.to_numpy(zero_copy_only=False)
    full = pd.Series(values, index=text.index, dtype="string[pyarrow]")
    parsed = _parse_utc(full, mine, "ISO8601", aware)
    reading = "day first" if dayfirst else "month first"
    words = f"dates written {reading} ({fmt_words[dayfirst]}) like the rest of the column"
    return parsed, words, None, note


def _nat_utc(text):
    return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")


def _localize(naive, timezone):
    """Naive wall times in ``timezone`` -> naive UTC (unchanged when no timezone)."""
    if not timezone:
        return naive
    local = naive.dt.tz_localize(
        timezone, ambiguous=np.zeros(len(naive), bool), nonexistent="shift_forward"
    )
    return local.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")


def _check_timestamps(frame, source, columns, problems, allow_missing=(), parse=None, notes=None):
    parse = {k: v for k, v in (parse or {}).items() if v is not None}
    _check_timezone(source, parse.get("timezone"))
    for col in columns:
        if col not in frame.columns:
            continue
        parsed, issues, note = _read_times(frame[col], **parse)
        for issue in issues:
            problems.append(
                {
                    "column": col,
                    "expected": issue["expected"],
                    "rows": int(issue["mask"].sum()),
                    "examples": issue["examples"] or _examples(frame, issue["mask"], col),
                    "hint": issue["hint"],
                }
            )
        if note is not None and notes is not None:
            notes[f"{col}_read"] = note
        missing = frame[col].isna().to_numpy()
        if col not in allow_missing and missing.any():
            problems.append(
                {
                    "column": col,
                    "expected": "a timestamp in every row; some are empty",
                    "rows": int(missing.sum()),
                    "examples": _examples(frame, missing, col),
                }
            )
        frame[col] = parsed


def _check_timezone(source, timezone):
    if not timezone:
        return
    try:
        pd.Timestamp("2024-01-01").tz_localize(timezone)
    except Exception:
        expected = f"a time zone such as 'Europe/Madrid' or 'UTC'; got {timezone!r}"
        raise DataError(source, [{"column": "timezone", "expected": expected}]) from None


def _check_present(frame, source, columns, problems):
    for col in columns:
        missing = frame[col].isna().to_numpy()
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            # blank values, looked for among the distinct values (one hash pass, no per-row
            # Python)
            try:
                codes, uniques = pd.factorize(frame[col], use_na_sentinel=True)
            except TypeError:  # lists in cells: refused by _check_scalars
                codes, uniques = np.full(len(frame), -1), []
            blank = np.asarray(pd.Index(uniques).astype("string").str.strip() == "", bool)
            if blank.any():
                missing |= (codes >= 0) & blank[np.maximum(codes, 0)]
        if missing.any():
            problems.append(
                {
                    "column": col,
                    "expected": "a value in every row; some are empty",
                    "rows": int(missing.sum()),
                    "examples": _examples(frame, missing, col),
                }
            )


def _as_id(series):
    """Customer ids as strings (an id of 007 stays '007'), surrounding spaces trimmed."""
    return _trimmed(series)[0].astype(object)


def _trimmed(series, categories="object"):
    """``(categorical of text values with surrounding spaces trimmed, rows trimmed)``.

    Works on the distinct values (factorized), so that tens of millions of rows cost one hash
    pass; categories are sorted, as ``astype("category")`` sorts them. Whole floats
    (ids read as 1.0) become whole numbers first. ``categories`` is the dtype of the
    categories ("object" for ids, "string" for event names and the like)."""
    if pd.api.types.is_float_dtype(series):
        whole = series.dropna()
        if len(whole) and (whole == np.round(whole)).all():
            series = series.astype("Int64")
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes, uniques = series.cat.codes.to_numpy(), series.cat.categories
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    text = pd.Index(uniques).astype("string")
    stripped = text.str.strip()
    changed = np.asarray(stripped != text, dtype=bool)
    valid = codes >= 0
    n = int(changed[codes[valid]].sum()) if changed.any() else 0
    categories_dtype = categories
    categories = pd.Index(pd.unique(np.asarray(stripped, dtype=object))).sort_values()
    position = categories.get_indexer(np.asarray(stripped, dtype=object))
    new_codes = np.where(valid, position[np.where(valid, codes, 0)], -1)
    values = pd.Categorical.from_codes(new_codes, categories=categories.astype(categories_dtype))
    return pd.Series(values, index=series.index, name=series.name), n


def _report_trimmed(notes, counts):
    trimmed = {col: n for col, n in counts.items() if n}
    if trimmed:
        notes["trimmed"] = trimmed


def _check_scalars(frame, source, problems):
    """One value per cell: list-, array- or dict-valued columns (Parquet lists) are refused."""
    for col in frame.columns:
        s = frame[col]
        if s.dtype != object or pd.api.types.infer_dtype(s, skipna=True) != "mixed":
            continue
        nested = s.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray))).to_numpy()
        if nested.any():
            problems.append(
                {
                    "column": str(col),
                    "expected": "one value per row; these rows hold lists",
                    "rows": int(nested.sum()),
                    "examples": _examples(frame, nested, col),
                    "hint": "flatten the column (one row per value) or leave it out of the export",
                }
            )


#: Larger amounts are refused: no touchpoint is worth this much, and sums of a few would lose
#: cents or overflow.
MAX_AMOUNT = 1e15


def _check_amounts(frame, col, problems, what="numbers (revenue)"):
    """``frame[col]`` as finite floats of a sensible size; problems for text and for
    infinite or absurdly large numbers."""
    raw = frame[col]
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna().to_numpy() & raw.notna().to_numpy()
    if bad.any():
        problem = {
            "column": col,
            "expected": f"{what}; these are not",
            "rows": int(bad.sum()),
            "examples": _examples(frame, bad, col),
        }
        if _decimal_comma(raw[bad]):
            problem["expected"] = (
                f"{what}; these are written with a decimal comma (12,50 for 12.50), "
                "which is not read unless you say so"
            )
            problem["hint"] = (
                "pass decimal=',' (in cxkit.toml: [tables.<name>] decimal = ','); a point "
                "then groups thousands (1.234,56)"
            )
        problems.append(problem)
    values = num.astype(float).to_numpy()
    huge = ~np.isnan(values) & ~(np.abs(values) <= MAX_AMOUNT)
    if huge.any():
        problems.append(
            {
                "column": col,
                "expected": f"finite {what} of at most {MAX_AMOUNT:.0e} in size; these are "
                "infinite or larger (an export error?)",
                "rows": int(huge.sum()),
                "examples": _examples(frame, huge, col),
            }
        )
    return num.astype(float)


#: A number written with a decimal comma: 12,50 or -1.234,56 (points group thousands).
_DECIMAL_COMMA = r"^\s*[-+]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+\s*$"


def _decimal_comma(bad):
    """True when most values that are not numbers are numbers written with a decimal comma."""
    text = pd.Series(pd.unique(bad.astype(str)), dtype="string")
    if not len(text):
        return False
    return bool(text.str.fullmatch(_DECIMAL_COMMA).fillna(False).mean() >= 0.9)


def _check_decimal(source, decimal):
    if decimal is not None and decimal not in (",", "."):
        raise DataError(
            source,
            [{"column": "decimal", "expected": f"',' or '.'; got {decimal!r}"}],
        )


def _read_notes(frame):
    notes = {}
    found = frame.attrs.get("read_notes")
    if found:
        notes["read"] = "; ".join(found)
    return notes


def _finish(frame, source, notes, extra=None):
    """Set the result's attrs; say once what the loader repaired or inferred."""
    frame.attrs = {"source": source, **(extra or {})}
    if notes:
        frame.attrs["notes"] = notes
        words = []
        if "read" in notes:
            words.append(notes["read"])
        for col, n in notes.get("trimmed", {}).items():
            words.append(f"spaces trimmed around {n:,} {col} value(s) (' 1' is '1')")
        words += [v for k, v in notes.items() if k.endswith("_read")]
        warnings.warn(f"{source}: " + "; ".join(words), UserWarning, stacklevel=3)
    return frame


def read_events(
    data,
    *,
    customer="customer_id",
    timestamp="timestamp",
    event="event",
    channel=None,
    device=None,
    value=None,
    session_id=None,
    dayfirst=None,
    date_format=None,
    timezone=None,
    encoding=None,
    sep=None,
    decimal=None,
    columns=None,
    events=None,
):
    """Read the touchpoint log: one row per interaction of a person (prospect or customer).

    Parameters
    ----------
    data : str, Path or DataFrame
        CSV, CSV.gz or Parquet file, or a DataFrame (copied, never modified).
    customer, timestamp, event : str
        The file's names for the required columns.
    channel, device, value, session_id : str, optional
        The file's names for the optional columns, if they differ from the canonical ones.
    dayfirst, date_format, timezone : optional
        How timestamps are written: ``dayfirst=True`` reads 03/05/2024 as 3 May,
        ``date_format`` is one exact ``strftime`` format, ``timezone`` is the zone of naive
        values (converted to naive UTC). The same keywords exist on every loader. A column
        is read in one format: dates such as 03/05/2024 need ``dayfirst`` (or
        ``date_format``) unless some value can be read one way only (25/12/2024), and a
        column mixing values with and without a UTC offset needs ``timezone``.
    encoding, sep : str, optional
        How a CSV file is written, when detection is not enough: a byte-order mark and the
        separator (``,``, ``;``, tab, ``|``) are detected; a file that is not UTF-8 needs
        ``encoding=`` (e.g. ``"cp1252"``).
    decimal : {",", "."}, optional
        ``","`` reads amounts written with a decimal comma (12,50 and 1.234,56, as many
        European exports write them); without it such values are an error that says so.
    columns : list of str, optional
        Read only these optional columns (cxkit's names, e.g. ``["channel"]``, or the file's
        for columns outside the contract) besides the three required ones; ``[]`` reads only
        those three. Default: every column. Columns not read are not checked.
    events : list of str, optional
        Keep only the rows of these events, as ``log[log["event"].isin(events)]`` on the
        whole log would (categories stay the whole log's: every person is still known).
        Every row is still read and checked, the rows left out too: the same errors and
        notes as without ``events``. ``attrs["observed_at"]``
        is then the latest timestamp of all the rows read, so that an analysis of the rows
        kept ends the data where the file ends; ``attrs["events_kept"]`` holds the events,
        ``rows_read`` and ``rows_kept``. With ``columns=[]`` this reads what
        :func:`cxkit.funnel` needs of a large file: 30M events in about half the time.

    Returns
    -------
    DataFrame
        Sorted by ``customer_id`` then ``timestamp``, fresh index. ``customer_id``, ``event``,
        ``channel`` and ``device`` are categoricals; ``timestamp`` is naive UTC; ``value`` float.
        ``.attrs["source"]`` names where it came from; ``.attrs["notes"]``, when present,
        what the loader detected or repaired (``trimmed``: rows per column whose value had
        surrounding spaces; ``timestamp_read``: a reading of dates it inferred), also
        given as one warning.

    Examples
    --------
    >>> import cxkit
    >>> events = cxkit.read_events(cxkit.sample_dir() / "events.csv.gz")
    >>> list(events.columns[:3])
    ['customer_id', 'timestamp', 'event']

    Only what a funnel of two steps needs:

    >>> signups = cxkit.read_events(cxkit.sample_dir() / "events.csv.gz", columns=[],
    ...                             events=["site_visit", "purchase"])
    >>> list(signups.columns), sorted(set(signups["event"]))
    (['customer_id', 'timestamp', 'event'], ['purchase', 'site_visit'])
    """
    source = _source_name(data)
    columns = _names_list(columns, "columns", source)
    events = _names_list(events, "events", source)
    mapping = {
        "customer_id": customer,
        "timestamp": timestamp,
        "event": event,
        "channel": channel,
        "device": device,
        "value": value,
        "session_id": session_id,
    }
    keywords = {"dayfirst": dayfirst, "date_format": date_format, "timezone": timezone}
    _check_decimal(source, decimal)
    if encoding is None and sep is None and decimal is None:  # Arrow, for clean input
        fast = events_fast(data, mapping, keywords, source, columns=columns, events=events)
        if fast is not None:
            return fast
    frame = _read_table(data, id_columns=[customer], encoding=encoding, sep=sep, decimal=decimal)
    notes = _read_notes(frame)
    frame = _apply_mapping(frame, source, _EVENTS, mapping)
    every_column = frame.columns  # named in errors, also those not read
    if columns is not None:
        frame = _chosen_columns(frame, source, columns)
    problems = []
    _check_scalars(frame, source, problems)
    _check_present(frame, source, ["customer_id", "event"], problems)
    parse = {"dayfirst": dayfirst, "date_format": date_format, "timezone": timezone}
    _check_timestamps(frame, source, ["timestamp"], problems, parse=parse, notes=notes)
    if "value" in frame.columns:
        frame["value"] = _check_amounts(frame, "value", problems)
    if problems:
        raise DataError(source, problems, columns=every_column)
    trimmed = {}
    for col in ("customer_id", "event", "channel", "device"):
        if col in frame.columns:
            kind = "object" if col == "customer_id" else "string"
            frame[col], trimmed[col] = _trimmed(frame[col], kind)
    _report_trimmed(notes, trimmed)
    extra = None
    if events is not None:
        frame, extra = _kept_events(frame, source, events)
    frame = frame.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)
    return _finish(frame, source, notes, extra)


def _names_list(names, keyword, source):
    """``names`` (one name or a list of them) as a list of str; None stays None."""
    if names is None:
        return None
    if isinstance(names, str):
        return [names]
    try:
        out = list(names)
    except TypeError:
        out = None
    if out is None or not all(isinstance(n, str) for n in out):
        raise DataError(
            f"{source} (read_events {keyword}=...)",
            [{"column": keyword, "expected": f"a list of names; got {names!r}"}],
        )
    return out


def _chosen_columns(frame, source, columns):
    """The required columns and ``columns`` (already checked to be names), in file order."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            source,
            [
                {
                    "column": c,
                    "expected": f"a column '{c}' to read (columns=...); the table lacks it",
                }
                for c in missing
            ],
            columns=frame.columns,
        )
    wanted = {"customer_id", "timestamp", "event", *columns}
    return frame[[c for c in frame.columns if c in wanted]]


class NoEventRows(DataError):
    """``read_events(..., events=)`` found no row of those events (the funnel of a file then
    reads the whole log, where steps matching nothing give a warning and zero counts)."""


def _kept_events(frame, source, events):
    """The rows of ``events`` (categories stay the whole log's), and the attrs that say so."""
    keep = frame["event"].isin(events).to_numpy()
    if not keep.any():
        present = list(frame["event"].cat.categories[:_MAX_EXAMPLES])
        raise NoEventRows(
            source,
            [
                {
                    "column": "event",
                    "expected": f"rows of the events asked for (events={events!r}); none "
                    f"has one; the log's events include {present}",
                }
            ],
            columns=frame.columns,
        )
    extra = {
        "observed_at": frame["timestamp"].max(),
        "events_kept": {
            "events": sorted(set(events)),
            "rows_read": len(frame),
            "rows_kept": int(keep.sum()),
        },
    }
    return frame.loc[keep], extra


def read_customers(
    data,
    *,
    customer="customer_id",
    signup_at="signup_at",
    churned_at="churned_at",
    dayfirst=None,
    date_format=None,
    timezone=None,
    encoding=None,
    sep=None,
    decimal=None,
):
    """Read the customers table: one row per person who became a customer.

    ``churned_at`` empty means still active. Every other column is kept as an attribute;
    string attributes become categoricals.

    Examples
    --------
    >>> import cxkit
    >>> customers = cxkit.read_customers(cxkit.sample_dir() / "customers.csv")
    >>> customers["customer_id"].is_unique
    True
    """
    source = _source_name(data)
    mapping = {"customer_id": customer, "signup_at": signup_at, "churned_at": churned_at}
    frame = None
    _check_decimal(source, decimal)
    if encoding is None and sep is None and decimal is None:
        frame = read_file(data, id_columns=[customer], timestamp_columns=[signup_at, churned_at])
    if frame is None:  # a DataFrame, or a file Arrow could not read
        frame = _read_table(
            data, id_columns=[customer], encoding=encoding, sep=sep, decimal=decimal
        )
    notes = _read_notes(frame)
    frame = _apply_mapping(frame, source, _CUSTOMERS, mapping)
    problems = []
    _check_scalars(frame, source, problems)
    _check_present(frame, source, ["customer_id"], problems)
    _check_timestamps(
        frame,
        source,
        ["signup_at", "churned_at"],
        problems,
        allow_missing=("churned_at",),
        parse={"dayfirst": dayfirst, "date_format": date_format, "timezone": timezone},
        notes=notes,
    )
    churn_dates = "churned_at" in frame.columns  # contractual data has the column (maybe empty)
    if not churn_dates:
        frame["churned_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    ids, n_trimmed = _trimmed(frame["customer_id"])
    ids = ids.astype(object)
    _report_trimmed(notes, {"customer_id": n_trimmed})
    dup = ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
    if dup.any():
        problems.append(
            {
                "column": "customer_id",
                "expected": "one row per customer; these ids appear more than once",
                "rows": int(dup.sum()),
                "examples": list(pd.unique(ids[dup]))[:_MAX_EXAMPLES],
            }
        )
    if not problems:
        before = (frame["churned_at"] < frame["signup_at"]).to_numpy()
        if before.any():
            ex = [
                f"row {i + 1}: {frame['customer_id'].iloc[i]} signed up "
                f"{frame['signup_at'].iloc[i]}, churned {frame['churned_at'].iloc[i]}"
                for i in np.flatnonzero(before)[:_MAX_EXAMPLES]
            ]
            problems.append(
                {
                    "column": "churned_at",
                    "expected": "a churn date on or after signup_at",
                    "rows": int(before.sum()),
                    "examples": ex,
                }
            )
    if problems:
        raise DataError(source, problems, columns=frame.columns)
    frame["customer_id"] = ids
    for col in frame.columns.difference(["customer_id", "signup_at", "churned_at"]):
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].astype("category")
    front = ["customer_id", "signup_at", "churned_at"]
    frame = frame[front + [c for c in frame.columns if c not in front]]
    frame = frame.sort_values("signup_at", kind="stable").reset_index(drop=True)
    return _finish(frame, source, notes, {"churn_dates": churn_dates})


def read_surveys(
    data,
    *,
    customer="customer_id",
    timestamp="timestamp",
    survey="survey",
    score="score",
    stage=None,
    touchpoint=None,
    comment=None,
    dayfirst=None,
    date_format=None,
    timezone=None,
    encoding=None,
    sep=None,
    decimal=None,
):
    """Read survey answers: one row per answer (NPS 0–10, CSAT 1–5, CES 1–7).

    ``survey`` names are matched case-insensitively (``NPS`` → ``nps``).

    Examples
    --------
    >>> import cxkit
    >>> surveys = cxkit.read_surveys(cxkit.sample_dir() / "surveys.csv")
    >>> sorted(surveys["survey"].unique())
    ['ces', 'csat', 'nps']
    """
    source = _source_name(data)
    mapping = {
        "customer_id": customer,
        "timestamp": timestamp,
        "survey": survey,
        "score": score,
        "stage": stage,
        "touchpoint": touchpoint,
        "comment": comment,
    }
    frame = None
    _check_decimal(source, decimal)
    if encoding is None and sep is None and decimal is None:
        frame = read_file(data, id_columns=[customer], timestamp_columns=[timestamp])
    if frame is None:  # a DataFrame, or a file Arrow could not read
        frame = _read_table(
            data, id_columns=[customer], encoding=encoding, sep=sep, decimal=decimal
        )
    notes = _read_notes(frame)
    frame = _apply_mapping(frame, source, _SURVEYS, mapping)
    problems = []
    _check_scalars(frame, source, problems)
    _check_present(frame, source, ["customer_id", "survey", "score"], problems)
    parse = {"dayfirst": dayfirst, "date_format": date_format, "timezone": timezone}
    _check_timestamps(frame, source, ["timestamp"], problems, parse=parse, notes=notes)
    kind = frame["survey"].astype("string").str.strip().str.lower()
    unknown = ~kind.isin(list(SURVEY_SCALES)).fillna(False).to_numpy() & kind.notna().to_numpy()
    if unknown.any():
        problems.append(
            {
                "column": "survey",
                "expected": "one of " + ", ".join(SURVEY_SCALES) + "; unknown survey types",
                "rows": int(unknown.sum()),
                "examples": list(pd.unique(frame["survey"][unknown]))[:_MAX_EXAMPLES],
            }
        )
    num = pd.to_numeric(frame["score"], errors="coerce")
    notnum = num.isna().to_numpy() & frame["score"].notna().to_numpy()
    if notnum.any():
        problems.append(
            {
                "column": "score",
                "expected": "whole-number scores; these are not numbers",
                "rows": int(notnum.sum()),
                "examples": _examples(frame, notnum, "score"),
            }
        )
    out = np.zeros(len(frame), bool)
    for name, (lo, hi) in SURVEY_SCALES.items():
        rows = (kind == name).fillna(False).to_numpy()
        out |= (
            rows
            & num.notna().to_numpy()
            & ((num < lo) | (num > hi) | (num != np.round(num))).to_numpy()
        )
    if out.any():
        ex = [
            f"row {i + 1}: {kind.iloc[i]} {frame['score'].iloc[i]}"
            for i in np.flatnonzero(out)[:_MAX_EXAMPLES]
        ]
        problems.append(
            {
                "column": "score",
                "expected": "whole numbers in the survey's scale (nps 0–10, csat 1–5, ces 1–7)",
                "rows": int(out.sum()),
                "examples": ex,
            }
        )
    if problems:
        raise DataError(source, problems, columns=frame.columns)
    ids, n_trimmed = _trimmed(frame["customer_id"])
    frame["customer_id"] = ids.astype(object)
    _report_trimmed(notes, {"customer_id": n_trimmed})
    frame["survey"] = kind.astype(object)
    frame["score"] = num.astype("int64")
    for col in ("stage", "touchpoint"):
        if col in frame.columns:
            frame[col] = frame[col].astype("category")
    frame = frame.sort_values(["timestamp"], kind="stable").reset_index(drop=True)
    return _finish(frame, source, notes)


def _empty_surveys():
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype=object),
            "timestamp": pd.Series(dtype="datetime64[ns]"),
            "survey": pd.Series(dtype=object),
            "score": pd.Series(dtype="int64"),
        }
    )

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


def _read_table(data, id_columns=()):
    """Read a path or DataFrame into a fresh DataFrame (never the caller's object)."""
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
        dtype = dict.fromkeys(id_columns, str)
        return pd.read_csv(path, dtype=dtype, low_memory=False)
    except DataError:
        raise
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


def _apply_mapping(frame, source, canonical, mapping):
    """Rename user columns to canonical names; errors list the columns that exist."""
    problems = []
    rename = {}
    for canon, user in mapping.items():
        if user is None or user == canon:
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
        raise DataError(
            source,
            problems,
            columns=frame.columns,
            hint="pass the file's own column name, e.g. "
            f"{next(iter(mapping))}='<name in your file>'",
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
    that were present but could not be parsed.

    ``date_format`` (a ``strftime`` format) is used exactly; ``dayfirst=True`` reads 03/05/2024
    as 3 May; ``timezone`` (e.g. ``"Europe/Madrid"``) is the zone of naive values, which are
    then converted to naive UTC like aware ones (ambiguous autumn times are read as standard
    time, spring-gap times are moved forward)."""
    s = series
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]"), np.zeros(
            len(s), bool
        )
    if pd.api.types.is_datetime64_any_dtype(s):
        return _localize(s.astype("datetime64[ns]"), timezone), np.zeros(len(s), bool)
    present = s.notna().to_numpy()
    if pd.api.types.is_numeric_dtype(s):
        # numbers are not timestamps (an epoch would silently become 1970)
        bad = present.copy()
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]"), bad
    text = s.astype("string").str.strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(
                text, errors="coerce", utc=True, format=date_format or "ISO8601"
            )
        except (ValueError, TypeError):
            parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
        retry = present & parsed.isna().to_numpy()
        if retry.any() and not date_format:  # other formats (03/05/2024 14:00): per value
            again = pd.to_datetime(
                text[retry], errors="coerce", utc=True, format="mixed", dayfirst=bool(dayfirst)
            )
            parsed = parsed.copy()
            parsed[retry] = again
    # utc=True converts aware values to UTC and reads naive ones as UTC, which leaves their wall
    # time unchanged: naive values are "taken as they are" (or put in ``timezone``).
    out = parsed.dt.tz_localize(None).astype("datetime64[ns]")
    if timezone:
        naive = ~text.str.contains(_OFFSET, regex=True).fillna(False).to_numpy()
        out = out.where(~naive, _localize(out, timezone))
    bad = present & out.isna().to_numpy()
    return out, bad


#: A UTC offset or Z at the end of a timestamp: the value is aware.
_OFFSET = r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"


def _localize(naive, timezone):
    """Naive wall times in ``timezone`` -> naive UTC (unchanged when no timezone)."""
    if not timezone:
        return naive
    local = naive.dt.tz_localize(
        timezone, ambiguous=np.zeros(len(naive), bool), nonexistent="shift_forward"
    )
    return local.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")


def _check_timestamps(frame, source, columns, problems, allow_missing=(), parse=None):
    parse = {k: v for k, v in (parse or {}).items() if v is not None}
    _check_timezone(source, parse.get("timezone"))
    for col in columns:
        if col not in frame.columns:
            continue
        parsed, bad = _parse_timestamps(frame[col], **parse)
        if bad.any():
            problems.append(
                {
                    "column": col,
                    "expected": (
                        f"timestamps in the format {parse['date_format']!r}"
                        if parse.get("date_format")
                        else "timestamps (e.g. 2024-03-05 14:00:00 or ISO 8601)"
                    )
                    + "; these could not be parsed",
                    "rows": int(bad.sum()),
                    "examples": _examples(frame, bad, col),
                }
            )
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
            missing |= (frame[col].astype("string").str.strip() == "").fillna(False).to_numpy()
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
    """Customer ids as strings (an id of 007 stays '007')."""
    if pd.api.types.is_float_dtype(series):
        whole = series.dropna()
        if len(whole) and (whole == np.round(whole)).all():
            series = series.astype("Int64")
    return series.astype("string").astype(object)


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
        values (converted to naive UTC). The same keywords exist on every loader.

    Returns
    -------
    DataFrame
        Sorted by ``customer_id`` then ``timestamp``, fresh index. ``customer_id``, ``event``,
        ``channel`` and ``device`` are categoricals; ``timestamp`` is naive UTC; ``value`` float.
        ``.attrs["source"]`` names where it came from.

    Examples
    --------
    >>> import cxkit
    >>> events = cxkit.read_events(cxkit.sample_dir() / "events.csv.gz")
    >>> list(events.columns[:3])
    ['customer_id', 'timestamp', 'event']
    """
    source = _source_name(data)
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
    fast = events_fast(data, mapping, keywords, source)  # Arrow, for clean input; else None
    if fast is not None:
        return fast
    frame = _read_table(data, id_columns=[customer])
    frame = _apply_mapping(frame, source, _EVENTS, mapping)
    problems = []
    _check_present(frame, source, ["customer_id", "event"], problems)
    parse = {"dayfirst": dayfirst, "date_format": date_format, "timezone": timezone}
    _check_timestamps(frame, source, ["timestamp"], problems, parse=parse)
    if "value" in frame.columns:
        num = pd.to_numeric(frame["value"], errors="coerce")
        bad = num.isna().to_numpy() & frame["value"].notna().to_numpy()
        if bad.any():
            problems.append(
                {
                    "column": "value",
                    "expected": "numbers (revenue); these are not",
                    "rows": int(bad.sum()),
                    "examples": _examples(frame, bad, "value"),
                }
            )
        frame["value"] = num.astype(float)
    if problems:
        raise DataError(source, problems, columns=frame.columns)
    frame["customer_id"] = _as_id(frame["customer_id"]).astype("category")
    for col in ("event", "channel", "device"):
        if col in frame.columns:
            frame[col] = frame[col].astype("string").str.strip().astype("category")
    frame = frame.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)
    frame.attrs = {"source": source}
    return frame


def read_customers(
    data,
    *,
    customer="customer_id",
    signup_at="signup_at",
    churned_at="churned_at",
    dayfirst=None,
    date_format=None,
    timezone=None,
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
    frame = read_file(data, id_columns=[customer], timestamp_columns=[signup_at, churned_at])
    if frame is None:  # a DataFrame, or a file Arrow could not read
        frame = _read_table(data, id_columns=[customer])
    frame = _apply_mapping(frame, source, _CUSTOMERS, mapping)
    problems = []
    _check_present(frame, source, ["customer_id"], problems)
    _check_timestamps(
        frame,
        source,
        ["signup_at", "churned_at"],
        problems,
        allow_missing=("churned_at",),
        parse={"dayfirst": dayfirst, "date_format": date_format, "timezone": timezone},
    )
    churn_dates = "churned_at" in frame.columns  # contractual data has the column (maybe empty)
    if not churn_dates:
        frame["churned_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    ids = _as_id(frame["customer_id"])
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
    frame.attrs = {"source": source, "churn_dates": churn_dates}
    return frame


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
    frame = read_file(data, id_columns=[customer], timestamp_columns=[timestamp])
    if frame is None:  # a DataFrame, or a file Arrow could not read
        frame = _read_table(data, id_columns=[customer])
    frame = _apply_mapping(frame, source, _SURVEYS, mapping)
    problems = []
    _check_present(frame, source, ["customer_id", "survey", "score"], problems)
    parse = {"dayfirst": dayfirst, "date_format": date_format, "timezone": timezone}
    _check_timestamps(frame, source, ["timestamp"], problems, parse=parse)
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
    frame["customer_id"] = _as_id(frame["customer_id"])
    frame["survey"] = kind.astype(object)
    frame["score"] = num.astype("int64")
    for col in ("stage", "touchpoint"):
        if col in frame.columns:
            frame[col] = frame[col].astype("category")
    frame = frame.sort_values(["timestamp"], kind="stable").reset_index(drop=True)
    frame.attrs = {"source": source}
    return frame


def _empty_surveys():
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype=object),
            "timestamp": pd.Series(dtype="datetime64[ns]"),
            "survey": pd.Series(dtype=object),
            "score": pd.Series(dtype="int64"),
        }
    )

"""Fast reading of the contract's tables with Apache Arrow.

The loaders in :mod:`.contract` hold the rules (what a valid table is, and the message for
each problem). This module is their fast path for the common case, a clean export:

* files are read with pyarrow's multi-threaded Parquet and CSV readers; strings come back
  dictionary-encoded and become pandas categoricals without ever being Python objects;
* the checks run on Arrow arrays and on the (small) dictionaries of distinct values, never
  per row in Python;
* anything the fast path is not sure about — a problem to report, a value that would be
  trimmed, a timestamp that is not ISO 8601, a file Arrow cannot read — makes it step aside
  (return ``None``), and the loader reads the input the careful way, which finds and names
  every problem. So the fast path changes how long a clean load takes, never what is accepted
  or what an error says.

Examples
--------
>>> import cxkit
>>> from cxkit.data.read import events_fast
>>> events = events_fast(cxkit.sample_dir() / "events.csv.gz", {}, {}, "events.csv.gz")
>>> list(events.columns[:3]), events["event"].dtype.name
(['customer_id', 'timestamp', 'event'], 'category')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: The strings pandas reads as missing in a CSV file (``pandas.read_csv``'s defaults), so that
#: both readers agree on what an empty cell is.
NULL_VALUES = [
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
]

_CATEGORICAL = ("event", "channel", "device")


class _StepAside(Exception):
    """The fast path cannot vouch for this input: the careful path reads it instead."""


def read_arrow(path, *, text_columns=(), timestamp_columns=(), number_columns=()):
    """Read a CSV, CSV.gz or Parquet file into an Arrow table, strings dictionary-encoded.

    Parameters
    ----------
    path : str or Path
    text_columns : sequence of str
        Columns read as text whatever they look like (customer ids: ``007`` stays ``007``).
    timestamp_columns, number_columns : sequence of str
        CSV columns known to hold timestamps or numbers. They are converted as they are read,
        as the first rows suggest (with or without a UTC offset): letting Arrow guess the type
        of a timestamp column keeps all its text in memory until the end (3x the table).

    Returns
    -------
    pyarrow.Table
        Raises whatever pyarrow raises on a file it cannot read, or on a value that does not
        convert to the type expected.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.data.read import read_arrow
    >>> table = read_arrow(cxkit.sample_dir() / "customers.csv", text_columns=["customer_id"])
    >>> str(table.schema.field("customer_id").type)
    'dictionary<values=string, indices=int32, ordered=0>'
    """
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = Path(path)
    if path.name.lower().endswith((".parquet", ".pq")):
        # one chunk per row group (read_table cuts 128k-row batches, and with a categorical
        # written by pandas each batch carries a copy of the whole dictionary)
        return pq.ParquetFile(path).read(use_threads=True)
    text = pa.dictionary(pa.int32(), pa.string())
    types = dict.fromkeys(text_columns, text)
    first = _first_rows(path, pacsv) if (timestamp_columns or number_columns) else None
    for name in timestamp_columns:
        if first is not None and name in first.column_names:
            kind = first.schema.field(name).type
            aware = pa.types.is_timestamp(kind) and kind.tz is not None
            types[name] = pa.timestamp("ns", "UTC" if aware else None)
    for name in number_columns:
        if first is not None and name in first.column_names:
            types[name] = pa.float64()
    convert = pacsv.ConvertOptions(
        column_types=types,
        null_values=NULL_VALUES,
        strings_can_be_null=True,
        auto_dict_encode=True,
        auto_dict_max_cardinality=2**31 - 1,
    )
    return pacsv.read_csv(path, convert_options=convert)


def _first_rows(path, pacsv, size=1 << 16):
    """The first rows of a CSV file (up to ``size`` bytes of text), types guessed by Arrow."""
    with pa.input_stream(path) as stream:  # .gz and others decompressed by the extension
        head = stream.read(size)
    if len(head) == size:
        head = head[: head.rfind(b"\n") + 1]
    return pacsv.read_csv(pa.BufferReader(head))


def read_file(data, *, id_columns=(), timestamp_columns=()):
    """A customers or surveys file read with Arrow into the frame ``pandas.read_csv`` (or
    ``read_parquet``) would give the loader, or ``None`` when the loader should read it itself
    (a DataFrame, a file Arrow cannot read, repeated column names).

    Text stays Python strings here (these tables are small; the loader decides what becomes a
    categorical); ``id_columns`` are text whatever they look like; ``timestamp_columns`` are
    converted while reading when they are ISO 8601, and other columns that look like dates
    are kept as text, as pandas reads them.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.data.read import read_file
    >>> frame = read_file(cxkit.sample_dir() / "customers.csv", id_columns=["customer_id"],
    ...                   timestamp_columns=["signup_at", "churned_at"])
    >>> str(frame["signup_at"].dtype), frame["customer_id"].iloc[0]
    ('datetime64[ns]', 'CX0042399')
    """
    if not isinstance(data, (str, Path)) or not Path(data).is_file() or not _plain(data):
        return None
    try:
        table = read_arrow(data, text_columns=id_columns, timestamp_columns=timestamp_columns)
    except (pa.ArrowException, OSError, ValueError):
        return None
    names = table.column_names
    if len(set(names)) != len(names):
        return None
    columns = {}
    for name in names:
        column = table.column(name)
        kind = column.type
        if pa.types.is_nested(kind) or pa.types.is_binary(kind):
            return None
        if name in id_columns and not (pa.types.is_dictionary(kind) or pa.types.is_string(kind)):
            return None  # numbers as ids in a Parquet file: the loader's own conversion
        if pa.types.is_dictionary(kind) or pa.types.is_string(kind):
            values = column.cast(pa.string()).to_numpy(zero_copy_only=False)
            values[column.is_null().to_numpy(zero_copy_only=False)] = np.nan
            columns[name] = values
        elif pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            if name not in timestamp_columns:  # pandas would have kept the text
                return None
            try:
                columns[name] = _timestamps(column)
            except _StepAside:
                return None
        else:
            columns[name] = column.to_pandas()
    return pd.DataFrame(columns)


def events_fast(data, mapping, parse, source):
    """The events table of a clean file (or DataFrame), or ``None`` to let the loader decide.

    Same result as :func:`cxkit.read_events` (which calls this first): canonical names,
    categorical ``customer_id``/``event``/``channel``/``device`` with sorted categories,
    naive-UTC ``timestamp``, float ``value``, sorted by customer then time. Columns beyond the
    contract's are kept; their strings become categoricals too (no Python string objects).

    Parameters
    ----------
    data : path or DataFrame
    mapping : dict
        Canonical column -> the file's name (``None`` or missing = the canonical name).
    parse : dict
        The loader's timestamp keywords (``dayfirst``, ``date_format``, ``timezone``).
    source : str
        Name of the input, kept in ``.attrs["source"]``.
    """
    if parse.get("date_format"):
        return None  # an exact format is the careful path's business
    try:
        found = _events_table(data, mapping)
        if found is None:
            return None
        table, extras, names = found
        held = [table]  # handed over, so that columns are freed as they are converted
        del found, table
        return _events_frame(held, extras, names, parse, source)
    except _StepAside:
        return None


def _events_table(data, mapping):
    """The input as an Arrow table with canonical names, or None when it is not for us."""
    renames = {canon: user for canon, user in mapping.items() if user is not None}
    extras = {}
    if isinstance(data, pd.DataFrame):
        if not data.columns.is_unique or not all(isinstance(c, str) for c in data.columns):
            return None
        ours = {renames.get(c, c) for c in _CONVERTED}
        table = _table_from_frame(data[[c for c in data.columns if c in ours]])
        # other columns of a DataFrame are kept as they are (copied), as the careful path does
        extras = {c: data[c].array for c in data.columns if c not in ours}
    elif isinstance(data, (str, Path)) and Path(data).is_file() and _plain(data):
        try:
            if Path(data).name.lower().endswith((".parquet", ".pq")):
                table = _ParquetColumns(data)
            else:
                table = read_arrow(
                    data,
                    text_columns=[renames.get(c, c) for c in ("customer_id", *_CATEGORICAL)],
                    timestamp_columns=[renames.get("timestamp", "timestamp")],
                    number_columns=[renames.get("value", "value")],
                )
        except (pa.ArrowException, OSError, ValueError):
            return None  # the careful path names what is wrong with the file
    else:
        return None
    names = list(data.columns) if isinstance(data, pd.DataFrame) else table.column_names
    lookup = {user: canon for canon, user in renames.items() if user != canon}
    if any(user not in names for user in lookup):
        return None  # the careful path lists the columns that exist
    new = [lookup.get(n, n) for n in names]
    if len(set(new)) != len(new) or table.num_rows == 0:
        return None  # repeated names (also after mapping), or no rows
    table = table.rename_columns([lookup.get(n, n) for n in table.column_names])
    if not {"customer_id", "timestamp", "event"} <= set(new):
        return None
    for field in table.schema:
        if pa.types.is_nested(field.type) or pa.types.is_binary(field.type):
            return None
    return table, extras, new


def _plain(path):
    """True for Parquet, and for CSV that is UTF-8 with commas and nothing to report about how
    it is written (:func:`.sniff.sniff_csv`); other files are for the careful path, which
    reads them in their encoding and separator and says what it found."""
    if Path(path).name.lower().endswith((".parquet", ".pq")):
        return True
    from .sniff import sniff_csv

    found = sniff_csv(path)
    return (
        found["problem"] is None
        and not found["notes"]
        and found["sep"] == ","
        and found["encoding"] in ("utf-8", "utf-8-sig")
    )


class _ParquetColumns:
    """A Parquet file read one column at a time, with the few methods of a table used here.

    Converting column by column from a whole table keeps the table in memory beside the
    columns already converted; reading each column only when it is converted does not (the
    peak is one column twice, not the table twice)."""

    def __init__(self, path, names=None):
        import pyarrow.parquet as pq

        self._file = pq.ParquetFile(path) if isinstance(path, (str, Path)) else path
        self.schema = self._file.schema_arrow
        self.num_rows = self._file.metadata.num_rows
        stored = self.schema.names
        # (name shown, name in the file) pairs
        self._names = list(zip(stored, stored, strict=True)) if names is None else names

    @property
    def column_names(self):
        return [shown for shown, _ in self._names]

    def rename_columns(self, new):
        stored = [s for _, s in self._names]
        return _ParquetColumns(self._file, list(zip(new, stored, strict=True)))

    def column(self, name):
        stored = dict(self._names)[name]
        try:
            return self._file.read(columns=[stored], use_threads=True).column(0)
        except pa.ArrowException:
            raise _StepAside from None

    def drop_columns(self, names):
        return self


def _table_from_frame(frame):
    """Arrow columns of a DataFrame, without touching it (Arrow converts Python strings in C)."""
    columns = {}
    for name in frame.columns:
        col = frame[name]
        try:
            if isinstance(col.dtype, pd.CategoricalDtype):
                values = pa.array(col.cat.categories.to_numpy(dtype=object), type=pa.string())
                codes = pa.array(col.cat.codes.to_numpy(), mask=col.isna().to_numpy())
                columns[name] = pa.DictionaryArray.from_arrays(codes.cast(pa.int32()), values)
            elif col.dtype == object or pd.api.types.is_string_dtype(col):
                try:
                    columns[name] = pa.array(col, type=pa.string(), from_pandas=True)
                except (pa.ArrowException, TypeError, ValueError):
                    array = pa.array(col, from_pandas=True)  # numbers and None only
                    kind = array.type
                    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
                        raise _StepAside from None  # dates, mixed objects: careful path
                    columns[name] = array
            else:
                columns[name] = pa.array(col, from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError):
            raise _StepAside from None  # mixed objects: the careful path
    return pa.table(columns)


def _events_frame(held, extras, names, parse, source):
    from .contract import _check_timestamps  # the loader's own rules for timestamps

    table = held.pop()
    out = {}
    order = None
    # the sort keys first: every other column is then put in order as it is converted, so
    # that at most one column exists twice at any time
    for name in ["customer_id", "timestamp"] + [n for n in names if n not in _KEYS]:
        if name in extras:
            values = extras.pop(name)
            out[name] = values.copy() if order is None else values.take(order)
            continue
        column = table.column(name)
        if name == "customer_id":  # ids as plain text categories, as the careful path has them
            values = _categorical(column, required=True, text=object)
        elif name == "event":
            values = _categorical(column, required=True)
        elif name in _CATEGORICAL:
            values = _categorical(column)
        elif name == "timestamp":
            stamps = pd.DataFrame({name: _timestamps(column)}, copy=False)
            problems = []
            notes = {}
            _check_timestamps(stamps, source, [name], problems, parse=parse, notes=notes)
            if problems or notes:  # something to say: the careful path says it
                raise _StepAside
            values = stamps.pop(name).to_numpy()
            del stamps
        elif name == "value":
            values = _numbers(column)
        elif pa.types.is_dictionary(column.type) or pa.types.is_string(column.type):
            values = _categorical(column, exact=False)
        else:
            values = column.to_pandas().to_numpy()
        del column
        table = table.drop_columns([name])
        if name == "timestamp":
            order = _order(out["customer_id"].codes, values)
            if order is not None:
                out["customer_id"] = out["customer_id"].take(order)
        if order is not None and name != "customer_id":
            values = values.take(order)
        out[name] = values
        del values
    del table
    frame = pd.DataFrame({name: out.pop(name) for name in names}, copy=False)
    frame.attrs = {"source": source}
    return frame


_KEYS = ("customer_id", "timestamp")

#: The columns the loader converts (the others of a DataFrame are kept as they are).
_CONVERTED = ("customer_id", "timestamp", "event", "channel", "device", "value")


def _dictionary(column):
    """(codes, values): int codes (-1 = missing) into one Arrow array of distinct strings."""
    if pa.types.is_dictionary(column.type):
        if not pa.types.is_string(column.type.value_type):
            raise _StepAside
        column = _one_dictionary(column)
    elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        column = pc.dictionary_encode(column)
    elif pa.types.is_integer(column.type):  # integer ids read as text, as the loader does
        column = pc.dictionary_encode(pc.cast(column, pa.string()))
    else:
        raise _StepAside
    if column.num_chunks == 0:
        return np.zeros(0, np.int32), pa.array([], pa.string())
    values = column.chunk(0).dictionary
    parts = []
    for chunk in column.chunks:
        idx = chunk.indices
        codes = idx.to_numpy(zero_copy_only=False)
        if idx.null_count:
            codes = np.where(idx.is_null().to_numpy(zero_copy_only=False), -1, codes)
        parts.append(codes.astype(np.int32, copy=False))
    return np.concatenate(parts) if len(parts) > 1 else parts[0], values


def _one_dictionary(column):
    """The chunks of a dictionary column sharing one dictionary. pandas writes a categorical's
    whole dictionary into every chunk of a Parquet file: then comparing is enough (hashing
    millions of repeated strings to unify them would cost seconds)."""
    if column.num_chunks < 2:
        return column
    first = column.chunk(0).dictionary
    if all(chunk.dictionary.equals(first) for chunk in column.chunks[1:]):
        return column
    return column.unify_dictionaries()


def _categorical(column, *, required=False, exact=True, text="string"):
    """A pandas categorical with sorted categories (only the values present), as
    ``astype("category")`` on the strings would give; ``text`` is the categories' dtype.

    Steps aside when a required column has a missing or blank value, or (``exact``) when a
    value has leading or trailing spaces: the careful path decides what to trim and says so."""
    codes, values = _dictionary(column)
    if required and (codes < 0).any():
        raise _StepAside
    present = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(values)))
    kept = values.take(pa.array(present, pa.int64()))
    if exact and len(kept):
        stripped = pc.utf8_trim_whitespace(kept)
        if not pc.all(pc.equal(stripped, kept)).as_py():
            raise _StepAside
        if required and pc.any(pc.equal(kept, "")).as_py():
            raise _StepAside
    order = pc.array_sort_indices(kept).to_numpy()
    remap = np.full(len(values) + 1, -1, dtype=np.int32)  # the last slot: missing (-1)
    remap[present[order]] = np.arange(len(present), dtype=np.int32)
    categories = pd.Index(kept.take(pa.array(order)).to_numpy(zero_copy_only=False), dtype=text)
    return pd.Categorical.from_codes(remap[codes], categories=categories, validate=False)


def _timestamps(column):
    """Arrow timestamps (or ISO 8601 text) as a pandas datetime column; steps aside on text
    that is not strict ISO 8601, which the careful path parses by its own rules."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        if not pa.types.is_string(kind.value_type):
            raise _StepAside
        column = _one_dictionary(column)
        values = column.chunk(0).dictionary if column.num_chunks else pa.array([], pa.string())
        parsed = _iso(values)
        indices = pa.chunked_array([c.indices for c in column.chunks], kind.index_type)
        column = pa.chunked_array([parsed.take(indices.combine_chunks())])
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        column = _iso(column)
    elif pa.types.is_date(kind):
        column = pc.cast(column, pa.timestamp("ns"))
    elif not pa.types.is_timestamp(kind):
        raise _StepAside  # numbers, durations …: the careful path names them
    if column.type.unit != "ns":
        try:
            column = column.cast(pa.timestamp("ns", column.type.tz))  # safe: no overflow
        except pa.ArrowInvalid:
            raise _StepAside from None
    return column.to_pandas()


def _iso(values):
    """ISO 8601 text -> timestamps: all naive or all with an offset (then UTC)."""
    for target in (pa.timestamp("ns"), pa.timestamp("ns", "UTC")):
        try:
            return pc.cast(values, target)
        except pa.ArrowInvalid:
            continue
    raise _StepAside


def _numbers(column):
    """Numbers as float (NaN where missing); text, or values that are not finite, step aside."""
    kind = column.type
    if pa.types.is_null(kind):
        return np.full(len(column), np.nan)
    if pa.types.is_dictionary(kind) or pa.types.is_string(kind):  # numbers written as text
        codes, values = _dictionary(column)
        try:
            numbers = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            raise _StepAside from None
        if np.isnan(numbers).any():  # the text "nan" is not a number for the careful path
            raise _StepAside
        column, kind = pa.chunked_array([np.append(numbers, np.nan)[codes]]), pa.float64()
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise _StepAside
    values = np.empty(len(column))
    start = 0
    for chunk in column.chunks:  # chunk by chunk: no second whole copy of the column
        values[start : start + len(chunk)] = chunk.to_numpy(zero_copy_only=False)
        start += len(chunk)
    from .contract import MAX_AMOUNT

    if (np.abs(values) > MAX_AMOUNT).any():  # infinite or absurd amounts: refused there
        raise _StepAside
    return values


def _order(codes, stamps):
    """The rows' order by customer then time, stable (equal keys keep the file's order), as
    int32 positions; None when they are in that order already."""
    if len(codes) < 2:
        return None
    same = codes[1:] == codes[:-1]
    if (codes[1:] >= codes[:-1]).all() and (stamps[1:][same] >= stamps[:-1][same]).all():
        return None
    del same
    stamps = stamps.view(np.int64)
    if (stamps[1:] >= stamps[:-1]).all():  # exports are often in time order already
        return _stable_order(codes)
    by_time = np.argsort(stamps, kind="stable").astype(np.int32)
    return by_time[_stable_order(codes[by_time])]


def _stable_order(codes):
    """``np.argsort(codes, kind="stable")`` (as int32) for int codes >= 0, by radix passes on
    16-bit digits: numpy sorts 16-bit keys by radix, wider ones by timsort (2-3x slower)."""
    if codes.dtype.itemsize <= 2:
        return np.argsort(codes, kind="stable").astype(np.int32)
    low = codes.astype(np.uint16)  # the low 16 bits (unsigned casts wrap)
    order = np.argsort(low, kind="stable").astype(np.int32)
    del low
    high = (codes >> 16).astype(np.uint16)
    if high.any():
        high = high[order]
        order = order[np.argsort(high, kind="stable")]
    return order

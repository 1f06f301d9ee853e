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

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .pages import DictionaryColumn
from .sorting import SLICE as _SLICE
from .sorting import is_sorted as _is_sorted
from .sorting import row_order
from .sorting import sort_indices as _sort_indices
from .threads import ahead, each

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


class _NaiveInZone(_StepAside):
    """Naive times read in a zone, with rows left out: their local times are checked on
    every row, so the whole log is read (and then filtered)."""


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
    convert = _csv_options(
        path,
        text_columns=text_columns,
        timestamp_columns=timestamp_columns,
        number_columns=number_columns,
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


def events_fast(data, mapping, parse, source, *, columns=None, events=None):
    """The events table of a clean file (or DataFrame), or ``None`` to let the loader decide.

    Same result as :func:`cxkit.read_events` (which calls this first): canonical names,
    categorical ``customer_id``/``event``/``channel``/``device`` with sorted categories,
    naive-UTC ``timestamp``, float ``value``, sorted by customer then time. Columns beyond the
    contract's are kept; their strings become categoricals too (no Python string objects).

    Files are read piece by piece (a Parquet row group, a block of CSV text), each piece
    converted into the result's arrays (integer codes for text) and let go before the next is
    read: Arrow's copy of a column never exists whole beside the result.

    Parameters
    ----------
    data : path or DataFrame
    mapping : dict
        Canonical column -> the file's name (``None`` or missing = the canonical name).
    parse : dict
        The loader's timestamp keywords (``dayfirst``, ``date_format``, ``timezone``).
    source : str
        Name of the input, kept in ``.attrs["source"]``.
    columns : list of str, optional
        The optional columns to read (canonical names, or the input's for other columns);
        None: all. The required three are always read.
    events : list of str, optional
        Keep only the rows of these events (see :func:`cxkit.read_events`). Every row read is
        checked as without it: whatever would have made the fast path step aside anywhere in
        the input still does.
    """
    if parse.get("date_format"):
        return None  # an exact format is the careful path's business
    try:
        found = _events_input(data, mapping, columns)
        if found is None:
            return None
        if events is None:
            return _events_frame(found, parse, source)
        try:
            return _events_frame(found, parse, source, _Kept(events))
        except _NaiveInZone:
            return _filtered(_events_frame(found, parse, source), source, events)
    except _StepAside:
        return None
    except (pa.ArrowException, OSError, ValueError):
        return None  # a CSV block Arrow could not convert: the careful path names the rows


class _Input:
    """Where the events come from: ``pieces(columns, prepare)`` yields ``prepare(table, k)``
    of Arrow tables of those columns (canonical names), one piece at a time, ``k`` the
    piece's number (a file's pieces are prepared in the reading threads); ``names`` are the
    columns in the input's order; ``extras`` columns of a DataFrame kept as they are."""

    def __init__(self, names, pieces, rows=None, extras=None, passes=1, widths=None):
        self.names, self.pieces, self.rows = names, pieces, rows
        self.extras = extras or {}
        self.passes = passes  # 2: columns can be read one at a time (the sort keys first)
        self.widths = widths or {}

    def width(self, name):
        """Bytes a row of the column takes once converted (8 when not known)."""
        return self.widths.get(name, 8)


def _events_input(data, mapping, columns=None):
    """The input as an :class:`_Input` with canonical names (only those of ``columns`` and the
    required three, when given), or None when it is not for us."""
    renames = {canon: user for canon, user in mapping.items() if user is not None}
    extras = {}
    if isinstance(data, pd.DataFrame):
        if not data.columns.is_unique or not all(isinstance(c, str) for c in data.columns):
            return None
        header = list(data.columns)
        chosen = _chosen(header, renames, columns)
        if chosen is None:
            return None
        ours = {renames.get(c, c) for c in _CONVERTED}
        table = _table_from_frame(data[[c for c in chosen if c in ours]])
        # other columns of a DataFrame are kept as they are (copied), as the careful path does
        extras = {c: data[c].array for c in chosen if c not in ours}
        names = chosen
        stored = table.schema
        rows = table.num_rows
    elif isinstance(data, (str, Path)) and Path(data).is_file() and _plain(data):
        path = Path(data)
        try:
            if path.name.lower().endswith((".parquet", ".pq")):
                import pyarrow.parquet as pq

                file = pq.ParquetFile(path)
                stored, rows = file.schema_arrow, file.metadata.num_rows
            else:
                options = _csv_options(
                    path,
                    text_columns=[renames.get(c, c) for c in ("customer_id", *_CATEGORICAL)],
                    timestamp_columns=[renames.get("timestamp", "timestamp")],
                    number_columns=[renames.get("value", "value")],
                )
                stored, rows = _csv_schema(path, options), None
        except (pa.ArrowException, OSError, ValueError):
            return None  # the careful path names what is wrong with the file
        header = stored.names
        names = _chosen(header, renames, columns)
        if names is None or len(set(header)) != len(header):
            return None  # repeated names: the careful path says which
        if len(names) < len(header) and not path.name.lower().endswith((".parquet", ".pq")):
            options.include_columns = names  # Arrow converts only these
        stored = pa.schema([stored.field(n) for n in names])
    else:
        return None
    lookup = {user: canon for canon, user in renames.items() if user != canon}
    if len(lookup) < sum(user != canon for canon, user in renames.items()):
        return None  # one column mapped to two of cxkit's: the careful path says so
    if any(user not in header for user in lookup):
        return None  # the careful path lists the columns that exist
    if any(canon in header and canon not in lookup for canon in lookup.values()):
        return None  # a file column of a mapped one's name (read or not): the careful path
    new = [lookup.get(n, n) for n in names]
    if len(set(new)) != len(new) or rows == 0:
        return None  # repeated names (also after mapping), or no rows
    if not {"customer_id", "timestamp", "event"} <= set(new):
        return None
    for field in stored:
        if pa.types.is_nested(field.type) or pa.types.is_binary(field.type):
            return None
    canon = dict(zip(stored.names, [lookup.get(n, n) for n in stored.names], strict=True))
    stored_of = {c: s for s, c in canon.items()}

    if isinstance(data, pd.DataFrame):
        table = table.rename_columns([canon[n] for n in table.column_names])

        def pieces(columns, prepare):
            yield prepare(table.select(columns), 0)

        return _Input(new, pieces, rows, extras)
    if path.name.lower().endswith((".parquet", ".pq")):
        views = _repeated_dictionaries(file, path)
        # text read as Arrow dictionaries: the Parquet dictionary pages become the codes'
        # values, in the reading threads (10M events: event names 0.04 s instead of 0.31 s
        # read as text and encoded after)
        text = [
            f.name
            for f in stored
            if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
            and f.name not in views
        ]

        # a repeated dictionary read once, the codes from the pages (pages.DictionaryColumn);
        # only there: with a dictionary of its own in every row group (a warehouse's file)
        # Arrow's reader is as fast, and its dictionaries outgrow the 1 MB page limit
        decoders = {}  # name -> its DictionaryColumn, or None (Arrow reads it)

        def pieces(columns, prepare):
            wanted = [stored_of[c] for c in columns]
            for name in wanted:
                if name not in decoders:
                    decoders[name] = DictionaryColumn.open(path, name) if name in views else None
            files = threading.local()  # one reader per thread

            def read(group):
                got = {}
                for name in wanted:  # codes from the pages, a repeated dictionary read once
                    found = None if decoders[name] is None else decoders[name].read(group)
                    if found is not None:
                        got[name] = _dictionary_array(*found)
                rest = [n for n in wanted if n not in got]
                plain = [n for n in rest if n not in views]
                viewed = [n for n in rest if n in views]
                if not hasattr(files, "plain") and rest:
                    files.plain = pq.ParquetFile(path, read_dictionary=text)
                    files.views = _repeated_dictionaries(files.plain, path)
                if plain:
                    piece = files.plain.read_row_group(group, columns=plain, use_threads=True)
                    got.update((n, piece.column(n)) for n in plain)
                    del piece
                if viewed:  # a dictionary of its own: read as text views, encoded here
                    other = files.views[viewed[0]].read_row_group(group, columns=viewed)
                    for name in viewed:
                        got[name] = pc.dictionary_encode(other[name])
                    del other
                return prepare(pa.table([got[n] for n in wanted], names=columns), group)

            yield from ahead(read, range(file.num_row_groups))

        widths = {}
        for field in stored:
            kind = field.type
            small = pa.types.is_dictionary(kind) and field.name not in views
            widths[canon[field.name]] = 1 if small else 8
        return _Input(new, pieces, rows, passes=2, widths=widths)

    def pieces(columns, prepare):
        def named(table, k):
            return prepare(table.rename_columns([canon[n] for n in table.column_names]), k)

        yield from _csv_pieces(path, options, named, header)

    return _Input(new, pieces)


def _chosen(names, renames, columns):
    """The input's column names to read: all, or the required three and ``columns`` (given
    by their canonical names or, for other columns, the input's); None when one is missing
    (the careful path lists the columns that exist)."""
    if columns is None:
        return list(names)
    if {u for c, u in renames.items() if u != c} & set(columns):
        return None  # a mapped column by the file's name: the careful path says it is not one
    wanted = {renames.get(c, c) for c in ("customer_id", "timestamp", "event", *columns)}
    if not wanted <= set(names):
        return None
    return [n for n in names if n in wanted]


def _dictionary_array(codes, dictionary):
    """Codes (-1: missing) into ``dictionary`` as an Arrow dictionary array (not copied when
    none is missing; the codes are known to be in range)."""
    missing = codes < 0
    indices = pa.array(codes, mask=missing) if missing.any() else pa.array(codes)
    return pa.DictionaryArray.from_arrays(indices, dictionary, safe=False)


def _csv_pieces(path, options, prepare, header):
    """``prepare(table, k)`` of each block ``k`` of a CSV file parsed by Arrow, blocks parsed
    in two threads; ``header`` names all the file's columns (Arrow converts only those of
    ``options.include_columns``, when set).

    The text (inflated when compressed) is cut into blocks at line ends, as Arrow's own
    reader cuts it (values do not hold line breaks: Arrow's ``newlines_in_values`` is off).
    The first block is parsed first and its column types are given to the others, as
    Arrow's streaming reader does. That reader keeps ~30 blocks in flight; here two blocks
    are parsed (and prepared) at once and no more wait. With the blocks' dictionaries unified
    by one sort and 32 MB blocks, the load's peak over the table went 1.93x -> 1.37x at 10M
    events (CSV.gz) and 1.83x -> 1.41x at 30M."""
    import copy

    import pyarrow.csv as pacsv

    blocks = _csv_blocks(path, _CSV_BLOCK)
    first = next(blocks, None)
    if first is None:
        return
    whole = 2 * _CSV_BLOCK  # each block parsed into one chunk (one dictionary per column)
    once = pacsv.ReadOptions(use_threads=False, block_size=whole)
    table = pacsv.read_csv(pa.py_buffer(first), read_options=once, convert_options=options)
    del first
    fixed = copy.copy(options)
    fixed.column_types = {field.name: field.type for field in table.schema}
    rest = pacsv.ReadOptions(use_threads=False, block_size=whole, column_names=list(header))
    yield prepare(table, 0)
    del table

    def parse(item):
        k, block = item
        table = pacsv.read_csv(pa.py_buffer(block), read_options=rest, convert_options=fixed)
        return prepare(table, k)

    yield from ahead(parse, enumerate(blocks, 1))


def _csv_blocks(path, size):
    """The file's text (inflated by the codec its name says) in blocks of about ``size``
    bytes, each ending at a line end (the last one: where the file ends); each block is read
    into its own buffer, with the unfinished line the block before left over."""
    with pa.input_stream(str(path)) as stream:
        left = b""
        while True:
            block = bytearray(len(left) + size)
            block[: len(left)] = left
            got = len(left)
            while got < len(block):  # a compressed stream may give less than asked
                n = stream.readinto(memoryview(block)[got:])
                if not n:
                    break
                got += n
            view = memoryview(block)[:got]
            if got == len(left):  # the end of the file
                if bytes(view).strip():
                    yield view
                return
            cut = _line_end(block, got)
            if cut == 0:  # no line end yet: a longer block
                left = bytes(view)
                continue
            left = bytes(view[cut:])
            yield view[:cut]


def _line_end(block, size):
    """Where the last whole row of ``block[:size]`` ends (0: none). A line break inside a
    quoted value is not one: an even number of quotes must come before the cut (a doubled
    quote inside a value counts twice). With stray quotes no cut passes that test; then the
    last line break is taken, and Arrow says whether the rows parse."""
    last = cut = block.rfind(b"\n", 0, size) + 1
    while cut and block.count(b'"', 0, cut) % 2:
        cut = block.rfind(b"\n", 0, cut - 1) + 1
    return cut or last


#: Bytes of CSV text per block read. Larger blocks repeat fewer ids across the blocks'
#: dictionaries (unified at the end by sorting all their values) and hold more text in
#: flight (three blocks). The load's peak over the table, 10M / 30M events CSV.gz: 8 MB
#: blocks 1.42x / 1.66x, 16 MB 1.41x / 1.50x, 32 MB 1.37x / 1.41x (30M: 21.5 s -> 17.0 s).
_CSV_BLOCK = 1 << 25


def _repeated_dictionaries(file, path):
    """Columns of a Parquet file written from a pandas categorical with many categories (ids),
    each mapped to a reader that reads them as plain text views.

    pandas writes a categorical's whole dictionary into every row group, and Arrow hashes
    every value of it again for each row group it reads as a dictionary (10M events, 1.5M
    ids in 10 row groups: 3.6 s of CPU); read as text views (no hashing, the strings not
    copied) and encoded per row group, the same column takes 1.7 s. Small dictionaries
    (event names) are cheaper read as they are."""
    import json

    import pyarrow.parquet as pq

    meta = file.schema_arrow.metadata or {}
    try:
        columns = json.loads(meta.get(b"pandas", b"{}")).get("columns", [])
    except ValueError:
        return {}
    per_group = file.metadata.num_rows / max(file.metadata.num_row_groups, 1)
    names = [
        c.get("name")
        for c in columns
        if c.get("pandas_type") == "categorical"
        and (c.get("metadata") or {}).get("num_categories", 0) * 8 > per_group
        and file.metadata.num_row_groups > 1
    ]
    if not names:
        return {}
    try:
        reader = pq.ParquetFile(path, binary_type=pa.binary_view())
    except (TypeError, pa.ArrowException):  # pyarrow before 19: no text views
        return {}
    return {name: reader for name in names if name in file.schema_arrow.names}


def _csv_options(path, *, text_columns=(), timestamp_columns=(), number_columns=()):
    """Arrow's conversion options for a CSV file (see :func:`read_arrow`)."""
    import pyarrow.csv as pacsv

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
    return pacsv.ConvertOptions(
        column_types=types,
        null_values=NULL_VALUES,
        strings_can_be_null=True,
        auto_dict_encode=True,
        auto_dict_max_cardinality=2**31 - 1,
    )


def _csv_schema(path, options):
    """The column names (and first types) of a CSV file, from its first block."""
    import pyarrow.csv as pacsv

    read = pacsv.ReadOptions(block_size=1 << 16)
    with pacsv.open_csv(path, read_options=read, convert_options=options) as reader:
        return reader.schema


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


def _filtered(frame, source, events):
    """The whole log's rows of ``events``, as ``read_events(..., events=)`` gives them."""
    from .contract import _kept_events

    kept, extra = _kept_events(frame, source, events)
    kept = kept.reset_index(drop=True)
    kept.attrs = {**frame.attrs, **extra}
    return kept


def _events_frame(found, parse, source, kept=None):
    names, extras = found.names, found.extras
    arrow = [n for n in names if n not in extras]
    # the sort keys first; the ids' categories (Python strings) are made at the very end, so
    # that the order is found and the columns put in it while the least is in memory
    if found.passes == 2:  # Parquet: the other columns read after, one at a time
        columns = _convert(found, [*_KEYS, "event"] if kept else list(_KEYS), kept)
    else:
        columns = _convert(found, arrow, kept)
    if "customer_id" not in columns or not columns["customer_id"].parts.at:
        raise _StepAside  # no rows: the careful path says the table is empty (or no event)
    every = kept is not None  # the checks of the rows left out: on all the values read
    codes, ids = _sorted_codes(*columns.pop("customer_id").finish(), required=True, every=every)
    pa.default_memory_pool().release_unused()  # what unifying the dictionaries took
    read = columns.pop("timestamp")
    latest = read.latest
    stamps = _checked_timestamps(read.finish(), parse, source, every=every)
    del read  # it holds the timestamps in the file's order
    order, ordered = row_order(codes, stamps, overwrite=True)
    out = {"customer_id": ordered}  # the codes in that order come out of the sort
    del codes, ordered
    out["timestamp"] = stamps if order is None else _take(stamps, order)
    del stamps
    rest = [n for n in arrow if n not in _KEYS]
    if found.passes == 2:  # the widest first: each is in memory twice while put in order
        rest.sort(key=lambda n: found.width(n), reverse=True)
    for name in rest:
        if found.passes == 2 and name not in columns:
            columns.update(_convert(found, [name], kept))
        column = columns.pop(name)
        if isinstance(column, _Codes):
            codes, values = column.sorted(every=every)
            out[name] = _as_categorical(codes if order is None else _take(codes, order), values)
            del codes, values
        else:
            values = column.result()
            out[name] = values if order is None else _take(values, order)
            del values
        del column
    for name, values in extras.items():
        if kept is not None:
            values = values[kept.whole()]
        out[name] = values.copy() if order is None else values.take(order)
    del columns, extras, order
    pa.default_memory_pool().release_unused()  # before the ids become Python strings
    out["customer_id"] = _as_categorical(out["customer_id"], ids, text=object)
    frame = pd.DataFrame({name: out.pop(name) for name in names}, copy=False)
    frame.attrs = {"source": source}
    if kept is not None:
        frame.attrs.update(kept.attrs(latest))
    pa.default_memory_pool().release_unused()  # Arrow's allocator keeps freed blocks
    return frame


_KEYS = ("customer_id", "timestamp")

#: The columns the loader converts (the others of a DataFrame are kept as they are).
_CONVERTED = ("customer_id", "timestamp", "event", "channel", "device", "value")


def _convert(found, columns, kept=None):
    """Each of the input's ``columns`` converted into one accumulator (see :class:`_Codes`,
    :class:`_Stamps`, :class:`_Numbers`, :class:`_Other`), piece by piece: the per-piece
    work (encoding text, casting timestamps) where the piece is read, the rest here.
    With ``kept`` (a :class:`_Kept`), only the rows of its events are kept."""

    def prepare(piece, k):
        keep = None if kept is None else kept.mask(k, piece)
        return {
            name: (kind, options, kind.prepare(piece.column(name), keep, **options))
            for name in columns
            for kind, options in [_accumulator(name, piece.column(name).type)]
        }

    pool = pa.default_memory_pool()
    rows = found.rows if kept is None else kept.rows()
    out = {}
    for prepared in found.pieces(columns, prepare):
        for name, (kind, options, items) in prepared.items():
            if name not in out:
                out[name] = kind(rows, **options)
            out[name].add(items)
        del prepared
        pool.release_unused()  # Arrow's allocator would keep each piece's memory
    if kept is not None:
        kept.done = True
    return out


class _Kept:
    """The rows of the wanted events, piece by piece: each piece's mask, from its event
    column the first time the piece is read (the first pass reads it), by the piece's number
    after."""

    def __init__(self, events):
        self.events = sorted(set(events))
        self.wanted = pa.array(self.events, pa.string())
        self.masks = {}
        self.done = False  # every piece seen

    def mask(self, k, piece):
        if k not in self.masks:
            parts = []
            for chunk in _chunks(piece.column("event")):
                codes, values = _chunk_codes(chunk)
                hit = pc.is_in(values, value_set=self.wanted).to_numpy(zero_copy_only=False)
                parts.append(np.append(hit, False)[codes])  # -1 (missing) hits the last slot
            self.masks[k] = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return self.masks[k]

    def rows(self):
        """Rows kept, once every piece was seen (None before)."""
        if not self.done:
            return None
        return int(sum(np.count_nonzero(m) for m in self.masks.values()))

    def whole(self):
        return np.concatenate([self.masks[k] for k in sorted(self.masks)])

    def attrs(self, latest):
        """What the loader says of the rows it left out (see :func:`cxkit.read_events`)."""
        read = int(sum(len(m) for m in self.masks.values()))
        return {
            "observed_at": pd.Timestamp(latest),
            "events_kept": {"events": self.events, "rows_read": read, "rows_kept": self.rows()},
        }


def _split(column, keep):
    """(chunk, its rows of ``keep`` or None) for each chunk of ``column``."""
    at = 0
    for chunk in _chunks(column):
        yield chunk, None if keep is None else keep[at : at + len(chunk)]
        at += len(chunk)


def _accumulator(name, kind):
    """(accumulator class, its options) for a column of this name and Arrow type."""
    if name == "customer_id":
        return _Codes, {"start": np.int32, "required": True}  # many ids: no widening from int8
    if name in _CATEGORICAL:
        return _Codes, {"required": name == "event"}
    if name == "timestamp":
        return _Stamps, {}
    if name == "value":
        return _Numbers, {}
    return (_Codes, {"exact": False}) if _is_text(kind) else (_Other, {})


def _is_text(kind):
    return (
        pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type)
    ) or pa.types.is_string(kind)


def _is_view(kind):
    return getattr(pa.types, "is_string_view", lambda kind: False)(kind)


def _chunks(column):
    return column.chunks if isinstance(column, pa.ChunkedArray) else [column]


class _Parts:
    """Numpy pieces of one column: written into one array allocated up front when the number
    of rows is known (Parquet, DataFrames), else joined at the end. ``widen`` makes room for
    larger integers (codes start as int8)."""

    def __init__(self, rows, dtype):
        self.rows, self.dtype = rows, np.dtype(dtype)
        self.whole = None if rows is None else np.empty(rows, dtype)
        self.parts, self.at = [], 0

    def add(self, values):
        if self.whole is not None:
            self.whole[self.at : self.at + len(values)] = values
        else:
            self.parts.append(values.astype(self.dtype, copy=False))
        self.at += len(values)

    def widen(self, dtype):
        dtype = np.dtype(dtype)
        if dtype.itemsize <= self.dtype.itemsize:
            return
        self.dtype = dtype
        if self.whole is not None:
            self.whole = self.whole.astype(dtype)
        self.parts = [part.astype(dtype) for part in self.parts]

    def join(self):
        if self.whole is not None:
            return self.whole[: self.at]
        if len(self.parts) == 1:
            return self.parts.pop()
        # each part let go once copied (many are views of Arrow's buffers): the column is
        # in memory about once while joined, not twice
        joined = np.empty(self.at, self.dtype)
        at, pool = 0, pa.default_memory_pool()
        self.parts.reverse()
        while self.parts:
            part = self.parts.pop()
            joined[at : at + len(part)] = part
            at += len(part)
            del part
            if len(self.parts) % 16 == 0:
                pool.release_unused()
        return joined


def _code_type(size):
    """The smallest signed integer type for codes into ``size`` values (and -1)."""
    for dtype in (np.int8, np.int16, np.int32):
        if size < np.iinfo(dtype).max:
            return dtype
    return np.int64


class _Codes:
    """Text (dictionary-encoded or not) as integer codes (-1 = missing) into the distinct
    values: pieces with the same dictionary as the one before (a categorical written by pandas
    repeats its whole dictionary in every row group) keep their codes; different dictionaries
    are unified at the end, by one sort of the values of every piece (:meth:`_unify`). Codes
    are kept in the smallest integer type that holds them."""

    def __init__(self, rows, *, required=False, exact=True, start=np.int8):
        self.required, self.exact = required, exact
        self.parts = _Parts(rows, start)
        self.dicts, self.spans = [], []  # per dictionary: its values, [start, stop) rows
        self.seen = []  # per dictionary, with rows left out: the values any row read has

    @staticmethod
    def prepare(column, keep=None, required=False, **_):
        out = []
        for chunk, rows in _split(column, keep):
            codes, values = _chunk_codes(chunk)
            seen = None
            if rows is not None:
                if required and len(codes) and codes.min() < 0:
                    raise _StepAside  # a missing value, left out or not
                seen = _seen(codes, len(values))
                codes = codes[rows]
            out.append((codes, values, seen))
        return out

    def add(self, items):
        for codes, values, seen in items:
            self.parts.widen(_code_type(len(values)))
            if self.dicts and (values is self.dicts[-1] or values.equals(self.dicts[-1])):
                self.spans[-1][1] += len(codes)
                if seen is not None:
                    self.seen[-1] |= seen
            else:
                self.dicts.append(values)
                self.spans.append([self.parts.at, self.parts.at + len(codes)])
                self.seen.append(None if seen is None else seen.copy())
            self.parts.add(codes)
            del codes

    def finish(self):
        """(codes, distinct values as an Arrow string array)."""
        if any(seen is not None for seen in self.seen):
            self._keep_seen()
        if len(self.dicts) > 1:
            # joined first: the pieces (views of Arrow's buffers) let go one by one, and the
            # codes rewritten in place instead of each piece copied
            if self.parts.whole is None:
                self.parts.parts = [self.parts.join()]
            pa.default_memory_pool().release_unused()
            self._unify()
        codes = self.parts.join()
        values = self.dicts.pop() if self.dicts else pa.array([], pa.string())
        return codes, values

    def _unify(self):
        """One dictionary for all pieces, sorted; each piece's codes rewritten into it.

        All pieces' values are sorted together and runs of equal values merged: the
        dictionary comes out sorted, as it must end. Against hashing the values into one
        dictionary and sorting that: 10 Parquet row groups of ids at 10M events (1.8M
        values), 1.35 -> 0.67 s; 66 CSV blocks (3.3M values for 1.5M ids), 5.8 -> 4.6 s for
        the whole load and its peak 1.77x -> 1.46x the table (2.04x -> 1.74x at 30M)."""
        every = pa.chunked_array(self.dicts, pa.string()).combine_chunks()
        lengths = [len(d) for d in self.dicts]
        self.dicts = []
        order, first = _sort_indices(every, runs=True)
        values = every.take(pa.array(order[first]))
        del every
        pa.default_memory_pool().release_unused()
        self.parts.widen(_code_type(len(values)))
        dtype = self.parts.dtype
        code_of = np.empty(len(first), dtype)
        code_of[order] = np.cumsum(first, dtype=np.int64) - 1
        del order, first
        bounds = np.cumsum([0] + [len(p) for p in self.parts.parts])
        at = np.cumsum([0] + lengths)
        for k, (start, stop) in enumerate(self.spans):
            remap = np.append(code_of[at[k] : at[k + 1]], -1).astype(dtype)
            self._rewrite(start, stop, remap, bounds)
        self.dicts, self.spans, self.seen = [values], [[0, self.parts.at]], [None]

    def _keep_seen(self):
        """Each dictionary cut to the values some row read has (rows were left out): the
        categories of the whole log, as if no row had been left out."""
        if self.parts.whole is None:
            self.parts.parts = [self.parts.join()]
        bounds = np.cumsum([0] + [len(p) for p in self.parts.parts])
        for k, seen in enumerate(self.seen):
            if seen is None or seen.all():
                continue
            used = np.flatnonzero(seen)
            remap = np.full(len(seen) + 1, -1, self.parts.dtype)  # the last slot: missing
            remap[used] = np.arange(len(used), dtype=self.parts.dtype)
            self._rewrite(*self.spans[k], remap, bounds)
            self.dicts[k] = self.dicts[k].take(pa.array(used, pa.int64()))
        self.seen = [None] * len(self.dicts)

    def _rewrite(self, first, stop, remap, bounds):
        if self.parts.whole is not None:
            rows = self.parts.whole[first:stop]
            rows[:] = remap[rows]  # -1 (missing) takes the last slot
            return
        k = int(np.searchsorted(bounds, first, side="right")) - 1
        while k < len(self.parts.parts) and bounds[k] < stop:
            part = self.parts.parts[k]
            if not part.flags.writeable:  # a view of Arrow's buffer
                part = self.parts.parts[k] = part.copy()
            lo, hi = max(first - bounds[k], 0), min(stop - bounds[k], len(part))
            part[lo:hi] = remap[part[lo:hi]]
            k += 1

    def sorted(self, every=False):
        """(codes, values): see :func:`_sorted_codes`."""
        found = self.finish()
        return _sorted_codes(*found, required=self.required, exact=self.exact, every=every)


def _chunk_codes(chunk):
    """(codes int32 with -1 where missing, dictionary) of one Arrow array of text."""
    kind = chunk.type
    if pa.types.is_dictionary(kind):
        if not (pa.types.is_string(kind.value_type) or _is_view(kind.value_type)):
            raise _StepAside
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind) or _is_view(kind):
        chunk = pc.dictionary_encode(chunk)
    elif pa.types.is_integer(kind):  # integer ids read as text, as the loader does
        chunk = pc.dictionary_encode(pc.cast(chunk, pa.string()))
    else:
        raise _StepAside
    idx = chunk.indices
    codes = idx.to_numpy(zero_copy_only=False)
    if idx.null_count:
        codes = np.where(idx.is_null().to_numpy(zero_copy_only=False), -1, codes)
    values = chunk.dictionary
    if pa.types.is_large_string(values.type) or _is_view(values.type):
        values = values.cast(pa.string())
    return codes.astype(np.int32, copy=False), values


class _Stamps:
    """Timestamps as datetime64[ns] naive UTC; every piece with a UTC offset or none alike."""

    def __init__(self, rows):
        self.parts = _Parts(rows, np.int64)
        self.aware = None
        self.latest = None  # of every row read (with rows left out: see _Kept)

    @staticmethod
    def prepare(column, keep=None, **_):
        out = []
        for chunk, rows in _split(column, keep):
            stamps = _arrow_timestamps(chunk)
            values, latest = _int64(stamps), None
            if rows is not None:
                if stamps.null_count:
                    raise _StepAside  # empty timestamps, left out or not: the careful path
                latest = values.max() if len(values) else None
                values = values[rows]
            out.append((values, stamps.type.tz is not None, latest))
        return out

    def add(self, items):
        for values, aware, latest in items:
            if self.aware is not None and aware != self.aware:
                raise _StepAside  # offsets beside none: the careful path says what to pass
            self.aware = aware
            if latest is not None:
                self.latest = latest if self.latest is None else max(self.latest, latest)
            self.parts.add(values)

    def finish(self):
        return self.parts.join().view("datetime64[ns]"), bool(self.aware)


def _int64(stamps):
    """Arrow timestamps as int64 nanoseconds (NaT's value where missing)."""
    values = stamps.cast(pa.int64())
    if values.null_count:
        values = pc.fill_null(values, np.iinfo(np.int64).min)
    return values.to_numpy(zero_copy_only=False)


def _checked_timestamps(found, parse, source, every=False):
    """The loader's rules for a timestamp column already read (missing values, the zone of
    naive ones): anything to say makes the fast path step aside. ``every``: rows were left
    out, whose local times are not here to be checked (naive values in a zone: the careful
    path)."""
    from .contract import _check_timestamps, _check_timezone

    stamps, aware = found
    zone = parse.get("timezone")
    _check_timezone(source, zone)  # a wrong zone is the same error on either path
    if len(stamps) and stamps.view(np.int64).min() == np.iinfo(np.int64).min:  # NaT
        raise _StepAside  # empty timestamps: the careful path lists them
    if aware or not zone:
        return stamps
    if every:
        raise _NaiveInZone
    frame = pd.DataFrame({"timestamp": stamps}, copy=False)
    problems, notes = [], {}
    _check_timestamps(frame, source, ["timestamp"], problems, parse=parse, notes=notes)
    if problems or notes:
        raise _StepAside
    return frame.pop("timestamp").to_numpy()


class _Numbers:
    """Amounts as float (NaN where missing); text, or values that are not finite, step aside."""

    def __init__(self, rows):
        self.parts = _Parts(rows, np.float64)

    @staticmethod
    def prepare(column, keep=None, **_):
        out = []
        for chunk, rows in _split(column, keep):
            values = _chunk_numbers(chunk)
            if rows is not None:
                _check_amounts(values)  # the rows left out too
                values = values[rows]
            out.append(values)
        return out

    def add(self, items):
        for values in items:
            self.parts.add(values)

    def result(self):
        return _check_amounts(self.parts.join().astype(np.float64, copy=False))


def _check_amounts(values):
    """``values``, unless one is infinite or absurd (the careful path refuses it)."""
    from .contract import MAX_AMOUNT

    # fmax/fmin skip NaN (missing) and make no whole-column temporaries (10M rows: 0.01 s,
    # abs() and a comparison 0.03-0.3 s)
    if len(values) and (
        np.fmax.reduce(values) > MAX_AMOUNT or np.fmin.reduce(values) < -MAX_AMOUNT
    ):
        raise _StepAside
    return values


def _chunk_numbers(chunk):
    kind = chunk.type
    if pa.types.is_null(kind):
        return np.full(len(chunk), np.nan)
    if pa.types.is_dictionary(kind) or pa.types.is_string(kind):  # numbers written as text
        codes, values = _chunk_codes(chunk)
        try:
            numbers = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            raise _StepAside from None
        if np.isnan(numbers).any():  # the text "nan" is not a number for the careful path
            raise _StepAside
        return np.append(numbers, np.nan)[codes]
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise _StepAside
    return chunk.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


class _Other:
    """Any other column (numbers, booleans, dates of a Parquet file): converted by pandas at
    the end, as the loader would have it."""

    def __init__(self, rows):
        self.chunks = []

    @staticmethod
    def prepare(column, keep=None, **_):
        return [
            c if rows is None else c.filter(pa.array(rows)) for c, rows in _split(column, keep)
        ]

    def add(self, items):
        self.chunks.extend(items)

    def result(self):
        column = pa.chunked_array(self.chunks)
        self.chunks = []
        return column.to_pandas().to_numpy()


def _categorical(codes, values, *, required=False, exact=True, text="string"):
    """A pandas categorical with sorted categories (only the values present), as
    ``astype("category")`` on the strings would give; ``text`` is the categories' dtype.

    Steps aside when a required column has a missing or blank value, or (``exact``) when a
    value has leading or trailing spaces: the careful path decides what to trim and says so."""
    codes, kept = _sorted_codes(codes, values, required=required, exact=exact)
    return _as_categorical(codes, kept, text=text)


def _sorted_codes(codes, values, *, required=False, exact=True, every=False):
    """(codes into ``kept``, kept): the values present, sorted; see :func:`_categorical`.
    The codes are rewritten in place when they can be. ``every``: rows were left out, and
    ``values`` are those of every row read (:meth:`_Codes._keep_seen`): all are kept, and
    checked."""
    if required and (codes < 0).any():
        raise _StepAside
    if every:
        present = np.arange(len(values))
    else:
        present = np.flatnonzero(_seen(codes, len(values)))
    kept = values if len(present) == len(values) else values.take(pa.array(present, pa.int64()))
    if exact and len(kept):
        stripped = pc.utf8_trim_whitespace(kept)
        if not pc.all(pc.equal(stripped, kept)).as_py():
            raise _StepAside
        del stripped
        if required and pc.any(pc.equal(kept, "")).as_py():
            raise _StepAside
    if _is_sorted(kept):  # a categorical written by pandas: already in order
        if len(present) == len(values):
            return codes, kept  # the codes are the categorical's already
        order = np.arange(len(kept))
    else:
        order = _sort_indices(kept)
        kept = kept.take(pa.array(order))
    remap = np.full(len(values) + 1, -1, dtype=codes.dtype)  # the last slot: missing (-1)
    remap[present[order]] = np.arange(len(present), dtype=codes.dtype)
    del order, present
    if not codes.flags.writeable:
        codes = codes.copy()
    # -1 wraps to the last slot
    each(lambda part: np.take(remap, part, out=part, mode="wrap"), _slices(codes))
    return codes, kept


def _slices(values):
    return [values[i : i + _SLICE] for i in range(0, len(values), _SLICE)]


def _seen(codes, size):
    """Which of ``size`` values the codes use (-1, missing, is not one)."""
    seen = np.zeros(size + 1, bool)
    for part in _slices(codes):
        seen[part] = True  # -1 marks the last slot
    return seen[:size]


def _take(values, order):
    """``values.take(order)`` for a numpy array, slice by slice (see ``_SLICE``)."""
    if not isinstance(values, np.ndarray):
        return values.take(order)  # pandas arrays (other columns of a DataFrame)
    out = np.empty(len(order), values.dtype)

    def gather(i):
        np.take(values, order[i : i + _SLICE], out=out[i : i + _SLICE])

    each(gather, range(0, len(order), _SLICE))
    return out


def _as_categorical(codes, kept, *, text="string"):
    """A pandas categorical of codes into ``kept`` (distinct, sorted Arrow strings).

    pandas checks that categories are distinct (hashing every one: 2.6 s for 2M ids, 3.6 s of
    a 30M-event load) in every public constructor; these come from a dictionary, so its
    private fast paths are used when they exist."""
    categories = pd.Index(kept.to_numpy(zero_copy_only=False), dtype=text)
    codes = codes.astype(_code_type(len(categories)), copy=False)  # as pandas sizes codes
    try:
        dtype = pd.CategoricalDtype._from_fastpath(categories, False)
        # Categorical._simple_new makes its dtype again (checked); its base class does not
        made = super(pd.Categorical, pd.Categorical)._simple_new(codes, dtype)
        if isinstance(made, pd.Categorical) and made.dtype is dtype:
            return made
    except (AttributeError, TypeError):  # private constructors of pandas
        pass
    return pd.Categorical.from_codes(codes, categories=categories, validate=False)


def _timestamps(column):
    """Arrow timestamps (or ISO 8601 text) as a pandas datetime column; steps aside on text
    that is not strict ISO 8601, which the careful path parses by its own rules."""
    parts = [_arrow_timestamps(chunk) for chunk in _chunks(column)]
    if len({part.type for part in parts}) > 1:
        raise _StepAside  # offsets beside none
    kind = parts[0].type if parts else pa.timestamp("ns")
    return pa.chunked_array(parts, kind).to_pandas()


def _arrow_timestamps(chunk):
    """One Arrow array of timestamps, dates or ISO 8601 text as timestamp[ns] (UTC when the
    values have an offset)."""
    kind = chunk.type
    if pa.types.is_dictionary(kind):
        if not pa.types.is_string(kind.value_type):
            raise _StepAside
        chunk = _iso(chunk.dictionary).take(chunk.indices)  # each distinct text parsed once
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        chunk = _iso(chunk)
    elif pa.types.is_date(kind):
        chunk = pc.cast(chunk, pa.timestamp("ns"))
    elif not pa.types.is_timestamp(kind):
        raise _StepAside  # numbers, durations …: the careful path names them
    if chunk.type.unit != "ns":
        try:
            chunk = chunk.cast(pa.timestamp("ns", chunk.type.tz))  # safe: no overflow
        except pa.ArrowInvalid:
            raise _StepAside from None
    if chunk.type.tz is not None and chunk.type.tz != "UTC":
        chunk = chunk.cast(pa.timestamp("ns", "UTC"))
    return chunk


def _iso(values):
    """ISO 8601 text -> timestamps: all naive or all with an offset (then UTC)."""
    for target in (pa.timestamp("ns"), pa.timestamp("ns", "UTC")):
        try:
            return pc.cast(values, target)
        except pa.ArrowInvalid:
            continue
    raise _StepAside

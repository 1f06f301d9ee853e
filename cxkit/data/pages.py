"""Dictionary-encoded Parquet text columns decoded from their pages.

pandas writes a categorical column's whole dictionary into every row group's dictionary page,
and Arrow decodes (and hashes) it again for each row group: 30M events with 4.4M ids in 29 row
groups take ~10 s of CPU read as text views, 4.2 s for one row group read as a dictionary.
Here each row group's codes are the indices of its data pages, decoded from the Parquet
format (Thrift compact page headers, the RLE / bit-packed hybrid), and its dictionary is its
dictionary page, decoded once when row groups repeat it (same bytes: the same dictionary
object, so the loader has nothing to unify).

Anything this module does not know (another encoding, data pages v2, nested columns, a codec
Arrow lacks, strings of different lengths in the dictionary, a dictionary that outgrew its
page so that later pages hold the strings themselves, as a warehouse's files of many ids
do) gives ``None``: the caller reads that row group with Arrow. Codes are checked against the dictionary's size; the first row
group is checked against Arrow's reading of it.

>>> import pandas as pd, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "ids.parquet"
>>> ids = pd.Series(["b", "a", None, "b"] * 3, dtype="category")
>>> pd.DataFrame({"id": ids}).to_parquet(path, row_group_size=4)
>>> column = DictionaryColumn.open(path, "id")
>>> codes, dictionary = column.read(2)
>>> codes.tolist(), dictionary.to_pylist()
([1, 0, -1, 1], ['a', 'b'])
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Parquet's codec names -> Arrow's (those whose pages are the plain compressed stream).
_CODECS = {"SNAPPY": "snappy", "GZIP": "gzip", "ZSTD": "zstd", "BROTLI": "brotli"}
_DATA_PAGE, _DICTIONARY_PAGE = 0, 2
_RLE, _PLAIN_DICTIONARY, _RLE_DICTIONARY = 3, 2, 8


class DictionaryColumn:
    """One dictionary-encoded text column of a Parquet file, read row group by row group
    (:meth:`read`); row groups whose dictionary page has the bytes of the one before share
    one dictionary object."""

    def __init__(self, path, chunks, codec, optional):
        self.path, self.chunks = path, chunks
        self.codec, self.optional = codec, optional
        self._last = (None, None)  # the last dictionary page decoded, and its strings

    @classmethod
    def open(cls, path, name):
        """The column ``name`` of the file at ``path``, or None when it is not for this."""
        import pyarrow.parquet as pq

        file = pq.ParquetFile(path)
        meta = file.metadata
        names = [file.schema.column(i).path for i in range(meta.num_columns)]
        if name not in names or meta.num_row_groups == 0:
            return None
        index = names.index(name)
        column = file.schema.column(index)
        if column.max_repetition_level or column.max_definition_level > 1:
            return None
        if column.physical_type != "BYTE_ARRAY":
            return None
        chunks = [meta.row_group(g).column(index) for g in range(meta.num_row_groups)]
        codec = chunks[0].compression
        if codec != "UNCOMPRESSED" and (codec not in _CODECS or not _available(codec)):
            return None
        if any(not c.has_dictionary_page or c.compression != codec for c in chunks):
            return None
        shared = cls(path, chunks, codec, column.max_definition_level == 1)
        first = shared.read(0)
        if first is None:
            return None
        # Arrow's reading of the first row group, at a sample of rows, against ours
        codes, dictionary = first
        views = pq.ParquetFile(path, binary_type=pa.binary_view())
        theirs = views.read_row_group(0, columns=[name]).column(0)
        sample = np.unique(np.linspace(0, len(codes) - 1, 4096).astype(np.int64))
        ours = dictionary.take(pa.array(np.where(codes < 0, 0, codes)[sample]))
        ours = pc.if_else(pa.array(codes[sample] < 0), pa.nulls(len(sample), pa.string()), ours)
        if not ours.equals(theirs.cast(pa.string()).take(pa.array(sample)).combine_chunks()):
            return None
        return shared

    def read(self, group):
        """(int32 codes, -1 missing; the dictionary, Arrow strings) of row group ``group``, or
        None when its pages are not for this module."""
        pages = self._pages(group)
        if pages is None:
            return None
        page, size, parts, inflated = pages
        last_page, dictionary = self._last
        if page != last_page:
            if self.codec != "UNCOMPRESSED":
                codec = pa.Codec(_CODECS[self.codec])
                page = codec.decompress(page, decompressed_size=inflated)
            dictionary = _plain_strings(page, size)
            if dictionary is None:
                return None
            self._last = (pages[0], dictionary)
        codes = parts[0] if len(parts) == 1 else np.concatenate(parts)
        if len(codes) != self.chunks[group].num_values:
            return None
        if len(codes) and codes.max() >= len(dictionary):
            return None
        return codes, dictionary

    def _pages(self, group):
        """(dictionary page bytes, its number of values, [codes of each data page], the
        dictionary page's size inflated)."""
        chunk = self.chunks[group]
        start = chunk.dictionary_page_offset
        with open(self.path, "rb") as f:
            f.seek(start)
            data = f.read(chunk.total_compressed_size)
        pos, dictionary, size, parts, inflated = 0, None, 0, [], 0
        try:
            while pos < len(data):
                header, pos = _struct(data, pos)
                kind, length = header.get(1), header.get(3)
                payload = data[pos : pos + length]
                pos += length
                if kind == _DICTIONARY_PAGE:
                    if dictionary is not None or header.get(7, {}).get(2) not in (0, 2):
                        return None  # the dictionary is PLAIN (0) or PLAIN_DICTIONARY (2)
                    dictionary, size = payload, header.get(7, {}).get(1, -1)
                    inflated = header.get(2)
                elif kind == _DATA_PAGE:
                    page = header.get(5, {})
                    codes = self._data_page(payload, header.get(2), page)
                    if codes is None:
                        return None
                    parts.append(codes)
                else:
                    return None  # data pages v2, index pages
        except (IndexError, ValueError, KeyError, pa.ArrowException):
            return None
        if dictionary is None or not parts:
            return None
        return dictionary, size, parts, inflated

    def _data_page(self, payload, uncompressed, page):
        count = page.get(1)
        if page.get(2) not in (_RLE_DICTIONARY, _PLAIN_DICTIONARY) or count is None:
            return None
        if self.codec != "UNCOMPRESSED":
            payload = pa.Codec(_CODECS[self.codec]).decompress(
                payload, decompressed_size=uncompressed
            )
        buf = np.frombuffer(payload, np.uint8)
        pos, defined = 0, None
        if self.optional:
            if page.get(3) != _RLE:
                return None
            length = int(buf[:4].view("<u4")[0])
            defined = hybrid(buf[4 : 4 + length], 1, count).astype(bool)
            pos = 4 + length
        width = int(buf[pos])
        n = count if defined is None else int(np.count_nonzero(defined))
        values = hybrid(buf[pos + 1 :], width, n).astype(np.int32)
        if defined is None or n == count:
            return values
        codes = np.full(count, -1, np.int32)
        codes[defined] = values
        return codes


def _plain_strings(page, count):
    """The ``count`` strings of a PLAIN page (each a 4-byte length and its bytes), when they
    all have one length (ids such as CX0011679, UUIDs, hashes: the offsets are then known
    without walking the page); None otherwise, or when they are not UTF-8."""
    buf = np.frombuffer(page, np.uint8)
    if count <= 0 or len(buf) < 4:
        return None
    width = int(buf[:4].view("<u4")[0])
    if count * (4 + width) != len(buf) or count * width >= 2**31:
        return None
    rows = buf.reshape(count, 4 + width)
    if not (np.ascontiguousarray(rows[:, :4]).view("<u4").ravel() == width).all():
        return None
    data = np.ascontiguousarray(rows[:, 4:])
    offsets = np.arange(count + 1, dtype=np.int32) * np.int32(width)
    values = pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        values.validate(full=True)  # UTF-8
    except pa.ArrowInvalid:
        return None
    return values


def _available(codec):
    try:
        return pa.Codec.is_available(_CODECS[codec])
    except (ValueError, TypeError):
        return False


def hybrid(buf, width, count):
    """``count`` values of the RLE / bit-packed hybrid encoding in ``buf`` (uint8), each
    ``width`` bits (Parquet's levels and dictionary indices), as uint64.

    Runs are parsed one by one (a bit-packed run holds up to 504 values); the values of all
    bit-packed runs are unpacked at once, 8 at a time (a group of 8 values is ``width``
    whole bytes), and the runs put together with one gather.

    >>> hybrid(np.array([0b11, 0b10001000, 0b11000110, 0b11111010], np.uint8), 3, 8).tolist()
    [0, 1, 2, 3, 4, 5, 6, 7]
    >>> hybrid(np.array([10 << 1, 7], np.uint8), 3, 10).tolist()  # 7, ten times
    [7, 7, 7, 7, 7, 7, 7, 7, 7, 7]
    """
    if not 0 <= width <= 32:
        raise ValueError(f"bit width {width}")
    data = buf.tobytes() if not isinstance(buf, bytes) else buf
    byte_width = (width + 7) // 8
    pos, got = 0, 0
    literal = []  # (start, stop) of bit-packed bytes
    run_len, run_src, run_step = [], [], []
    repeated = []
    unpacked = 0  # values in the bit-packed runs so far
    while got < count:
        header, shift = 0, 0
        while True:  # ULEB128
            b = data[pos]
            pos += 1
            header |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        if header & 1:  # bit-packed: (header >> 1) groups of 8 values
            groups = header >> 1
            literal.append((pos, pos + groups * width))
            pos += groups * width
            n = min(groups * 8, count - got)
            run_src.append(unpacked)
            run_step.append(1)
            unpacked += groups * 8
        else:
            n = min(header >> 1, count - got)
            value = int.from_bytes(data[pos : pos + byte_width], "little")
            pos += byte_width
            run_src.append(-1 - len(repeated))  # resolved below
            run_step.append(0)
            repeated.append(value)
        if n <= 0:
            raise ValueError("empty run")
        run_len.append(n)
        got += n
    if pos > len(data):
        raise ValueError("runs beyond the page")
    packed = _unpack(data, literal, width, unpacked)
    table = np.concatenate([packed, np.asarray(repeated, np.uint64)])
    src = np.asarray(run_src, np.int64)
    src = np.where(src < 0, unpacked - 1 - src, src)
    lengths = np.asarray(run_len, np.int64)
    starts = np.cumsum(lengths) - lengths
    index = np.repeat(src - starts * np.asarray(run_step, np.int64), lengths)
    index += np.arange(count, dtype=np.int64) * np.repeat(np.asarray(run_step, np.int64), lengths)
    return table[index]


def _unpack(data, spans, width, total):
    """The ``total`` values of the bit-packed bytes at ``spans`` of ``data`` (LSB first)."""
    if not total or width == 0:
        return np.zeros(total, np.uint64)
    raw = np.frombuffer(b"".join(data[a:b] for a, b in spans), np.uint8)
    groups = raw.reshape(-1, width)
    padded = np.zeros((len(groups), width + 5), np.uint8)
    padded[:, :width] = groups
    out = np.empty((len(groups), 8), np.uint64)
    mask = np.uint64((1 << width) - 1)
    for j in range(8):
        bit = j * width
        first, shift = bit >> 3, bit & 7
        word = np.zeros(len(groups), np.uint64)
        for k in range((shift + width + 7) // 8):
            word |= padded[:, first + k].astype(np.uint64) << np.uint64(8 * k)
        out[:, j] = (word >> np.uint64(shift)) & mask
    return out.ravel()


def _varint(data, pos):
    value, shift = 0, 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, pos


def _zigzag(n):
    return (n >> 1) ^ -(n & 1)


def _struct(data, pos):
    """A Thrift compact-protocol struct at ``data[pos]``: ({field id: value}, position after).
    Nested structs are dicts; lists are lists; binary fields bytes."""
    out, last = {}, 0
    while True:
        byte = data[pos]
        pos += 1
        kind = byte & 0x0F
        if kind == 0:  # stop
            return out, pos
        delta = byte >> 4
        if delta:
            field = last + delta
        else:
            raw, pos = _varint(data, pos)
            field = _zigzag(raw)
        last = field
        out[field], pos = _value(data, pos, kind)


def _value(data, pos, kind):
    if kind in (1, 2):  # booleans carry their value in the type
        return kind == 1, pos
    if kind == 3:
        return data[pos], pos + 1
    if kind in (4, 5, 6):
        raw, pos = _varint(data, pos)
        return _zigzag(raw), pos
    if kind == 7:
        return data[pos : pos + 8], pos + 8
    if kind == 8:
        size, pos = _varint(data, pos)
        return data[pos : pos + size], pos + size
    if kind in (9, 10):
        head = data[pos]
        pos += 1
        size, elem = head >> 4, head & 0x0F
        if size == 15:
            size, pos = _varint(data, pos)
        items = []
        for _ in range(size):
            if elem in (1, 2):  # booleans in a list take a byte each
                items.append(data[pos] == 1)
                pos += 1
            else:
                item, pos = _value(data, pos, elem)
                items.append(item)
        return items, pos
    if kind == 11:
        size, pos = _varint(data, pos)
        if not size:
            return {}, pos
        types = data[pos]
        pos += 1
        out = {}
        for _ in range(size):
            key, pos = _value(data, pos, types >> 4)
            out[key], pos = _value(data, pos, types & 0x0F)
        return out, pos
    if kind == 12:
        return _struct(data, pos)
    raise ValueError(f"Thrift type {kind}")

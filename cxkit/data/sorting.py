"""Sorting for the loader: rows by customer then time, and strings by their bytes.

Both come down to one idea: put what decides the order into the high bits of one unsigned
64-bit integer per item and the item's position into the low bits, and sort those integers
with numpy's (vectorized, unstable) sort. The keys are distinct, so the result is the stable
order, and both the order (low bits) and the sorted keys (high bits) come out of one array.
At 30M events (4.4M ids) the rows' order takes 0.3 s this way, against 1-2.5 s for pandas'
counting sort (``groupsort_indexer``), whose scattered writes miss the cache; 7.2M id strings
sort in 0.3 s instead of 2.4 s as two 64-bit words (``np.lexsort``).

Strings become one integer by their *symbols*: each byte position is a digit whose base is the
number of distinct bytes found there (plus one for "the string has ended", which sorts first),
so ``CX0011679`` is seven decimal digits (the constant ``CX`` takes no bits). Strings whose
digits do not fit in 64 bits are sorted as two words of raw bytes, or by Arrow.

Examples
--------
>>> import numpy as np, pyarrow as pa
>>> from cxkit.data.sorting import row_order, sort_indices
>>> sort_indices(pa.array(["b", "ab", "a"])).tolist()
[2, 1, 0]
>>> order, codes = row_order(np.array([2, 0, 2, 0]), np.zeros(4, "datetime64[ns]"))
>>> order.tolist(), codes.tolist()
([1, 3, 0, 2], [0, 0, 2, 2])
"""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .threads import ahead, each

#: Rows per slice where numpy would otherwise make a whole int64 copy of an index array
#: (fancy indexing and ``take`` convert indices to 64-bit first): 80 MB at 10M rows.
SLICE = 1 << 20

_LITTLE = sys.byteorder == "little"


def row_order(codes, stamps, *, overwrite=False):
    """(order, codes in that order): the rows by customer code (integers >= 0) then time,
    stable (equal keys keep the file's order), as int32 positions; the order is None when the
    rows are in that order already (the codes are then returned as they are). ``overwrite``:
    the codes in order are written over ``codes`` (no new column)."""
    if len(codes) < 2:
        return None, codes
    stamps = stamps.view(np.int64)
    if in_order(codes, stamps):
        return None, codes
    out = codes if overwrite and codes.flags.writeable else np.empty_like(codes)
    if in_order(stamps):  # exports are often in time order already
        order = stable_order(codes, out=out)
    else:
        by_time = np.argsort(stamps, kind="stable").astype(np.int32)
        order = by_time[stable_order(codes[by_time], out=out)]
    return order, out


def in_order(first, then=None):
    """True when the rows are sorted by ``first`` (then by ``then`` where ``first`` ties),
    looked at slice by slice (no whole-column temporaries)."""
    n = len(first)
    for i in range(0, n - 1, SLICE):
        a, b = first[i : i + SLICE], first[i + 1 : i + 1 + SLICE]
        a = a[: len(b)]
        if (b < a).any():
            return False
        if then is not None:
            x, y = then[i : i + len(b)], then[i + 1 : i + 1 + len(b)]
            if ((b == a) & (y < x)).any():
                return False
    return True


def stable_order(codes, *, out=None):
    """``np.argsort(codes, kind="stable")`` as int32, for integer codes >= 0, by one sort of
    ``code << 32 | position``; ``out``: an array (``codes`` itself may be given) that gets the
    codes in that order."""
    n = len(codes)
    if n >= 2**31 or (n and (int(codes.min()) < 0 or int(codes.max()) >= 2**32)):
        raise ValueError("stable_order: codes in [0, 2**32) and fewer than 2**31 rows")
    key = codes.astype(np.uint64)
    key <<= np.uint64(32)
    _or_positions(key)
    key.sort()
    if not _LITTLE:
        if out is not None:
            np.copyto(out, key >> np.uint64(32), casting="unsafe")
        return (key & np.uint64(2**32 - 1)).astype(np.int32)
    words = key.view(np.uint32)  # (position, code) pairs
    if out is not None:
        np.copyto(out, words[1::2], casting="unsafe")
    # the positions moved to the front of the same buffer, slice by slice (a slice's target
    # lies below its source from the second on), and the rest given back: no new 4n bytes
    for i in range(0, n, SLICE):
        stop = min(i + SLICE, n)
        words[i:stop] = words[2 * i : 2 * stop : 2]
    del words
    try:
        key.resize((n + 1) // 2, refcheck=False)  # realloc: the tail pages are let go
    except ValueError:
        return key.view(np.int32)[:n].copy()
    return key.view(np.int32)[:n]


def _or_positions(key):
    """``key |= arange(len(key))``, slice by slice (no whole int64 range)."""
    for i in range(0, len(key), SLICE):
        key[i : i + SLICE] |= np.arange(i, min(i + SLICE, len(key)), dtype=np.uint64)


def sort_indices(values, *, runs=False):
    """The positions that put Arrow strings in order (by their UTF-8 bytes, as Arrow sorts
    them), as a numpy array; with ``runs``, also where in that order each run of equal values
    starts (a bool array). Equal strings may come in any order.

    Strings whose symbols fit one 64-bit integer (:func:`symbol_keys`) are sorted as those
    integers; other strings of at most 16 bytes as two 64-bit words of their bytes, 2.5x faster
    than Arrow's string sort; the rest by Arrow."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    n = len(values)
    found = symbol_keys(values)
    if found is not None:
        return _sort_keys(*found, runs=runs)
    keys = _byte_words(values)
    if keys is None:
        order = pc.array_sort_indices(values).to_numpy()
        if not runs:
            return order
        ranked, first = values.take(pa.array(order)), np.ones(n, bool)
        if n > 1:
            later, earlier = ranked.slice(1), ranked.slice(0, n - 1)
            first[1:] = pc.not_equal(later, earlier).to_numpy(zero_copy_only=False)
        return order, first
    order = np.lexsort(keys[::-1]) if len(keys) > 1 else np.argsort(keys[0], kind="stable")
    if not runs:
        return order
    first = np.zeros(n, bool)
    first[0] = True
    for i in range(0, n, SLICE):  # a new value where any key differs from the one before
        at = order[max(i - 1, 0) : i + SLICE]
        ahead = first[max(i, 1) : i + SLICE]
        for key in keys:
            ranked = key[at]
            ahead |= ranked[1:] != ranked[:-1]
    return order, first


def _sort_keys(key, bits, *, runs=False):
    """:func:`sort_indices` of integer keys of ``bits`` bits (``key`` is overwritten)."""
    n = len(key)
    spare = 64 - bits
    if n <= 2**spare:  # the positions (0 .. n - 1) fit beside the keys: one plain sort
        key <<= np.uint64(spare)
        _or_positions(key)
        key.sort()
        order = np.empty(n, np.int64)
        np.bitwise_and(key, np.uint64(2**spare - 1), out=order.view(np.uint64))
        key >>= np.uint64(spare)
        ranked = key
    else:
        order = np.argsort(key)
        ranked = key[order]
    if not runs:
        return order
    first = np.ones(n, bool)
    np.not_equal(ranked[1:], ranked[:-1], out=first[1:])
    return order, first


def symbol_keys(values, widest=32):
    """(keys, bits): one unsigned integer per string of an Arrow string array that compares as
    the strings' bytes do, and how many bits the keys use; None when they need more than 64
    bits (or the strings are longer than ``widest`` bytes, or have missing values).

    Byte position j is a digit in base (distinct bytes at j, + 1 when some string ends before
    j: the end sorts before any byte, so "a" < "a\\0" < "ab"); positions holding one byte in
    every string take no digit."""
    n = len(values)
    if n < 2 or values.null_count or not pa.types.is_string(values.type):
        return None
    offsets = np.frombuffer(values.buffers()[1], np.int32)[values.offset : values.offset + n + 1]
    # slice by slice throughout: temporaries of a few MB are reused by the allocator, where
    # whole-column ones are fresh memory each time (7M ids: 1.5 s -> 0.3 s on this machine)
    spans = [(i, min(i + SLICE, n)) for i in range(0, n, SLICE)]
    bounds = [
        (int(w.min()), int(w.max())) for w in (np.diff(offsets[i : k + 1]) for i, k in spans)
    ]
    shortest, longest = min(lo for lo, _ in bounds), max(hi for _, hi in bounds)
    if longest > widest:
        return None
    if longest == 0:  # every string empty
        return np.zeros(n, np.uint64), 1
    data = np.frombuffer(values.buffers()[2], np.uint8)
    last = max(len(data) - 1, 0)
    if shortest == longest:  # one width (zero-padded ids, codes): columns of a byte matrix
        text = data[offsets[0] : offsets[0] + n * longest].reshape(n, longest)

    def lengths(span):
        """The lengths of the strings of ``span`` (None when they are all one width)."""
        return None if shortest == longest else np.diff(offsets[span[0] : span[1] + 1])

    def at(j, span, widths):
        """(byte j of the strings of ``span``, where they have ended or None)."""
        i, k = span
        if widths is None:
            return text[i:k, j], None
        column = data[np.minimum(offsets[i:k] + j, last)]
        return column, (widths <= j if j >= shortest else None)

    def seen(span):
        """Per position: which bytes the strings of ``span`` hold, and whether one ended."""
        out = np.zeros((longest, 257), bool)  # column 256: some string has ended
        widths = lengths(span)
        for j in range(longest):
            column, ended = at(j, span, widths)
            out[j, column if ended is None else column[~ended]] = True
            out[j, 256] = ended is not None and bool(ended.any())
        return out

    found = np.logical_or.reduce(list(ahead(seen, spans)))
    digits, size = [], 1  # (position, base, rank of each byte) of the positions that vary
    for j in range(longest):
        present, end = found[j, :256], bool(found[j, 256])
        base = int(present.sum()) + end
        if base == 1:
            continue  # one byte in every string: no digit
        size *= base
        if size > 2**64:
            return None
        digits.append((j, np.uint64(base), (np.cumsum(present) - 1 + end).astype(np.uint16)))
    keys = np.zeros(n, np.uint64)

    def fill(span):
        part, widths = keys[span[0] : span[1]], lengths(span)
        for j, base, rank in digits:
            column, ended = at(j, span, widths)
            digit = rank[column]
            if ended is not None:
                digit[ended] = 0
            part *= base
            part += digit

    each(fill, spans)
    return keys, max((size - 1).bit_length(), 1)


def _byte_words(values):
    """Sort keys of Arrow strings of at most 16 bytes: (first 8 bytes, next 8 bytes[,
    length]) as integers, the bytes most significant first and zero-padded; a key only when
    needed (the length only when a NUL byte could make the padding ambiguous). None when the
    strings are not for this (longer, missing values, fewer than two, a big-endian machine)."""
    n = len(values)
    if n < 2 or values.null_count or not pa.types.is_string(values.type):
        return None
    offsets = np.frombuffer(values.buffers()[1], np.int32)[values.offset : values.offset + n + 1]
    lengths = np.diff(offsets)
    if int(lengths.max()) > 16 or not _LITTLE:
        return None
    data = np.frombuffer(values.buffers()[2], np.uint8)
    # byte j of each string goes into word j // 8 as its (7 - j % 8)-th byte of a native
    # little-endian integer: most significant first, so the words compare as the bytes do
    high, low = np.zeros(n, np.uint64), np.zeros(n, np.uint64)
    into = [word.view(np.uint8).reshape(n, 8) for word in (high, low)]
    widest = int(lengths.max())
    if lengths.min() == widest:  # one width (zero-padded ids, codes): no gathers
        text = data[offsets[0] : offsets[0] + n * widest].reshape(n, widest)
        for j in range(widest):
            into[j // 8][:, 7 - j % 8] = text[:, j]
        del text
    else:
        start, last = offsets[:-1], max(len(data) - 1, 0)
        for j in range(widest):  # 0 past a string's end
            into[j // 8][:, 7 - j % 8] = np.where(
                lengths > j, data[np.minimum(start + j, last)], 0
            )
    del into
    keys = [high] if widest <= 8 else [high, low]
    if (data[offsets[0] : offsets[-1]] == 0).any():  # a NUL byte: the padding is ambiguous
        keys.append(lengths)
    return keys


def is_sorted(values):
    """True when the strings are in increasing order (as sorting them would give)."""
    if len(values) < 2:
        return True
    return bool(pc.all(pc.less(values.slice(0, len(values) - 1), values.slice(1))).as_py())

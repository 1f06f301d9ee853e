"""cxkit.data.sorting against reference implementations: numpy's stable argsort and lexsort
for the rows, Arrow's sort and Python's sort of the UTF-8 bytes for the strings. Most tests
run twice, with the module's slices of 2**20 rows and with slices of a few rows (so that the
slice-by-slice loops, the in-place move of the positions among them, run over many slices
on small inputs)."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxkit.data import sorting
from cxkit.data.sorting import (
    _byte_words,
    _sort_keys,
    in_order,
    row_order,
    sort_indices,
    stable_order,
    symbol_keys,
)


@pytest.fixture(params=[sorting.SLICE, 3, 4, 7], ids=lambda s: f"slice{s}")
def slice_size(request, monkeypatch):
    monkeypatch.setattr(sorting, "SLICE", request.param)
    return request.param


CODE_TYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


def _codes(dtype):
    top = min(np.iinfo(dtype).max, 2**32 - 1)
    return st.lists(st.integers(0, top) | st.integers(0, 3), max_size=60).map(
        lambda xs: np.array(xs, dtype)
    )


# ---------------------------------------------------------------------------- rows


@pytest.mark.parametrize("dtype", CODE_TYPES)
def test_stable_order_is_numpys_stable_argsort(dtype, slice_size):
    @settings(max_examples=60, deadline=None)
    @given(_codes(dtype))
    def check(codes):
        before = codes.copy()
        out = np.full_like(codes, 0)
        got = stable_order(codes, out=out)
        expected = np.argsort(codes, kind="stable")
        assert got.dtype == np.int32 and got.shape == (len(codes),)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(out, codes[expected])
        np.testing.assert_array_equal(codes, before)  # the input is not touched
        got[:] = -7  # the order owns (or shares only with itself) its memory
        np.testing.assert_array_equal(codes, before)

    check()


def test_stable_order_written_over_its_own_codes(slice_size):
    rng = np.random.default_rng(1)
    for n in [0, 1, 2, 3, 5, 8, 9, 31, 100]:
        codes = rng.integers(0, 5, n).astype(np.int16)
        keep = codes.copy()
        got = stable_order(codes, out=codes)
        np.testing.assert_array_equal(got, np.argsort(keep, kind="stable"))
        np.testing.assert_array_equal(codes, np.sort(keep))


def test_stable_order_at_the_edges_of_its_range():
    codes = np.array([2**32 - 1, 0, 2**32 - 1, 2**31, 2**31 - 1, 0], np.uint64)
    np.testing.assert_array_equal(stable_order(codes), np.argsort(codes, kind="stable"))
    with pytest.raises(ValueError):
        stable_order(np.array([2**32, 0], np.int64))
    with pytest.raises(ValueError):
        stable_order(np.array([3, -1], np.int32))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(-3, 3)), max_size=50),
    st.sampled_from([np.int8, np.int16, np.int32, np.int64]),
    st.booleans(),
    st.booleans(),
)
def test_row_order_is_lexsort_of_code_time_position(pairs, dtype, overwrite, nat):
    codes = np.array([c for c, _ in pairs], dtype)
    stamps = np.array([t for _, t in pairs], np.int64) + 1_700_000_000 * 10**9
    if nat and len(stamps):
        stamps[::3] = np.iinfo(np.int64).min  # NaT: the smallest int64
    stamps = stamps.view("datetime64[ns]")
    given_codes, given_stamps = codes.copy(), stamps.copy()
    n = len(codes)
    expected = np.lexsort((np.arange(n), stamps.view(np.int64), codes))
    order, out = row_order(given_codes, given_stamps, overwrite=overwrite)
    np.testing.assert_array_equal(given_stamps, stamps)
    assert out.dtype == codes.dtype
    if order is None:
        np.testing.assert_array_equal(expected, np.arange(n))
        assert out is given_codes
        np.testing.assert_array_equal(out, codes)
        return
    assert order.dtype == np.int32
    np.testing.assert_array_equal(order, expected)
    np.testing.assert_array_equal(out, codes[expected])
    if overwrite:
        assert out is given_codes
    else:
        np.testing.assert_array_equal(given_codes, codes)  # not written over


def test_row_order_leaves_read_only_codes_alone():
    codes = np.array([3, 1, 2, 1], np.int32)
    codes.flags.writeable = False
    order, out = row_order(codes, np.zeros(4, "datetime64[ns]"), overwrite=True)
    assert out is not codes and order.tolist() == [1, 3, 2, 0]
    assert codes.tolist() == [3, 1, 2, 1] and out.tolist() == [1, 1, 2, 3]


def test_in_order_over_slices(slice_size):
    rng = np.random.default_rng(2)
    for n in range(0, 20):
        for _ in range(20):
            a = np.sort(rng.integers(0, 3, n))
            b = rng.integers(0, 3, n)
            assert in_order(a)
            assert in_order(b) == bool(np.all(np.diff(b) >= 0))
            expected = np.array_equal(np.lexsort((b, a)), np.arange(n))
            assert in_order(a, b) == expected


# ---------------------------------------------------------------------------- strings

#: bytes that matter: NUL, the smallest and largest, ASCII letters, the first bytes of
#: multi-byte UTF-8 sequences (é, €, an emoji)
ALPHABET = st.sampled_from(
    ["\x00", "\x01", "a", "b", "A", "0", " ", "é", "€", "\U0001f600", "\x7f"]
)


def _words(max_size=12, min_size=0, max_words=40):
    return st.lists(st.text(ALPHABET, max_size=max_size), min_size=min_size, max_size=max_words)


def _arrow(words, skip, chunks):
    """Words as Arrow strings: sliced (an offset into the buffers) or chunked."""
    values = pa.array(["pad"] * skip + words, pa.string()).slice(skip)
    if chunks and len(words) > 1:
        cut = len(words) // 2
        values = pa.chunked_array([values.slice(0, cut), values.slice(cut)])
    return values


def _check_order(words, values, order, first=None):
    encoded = [w.encode() for w in words]
    assert sorted(order.tolist()) == list(range(len(words)))  # a permutation
    ranked = [encoded[i] for i in order]
    assert ranked == sorted(encoded)
    arrow = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    assert ranked == [w.encode() for w in arrow.take(pc.array_sort_indices(arrow)).to_pylist()]
    if first is not None:
        assert first.dtype == bool and len(first) == len(words)
        expected = [i == 0 or ranked[i] != ranked[i - 1] for i in range(len(words))]
        assert first.tolist() == expected


@settings(max_examples=300, deadline=None)
@given(_words(), st.integers(0, 3), st.booleans())
def test_sort_indices_is_the_bytes_order(words, skip, chunks):
    values = _arrow(words, skip, chunks)
    _check_order(words, values, np.asarray(sort_indices(values)))
    order, first = sort_indices(values, runs=True)
    _check_order(words, values, np.asarray(order), first)


@settings(max_examples=200, deadline=None)
@given(_words(max_size=40, min_size=2, max_words=30), st.integers(0, 3))
def test_sort_indices_beyond_64_bits_and_16_bytes(words, skip):
    values = _arrow(words, skip, False)  # the two-word and the Arrow paths too
    order, first = sort_indices(values, runs=True)
    _check_order(words, values, np.asarray(order), first)


@pytest.mark.parametrize("slice_size", [3, 5], indirect=True)
def test_sort_indices_over_many_slices(slice_size):
    @settings(max_examples=150, deadline=None)
    @given(_words(max_size=20), st.integers(0, 2))
    def check(words, skip):
        values = _arrow(words, skip, False)
        order, first = sort_indices(values, runs=True)
        _check_order(words, values, np.asarray(order), first)

    check()


@settings(max_examples=300, deadline=None)
@given(_words(max_size=10, min_size=2), st.integers(0, 3))
def test_symbol_keys_are_the_bytes_order(words, skip):
    values = _arrow(words, skip, False)
    found = symbol_keys(values)
    if found is None:  # more than 64 bits: the other paths (tested above)
        return
    keys, bits = found
    assert keys.dtype == np.uint64 and 1 <= bits <= 64
    assert bits == 64 or int(keys.max()) < 2**bits
    encoded = [w.encode() for w in words]
    for i in range(len(words)):
        for k in range(len(words)):
            a, b = encoded[i], encoded[k]
            assert (keys[i] < keys[k]) == (a < b) and (keys[i] == keys[k]) == (a == b)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=3), min_size=2, max_size=40), st.integers(0, 255))
def test_one_width_and_one_value(parts, fill):
    # one width (the byte-matrix branch); a constant byte everywhere but one position
    words = [bytes([fill]) + p.ljust(3, b"q") for p in parts]
    words = [w.decode("latin-1") for w in words]
    values = pa.array(words, pa.string())
    order, first = sort_indices(values, runs=True)
    _check_order(words, values, np.asarray(order), first)
    same = pa.array([words[0]] * len(words), pa.string())
    keys, bits = symbol_keys(same)
    assert bits == 1 and not keys.any()
    order, first = sort_indices(same, runs=True)
    assert sorted(order.tolist()) == list(range(len(words)))
    assert first.tolist() == [True] + [False] * (len(words) - 1)


@pytest.mark.parametrize(
    "words",
    [
        ["", ""],
        ["", "", ""],
        ["b", "a"],
        ["a", "b"],
        ["", "a"],
        ["a", ""],
        ["a\x00", "a"],
        ["\x00", ""],
        ["\x00", "\x00"],
    ],
)
def test_small_cases(words):
    values = pa.array(words, pa.string())
    order, first = sort_indices(values, runs=True)
    _check_order(words, values, np.asarray(order), first)
    _check_order(words, values, np.asarray(sort_indices(values)))


def test_one_and_no_strings():
    for words in [[], ["x"], [""]]:
        values = pa.array(words, pa.string())
        order, first = sort_indices(values, runs=True)
        assert np.asarray(order).tolist() == list(range(len(words)))
        assert first.tolist() == [True] * len(words)


def test_empty_strings_with_no_data():
    offsets = pa.py_buffer(np.zeros(4, np.int32).tobytes())
    try:  # Arrow refuses a null data buffer (26.0); an empty one then
        values = pa.StringArray.from_buffers(3, offsets, None)
    except pa.ArrowInvalid:
        values = pa.StringArray.from_buffers(3, offsets, pa.py_buffer(b""))
    assert values.to_pylist() == ["", "", ""]
    order, first = sort_indices(values, runs=True)
    assert sorted(order.tolist()) == [0, 1, 2] and first.tolist() == [True, False, False]
    # the two-word keys (reached when the symbols do not fit) on such an array
    keys = _byte_words(values)
    assert keys is None or all(not k.any() for k in keys)


def test_missing_values_and_other_types_go_to_arrow():
    for values in [pa.array(["b", None, "a", "b"]), pa.array(["b", "a", "c"], pa.large_string())]:
        assert symbol_keys(values) is None
        order = np.asarray(sort_indices(values))
        assert order.tolist() == pc.array_sort_indices(values).to_numpy().tolist()


def test_exactly_64_bits_of_symbols():
    # 16 positions of 16 distinct bytes each: 16**16 == 2**64 keys, the largest 2**64 - 1
    rng = np.random.default_rng(4)
    hexes = np.array(list("0123456789abcdef"))
    grid = np.stack([rng.permutation(16) for _ in range(16)], axis=1)  # every digit, every place
    extra = rng.integers(0, 16, (300, 16))
    rows = np.concatenate([grid, extra, np.full((1, 16), 15), np.zeros((1, 16), int)])
    words = ["".join(hexes[r]) for r in rows]
    values = pa.array(words)
    keys, bits = symbol_keys(values)
    assert bits == 64 and int(keys.max()) == 2**64 - 1 and int(keys.min()) == 0
    _check_order(words, values, *sort_indices(values, runs=True))
    # one more distinct byte at one position: 17 * 16**15 > 2**64
    more = pa.array(words + ["g" + "0" * 15])
    assert symbol_keys(more) is None
    _check_order(words + ["g" + "0" * 15], more, *sort_indices(more, runs=True))


@pytest.mark.parametrize("bits", [1, 2, 10, 54, 62, 63, 64])
@pytest.mark.parametrize("shift", [-1, 0, 1])
def test_sort_keys_when_the_positions_just_fit_or_not(bits, shift):
    spare = 64 - bits
    n = max(2, min(2**spare + shift, 5000))
    rng = np.random.default_rng(bits * 3 + shift)
    top = 2**bits - 1
    keys = rng.integers(0, top, n, dtype=np.uint64, endpoint=True)
    keys[: min(4, n)] = [top, 0, top, 0][: min(4, n)]
    keys[-1] = top
    expected = np.sort(keys)
    order, first = _sort_keys(keys.copy(), bits, runs=True)
    assert sorted(order.tolist()) == list(range(n))
    np.testing.assert_array_equal(keys[order], expected)
    np.testing.assert_array_equal(first, np.r_[True, expected[1:] != expected[:-1]])

"""The Arrow fast path of the loaders: taken on clean input, same result as the careful path,
and out of the way whenever there is something to report."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cxkit
from cxkit import DataError
from cxkit.data import contract


def careful(loader, data, **kwargs):
    """The loader with its fast path switched off (how cxkit read every input before)."""
    keep = contract.events_fast, contract.read_file
    contract.events_fast = lambda *args, **kw: None
    contract.read_file = lambda *args, **kw: None
    try:
        return loader(data, **kwargs)
    finally:
        contract.events_fast, contract.read_file = keep


def no_pandas_reader(monkeypatch):
    """Fail if the careful reader is used at all."""

    def refuse(*args, **kwargs):
        raise AssertionError("the careful reader was used")

    monkeypatch.setattr(contract, "_read_table", refuse)


def events(n=400, seed=3):
    """Unsorted events with ties (same person, same second) and aware and naive variants."""
    rng = np.random.default_rng(seed)
    stamps = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 5000, n), "s")
    return pd.DataFrame(
        {
            "customer_id": rng.choice(["007", "8", "a10", "b", "C"], n),
            "timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"),
            "event": rng.choice(["site_visit", "purchase", "ad_click"], n),
            "channel": rng.choice(["web", "app", None], n),
            "value": np.where(rng.random(n) < 0.2, rng.integers(1, 99, n) / 4, np.nan),
            "row": np.arange(n),  # the file's order, to check that ties keep it
        }
    )


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_clean_files_take_the_fast_path_and_give_the_careful_result(tmp_path, fmt, monkeypatch):
    frame = events()
    path = tmp_path / f"events.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    expected = careful(cxkit.read_events, path)
    no_pandas_reader(monkeypatch)
    got = cxkit.read_events(path)
    pd.testing.assert_frame_equal(got, expected)
    assert list(got["customer_id"].cat.categories) == ["007", "8", "C", "a10", "b"]
    # sorted by person then time, and rows at the same moment keep the file's order
    key = got[["customer_id", "timestamp"]].astype({"customer_id": str})
    assert key.equals(key.sort_values(["customer_id", "timestamp"], kind="stable"))
    ties = got.groupby(["customer_id", "timestamp"], observed=True)["row"]
    assert (ties.diff().dropna() > 0).all()
    assert got["value"].sum() == pytest.approx(frame["value"].sum())


def test_raw_strings_dataframe_takes_the_fast_path(monkeypatch):
    raw = events().astype(str).replace({"nan": None, "None": None})
    before = raw.copy(deep=True)
    expected = careful(cxkit.read_events, raw)
    no_pandas_reader(monkeypatch)
    got = cxkit.read_events(raw)
    pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(raw, before)  # the input is untouched


def test_offsets_are_converted_to_utc_on_the_fast_path(monkeypatch):
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "timestamp": ["2024-01-02T10:00:00+02:00", "2024-01-01T09:00:00Z"],
            "event": ["purchase", "site_visit"],
        }
    )
    no_pandas_reader(monkeypatch)
    got = cxkit.read_events(frame).set_index("customer_id")["timestamp"]
    assert got["a"] == pd.Timestamp("2024-01-02 08:00")
    assert got["b"] == pd.Timestamp("2024-01-01 09:00")


def test_timezone_keyword_on_the_fast_path(tmp_path, monkeypatch):
    path = tmp_path / "events.csv"
    path.write_text("customer_id,timestamp,event\na,2024-07-01 12:00:00,visit\n")
    no_pandas_reader(monkeypatch)
    got = cxkit.read_events(path, timezone="Europe/Madrid")
    assert got["timestamp"].iloc[0] == pd.Timestamp("2024-07-01 10:00")  # CEST is UTC+2


@pytest.mark.parametrize(
    "change, pattern",
    [
        ({"timestamp": "yesterday"}, r"column 'timestamp'.*could not be parsed.*'yesterday'"),
        ({"customer_id": None}, r"column 'customer_id'.*empty"),
        ({"event": "  "}, r"column 'event'.*empty"),
        ({"value": "ten"}, r"column 'value'.*not.*'ten'"),
    ],
)
def test_problems_are_reported_by_the_careful_path(tmp_path, change, pattern):
    frame = events(20).astype({"value": object, "timestamp": object})
    for column, value in change.items():
        frame[column] = frame[column].astype(object)
        frame.loc[7, column] = value
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    for data in (frame, path):
        with pytest.raises(DataError, match=pattern) as info:
            cxkit.read_events(data)
        with pytest.raises(DataError) as expected:
            careful(cxkit.read_events, data)
        assert str(info.value) == str(expected.value)  # word for word


def test_padded_values_are_left_to_the_careful_path(monkeypatch):
    frame = events(10)
    frame.loc[3, "event"] = " purchase "
    calls = []
    keep = contract._read_table
    monkeypatch.setattr(contract, "_read_table", lambda *a, **k: calls.append(1) or keep(*a, **k))
    got = cxkit.read_events(frame)
    assert calls == [1] and " purchase " not in list(got["event"].cat.categories)


@pytest.mark.parametrize("name", ["customers", "surveys"])
def test_customers_and_surveys_files_are_read_with_arrow(name, monkeypatch):
    loader = {"customers": cxkit.read_customers, "surveys": cxkit.read_surveys}[name]
    path = cxkit.sample_dir() / f"{name}.csv"
    expected = careful(loader, path)
    no_pandas_reader(monkeypatch)
    pd.testing.assert_frame_equal(loader(path), expected)


def test_row_order_is_numpys_stable_argsort():
    from cxkit.data.sorting import row_order, stable_order

    rng = np.random.default_rng(11)
    codes = rng.integers(0, 200_000, 50_000).astype(np.int32)  # ties
    np.testing.assert_array_equal(stable_order(codes), np.argsort(codes, kind="stable"))
    stamps = rng.integers(0, 1000, 50_000).astype("datetime64[s]").astype("datetime64[ns]")
    expected = np.lexsort((np.arange(50_000), stamps.view(np.int64), codes))
    order, ordered = row_order(codes.copy(), stamps)
    np.testing.assert_array_equal(order, expected)
    np.testing.assert_array_equal(ordered, codes[expected])
    assert ordered.dtype == codes.dtype
    in_time = np.sort(stamps)  # the rows in time order: one sort by customer
    order, ordered = row_order(codes, in_time)
    np.testing.assert_array_equal(order, np.argsort(codes, kind="stable"))
    np.testing.assert_array_equal(ordered, np.sort(codes))
    sorted_codes = np.sort(codes)
    order, ordered = row_order(sorted_codes, np.zeros(50_000, "datetime64[ns]"))
    assert order is None and ordered is sorted_codes  # nothing to move


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=6).map(lambda b: b.decode("latin-1")), min_size=2, max_size=40))
def test_symbol_keys_compare_as_the_bytes_do(words):
    import pyarrow as pa

    from cxkit.data.sorting import symbol_keys

    values = pa.array(words, pa.string())
    found = symbol_keys(values)
    assert found is not None  # at most 12 bytes, 40 strings: 64 bits are enough
    keys, bits = found
    assert int(keys.max()) < 2**bits
    encoded = [w.encode() for w in words]  # "a" < "a\0" < "ab", as Arrow sorts them
    for i in range(len(words) - 1):
        a, b = encoded[i], encoded[i + 1]
        assert (keys[i] < keys[i + 1]) == (a < b) and (keys[i] == keys[i + 1]) == (a == b)


def test_symbol_keys_give_way_when_64_bits_are_not_enough():
    import pyarrow as pa

    from cxkit.data.sorting import sort_indices, symbol_keys

    rng = np.random.default_rng(5)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))
    words = ["".join(w) for w in rng.choice(letters, (3000, 16))]  # 36^16 > 2^64
    values = pa.array(words)
    assert symbol_keys(values) is None
    assert [words[i] for i in sort_indices(values)] == sorted(words)
    ids = pa.array([f"CX{n:07d}" for n in range(100_000)])
    keys, bits = symbol_keys(ids)
    assert bits == 17  # 100,000 values of 5 varying digits; the constant "CX00" takes none
    np.testing.assert_array_equal(keys, np.arange(100_000))


def _same_either_way(data, **kwargs):
    """The loader's outcome (frame, or error text) with and without the fast path."""

    def outcome(load):
        try:
            return load()
        except DataError as exc:
            return str(exc)

    fast = outcome(lambda: cxkit.read_events(data, **kwargs))
    return fast, outcome(lambda: careful(cxkit.read_events, data, **kwargs))


@pytest.mark.parametrize(
    "text",
    [
        "customer_id;timestamp;event\na;2024-01-01 10:00;visit\n",  # semicolons
        "customer_id,timestamp,event\n a,2024-01-01 10:00,visit\nb,2024-01-01 11:00,buy\n",
        "customer_id,timestamp,event,value\na,2024-01-01 10:00,visit,1e308\n",
        "customer_id,timestamp,event,event\na,2024-01-01 10:00,visit,buy\n",
        "customer_id,timestamp,event\na,03/05/2024 10:00,visit\nb,25/12/2024 10:00,buy\n",
        "customer_id,timestamp,event\na,2024-01-01T10:00-05:00,visit\na,2024-01-01T10:00,x\n",
    ],
    ids=["semicolons", "padded-id", "huge-value", "repeated-header", "day-first", "zones"],
)
def test_real_export_quirks_give_the_careful_result(tmp_path, text):
    path = tmp_path / "events.csv"
    path.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # notes (trimmed, day first) are warned on both paths
        fast, slow = _same_either_way(path)
    if isinstance(slow, str):
        assert fast == slow
    else:
        pd.testing.assert_frame_equal(fast, slow)
        assert fast.attrs == slow.attrs  # the notes of what was repaired or inferred too


def _many_pieces(n=3000, seed=5):
    """Events whose text columns have different values in different parts of the file: 300
    event names (codes wider than 8 bits) and ids first seen late, unsorted."""
    rng = np.random.default_rng(seed)
    frame = events(n, seed)
    frame["event"] = [f"e{int(k):03d}" for k in rng.integers(0, 300, n)]
    frame["customer_id"] = [f"id{int(k)}" for k in rng.integers(0, 700, n) * np.arange(n) // n]
    frame["plan"] = rng.choice(["basic", "pro", None], n)  # a column beyond the contract's
    return frame


def _same_but_extras_categorical(got, expected):
    """The careful path keeps a column beyond the contract's as text; the fast path makes it a
    categorical (no Python strings): same values."""
    assert got["plan"].dtype == "category"
    same = got["plan"].astype(object).where(got["plan"].notna(), None)
    assert same.equals(expected["plan"].where(expected["plan"].notna(), None))
    pd.testing.assert_frame_equal(got.drop(columns="plan"), expected.drop(columns="plan"))


def test_parquet_is_read_row_group_by_row_group(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    frame = _many_pieces()
    path = tmp_path / "events.parquet"
    frame.to_parquet(path, index=False, row_group_size=250)  # 12 groups, own dictionaries
    expected = careful(cxkit.read_events, path)
    no_pandas_reader(monkeypatch)
    pieces = []
    keep = pq.ParquetFile.read_row_group

    def one_group(self, i, *args, **kwargs):
        piece = keep(self, i, *args, **kwargs)
        pieces.append(piece.num_rows)
        return piece

    def whole(self, *args, **kwargs):
        raise AssertionError("a whole column was read at once")

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", one_group)
    monkeypatch.setattr(pq.ParquetFile, "read", whole)
    got = cxkit.read_events(path)
    _same_but_extras_categorical(got, expected)
    # the sort keys together, then each of the five other columns on its own
    assert max(pieces) == 250 and sum(pieces) == 6 * len(frame)
    assert got["event"].cat.codes.dtype == np.int16  # 300 names: as pandas has them


def test_csv_is_read_block_by_block(tmp_path, monkeypatch):
    from cxkit.data import read

    frame = _many_pieces()
    path = tmp_path / "events.csv.gz"
    frame.to_csv(path, index=False)
    expected = careful(cxkit.read_events, path)
    no_pandas_reader(monkeypatch)
    monkeypatch.setattr(read, "_CSV_BLOCK", 4096)  # ~60 blocks, each its own dictionaries
    batches = []
    keep = read._convert

    def counting(found, columns, kept=None):
        pieces = found.pieces

        def counted(names, prepare):
            yield from pieces(names, lambda b, k: batches.append(len(b)) or prepare(b, k))

        found.pieces = counted
        return keep(found, columns, kept)

    monkeypatch.setattr(read, "_convert", counting)
    got = cxkit.read_events(path)
    _same_but_extras_categorical(got, expected)
    assert len(batches) > 20 and sum(batches) == len(frame)


def test_decimal_comma_amounts_are_named_with_the_keyword_then_read(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "customer_id;timestamp;event;value\n"
        "a;2024-01-01 10:00;purchase;12,50\n"
        "b;2024-01-02 10:00;purchase;1.234,56\n"
        "b;2024-01-03 10:00;visit;\n"
    )
    with pytest.raises(DataError) as info:
        cxkit.read_events(path)
    text = str(info.value)
    assert str(path) in text and "column 'value'" in text and "decimal comma" in text
    assert "'12,50'" in text and "'1.234,56'" in text and "decimal=','" in text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the note: columns separated by semicolons
        got = cxkit.read_events(path, decimal=",")
    assert got["value"].tolist()[:2] == [12.5, 1234.56] and np.isnan(got["value"].iloc[2])
    with pytest.raises(DataError, match=r"column 'decimal'.*',' or '\.'"):
        cxkit.read_events(path, decimal=";")


def test_decimal_comma_in_the_spec_reads_the_folder(tmp_path):
    (tmp_path / "events.csv").write_text(
        'customer_id,timestamp,event,value\na,2024-01-01 10:00,purchase,"12,50"\n'
    )
    with pytest.raises(DataError, match="decimal=','"):
        cxkit.read_journey(tmp_path)
    (tmp_path / "cxkit.toml").write_text('[tables.events]\ndecimal = ","\n')
    assert cxkit.read_journey(tmp_path).events["value"].tolist() == [12.5]
    (tmp_path / "cxkit.toml").write_text('[tables.events]\ndecimal = ";"\n')
    with pytest.raises(DataError, match=r"tables\.events\.decimal"):
        cxkit.read_journey(tmp_path)


def test_pandas_categorical_ids_in_many_row_groups(tmp_path, monkeypatch):
    """pandas writes a categorical's whole dictionary into every row group: such an id column
    is read as text views (not hashed again per row group), with the careful path's result."""
    import pyarrow.parquet as pq

    from cxkit.data import read

    frame = _many_pieces().drop(columns="plan")
    ids = sorted(set(frame["customer_id"])) + ["never-used"]  # a category no row has
    frame["customer_id"] = pd.Categorical(frame["customer_id"], categories=ids)
    path = tmp_path / "events.parquet"
    frame.to_parquet(path, index=False, row_group_size=300)
    assert list(read._repeated_dictionaries(pq.ParquetFile(path), path)) == ["customer_id"]
    expected = careful(cxkit.read_events, path)
    no_pandas_reader(monkeypatch)
    got = cxkit.read_events(path)
    pd.testing.assert_frame_equal(got, expected)
    assert "never-used" not in got["customer_id"].cat.categories


def test_csv_blocks_are_not_cut_inside_a_quoted_line_break(tmp_path, monkeypatch):
    from cxkit.data import read

    rows = 400
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i % 37}" for i in range(rows)],
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(rows), unit="h"),
            "event": ["visit", "purchase"] * (rows // 2),
            "plan": [f'line one\nline "two" of {i}' if i % 3 else "plain" for i in range(rows)],
        }
    )
    path = tmp_path / "events.csv.gz"
    frame.to_csv(path, index=False)
    expected = careful(cxkit.read_events, path)
    monkeypatch.setattr(read, "_CSV_BLOCK", 256)  # cuts fall inside quoted values
    got = read.events_fast(path, {}, {}, str(path))
    assert got is not None  # no block failed to parse
    _same_but_extras_categorical(got, expected)
    assert got["plan"].astype(str).str.contains("\n").sum() == (frame["plan"] != "plain").sum()
    assert read._line_end(bytearray(b'a,"x\ny"\nb,"z\n'), 13) == 8
    assert read._line_end(bytearray(b'a,5"\nb,6"\n'), 10) == 10  # stray quotes: last break


@pytest.mark.parametrize(
    "values, refused",
    [
        ([np.nan, 1.0, -np.inf], True),
        ([np.nan, 1e308], True),
        ([-1e300, 2.0], True),
        ([np.nan, np.nan], False),
        ([], False),
        ([np.nan, -5.0, 12.5], False),
    ],
)
def test_amounts_step_aside_when_not_finite_or_absurd(values, refused):
    import pyarrow as pa

    from cxkit.data import read

    numbers = read._Numbers(None)
    numbers.add(numbers.prepare(pa.array(values, pa.float64())))
    if refused:
        with pytest.raises(read._StepAside):
            numbers.result()
    else:
        assert np.array_equal(numbers.result(), np.array(values, float), equal_nan=True)


@pytest.mark.parametrize(
    "ending, bom, last_newline",
    [("\n", False, True), ("\r\n", False, True), ("\n", True, False), ("\r\n", True, False)],
    ids=["lf", "crlf", "bom-no-last-newline", "crlf-bom-no-last-newline"],
)
def test_csv_blocks_read_line_endings_marks_and_last_lines_as_arrow_does(
    tmp_path, monkeypatch, ending, bom, last_newline
):
    from cxkit.data import read

    lines = ["customer_id,timestamp,event,value"] + [
        f"c{i % 7},2024-01-{1 + i % 28:02d} 10:{i % 60:02d},{'visit' if i % 3 else 'buy'},{i}.5"
        for i in range(300)
    ]
    text = ending.join(lines) + (ending if last_newline else "")
    path = tmp_path / "events.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    expected = careful(cxkit.read_events, path)
    monkeypatch.setattr(read, "_CSV_BLOCK", 100)  # a block every few lines
    blocks = list(read._csv_blocks(path, 100))
    assert b"".join(blocks) == path.read_bytes() and len(blocks) > 50
    assert all(bytes(b).endswith(b"\n") for b in blocks[:-1])
    got = read.events_fast(path, {}, {}, str(path))
    assert got is not None
    pd.testing.assert_frame_equal(got, expected)
    assert got["value"].sum() == sum(i + 0.5 for i in range(300))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(st.sampled_from("aAb0é\x00 z€"), max_size=18), max_size=60),
    st.integers(0, 3),
)
def test_strings_sort_as_arrow_sorts_them(words, skip):
    import pyarrow as pa
    import pyarrow.compute as pc

    from cxkit.data import read

    values = pa.array(words, pa.string()).slice(min(skip, len(words)))  # an offset too
    got = values.take(pa.array(read._sort_indices(values), pa.int64())).to_pylist()
    assert got == values.take(pc.array_sort_indices(values)).to_pylist()
    assert got == sorted(values.to_pylist(), key=lambda w: w.encode())
    order, first = read._sort_indices(values, runs=True)
    distinct = values.take(pa.array(order[first], pa.int64())).to_pylist()
    assert distinct == sorted(set(values.to_pylist()), key=lambda w: w.encode())


def test_ids_of_one_width_sort_by_their_bytes():
    import pyarrow as pa

    from cxkit.data import read

    ids = [f"CX{n:07d}" for n in np.random.default_rng(3).permutation(5000)]
    order = read._sort_indices(pa.array(ids))
    assert [ids[i] for i in order] == sorted(ids)


def test_stable_order_of_many_rows_and_into_the_codes():
    from cxkit.data.sorting import SLICE, row_order, stable_order

    rng = np.random.default_rng(12)
    n = 2 * SLICE + 12_345  # several slices of the in-place move
    codes = rng.integers(0, 1000, n).astype(np.int32)
    expected = np.argsort(codes, kind="stable")
    np.testing.assert_array_equal(stable_order(codes), expected)
    given = codes.copy()
    order, ordered = row_order(given, np.zeros(n, "datetime64[ns]"), overwrite=True)
    assert ordered is given  # written over the codes
    np.testing.assert_array_equal(order, expected)
    np.testing.assert_array_equal(ordered, codes[expected])

"""cxkit.data.pages: a pandas categorical's Parquet codes decoded from the pages, against
Arrow's reading of the same files; and None (Arrow reads it) for what it does not know."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cxkit
from cxkit.data import pages
from cxkit.data.pages import DictionaryColumn, hybrid
from tests.test_read import careful, no_pandas_reader


def bit_packed(values, width):
    """The RLE / bit-packed hybrid of ``values`` as one bit-packed run (the reference
    encoder: the format's own description, LSB first)."""
    values = list(values) + [0] * (-len(values) % 8)
    bits = 0
    for i, v in enumerate(values):
        bits |= int(v) << (i * width)
    header = ((len(values) // 8) << 1) | 1
    head = bytearray()
    while True:
        byte = header & 0x7F
        header >>= 7
        head.append(byte | (0x80 if header else 0))
        if not header:
            break
    return bytes(head) + bits.to_bytes(len(values) * width // 8, "little")


@pytest.mark.parametrize("width", range(1, 33))
def test_bit_packed_runs_of_every_width(width):
    rng = np.random.default_rng(width)
    values = rng.integers(0, 2**width, 37, dtype=np.uint64)
    values[:3] = [0, 2**width - 1, 1]
    buf = np.frombuffer(bit_packed(values, width), np.uint8)
    assert hybrid(buf, width, len(values)).tolist() == values.tolist()


def test_runs_mixed_repeated_and_bit_packed():
    width = 5
    repeated = bytes([7 << 1, 19])  # 19, seven times
    packed = bit_packed(range(16), width)
    data = np.frombuffer(repeated + packed + bytes([3 << 1, 4]), np.uint8)
    expected = [19] * 7 + list(range(16)) + [4, 4]
    assert hybrid(data, width, len(expected)).tolist() == expected
    assert hybrid(data, width, 9).tolist() == expected[:9]  # a run cut by the count


def categorical_file(path, n, k, *, nulls=False, sort=False, seed=0, **options):
    rng = np.random.default_rng(seed)
    ids = np.array([f"id{i:06d}" for i in range(k)])[rng.integers(0, k, n)]
    if sort:
        ids = np.sort(ids)  # long runs: RLE runs in the pages
    series = pd.Series(ids, dtype="category")
    if nulls:
        series[rng.random(n) < 0.1] = None
    pd.DataFrame({"id": series}).to_parquet(path, index=False, **options)
    return series


CASES = {
    "one value": {"n": 3000, "k": 1},
    "two values": {"n": 3000, "k": 2},
    "random ids": {"n": 20000, "k": 70000},
    "sorted ids": {"n": 20000, "k": 3000, "sort": True},
    "with nulls": {"n": 20000, "k": 5000, "nulls": True},
    "gzip, small pages": {"n": 20000, "k": 900, "compression": "gzip", "data_page_size": 4096},
    "zstd": {"n": 9000, "k": 300, "compression": "zstd"},
    "uncompressed": {"n": 9000, "k": 300, "compression": None},
}


@pytest.mark.parametrize("case", list(CASES))
def test_codes_of_every_row_group_are_arrows(tmp_path, case):
    path = tmp_path / "ids.parquet"
    series = categorical_file(path, row_group_size=2500, **CASES[case])
    column = DictionaryColumn.open(path, "id")
    assert column is not None
    groups = [column.read(g) for g in range(len(column.chunks))]
    assert all(dictionary is groups[0][1] for _, dictionary in groups)  # decoded once
    assert groups[0][1].to_pylist() == list(series.cat.categories)
    codes = np.concatenate([codes for codes, _ in groups])
    np.testing.assert_array_equal(codes, series.cat.codes.to_numpy())


def test_what_it_does_not_know_is_left_to_arrow(tmp_path):
    v2 = tmp_path / "v2.parquet"
    categorical_file(v2, 3000, 50, row_group_size=1000, data_page_version="2.0")
    assert DictionaryColumn.open(v2, "id") is None
    lengths = tmp_path / "lengths.parquet"  # ids of different lengths: the page is walked
    pd.DataFrame({"id": pd.Series(["a", "bb", "ccc"] * 50, dtype="category")}).to_parquet(
        lengths, row_group_size=40
    )
    assert DictionaryColumn.open(lengths, "id") is None
    assert DictionaryColumn.open(lengths, "nope") is None
    # text whose dictionary outgrew its page limit: the later pages hold the strings (PLAIN)
    ids = pd.Series([f"id{i:05d}" for i in np.random.default_rng(0).integers(0, 5000, 20000)])
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"id": ids}).to_parquet(plain, dictionary_pagesize_limit=2048)
    assert DictionaryColumn.open(plain, "id") is None
    cats = tmp_path / "cats.parquet"  # the same as a categorical: dictionary pages only
    pd.DataFrame({"id": ids.astype("category")}).to_parquet(cats, dictionary_pagesize_limit=2048)
    codes, dictionary = DictionaryColumn.open(cats, "id").read(0)
    assert dictionary.take(pa.array(codes)).to_pylist() == ids.tolist()


def test_a_row_group_with_a_dictionary_of_its_own(tmp_path):
    path = tmp_path / "two.parquet"
    first = pd.DataFrame({"id": pd.Series(["x1", "x2", "x3"] * 400, dtype="category")})
    second = pd.DataFrame({"id": pd.Series(["x2", "x4"] * 300, dtype="category")})
    table = pa.Table.from_pandas(first, preserve_index=False)
    with pq.ParquetWriter(path, table.schema) as writer:
        writer.write_table(table)
        writer.write_table(pa.Table.from_pandas(second, preserve_index=False, schema=table.schema))
    column = DictionaryColumn.open(path, "id")
    (_, one), (codes, two) = column.read(0), column.read(1)
    assert one.to_pylist() == ["x1", "x2", "x3"] and two.to_pylist() == ["x2", "x4"]
    assert codes.tolist() == [0, 1] * 300  # its own dictionary, decoded too


def ids_log(n=6000, k=2000, seed=4):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": pd.Series(
                [f"CX{i:07d}" for i in rng.integers(0, k, n)], dtype="category"
            ),
            "timestamp": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 90 * 86400, n), "s"),
            "event": rng.choice(["site_visit", "purchase", "ad_click"], n),
        }
    )


@pytest.mark.parametrize("events", [None, ["purchase", "site_visit"]])
def test_read_events_from_the_pages_is_the_careful_result(tmp_path, monkeypatch, events):
    path = tmp_path / "events.parquet"
    frame = ids_log()
    frame.to_parquet(path, index=False, row_group_size=700)  # 2000 ids in every group
    used = []
    keep = DictionaryColumn.read

    def counted(self, group):
        got = keep(self, group)
        used.append(got is not None)
        return got

    monkeypatch.setattr(DictionaryColumn, "read", counted)
    expected = careful(cxkit.read_events, path)
    if events is not None:
        expected = expected[expected["event"].isin(events)].reset_index(drop=True)
    no_pandas_reader(monkeypatch)
    got = cxkit.read_events(path, events=events)
    pd.testing.assert_frame_equal(
        got.astype({"customer_id": object}), expected.astype({"customer_id": object})
    )
    assert list(got["customer_id"].cat.categories) == sorted(set(frame["customer_id"]))
    assert len(used) >= 9 and all(used)  # every row group's codes from its pages


def test_read_events_when_a_row_group_differs(tmp_path, monkeypatch):
    path = tmp_path / "events.parquet"
    frame = ids_log()
    table = pa.Table.from_pandas(frame.iloc[:3000], preserve_index=False)
    with pq.ParquetWriter(path, table.schema) as writer:
        writer.write_table(table, row_group_size=1000)
        other = frame.iloc[3000:].copy()
        other["customer_id"] = other["customer_id"].cat.remove_unused_categories()
        writer.write_table(pa.Table.from_pandas(other, preserve_index=False, schema=table.schema))
    used = {}  # row group -> codes from its pages (read in two threads: in any order)
    keep = DictionaryColumn.read

    def counted(self, group):
        got = keep(self, group)
        used[group] = got is not None
        return got

    monkeypatch.setattr(DictionaryColumn, "read", counted)
    expected = careful(cxkit.read_events, path)
    no_pandas_reader(monkeypatch)
    got = cxkit.read_events(path)
    assert used == {0: True, 1: True, 2: True, 3: True}  # the last: a dictionary of its own
    pd.testing.assert_frame_equal(
        got.astype({"customer_id": object}), expected.astype({"customer_id": object})
    )
    assert pages.DictionaryColumn.open(path, "customer_id") is not None

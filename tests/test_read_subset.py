"""read_events(columns=..., events=...): only some columns and the rows of some events, the
same as filtering the whole log; every row still checked; cxkit.funnel on a path reads only
what it needs and gives the result of the whole log."""

import numpy as np
import pandas as pd
import pytest

import cxkit
from cxkit import DataError
from cxkit.data import read
from cxkit.funnel import STEPS
from tests.test_read import careful, no_pandas_reader

FUNNEL = ["site_visit", "product_view", "purchase"]


def log(n=4000, seed=11):
    """Unsorted events with ties, ids first seen late (own dictionaries per piece), channel,
    value and a column beyond the contract's."""
    rng = np.random.default_rng(seed)
    stamps = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 40 * 86400, n), "s")
    stamps = stamps.floor("min")  # ties within a person
    return pd.DataFrame(
        {
            "customer_id": [f"c{int(k)}" for k in rng.integers(0, 600, n) * np.arange(n) // n],
            "timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"),
            "event": rng.choice(FUNNEL + ["ad_click", "email_open", "support_ticket"], n),
            "channel": rng.choice(["web", "app", None], n),
            "value": np.where(rng.random(n) < 0.2, rng.integers(1, 99, n) / 4, np.nan),
            "plan": rng.choice(["basic", "pro"], n),
        }
    )


def write(frame, path, fmt):
    if fmt == "csv.gz":
        frame.to_csv(path, index=False)
    elif fmt == "parquet-pandas":  # categorical ids: the whole dictionary in every row group
        cats = frame.astype({"customer_id": "category", "event": "category"})
        cats.to_parquet(path, index=False, row_group_size=500)
    else:  # text columns, timestamps as timestamps, several row groups
        frame.assign(timestamp=pd.to_datetime(frame["timestamp"])).to_parquet(
            path, index=False, row_group_size=700
        )
    return path


def filtered(whole, events, columns=None):
    """What read_events(events=, columns=) must give: the whole log's rows of those events
    (categories stay the whole log's, as pandas keeps them)."""
    keep = ["customer_id", "timestamp", "event", *(columns or [])]
    out = whole[whole["event"].isin(events)]
    return out[[c for c in whole.columns if columns is None or c in keep]].reset_index(drop=True)


FORMATS = {"csv.gz": "events.csv.gz", "parquet-pandas": "events.parquet", "text": "t.parquet"}


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("columns", [None, [], ["channel"], ["value", "plan"]])
def test_rows_of_some_events_are_the_whole_log_filtered(tmp_path, monkeypatch, fmt, columns):
    frame = log()
    path = write(frame, tmp_path / FORMATS[fmt], fmt)
    monkeypatch.setattr(read, "_CSV_BLOCK", 8192)  # CSV in many blocks, own dictionaries
    whole = cxkit.read_events(path)
    careful_whole = careful(cxkit.read_events, path)
    expected_attrs = {
        "source": str(path),
        "observed_at": whole["timestamp"].max(),
        "events_kept": {
            "events": sorted(FUNNEL),
            "rows_read": len(frame),
            "rows_kept": int(frame["event"].isin(FUNNEL).sum()),
        },
    }
    slow = careful(cxkit.read_events, path, columns=columns, events=FUNNEL)
    pd.testing.assert_frame_equal(slow, filtered(careful_whole, FUNNEL, columns))
    assert slow.attrs == expected_attrs
    no_pandas_reader(monkeypatch)  # the fast path from here on
    got = cxkit.read_events(path, columns=columns, events=FUNNEL)
    pd.testing.assert_frame_equal(got, filtered(whole, FUNNEL, columns))
    assert got.attrs == expected_attrs
    assert expected_attrs["events_kept"]["rows_kept"] < len(frame)


def test_columns_alone_read_the_columns_asked_for(tmp_path, monkeypatch):
    frame = log().rename(columns={"customer_id": "user", "channel": "src"})
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    whole = cxkit.read_events(path, customer="user", channel="src")
    with pytest.raises(DataError, match="'src'.*lacks it"):  # cxkit's name, once mapped
        cxkit.read_events(path, customer="user", channel="src", columns=["src"])
    no_pandas_reader(monkeypatch)
    got = cxkit.read_events(path, customer="user", channel="src", columns=["channel"])
    assert list(got.columns) == ["customer_id", "timestamp", "event", "channel"]
    pd.testing.assert_frame_equal(got, whole[list(got.columns)])
    assert got.attrs == {"source": str(path)}  # nothing left out: no observed_at of its own


def test_a_dataframe_of_raw_strings_with_an_extra_column(monkeypatch):
    raw = log().astype({"value": str}).replace({"nan": None})
    raw["note"] = np.arange(len(raw))  # numbers beyond the contract: kept as they are
    before = raw.copy(deep=True)
    whole = cxkit.read_events(raw)
    no_pandas_reader(monkeypatch)
    got = cxkit.read_events(raw, events=FUNNEL, columns=["note"])
    pd.testing.assert_frame_equal(got, filtered(whole, FUNNEL, ["note"]))
    pd.testing.assert_frame_equal(raw, before)  # the input is not modified


def _broken(kind):
    """The log with one problem in a row of an event that is not kept."""
    frame = log(600)
    row = int(np.flatnonzero(~frame["event"].isin(FUNNEL).to_numpy())[3])
    if kind == "spaces":
        frame.loc[row, "customer_id"] = " " + frame.loc[row, "customer_id"]
    elif kind == "no_time":
        frame.loc[row, "timestamp"] = None
    elif kind == "no_id":
        frame.loc[row, "customer_id"] = None
    elif kind == "infinite":
        frame.loc[row, "value"] = np.inf
    elif kind == "event_spaces":
        frame.loc[row, "event"] = "ad_click "
    return frame


@pytest.mark.parametrize("kind", ["spaces", "event_spaces"])
@pytest.mark.parametrize("fmt", ["csv.gz", "text"])
def test_rows_left_out_are_still_checked_notes(tmp_path, kind, fmt):
    path = write(_broken(kind), tmp_path / FORMATS[fmt], fmt)
    with pytest.warns(UserWarning, match="trimmed"):
        whole = cxkit.read_events(path)
    with pytest.warns(UserWarning, match="trimmed"):
        got = cxkit.read_events(path, events=FUNNEL)
    assert got.attrs["notes"] == whole.attrs["notes"]  # the count of the whole log
    assert sum(whole.attrs["notes"]["trimmed"].values()) == 1
    pd.testing.assert_frame_equal(got, filtered(whole, FUNNEL))


@pytest.mark.parametrize("kind", ["no_time", "no_id", "infinite"])
@pytest.mark.parametrize("fmt", ["csv.gz", "text"])
def test_rows_left_out_are_still_checked_errors(tmp_path, kind, fmt):
    path = write(_broken(kind), tmp_path / FORMATS[fmt], fmt)
    with pytest.raises(DataError) as whole:
        cxkit.read_events(path)
    with pytest.raises(DataError) as got:
        cxkit.read_events(path, columns=["value"], events=FUNNEL)
    assert str(got.value) == str(whole.value)


def test_events_that_match_no_row_are_an_error_naming_the_events_there(tmp_path):
    path = write(log(300), tmp_path / "events.csv.gz", "csv.gz")
    with pytest.raises(DataError, match="signup.*ad_click"):
        cxkit.read_events(path, events=["signup"])


def test_bad_keywords_are_errors_that_say_what_was_expected(tmp_path):
    path = write(log(300), tmp_path / "events.csv.gz", "csv.gz")
    with pytest.raises(DataError, match="'revenue'.*lacks it") as info:
        cxkit.read_events(path, columns=["revenue"])
    assert "channel" in str(info.value)  # the columns that exist
    with pytest.raises(DataError, match="a list of names"):
        cxkit.read_events(path, events=5)
    with pytest.raises(DataError, match="a list of names"):
        cxkit.read_events(path, columns=[None])


OPTIONS = [
    {},
    {"exclude": "support_ticket"},
    {"strict": True},
    {"entry": "first", "window": "3D"},
    {"complete_only": True, "window": "10D"},
    {"by": "channel"},
    {"step_windows": {"purchase": "6h"}},
]


@pytest.mark.parametrize("fmt", ["csv.gz", "parquet-pandas"])
@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
def test_the_funnel_of_a_path_is_the_funnel_of_the_whole_log(tmp_path, fmt, options):
    path = write(log(), tmp_path / FORMATS[fmt], fmt)
    whole = cxkit.read_events(path)
    expected = cxkit.funnel(whole, FUNNEL, **options)
    got = cxkit.funnel(path, FUNNEL, **options)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs == expected.attrs  # the same end of the data: open windows alike
    assert expected.attrs["entrants"] > 100


def test_the_funnel_of_the_sample_file():
    path = cxkit.sample_dir() / "events.csv.gz"
    expected = cxkit.funnel(cxkit.read_events(path), STEPS)
    got = cxkit.funnel(str(path), STEPS)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs["open_windows"] == expected.attrs["open_windows"] > 0

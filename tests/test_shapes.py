"""Data shapes unlike the sample (`cxkit.shapes`), and the whole report on each of them.

The shapes themselves are checked on every run (fast). The report on every shape is slow and
runs only with ``CXKIT_SHAPES=1`` (``CXKIT_SHAPES=1 pytest -m shapes -n 2``): it asserts that
every notebook runs and that no page shows a reader nan, inf, NaT, None, True/False, a
traceback or an exception name.
"""

import os

import numpy as np
import pandas as pd
import pytest

import cxkit
from cxkit.data import DataError
from cxkit.data.profile import segment_columns
from cxkit.data.spec import read_spec
from cxkit.report import build_report
from cxkit.shapes import CLICKSTREAM_EVENTS, OWN_COLUMN_NAMES, SHAPES, shape_tables, write_shape

pytestmark = pytest.mark.shapes

REPORTS = pytest.mark.skipif(
    os.environ.get("CXKIT_SHAPES") != "1",
    reason="the report on every data shape takes minutes; run with CXKIT_SHAPES=1",
)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """name -> folder, written once per module."""
    made = {}

    def get(name):
        if name not in made:
            made[name] = write_shape(name, tmp_path_factory.mktemp(name))
        return made[name]

    return get


def _per_person_funnel_span(journey):
    ev = journey.events.merge(journey.customers[["customer_id", "signup_at"]])
    pre = ev[ev["timestamp"] <= ev["signup_at"]]
    times = pre.groupby("customer_id", observed=True)["timestamp"]
    return times.max() - times.min()


def test_every_shape_is_described():
    assert len(SHAPES) == 10
    for name, text in SHAPES.items():
        assert text.endswith(".") and len(text) < 200, name
    with pytest.raises(DataError, match="one of no_segments"):
        write_shape("no_such_shape", "/nonexistent")


@pytest.mark.parametrize("name", ["minutes", "csat_only", "years"])
def test_shapes_are_deterministic(tmp_path, name):
    a = write_shape(name, tmp_path / "a", customers=120, seed=3)
    b = write_shape(name, tmp_path / "b", customers=120, seed=3)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert "truth.json" not in files  # like a real export: no answers


def test_no_segments(folders):
    j = cxkit.read_journey(folders("no_segments"))
    assert not {"channel", "device"} & set(j.events.columns)
    assert not {"acquisition_channel", "device"} & set(j.customers.columns)
    assert segment_columns(j, "events") == []


def test_no_surveys(folders):
    folder = folders("no_surveys")
    assert not list(folder.glob("surveys*"))
    j = cxkit.read_journey(folder)
    assert len(j.surveys) == 0 and len(j.customers) > 200


def test_csat_only(folders):
    folder = folders("csat_only")
    assert pd.read_csv(folder / "surveys.csv", nrows=1).columns.tolist() == [
        "customer_id",
        "timestamp",
        "survey",
        "score",
    ]
    j = cxkit.read_journey(folder)
    s = j.surveys
    assert set(s["survey"]) == {"csat"} and s["score"].between(1, 5).all()
    per_customer = s.groupby("customer_id").size()
    assert per_customer.median() >= 3  # ratings: many answers per customer
    assert s["timestamp"].max() <= j.observed_at
    first_buy = j.customers.set_index("customer_id")["signup_at"]
    assert (s["timestamp"] > s["customer_id"].map(first_buy)).all()  # after buying something


def test_no_churn_dates(folders):
    j = cxkit.read_journey(folders("no_churn_dates"))
    assert "churned_at" not in pd.read_csv(folders("no_churn_dates") / "customers.csv", nrows=1)
    assert j.business_model == "non-contractual"


def test_events_only(folders):
    folder = folders("events_only")
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "events.csv"]
    events = pd.read_csv(folder / "events.csv")
    assert set(events["event"]) <= set(CLICKSTREAM_EVENTS)
    assert (events["event"] == "purchase").sum() > 200
    j = cxkit.read_journey(folder)
    assert j.business_model == "non-contractual"
    assert len(j.customers) == events.loc[events["event"] == "purchase", "customer_id"].nunique()


def test_minutes(folders):
    j = cxkit.read_journey(folders("minutes"))
    span = _per_person_funnel_span(j)
    assert pd.Timedelta(minutes=10) < span.median() < pd.Timedelta(hours=3)
    assert span.max() < pd.Timedelta(days=1)
    before, _ = cxkit.simulate(customers=300, seed=0)
    assert span.median() < _per_person_funnel_span(before).median() / 5
    # the same events in the same order for every person; signup is the first purchase
    key = ["customer_id", "timestamp"]
    order = j.events.sort_values(key, kind="stable")["event"].astype(str).tolist()
    assert order == before.events.sort_values(key, kind="stable")["event"].astype(str).tolist()
    buys = j.events[j.events["event"] == "purchase"].groupby("customer_id", observed=True)
    first = buys["timestamp"].min()
    signup = j.customers.set_index("customer_id")["signup_at"]
    assert (first.reindex(signup.index) == signup).all()


def test_years(folders):
    j = cxkit.read_journey(folders("years"))
    ev = j.events
    assert set(ev["event"]) == {"purchase"} and ev["value"].gt(0).all()
    assert ev["timestamp"].max() - ev["timestamp"].min() > pd.Timedelta(days=3.5 * 365)
    gaps = ev.sort_values(["customer_id", "timestamp"]).groupby("customer_id", observed=True)
    gaps = gaps["timestamp"].diff().dropna()
    assert pd.Timedelta(days=30) < gaps.median() < pd.Timedelta(days=120)
    assert "churned_at" not in pd.read_csv(folders("years") / "customers.csv", nrows=1)
    first = ev.groupby("customer_id", observed=True)["timestamp"].min()
    signup = j.customers.set_index("customer_id")["signup_at"]
    assert (first.reindex(signup.index) == signup).all()
    assert len(j.customers) == 300 and j.business_model == "non-contractual"


def test_one_level(folders):
    j = cxkit.read_journey(folders("one_level"))
    assert segment_columns(j, "events") == [] and segment_columns(j, "customers") == []
    for col in ("channel", "device"):
        assert j.events[col].nunique() == 1
    for col in ("plan", "acquisition_channel", "device", "region", "loyalty_tier"):
        assert j.customers[col].nunique() == 1
    assert j.surveys["stage"].nunique() == 1 and j.surveys["touchpoint"].nunique() == 1


def test_tiny(folders):
    j = cxkit.read_journey(folders("tiny"))
    assert 30 <= len(j.customers) <= 80


def test_own_names(folders):
    folder = folders("own_names")
    spec = read_spec(folder)
    assert spec.tables["events"] == OWN_COLUMN_NAMES
    header = pd.read_csv(folder / "events.csv", nrows=0).columns
    assert set(header) == set(OWN_COLUMN_NAMES.values())
    events = pd.read_csv(folder / "events.csv", usecols=["action"])["action"]
    steps = spec.funnel["steps"]
    named = {e for v in steps.values() for e in ([v] if isinstance(v, str) else v)}
    assert named <= set(events) and list(steps)[-1] == "order"
    assert not set(events) & {"site_visit", "purchase", "add_to_cart"}
    j = cxkit.read_journey(folder)
    assert np.isin(list(named), j.events["event"].astype(str)).all()
    assert j.spec.label("page_view") == "Visited the site"


@pytest.mark.slow
@REPORTS
@pytest.mark.parametrize("name", list(SHAPES))
def test_report_on_shape(tmp_path, name, folders, assert_readable):
    folder = folders(name)
    build_report(folder, tmp_path, progress=False)  # a ReportError names each failing cell
    assert_readable(tmp_path)
    assert "This notebook failed" not in (tmp_path / "index.html").read_text()


def test_shape_tables_are_canonical_except_own_names():
    files = shape_tables("no_segments", customers=80, seed=1)
    assert set(files) == {"events.csv.gz", "customers.csv", "surveys.csv", "README.md"}
    assert {"customer_id", "timestamp", "event"} <= set(files["events.csv.gz"].columns)

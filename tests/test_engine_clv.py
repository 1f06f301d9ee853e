"""clv_summary on DuckDB (through Ibis) equals the pandas engine."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxkit
from cxkit.data import DataError, journey_from_tables
from cxkit.data.journey import customers_from_events
from cxkit.data.spec import Spec

pytest.importorskip("ibis")
pytest.importorskip("duckdb")

from cxkit.engine import EngineJourney  # noqa: E402

T0 = pd.Timestamp("2024-01-01")


def _same(a, b):
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs == b.attrs


def _both(journey, backend, **options):
    """Both engines' results (or the DataError each raised, as text)."""
    out = []
    for data in (journey, EngineJourney.from_frames(journey, backend=backend)):
        try:
            out.append(cxkit.clv_summary(data, **options))
        except DataError as error:
            out.append(str(error))
    return out


@pytest.fixture(scope="module")
def sample(backend):
    journey = cxkit.load_sample()
    return journey, EngineJourney.from_frames(journey, backend=backend)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"time_unit": "D"},
        {"time_unit": "M", "observed_at": "2024-10-01"},
        {"event": ["purchase", "checkout"], "time_unit": "Y"},
        {"value": None},
    ],
)
def test_clv_summary_on_the_sample_equals_pandas(sample, options):
    journey, engine = sample
    _same(cxkit.clv_summary(journey, **options), cxkit.clv_summary(engine, **options))


@st.composite
def journeys(draw):
    """A few customers' events over ~10 days at hour resolution: several purchases on one
    day, purchases after observed_at, missing and zero amounts, single purchases; the value
    column sometimes absent; sometimes a spec naming the purchases."""
    n = draw(st.integers(1, 30))
    events = pd.DataFrame(
        {
            "customer_id": draw(
                st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=n, max_size=n)
            ),
            "timestamp": T0
            + pd.to_timedelta(draw(st.lists(st.integers(0, 240), min_size=n, max_size=n)), "h"),
            "event": draw(
                st.lists(st.sampled_from(["visit", "purchase", "order"]), min_size=n, max_size=n)
            ),
        }
    )
    amounts = draw(st.sampled_from(["none", "column", "all-missing"]))
    if amounts == "column":
        events["value"] = draw(
            st.lists(st.sampled_from([np.nan, 0.0, 1.0, 2.5, 10.0]), min_size=n, max_size=n)
        )
    elif amounts == "all-missing":
        events["value"] = np.nan
    spec = draw(
        st.sampled_from(
            [
                Spec(),
                Spec(business_model="non-contractual", activity=["order"]),
                Spec(funnel={"steps": ["visit", "purchase"]}),
            ]
        )
    )
    return journey_from_tables(
        events, customers_from_events(events), observed_at=T0 + pd.Timedelta("8D"), spec=spec
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    journeys(),
    st.sampled_from(
        [
            {},
            {"time_unit": "D"},
            {"observed_at": "2024-01-05 12:00"},
            {"event": "purchase"},
            {"event": ["purchase", "order"], "time_unit": "M"},
            {"value": None},
        ]
    ),
)
def test_clv_summary_equals_pandas_on_random_journeys(backend, journey, options):
    a, b = _both(journey, backend, **options)
    if isinstance(a, str):
        assert a == b
    else:
        _same(a, b)


def test_hand_computed(backend):
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c", "c"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 09:00",  # a's first day (not counted)
                    "2024-01-08 10:00",  # a's repeat day: 20 + 5, one purchase
                    "2024-01-08 18:00",
                    "2024-01-15 12:00",  # a's second repeat day, amount missing
                    "2024-01-10 00:00",  # b: a single purchase
                    "2024-01-03 00:00",  # c: zero-amount repeat
                    "2024-01-05 00:00",
                ]
            ),
            "event": "purchase",
            "value": [10.0, 20.0, 5.0, np.nan, 5.0, 3.0, 0.0],
        }
    )
    late = pd.DataFrame(
        {
            "customer_id": ["a", "d"],
            "timestamp": pd.to_datetime(["2024-02-01", "2024-02-02"]),
            "event": "purchase",
            "value": [1.0, 1.0],
        }
    )
    engine = EngineJourney.from_frames(pd.concat([events, late]), backend=backend)
    table = cxkit.clv_summary(engine, observed_at="2024-01-29", time_unit="D", event="purchase")
    assert table["customer_id"].tolist() == ["a", "b", "c"]  # d bought after observed_at
    assert table["frequency"].tolist() == [2, 0, 1]
    assert table["recency"].tolist() == [14.0, 0.0, 2.0]
    assert table["T"].tolist() == [28.0, 19.0, 26.0]
    assert table["monetary_value"].tolist() == [25.0, 0.0, 0.0]  # a: only the known day
    assert table.attrs["excluded"] == {"purchases after observed_at": 2}
    assert table.attrs["missing_amounts"] == 1
    weeks = cxkit.clv_summary(engine, observed_at="2024-01-29", event="purchase")
    assert weeks["T"].tolist() == [4.0, 19 / 7, 26 / 7]


def test_frequency_only_with_amounts_present(backend):
    """value=None on events that have amounts: purchases are still the events with an amount,
    monetary_value is left out (pandas raised a KeyError here)."""
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-02"]),
            "event": ["buy", "buy", "visit"],
            "value": [1.0, 2.0, np.nan],
        }
    )
    journey = journey_from_tables(events, customers_from_events(events), observed_at="2024-01-10")
    a, b = _both(journey, backend, value=None, time_unit="D")
    _same(a, b)
    assert a.columns.tolist() == ["customer_id", "frequency", "recency", "T"]
    assert a["customer_id"].tolist() == ["a"]
    assert a["frequency"].tolist() == [1]


def test_purchase_like_names_in_first_seen_order(backend):
    """Without amounts or a spec the purchases are the events named like one, listed in the
    attrs sorted (the order they are met in depends on how the table was loaded)."""
    events = pd.DataFrame(
        {
            "customer_id": ["b", "a", "a", "a"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-05"]),
            "event": ["purchase", "transaction", "order", "visit"],
        }
    )
    journey = journey_from_tables(events, customers_from_events(events), observed_at="2024-01-10")
    a, b = _both(journey, backend)
    _same(a, b)
    assert b.attrs["purchases"] == "events named like a purchase: order, purchase, transaction"


def test_errors_equal_pandas(sample, backend):
    journey, _ = sample
    for options in [
        {"time_unit": "Q"},
        {"value": "amount"},
        {"event": "nothing"},
        {"observed_at": "2000-01-01"},
    ]:
        a, b = _both(journey, backend, **options)
        assert isinstance(a, str) and a == b
    with pytest.raises(DataError, match="engine journey"):
        from cxkit.engine.clv import clv_summary

        clv_summary(journey.events)

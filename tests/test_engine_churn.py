"""churn_dataset's rows, labels and features on DuckDB (through Ibis) equal the pandas engine."""

import warnings

import engine_journeys
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxkit

pytest.importorskip("ibis")
pytest.importorskip("duckdb")

from cxkit.engine import EngineJourney  # noqa: E402

T0 = pd.Timestamp("2024-01-01")


def _same(a, b):
    (Xa, ya), (Xb, yb) = a, b
    Xa, Xb = Xa.sort_index(), Xb.sort_index()
    assert set(Xa.columns) == set(Xb.columns)
    pd.testing.assert_frame_equal(Xa, Xb[Xa.columns], check_dtype=False, check_categorical=False)
    pd.testing.assert_series_equal(ya.sort_index(), yb.sort_index(), check_dtype=False)
    attrs = {k: v for k, v in Xb.attrs.items() if k != "engine"}
    assert attrs == Xa.attrs


@pytest.fixture(scope="module")
def sample(backend):
    journey = cxkit.load_sample()
    return journey, EngineJourney.from_frames(journey, backend=backend)


@pytest.mark.parametrize(
    "options",
    [
        {"cutoffs": ["2025-01-01", "2025-04-01"]},
        {"cutoffs": ["2025-02-01"], "lookback": "60D", "recent": "14D", "static": ["plan"]},
        {"cutoffs": ["2025-02-01", "2025-05-20"], "label": "inactivity"},
    ],
)
def test_churn_dataset_on_the_sample_equals_pandas(sample, options):
    journey, engine = sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(cxkit.churn_dataset(journey, **options), cxkit.churn_dataset(engine, **options))


@st.composite
def journeys(draw):
    ids, customers = draw(
        engine_journeys.customers(T0, max_customers=6, max_signup=40, max_churn=80)
    )
    n = draw(st.integers(1, 40))
    events = pd.DataFrame(
        {
            "customer_id": draw(st.lists(st.sampled_from([*ids, "x"]), min_size=n, max_size=n)),
            "timestamp": T0
            + pd.to_timedelta(draw(st.lists(st.integers(0, 2400), min_size=n, max_size=n)), "h"),
            "event": draw(
                st.lists(
                    st.sampled_from(["login", "buy", "support_ticket"]), min_size=n, max_size=n
                )
            ),
            "channel": draw(st.lists(st.sampled_from(["web", "app"]), min_size=n, max_size=n)),
            "value": draw(st.lists(st.sampled_from([np.nan, 1.0, 2.5]), min_size=n, max_size=n)),
        }
    )
    return events, customers


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    journeys(),
    st.sampled_from(
        [
            {"cutoffs": ["2024-02-20", "2024-03-10"]},
            {"cutoffs": ["2024-03-01"], "lookback": "20D", "recent": "5D"},
            {"cutoffs": ["2024-02-15", "2024-03-01"], "label": "inactivity", "horizon": "10D"},
        ]
    ),
)
def test_churn_dataset_equals_pandas_on_random_journeys(backend, data, options):
    from cxkit.data import journey_from_tables

    events, customers = data
    if customers["signup_at"].min() >= pd.Timestamp(options["cutoffs"][0]):
        return  # cutoffs before the first signup are refused by both
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        journey = journey_from_tables(events, customers, observed_at=T0 + pd.Timedelta("100D"))
        engine = EngineJourney.from_frames(journey, backend=backend)
        _same(cxkit.churn_dataset(journey, **options), cxkit.churn_dataset(engine, **options))


def test_hand_computed_features(backend):
    customers = pd.DataFrame(
        {
            "customer_id": ["a"],
            "signup_at": pd.to_datetime(["2024-01-01"]),
            "churned_at": pd.to_datetime(["2024-03-10"]),
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a"],
            "timestamp": pd.to_datetime(["2024-01-20", "2024-02-25", "2024-03-01"]),
            "event": ["buy", "buy", "support_ticket"],
        }
    )
    engine = EngineJourney.from_frames(
        events, customers, observed_at="2024-06-01", backend=backend
    )
    X, y = cxkit.churn_dataset(engine, ["2024-03-01"], lookback="30D", recent="10D")
    row = X.iloc[0]
    # the ticket at the cutoff itself is not used (no ticket feature at all); one purchase in
    # the 30 days, one in the last 10
    assert row["n_buy_30d"] == 1 and row["n_buy_10d"] == 1
    assert "n_support_ticket_30d" not in X.columns
    assert row["recency_days"] == 5.0 and row["tenure_days"] == 60.0
    assert y.tolist() == [1.0]  # churned 10 March, inside the 30-day horizon


@pytest.mark.parametrize("shape", [None, "no_churn_dates"])
def test_recent_churn_counts_equal_pandas(backend, shape, tmp_path):
    """The labels-only counts on the engine (cxkit.engine.labels) equal the pandas ones, with
    churn dates (the sample) and with inactivity labels (a shop without churn dates)."""
    from cxkit.churn.pipeline import recent_churn
    from cxkit.shapes import write_shape

    if shape is None:
        journey = cxkit.load_sample()
    else:
        write_shape(shape, tmp_path, customers=400, seed=2)
        journey = cxkit.read_journey(tmp_path)
    engine = EngineJourney.from_frames(journey, backend=backend)
    a, b = recent_churn(journey), recent_churn(engine)
    assert a["active"] > 50 and a["churned"] > 0
    assert {k: a[k] for k in ("active", "churned", "active_now")} == {
        k: b[k] for k in ("active", "churned", "active_now")
    }

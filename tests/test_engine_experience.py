"""RFM on DuckDB (through Ibis) equals the pandas engine."""

import pandas as pd
import pytest

import cxkit

pytest.importorskip("ibis")
pytest.importorskip("duckdb")

from cxkit.engine import EngineJourney  # noqa: E402


@pytest.fixture(scope="module")
def sample():
    journey = cxkit.load_sample()
    return journey, EngineJourney.from_frames(journey)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"event": "purchase"},
        {"observed_at": "2025-01-01"},
        {"event": ["purchase", "checkout"], "observed_at": "2024-10-01"},
    ],
)
def test_rfm_equals_pandas(sample, options):
    journey, engine = sample
    a, b = cxkit.rfm(journey, **options), cxkit.rfm(engine, **options)
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs == b.attrs


def test_rfm_hand_computed():
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-05", "2024-02-01"]),
            "event": ["buy", "buy", "buy", "buy"],
            "value": [10.0, 5.0, 1.0, 3.0],
        }
    )
    engine = EngineJourney.from_frames(events, observed_at="2024-01-10")
    table = cxkit.rfm(engine)
    assert table["customer_id"].tolist() == ["a", "b"]  # c bought after observed_at
    assert table["recency"].tolist() == [1.0, 5.0]
    assert table["frequency"].tolist() == [2, 1]
    assert table["monetary"].tolist() == [15.0, 1.0]
    assert table.attrs["excluded"] == {"qualifying events after observed_at": 1}

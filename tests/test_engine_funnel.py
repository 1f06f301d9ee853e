"""The funnel on DuckDB (through Ibis) equals the pandas engine, row for row."""

import warnings

import funnel_logs
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxkit

pytest.importorskip("ibis")
pytest.importorskip("duckdb")

from cxkit.engine import EngineJourney  # noqa: E402

T0 = pd.Timestamp("2024-03-01")


def logs():
    return funnel_logs.logs(
        T0,
        max_events=30,
        people=["p", "q", "r"],
        max_offset=12,
        step_windows=[None, "0s", "1min", "2h", "1D"],
    )


def both(frame, steps, backend, **options):
    engine = EngineJourney.from_frames(frame, observed_at=T0 + pd.Timedelta("3D"), backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = cxkit.funnel_table(frame, steps, observed_at=engine.observed_at, **options)
        b = cxkit.funnel_table(engine, steps, **options)
    a = a.assign(customer_id=a["customer_id"].astype(str))
    a = a.sort_values("customer_id").reset_index(drop=True)
    return a, b


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    logs(),
    st.sampled_from(
        [
            {},
            {"strict": True},
            {"exclude": ["D"]},
            {"entry": "first"},
            {"start": T0 + pd.Timedelta("5min"), "end": T0 + pd.Timedelta("2D")},
        ]
    ),
)
def test_duckdb_funnel_table_equals_pandas(backend, data, options):
    frame, steps, window, step_windows = data
    a, b = both(frame, steps, backend, window=window, step_windows=step_windows, **options)
    pd.testing.assert_frame_equal(a, b[a.columns], check_dtype=False)
    assert a.attrs["entrants"] == b.attrs["entrants"]
    assert a.attrs["events_after_observed_at"] == b.attrs["events_after_observed_at"]


def test_tied_rows_count_once_per_step(backend):
    # issue 12's rule: two purchase rows at one moment are two steps, never three
    frame = pd.DataFrame(
        {
            "customer_id": ["p"] * 3,
            "timestamp": [T0, T0, T0],
            "event": ["visit", "buy", "buy"],
        }
    )
    _, b = both(frame, ["visit", "buy", "buy", "buy"], backend)
    assert b["depth"].tolist() == [3]
    a, b = both(frame, ["buy", "buy"], backend)
    assert b["depth"].tolist() == [2] and b["entry_row"].tolist() == [1]


def _random_log(seed, n, people, days, **columns):
    """``n`` events of ``people`` over ``days`` days from T0; ``columns``: name -> choices."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "customer_id": rng.integers(0, people, n).astype(str),
            "timestamp": T0 + pd.to_timedelta(rng.integers(0, days * 24 * 60, n), unit="min"),
            "event": rng.choice(["visit", "cart", "buy", "help"], n, p=[0.5, 0.25, 0.15, 0.1]),
        }
    )
    for name, choices in columns.items():
        frame[name] = rng.choice(choices, n)
    return frame


def test_funnel_by_device_and_complete_only_match(backend):
    frame = _random_log(5, 3000, 300, 5, device=["mobile", "desktop"])
    engine = EngineJourney.from_frames(frame, observed_at=T0 + pd.Timedelta("5D"), backend=backend)
    steps = ["visit", "cart", "buy"]
    for options in ({"by": "device"}, {"complete_only": True}, {"strict": True, "window": "1D"}):
        a = cxkit.funnel(frame, steps, observed_at=engine.observed_at, **options)
        b = cxkit.funnel(engine, steps, **options)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
        assert {k: v for k, v in b.attrs.items() if k != "engine"} == a.attrs
    # hand check: people who reached step 1 are the people with a visit
    assert b["customers"].iloc[0] == frame.loc[frame.event == "visit", "customer_id"].nunique()


def test_drop_off_paths_match(backend):
    # what people did after their last step, on both engines (failed on DuckDB when the pandas
    # chains' positions flag reached the engine's funnel)
    frame = _random_log(11, 2000, 200, 3)
    engine = EngineJourney.from_frames(frame, observed_at=T0 + pd.Timedelta("3D"), backend=backend)
    steps = ["visit", "cart", "buy"]
    a = cxkit.drop_off_paths(frame, steps, step="cart", observed_at=engine.observed_at)
    b = cxkit.drop_off_paths(engine, steps, step="cart")
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False
    )
    assert a["droppers"].iloc[0] > 0 and set(a["length"]) == {1, 2, 3}

"""The engine's churn features do not pass through Python objects on the way back.

Ibis' DuckDB ``execute`` converts every column that holds a null into a list of Python objects
(then back); the wide feature table has a null in every count column (customers without events
in a lookback), so pulled back that way it cost several times the table in Python objects
(at 100M events, more than the machine's 24 GiB). ``tracemalloc`` sees Python objects and
NumPy arrays but not Arrow's or DuckDB's buffers, so its peak measures exactly that cost.
"""

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

import cxkit

pytest.importorskip("ibis")
pytest.importorskip("duckdb")

from cxkit.engine import EngineJourney  # noqa: E402


def test_churn_features_come_back_without_python_objects(backend):
    rng = np.random.default_rng(7)
    n_c, n_e = 20_000, 40_000
    ids = np.array([f"c{i:05d}" for i in range(n_c)], dtype=object)
    t0 = pd.Timestamp("2024-01-01")
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_at": t0 + pd.to_timedelta(rng.integers(0, 100, n_c), "D"),
            "churned_at": pd.NaT,
        }
    ).astype({"churned_at": "datetime64[ns]"})
    events = pd.DataFrame(
        {
            # a tenth of the customers have events: the others' counts come back as nulls
            "customer_id": ids[rng.integers(0, n_c // 10, n_e)],
            "timestamp": t0 + pd.to_timedelta(rng.integers(0, 300 * 24, n_e), "h"),
            "event": rng.choice(["login", "buy", "support_ticket", "email_open"], n_e),
            "channel": rng.choice(["web", "app"], n_e),
            "value": np.where(rng.random(n_e) < 0.2, 10.0, np.nan),
        }
    )
    engine = EngineJourney.from_frames(
        events, customers, observed_at="2024-12-31", backend=backend
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracemalloc.start()
        X, y = cxkit.churn_dataset(engine, ["2024-06-01", "2024-09-01"])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert len(X) > 35_000  # two cutoffs of 20,000 customers (a few not signed up yet)
    size = X.memory_usage(deep=True).sum()
    # measured: 3.4× the feature table (6.1× before, through Ibis' execute)
    assert peak < 4.5 * size, (peak / 2**20, size / 2**20)

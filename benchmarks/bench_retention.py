"""Speed of the retention reductions on a million customers and ten million events.

Run: ``python benchmarks/bench_retention.py [--customers 1000000] [--events 10000000]``.
Prints seconds per step and, when DuckDB is installed, the same inactivity (lapse) reduction as
one SQL query for comparison (and checks both agree on the number of churned customers).
Synthetic tables in the canonical shape are built with numpy (a few seconds), seeded.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import cxkit
from cxkit.data import journey_from_tables


def make_tables(n_customers, n_events, seed=0):
    rng = np.random.default_rng(seed)
    start = np.datetime64("2022-01-01", "ns").astype("int64")
    span = 3 * 365 * 86_400 * 10**9
    ids = np.array([f"C{i:07d}" for i in range(n_customers)], dtype=object)
    signup = start + rng.integers(0, span, n_customers)
    life = (rng.exponential(400, n_customers) * 86_400e9).astype("int64")
    churn = signup + life
    churned_at = pd.to_datetime(np.where(churn < start + span, churn, np.iinfo("int64").min))
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_at": pd.to_datetime(signup),
            "churned_at": churned_at,
            "plan": pd.Categorical(rng.choice(["monthly", "annual"], n_customers, p=[0.7, 0.3])),
            "acquisition_channel": pd.Categorical(
                rng.choice(["ads", "social", "email", "referral", "organic"], n_customers)
            ),
        }
    )
    who = np.sort(rng.integers(0, n_customers, n_events))
    end = np.minimum(churn, start + span)[who]
    ts = signup[who] + (rng.random(n_events) * (end - signup[who])).astype("int64")
    events = pd.DataFrame(
        {
            "customer_id": pd.Categorical.from_codes(who, categories=ids),
            "timestamp": pd.to_datetime(ts),
            "event": pd.Categorical.from_codes(
                rng.integers(0, 4, n_events),
                categories=["app_login", "email_open", "purchase", "support_ticket"],
            ),
        }
    ).sort_values(["customer_id", "timestamp"], kind="stable", ignore_index=True)
    return customers, events


def timed(label, func, *args, **kwargs):
    t0 = time.perf_counter()
    out = func(*args, **kwargs)
    seconds = time.perf_counter() - t0
    print(f"{label:<48} {seconds:7.2f} s", flush=True)
    return out, seconds


def duckdb_lapses(events, observed_at, inactivity_days):
    import duckdb

    con = duckdb.connect()
    con.register(
        "ev",
        events[["customer_id", "timestamp"]].assign(customer_id=events["customer_id"].astype(str)),
    )
    sql = f"""
        WITH g AS (
            SELECT customer_id, timestamp,
                   coalesce(lead(timestamp) OVER w, TIMESTAMP '{observed_at}') - timestamp AS gap
            FROM ev WINDOW w AS (PARTITION BY customer_id ORDER BY timestamp)
        )
        SELECT count(DISTINCT customer_id) FROM g
        WHERE gap >= INTERVAL {inactivity_days} DAY
    """
    return con.execute(sql).fetchone()[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    args = parser.parse_args(argv)
    print(f"retention benchmark: {args.customers:,} customers, {args.events:,} events")
    (customers, events), _ = timed(
        "build synthetic tables (not cxkit)", make_tables, args.customers, args.events
    )
    journey = journey_from_tables(events, customers)
    table, _ = timed("survival_table", cxkit.survival_table, journey)
    activity, _ = timed(
        "activity_table (60 days)", cxkit.activity_table, journey, inactivity="60D"
    )
    bare, _ = timed(
        "activity_table, events only",
        cxkit.activity_table,
        events,
        inactivity="60D",
        observed_at=journey.observed_at,
    )
    timed("cohort_retention, contract, monthly", cxkit.cohort_retention, journey)
    timed("cohort_retention, activity, monthly", cxkit.cohort_retention, journey, kind="activity")
    timed("kaplan_meier by plan (statistics)", cxkit.kaplan_meier, table, by="plan")
    try:
        n_duck, _ = timed(
            "DuckDB: customers with a 60-day lapse (SQL)",
            duckdb_lapses,
            events,
            journey.observed_at,
            60,
        )
        print(f"  churned: cxkit {int(bare['churned'].sum()):,}, DuckDB {n_duck:,}")
    except ImportError:
        print("DuckDB not installed: comparison skipped")
    print(
        f"  churned (contract) {table['churned'].mean():.1%}, "
        f"(60-day inactivity) {activity['churned'].mean():.1%}"
    )


if __name__ == "__main__":
    main()

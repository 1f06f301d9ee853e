"""Feature building for churn: cxkit.churn_dataset vs the same features as one DuckDB query.

Simulates a journey of about 10 million events (``--customers`` sets the size), builds features
for 12 monthly cutoffs with :func:`cxkit.churn_dataset`, then computes the same features
(rows, tenure, recency, counts per event and per channel over the lookback and its last 30 days,
spend, latest NPS/CSAT/CES) with one DuckDB SQL query in the same process, checks that both
agree, and prints the time ratio and peak memory. Target: cxkit within 2× DuckDB.

Run: ``python benchmarks/bench_churn.py`` (``make bench``); never part of ``make test``.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd

import cxkit

LOOKBACK, RECENT = 90, 30


def build_sql(events, cutoffs, observed):
    types = sorted(events["event"].cat.categories)
    channels = sorted(events["channel"].cat.categories)
    cut_list = ", ".join(f"TIMESTAMP '{c}'" for c in cutoffs)
    counts = []
    for col, values, prefix in (("event", types, "n_"), ("channel", channels, "n_channel_")):
        for v in values:
            counts.append(f"count(*) FILTER (WHERE e.{col} = '{v}') AS {prefix}{v}_{LOOKBACK}d")
            counts.append(
                f"count(*) FILTER (WHERE e.{col} = '{v}' AND e.timestamp >= "
                f"r.cutoff - INTERVAL {RECENT} DAY) AS {prefix}{v}_{RECENT}d"
            )
    surveys = []
    for kind in ("nps", "csat", "ces"):
        surveys.append(f"""
        {kind} AS (
          SELECT r.customer_id, r.cutoff, s.score AS {kind}_latest,
                 date_diff('second', s.timestamp, r.cutoff) / 86400.0 AS days_since_{kind}
          FROM rows r ASOF LEFT JOIN (SELECT * FROM surveys WHERE survey = '{kind}') s
            ON s.customer_id = r.customer_id AND r.cutoff > s.timestamp)""")
    return f"""
    WITH cut AS (SELECT unnest([{cut_list}]) AS cutoff),
    rows AS (
      SELECT c.customer_id, cut.cutoff,
             date_diff('second', c.signup_at, cut.cutoff) / 86400.0 AS tenure_days
      FROM customers c CROSS JOIN cut
      WHERE c.signup_at < cut.cutoff
        AND (c.churned_at IS NULL OR c.churned_at > cut.cutoff
             OR c.churned_at > TIMESTAMP '{observed}')),
    ev AS (SELECT customer_id::VARCHAR AS customer_id, timestamp, event::VARCHAR AS event,
                  channel::VARCHAR AS channel, value FROM events),
    windowed AS (
      SELECT r.customer_id, r.cutoff,
             count(*) AS n_events_{LOOKBACK}d,
             count(*) FILTER (WHERE e.timestamp >= r.cutoff - INTERVAL {RECENT} DAY)
               AS n_events_{RECENT}d,
             {", ".join(counts)},
             coalesce(sum(e.value), 0) AS spend_{LOOKBACK}d,
             coalesce(sum(e.value) FILTER (WHERE e.timestamp >= r.cutoff - INTERVAL {RECENT} DAY),
                      0) AS spend_{RECENT}d
      FROM rows r JOIN ev e
        ON e.customer_id = r.customer_id
       AND e.timestamp >= r.cutoff - INTERVAL {LOOKBACK} DAY AND e.timestamp < r.cutoff
      GROUP BY r.customer_id, r.cutoff),
    recency AS (
      SELECT r.customer_id, r.cutoff,
             date_diff('second', e.timestamp, r.cutoff) / 86400.0 AS recency_days
      FROM rows r ASOF LEFT JOIN ev e
        ON e.customer_id = r.customer_id AND r.cutoff > e.timestamp),
    {",".join(surveys)}
    SELECT * EXCLUDE (customer_id, cutoff), r.customer_id, r.cutoff
    FROM rows r
    LEFT JOIN windowed USING (customer_id, cutoff)
    LEFT JOIN recency USING (customer_id, cutoff)
    LEFT JOIN nps USING (customer_id, cutoff)
    LEFT JOIN csat USING (customer_id, cutoff)
    LEFT JOIN ces USING (customer_id, cutoff)
    """


def main(argv=None):
    import duckdb

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=118_000, help="about 85 events each")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    journey, _ = cxkit.simulate(customers=args.customers, seed=args.seed)
    print(
        f"simulated {len(journey.events):,} events, {len(journey.customers):,} customers "
        f"in {time.perf_counter() - t0:.0f} s"
    )
    cutoffs = pd.date_range(end=journey.observed_at.normalize(), periods=12, freq="MS")

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = cxkit.churn_dataset(
            journey, list(cutoffs), lookback=f"{LOOKBACK}D", recent=f"{RECENT}D"
        )
    t_cxkit = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"cxkit.churn_dataset: {t_cxkit:.2f} s, {len(X):,} rows × {X.shape[1]} features, "
        f"peak traced memory {peak / 2**20:,.0f} MiB"
    )

    con = duckdb.connect()
    events, customers, surveys = journey.events, journey.customers, journey.surveys
    con.register("events", events)
    con.register("customers", customers[["customer_id", "signup_at", "churned_at"]])
    con.register("surveys", surveys[["customer_id", "timestamp", "survey", "score"]])
    sql = build_sql(events, cutoffs.date, journey.observed_at)
    t0 = time.perf_counter()
    ref = con.execute(sql).df()
    t_duck = time.perf_counter() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(
        f"DuckDB {duckdb.__version__} ({threads} threads): {t_duck:.2f} s, {len(ref):,} rows; "
        f"process peak RSS {rss1:,.0f} MiB "
        f"(before both: {rss0:,.0f} MiB)"
    )

    # the same numbers?
    ref["cutoff"] = pd.to_datetime(ref["cutoff"])
    ref = ref.set_index(["customer_id", "cutoff"]).sort_index()
    mine = X.sort_index()
    common = [c for c in mine.columns if c in ref.columns]
    assert len(ref) == len(mine), (len(ref), len(mine))
    a = mine[common].to_numpy(float)
    b = ref.loc[mine.index, common].to_numpy(float)
    b = np.where(np.isnan(b) & (a == 0), 0, b)  # counts of nothing: NULL in SQL joins
    worst = np.nanmax(np.abs(a - b)) if a.size else 0.0
    same_nan = (np.isnan(a) == np.isnan(b)).all()
    print(
        f"agreement on {len(common)} features: max abs difference {worst:.2e}, "
        f"missing values identical: {same_nan}"
    )
    print(f"ratio cxkit / DuckDB: {t_cxkit / t_duck:.2f} (target ≤ 2)")


if __name__ == "__main__":
    main()

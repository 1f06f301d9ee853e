"""Cost per event of the funnel and of churn_dataset as the journey grows (issue 16).

Reads a simulated journey folder (e.g. one ``bench_report.py`` wrote), optionally repeats it
``--copies`` times with the customer ids suffixed per copy (the same shape, k times the
people and events: a 30M-event journey from a 10M one without simulating it), and prints, per
run, wall and CPU seconds and CPU nanoseconds per event of

* ``cxkit.funnel(events, STEPS, window="14D")``;
* ``cxkit.churn_dataset(journey, 12 monthly cutoffs, lookback="90D", recent="30D")``.

CPU time, not wall time, is the figure to compare on a shared machine; the load average is
printed beside it (memory-bound code also slows in CPU time when other jobs share the caches,
so compare sizes measured in one sitting).

Run: ``python benchmarks/bench_per_event.py DIR [--copies 3] [--repeat 2]``; never part of
``make test``. Results: ``benchmarks/RESULTS_report.md``.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import time
import warnings

import numpy as np
import pandas as pd

import cxkit
from cxkit.data import Journey
from cxkit.funnel import STEPS


def _cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _suffixed(ids, k):
    return [ids.astype(str) + (f"_{i}" if i else "") for i in range(k)]


def repeated(journey, k):
    """The journey k times over, copy i's customer ids suffixed with ``_i`` (events stay
    sorted by customer: copy i's category codes follow copy i-1's)."""
    if k == 1:
        return journey
    ev = journey.events
    cols = {}
    for c in ev.columns:
        s = ev[c]
        if c == "customer_id":
            cats = s.cat.categories
            codes = s.cat.codes.to_numpy().astype(np.int64)
            cols[c] = pd.Categorical.from_codes(
                np.concatenate(
                    [np.where(codes >= 0, codes + i * len(cats), -1) for i in range(k)]
                ),
                categories=pd.Index(np.concatenate(_suffixed(cats, k))),
            )
        elif isinstance(s.dtype, pd.CategoricalDtype):
            cols[c] = pd.Categorical.from_codes(np.tile(s.cat.codes.to_numpy(), k), dtype=s.dtype)
        else:
            cols[c] = np.tile(s.to_numpy(), k)

    def table(t):
        return pd.concat(
            [t.assign(customer_id=ids) for ids in _suffixed(t["customer_id"], k)],
            ignore_index=True,
        )

    return Journey(
        pd.DataFrame(cols), table(journey.customers), table(journey.surveys), journey.observed_at
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        journey = repeated(cxkit.read_journey(args.folder), args.copies)
    n = len(journey.events)
    cutoffs = list(pd.date_range(end=journey.observed_at.normalize(), periods=12, freq="MS"))
    jobs = {
        "funnel": lambda: cxkit.funnel(journey.events, STEPS, window="14D"),
        "churn_dataset": lambda: cxkit.churn_dataset(
            journey, cutoffs, lookback="90D", recent="30D"
        ),
    }
    print("| step | events | wall s | CPU s | CPU ns / event | load |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, job in jobs.items():
        for _ in range(args.repeat):
            gc.collect()
            t0, c0 = time.perf_counter(), _cpu()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                job()
            wall, cpu = time.perf_counter() - t0, _cpu() - c0
            print(
                f"| {name} | {n:,} | {wall:.2f} | {cpu:.2f} | {1e9 * cpu / n:.0f} | "
                f"{os.getloadavg()[0]:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

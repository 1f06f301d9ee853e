"""Benchmark: cxkit.funnel against ClickHouse's windowFunnel (chdb) on the same events.

For 1M, 3M and 10M simulated events (``cxkit.simulate``), in the same run:

* ``cxkit.funnel(events, STEPS, window="14D")`` on the canonical events DataFrame
  (categoricals, as ``read_events`` returns it), end to end: sort check, reduction, tidy table;
* chdb: ``windowFunnel(1209600)(ts, ev IN (...), ...)`` per person, then people per level, on a
  DataFrame prepared for it (integer person and event codes, timestamps as UInt32 seconds —
  the sample is to the second). Preparing that frame is timed separately and not counted.

Checks that the people per step agree exactly, and prints the time ratio (best of ``--repeat``)
and the peak memory each one added: for cxkit the peak traced by tracemalloc (numpy and pandas
allocate through it), for chdb the growth of resident memory (Linux VmHWM, reset before).

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_funnel.py [--sizes 1 3 10]``.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

import cxkit
from cxkit.funnel import STEPS

EVENTS_PER_CUSTOMER = 84  # the simulator makes ~1M events per 12,000 customers
WINDOW_SECONDS = 14 * 24 * 3600


def _status(field):
    """A /proc/self/status field in bytes, or None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def timed(func, repeat):
    """Best wall time of ``repeat`` runs, and the last result."""
    best = np.inf
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t0)
    return result, best


def traced_peak(func):
    """Peak bytes allocated through Python's allocators (numpy and pandas report there)."""
    gc.collect()
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def rss_peak(func):
    """Peak resident memory added while func runs (Linux VmHWM, reset first); None elsewhere.

    For chdb, whose C++ allocations tracemalloc cannot see."""
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
    except OSError:
        return None
    before = _status("VmRSS")
    func()
    return _status("VmHWM") - before


def chdb_frame(events):
    codes = events["event"].cat.categories
    frame = pd.DataFrame(
        {
            "uid": events["customer_id"].cat.codes.to_numpy().astype(np.int32),
            "ts": (events["timestamp"].to_numpy().view("int64") // 10**9).astype(np.uint32),
            "ev": events["event"].cat.codes.to_numpy().astype(np.int16),
        }
    )
    conds = []
    for step in STEPS.values():
        names = [step] if isinstance(step, str) else step
        ids = [str(codes.get_loc(n)) for n in names if n in codes]
        conds.append(f"ev IN ({', '.join(ids) or '-1'})")
    return frame, ", ".join(conds)


def run_chdb(frame, conds):
    import chdb

    sql = (
        f"SELECT level, count() AS people FROM (SELECT uid, windowFunnel({WINDOW_SECONDS})"
        f"(ts, {conds}) AS level FROM Python(frame) GROUP BY uid) GROUP BY level"
    )
    out = chdb.query(sql, "DataFrame")
    per_level = out.set_index("level")["people"].reindex(range(len(STEPS) + 1), fill_value=0)
    reached = per_level[::-1].cumsum()[::-1].iloc[1:]  # people with level >= k
    return reached.to_numpy()


def bench_size(size, repeat):
    """One row of the result: both engines on ``size`` million simulated events."""
    customers = int(size * 1e6 / EVENTS_PER_CUSTOMER)
    t0 = time.perf_counter()
    journey, _ = cxkit.simulate(customers=customers, seed=1)
    events = journey.events
    made = time.perf_counter() - t0
    t0 = time.perf_counter()
    frame, conds = chdb_frame(events)
    prep = time.perf_counter() - t0

    def ours_run():
        return cxkit.funnel(events, STEPS, window="14D")

    def theirs_run():
        return run_chdb(frame, conds)

    ours, best_ours = timed(ours_run, repeat)
    theirs, best_theirs = timed(theirs_run, repeat)
    mem_ours = traced_peak(ours_run)
    mem_theirs = rss_peak(theirs_run)
    agree = np.array_equal(ours["customers"].to_numpy(), theirs)
    if not agree:
        print("cxkit:", ours["customers"].tolist(), "\nchdb: ", list(theirs))
    return {
        "events": len(events),
        "people": events["customer_id"].nunique(),
        "cxkit_s": best_ours,
        "chdb_s": best_theirs,
        "ratio": best_ours / best_theirs,
        "cxkit_peak_mb": mem_ours / 2**20,
        "chdb_peak_mb": np.nan if mem_theirs is None else mem_theirs / 2**20,
        "chdb_prep_s": prep,
        "counts_agree": agree,
        "simulate_s": made,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=float,
        default=[1, 3, 10],
        help="millions of events (default: 1 3 10)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes:
        rows.append(bench_size(size, args.repeat))
        print(pd.DataFrame(rows[-1:]).round(3).to_string(index=False), flush=True)
        gc.collect()
    table = pd.DataFrame(rows)
    table["cxkit_ns_per_event"] = 1e9 * table["cxkit_s"] / table["events"]
    print(f"\nfunnel vs ClickHouse windowFunnel (chdb), best of {args.repeat}")
    print(table.round(3).to_string(index=False))
    if not table["counts_agree"].all():
        raise SystemExit("counts differ between cxkit and chdb")


if __name__ == "__main__":
    main()

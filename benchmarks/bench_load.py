"""Benchmark: from a file to the funnel table, cxkit against DuckDB's SQL on the same file.

For each size (millions of simulated events, ``cxkit.simulate``, rows in time order as an
export would be), the events are written once as Parquet by pandas (categorical text: pandas
repeats each dictionary whole in every row group), as Parquet with text columns and µs
timestamps (as DuckDB, Spark or a warehouse writes it) and as CSV.gz, then, interleaved and
each in a fresh process:

* **cxkit**: ``cxkit.funnel(cxkit.read_events(path), STEPS, window="14D")``: every check of
  the loader, categoricals, sorted by customer and time, then the funnel;
* **cxkit, funnel of the file** (``cxkit_path``): what ``cxkit.funnel(path, STEPS)`` does,
  ``read_events(path, columns=[], events=<the steps' events>)`` then the funnel: the three
  columns the funnel uses and the rows of its events (every row still checked), as DuckDB's
  query reads them; ``path_ratio`` is its time over DuckDB's;
* **DuckDB**: one SQL query on the same file giving the people per step with the same
  semantics (every step-1 event an entry, each later step the earliest matching event at or
  after the previous one, within 14 days of the entry; ``ASOF JOIN`` per step);
* **DuckDB, the whole table**: the loader's own peer, ``SELECT * ... ORDER BY customer_id,
  timestamp`` on the same file into an Arrow table (every column, sorted as ``read_events``
  sorts them; no checks, text stays Arrow strings): ``load_vs_table`` is cxkit's load time over
  this one;
* **cxkit, careful path** (``--before``): the loader with its Arrow fast path switched off, as
  cxkit read files before (one run; it is slow);
* **cxkit, baseline** (``--baseline DIR``): the same run with another checkout's code (e.g.
  ``/work/main`` before a change), interleaved with the others, for before/after in one run.

Prints, per size and format, the best time of ``--repeat`` runs, the ratio cxkit / DuckDB, and
each run's peak resident memory above the process's memory before reading (Linux VmHWM), also
as a multiple of the loaded events table (``memory_usage(deep=True)``). The people per step must
agree. Then ``read_events`` on an in-memory DataFrame of raw strings (every column text, as
``pd.read_csv(dtype=str)`` gives), fast path against careful path.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_load.py [--sizes 1 3] [--before]``.
Only one size is in memory at a time; the files go to a temporary folder that is removed
(``--data DIR``: kept in ``DIR/<size>M`` and reused by later runs).
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_funnel import _status  # a /proc/self/status field in bytes (this folder is on the path)

EVENTS_PER_CUSTOMER = 112  # the simulator makes ~1.1M events per 10,000 customers
WINDOW = "14D"


def _reset_peak():
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
    except OSError:
        pass


def duckdb_sql(path, steps, window_days=14):
    """The funnel as DuckDB SQL: people per depth, same semantics as cxkit.funnel.

    Every step-1 event is an entry; step k is the earliest event of step k at or after the
    time of step k - 1 (``ASOF JOIN``), kept if it is within ``window_days`` of the entry; a
    missed step leaves the time empty, so the chain stops there. A person's depth is the
    deepest chain over their entries. (The steps here have no event in common, so the "another
    row" rule of cxkit cannot matter.)"""
    reader = _reader(path)
    names = [[s] if isinstance(s, str) else list(s) for s in steps.values()]

    def quoted(events):
        return ", ".join(f"'{e}'" for e in events)

    every = quoted([e for group in names for e in group])
    ctes = [
        f"ev AS MATERIALIZED (SELECT customer_id, timestamp AS ts, event "
        f"FROM {reader}('{path}') WHERE event IN ({every}))",
        f"c1 AS (SELECT customer_id, ts AS t1, ts AS t, 1 AS depth FROM ev "
        f"WHERE event IN ({quoted(names[0])}))",
    ]
    for k, group in enumerate(names[1:], start=2):
        ctes.append(f"e{k} AS (SELECT customer_id, ts FROM ev WHERE event IN ({quoted(group)}))")
        ctes.append(
            f"m{k} AS (SELECT c.customer_id, c.t1, c.depth, "
            f"CASE WHEN e.ts <= c.t1 + INTERVAL {window_days} DAY THEN e.ts END AS t "
            f"FROM c{k - 1} c ASOF LEFT JOIN e{k} e "
            f"ON c.customer_id = e.customer_id AND e.ts >= c.t)"
        )
        ctes.append(
            f"c{k} AS (SELECT customer_id, t1, t, depth + (t IS NOT NULL)::INT AS depth FROM m{k})"
        )
    return (
        "WITH "
        + ",\n".join(ctes)
        + f",\nper AS (SELECT customer_id, max(depth) AS depth FROM c{len(names)} "
        "GROUP BY customer_id)\n"
        "SELECT depth, count(*) AS people FROM per GROUP BY depth ORDER BY depth"
    )


def duckdb_table_sql(path):
    """The whole events table of the file, sorted by customer then time."""
    return f"SELECT * FROM {_reader(path)}('{path}') ORDER BY customer_id, timestamp"


def _reader(path):
    """DuckDB's table function for the file."""
    return "read_parquet" if str(path).endswith(".parquet") else "read_csv"


def funnel_events(steps):
    """The events the funnel's steps name."""
    return [e for s in steps.values() for e in ([s] if isinstance(s, str) else s)]


def _reached(per_depth, n_steps):
    per_depth = per_depth.reindex(range(n_steps + 1), fill_value=0)
    return per_depth[::-1].cumsum()[::-1].iloc[1:].to_numpy()  # people with depth >= k


def child(engine, path, warm):
    """One measured run in this (fresh) process; prints a JSON line.

    Both engines first run once on ``warm`` (the first rows of the same file), so that the
    libraries' code and first-use set-up are not counted as memory for the data."""
    import pyarrow.csv
    import pyarrow.parquet  # noqa: F401  (imported before the clock, as duckdb is)

    import cxkit
    from cxkit.funnel import STEPS

    if engine in ("duckdb", "duckdb_table"):
        import duckdb

        con = duckdb.connect()
        query = (
            functools.partial(duckdb_sql, steps=STEPS) if engine == "duckdb" else duckdb_table_sql
        )
        sql = query(path)
        con.sql(query(warm)).to_arrow_table()
    else:
        if engine == "careful":
            from cxkit.data import contract

            contract.events_fast = lambda *args, **kwargs: None
        cxkit.funnel(cxkit.read_events(warm), STEPS, window=WINDOW)
    gc.collect()
    before = _status("VmRSS")
    _reset_peak()
    t0 = time.perf_counter()
    out = {"engine": engine}
    if engine == "duckdb":
        res = con.sql(sql).df()
        out["load_s"] = np.nan
        people = _reached(res.set_index("depth")["people"], len(STEPS))
        out["table_mb"] = np.nan
    elif engine == "duckdb_table":
        res = con.sql(sql).to_arrow_table()
        out["load_s"] = time.perf_counter() - t0
        people = []
        out["table_mb"] = res.nbytes / 2**20
        del res
    else:
        if engine == "cxkit_path":  # only what the funnel needs: 3 columns, its events
            events = cxkit.read_events(path, columns=[], events=funnel_events(STEPS))
        else:
            events = cxkit.read_events(path)
        out["load_s"] = time.perf_counter() - t0
        out["load_peak_mb"] = (_status("VmHWM") - before) / 2**20
        table = cxkit.funnel(events, STEPS, window=WINDOW)
        people = table["customers"].to_numpy()
        out["table_mb"] = events.memory_usage(deep=True).sum() / 2**20
    out["seconds"] = time.perf_counter() - t0
    peak = _status("VmHWM")
    out["peak_mb"] = np.nan if peak is None else (peak - before) / 2**20
    out["people"] = [int(p) for p in people]
    out["load_average"] = os.getloadavg()[0]
    print(json.dumps(out))


def run_child(engine, path, code=None):
    """One measured run in a fresh process; ``code``: the checkout whose cxkit is used (this
    one by default)."""
    code = code or str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": code}
    warm = path.with_name("warm" + path.name[len(path.stem.split(".")[0]) :])
    cmd = [sys.executable, __file__, "--child", engine, str(path), str(warm)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"{engine} on {path} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _text_parquet(source, target):
    """The Parquet file as a warehouse, DuckDB or Spark writes it: text columns (not a pandas
    categorical, whose whole dictionary pandas repeats in every row group), µs timestamps."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(source)
    columns = [c.cast(pa.string()) if pa.types.is_dictionary(c.type) else c for c in table.columns]
    table = pa.table(columns, names=table.column_names)
    pq.write_table(table.replace_schema_metadata(None), target, coerce_timestamps="us")


def write_files(size, folder):
    import cxkit

    done = folder / "rows.txt"
    paths = {
        "parquet": folder / "events.parquet",
        "parquet (text)": folder / "events.text.parquet",
        "csv.gz": folder / "events.csv.gz",
    }
    if done.exists():  # written by an earlier run (--data)
        for prefix in ("events", "warm"):
            if not (folder / f"{prefix}.text.parquet").exists():
                _text_parquet(folder / f"{prefix}.parquet", folder / f"{prefix}.text.parquet")
        return int(done.read_text()), paths
    customers = int(size * 1e6 / EVENTS_PER_CUSTOMER)
    journey, _ = cxkit.simulate(customers=customers, seed=1)
    events = journey.events.sort_values("timestamp", kind="stable").reset_index(drop=True)
    for frame, prefix in ((events, "events"), (events.iloc[:2000], "warm")):
        frame.to_parquet(folder / f"{prefix}.parquet", index=False)
        _text_parquet(folder / f"{prefix}.parquet", folder / f"{prefix}.text.parquet")
        frame.to_csv(
            folder / f"{prefix}.csv.gz",
            index=False,
            date_format="%Y-%m-%d %H:%M:%S",
            float_format="%.2f",
            compression={"method": "gzip", "compresslevel": 6, "mtime": 0},
        )
    done.write_text(str(len(events)))
    return len(events), paths


def bench_size(size, repeat, before, baseline=None, data=None):
    rows = []
    with tempfile.TemporaryDirectory(prefix="cxkit-bench-load-") as tmp:
        folder = Path(tmp) if data is None else Path(data) / f"{size:g}M"
        folder.mkdir(parents=True, exist_ok=True)
        n, paths = write_files(size, folder)
        runs = {}
        engines = [("cxkit", None), ("cxkit_path", None), ("duckdb", None), ("duckdb_table", None)]
        if baseline:
            engines.append(("baseline", baseline))
        for _ in range(repeat):  # interleaved: load on the machine hits all alike
            for fmt, path in paths.items():
                for engine, code in engines:
                    child_engine = "cxkit" if engine == "baseline" else engine
                    done = run_child(child_engine, path, code)
                    runs.setdefault((fmt, engine), []).append(done)
        if before:
            for fmt, path in paths.items():
                runs[(fmt, "careful")] = [run_child("careful", path)]
        for fmt in paths:
            best = {
                e: min(r, key=lambda x: x["seconds"]) for (f, e), r in runs.items() if f == fmt
            }
            ours, duck = best["cxkit"], best["duckdb"]
            row = {
                "events": n,
                "format": fmt,
                "cxkit_s": ours["seconds"],
                "cxkit_load_s": ours["load_s"],
                "duckdb_s": duck["seconds"],
                "ratio": ours["seconds"] / duck["seconds"],
                "path_s": best["cxkit_path"]["seconds"],
                "path_load_s": best["cxkit_path"]["load_s"],
                "path_ratio": best["cxkit_path"]["seconds"] / duck["seconds"],
                "path_peak_mb": max(r["peak_mb"] for r in runs[(fmt, "cxkit_path")]),
                "duckdb_table_s": best["duckdb_table"]["seconds"],
                "load_vs_table": ours["load_s"] / best["duckdb_table"]["seconds"],
                "cxkit_peak_mb": max(r["peak_mb"] for r in runs[(fmt, "cxkit")]),
                "duckdb_peak_mb": max(r["peak_mb"] for r in runs[(fmt, "duckdb")]),
                "load_peak_mb": max(r["load_peak_mb"] for r in runs[(fmt, "cxkit")]),
                "table_mb": ours["table_mb"],
                "counts_agree": ours["people"] == duck["people"] == best["cxkit_path"]["people"],
                "load_avg": "{:.1f}-{:.1f}".format(
                    min(r["load_average"] for v in runs.values() for r in v),
                    max(r["load_average"] for v in runs.values() for r in v),
                ),
            }
            row["load_peak_x_table"] = row["load_peak_mb"] / row["table_mb"]
            if "baseline" in best:
                base = best["baseline"]
                row["baseline_s"] = base["seconds"]
                row["baseline_load_s"] = base["load_s"]
                row["baseline_ratio"] = base["seconds"] / duck["seconds"]
                peak = max(r["load_peak_mb"] for r in runs[(fmt, "baseline")])
                row["baseline_load_peak_x_table"] = peak / base["table_mb"]
                row["counts_agree"] &= base["people"] == duck["people"]
            if "careful" in best:
                careful = best["careful"]
                row["before_s"] = careful["seconds"]
                row["before_load_s"] = careful["load_s"]
                row["before_load_peak_x_table"] = careful["load_peak_mb"] / careful["table_mb"]
            if not row["counts_agree"]:
                print("cxkit: ", ours["people"], "\nDuckDB:", duck["people"])
            rows.append(row)
    return rows


def bench_raw_strings(size, before):
    """read_events on a DataFrame whose every column is text, fast path vs careful path."""
    import cxkit
    from cxkit.data import contract

    customers = int(size * 1e6 / EVENTS_PER_CUSTOMER)
    journey, _ = cxkit.simulate(customers=customers, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.csv"
        journey.events.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
        del journey
        raw = pd.read_csv(path, dtype=str)  # text, and NaN where a cell is empty
    row = {"events": len(raw)}
    gc.collect()
    t0 = time.perf_counter()
    fast = cxkit.read_events(raw)
    row["read_events_s"] = time.perf_counter() - t0
    if before:
        keep = contract.events_fast
        contract.events_fast = lambda *args, **kwargs: None
        try:
            gc.collect()
            t0 = time.perf_counter()
            careful = cxkit.read_events(raw)
            row["before_s"] = time.perf_counter() - t0
        finally:
            contract.events_fast = keep
        pd.testing.assert_frame_equal(fast, careful)
        row["same_frame"] = True
        row["speedup"] = row["before_s"] / row["read_events_s"]
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1, 3])
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument("--before", action="store_true", help="also the careful path (slow)")
    parser.add_argument("--raw-only", action="store_true", help="only the raw-strings part")
    parser.add_argument("--no-raw", action="store_true", help="skip the raw-strings part")
    parser.add_argument("--baseline", help="also run another checkout's cxkit (a folder)")
    parser.add_argument("--data", help="keep the written files here and reuse them")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(*args.child)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    rows = []
    for size in [] if args.raw_only else args.sizes:
        rows += bench_size(size, args.repeat, args.before, args.baseline, args.data)
        print(pd.DataFrame(rows[-3:]).round(2).to_string(index=False), flush=True)
    table = pd.DataFrame(rows, columns=None if rows else ["counts_agree"])
    if rows:
        print(f"\nfile -> funnel table, cxkit vs DuckDB SQL, best of {args.repeat} (target <= 1)")
        print(table.round(2).to_string(index=False))
    if not args.no_raw:
        raw = pd.DataFrame([bench_raw_strings(size, args.before) for size in args.sizes])
        print("\nread_events on a DataFrame of raw strings")
        print(raw.round(2).to_string(index=False))
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    if not table["counts_agree"].all():
        raise SystemExit("people per step differ between cxkit and DuckDB")


if __name__ == "__main__":
    main()

"""Benchmark: the reductions on Spark in local mode, for reach (not speed).

The same generated log as ``bench_engine.py`` (DuckDB SQL straight into Parquet, microsecond
timestamps, which Spark reads), ``--events`` million rows (default 10M). Each step runs in a
fresh process that starts a local Spark session (``local[THREADS]``), reads the Parquet files
as temporary views, opens them with ``cxkit.connect(ibis.pyspark.connect(spark), ...)`` and
runs one reduction: the funnel (5 steps, 14 days), the survival table, or the churn features
(3 cutoffs). Prints the time (the session start and the contract checks as "open") and the peak
resident memory of the whole process tree (Python and the JVM together), sampled every 0.5 s.

Spark on one laptop is slower than DuckDB: the point is that the same cxkit code runs on a
cluster's engine, not how fast a local session is.

Run: ``.venv/bin/python benchmarks/bench_spark.py [--events 10] [--threads 2] [--driver-memory 4g]``
(needs the ``spark`` extra and Java 17: ``pip install -e '.[spark]'``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import generate, run_step, run_steps  # noqa: E402


def child(folder, step, threads, driver_memory):
    import warnings

    import ibis
    from pyspark.sql import SparkSession

    import cxkit

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    spark = (
        SparkSession.builder.master(f"local[{threads}]")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(4 * threads))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    for name in ("events", "customers"):
        spark.read.parquet(str(folder / f"{name}.parquet")).createOrReplaceTempView(name)
    journey = cxkit.connect(ibis.pyspark.connect(spark), events="events", customers="customers")
    t1 = time.perf_counter()
    size = run_step(journey, step)
    t2 = time.perf_counter()
    spark.stop()
    print(json.dumps({"open_s": t1 - t0, "step_s": t2 - t1, "result": size}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=float, default=10, help="millions of events")
    parser.add_argument("--dir", default="/tmp/cxkit_bench_spark")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--steps", nargs="*", default=["open", "funnel", "survival", "churn"])
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--max-rss", type=float, default=10, help="GiB: stop a step past it")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = Path(args.dir)
    if args.child:
        child(folder, args.child, args.threads, args.driver_memory)
        return
    try:
        import ibis  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError:  # make bench installs the duckdb extra, not spark: skip, not fail
        print("skipped: bench_spark needs the spark extra (pip install -e '.[spark]', Java 17)")
        return
    if shutil.which("java") is None:
        print("skipped: bench_spark needs Java (17) on the PATH")
        return
    generate(folder, args.events, args.threads)
    print(
        f"{args.events:g}M events through Spark local[{args.threads}] "
        f"(driver memory {args.driver_memory})"
    )

    def command(step):
        cmd = [sys.executable, __file__, "--child", step, "--dir", str(folder)]
        return cmd + ["--threads", str(args.threads), "--driver-memory", args.driver_memory]

    ok = run_steps(args.steps, command, args.max_rss)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()

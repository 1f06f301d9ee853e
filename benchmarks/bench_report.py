"""`cxkit report` on simulated journeys: wall time, per-notebook times, peak memory of the tree.

Simulates a journey of about ``--events`` events (seeded; written once to ``--work``), runs
``python -m cxkit report --data DIR --out OUT`` as a child process, samples the resident memory
of that process and all of its descendants (the notebook kernels) every 0.2 s, and prints one
markdown row: events, wall seconds, CPU seconds of the whole tree (user + system of the report
and every kernel, from the operating system's accounting of finished children), the load
average while it ran (the machine is shared: wall time depends on it), peak memory of the
process tree (sum of RSS, so shared pages count once per process: an upper bound), and each
notebook's time as the report's own progress lines give it. Targets (issue 16): 1M events
under 60 s, 10M under 10 minutes, peak under 8 GiB.

Run: ``python benchmarks/bench_report.py --events 1000000 [--events 10000000]``; never part of
``make test``. ``--engine duckdb`` (repeatable, with ``--engine pandas`` for both) runs the report
on the DuckDB engine (``cxkit report --engine duckdb``); ``--data DIR`` takes a folder instead of
simulating one. Results: ``benchmarks/RESULTS_report.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

EVENTS_PER_CUSTOMER = 112  # the simulator's ratio: ≈ 1.04M events for 9,300 customers


def simulated_folder(events, work, seed=11):
    folder = Path(work) / f"journey_{events}"
    if (folder / "events.csv.gz").exists():
        return folder
    import cxkit
    from cxkit.simulate import write_sample

    t0 = time.perf_counter()
    journey, truth = cxkit.simulate(customers=max(events // EVENTS_PER_CUSTOMER, 100), seed=seed)
    write_sample(journey, truth, folder)
    print(
        f"simulated {len(journey.events):,} events in {time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
    )
    return folder


def _tree_rss(proc):
    import psutil

    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_report(folder, out, jobs=None, engine=None):
    """Dict: wall and CPU seconds, load averages, peak bytes of the process tree, progress text
    and return code."""
    import psutil

    cmd = [sys.executable, "-m", "cxkit", "report", "--data", str(folder), "--out", str(out)]
    cmd += ["--jobs", str(jobs)] if jobs else []
    cmd += ["--engine", engine] if engine else []
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    proc = psutil.Process(child.pid)
    peak = [0]
    loads = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                peak[0] = max(peak[0], _tree_rss(proc))
            except psutil.Error:
                pass
            loads.append(os.getloadavg()[0])
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines = []
    for line in child.stdout:
        print(line, end="", file=sys.stderr, flush=True)
        lines.append(line)
    code = child.wait()
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    return {
        "seconds": seconds,
        "cpu": _children_cpu() - cpu0,  # the report and the kernels it waited for
        "load_mean": sum(loads) / max(len(loads), 1),
        "load_max": max(loads, default=float("nan")),
        "peak": peak[0],
        "progress": "".join(lines),
        "code": code,
    }


def notebook_times(progress):
    """{notebook: seconds} from the report's progress lines."""
    found = re.findall(r"\] (\d\d_\w+) (?:… )?(?:ok \(|FAILED after )([\d.]+) s", progress)
    return {name: float(s) for name, s in found}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, action="append", help="repeatable")
    parser.add_argument("--work", default="/tmp/cxkit_bench_report")
    parser.add_argument(
        "--jobs", type=int, action="append", help="notebooks at once (repeatable: one run each)"
    )
    parser.add_argument(
        "--engine", action="append", help="pandas or duckdb (repeatable: one run each)"
    )
    parser.add_argument("--data", default=None, help="a data folder instead of simulating one")
    args = parser.parse_args()
    sizes = args.events or [1_000_000]
    rows = []
    for n in [None] if args.data else sizes:
        folder = Path(args.data) if args.data else simulated_folder(n, args.work)
        import cxkit

        n_events = len(cxkit.read_journey(folder).events)
        for engine in args.engine or [None]:
            for jobs in args.jobs or [None]:
                out = Path(args.work) / f"out_{n or folder.name}_{engine or 'pandas'}"
                run = run_report(folder, out, jobs, engine)
                run["jobs"] = f"{jobs or 'default'}, {engine or 'pandas'}"
                rows.append((n_events, run, notebook_times(run["progress"])))
    names = sorted({k for r in rows for k in r[2]})
    print(
        "| events | jobs, engine | wall s | CPU s (tree) | load mean / max | peak GiB (tree RSS) | "
        + " | ".join(names)
        + " | exit |"
    )
    print("|---:|---:|---:|---:|---:|---:|" + "---:|" * len(names) + "---:|")
    for n_events, run, times in rows:
        cells = " | ".join(f"{times[k]:.1f}" if k in times else "–" for k in names)
        print(
            f"| {n_events:,} | {run['jobs']} | {run['seconds']:.0f} | {run['cpu']:.0f} | "
            f"{run['load_mean']:.1f} / {run['load_max']:.1f} | {run['peak'] / 2**30:.2f} | "
            f"{cells} | {run['code']} |"
        )


if __name__ == "__main__":
    main()

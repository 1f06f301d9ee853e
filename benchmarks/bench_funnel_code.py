"""Benchmark and check: ``cxkit.funnel`` on a loaded events frame, this checkout against another.

For each size, fresh processes (one per run, interleaved between the two checkouts) load the
events and time ``cxkit.funnel(events, STEPS, window="14D")``: the first call after the load
(what ``bench_load.py`` measures: file -> funnel table in a new process) and the best of
``--calls`` calls in that process. Prints the best of ``--repeat`` processes per checkout.
``--case`` times one of the option sets below instead (e.g. ``strict``).

With ``--check`` each checkout also writes the results of ``funnel_table``, ``funnel`` and
``drop_off_paths`` for the default options and for strict, exclude, entry="first",
step_windows, start/end, complete_only and by; every column and attr must be identical.

Sizes: ``1`` is ``cxkit.simulate(customers=9000, seed=1)`` (about 1M events), ``10`` the
10M-event Parquet file of ``bench_load.py --data`` read with ``cxkit.read_events``.

Run: ``.venv/bin/python benchmarks/bench_funnel_code.py --baseline /work/main [--check]``.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = {
    "default": {},
    "strict": {"strict": True},
    "exclude": {"exclude": ["support_ticket", "app_login"]},
    "first": {"entry": "first"},
    "step_windows": {"step_windows": {"checkout": "1D", "purchase": "1h"}},
    "start_end": {"start": "2025-01-01", "end": "2025-04-01"},
    "mixed": {
        "strict": True,
        "exclude": ["help_center"],
        "entry": "first",
        "step_windows": [None, "2D", None, "1D", "6h"],
    },
}
# steps whose first step happens many times per person (many entries each), and repeated steps
# (rows tied in time must not be used twice)
LATER = ["site_visit", "product_view", "add_to_cart", "checkout", "purchase"]
REPEATS = ["app_login", "app_login", ["app_login", "purchase"], "purchase", "purchase"]
MORE = {
    "later": (LATER, {}),
    "later_strict_windows": (LATER, {"strict": True, "step_windows": [None, "1D", None, "2h"]}),
    "later_exclude_start": (LATER, {"exclude": ["support_ticket"], "start": "2025-02-01"}),
    "repeats": (REPEATS, {}),
    "repeats_strict": (REPEATS, {"strict": True}),
}


def load(size, data):
    import pandas as pd

    import cxkit

    if size == "1":
        cache = Path(tempfile.gettempdir()) / "cxkit_bench_funnel_code_1M.pkl"
        if not cache.exists():
            cxkit.simulate(customers=9000, seed=1)[0].events.to_pickle(cache)
        return pd.read_pickle(cache)
    return cxkit.read_events(Path(data) / f"{size}M" / "events.parquet")


def worker(size, data, calls, out, case="default"):
    import cxkit
    from cxkit.funnel import STEPS

    events = load(size, data)
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        cxkit.funnel(events, STEPS, window="14D", **CASES[case])
        times.append(time.perf_counter() - t0)
    result = {"first": times[0], "best": min(times)}
    if out:
        found = {}
        for name, options in CASES.items():
            found[name, "table"] = cxkit.funnel_table(events, STEPS, **options)
            found[name, "funnel"] = cxkit.funnel(events, STEPS, **options)
        for name, (steps, options) in MORE.items():
            found[name, "table"] = cxkit.funnel_table(events, steps, **options)
            found[name, "funnel"] = cxkit.funnel(events, steps, **options)
        # timestamps to the day (many rows tie in time) or the minute (a few do)
        for unit in ("D", "min"):
            coarse = events.assign(timestamp=events["timestamp"].dt.floor(unit))
            for name in ("later_strict_windows", "repeats", "repeats_strict"):
                steps, options = MORE[name]
                key = f"{unit}_{name}"
                found[key, "table"] = cxkit.funnel_table(coarse, steps, **options)
                found[key, "funnel"] = cxkit.funnel(coarse, steps, **options)
        # rows in no particular order: the reduction sorts them (entry rows still the input's)
        shuffled = events.sample(frac=1.0, random_state=0)
        found["shuffled", "table"] = cxkit.funnel_table(shuffled, STEPS)
        found["shuffled_later", "table"] = cxkit.funnel_table(shuffled, LATER, strict=True)
        found["shuffled_later", "funnel"] = cxkit.funnel(shuffled, LATER, by="device")
        found["later_closed", "funnel"] = cxkit.funnel(events, LATER, complete_only=True)
        found["later_paths", "default"] = cxkit.drop_off_paths(events, LATER, step=2)
        found["complete_only", "funnel"] = cxkit.funnel(events, STEPS, complete_only=True)
        found["mixed_closed", "funnel"] = cxkit.funnel(
            events, STEPS, complete_only=True, **CASES["mixed"]
        )
        found["by", "funnel"] = cxkit.funnel(events, STEPS, by=["device", "channel"])
        found["paths", "default"] = cxkit.drop_off_paths(events, STEPS, step=3)
        found["paths", "strict"] = cxkit.drop_off_paths(events, STEPS, step=5, strict=True)
        with open(out, "wb") as fh:
            pickle.dump(found, fh)
    print(repr(result))


def _run(tree, size, data, calls, out=None, case="default"):
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, __file__, "--worker", size, "--data", data, "--calls", str(calls)]
    cmd += ["--case", case]
    if out:
        cmd += ["--out", str(out)]
    done = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr)
    return eval(done.stdout.strip().splitlines()[-1])


def compare(a, b):
    """Names of the results that differ (values, dtypes or attrs)."""
    import pandas as pd

    bad = []
    for key in a:
        x, y = a[key], b[key]
        try:
            pd.testing.assert_frame_equal(x, y, check_exact=True)
            if x.attrs != y.attrs:
                raise AssertionError(f"attrs {x.attrs} != {y.attrs}")
        except AssertionError as err:
            bad.append((key, str(err)[:300]))
    return bad


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker")
    parser.add_argument("--baseline", required=False)
    parser.add_argument("--sizes", nargs="+", default=["1", "10"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--case", default="default", choices=list(CASES))
    parser.add_argument("--data", default="/work/tmp/bench")
    parser.add_argument("--out")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.data, args.calls, args.out, args.case)
    trees = {"new": HERE.parent}
    if args.baseline:
        trees = {"old": Path(args.baseline), **trees}
    for size in args.sizes:
        runs = {name: [] for name in trees}
        for _ in range(args.repeat):
            for name, tree in trees.items():
                runs[name].append(_run(tree, size, args.data, args.calls, case=args.case))
        line = [f"{size}M events:"]
        for name, got in runs.items():
            first = min(r["first"] for r in got)
            best = min(r["best"] for r in got)
            line.append(f"{name} first call {first:.3f} s, best call {best:.3f} s;")
        print(" ".join(line), flush=True)
        if args.check and args.baseline:
            with tempfile.TemporaryDirectory() as tmp:
                found = {}
                for name, tree in trees.items():
                    out = Path(tmp) / f"{name}.pkl"
                    _run(tree, size, args.data, 1, out)
                    found[name] = pickle.loads(out.read_bytes())
            bad = compare(found["old"], found["new"])
            print(f"{size}M: {len(found['new'])} results compared, {len(bad)} differ", flush=True)
            for key, err in bad:
                print("  ", key, err)


if __name__ == "__main__":
    main()

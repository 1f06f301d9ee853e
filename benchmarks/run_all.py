"""Run every benchmark (``make bench``); each prints its own ratios and peak memory.

Benchmarks are never part of ``make test``: they take minutes and need the ``bench`` extra
(DuckDB, chdb). Run one with ``python benchmarks/bench_funnel.py``.
"""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
failed = []
for path in sorted(here.glob("bench_*.py")):
    print(f"\n=== {path.name} ===", flush=True)
    if subprocess.run([sys.executable, str(path)]).returncode:
        failed.append(path.name)
if failed:
    sys.exit(f"failed: {', '.join(failed)}")

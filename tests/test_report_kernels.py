"""`cxkit report` and its kernels: a killed or stuck kernel fails its notebook, none is left."""

import sys
import time
from pathlib import Path

import psutil
import pytest

import cxkit
from cxkit.report.execute import ReportError

sys.path.insert(0, str(Path(__file__).parent))
from test_report import _notebook  # noqa: E402

KILLED_FROM_OUTSIDE = (
    "import os, signal, threading, time\n"
    "threading.Timer(1, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()\n"
    "time.sleep(60)"
)
DEAF = (  # ignores interrupts and termination, busy in a loop
    "import signal\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "while True:\n"
    "    pass"
)


@pytest.mark.slow
def test_killed_and_deaf_kernels_fail_their_notebooks_and_no_kernel_is_left(tmp_path, capsys):
    nbs = tmp_path / "nbs"
    _notebook(nbs, "01_killed", "x = 1", KILLED_FROM_OUTSIDE)
    _notebook(nbs, "02_deaf", DEAF)
    _notebook(nbs, "03_fine", "print('still ran')")
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    started = time.perf_counter()
    with pytest.raises(ReportError) as failed:
        cxkit.build_report(cxkit.sample_dir(), tmp_path / "out", notebooks=nbs, timeout=3)
    assert time.perf_counter() - started < 60
    message = str(failed.value)
    assert (
        "01_killed.ipynb, cell 4 (in `import os, signal, threading, time`): the kernel died"
        in (message)
    )
    assert "02_deaf.ipynb, cell 3 (in `import signal`): the cell ran longer than 3 s" in message
    assert "still ran" in (tmp_path / "out" / "03_fine.html").read_text()
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert not left, [p.cmdline() for p in left]
    progress = capsys.readouterr().out
    assert "[2/3] 02_deaf FAILED after " in progress  # each notebook's time, failed or not
    assert "[3/3] 03_fine ok (" in progress


@pytest.mark.slow
def test_exercise_solutions_run_only_when_the_code_is_shown(tmp_path):
    # hidden from readers anyway, and they define nothing later cells use
    import nbformat

    nbs = tmp_path / "nbs"
    _notebook(nbs, "01_workshop", "x = 1", "raise RuntimeError('the solution ran')", "print(x)")
    path = nbs / "01_workshop.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[3].metadata["tags"] = ["solution"]
    nbformat.write(nb, path)
    cxkit.build_report(cxkit.sample_dir(), tmp_path / "hidden", notebooks=nbs, progress=False)
    with pytest.raises(ReportError, match="01_workshop.ipynb, cell 4: RuntimeError: the solu"):
        cxkit.build_report(
            cxkit.sample_dir(), tmp_path / "shown", notebooks=nbs, progress=False, show_code=True
        )

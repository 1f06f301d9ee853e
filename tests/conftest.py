import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "shapes: the whole report on data folders unlike the sample (cxkit.shapes); "
        "run only when CXKIT_SHAPES=1",
    )


def unreadable_pages(folder):
    """{page name: [problem, ...]} for every HTML file in ``folder`` whose visible text shows a
    reader nan, inf, NaT, None, True/False, a traceback or an exception name."""
    from cxkit.report.execute import reader_problems, visible_text

    found = {}
    for page in sorted(Path(folder).glob("*.html")):
        problems = reader_problems(visible_text(page.read_text(encoding="utf-8")))
        if problems:
            found[page.name] = problems
    return found


@pytest.fixture
def assert_readable():
    """``assert_readable(report_folder)``: fails listing each page and word a reader must
    never see (see :func:`cxkit.report.execute.reader_problems`)."""

    def check(folder):
        found = unreadable_pages(folder)
        assert not found, "readers would see:\n" + "\n".join(
            f"  {page}: {p}" for page, problems in found.items() for p in problems[:10]
        )

    return check


@pytest.fixture(autouse=True)
def _close_figures():
    """Each test starts from the same matplotlib settings (cxkit.set_theme in one test, e.g.
    its left-aligned titles, must not reach the next) and leaves no figure open."""
    import matplotlib.pyplot as plt

    with matplotlib.rc_context():
        yield
    plt.close("all")


@pytest.fixture(scope="module")
def backend():
    """An in-memory DuckDB connection through Ibis, one thread (the engine tests)."""
    ibis = pytest.importorskip("ibis")
    pytest.importorskip("duckdb")
    con = ibis.duckdb.connect()
    con.raw_sql("SET threads = 1")
    return con


@pytest.fixture(scope="session")
def sample():
    """The bundled sample journey (read once per test session)."""
    import cxkit

    return cxkit.load_sample()


@pytest.fixture(scope="session")
def sample_truth():
    import cxkit

    return cxkit.read_truth()

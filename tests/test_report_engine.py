"""The report on the DuckDB engine (issue 15): ``cxkit report --engine duckdb``.

* the option and its errors (fast);
* the notebooks' code on an engine journey never pulls the events table whole: every query's
  result is counted, and ``to_pandas`` raises (fast, a small simulated folder, in-process);
* differential: the report built with the pandas engine and with DuckDB shows the same text on
  every page, on the sample (slow: two whole reports) and on two odd shapes (with
  ``CXKIT_SHAPES=1``, as tests/test_shapes.py's reports: ~1 min each).

Lines that must differ between two reports: the moment the report was made ("Made by cxkit on
…" on every page, "Report made …" on the index). The tests fix that moment, so no line is
exempt; notebook run times are printed to the console only, never on a page.

The pages that use the customer-value model (notebook 04, and for data without churn dates
the value of a kept buyer in notebooks 00 and 03) need the engine ``clv_summary``
(``cxkit.engine.clv``); they are compared whenever that module exists (:data:`NEEDS_CLV`), as
it does on main.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import importlib.util
import os

import nbformat
import pandas as pd
import pytest

pytest.importorskip("ibis")
pytest.importorskip("duckdb")

import cxkit  # noqa: E402
from cxkit.cli import main  # noqa: E402
from cxkit.engine.journey import EngineJourney  # noqa: E402
from cxkit.report import execute  # noqa: E402
from cxkit.report.execute import build_report, notebooks_dir, visible_text  # noqa: E402

CLV_ON_ENGINE = importlib.util.find_spec("cxkit.engine.clv") is not None
#: Pages that need the customer-value model on the engine, per kind of data.
NEEDS_CLV = {"contractual": {"04"}, "non-contractual": {"00", "03", "04"}}


# --------------------------------------------------------------------------- the option


def test_cli_engine_option_reaches_build_report(monkeypatch, tmp_path):
    seen = {}

    def fake_build(data, out, **kw):
        seen.update(kw)
        return [tmp_path / "index.html"]

    monkeypatch.setattr("cxkit.report.build_report", fake_build)
    assert main(["report", "--out", str(tmp_path), "--engine", "duckdb"]) == 0
    assert seen["engine"] == "duckdb"
    assert main(["report", "--out", str(tmp_path)]) == 0
    assert seen["engine"] == "pandas"


def test_cli_refuses_an_unknown_engine(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", "--engine", "spark"])
    assert exc.value.code == 2
    assert "invalid choice: 'spark'" in capsys.readouterr().err


def test_missing_duckdb_extra_is_a_clear_error(monkeypatch, tmp_path, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "duckdb" else real(name, *a)
    )
    assert main(["report", "--out", str(tmp_path / "r"), "--engine", "duckdb"]) == 2
    err = capsys.readouterr().err
    assert "the duckdb extra" in err and "not installed: duckdb" in err
    assert "pip install 'cxkit[duckdb]'" in err
    assert not (tmp_path / "r").exists()  # refused before anything ran


def test_build_report_refuses_an_unknown_engine(tmp_path):
    with pytest.raises(cxkit.DataError, match="one of pandas, duckdb; got 'polars'"):
        build_report(out=tmp_path, engine="polars")


def test_notebooks_read_the_journey_on_the_engine_parameter():
    for path in sorted(notebooks_dir().glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert 'engine = "pandas"' in params.source, path.name
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "cxkit.read_journey(data_dir, engine=engine)" in code, path.name
        assert "cxkit.read_journey(data_dir)" not in code, path.name


# --------------------------------------------------------------------------- small tables


@pytest.fixture(scope="module")
def both():
    return cxkit.load_sample(), cxkit.read_journey(cxkit.sample_dir(), engine="duckdb")


def test_customers_and_answers_come_back_as_the_pandas_loader_gives_them(both):
    from cxkit.engine.frames import customers_frame, surveys_frame

    pandas_j, engine_j = both
    pd.testing.assert_frame_equal(customers_frame(engine_j), pandas_j.customers)
    pd.testing.assert_frame_equal(surveys_frame(engine_j), pandas_j.surveys)
    assert customers_frame(engine_j) is customers_frame(engine_j)  # pulled once


def test_parquet_text_of_digits_stays_text(tmp_path):
    from cxkit.engine.frames import customers_frame

    events = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a"],
            "timestamp": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-05"]),
            "event": ["visit", "visit", "purchase"],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "signup_at": pd.to_datetime(["2025-01-01", "2025-01-02"]),
            "zip": ["01234", "98765"],  # text in Parquet: not numbers
        }
    )
    events.to_parquet(tmp_path / "events.parquet")
    customers.to_parquet(tmp_path / "customers.parquet")
    got = customers_frame(cxkit.read_journey(tmp_path, engine="duckdb"))
    want = cxkit.read_journey(tmp_path).customers
    assert list(got["zip"].astype(str)) == ["01234", "98765"]
    assert got["zip"].dtype == want["zip"].dtype == "category"


def test_facts_of_the_events_are_the_pandas_ones(both):
    from cxkit.engine.frames import counts, distinct, event_facts, last_activity, survey_kinds

    pandas_j, engine_j = both
    assert (
        counts(engine_j)
        == counts(pandas_j)
        == {
            "events": 333_012,
            "customers": 2_990,
            "surveys": 15_028,
        }
    )
    assert event_facts(engine_j) == event_facts(pandas_j)
    assert event_facts(pandas_j)["prospects"] == pandas_j.notes["prospects"] > 0
    assert list(distinct(engine_j, "event")) == list(distinct(pandas_j, "event"))
    assert survey_kinds(engine_j) == survey_kinds(pandas_j) == {"nps", "csat", "ces"}
    a = last_activity(engine_j, ["purchase"]).sort_index()
    b = last_activity(pandas_j, ["purchase"]).sort_index()
    pd.testing.assert_series_equal(a, b, check_names=False)


# --------------------------------------------------------------------------- no events pulled


def _run_cells(path, data_dir):
    """Execute a notebook's code cells here (the report's cells: no exercise solutions)."""
    import matplotlib.pyplot as plt

    nb = nbformat.read(path, as_version=4)
    ns = {}
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type != "code" or tags & {"solution", "workshop"}:
            continue
        source = cell.source
        if "parameters" in tags:
            source += f"\ndata_dir = {str(data_dir)!r}\nengine = 'duckdb'\n"
        exec(compile(source, f"{path.name}", "exec"), ns)
        plt.close("all")
    return ns


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory):
    from cxkit.simulate import simulate, write_sample

    folder = tmp_path_factory.mktemp("small")
    journey, truth = simulate(customers=300, seed=5)
    write_sample(journey, truth, folder)
    return folder


def test_the_notebooks_never_pull_the_events_table(small_folder, monkeypatch):
    n_events = len(cxkit.read_journey(small_folder).events)
    pulled = []
    real_execute = EngineJourney.execute

    def counting(self, expr):
        got = real_execute(self, expr)
        pulled.append(len(got) if isinstance(got, pd.DataFrame | pd.Series) else 1)
        return got

    def refuse(self):
        raise AssertionError("the report pulled the whole journey (to_pandas)")

    monkeypatch.setattr(EngineJourney, "execute", counting)
    monkeypatch.setattr(EngineJourney, "to_pandas", refuse)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for path in sorted(notebooks_dir().glob("0[0-3]_*.ipynb")):
        ns = _run_cells(path, small_folder)
        assert isinstance(ns["journey"], EngineJourney), path.name
    assert len(pulled) > 50  # the analyses did run on the engine
    # the largest result is a per-person table (people in the events), far below the events
    assert max(pulled) < n_events / 5, (max(pulled), n_events)


# --------------------------------------------------------------------------- differential


class _FixedClock:
    class datetime:
        @staticmethod
        def now():
            return _dt.datetime(2026, 1, 2, 3, 4)


def _pages(folder, engine, out, only, monkeypatch):
    monkeypatch.setattr(execute, "_dt", _FixedClock)
    build_report(folder, out, engine=engine, only=only, progress=False)
    return {p.name: visible_text(p.read_text(encoding="utf-8")) for p in out.glob("*.html")}


def _compare(folder, kind, tmp_path, monkeypatch):
    names = sorted(p.stem for p in notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    skip = set() if CLV_ON_ENGINE else NEEDS_CLV[kind]
    only = [n for n in names if n[:2] not in skip]
    a = _pages(folder, "pandas", tmp_path / "pandas", only, monkeypatch)
    b = _pages(folder, "duckdb", tmp_path / "duckdb", only, monkeypatch)
    assert sorted(a) == sorted(b) == sorted(["index.html", *(f"{n}.html" for n in only)])
    for page in sorted(a):
        diff = list(
            difflib.unified_diff(a[page].splitlines(), b[page].splitlines(), lineterm="", n=0)
        )
        assert not diff, f"{page} differs between the engines:\n" + "\n".join(diff[:40])
    assert "This notebook failed" not in b["index.html"]


@pytest.mark.slow
def test_report_on_duckdb_reads_as_on_pandas_sample(tmp_path, monkeypatch):
    _compare(cxkit.sample_dir(), "contractual", tmp_path, monkeypatch)


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("CXKIT_SHAPES") != "1",
    reason="two more whole reports per shape (~1 min each); run with CXKIT_SHAPES=1",
)
@pytest.mark.parametrize("shape", ["no_churn_dates", "events_only"])
def test_report_on_duckdb_reads_as_on_pandas_shapes(shape, tmp_path, monkeypatch):
    from cxkit.shapes import write_shape

    folder = write_shape(shape, tmp_path / shape, customers=400, seed=3)
    _compare(folder, "non-contractual", tmp_path, monkeypatch)


def test_each_duckdb_kernel_gets_its_share_of_memory(tmp_path, monkeypatch):
    """Two kernels at once on DuckDB: each gets 60% of the machine / 2 as its memory limit
    (DuckDB's default, 80% per connection, would let them ask for 160%); a limit the user set
    is kept; the parent's environment is left as it was."""

    from cxkit.engine.journey import MEMORY_LIMIT_ENV

    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    for name in ("01_a", "02_b"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [
            nbformat.v4.new_markdown_cell(f"# {name}"),
            nbformat.v4.new_code_cell(
                "data_dir = None\nengine = 'pandas'", metadata={"tags": ["parameters"]}
            ),
            nbformat.v4.new_code_cell(
                "import cxkit\nfrom cxkit.story import Finding, show\n"
                "j = cxkit.read_journey(data_dir, engine=engine)\n"
                "got = j.backend.raw_sql(\"SELECT current_setting('memory_limit')\").fetchone()[0]\n"
                "show(Finding('demo.limit', 'Limit {v}.', {'v': got}, headline=True))"
            ),
        ]
        nbformat.write(nb, nbs / f"{name}.ipynb")
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    share = 0.6 * total / 2
    out = tmp_path / "out"
    build_report(cxkit.sample_dir(), out, notebooks=nbs, engine="duckdb", jobs=2, progress=False)
    import json

    found = json.loads((out / "findings.json").read_text())
    for name in ("01_a", "02_b"):
        limit = found[name][0]["values"]["v"]  # DuckDB's own words, e.g. "6.7 GiB"
        number, unit = limit.split()
        size = float(number) * {"MiB": 2**20, "GiB": 2**30}[unit]
        assert size == pytest.approx(share, rel=0.02), limit
    assert MEMORY_LIMIT_ENV not in os.environ
    # a limit the user set is kept (the kernels inherit it as it is); pandas sets none
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1GB")
    with execute._kernel_memory("duckdb", 2):
        assert os.environ[MEMORY_LIMIT_ENV] == "1GB"
    monkeypatch.delenv(MEMORY_LIMIT_ENV)
    with execute._kernel_memory("pandas", 2):
        assert MEMORY_LIMIT_ENV not in os.environ

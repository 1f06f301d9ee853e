"""`cxkit report`: runs every notebook on a data folder, writes offline HTML, fails loudly."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import cxkit
from cxkit.simulate import simulate, write_sample

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MARKUP_CHANNEL = "<script>alert('channel')</script>"
MARKUP_EVENT = "<b onmouseover=alert(1)>help</b>"
EXTERNAL = re.compile(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", re.I)


def run_report(*args):
    return subprocess.run(
        [sys.executable, "-m", "cxkit", "report", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def check_report(out):
    html_files = sorted(out.glob("*.html"))
    names = {p.stem for p in html_files}
    assert names == {"index"} | {p.stem for p in NOTEBOOKS}
    for path in html_files:
        text = path.read_text()
        assert not EXTERNAL.search(text), f"{path.name} fetches from the network"
        assert "@import url(http" not in text
        if path.stem != "index":
            assert text.count("data:image/png;base64") >= 1, f"{path.name} has no figure"
            assert "Traceback" not in text
    index = (out / "index.html").read_text()
    for nb in NOTEBOOKS:
        assert f'href="{nb.stem}.html"' in index


@pytest.fixture(scope="module")
def second_dataset(tmp_path_factory):
    """Another world: the pain point is social add-to-cart, tickets do not matter, detractors
    matter more, referral is not better."""
    journey, truth = simulate(
        customers=2000,
        seed=11,
        pain_point={"channel": "social", "step": "add_to_cart", "factor": 0.4},
        drivers={
            "support_tickets_30d": 1.0,
            "detractor": 2.5,
            "acquisition_channel": {"referral": 1.0, "ads": 1.3},
        },
    )
    # names from the data carrying markup: they must show as text, never act as HTML
    ev, cu = journey.events, journey.customers
    ev["channel"] = ev["channel"].cat.rename_categories({"email": MARKUP_CHANNEL})
    ev["event"] = ev["event"].cat.rename_categories({"help_center": MARKUP_EVENT})
    cu["acquisition_channel"] = cu["acquisition_channel"].cat.rename_categories(
        {"email": MARKUP_CHANNEL}
    )
    return write_sample(journey, truth, tmp_path_factory.mktemp("second"))


@pytest.fixture(scope="module")
def analysts_folder(tmp_path_factory):
    """An analyst's export: own event names (described in funnel.json), Parquet events, no
    surveys and no truth file."""
    journey, _ = simulate(customers=900, seed=21)
    ev = journey.events.copy()
    ev["event"] = ev["event"].cat.rename_categories(
        {"site_visit": "page_view", "purchase": "order_completed", "support_ticket": "ticket"}
    )
    folder = tmp_path_factory.mktemp("analyst")
    ev.rename(columns={"customer_id": "customer_id"}).to_parquet(folder / "events.parquet")
    journey.customers.drop(columns="loyalty_tier").to_csv(folder / "customers.csv", index=False)
    steps = {
        "awareness": [
            "ad_click",
            "social_click",
            "email_click",
            "referral_visit",
            "organic_search",
        ],
        "visit": "page_view",
        "product": "product_view",
        "cart": "add_to_cart",
        "checkout": "checkout",
        "order": "order_completed",
    }
    (folder / "funnel.json").write_text(json.dumps({"steps": steps, "window": "7D"}))
    return folder


@pytest.mark.slow
def test_report_on_an_analysts_own_folder(tmp_path, analysts_folder):
    done = run_report("--data", analysts_folder, "--out", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    check_report(tmp_path)
    funnel_page = (tmp_path / "01_buyer_funnel.html").read_text()
    assert "<td>order</td>" in funnel_page and "within 7 days" in funnel_page


@pytest.mark.slow
def test_report_on_the_sample(tmp_path):
    done = run_report("--out", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    check_report(tmp_path)
    for nb in NOTEBOOKS:
        assert nb.stem in done.stdout  # progress per notebook


@pytest.mark.slow
def test_report_on_a_second_dataset(tmp_path, second_dataset):
    done = run_report("--data", second_dataset, "--out", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    check_report(tmp_path)
    findings = json.loads((tmp_path / "findings.json").read_text())
    assert findings["00_journey_overview"]
    shown = {"channel": 0, "event": 0}
    for path in tmp_path.glob("*.html"):
        text = path.read_text()
        assert MARKUP_CHANNEL not in text and MARKUP_EVENT not in text, path.name
        assert "<script>" not in text.lower(), path.name  # our template has no script at all
        shown["channel"] += text.count("&lt;script&gt;alert(")
        shown["event"] += text.count("&lt;b onmouseover=alert(1)&gt;help&lt;/b&gt;")
    assert shown["channel"] > 0 and shown["event"] > 0, shown


def test_failing_notebook_fails_the_command_naming_it(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Broken"),
        nbformat.v4.new_code_cell("data_dir = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('no such segment')"),
    ]
    folder = tmp_path / "nbs"
    folder.mkdir()
    nbformat.write(nb, folder / "07_broken.ipynb")
    done = run_report("--notebooks", folder, "--out", tmp_path / "out")
    assert done.returncode == 1
    assert "07_broken.ipynb" in done.stderr and "ValueError: no such segment" in done.stderr
    assert "cell 4" in done.stderr  # counted after the injected parameters cell
    assert (tmp_path / "out" / "07_broken.html").exists()  # rendered, traceback included


def test_parameters_are_injected_and_code_hidden(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Echo"),
        nbformat.v4.new_code_cell("data_dir = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("secret_code_marker = 1"),
        nbformat.v4.new_code_cell("print('data is', data_dir)"),
    ]
    folder = tmp_path / "nbs"
    folder.mkdir()
    nbformat.write(nb, folder / "01_echo.ipynb")
    paths = cxkit.build_report(
        cxkit.sample_dir(), tmp_path / "out", notebooks=folder, progress=False
    )
    text = paths[1].read_text()
    assert f"data is {cxkit.sample_dir().resolve()}" in text
    assert "secret_code_marker" not in text
    shown = cxkit.build_report(
        cxkit.sample_dir(), tmp_path / "code", notebooks=folder, progress=False, show_code=True
    )[1].read_text()
    assert "secret_code_marker" in shown


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_are_stored_without_outputs_and_have_parameters(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "data_dir" in tagged[0].source


def test_import_is_light():
    code = (
        "import sys, time; t = time.perf_counter(); import cxkit; "
        "heavy = [m for m in ('lifelines', 'sklearn', 'matplotlib', 'scipy', 'nbconvert') "
        "if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_all_notebooks_present():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["00", "01", "02", "03"]

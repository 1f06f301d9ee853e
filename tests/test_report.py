"""`cxkit report`: runs every notebook on a data folder, writes offline HTML, fails loudly."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import cxkit
from cxkit.report.execute import ReportError, reader_problems, visible_text
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
        assert str(ROOT) not in text, f"{path.name} shows a path of this machine"
    index = (out / "index.html").read_text()
    for nb in NOTEBOOKS:
        assert f'href="{nb.stem}.html"' in index
    check_one_wording_per_fact(out)


def check_one_wording_per_fact(out):
    """Each finding is written on its report exactly as findings.json (and so the index) has
    it, and a finding that two reports show reads the same in both."""
    findings = json.loads((out / "findings.json").read_text())
    by_key = {}
    for name, found in findings.items():
        page = " ".join(visible_text((out / f"{name}.html").read_text()).split())
        for f in found:
            if f.get("notebook_failed"):
                continue
            text = " ".join(f["text"].split())
            assert text in page, (name, f["key"], text)
            by_key.setdefault((f["key"], text), set()).add(name)
    keys = {}
    for key, text in by_key:
        keys.setdefault(key, set()).add(text)
    assert all(len(texts) == 1 for texts in keys.values()), {
        k: t for k, t in keys.items() if len(t) > 1
    }


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
    assert [p.stem[:2] for p in NOTEBOOKS] == ["00", "01", "02", "03", "04"]


def _notebook(folder, name, *sources):
    """A notebook with a title, the parameters cell and one code cell per source."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {name.split('_', 1)[1].title()}"),
        nbformat.v4.new_code_cell("data_dir = None", metadata={"tags": ["parameters"]}),
        *(nbformat.v4.new_code_cell(src) for src in sources),
    ]
    folder.mkdir(exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")


SHOW = (
    "from cxkit.story import Finding, not_applicable, show\n"
    "show(Finding('demo.{key}', '{text} **{{n}}**.', {{'n': 42}}, headline=True, summary=True),\n"
    "     Finding('demo.detail', 'A detail that stays on its page ({{n}}).', {{'n': 7}}),\n"
    "     not_applicable('demo.surveys', 'No survey answers; add surveys.csv to see them.'))"
)


def test_index_shows_headlines_only_of_notebooks_that_ran(tmp_path):
    nbs = tmp_path / "nbs"
    _notebook(nbs, "01_fine", SHOW.format(key="fine", text="Fine headline"))
    _notebook(
        nbs,
        "02_broken",
        SHOW.format(key="broken", text="Broken headline"),
        "raise ValueError('no such segment')",
    )
    with pytest.raises(ReportError, match="02_broken.ipynb, cell 4: ValueError"):
        cxkit.build_report(cxkit.sample_dir(), tmp_path / "out", notebooks=nbs, progress=False)
    index = (tmp_path / "out" / "index.html").read_text()
    assert "Fine headline 42." in index
    assert "Broken headline" not in index
    assert "This notebook failed: 02_broken.ipynb, cell 4: ValueError: no such segment" in index
    assert "A detail that stays on its page" not in index  # not a headline
    assert index.count("Not covered by this data") == 1  # for the notebook that ran
    assert "No survey answers; add surveys.csv to see them." in index
    summary = index[index.index("In short") : index.index("01_fine.html")]
    assert "Fine headline" in summary
    findings = json.loads((tmp_path / "out" / "findings.json").read_text())
    fine = {f["key"]: f for f in findings["01_fine"]}
    assert set(fine) == {"demo.fine", "demo.surveys"}  # headlines and not-applicable notes
    assert fine["demo.fine"]["values"] == {"n": 42} and fine["demo.fine"]["text"].endswith("42.")
    assert fine["demo.surveys"]["applies"] is False
    assert all(f["notebook_failed"].startswith("02_broken") for f in findings["02_broken"])


def test_index_takes_old_style_headlines(tmp_path):
    nbs = tmp_path / "nbs"
    _notebook(nbs, "01_old", "from cxkit.story import headline\nheadline('Old **{n}**.', n=3)")
    cxkit.build_report(cxkit.sample_dir(), tmp_path / "out", notebooks=nbs, progress=False)
    index = (tmp_path / "out" / "index.html").read_text()
    assert "<p>Old 3.</p>" in index and "Not covered" not in index
    (found,) = json.loads((tmp_path / "out" / "findings.json").read_text())["01_old"]
    assert found["headline"] and found["applies"] and found["text"] == "Old 3."


def test_a_dead_kernel_or_a_slow_cell_fails_its_notebook_only(tmp_path):
    nbs = tmp_path / "nbs"
    _notebook(nbs, "01_dies", "x = 1", "import os\nos._exit(3)")
    _notebook(nbs, "02_slow", "import time\ntime.sleep(60)")
    _notebook(nbs, "03_fine", "print('still ran')")
    started = time.perf_counter()
    with pytest.raises(ReportError) as failed:
        cxkit.build_report(
            cxkit.sample_dir(), tmp_path / "out", notebooks=nbs, progress=False, timeout=3
        )
    assert time.perf_counter() - started < 50
    message = str(failed.value)
    assert "01_dies.ipynb, cell 4 (in `import os`): the kernel died" in message
    assert "02_slow.ipynb, cell 3 (in `import time`): the cell ran longer than 3 s" in message
    assert "03_fine" not in message
    assert "still ran" in (tmp_path / "out" / "03_fine.html").read_text()
    index = (tmp_path / "out" / "index.html").read_text()
    assert index.count("This notebook failed") == 2


def test_visible_text_and_reader_problems():
    page = """<html><head><title>Report</title><style>.x { width: inf; } /* None */</style>
    <script>var a = None; throw new Error("x");</script></head><body>
    <h1>Funnel</h1><p>See the information page: an infinite loop is <b>not</b> shown.</p>
    <p>Nonetheless, Errors and errors, standard error, Truely, Falsehood, NaTional.</p>
    <table><tr><td>nan</td><td>12</td></tr></table><p>rate &lt;b&gt; 4%</p>
    <!-- a comment saying NaN --></body></html>"""
    text = visible_text(page)
    assert "width" not in text and "var a" not in text and "comment" not in text
    assert "rate <b> 4%" in text and "Funnel\nSee the information" in text
    assert [p.split(":")[0] for p in reader_problems(text)] == ["nan"]  # the table cell only
    bad = "nan% NaN -inf inf days NaT None True False Traceback ValueError Error: DataError"
    names = [p.split(":")[0] for p in reader_problems(bad)]
    assert (
        names
        == ["nan", "nan", "inf", "inf", "NaT", "None", "True", "False", "Traceback"]
        + ["Error"] * 3
    )
    assert reader_problems("12.5% of 1,204 customers; median 3 days.") == []
    # adjacent cells do not glue into a word; inline markup does not split one
    assert reader_problems(visible_text("<td>Na</td><td>N</td>")) == []
    assert reader_problems(visible_text("<p>is <b>None</b></p>")) == ["None: is None"]


def test_glossary_leaves_out_survey_terms_the_data_lacks(sample):
    from cxkit.data import journey_from_tables
    from cxkit.report.execute import _glossary

    assert '<dt id="g-nps">NPS</dt>' in _glossary(sample)
    assert '<dt id="g-csat">CSAT</dt>' in _glossary(sample)
    bare = journey_from_tables(sample.events, sample.customers)
    assert "NPS" not in _glossary(bare) and "CSAT" not in _glossary(bare)
    assert "Hazard ratio" in _glossary(bare) and "ROC AUC" in _glossary(bare)


def test_first_use_of_a_term_links_to_its_definition():
    from cxkit.report.glossary import link_terms

    page = (
        "<h2>Hazard ratio</h2><p>A hazard ratio of 2 and another hazard ratio.</p>"
        "<p>ROC AUC 0.7; NPS -12 (<code>NPS</code>).</p><a href='x'>lift</a>"
    )
    out = link_terms(page, kinds={"nps"})
    assert out.count('class="gloss"') == 3  # hazard ratio, ROC AUC, NPS: once each
    assert "<h2>Hazard ratio</h2>" in out  # not in headings
    assert out.index('href="index.html#g-hazard-ratio"') < out.index("another hazard ratio")
    assert "<code>NPS</code>" in out and ">lift</a>" in out  # code and links left alone
    assert 'href="index.html#g-csat"' not in link_terms("<p>CSAT 70%</p>", kinds={"nps"})


GENERATED = ("Made by cxkit on", "Report made")


def _differing_lines(a, b):
    """{file name: [(line in a, line in b), ...]} for files of two report folders that differ."""
    names = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file())
    out = {}
    for name in names:
        left, right = (a / name).read_bytes(), (b / name).read_bytes()
        if left != right:
            pairs = zip(left.splitlines(), right.splitlines(), strict=True)
            out[name] = [(x, y) for x, y in pairs if x != y]
    return out


def _only_the_generated_line_differs(a, b):
    for name, lines in _differing_lines(a, b).items():
        assert len(lines) == 1, (name, lines[:3])
        assert any(g.encode() in lines[0][0] for g in GENERATED), (name, lines[0])


def test_same_input_gives_the_same_html_but_for_the_generated_line(tmp_path):
    # names kept in a set come out in the order of the kernel's string hashing, which
    # changes from one Python process to the next unless the kernel fixes it
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Twice"),
        nbformat.v4.new_code_cell("data_dir = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import cxkit\nj = cxkit.read_journey(data_dir)\n"
            "cxkit.say('Events seen: ' + ', '.join(set(j.events['event'].astype(str))))"
        ),
    ]
    folder = tmp_path / "nbs"
    folder.mkdir()
    nbformat.write(nb, folder / "01_twice.ipynb")
    data = tmp_path / "data"
    data.mkdir()
    names = [f"step_{c}" for c in "abcdefghijklmnop"]
    rows = [f"{i % 3},2024-01-{1 + i % 28:02d},{name}" for i, name in enumerate(names)]
    (data / "events.csv").write_text("customer_id,timestamp,event\n" + "\n".join(rows) + "\n")
    for out in ("a", "b"):
        cxkit.build_report(data, tmp_path / out, notebooks=folder, progress=False)
    text = (tmp_path / "a" / "01_twice.html").read_text()
    assert "Events seen: " in text and "step_p" in text
    _only_the_generated_line_differs(tmp_path / "a", tmp_path / "b")


@pytest.mark.slow
def test_every_notebook_twice_gives_the_same_html(tmp_path):
    journey, truth = simulate(customers=300, seed=3)
    data = write_sample(journey, truth, tmp_path / "data")
    # one notebook at a time, then two at once: the pages do not depend on it
    for out, jobs in (("a", 1), ("b", 2)):
        cxkit.build_report(data, tmp_path / out, progress=False, jobs=jobs)
    _only_the_generated_line_differs(tmp_path / "a", tmp_path / "b")


def test_index_says_each_thing_once(tmp_path):
    """An overview gives way to its analysis's own report; a repeated sentence is said once."""
    nbs = tmp_path / "nbs"
    _notebook(
        nbs,
        "00_overview",
        "from cxkit.story import Finding, not_applicable, show\n"
        "show(Finding('demo.overview', 'Demo overview {n}.', {'n': 1}, headline=True),\n"
        "     Finding('other.overview', 'Other overview {n}.', {'n': 2}, headline=True),\n"
        "     Finding('overview.volumes', 'Volumes {n}.', {'n': 3}, headline=True, summary=True),\n"
        "     not_applicable('demo.surveys', 'No survey answers.'))",
    )
    _notebook(
        nbs,
        "01_demo",
        "from cxkit.story import Finding, not_applicable, show\n"
        "show(Finding('demo.main', 'Demo main {n}.', {'n': 4}, headline=True),\n"
        "     Finding('demo.again', 'Volumes {n}.', {'n': 3}, headline=True),\n"
        "     Finding('demo.second', 'Demo second {n}.', {'n': 5}, headline=True),\n"
        "     not_applicable('demo.surveys', 'No survey answers.'),\n"
        "     not_applicable('demo.act', 'Nothing to act on yet. No survey answers.'))",
    )
    cxkit.build_report(cxkit.sample_dir(), tmp_path / "out", notebooks=nbs, progress=False)
    index = (tmp_path / "out" / "index.html").read_text()
    assert "Demo overview" not in index  # its analysis has a report of its own
    assert index.count("Other overview 2.") == 1  # no report of its own: the overview stays
    assert index.count("Volumes 3.") == 1  # in the summary, not again under a notebook
    assert index.count("Demo main 4.") == 1
    assert "Demo second 5." not in index  # one line per report: its lead headline
    assert index.count("No survey answers.") == 1


def test_index_names_each_missing_thing_once(tmp_path):
    """Not-covered notes with one missing thing (a ``needs`` tag) are said once, none under a
    broader tag; a section whose headline is in "In short" points there instead of being empty."""
    nbs = tmp_path / "nbs"
    _notebook(
        nbs,
        "00_overview",
        "from cxkit.story import Finding, not_applicable, show\n"
        "show(Finding('demo.main', 'Demo main {n}.', {'n': 4}, headline=True, summary=True),\n"
        "     not_applicable('exp.scores', 'No surveys at all.', 'surveys'),\n"
        "     not_applicable('exp.nps', 'No 0-10 answers.', 'surveys.nps'),\n"
        "     not_applicable('exp.rfm', 'No revenue for value segments.', 'revenue'),\n"
        "     not_applicable('exp.other', 'Untagged note.'))",
    )
    _notebook(
        nbs,
        "01_demo",
        "from cxkit.story import not_applicable, show\n"
        "show(not_applicable('churn.campaign', 'No revenue for a campaign value.', 'revenue'),\n"
        "     not_applicable('exp.csat', 'No 1-5 answers.', 'surveys.csat'))",
    )
    cxkit.build_report(cxkit.sample_dir(), tmp_path / "out", notebooks=nbs, progress=False)
    index = (tmp_path / "out" / "index.html").read_text()
    notes = index[index.index("Not covered by this data") :]
    for said in ("No surveys at all.", "No revenue for value segments.", "Untagged note."):
        assert notes.count(said) == 1
    for dropped in ("No 0-10 answers.", "No 1-5 answers.", "No revenue for a campaign value."):
        assert dropped not in index
    assert index.count("Demo main 4.") == 1  # in "In short" only
    section = index[index.index("00_overview.html") : index.index("01_demo.html")]
    assert "Its main result is under “In short” above" in section
    found = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert {f["key"]: f.get("needs") for f in found["01_demo"]} == {
        "churn.campaign": "revenue",
        "exp.csat": "surveys.csat",
    }  # every note is kept for dashboards


def test_figures_are_sharp_and_described(tmp_path):
    """Report images are pixel-doubled PNG whose alt text says what the chart shows."""
    import base64
    import re
    import struct

    nbs = tmp_path / "nbs"
    _notebook(
        nbs,
        "01_chart",
        "import cxkit, matplotlib.pyplot as plt\ncxkit.set_theme()\n"
        "fig, ax = plt.subplots(figsize=(4, 3))\n"
        "ax.plot([1, 2], label='web'); ax.plot([2, 1], label='app')\n"
        "ax.set(title='Visits per week', xlabel='week', ylabel='visits'); ax.legend()",
    )
    cxkit.build_report(cxkit.sample_dir(), tmp_path / "out", notebooks=nbs, progress=False)
    page = (tmp_path / "out" / "01_chart.html").read_text()
    imgs = re.findall(r"<img [^>]*>", page)
    assert len(imgs) == 1
    alt = re.search(r'alt="([^"]*)"', imgs[0]).group(1)
    assert alt == "Chart. Visits per week — across: week; up: visits — groups: web and app."
    png = base64.b64decode(re.search(r"base64,([^\"]+)", imgs[0]).group(1))
    pixels = struct.unpack(">I", png[16:20])[0]  # IHDR width
    shown = int(re.search(r'width="?(\d+)', imgs[0]).group(1))
    assert pixels == 2 * shown and shown > 300  # drawn at 2x the size it is shown


def test_report_writes_the_tables_as_csv_and_links_them(tmp_path):
    nbs, out = tmp_path / "nbs", tmp_path / "out"
    _notebook(
        nbs,
        "01_tables",
        "import cxkit, pandas as pd\ncxkit.story.export_tables(exports_dir)\n"
        "raw = pd.DataFrame({'customer_id': ['c1', 'c2'], 'churn_probability': [0.51234, 0.4]})\n"
        "cxkit.story.show_table(raw.round(1), raw=raw, name='contact_now')",
    )
    (out / "tables").mkdir(parents=True)
    (out / "tables" / "old_table.csv").write_text("from another report\n")
    cxkit.build_report(cxkit.sample_dir(), out, notebooks=nbs, progress=False)
    assert sorted(p.name for p in (out / "tables").iterdir()) == ["contact_now.csv"]
    back = pd.read_csv(out / "tables" / "contact_now.csv")
    assert back["churn_probability"].tolist() == [0.51234, 0.4]
    index = (out / "index.html").read_text()
    assert 'href="tables/contact_now.csv">Customers to contact now' in index
    assert 'href="findings.json"' in index
    assert 'href="tables/contact_now.csv"' in (out / "01_tables.html").read_text()


def test_the_model_csv_leaves_out_the_run_dependent_fit_seconds():
    import numpy as np
    import pandas as pd

    from cxkit.churn.tables import model_export

    rng = np.random.default_rng(5)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    y = pd.Series((X["a"] + rng.normal(size=200) > 0).astype(int))
    result = cxkit.compare_models(X, y)
    assert "fit_seconds" in result.table.columns  # the API keeps it (design.md)
    exported = model_export(result)
    assert "fit_seconds" not in exported.columns
    assert exported["roc_auc"].equals(result.table["roc_auc"])
    source = (ROOT / "notebooks" / "03_churn_prediction.ipynb").read_text()
    assert "raw=result.table," not in source and "model_export(result)" in source

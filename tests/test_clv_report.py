"""Notebook 04 and its findings: on the sample, without amounts, without purchases, on shapes
unlike the sample, in Spanish."""

import dataclasses

import pytest

import cxkit
from cxkit.clv import findings, pipeline
from cxkit.report.execute import reader_problems

pytest.importorskip("pymc_marketing")


def _all(run):
    pipeline.fit(run)
    check = pipeline.check(run)
    contract = pipeline.subscriptions(run)
    return [
        *findings.inputs(run),
        *findings.value(run),
        *findings.at_risk(run),
        *findings.holdout(run, check),
        *findings.subscriptions(run, contract),
        *findings.actions(run),
    ]


def _readable(found):
    for f in found:
        assert not reader_problems(f.plain()), f.plain()


@pytest.fixture(scope="module")
def sample():
    return cxkit.load_sample()


@pytest.fixture(scope="module")
def sample_findings(sample):
    run = pipeline.prepare(sample)
    return run, _all(run)


def test_sample_headlines(sample_findings):
    run, found = sample_findings
    by_key = {f.key: f for f in found}
    value = by_key["clv.value"]
    assert value.headline and value.summary and value.applies
    assert value.values["top"] == pytest.approx(run.result.top_share(0.2))
    assert 20 < value.values["top"] < 100
    risk = by_key["clv.at_risk"]
    gone = (run.result.table["p_alive"] < 0.5) & (run.result.table["frequency"] >= 1)
    assert risk.values["n"] == int(gone.sum()) > 0
    assert by_key["clv.subscriptions"].applies  # the sample has churn dates and revenue
    assert by_key["clv.holdout"].applies
    _readable(found)
    from cxkit.clv.tables import top_customers

    top = top_customers(run.result, n=5)
    assert top.index.name == "Customer" and len(top) == 5
    assert top["Expected value"].is_monotonic_decreasing
    best = run.result.table.sort_values("expected_value").iloc[-1]
    assert top.index[0] == best["customer_id"]
    assert top["Purchases so far"].iloc[0] == best["frequency"] + 1


def test_without_amounts_counts_purchases_only(sample):
    no_money = dataclasses.replace(sample, events=sample.events.drop(columns="value"))
    run = pipeline.prepare(no_money)
    assert run.why is None and "monetary_value" not in run.summary
    found = _all(run)
    inputs = found[0].plain()
    assert "carry no amount" in inputs
    value = next(f for f in found if f.key == "clv.value")
    assert "purchases expected" in value.plain() and not run.result.spend_modelled
    _readable(found)


def test_without_purchases_says_why(sample):
    clicks = sample.events[sample.events["event"].isin(["site_visit", "app_login"])]
    run = pipeline.prepare(dataclasses.replace(sample, events=clicks.drop(columns="value")))
    assert run.why == "no_purchases"
    found = _all(run)
    assert not found[0].applies and "no purchases to value" in found[0].plain()
    assert run.result is None
    _readable(found)


def test_too_few_buyers_say_how_many(sample):
    ev = sample.events
    few = ev[ev["customer_id"].isin(ev["customer_id"].drop_duplicates().head(30))]
    run = pipeline.prepare(dataclasses.replace(sample, events=few))
    assert run.why == "too_few"
    text = findings.inputs(run)[0].plain()
    assert text.startswith("Only ") and "at least 50 buyers" in text
    assert findings.value(run) == [] and findings.at_risk(run) == []  # said once


def test_without_the_optional_package_says_what_to_install(sample, monkeypatch):
    from cxkit.clv import backend

    monkeypatch.setattr(backend, "available", lambda: False)
    run = pipeline.prepare(sample)
    assert run.why == "not_installed"
    found = _all(run)
    assert run.result is None
    assert [f.applies for f in found] == [False, True]  # the reason once; subscribers still run
    assert 'pip install "cxkit[clv]"' in found[0].plain()
    _readable(found)


def test_spanish_findings_keep_the_numbers(sample_findings, monkeypatch):
    from cxkit import i18n

    run, found = sample_findings
    monkeypatch.setenv("CXKIT_LANG", "es")
    assert i18n.language() == "es"
    value = findings.value(run)[0]
    assert value.plain().startswith("El 20% de clientes más valiosos reúne el ")
    assert f"{value.values['top']:.0f}%" in value.plain()


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["events_only", "years", "tiny", "own_names"])
def test_findings_on_shapes_unlike_the_sample(shape, tmp_path):
    from cxkit.shapes import write_shape

    journey = cxkit.read_journey(write_shape(shape, tmp_path / shape))
    run = pipeline.prepare(journey)
    found = _all(run)
    assert run.why is None
    subs = next(f for f in found if f.key == "clv.subscriptions")
    assert subs.applies == (journey.business_model == "contractual")
    _readable(found)


@pytest.mark.slow
def test_notebook_runs_on_the_sample_and_reads_clean(tmp_path, assert_readable):
    from cxkit.report.execute import execute_notebook, export_html

    nb, error = execute_notebook("notebooks/04_customer_value.ipynb")
    assert error is None, error
    export_html(nb, tmp_path / "04_customer_value.html")
    assert_readable(tmp_path)
    page = (tmp_path / "04_customer_value.html").read_text()
    assert "of the revenue expected" in page and "<img" in page


def test_notebook_is_stored_without_outputs():
    import nbformat

    nb = nbformat.read("notebooks/04_customer_value.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])


@pytest.mark.slow
def test_report_index_carries_the_value_headline(tmp_path):
    import json
    import shutil

    folder = tmp_path / "nbs"
    folder.mkdir()
    shutil.copy("notebooks/04_customer_value.ipynb", folder)
    cxkit.build_report(cxkit.sample_dir(), tmp_path / "out", notebooks=folder, progress=False)
    found = json.loads((tmp_path / "out" / "findings.json").read_text())["04_customer_value"]
    value = next(f for f in found if f["key"] == "clv.value")
    index = (tmp_path / "out" / "index.html").read_text()
    assert value["headline"] and value["text"].split(" (")[0] in index

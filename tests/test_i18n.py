"""`--lang es`: the whole report in Spanish from one catalog, English kept as the source."""

import importlib.util
import json
import re
from pathlib import Path

import matplotlib
import pytest

import cxkit
from cxkit import i18n
from cxkit._figure_text import describe_figure, translate_figure
from cxkit._format import duration_text, pct_text
from cxkit.report.execute import reader_problems, visible_text
from cxkit.report.glossary import TERMS, glossary_html, link_terms
from cxkit.story import Finding, not_applicable

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
HOLE = re.compile(r"\{[^{}]*\}")


def _tool():
    spec = importlib.util.spec_from_file_location(
        "missing_translations", ROOT / "tools" / "missing_translations.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def spanish():
    i18n.set_language("es")
    yield
    i18n.set_language(None)


def test_every_finding_and_notebook_text_has_spanish():
    """Any English finding text or notebook cell added without Spanish fails here; run
    `python tools/missing_translations.py` for the stubs to fill in."""
    tool = _tool()
    texts, unchecked = tool.finding_texts()
    assert len(texts) > 150 and len(tool.notebook_texts()) > 40  # the scan finds them
    missing = tool.missing()
    assert not missing, "no Spanish for:\n" + "\n".join(f"  {w}: {t[:90]}" for w, t in missing)
    # texts built in ways the scan cannot follow (helpers, attributes) are listed, not checked
    assert all(where.startswith("cxkit/") for where, _ in unchecked)


def test_spanish_keeps_every_placeholder():
    """A Spanish text that lost or renamed a {placeholder} would show the wrong number."""
    catalog = json.loads((ROOT / "cxkit" / "locale" / "es.json").read_text(encoding="utf-8"))
    wrong = [
        k
        for k, v in catalog.items()
        if set(HOLE.findall(k)) != set(HOLE.findall(v)) and "{s}" not in k
    ]
    assert not wrong
    assert all(v.strip() for v in catalog.values())


def test_the_scan_follows_concatenation_and_fstring_constants():
    tool = _tool()
    texts = {t for _, t in tool.finding_texts()[0]}
    # implicit concatenation, and an f-string whose hole is a module constant (_ADD_STEPS)
    assert (
        "The funnel has one step, so no step loses people to the next; add the steps that "
        "lead to it in the [funnel] section of cxkit.toml." in texts
    )
    # built up with +=: each piece is a key
    assert "; none has left so far." in texts
    # an f-string hole naming a local value stays a hole
    assert any("({first})" in t and t.startswith("No one entered the funnel") for t in texts)


def test_translate_exact_pieces_and_fallback(spanish):
    assert i18n.translate("Glossary") == "Glosario"
    assert i18n.translate("  Glossary\n") == "  Glosario\n"
    assert i18n.translate("no such text, ever") == "no such text, ever"
    assert "no such text, ever" in i18n.missing()
    # a template the code put together from two catalog pieces
    composed = (
        "From **{first}** to **{last}**, **{people:,}** people appear in the events"
        "; none has left so far."
    )
    assert i18n.translate(composed) == (
        "Del **{first}** al **{last}** aparecen **{people:,}** personas en los eventos"
        "; ninguna se ha dado de baja hasta ahora."
    )
    # an f-string's hole matches the name the code put in, and keeps it
    assert i18n.translate(
        "No one entered the funnel: no event matches its first step (web\\_visit). "
        "Check the first step of the [funnel] section in cxkit.toml."
    ).startswith(
        "Nadie entró en el embudo: ningún evento coincide con su primer paso (web\\_visit)."
    )
    # a hole stands for a value, never for an untranslated sentence
    assert i18n.translate("Go there. Then come back to us") == "Go there. Then come back to us"
    assert i18n.translate("add to cart") == "add to cart"  # a name, not a range
    i18n.set_language("en")
    assert i18n.translate("Glossary") == "Glossary"


def test_language_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CXKIT_LANG", "es")
    assert i18n.language() == "es"
    monkeypatch.setenv("CXKIT_LANG", "xx")
    assert i18n.language() == "en"
    with pytest.raises(ValueError, match="en, es"):
        i18n.set_language("fr")


def test_findings_and_durations_in_spanish_with_the_same_numbers(spanish):
    f = Finding(
        "funnel.weakest_step",
        "The weakest step overall is **{previous} → {step}**: only **{pct:.1f}%** continue "
        "(95% CI {ci_low:.1f}–{ci_high:.1f}%), which loses **{lost:,}** people at that step.",
        {"previous": "cart", "step": "checkout", "pct": 41.25, "ci_low": 39.04, "ci_high": 43.5,
         "lost": 1234},
    )  # fmt: skip
    assert f.plain() == (
        "El paso más débil en conjunto es cart → checkout: solo continúa el 41.2% "
        "(IC del 95% 39.0–43.5%), lo que pierde 1,234 personas en ese paso."
    )
    assert f.to_dict()["values"]["lost"] == 1234
    na = not_applicable("churn.x", "No customer is active today, so there is no one to score.")
    assert (
        na.markdown() == "*Ningún cliente está activo hoy, así que no hay nadie a quien puntuar.*"
    )
    assert duration_text(46) == "46 días"
    assert duration_text(1, unit="day") == "1 día"
    assert duration_text(400) == "13 meses"
    assert duration_text(0.0104) == "15 minutos"
    assert pct_text(float("nan")) == "desconocido"
    assert Finding("k", "{x}", {"x": float("nan")}).plain() == "desconocido"
    i18n.set_language("en")
    assert duration_text(46) == "46 days" and f.plain().startswith("The weakest step")


def test_figure_texts_and_alt_text_in_spanish(spanish):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.bar(["champions", "at risk", "web"], [3, 2, 1], label="customers")
    ax.set(title="How long customers stay", xlabel="Days since signup", ylabel="% still customers")
    ax.legend()
    translate_figure(fig)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["campeones", "en riesgo", "web"]
    assert describe_figure(fig) == (
        "Gráfico. Cuánto tiempo se quedan los clientes — en horizontal: Días desde el alta; "
        "en vertical: % que sigue siendo cliente — grupos: clientes."
    )


def test_glossary_in_spanish_links_the_spanish_terms():
    html = glossary_html({"nps"}, lang="es")
    assert "Razón de riesgo (hazard ratio)" in html and 'id="g-hazard-ratio"' in html
    assert "Intervalo de confianza (IC)" in html
    page = link_terms("<p>La razón de riesgo es 2 y el NPS es 10.</p>", kinds={"nps"}, lang="es")
    assert 'href="index.html#g-hazard-ratio"' in page and ">razón de riesgo</a>" in page
    assert ">NPS</a>" in page
    assert "Cuánto multiplica un factor" in page  # the Spanish definition as the tooltip
    english = link_terms("<p>The hazard ratio is 2.</p>")
    assert "How much a factor" in english
    assert {t.anchor for t in TERMS} == set(cxkit.report.glossary.SPANISH)


def test_cli_takes_the_language_and_kernels_get_it():
    from cxkit.cli import build_parser
    from cxkit.report.execute import _kernel_manager

    assert build_parser().parse_args(["report", "--lang", "es"]).lang == "es"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["report", "--lang", "fr"])
    spec = _kernel_manager("es").kernel_spec_manager.get_kernel_spec("python3")
    assert spec.env["CXKIT_LANG"] == "es" and spec.env["PYTHONHASHSEED"] == "0"


@pytest.mark.slow
def test_the_overview_report_in_both_languages(tmp_path, assert_readable):
    """Notebook 00 on the sample, in English and in Spanish: same numbers, Spanish words."""
    en = cxkit.build_report(out=tmp_path / "en", only=["00"], progress=False, lang="en")
    es = cxkit.build_report(out=tmp_path / "es", only=["00"], progress=False, lang="es")
    index_en, index_es = en[0].read_text(), es[0].read_text()
    page_es = es[1].read_text()
    assert '<html lang="es">' in index_es and '<html lang="es">' in page_es
    assert '<html lang="en">' in index_en
    text_index, text_page = visible_text(index_es), visible_text(page_es)
    for heading in ("Informe del recorrido del cliente", "En resumen", "Glosario", "Descargas"):
        assert heading in text_index
    assert "Razón de riesgo (hazard ratio)" in text_index
    assert "El recorrido del cliente de un vistazo" in text_page
    assert "Qué contienen los datos" in text_page
    assert "todos los informes" in text_page and "Generado por cxkit el" in text_page
    # the same finding, in Spanish, with the same numbers
    found = {
        lang: {f["key"]: f for f in json.loads((tmp_path / lang / "findings.json").read_text())[
            "00_journey_overview"]}
        for lang in ("en", "es")
    }  # fmt: skip
    vol_en, vol_es = found["en"]["overview.volumes"], found["es"]["overview.volumes"]
    assert vol_en["values"] == vol_es["values"]
    assert vol_en["text"].startswith("From ") and vol_es["text"].startswith("Del ")
    digits = re.compile(r"\d+(?:[.,]\d+)*")
    assert digits.findall(vol_en["text"]) == digits.findall(vol_es["text"])
    assert vol_es["text"] in " ".join(text_page.split())
    # images described in Spanish
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', page_es)
    assert alts and all(a.startswith("Gráfico") for a in alts)
    # no English sentence of the catalog left on the Spanish pages
    catalog = i18n.catalog("es")
    sentences = {
        s.strip()
        for k in catalog
        for s in re.split(r"(?<=[.:;])\s+", HOLE.sub("\0", k.replace("**", "")))
        if len(s) > 30 and "\0" not in s and not s.startswith(("#", "-", "*", "["))
    }
    flat = " ".join((text_index + " " + text_page).split())
    left = [s for s in sentences if s in flat and catalog.get(s, "") != s]
    assert not left, left[:5]
    assert_readable(tmp_path / "es")
    assert not reader_problems(text_page)


def test_reader_tables_in_spanish_keep_the_data_names(spanish):
    import pandas as pd

    from cxkit.story import _translated_table

    table = pd.DataFrame(
        {"Step": ["add to cart", "at risk"], "95% CI": ["-46.2 to -41.3", "2 horas to 14 horas"]}
    )
    out = _translated_table(table)
    assert list(out.columns) == ["Paso", "IC del 95%"]
    assert out["Paso"].tolist() == ["add to cart", "en riesgo"]  # a name from the data stays
    assert out["IC del 95%"].tolist() == ["-46.2 a -41.3", "2 horas a 14 horas"]
    assert list(table.columns) == ["Step", "95% CI"]  # the input is not modified


def test_a_duration_keeps_its_digits_in_spanish(sample):
    """The retention headline is one number in both languages (8.2 months, 8.2 meses)."""
    from cxkit.retention.findings import overview

    english = overview(sample)[0].values
    i18n.set_language("es")
    try:
        spanish = overview(sample)[0].values
    finally:
        i18n.set_language(None)
    assert english["median"].endswith("months") and spanish["median"].endswith("meses")
    for key in ("median", "low", "high"):
        assert english[key].split()[0] == spanish[key].split()[0]  # 8.2 and 8.2, not 8

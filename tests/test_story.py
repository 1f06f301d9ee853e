"""Sentences with computed values: escaped, formatted; the kit's shared plots."""

import matplotlib.pyplot as plt

import cxkit
from cxkit.story import escape, say


def test_values_are_escaped_but_the_template_is_not():
    md = say(
        "Top channel: **{name}** ({pct:.1f}%)", name="<script>alert(1)</script>", pct=41.25
    ).data
    assert md.startswith("Top channel: **&lt;script&gt;alert\\(1\\)&lt;/script&gt;**")
    assert md.endswith("(41.2%)")
    assert "<script>" not in md


def test_markdown_punctuation_in_names_is_literal():
    assert escape("add_to_cart") == "add\\_to\\_cart"
    assert escape("[click](http://x)") == "\\[click\\]\\(http://x\\)"


def test_default_formats():
    assert say("{n} and {x}", n=12345, x=2.345).data == "12,345 and 2.3"


def test_plot_timeline_returns_the_axes_it_was_given(sample):
    fig, ax = plt.subplots()
    out = cxkit.plots.plot_timeline(sample.customers, x="signup_at", freq="M", ax=ax)
    assert out is ax
    (line,) = ax.get_lines()
    assert line.get_ydata().sum() == len(sample.customers)
    out = cxkit.plots.plot_timeline(sample.customers, x="signup_at", by="plan", ax=ax)
    assert len(ax.get_lines()) == 3


def test_set_theme_changes_nothing_until_called():
    import subprocess
    import sys

    code = (
        "import matplotlib as mpl; before = dict(mpl.rcParams); import cxkit, cxkit.plots; "
        "print(dict(mpl.rcParams) == before)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "True", done.stderr


def test_plot_timeline_names_a_missing_column(sample):
    import pytest

    with pytest.raises(cxkit.DataError, match=r"column 'signup'(.|\n)*columns present"):
        cxkit.plots.plot_timeline(sample.customers, x="signup")


def test_show_table_writes_the_raw_table_only_when_exporting(tmp_path, monkeypatch):
    import pandas as pd
    import pytest

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    raw = pd.DataFrame({"step": ["visit", "buy"], "pct": [100.0, 12.3456]})
    reader = pd.DataFrame({"Step": ["visit", "buy"], "%": ["100.0%", "12.3%"]})
    cxkit.story.export_tables(None)
    cxkit.story.show_table(reader, raw=raw, name="funnel")
    assert shown == [reader] and not list(tmp_path.iterdir())
    cxkit.story.export_tables(tmp_path / "tables")
    try:
        cxkit.story.show_table(reader, raw=raw, name="funnel")
        back = pd.read_csv(tmp_path / "tables" / "funnel.csv")
        assert back["pct"].tolist() == [100.0, 12.3456]  # full precision, no index column
        assert list(back.columns) == ["step", "pct"]
        assert "(tables/funnel.csv)" in shown[-1].data
        with pytest.raises(ValueError, match="name"):
            cxkit.story.show_table(reader, name="../escape")
    finally:
        cxkit.story.export_tables(None)


def test_log_axes_read_as_plain_numbers_and_colours_are_explained(sample):
    from cxkit.funnel import funnel_steps

    cxkit.set_theme()
    fit = cxkit.cox(cxkit.survival_table(sample), ["plan", "device"], cv=0)
    ax = cxkit.plots.plot_hazard_ratios(fit)
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks and all(float(t) > 0 for t in ticks)  # "0.5", "1": no 10⁻¹ mathtext
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "goes with staying longer" in legend  # annual plan (HR about 0.5, planted)
    assert "no clear link (interval includes 1)" in legend  # device (planted HR 1)
    fs = funnel_steps(sample)
    curves = cxkit.time_to_convert(sample, fs.steps, curve=True, **fs.kwargs)
    ax = cxkit.plots.plot_time_to_convert(curves, ax=plt.figure().gca())
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.01", "0.1", "1", "10", "100"]
    fig, ax = plt.subplots()  # a user's own log axis after set_theme: plain numbers too
    ax.loglog([1, 1000], [1, 1000])
    fig.canvas.draw()
    assert "$" not in "".join(t.get_text() for t in ax.get_xticklabels())
    plt.close("all")


def test_log_ticks_on_limits_that_start_at_zero():
    # limits set before the log scale can start at 0 (the doctest of plot_time_to_convert
    # failed so: log10(0))
    import matplotlib.pyplot as plt

    from cxkit._theme import log_ticks

    fig, ax = plt.subplots()
    ax.plot([0.3, 40], [1, 2])
    ax.set_xlim(0, 50)
    ax.set_xscale("log")
    log_ticks(ax)
    ticks = list(ax.get_xticks())
    plt.close(fig)
    assert ticks == [0.5, 1, 2, 5, 10, 20, 50]

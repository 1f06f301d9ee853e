"""Figures for readers who cannot see them: a plain description, and sharp images with it.
Figures and tables also come out in the report's language (:mod:`cxkit.i18n`).

In a notebook, :func:`cxkit.set_theme` shows figures as pixel-doubled PNG (sharp on any screen
and in the HTML report) carrying :func:`describe_figure`'s text as their ``alt`` metadata; the
report's template writes it into the ``<img alt=...>`` that screen readers read out.
"""

from __future__ import annotations

__all__ = ["describe_figure", "translate_figure", "show_figures_with_descriptions"]

_MAX_ITEMS = 8  # legend entries named before "and N more"


def _t(text, **values):
    from .i18n import translate

    return translate(text).format(**values)


def _words(items):
    items = [i for i in items if i]
    if len(items) > _MAX_ITEMS:
        rest = len(items) - _MAX_ITEMS
        items = items[:_MAX_ITEMS] + [_t("{rest} more", rest=rest)]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + _t(" and ") + items[-1]


def _describe_axes(ax):
    parts = []
    if ax.get_title(loc="left") or ax.get_title():
        parts.append(ax.get_title(loc="left") or ax.get_title())
    axes = []
    if ax.get_xlabel():
        axes.append(_t("across: {label}", label=ax.get_xlabel()))
    if ax.get_ylabel():
        axes.append(_t("up: {label}", label=ax.get_ylabel()))
    if axes:
        parts.append("; ".join(axes))
    legend = ax.get_legend()
    if legend is not None:
        names = [t.get_text() for t in legend.get_texts()]
        title = legend.get_title().get_text()
        if names:
            parts.append(f"{title or _t('groups')}: {_words(names)}")
    return " — ".join(parts)


def describe_figure(fig):
    """What a figure shows, in words: its title, then each panel's title, axes and groups.

    Colour bars and empty panels are left out. The text comes from what is drawn, so a
    figure titled for the data is described for the data.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([1, 2], label="web"); _ = ax.plot([2, 1], label="app")
    >>> _ = ax.set(title="Visits per week", xlabel="week", ylabel="visits"); _ = ax.legend()
    >>> describe_figure(fig)
    'Chart. Visits per week — across: week; up: visits — groups: web and app.'
    """
    title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    panels = [
        _describe_axes(ax)
        for ax in fig.get_axes()
        if ax.get_visible() and ax.get_label() != "<colorbar>"
    ]
    panels = [p for p in panels if p]
    kind = _t("Chart") if len(panels) <= 1 else _t("Chart in {n} panels", n=len(panels))
    head = f"{kind}: {title}." if title else f"{kind}."
    if len(panels) == 1:
        return f"{head} {panels[0]}."
    body = " ".join(_t("Panel {i}: {p}.", i=i, p=p) for i, p in enumerate(panels, 1))
    return f"{head} {body}".strip()


def translate_figure(fig, lang=None):
    """Put a figure's words in ``lang`` (default: the report's language, see :mod:`cxkit.i18n`):
    titles, axis labels, legends, annotations and tick labels the catalog knows. Numbers and
    names from the data stay as they are. Returns ``fig``."""
    import matplotlib.text as mtext

    from .i18n import language, logging_missing, translate

    lang = lang or language()
    if lang == "en":
        return fig
    ticks = set()
    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            labels = axis.get_ticklabels()
            ticks.update(id(t) for t in axis.get_ticklabels(minor=True))
            ticks.update(id(t) for t in labels)
            words = [t.get_text() for t in labels]
            new = [translate(w, lang, record=logging_missing()) for w in words]
            if new != words:  # category names: fix them (the axis would redraw the English)
                axis.set_ticks(axis.get_ticklocs(), labels=new)
    for text in fig.findobj(mtext.Text):
        if id(text) in ticks:
            continue
        words = text.get_text()
        if words and any(c.isalpha() for c in words):
            text.set_text(translate(words, lang))
    return fig


def _figure_png(fig):
    from IPython.core.pylabtools import retina_figure

    translate_figure(fig)
    out = retina_figure(fig, bbox_inches="tight")
    if out is None:  # an empty figure shows nothing
        return None
    data, metadata = out
    metadata["alt"] = describe_figure(fig)
    return data, metadata


def show_figures_with_descriptions():
    """In IPython, show matplotlib figures as sharp PNG with a description as alt text.

    Does nothing outside IPython. Called by :func:`cxkit.set_theme`.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebooks
        return
    shell = get_ipython()
    if shell is None:
        return
    import matplotlib
    from matplotlib.figure import Figure

    if "inline" in str(matplotlib.rcParams._get("backend")):
        # the inline backend sets its own formatters when first loaded: load it first
        import matplotlib_inline.backend_inline  # noqa: F401

    formatters = shell.display_formatter.formatters
    formatters["image/png"].for_type(Figure, _figure_png)
    # a table shown as a cell's result reads in the report's language too
    import pandas as pd

    formatters["text/html"].for_type(pd.DataFrame, _frame_html)


def _frame_html(frame):
    from .i18n import language
    from .story import _translated_table

    if language() != "en":
        frame = _translated_table(frame)
    return frame._repr_html_()

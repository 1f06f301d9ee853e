"""Figures for readers who cannot see them: a plain description, and sharp images with it.

In a notebook, :func:`cxkit.set_theme` shows figures as pixel-doubled PNG (sharp on any screen
and in the HTML report) carrying :func:`describe_figure`'s text as their ``alt`` metadata; the
report's template writes it into the ``<img alt=...>`` that screen readers read out.
"""

from __future__ import annotations

__all__ = ["describe_figure", "show_figures_with_descriptions"]

_MAX_ITEMS = 8  # legend entries named before "and N more"


def _words(items):
    items = [i for i in items if i]
    if len(items) > _MAX_ITEMS:
        rest = len(items) - _MAX_ITEMS
        items = items[:_MAX_ITEMS] + [f"{rest} more"]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _describe_axes(ax):
    parts = []
    if ax.get_title(loc="left") or ax.get_title():
        parts.append(ax.get_title(loc="left") or ax.get_title())
    axes = []
    if ax.get_xlabel():
        axes.append(f"across: {ax.get_xlabel()}")
    if ax.get_ylabel():
        axes.append(f"up: {ax.get_ylabel()}")
    if axes:
        parts.append("; ".join(axes))
    legend = ax.get_legend()
    if legend is not None:
        names = [t.get_text() for t in legend.get_texts()]
        title = legend.get_title().get_text()
        if names:
            parts.append(f"{title or 'groups'}: {_words(names)}")
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
    kind = "Chart" if len(panels) <= 1 else f"Chart in {len(panels)} panels"
    head = f"{kind}: {title}." if title else f"{kind}."
    if len(panels) == 1:
        return f"{head} {panels[0]}."
    body = " ".join(f"Panel {i}: {p}." for i, p in enumerate(panels, 1))
    return f"{head} {body}".strip()


def _figure_png(fig):
    from IPython.core.pylabtools import retina_figure

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

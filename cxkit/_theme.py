"""The kit's look: palette, theme and small helpers shared by every plot module."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

__all__ = ["PALETTE", "GOOD", "NEUTRAL", "BAD", "PERCENT", "set_theme", "get_ax", "palette_for"]

#: The kit's palette: colour-blind safe, in the order groups are drawn.
PALETTE = ["#1f5f8b", "#e08a2c", "#3b9c6e", "#c4455d", "#7b5ea7", "#8c6d46", "#5fa8c8", "#9a9a9a"]
#: Colours with a meaning, used across figures.
GOOD, NEUTRAL, BAD = "#3b9c6e", "#b8b8b8", "#c4455d"
PERCENT = "{:.0f}%"


def set_theme(context="notebook", font_scale=1.0):
    """Opt in to the kit's look for all figures (seaborn theme + palette).

    Examples
    --------
    >>> import cxkit
    >>> cxkit.set_theme()

    In a notebook, figures are then shown as sharp (pixel-doubled) PNG whose alt text says
    what the figure shows (see :func:`cxkit._figure_text.describe_figure`).
    """
    from ._figure_text import show_figures_with_descriptions

    sns.set_theme(
        context=context,
        style="whitegrid",
        palette=PALETTE,
        font_scale=font_scale,
        rc={
            "axes.spines.right": False,
            "axes.spines.top": False,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.figsize": (8, 4.5),
            # Labels come from the user's data: "$5 plan" is a name, not matplotlib mathtext.
            "text.parse_math": False,
        },
    )
    show_figures_with_descriptions()


def get_ax(ax=None):
    """The Axes to draw on: ``ax`` or the current one."""
    return ax if ax is not None else plt.gca()


def palette_for(levels):
    """A {level: colour} mapping in the kit's palette, stable for a given order of levels."""
    levels = list(levels)
    colours = PALETTE * (len(levels) // len(PALETTE) + 1)
    return dict(zip(levels, colours, strict=False))

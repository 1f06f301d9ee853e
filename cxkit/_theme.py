"""The kit's look: palette, theme and small helpers shared by every plot module."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

__all__ = [
    "PALETTE",
    "GOOD",
    "NEUTRAL",
    "BAD",
    "PERCENT",
    "set_theme",
    "get_ax",
    "palette_for",
    "plain_number",
    "log_ticks",
]

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

    Text is drawn as written (``text.parse_math`` off: labels come from data, and "$5 plan"
    is a name, not mathtext); log axes are labelled in plain numbers (0.1, 1, 10).
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
    _use_plain_log_ticks()
    show_figures_with_descriptions()


def plain_number(x, pos=None):
    """A tick label in plain numbers: 0.01, 0.5, 1, 20, 1,000 (no 10⁻² notation)."""
    if x == 0 or not abs(x) < 1e15:
        return f"{x:g}"
    if abs(x) >= 1:
        return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"
    return f"{x:.6f}".rstrip("0").rstrip(".")


def log_ticks(ax, axis="x"):
    """Label a log axis with a few plain numbers inside its limits (0.5, 1, 2 or 1, 10, 100),
    none of them as powers of ten. Call after drawing the data."""
    import numpy as np
    from matplotlib.ticker import NullFormatter

    lo, hi = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    if not lo > 0:  # limits set before the log scale (or by hand) can start at 0
        data = ax.dataLim.intervalx if axis == "x" else ax.dataLim.intervaly
        lo = min([v for v in data if v > 0] or [hi / 10])
    decades = np.arange(np.floor(np.log10(lo)), np.ceil(np.log10(hi)) + 1)
    ticks = []
    for mantissas in ((1, 1.5, 2, 3, 5, 7), (1, 2, 5), (1,)):
        ticks = [m * 10**e for e in decades for m in mantissas if lo <= m * 10**e <= hi]
        if len(ticks) <= 9:
            break
    if len(ticks) > 9:
        ticks = ticks[:: int(np.ceil(len(ticks) / 9))]
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_ticks(ticks, labels=[plain_number(t) for t in ticks])
    target.set_minor_formatter(NullFormatter())
    return ax


def _use_plain_log_ticks():
    """Log axes labelled 0.1, 1, 10 rather than in mathtext (10⁻¹): readers read numbers, and
    with ``text.parse_math`` off mathtext would show as ``$\\mathdefault{10^{-1}}$``."""
    import matplotlib.scale as mscale
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    class PlainLogScale(mscale.LogScale):
        name = "log"

        def set_default_locators_and_formatters(self, axis):
            axis.set_major_locator(LogLocator(self.base))
            axis.set_major_formatter(FuncFormatter(plain_number))
            axis.set_minor_locator(LogLocator(self.base, self.subs))
            axis.set_minor_formatter(NullFormatter())

    import warnings

    with warnings.catch_warnings():  # matplotlib 3.11: scales with an axis parameter
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        mscale.register_scale(PlainLogScale)


def get_ax(ax=None):
    """The Axes to draw on: ``ax`` or the current one."""
    return ax if ax is not None else plt.gca()


def palette_for(levels):
    """A {level: colour} mapping in the kit's palette, stable for a given order of levels."""
    levels = list(levels)
    colours = PALETTE * (len(levels) // len(PALETTE) + 1)
    return dict(zip(levels, colours, strict=False))

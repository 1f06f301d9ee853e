"""Figures of the kit: one function per figure, ``ax=None`` in, the Axes out.

Every plot function is ``plot_<thing>(data, *, by=None, ax=None, **kwargs) -> Axes``: it draws on
``ax`` (or the current Axes), never calls ``plt.show``/``savefig`` and changes no global state.
:func:`set_theme` opts in to the kit's look (one palette across all figures); importing cxkit does
not change matplotlib's settings.

The functions live in each analysis's subpackage (``cxkit.funnel.plots``, ``cxkit.retention.plots``,
``cxkit.churn.plots``, ``cxkit.experience.plots``, ``cxkit.clv.plots``) and are all available
from here.
"""

from __future__ import annotations

from ._theme import BAD, GOOD, NEUTRAL, PALETTE, PERCENT, get_ax, palette_for, set_theme

__all__ = [
    "PALETTE",
    "GOOD",
    "NEUTRAL",
    "BAD",
    "PERCENT",
    "set_theme",
    "get_ax",
    "palette_for",
    "plot_timeline",
]


def plot_timeline(data, *, x="timestamp", by=None, freq="W", ax=None, **kwargs):
    """Rows per period (``freq``: "D", "W", "M"), one line per ``by`` group.

    Examples
    --------
    >>> import cxkit
    >>> j = cxkit.load_sample()
    >>> ax = cxkit.plots.plot_timeline(j.customers, x="signup_at", freq="M")
    """
    import pandas as pd

    from .data import DataError

    missing = [c for c in (x, by) if c is not None and c not in data.columns]
    if missing:
        raise DataError(
            "plot_timeline",
            [{"column": c, "expected": "a column of data"} for c in missing],
            columns=data.columns,
        )
    ax = get_ax(ax)
    period = data[x].dt.to_period("M" if freq == "M" else freq).dt.start_time
    if by is None:
        counts = period.value_counts().sort_index()
        ax.plot(counts.index, counts.to_numpy(), color=PALETTE[0], **kwargs)
    else:
        table = pd.crosstab(period, data[by])
        for level, colour in palette_for(table.columns).items():
            ax.plot(table.index, table[level].to_numpy(), label=str(level), color=colour, **kwargs)
        ax.legend(title=by.replace("_", " "), frameon=False)
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("")
    ax.set_ylabel({"D": "per day", "W": "per week", "M": "per month"}.get(freq, "count"))
    return ax


from .churn import plots as _plots_churn  # noqa: E402
from .churn.plots import *  # noqa: E402,F403
from .clv import plots as _plots_clv  # noqa: E402
from .clv.plots import *  # noqa: E402,F403
from .experience import plots as _plots_experience  # noqa: E402
from .experience.plots import *  # noqa: E402,F403
from .funnel import plots as _plots_funnel  # noqa: E402
from .funnel.plots import *  # noqa: E402,F403
from .retention import plots as _plots_retention  # noqa: E402
from .retention.plots import *  # noqa: E402,F403

__all__ += [
    *_plots_funnel.__all__,
    *_plots_retention.__all__,
    *_plots_churn.__all__,
    *_plots_experience.__all__,
    *_plots_clv.__all__,
]

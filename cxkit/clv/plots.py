"""Figures of customer value: how concentrated it is, who is still buying, and the holdout
check. Each takes the result of its analysis and returns the Axes."""

from __future__ import annotations

import numpy as np

from .._theme import NEUTRAL, PALETTE, get_ax

__all__ = ["plot_value_concentration", "plot_p_alive", "plot_holdout"]


def plot_value_concentration(result, *, ax=None, **kwargs):
    """Share of the total expected value (y) held by the most valuable share of customers (x).

    Parameters
    ----------
    result : CLVResult
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``ax.plot``.

    Examples
    --------
    >>> ax = plot_value_concentration(result)  # doctest: +SKIP
    """
    ax = get_ax(ax)
    v = np.sort(result.table[result.value_column].to_numpy(float))[::-1]
    total = v.sum()
    if len(v) == 0 or total <= 0:
        return ax
    x = np.r_[0, np.arange(1, len(v) + 1) / len(v)] * 100
    y = np.r_[0, np.cumsum(v) / total] * 100
    ax.plot(x, y, color=kwargs.pop("color", PALETTE[0]), **kwargs)
    ax.plot([0, 100], [0, 100], color=NEUTRAL, linestyle="--", linewidth=1)
    top = result.top_share(0.2)
    ax.axvline(20, color=NEUTRAL, linewidth=0.8)
    ax.annotate(
        f"{top:.0f}%", (20, top), xytext=(6, -12), textcoords="offset points", color=PALETTE[0]
    )
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Customers, most valuable first (%)")
    ax.set_ylabel(
        "Share of expected value (%)"
        if result.spend_modelled
        else "Share of expected purchases (%)"
    )
    ax.set_title("How concentrated the expected value is")
    return ax


def plot_p_alive(result, *, ax=None, **kwargs):
    """How many customers are probably still buying: a histogram of P(alive).

    Parameters
    ----------
    result : CLVResult
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``ax.hist``.
    """
    ax = get_ax(ax)
    p = result.table["p_alive"].to_numpy(float) * 100
    ax.hist(p, bins=np.linspace(0, 100, 21), color=kwargs.pop("color", PALETTE[0]), **kwargs)
    ax.set_xlabel("Chance the customer still buys (%)")
    ax.set_ylabel("Customers")
    ax.set_title("Who is probably still a customer")
    return ax


def plot_holdout(check, *, ax=None, **kwargs):
    """Predicted against actual repeat purchases in the holdout, by calibration frequency
    (the table of :func:`cxkit.clv.holdout_check`).

    Parameters
    ----------
    check : DataFrame
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``ax.plot`` (both lines).
    """
    ax = get_ax(ax)
    x = np.arange(len(check))
    ax.plot(x, check["actual"], marker="o", color=PALETTE[0], label="Actual", **kwargs)
    ax.plot(
        x,
        check["predicted"],
        marker="s",
        linestyle="--",
        color=PALETTE[1],
        label="Predicted",
        **kwargs,
    )
    ax.set_xticks(x, check["frequency_group"])
    ax.set_xlabel("Repeat purchases in the calibration period")
    ax.set_ylabel("Repeat purchases per customer in the holdout")
    ax.set_title("Does the model predict the holdout period?")
    ax.legend(frameon=False)
    return ax

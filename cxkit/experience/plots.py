"""Plots of the experience analysis; re-exported by cxkit.plots.

Each takes the tidy table of its analysis (:func:`cxkit.nps`, :func:`cxkit.experience.
journey_map`, :func:`cxkit.rfm`, :func:`cxkit.experience.nps_landmark`) and returns the Axes.
"""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd

from .._theme import BAD, GOOD, NEUTRAL, PALETTE, get_ax, palette_for
from ..data import DataError, Journey
from ..engine.journey import is_engine

__all__ = ["plot_nps", "plot_journey_map", "plot_segments", "plot_nps_landmark"]

_NPS_COLUMNS = {"n", "promoters", "passives", "detractors", "nps", "ci_low", "ci_high", "small"}


def _nps_table(data, by):
    """An nps() table from a table, a surveys frame or a Journey; and its group column."""
    from ..experience import nps

    if (
        isinstance(data, Journey)
        or is_engine(data)
        or (isinstance(data, pd.DataFrame) and "score" in data)
    ):
        data = nps(data, by=by)
    if not isinstance(data, pd.DataFrame) or not {"promoters", "detractors"} <= set(data):
        raise DataError(
            "plot_nps(data=...)",
            [
                {
                    "column": "data",
                    "expected": "the table of cxkit.nps, the surveys table or a cxkit.Journey",
                }
            ],
            columns=getattr(data, "columns", None),
        )
    groups = [c for c in data.columns if c not in _NPS_COLUMNS]
    if by is not None and by in data.columns:
        groups = [by]
    return data, groups


def plot_nps(data, *, by=None, ax=None, **kwargs):
    """Detractors, passives and promoters as stacked horizontal bars, one per group.

    Each bar is annotated with the NPS and its confidence interval, and ``n``; groups flagged
    ``small`` say so.

    Parameters
    ----------
    data : DataFrame or Journey
        The table of :func:`cxkit.nps` (any ``by``), or the surveys table / a Journey, in which
        case NPS is computed here with ``by``.
    by : str, optional
        The group column (found automatically in an nps table).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``ax.barh``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.plots import plot_nps
    >>> ax = plot_nps(cxkit.nps(cxkit.load_sample(), by="plan"))
    """
    ax = get_ax(ax)
    table, groups = _nps_table(data, by)
    if table.empty:
        ax.set_title("Net Promoter Score: no answers")
        return ax
    if groups:
        labels = table[groups].astype(str).agg(" · ".join, axis=1).tolist()
    else:
        labels = ["All answers"]
    y = np.arange(len(table))[::-1]
    left = np.zeros(len(table))
    kwargs.setdefault("height", 0.6)
    for column, colour, name in (
        ("detractors", BAD, "Detractors (0–6)"),
        ("passives", NEUTRAL, "Passives (7–8)"),
        ("promoters", GOOD, "Promoters (9–10)"),
    ):
        width = table[column].fillna(0).to_numpy()
        ax.barh(y, width, left=left, color=colour, label=name, **kwargs)
        left = left + width
    small = table["small"] if "small" in table else pd.Series(False, index=table.index)
    for yi, (_, row), is_small in zip(y, table.iterrows(), small, strict=True):
        text = (
            f"NPS {row['nps']:+.0f} ({row['ci_low']:+.0f} to {row['ci_high']:+.0f}), "
            f"n = {int(row['n']):,}" + (" · small sample" if is_small else "")
        )
        ax.text(1.01, yi, text, transform=ax.get_yaxis_transform(), va="center", fontsize=9)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of answers (%)")
    title = "Net Promoter Score" + (
        f" by {' and '.join(groups).replace('_', ' ')}" if groups else ""
    )
    ax.set_title(title)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.06), ncol=3, frameon=False, fontsize=9)
    return ax


_MAP_METRICS = {
    "events": ("Events (volume)", "{:,.0f}"),
    "people": ("People reaching", "{:,.0f}"),
    "pct_of_previous": ("Conversion (%)", "{:.0f}%"),
    "csat": ("CSAT (%)", "{:.0f}%"),
    "nps": ("NPS", "{:+.0f}"),
}


def plot_journey_map(data, *, by=None, ax=None, metrics=None, cmap="YlGnBu", **kwargs):
    """A journey map: stages left to right, one row per metric, shaded within each row.

    Parameters
    ----------
    data : DataFrame or Journey
        The table of :func:`cxkit.experience.journey_map`, or a Journey (computed here).
    by : None
        Not used: one map per journey (draw one Axes per segment to compare segments).
    ax : matplotlib Axes, optional
    metrics : list of str, optional
        Columns to show; default events, people, pct_of_previous, csat, nps.
    cmap : str
        Colour map; each row is shaded from its own lowest to highest value.
    **kwargs
        Passed to ``ax.imshow``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.plots import plot_journey_map
    >>> ax = plot_journey_map(cxkit.load_sample())
    """
    from ..experience import journey_map

    if by is not None:
        raise DataError(
            "plot_journey_map(by=...)",
            [
                {
                    "column": "by",
                    "expected": "None: the map "
                    "has no groups; draw one map per segment on separate Axes",
                }
            ],
        )
    ax = get_ax(ax)
    table = journey_map(data) if isinstance(data, Journey) else data
    metrics = list(metrics or _MAP_METRICS)
    missing = [m for m in metrics + ["stage"] if m not in table.columns]
    if missing:
        raise DataError(
            "plot_journey_map(data=...)",
            [{"column": m, "expected": "a column of the journey_map table"} for m in missing],
            columns=table.columns,
        )
    values = table[metrics].to_numpy(float).T  # metric x stage
    shade = np.full_like(values, np.nan)
    for i, row in enumerate(values):
        finite = np.isfinite(row)
        if finite.any():
            lo, hi = row[finite].min(), row[finite].max()
            # an empty cell stays empty (white), also in a row with a single value
            shade[i, finite] = (row[finite] - lo) / (hi - lo) if hi > lo else 0.5
    colours = mcolors.ListedColormap(["white"]) if not np.isfinite(shade).any() else cmap
    kwargs.setdefault("aspect", "auto")
    ax.imshow(np.ma.masked_invalid(shade), cmap=colours, vmin=0, vmax=1, **kwargs)
    for i, metric in enumerate(metrics):
        fmt = _MAP_METRICS.get(metric, (metric, "{:,.1f}"))[1]
        for k, value in enumerate(values[i]):
            text = fmt.format(value) if np.isfinite(value) else "–"
            dark = np.isfinite(shade[i, k]) and shade[i, k] > 0.6
            ax.text(
                k,
                i,
                text,
                ha="center",
                va="center",
                fontsize=9,
                color="white" if dark else "black",
            )
    ax.set_xticks(range(len(table)), table["stage"].astype(str))
    ax.set_yticks(range(len(metrics)), [_MAP_METRICS.get(m, (m,))[0] for m in metrics])
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title("Journey map by stage")
    ax.set_xlabel("Journey stage (shading compares stages within a row)")
    return ax


def plot_segments(data, *, by=None, ax=None, **kwargs):
    """RFM segments: share of customers and share of value, side by side, best segment on top.

    Parameters
    ----------
    data : DataFrame
        The table of :func:`cxkit.rfm` (one row per customer) or of
        :func:`cxkit.experience.rfm_summary`.
    by : None
        Not used (segments are the groups).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``ax.barh``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.plots import plot_segments
    >>> ax = plot_segments(cxkit.rfm(cxkit.load_sample()))
    """
    from ..experience import rfm_summary

    ax = get_ax(ax)
    summary = data if "pct_customers" in data.columns else rfm_summary(data)
    y = np.arange(len(summary))[::-1]
    height = kwargs.pop("height", 0.38)
    colours = palette_for(["customers", "value"])
    ax.barh(
        y + height / 2,
        summary["pct_customers"],
        height=height,
        color=colours["customers"],
        label="% of customers",
        **kwargs,
    )
    ax.barh(
        y - height / 2,
        summary["pct_monetary"],
        height=height,
        color=colours["value"],
        label="% of revenue",
        **kwargs,
    )
    for yi, (_, row) in zip(y, summary.iterrows(), strict=True):
        ax.text(
            max(row["pct_customers"], row["pct_monetary"]) + 0.5,
            yi,
            f"{int(row['customers']):,} customers",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(y, summary["segment"].astype(str))
    ax.set_xlabel("Share (%)")
    ax.set_title("Customer segments by recency and frequency (RFM)")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.04), ncol=2, frameon=False, fontsize=9)
    ax.set_xlim(
        0,
        float(np.nanmax(summary[["pct_customers", "pct_monetary"]].to_numpy(), initial=0)) * 1.3
        + 1,
    )
    return ax


def plot_nps_landmark(data, *, by=None, ax=None, ci=True, **kwargs):
    """Kaplan–Meier curves after the landmark, one per NPS group, with confidence bands.

    Parameters
    ----------
    data : NPSLandmark or DataFrame
        The result of :func:`cxkit.experience.nps_landmark` (or its ``curves_`` table).
    by : None
        Not used (the NPS groups are the groups).
    ax : matplotlib Axes, optional
    ci : bool
        Draw the confidence bands.
    **kwargs
        Passed to ``ax.step``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.plots import plot_nps_landmark
    >>> ax = plot_nps_landmark(cxkit.nps_landmark(cxkit.load_sample()))
    """
    ax = get_ax(ax)
    curves = getattr(data, "curves_", data)
    label = getattr(data, "landmark", None)
    colours = {"promoter": GOOD, "passive": PALETTE[0], "detractor": BAD, "no answer": NEUTRAL}
    for group, part in curves.groupby("group", observed=True, sort=True):
        part = part.sort_values("time")
        colour = colours.get(str(group))
        n = int(part["at_risk"].iloc[0]) if len(part) else 0
        ax.step(
            part["time"],
            100 * part["survival"],
            where="post",
            color=colour,
            label=f"{group} (n = {n:,})",
            **kwargs,
        )
        if ci:
            ax.fill_between(
                part["time"],
                100 * part["ci_low"],
                100 * part["ci_high"],
                step="post",
                color=colour,
                alpha=0.15,
                linewidth=0,
            )
    ax.set_ylim(0, 102)
    ax.set_xlabel("Days since the landmark" + (f" ({label})" if label else ""))
    ax.set_ylabel("Still a customer (%)")
    ax.set_title("Retention after the landmark, by NPS group")
    ax.legend(frameon=False, title="NPS group", loc="lower left")
    return ax

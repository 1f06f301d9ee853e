"""Plots of the retention analysis; re-exported by cxkit.plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.transforms import blended_transform_factory

from .._format import duration_text


def _kit():
    """The shared plot helpers."""
    from .. import _theme

    return _theme


__all__ = ["plot_survival", "plot_hazard_ratios", "plot_cohort_heatmap"]


def _curves(data, by):
    """A Kaplan–Meier curve table from a curve table, a survival table or a Journey."""
    from .checks import _one_column
    from .stats import kaplan_meier

    by = _one_column(by, "plot_survival")
    if isinstance(data, pd.DataFrame) and {"survival", "time"} <= set(data.columns):
        by = by if by is not None else data.attrs.get("by")
        if by is not None and by not in data.columns:
            from ..data import DataError

            raise DataError(
                "plot_survival(by=...)",
                [{"column": "by", "expected": f"column '{by}' in the curve table; it is not"}],
                columns=data.columns,
                hint="pass the survival table instead, or compute the curves with "
                f"kaplan_meier(table, by='{by}')",
            )
        return data, by
    curves = kaplan_meier(data, by=by)
    return curves, curves.attrs.get("by")


def _no_customers(ax):
    """An empty retention chart that says why it is empty."""
    ax.text(
        0.5,
        0.5,
        "No customers to show",
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=_kit().NEUTRAL,
    )
    ax.set_xlabel("Days since signup")
    ax.set_ylabel("% still customers")
    ax.set_title("How long customers stay")
    return ax


def _at_risk_at(curve, t):
    """Customers at risk at day t: the at_risk of the first row at or after t (0 past the end)."""
    i = np.searchsorted(curve["time"].to_numpy(), t, side="left")
    return int(curve["at_risk"].iloc[i]) if i < len(curve) else 0


def _time_unit(days):
    """The unit of a survival chart's x axis for a follow-up of ``days``: (name, per day)."""
    if days < 2 / 24:
        return "minutes", 1_440.0
    if days < 3:
        return "hours", 24.0
    return "days", 1.0


def plot_survival(data, *, by=None, ax=None, ci=True, at_risk=True, median=True, **kwargs):
    """Retention curve(s): steps with confidence bands, the median marked, at-risk counts below.

    Parameters
    ----------
    data : DataFrame or Journey
        A Kaplan–Meier table (:func:`cxkit.kaplan_meier`), a survival table
        (:func:`cxkit.survival_table`, the curves are then computed) or a Journey. An empty
        table gives an empty chart that says so.
    by : str, optional
        Column holding the groups (default: the one the curves were computed with).
    ax : Axes, optional
    ci : bool
        Shade the pointwise confidence band.
    at_risk : bool
        Write the number of customers still followed under each x tick, one row per group.
    median : bool
        Mark the median lifetime (where a curve crosses 50%).
    **kwargs
        Passed to ``Axes.step``.

    Returns
    -------
    Axes

    Raises
    ------
    DataError
        When ``by`` is not one column of the table, or has no value at all.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.plots import plot_survival
    >>> ax = plot_survival(cxkit.survival_table(cxkit.load_sample()), by="plan")
    """
    ax = _kit().get_ax(ax)
    if isinstance(data, pd.DataFrame) and len(data) == 0:
        return _no_customers(ax)
    curves, by = _curves(data, by)
    if len(curves) == 0:
        return _no_customers(ax)
    groups = (
        [(None, curves)]
        if by is None
        else [(lv, curves[curves[by] == lv]) for lv in pd.unique(curves[by])]
    )
    colours = _kit().palette_for([lv for lv, _ in groups])
    unit, factor = _time_unit(float(curves["time"].max()))
    # with many curves, medians go in the legend: labels beside close medians would overlap
    in_legend = median and len(groups) > 2
    for level, curve in groups:
        colour = colours[level]
        t = curve["time"].to_numpy() * factor
        label = "All customers" if level is None else str(level)
        below = np.flatnonzero(curve["survival"].to_numpy() <= 0.5)
        if in_legend:
            label += (
                f" (median {duration_text(t[below[0]] / factor)})"
                if len(below)
                else " (median not reached)"
            )
        ax.step(t, 100 * curve["survival"], where="post", color=colour, label=label, **kwargs)
        if ci:
            ax.fill_between(
                t,
                100 * curve["ci_low"],
                100 * curve["ci_high"],
                step="post",
                color=colour,
                alpha=0.18 if len(groups) <= 3 else 0.07,  # many bands: keep the lines legible
                linewidth=0,
            )
        if median and len(below):
            m = t[below[0]]
            ax.plot([m, m], [0, 50], color=colour, linestyle=":", linewidth=1)
            ax.plot([m], [50], marker="o", color=colour, markersize=5)
        if median and len(below) and not in_legend:
            ax.annotate(
                f"median {duration_text(m / factor)}",
                (m, 50),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize=8,
                color=colour,
            )
    if median:
        ax.axhline(50, color=_kit().NEUTRAL, linewidth=0.8, linestyle=":", zorder=0)
    ax.set_ylim(0, 102)
    ax.set_xlim(0, float(curves["time"].max()) * factor)
    ax.set_xlabel(f"{unit.capitalize()} since signup")
    ax.set_ylabel("% still customers")
    ax.set_title("How long customers stay")
    if by is not None:
        ax.legend(title=str(by).replace("_", " "), frameon=False, fontsize=9)
    if at_risk:
        lo, hi = ax.get_xlim()
        ticks = [x for x in ax.get_xticks() if lo <= x <= hi]
        trans = blended_transform_factory(ax.transData, ax.transAxes)
        ax.text(
            -0.06,
            -0.2,
            "At risk",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=8,
            fontweight="bold",
        )
        for row, (level, curve) in enumerate(groups, start=1):
            y = -0.2 - 0.07 * row
            name = "all" if level is None else str(level)
            ax.text(
                -0.06,
                y,
                name,
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=8,
                color=colours[level],
            )
            for x in ticks:
                ax.text(
                    x,
                    y,
                    f"{_at_risk_at(curve, x / factor):,}",
                    transform=trans,
                    ha="center",
                    va="top",
                    fontsize=8,
                    color=colours[level],
                    clip_on=False,
                )
    return ax


def _planted_map(planted):
    if planted is None:
        return {}
    if isinstance(planted, dict) and "churn" in planted:  # a whole truth dict
        planted = planted["churn"]["drivers"]
    if isinstance(planted, dict):
        return {str(k): float(v) for k, v in planted.items()}
    out = {}
    for rec in planted:  # truth["churn"]["drivers"] records
        for key in (rec.get("name"), rec.get("covariate")):
            if key:
                out.setdefault(str(key), float(rec["hazard_ratio"]))
    return out


def plot_hazard_ratios(data, *, by=None, ax=None, planted=None, **kwargs):
    """Forest plot of hazard ratios (log scale) with their confidence intervals.

    Parameters
    ----------
    data : CoxResult or DataFrame
        A fitted :func:`cxkit.cox` / :func:`cxkit.cox_time_varying` result, or its
        ``hazard_ratios_`` table (``term``, ``hazard_ratio``, ``ci_low``, ``ci_high``).
    by : None
        Unused (kept for the common plot signature).
    ax : Axes, optional
    planted : dict or list, optional
        Known true hazard ratios to mark with an ×: ``{term: hr}``, the simulator's truth dict,
        or its ``truth["churn"]["drivers"]`` records.
    **kwargs
        Passed to ``Axes.errorbar``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.plots import plot_hazard_ratios
    >>> fit = cxkit.cox(cxkit.survival_table(cxkit.load_sample()), ["plan"], cv=0)
    >>> ax = plot_hazard_ratios(fit)
    """
    ax = _kit().get_ax(ax)
    table = getattr(data, "hazard_ratios_", data)
    if len(table) == 0:
        return ax
    truth = _planted_map(planted)
    kit = _kit()
    y = np.arange(len(table))[::-1]
    for yi, (_, r) in zip(y, table.iterrows(), strict=True):
        colour = (
            kit.NEUTRAL
            if r["ci_low"] <= 1 <= r["ci_high"]
            else (kit.BAD if r["hazard_ratio"] > 1 else kit.GOOD)
        )
        ax.errorbar(
            [r["hazard_ratio"]],
            [yi],
            xerr=[[r["hazard_ratio"] - r["ci_low"]], [r["ci_high"] - r["hazard_ratio"]]],
            fmt="o",
            color=colour,
            capsize=3,
            **kwargs,
        )
        if str(r["term"]) in truth:
            ax.plot(
                [truth[str(r["term"])]],
                [yi],
                marker="x",
                color="black",
                markersize=7,
                linestyle="none",
            )
    # what the colours mean, in the legend (only the kinds drawn)
    lows, highs, hrs = (table[c].to_numpy(float) for c in ("ci_low", "ci_high", "hazard_ratio"))
    unclear = (lows <= 1) & (1 <= highs)
    kinds = [
        ((~unclear & (hrs > 1)).any(), kit.BAD, "goes with leaving sooner"),
        ((~unclear & (hrs < 1)).any(), kit.GOOD, "goes with staying longer"),
        (unclear.any(), kit.NEUTRAL, "no clear link (interval includes 1)"),
    ]
    for drawn, colour, label in kinds:
        if drawn:
            ax.plot([], [], marker="o", color=colour, linestyle="none", label=label)
    if truth:
        ax.plot([], [], marker="x", color="black", linestyle="none", label="planted (truth)")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.axvline(1, color="black", linewidth=0.8)
    ax.set_xscale("log")
    _kit().log_ticks(ax)
    ax.set_yticks(y)
    names = table["label"] if "label" in table.columns else table["term"]
    ax.set_yticklabels([str(t) for t in names])
    ax.set_xlabel("Hazard ratio (log scale): above 1 leave sooner, below 1 stay longer")
    ax.set_title("What goes with leaving sooner or staying longer")
    return ax


def plot_cohort_heatmap(data, *, by=None, ax=None, annot=True, **kwargs):
    """Cohort retention heatmap: signup cohort × periods since signup, % retained.

    Cells not fully observed are blank.

    Parameters
    ----------
    data : DataFrame
        From :func:`cxkit.cohort_retention`.
    by : None
        Unused (kept for the common plot signature).
    ax : Axes, optional
    annot : bool
        Write the percentage in each cell.
    **kwargs
        Passed to ``seaborn.heatmap``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.plots import plot_cohort_heatmap
    >>> ax = plot_cohort_heatmap(cxkit.cohort_retention(cxkit.load_sample()))
    """
    import seaborn as sns

    ax = _kit().get_ax(ax)
    if len(data) == 0:
        return ax
    grid = data.pivot(index="cohort", columns="period", values="pct_retained")
    grid = grid.loc[:, grid.notna().any()]  # periods no cohort has completed yet
    grid.index = [str(c) for c in grid.index]
    options = {
        "vmin": 0,
        "vmax": 100,
        "cmap": "Blues",
        "annot": annot,
        "fmt": ".0f",
        "annot_kws": {"fontsize": 7},
        "cbar_kws": {"label": "% retained"},
        "linewidths": 0.5,
        "linecolor": "white",
    }
    options.update(kwargs)
    sns.heatmap(grid, ax=ax, **options)
    ax.grid(False)
    unit = {"M": "months", "W": "weeks", "Q": "quarters", "D": "days"}.get(
        str(data.attrs.get("period", "M")), "periods"
    )
    ax.set_xlabel(f"{unit.capitalize()} since signup")
    ax.set_ylabel("Signup cohort")
    kind = data.attrs.get("kind", "contract")
    what = "still customers" if kind == "contract" else "active (any touchpoint)"
    ax.set_title(f"Share of each signup cohort {what}")
    return ax

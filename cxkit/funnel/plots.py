"""Plots of the funnel analysis; re-exported by cxkit.plots.

Each takes the tidy table of its analysis (:func:`cxkit.funnel`, :func:`cxkit.time_to_convert`
with ``curve=True``, :func:`cxkit.drop_off_paths`) and returns the Axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._theme import NEUTRAL, PALETTE, get_ax, log_ticks, palette_for
from ..data import DataError

__all__ = ["plot_funnel", "plot_time_to_convert", "plot_drop_off_paths", "plot_ab_test"]

_FUNNEL_COLUMNS = {
    "step_index",
    "step",
    "customers",
    "pct_of_start",
    "pct_of_previous",
    "ci_low",
    "ci_high",
    "median_time_to_step",
    "open_windows",
}
_CURVE_COLUMNS = {
    "step_index",
    "step",
    "next_step",
    "hours",
    "pct_converted",
    "ci_low",
    "ci_high",
    "at_risk",
}
_PATH_COLUMNS = {"step", "length", "path", "customers", "pct", "ci_low", "ci_high", "droppers"}


def _check(data, needed, source, what):
    if not isinstance(data, pd.DataFrame) or not needed <= set(data.columns):
        raise DataError(
            f"{source}(data=...)",
            [{"column": "data", "expected": what}],
            columns=getattr(data, "columns", None),
        )


def _group_columns(data, known, by):
    if by is not None:
        by = [by] if isinstance(by, str) else list(by)
        missing = [b for b in by if b not in data.columns]
        if missing:
            raise DataError(
                "plot(by=...)",
                [{"column": "by", "expected": f"a column of the table; {missing} is not"}],
                columns=data.columns,
            )
        return by
    return [c for c in data.columns if c not in known]


def _labels(frame, groups):
    if not groups:
        return pd.Series(["All"] * len(frame), index=frame.index)
    return frame[groups].astype(str).agg(" · ".join, axis=1)


def plot_funnel(data, *, by=None, measure="pct_of_start", ax=None, **kwargs):
    """The funnel as bars: share of entrants reaching each step, with 95% CI whiskers.

    Each bar is labelled with its percentage; with ``measure="pct_of_start"`` the step
    conversion (% of the previous step) is shown under it. Groups (the ``by`` column of the
    table) are drawn side by side in the kit's palette.

    Parameters
    ----------
    data : DataFrame
        The table of :func:`cxkit.funnel` (with or without ``by``).
    by : str, optional
        The group column (found automatically).
    measure : {"pct_of_start", "pct_of_previous"}
        Bar height: share of entrants, or step conversion.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``ax.bar``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS
    >>> from cxkit.plots import plot_funnel
    >>> ax = plot_funnel(cxkit.funnel(cxkit.load_sample(), STEPS, by="device"))
    """
    from .._stats import wilson as _wilson

    ax = get_ax(ax)
    _check(
        data,
        {"step_index", "step", "customers", "pct_of_start"},
        "plot_funnel",
        "the table of cxkit.funnel",
    )
    if measure not in ("pct_of_start", "pct_of_previous"):
        raise DataError(
            "plot_funnel(measure=...)",
            [{"column": "measure", "expected": "'pct_of_start' or 'pct_of_previous'"}],
        )
    groups = _group_columns(data, _FUNNEL_COLUMNS, by)
    title = (
        "Share of entrants reaching each step"
        if measure == "pct_of_start"
        else "Step conversion (% of the previous step)"
    )
    ax.set_title(title)
    ax.set_ylabel("% of entrants" if measure == "pct_of_start" else "% of previous step")
    if data.empty:
        ax.text(0.5, 0.5, "no one entered the funnel", ha="center", transform=ax.transAxes)
        return ax
    table = data.sort_values("step_index", kind="stable")
    if measure == "pct_of_previous":  # the first step is 100% of itself: nothing to show
        table = table[table["step_index"] > 1]
    label = _labels(table, groups)
    levels = list(dict.fromkeys(label))
    colours = palette_for(levels)
    steps = list(dict.fromkeys(table["step"]))
    position = {k: i for i, k in enumerate(dict.fromkeys(table["step_index"]))}
    width = 0.8 / len(levels)
    crowded = len(levels) > 3
    for i, level in enumerate(levels):
        part = table[label == level]
        x = part["step_index"].map(position).to_numpy() + (i - (len(levels) - 1) / 2) * width
        height = part[measure].to_numpy(float)
        if measure == "pct_of_start":
            start = part["customers"].iloc[0] if len(part) else 0
            low, high = _wilson(part["customers"].to_numpy(), np.full(len(part), start))
        else:
            low, high = part["ci_low"].to_numpy(float), part["ci_high"].to_numpy(float)
        err = np.vstack([np.clip(height - low, 0, None), np.clip(high - height, 0, None)])
        err = np.nan_to_num(err)
        ax.bar(
            x,
            np.nan_to_num(height),
            width=width * 0.92,
            color=colours[level],
            label=level if groups else None,
            **kwargs,
        )
        ax.errorbar(
            x,
            np.nan_to_num(height),
            yerr=err,
            fmt="none",
            ecolor="#333333",
            elinewidth=1,
            capsize=2,
        )
        for xi, h, hi, prev in zip(x, height, high, part["pct_of_previous"], strict=True):
            if np.isnan(h):
                continue
            text = f"{h:.0f}%"
            if measure == "pct_of_start" and len(levels) == 1 and xi > 0.5:
                text += f"\n({prev:.0f}% of prev.)"
            if crowded:  # too many bars for a label each: the axis and the whiskers tell
                continue
            ax.annotate(
                text,
                (xi, np.nan_to_num(hi, nan=h)),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8 if len(levels) > 2 else 9,
            )
    ax.set_xticks(range(len(steps)))
    ax.set_xticklabels(
        steps, rotation=20 if len(steps) > 4 else 0, ha="right" if len(steps) > 4 else "center"
    )
    ax.set_xlabel("Funnel step")
    ax.set_ylim(0, 105 if crowded else 115)  # room for the labels above 100%
    ax.set_yticks(range(0, 101, 20))  # a share never goes past 100%
    if groups:
        ax.legend(
            title=" · ".join(groups), frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1)
        )
    return ax


def plot_time_to_convert(data, *, by=None, ax=None, **kwargs):
    """Share of people at a step who have reached the next one, against time (95% band).

    One curve per step transition (× group): Kaplan–Meier, so people still on their way are
    censored, not counted as lost.

    Parameters
    ----------
    data : DataFrame
        ``cxkit.time_to_convert(..., curve=True)``.
    by : str, optional
        The group column (found automatically).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``ax.step``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS
    >>> from cxkit.plots import plot_time_to_convert
    >>> ax = plot_time_to_convert(cxkit.time_to_convert(cxkit.load_sample(), STEPS,
    ...                                                 curve=True))
    """
    ax = get_ax(ax)
    _check(
        data,
        {"step", "next_step", "hours", "pct_converted"},
        "plot_time_to_convert",
        "the table of cxkit.time_to_convert(..., curve=True)",
    )
    groups = _group_columns(data, _CURVE_COLUMNS, by)
    ax.set_title("How long the next step takes")
    ax.set_ylabel("% who reached the next step")
    ax.set_xlabel("Hours since the previous step (log scale)")
    if data.empty:
        ax.text(0.5, 0.5, "no one to follow", ha="center", transform=ax.transAxes)
        return ax
    label = data["step"].astype(str) + " → " + data["next_step"].astype(str)
    if groups:
        label = label + " · " + _labels(data, groups)
    levels = list(dict.fromkeys(label))
    colours = palette_for(levels)
    for level in levels:
        part = data[label == level]
        part = part[part["hours"] > 0]
        if part.empty:
            continue
        ax.step(
            part["hours"],
            part["pct_converted"],
            where="post",
            color=colours[level],
            label=level,
            **kwargs,
        )
        if {"ci_low", "ci_high"} <= set(part.columns):
            ax.fill_between(
                part["hours"],
                part["ci_low"],
                part["ci_high"],
                step="post",
                color=colours[level],
                alpha=0.15,
                linewidth=0,
            )
    ax.set_xscale("log")
    log_ticks(ax)
    ax.set_ylim(0, 100)
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_drop_off_paths(data, *, by=None, length=1, ax=None, **kwargs):
    """What droppers did next: share of droppers per next event (or short path), with CIs.

    Parameters
    ----------
    data : DataFrame
        The table of :func:`cxkit.drop_off_paths`.
    by : str, optional
        The group column (found automatically); groups are drawn side by side.
    length : int, default 1
        Which path length to show (1 = the next event).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``ax.barh``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS
    >>> from cxkit.plots import plot_drop_off_paths
    >>> ax = plot_drop_off_paths(cxkit.drop_off_paths(cxkit.load_sample(), STEPS,
    ...                                               step="add_to_cart"))
    """
    ax = get_ax(ax)
    _check(
        data, {"length", "path", "pct"}, "plot_drop_off_paths", "the table of cxkit.drop_off_paths"
    )
    groups = _group_columns(data, _PATH_COLUMNS, by)
    step = data["step"].iloc[0] if "step" in data.columns and len(data) else "the step"
    ax.set_title(f"What people who stopped at {step} did next")
    ax.set_xlabel("% of those who stopped there")
    table = data[data["length"] == length]
    if table.empty:
        ax.text(0.5, 0.5, "no droppers", ha="center", transform=ax.transAxes)
        return ax
    label = _labels(table, groups)
    levels = list(dict.fromkeys(label))
    paths = table.groupby("path")["customers"].sum().sort_values(ascending=True).index.tolist()
    colours = palette_for(levels) if groups else {"All": PALETTE[0]}
    height = 0.8 / len(levels)
    for i, level in enumerate(levels):
        part = table[label == level].set_index("path").reindex(paths)
        y = np.arange(len(paths)) + ((len(levels) - 1) / 2 - i) * height
        pct = part["pct"].to_numpy(float)
        colour = [NEUTRAL if p == "(nothing)" and not groups else colours[level] for p in paths]
        ax.barh(
            y,
            np.nan_to_num(pct),
            height=height * 0.92,
            color=colour,
            label=level if groups else None,
            **kwargs,
        )
        if {"ci_low", "ci_high"} <= set(part.columns):
            err = np.nan_to_num(
                np.vstack(
                    [pct - part["ci_low"].to_numpy(float), part["ci_high"].to_numpy(float) - pct]
                )
            )
            ax.errorbar(
                np.nan_to_num(pct),
                y,
                xerr=np.clip(err, 0, None),
                fmt="none",
                ecolor="#333333",
                elinewidth=1,
                capsize=2,
            )
    ax.set_yticks(range(len(paths)))
    ax.set_yticklabels(paths)
    ax.set_xlim(0, 100)
    if groups:
        ax.legend(title=" · ".join(groups), frameon=False, fontsize=8)
    return ax


def plot_ab_test(data, *, ax=None, **kwargs):
    """Share of everyone assigned to each arm who reached each step, with 95% intervals.

    Intention to treat: the denominators are all assigned people, so the arms stay comparable
    at every step (the step-to-step rates are not drawn: they compare different people).

    Parameters
    ----------
    data : ABTest or DataFrame
        The result of :func:`cxkit.ab_test`, or its ``steps_`` table (``arm``, ``step_index``,
        ``step``, ``pct``, ``ci_low``, ``ci_high``).
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``ax.errorbar``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> import cxkit
    >>> ev = cxkit.load_sample().events
    >>> ev = ev.assign(arm=np.where(ev["customer_id"].astype(str).str[-1] < "5", "A", "B"))
    >>> ax = cxkit.ab_test(ev, ["site_visit", "purchase"], variant="arm").plot()
    """
    frame = getattr(data, "steps_", data)
    ax = get_ax(ax)
    _check(
        frame, {"arm", "step_index", "step", "pct"}, "plot_ab_test", "the result of cxkit.ab_test"
    )
    ax.set_title("Share of everyone assigned who reached each step")
    ax.set_ylabel("% of people assigned to the arm")
    if frame.empty:
        ax.text(0.5, 0.5, "no one assigned", ha="center", transform=ax.transAxes)
        return ax
    arms = list(dict.fromkeys(frame["arm"]))
    colours = palette_for(arms)
    width = 0.25 / max(len(arms) - 1, 1)
    for i, arm in enumerate(arms):
        part = frame[frame["arm"] == arm].sort_values("step_index")
        x = part["step_index"].to_numpy() + (i - (len(arms) - 1) / 2) * width
        err = None
        if {"ci_low", "ci_high"} <= set(part.columns):
            err = np.vstack([part["pct"] - part["ci_low"], part["ci_high"] - part["pct"]])
            err = np.clip(np.nan_to_num(err), 0, None)  # rounding at 0% and 100%
        ax.errorbar(
            x,
            part["pct"],
            yerr=err,
            marker="o",
            capsize=3,
            color=colours[arm],
            label=str(arm),
            **kwargs,
        )
    steps = frame.drop_duplicates("step_index").sort_values("step_index")
    ax.set_xticks(steps["step_index"].to_numpy())
    ax.set_xticklabels([str(s) for s in steps["step"]], rotation=20, ha="right")
    ax.set_ylim(0, None)
    ax.legend(title="arm", frameon=False, fontsize=8)
    return ax

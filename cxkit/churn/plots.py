"""Plots of the churn analysis; re-exported by cxkit.plots.

Each takes a :func:`cxkit.compare_models` result (or the table derived from it), draws on one
Axes and returns it.
"""

from __future__ import annotations

import numpy as np

from .._theme import BAD, GOOD, NEUTRAL, get_ax, palette_for

__all__ = [
    "plot_roc_pr",
    "plot_calibration",
    "plot_gains",
    "plot_importance",
    "plot_campaign_value",
]

_NAMES = {"logistic": "Logistic regression (baseline)", "boosting": "Gradient boosting"}


def _models(result):
    return [c[2:] for c in result.predictions_.columns if c.startswith("p_")]


def plot_roc_pr(data, *, curve="roc", by=None, ax=None, **kwargs):
    """ROC curve (``curve="roc"``) or precision–recall curve (``curve="pr"``) of each model on
    held-out rows, with the area in the legend; the PR plot marks the base rate.

    Parameters
    ----------
    data : ModelComparison
        A :func:`cxkit.compare_models` result.
    curve : {"roc", "pr"}
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.plots import plot_roc_pr
    >>> X, y = cxkit.churn_dataset(cxkit.load_sample(), "MS")
    >>> ax = plot_roc_pr(cxkit.compare_models(X, y, n_boot=0))
    """
    from sklearn.metrics import precision_recall_curve, roc_curve

    ax = get_ax(ax)
    pr = data.predictions_
    y = pr["churned"].to_numpy()
    colours = palette_for(_models(data))
    for name in _models(data):
        p = pr[f"p_{name}"].to_numpy()
        row = data.table.loc[name]
        label = _NAMES.get(name, name)
        if curve == "pr":
            prec, rec, _ = precision_recall_curve(y, p)
            ax.plot(
                rec,
                prec,
                color=colours[name],
                drawstyle="steps-post",
                label=f"{label}: area {row['pr_auc']:.2f}",
                **kwargs,
            )
        else:
            fpr, tpr, _ = roc_curve(y, p)
            ax.plot(
                fpr,
                tpr,
                color=colours[name],
                label=f"{label}: AUC {row['roc_auc']:.2f} "
                f"({row['roc_auc_ci_low']:.2f}–{row['roc_auc_ci_high']:.2f})",
                **kwargs,
            )
    if curve == "pr":
        base = y.mean()
        ax.axhline(base, color=NEUTRAL, ls="--", label=f"Guessing (base rate {100 * base:.1f}%)")
        ax.set(
            xlabel="Share of churners found (recall)",
            ylabel="Share of flagged who churn (precision)",
            title="Precision and recall on held-out data",
            xlim=(0, 1),
            ylim=(0, None),
        )
    else:
        ax.plot([0, 1], [0, 1], color=NEUTRAL, ls="--", label="Guessing")
        ax.set(
            xlabel="Share of stayers flagged",
            ylabel="Share of churners flagged",
            title="How well each model ranks churners (ROC, held out)",
            xlim=(0, 1),
            ylim=(0, 1),
        )
    ax.legend(loc="lower right" if curve == "roc" else "upper right", fontsize="small")
    return ax


def plot_calibration(data, *, by=None, ax=None, n_bins=10, **kwargs):
    """Reliability curve: predicted vs observed churn by bin of predicted risk, with 95% CIs.

    ``data`` is a :func:`cxkit.compare_models` result or a
    :func:`cxkit.churn.calibration_table`.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.plots import plot_calibration
    >>> X, y = cxkit.churn_dataset(cxkit.load_sample(), "MS")
    >>> ax = plot_calibration(cxkit.compare_models(X, y, n_boot=0))
    """
    from ..churn import calibration_table

    ax = get_ax(ax)
    table = (
        data
        if hasattr(data, "columns") and "observed" in data.columns
        else calibration_table(data, n_bins=n_bins)
    )
    colours = palette_for(table["model"].unique())
    top = float(np.nanmax(table[["predicted", "ci_high"]].to_numpy())) if len(table) else 1.0
    for name, t in table.groupby("model", sort=False):
        ax.errorbar(
            t["predicted"],
            t["observed"],
            yerr=[t["observed"] - t["ci_low"], t["ci_high"] - t["observed"]],
            marker="o",
            capsize=2,
            color=colours[name],
            label=_NAMES.get(name, name),
            **kwargs,
        )
    ax.plot([0, top], [0, top], color=NEUTRAL, ls="--", label="Perfect calibration")
    ax.set(
        xlabel="Predicted churn (%)",
        ylabel="Observed churn (%)",
        title="Do predicted risks come true? (held out)",
    )
    ax.legend(fontsize="small")
    return ax


def plot_gains(data, *, by=None, ax=None, **kwargs):
    """Cumulative gains: share of churners reached by contacting the riskiest x% first.

    ``data`` is a :func:`cxkit.compare_models` result or a :func:`cxkit.churn.gains_table`.
    """
    from ..churn import gains_table

    ax = get_ax(ax)
    table = (
        data
        if hasattr(data, "columns") and "pct_churners_reached" in data.columns
        else gains_table(data)
    )
    colours = palette_for(table["model"].unique())
    for name, t in table.groupby("model", sort=False):
        ax.plot(
            t["pct_contacted"],
            t["pct_churners_reached"],
            marker=".",
            color=colours[name],
            label=_NAMES.get(name, name),
            **kwargs,
        )
    ax.plot([0, 100], [0, 100], color=NEUTRAL, ls="--", label="Contacting at random")
    ax.set(
        xlabel="Customers contacted, riskiest first (%)",
        ylabel="Churners reached (%)",
        title="Cumulative gains: churners reached by contacting the riskiest",
        xlim=(0, 100),
        ylim=(0, 100),
    )
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_importance(data, *, by=None, ax=None, top=12, **kwargs):
    """Which touchpoints drive churn: grouped permutation importance with 95% CIs.

    ``data`` is a :func:`cxkit.churn.driver_importance` table.
    """
    ax = get_ax(ax)
    t = data.head(top).iloc[::-1]
    colours = [GOOD if lo > 0 else NEUTRAL for lo in t["ci_low"]]
    ax.barh(t["words"], t["importance"], color=colours, **kwargs)
    ax.errorbar(
        t["importance"],
        np.arange(len(t)),
        xerr=[t["importance"] - t["ci_low"], t["ci_high"] - t["importance"]],
        fmt="none",
        ecolor="black",
        capsize=2,
    )
    ax.axvline(0, color="black", lw=0.8)
    ax.set(
        xlabel="Drop in ranking quality (ROC AUC) when the family is scrambled",
        ylabel="",
        title="What drives churn predictions (held out)",
    )
    return ax


def plot_campaign_value(data, *, by=None, ax=None, **kwargs):
    """Expected profit of a retention campaign by how many of the riskiest are contacted.

    ``data`` is a :func:`cxkit.campaign_value` table; the best depth is marked (the depth
    chosen on an earlier month, when :func:`cxkit.churn.pipeline.campaign_tables` made it).
    """
    ax = get_ax(ax)
    ax.plot(data["pct_contacted"], data["profit"], color=GOOD, **kwargs)
    ax.axhline(0, color=BAD, lw=0.8)
    best = data.attrs.get("best")
    chosen = data.attrs.get("chosen")
    if chosen:  # chosen on an earlier month: the honest mark; the hindsight best only faintly
        if best:
            ax.axvline(best["pct_contacted"], color=NEUTRAL, ls=":", lw=0.8)
        best = {**chosen}
        label = "chosen on the month before"
    else:
        label = "best"
    if best:
        ax.axvline(best["pct_contacted"], color=NEUTRAL, ls="--")
        ax.annotate(
            f"{label}: contact {best['n_contacted']:,} "
            f"({best['pct_contacted']:.0f}%), profit {best['profit']:,.0f}",
            xy=(best["pct_contacted"], best["profit"]),
            xytext=(5 if best["pct_contacted"] < 50 else -5, 5),
            textcoords="offset points",
            ha="left" if best["pct_contacted"] < 50 else "right",
            fontsize="small",
        )
    ax.set(
        xlabel="Customers contacted, riskiest first (%)",
        ylabel="Profit",
        title="Campaign profit by how many of the riskiest are contacted",
    )
    return ax

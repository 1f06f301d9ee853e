"""Survival statistics on a survival table: Kaplan–Meier, summaries, log-rank tests, RMST."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd

from .._args import duration as _duration  # `duration` is a common local name here
from .._args import jsonable
from .._stats import ADJUSTMENTS, adjust_pvalues
from ..data import DataError
from .checks import REFERENCE_LEVELS, _check_alpha, _check_survival, _groups, _one_column, _zgrid


def _km_arrays(duration, churned, alpha):
    """Kaplan–Meier on one group, with lifelines' timeline (0 and every distinct duration)."""
    duration = np.asarray(duration, float)
    churned = np.asarray(churned, bool)
    times, inverse = np.unique(duration, return_inverse=True)
    removed = np.bincount(inverse, minlength=len(times))
    events = np.bincount(inverse, weights=churned, minlength=len(times)).astype("int64")
    if len(times) == 0 or times[0] != 0:
        times = np.r_[0.0, times]
        removed = np.r_[0, removed]
        events = np.r_[0, events]
    at_risk = len(duration) - np.r_[0, np.cumsum(removed)[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(np.where(at_risk > 0, 1 - events / at_risk, 1.0))
        term = np.where(at_risk > events, events / (at_risk * (at_risk - events)), 0.0)
        greenwood = np.cumsum(term)
        z = _zgrid(alpha)
        v = np.log(survival)
        low = np.exp(-np.exp(np.log(-v) - z * np.sqrt(greenwood) / v))
        high = np.exp(-np.exp(np.log(-v) + z * np.sqrt(greenwood) / v))
    low = np.where(np.isnan(low), 1.0, low)
    high = np.where(np.isnan(high), 1.0, high)
    return {
        "time": times,
        "survival": survival,
        "ci_low": low,
        "ci_high": high,
        "at_risk": at_risk.astype("int64"),
        "churned": events,
        "censored": (removed - events).astype("int64"),
        "_greenwood": greenwood,
    }


def kaplan_meier(table, by=None, *, alpha=0.05):
    """Kaplan–Meier retention curve(s), tidy.

    Parameters
    ----------
    table : DataFrame or Journey
        A survival table (:func:`survival_table` or :func:`activity_table`): ``duration_days``
        (finite, ≥ 0) and ``churned`` (True/False or 1/0). A Journey is turned into its
        :func:`survival_table`.
    by : str, optional
        One column to split by; one curve per level. (To split by several, combine them into
        one column first.)
    alpha : float
        1 − confidence level of the pointwise interval (exponential Greenwood, as lifelines),
        strictly between 0 and 1.

    Returns
    -------
    DataFrame
        [``by``], ``time`` (days; 0 and every distinct duration), ``survival`` (probability of
        still being a customer, 0–1), ``ci_low``, ``ci_high``, ``at_risk`` (customers still
        followed just before ``time``), ``churned`` and ``censored`` at ``time``. The number at
        risk at any day ``t`` is the ``at_risk`` of the first row with ``time >= t`` (0 past the
        end), so at-risk counts can be exported or drawn under any axis.

    Raises
    ------
    DataError
        Missing, negative or infinite durations; churn flags other than True/False or 1/0
        (``"yes"``/``"no"`` are not guessed); several ``by`` columns; a ``by`` column with no
        value at all; ``alpha`` outside (0, 1).

    Examples
    --------
    >>> import cxkit
    >>> curve = cxkit.kaplan_meier(cxkit.survival_table(cxkit.load_sample()), by="plan")
    >>> list(curve.columns[:3])
    ['plan', 'time', 'survival']
    """
    where = "kaplan_meier"
    table = _check_survival(table, where)
    by = _one_column(by, where)
    _check_alpha(alpha, where)
    frames = []
    for level, sub in _groups(table, by, where):
        if len(sub) == 0:
            continue
        arrays = _km_arrays(sub["duration_days"], sub["churned"], alpha)
        arrays.pop("_greenwood")
        frame = pd.DataFrame(arrays)
        if by is not None:
            if not sub["churned"].any():
                warnings.warn(
                    f"{where}: group {by}={level!r} has no churn (all "
                    f"{len(sub)} customers censored); its curve stays at 1",
                    stacklevel=2,
                )
            frame.insert(0, by, level)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    if by is not None and isinstance(table[by].dtype, pd.CategoricalDtype):
        out[by] = out[by].astype(table[by].dtype)
    out.attrs = jsonable({"alpha": alpha, "by": by})
    return out


def _step_at(times, values, t):
    """Right-continuous step function value at t (values at times[i] hold until times[i+1])."""
    i = np.searchsorted(times, t, side="right") - 1
    return values[i] if i >= 0 else np.nan


def _first_time_below(times, values, threshold=0.5):
    below = np.flatnonzero(values <= threshold)
    return float(times[below[0]]) if len(below) else np.inf


def survival_summary(table, by=None, times=(30, 90, 180, 365), *, alpha=0.05):
    """Median lifetime with its CI, and the share retained at chosen days, per group.

    Parameters
    ----------
    table : DataFrame
        A survival table.
    by : str, optional
        Column to split by.
    times : sequence of float
        Days at which to report the share still retained.
    alpha : float
        1 − confidence level.

    Returns
    -------
    DataFrame
        One row per group: [``by``], ``customers``, ``churned``, ``median_days`` (inf when the
        curve never reaches 50%), ``median_ci_low``, ``median_ci_high`` (where the CI band
        crosses 50%, as lifelines), then for each day ``t`` ``pct_retained_<t>d``,
        ``ci_low_<t>d``, ``ci_high_<t>d`` (percentages; NaN past the group's follow-up).

    Examples
    --------
    >>> import cxkit
    >>> table = cxkit.survival_table(cxkit.load_sample())
    >>> cxkit.survival_summary(table, by="plan", times=(90, 365)).shape[0]
    2
    """
    where = "survival_summary"
    table = _check_survival(table, where)
    by = _one_column(by, where)
    _check_alpha(alpha, where)
    rows = []
    for level, sub in _groups(table, by, where):
        if len(sub) == 0:
            continue
        km = _km_arrays(sub["duration_days"], sub["churned"], alpha)
        t, s = km["time"], km["survival"]
        row = {} if by is None else {by: level}
        row.update(
            customers=len(sub),
            churned=int(sub["churned"].sum()),
            median_days=_first_time_below(t, s),
            median_ci_low=_first_time_below(t, km["ci_low"]),
            median_ci_high=_first_time_below(t, km["ci_high"]),
        )
        end = float(sub["duration_days"].max())
        for day in times:
            inside = day <= end
            label = f"{day:g}d"
            row[f"pct_retained_{label}"] = 100 * _step_at(t, s, day) if inside else np.nan
            row[f"ci_low_{label}"] = 100 * _step_at(t, km["ci_low"], day) if inside else np.nan
            row[f"ci_high_{label}"] = 100 * _step_at(t, km["ci_high"], day) if inside else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    if by is not None and isinstance(table[by].dtype, pd.CategoricalDtype):
        out[by] = out[by].astype(table[by].dtype)
    out.attrs = jsonable({"alpha": alpha, "times": list(times)})
    return out


def _adjust(p, method):
    if method in ADJUSTMENTS:
        return adjust_pvalues(p, method)
    raise DataError(
        "logrank",
        [
            {
                "column": "correction",
                "expected": f"'holm', 'bonferroni', 'fdr_bh' or None; got {method!r}",
            }
        ],
    )


def logrank(table, by, *, correction="holm"):
    """Log-rank tests: all groups at once, and every pair with a multiple-comparison correction.

    Parameters
    ----------
    table : DataFrame
        A survival table.
    by : str
        Column whose groups are compared.
    correction : {"holm", "bonferroni", "fdr_bh", None}
        Adjustment of the pairwise p-values (the overall test is one test, not adjusted).

    Returns
    -------
    DataFrame
        One row for the overall test (``comparison="all groups"``) and one per pair:
        ``comparison``, ``group_a``, ``group_b``, ``test_statistic`` (chi-squared), ``df``,
        ``p_value``, ``p_adjusted``, ``customers``, ``churned``.

    Examples
    --------
    >>> import cxkit
    >>> table = cxkit.survival_table(cxkit.load_sample())
    >>> cxkit.logrank(table, by="plan")["comparison"].iloc[0]
    'all groups'
    """
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    where = "logrank"
    table = _check_survival(table, where)
    by = _one_column(by, where)
    if by is None:
        raise DataError(
            where,
            [{"column": "by", "expected": "a column whose groups to compare"}],
            columns=table.columns,
        )
    groups = [(lv, sub) for lv, sub in _groups(table, by, where) if len(sub)]
    if len(groups) < 2:
        raise DataError(
            where,
            [{"column": by, "expected": f"at least two groups to compare; found {len(groups)}"}],
        )
    for level, sub in groups:
        if not sub["churned"].any():
            warnings.warn(
                f"{where}: group {by}={level!r} has no churn (all {len(sub)} customers "
                "censored); it is compared as such",
                stacklevel=2,
            )
    sub = pd.concat([s for _, s in groups])
    overall = multivariate_logrank_test(sub["duration_days"], sub[by].astype(str), sub["churned"])
    rows = [
        {
            "comparison": "all groups",
            "group_a": None,
            "group_b": None,
            "test_statistic": float(overall.test_statistic),
            "df": int(overall.degrees_of_freedom),
            "p_value": float(overall.p_value),
            "customers": len(sub),
            "churned": int(sub["churned"].sum()),
        }
    ]
    for i in range(len(groups)):
        for j in range(i + 1, len(groups)):
            (a, ta), (b, tb) = groups[i], groups[j]
            res = logrank_test(
                ta["duration_days"], tb["duration_days"], ta["churned"], tb["churned"]
            )
            rows.append(
                {
                    "comparison": f"{a} vs {b}",
                    "group_a": a,
                    "group_b": b,
                    "test_statistic": float(res.test_statistic),
                    "df": 1,
                    "p_value": float(res.p_value),
                    "customers": len(ta) + len(tb),
                    "churned": int(ta["churned"].sum() + tb["churned"].sum()),
                }
            )
    out = pd.DataFrame(rows)
    out["p_adjusted"] = out["p_value"]
    if len(out) > 1:
        out.loc[1:, "p_adjusted"] = _adjust(out["p_value"].iloc[1:], correction)
    cols = [
        "comparison",
        "group_a",
        "group_b",
        "test_statistic",
        "df",
        "p_value",
        "p_adjusted",
        "customers",
        "churned",
    ]
    out = out[cols]
    out.attrs = jsonable({"by": by, "correction": correction})
    return out


def _rmst_one(duration, churned, horizon):
    """RMST up to ``horizon`` and its Greenwood-based variance (Klein & Moeschberger eq. 4.4.4,
    as R's survRM2): Var = Σ_{t_i ≤ τ} A_i² d_i / (n_i (n_i − d_i)), A_i = ∫_{t_i}^{τ} S."""
    km = _km_arrays(duration, churned, 0.05)
    t, s = km["time"], km["survival"]
    inside = t <= horizon
    t, s = t[inside], s[inside]
    d, n = km["churned"][inside], km["at_risk"][inside]
    widths = np.diff(np.r_[t, horizon])
    pieces = s * widths
    area = pieces.sum()
    tail = np.cumsum(pieces[::-1])[::-1]  # A_i: S is s_j on [t_j, t_j+1), so Σ_{j≥i}
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where((n > d) & (d > 0), d / (n * (n - d)), 0.0)
    var = float(np.sum(tail**2 * term))
    return float(area), var


def _horizon_days(horizon, where):
    """τ in days from a number of days or a duration such as ``"365D"`` or ``"52W"``."""
    if isinstance(horizon, numbers.Real) and not isinstance(horizon, bool):
        days = float(horizon)
        if not (np.isfinite(days) and days > 0):
            raise DataError(
                f"{where}(horizon=...)",
                [
                    {
                        "column": "horizon",
                        "expected": f"a positive number of days (or '365D'); got {horizon!r}",
                    }
                ],
            )
        return days
    return _duration(horizon, "horizon", where) / pd.Timedelta("1D")


def rmst(table, by=None, horizon=365, *, alpha=0.05, reference=None):
    """Restricted mean survival time: expected days as a customer within ``horizon`` days.

    The area under the Kaplan–Meier curve up to ``horizon``, with a confidence interval from
    the Greenwood-based variance of Klein & Moeschberger (2003, eq. 4.4.4), the formula of R's
    ``survRM2`` (lifelines' ``restricted_mean_survival_time(return_variance=True)`` returns the
    variance of min(T, τ) instead — lifelines issue #1682). With ``by``, also the difference of
    each group from a reference group, with its CI and p-value (independent groups).

    Parameters
    ----------
    table : DataFrame
        A survival table.
    by : str, optional
        Column to split by.
    horizon : float or str
        τ in days (365: "expected days as a customer within the first year"), or a duration
        such as ``"365D"`` or ``"52W"`` (converted to days).
    alpha : float
        1 − confidence level.
    reference : optional
        The group differences are taken against. Default: :data:`REFERENCE_LEVELS` for the
        column, else the largest group.

    Returns
    -------
    DataFrame
        One row per group: [``by``], ``versus`` (empty), ``rmst_days``, ``se``, ``ci_low``,
        ``ci_high``, ``customers``; then one row per other group: ``versus`` = the reference,
        ``rmst_days`` = group − reference difference, its ``se``, CI and ``p_value``.
        ``.attrs["horizon"]``. A group followed for less than ``horizon`` gets NaN and a warning.

    Examples
    --------
    >>> import cxkit
    >>> table = cxkit.survival_table(cxkit.load_sample())
    >>> bool(cxkit.rmst(table, by="plan", horizon=365)["rmst_days"].notna().all())
    True
    """
    from scipy.stats import norm

    where = "rmst"
    table = _check_survival(table, where)
    by = _one_column(by, where)
    _check_alpha(alpha, where)
    horizon = _horizon_days(horizon, where)
    z = _zgrid(alpha)
    rows = []
    for level, sub in _groups(table, by, where):
        if len(sub) == 0:
            continue
        follow = float(sub["duration_days"].max())
        if follow < horizon:
            warnings.warn(
                f"{where}: {'' if by is None else f'group {by}={level!r}: '}followed "
                f"for {follow:.0f} days at most, less than the horizon of "
                f"{horizon:g}; its RMST is left blank (choose a shorter horizon)",
                stacklevel=2,
            )
            est, var = np.nan, np.nan
        else:
            est, var = _rmst_one(sub["duration_days"], sub["churned"], horizon)
        se = np.sqrt(var)
        row = {} if by is None else {by: level}
        row.update(
            versus=None,
            rmst_days=est,
            se=se,
            ci_low=est - z * se,
            ci_high=est + z * se,
            p_value=np.nan,
            customers=len(sub),
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    if by is not None and len(out) > 1:
        levels = list(out[by])
        if reference is None:
            ref = REFERENCE_LEVELS.get(by)
            if ref not in levels:
                ref = levels[int(np.argmax(out["customers"].to_numpy()))]
        else:
            ref = reference
            if ref not in levels:
                raise DataError(
                    where, [{"column": "reference", "expected": f"one of {levels}; got {ref!r}"}]
                )
        r = out[out[by] == ref].iloc[0]
        diffs = []
        for _, g in out[out[by] != ref].iterrows():
            est = g["rmst_days"] - r["rmst_days"]
            se = np.sqrt(g["se"] ** 2 + r["se"] ** 2)
            diffs.append(
                {
                    by: g[by],
                    "versus": ref,
                    "rmst_days": est,
                    "se": se,
                    "ci_low": est - z * se,
                    "ci_high": est + z * se,
                    "p_value": 2 * norm.sf(abs(est / se)) if se > 0 else np.nan,
                    "customers": int(g["customers"] + r["customers"]),
                }
            )
        out = pd.concat([out, pd.DataFrame(diffs)], ignore_index=True)
    out.attrs = jsonable({"horizon": horizon, "alpha": alpha})
    return out

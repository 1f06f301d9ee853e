"""Funnel statistics on the reduced table: step counts with Wilson intervals, time to convert
(Kaplan–Meier), trends, and tests between groups or arms."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._args import jsonable
from .._stats import Z95 as _Z95
from .._stats import adjust_pvalues as _adjust
from .._stats import wilson as _wilson
from ..data import DataError, Journey
from ..engine.journey import EngineJourney
from ._proportions import family_alpha as _family_alpha
from ._proportions import two_proportions as _two_proportions
from .reduce import _factorize_rows, _prepare


def _summarise(table, labels, groups=None):
    """The tidy funnel of a per-person table (optionally by groups)."""
    K = len(labels)
    depth = table["depth"].to_numpy()
    if groups is None:
        codes, uniques, gcols = None, None, []
        G = 1
        counts = np.bincount(depth, minlength=K + 1).reshape(1, K + 1)
    else:
        keys = groups.reset_index(drop=True)
        gcols = list(keys.columns)
        codes, uniques = _factorize_rows(keys)
        G = len(uniques)
        counts = np.bincount(codes * (K + 1) + depth, minlength=G * (K + 1)).reshape(G, K + 1)
    reached = counts[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]  # reached[g, k-1] = depth >= k
    rows = []
    at = [table[f"step_{k + 1}_at"].to_numpy().view("int64") for k in range(K)]
    sel = np.flatnonzero(depth > 1)  # the people who reached step k + 1, narrowed step by step
    for k in range(K):
        n_k = reached[:, k]
        start_n = reached[:, 0]
        prev_n = reached[:, k - 1] if k else reached[:, 0]
        if k:
            if k > 1:
                sel = sel[depth[sel] > k]
            gap = at[k][sel] - at[k - 1][sel]
            if groups is None:
                med = np.array([np.median(gap) if len(gap) else np.nan])
            else:
                med = pd.Series(gap.astype(float)).groupby(codes[sel]).median()
                med = med.reindex(range(G)).to_numpy()
            med = pd.to_timedelta(med, unit="ns").to_numpy()
            lo, hi = _wilson(n_k, prev_n)
        else:
            med = np.full(G, np.timedelta64("NaT", "ns"))
            lo = hi = np.full(G, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            frame = pd.DataFrame(
                {
                    "step_index": k + 1,
                    "step": labels[k],
                    "customers": n_k,
                    "pct_of_start": np.where(start_n > 0, 100 * n_k / start_n, np.nan),
                    "pct_of_previous": np.where(prev_n > 0, 100 * n_k / prev_n, np.nan),
                    "ci_low": lo,
                    "ci_high": hi,
                    "median_time_to_step": pd.to_timedelta(med),
                }
            )
        if groups is not None:
            for c in gcols:
                frame.insert(0, c, uniques[c].to_numpy())
        rows.append(frame)
    out = pd.concat(rows, ignore_index=True)
    if groups is not None:
        out = out.sort_values(gcols + ["step_index"], kind="stable").reset_index(drop=True)
    return out


def funnel(
    events,
    steps=None,
    *,
    window="14D",
    by=None,
    customers=None,
    observed_at=None,
    strict=False,
    start=None,
    end=None,
    entry="all",
    exclude=None,
    complete_only=False,
    stages=None,
    step_windows=None,
):
    """How many people reach each funnel step, with step conversion and its uncertainty.

    Parameters
    ----------
    events : DataFrame, Journey or path
        The events table (or a Journey: its customers and ``observed_at`` are used). A path
        to an events file (CSV, CSV.gz, Parquet with cxkit's column names) is read with
        :func:`cxkit.read_events` keeping only what this funnel looks at: the rows of its
        steps' and excluded events and, without ``by``, the three required columns (every
        row still checked; ``observed_at`` defaults to the file's latest timestamp). Same
        result as on the whole log, in about half the time for a large file.
    steps : list or dict
        Steps in order; an item is an event or a list of alternative events; a dict names them.
    window : str or Timedelta, default "14D"
        Time allowed from the entry to the last step; a step exactly on the boundary counts.
    step_windows : dict or list, optional
        Per-step windows: the longest time allowed from the previous step to a step, on top of
        ``window`` (both must hold; the boundary counts). A dict ``{step name: "1D"}`` or a list
        with one duration (or ``None``: no own limit) per step after the first.
    by : str or list of str, optional
        Put each person in one group: an events column's value on the person's entry event
        (device, channel, variant) or, if the events lack it, a customers-table attribute.
        People without a value form the group "(missing)".
    customers : DataFrame, optional
        The customers table, for ``by`` on a customer attribute (taken from a Journey).
    observed_at : Timestamp, optional
        End of the data; default the Journey's ``observed_at``, else the latest event.
    strict, start, end, entry, exclude, stages
        See :func:`funnel_table`.
    complete_only : bool, default False
        Judge each person only on the entries whose window had closed by ``observed_at``
        (entry at or before ``observed_at - window``): nothing counted can still change.
        People whose every entry is still open are left out (``attrs["left_out_open"]``);
        people who keep coming back stay in, judged on their earlier entries
        (``attrs["judged_on_closed"]``).

    Returns
    -------
    DataFrame
        One row per step (× group): ``step_index`` (1-based), ``step``, ``customers`` (people
        who reached it), ``pct_of_start``, ``pct_of_previous`` (percent), ``ci_low``,
        ``ci_high`` (Wilson 95% on ``pct_of_previous``; NaN for step 1) and
        ``median_time_to_step`` (from the previous step), plus the ``by`` column(s).
        ``attrs``: ``entrants``, ``open_windows`` (entrants whose last window was still open
        at the end of the data), ``open_not_converted``, ``left_out_open``, ``missing_group``
        (with ``complete_only``: ``open_entries_left_out``, ``judged_on_closed``), the
        steps, window and ``observed_at`` (as text, so the table exports to Parquet).

    Notes
    -----
    See the module docstring for the matching rules. Counts equal ClickHouse's
    ``windowFunnel`` except when one event row can match two consecutive steps (ClickHouse lets
    it count twice; cxkit needs two rows). ``strict=True`` is cxkit's own rule (only other
    funnel steps' events break a chain), not ClickHouse's ``strict_order``.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS
    >>> f = cxkit.funnel(cxkit.load_sample(), STEPS, window="14D")
    >>> list(f["step"])[:3]
    ['awareness', 'site_visit', 'product_view']

    Purchase within an hour of checkout, the rest within the 14 days of the entry:

    >>> g = cxkit.funnel(cxkit.load_sample(), STEPS, step_windows={"purchase": "1h"})
    >>> bool(g["customers"].iloc[-1] <= f["customers"].iloc[-1])
    True
    """
    _, table, groups, attrs, _ = _prepare(
        events,
        steps,
        window,
        by,
        customers,
        observed_at,
        complete_only,
        "funnel",
        strict=strict,
        start=start,
        end=end,
        entry=entry,
        exclude=exclude,
        stages=stages,
        step_windows=step_windows,
    )
    out = _summarise(table, list(attrs["steps"]), groups)
    out.attrs = jsonable(attrs)
    return out


def _kaplan_meier(duration, event):
    """KM curve: (times, survival, lower, upper, at_risk) at the distinct event times.

    Confidence band: log(-log) transform of Greenwood's variance (95%)."""
    duration = np.asarray(duration, float)
    event = np.asarray(event, bool)
    order = np.argsort(duration, kind="stable")
    d_sorted = duration[order]
    e_sorted = event[order]
    times, first = np.unique(d_sorted, return_index=True)
    n = len(d_sorted)
    at_risk = n - first
    deaths = np.add.reduceat(e_sorted.astype(int), first) if n else np.zeros(0, int)
    keep = deaths > 0
    times, at_risk, deaths = times[keep], at_risk[keep], deaths[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1 - deaths / at_risk)
        var = np.cumsum(deaths / (at_risk * (at_risk - deaths)))
        log_s = np.log(surv)
        se = np.sqrt(var) / np.abs(log_s)
        low = surv ** np.exp(_Z95 * se)
        high = surv ** np.exp(-_Z95 * se)
    low = np.where(surv > 0, low, 0.0)
    high = np.where(surv > 0, high, np.where(np.isfinite(high), high, 0.0))
    return times, surv, np.nan_to_num(low), np.nan_to_num(high, nan=1.0), at_risk


def _km_quantile(times, surv, q):
    """Smallest time by which a share q has converted (survival <= 1 - q), NaN if never."""
    hit = np.flatnonzero(surv <= 1 - q + 1e-12)
    return times[hit[0]] if len(hit) else np.nan


def _durations(table, k, window, observed, step_window=None):
    """Time (hours) from step k to k+1 for people who reached step k, and whether they did.

    Non-converters are censored at the end of their window (or of step k+1's own window, or of
    the data, whichever comes first)."""
    at = table[f"step_{k}_at"]
    nxt = table[f"step_{k + 1}_at"]
    reached = table["depth"].to_numpy() >= k
    converted = table["depth"].to_numpy() >= k + 1
    end = np.minimum((table["step_1_at"] + window).to_numpy(), np.datetime64(observed, "ns"))
    if step_window is not None:
        end = np.minimum(end, (at + step_window).to_numpy())
    stop = np.where(converted, nxt.to_numpy(), end)
    hours = (stop - at.to_numpy()) / np.timedelta64(1, "h")
    hours = np.maximum(hours, 0.0)
    return hours[reached], converted[reached]


def time_to_convert(
    events,
    steps=None,
    *,
    window="14D",
    by=None,
    customers=None,
    observed_at=None,
    curve=False,
    **options,
):
    """Time from each step to the next, as a survival question.

    People who reached a step but not the next are censored at the end of their window (or of
    the next step's own window in ``step_windows``, or at the end of the data, if earlier)
    instead of being dropped, so "half convert within 2 days" is true of everyone who reached
    the step. Beside it, the plain quartiles among converters.

    The window runs from the *entry* event, so people censored at its end had less than a full
    window after reaching the step; the Kaplan–Meier ``pct_converted`` therefore estimates
    conversion as if the window did not close (it can slightly exceed the funnel's
    ``pct_of_previous``, which counts only conversions inside the window).

    Parameters
    ----------
    events, steps, window, by, customers, observed_at
        As in :func:`funnel`; other options (strict, start, end, entry, exclude, stages,
        step_windows, complete_only) are passed on.
    curve : bool, default False
        Return the Kaplan–Meier curves instead of the summary: ``step_index``, ``step``,
        ``next_step``, ``hours``, ``pct_converted``, ``ci_low``, ``ci_high``, ``at_risk``
        (for :func:`cxkit.plots.plot_time_to_convert`).

    Returns
    -------
    DataFrame
        One row per step transition (× group): ``step_index``, ``step``, ``next_step``,
        ``reached`` (people at the step), ``converted``, ``censored``, ``pct_converted``
        (Kaplan–Meier, by the end of the window), ``median_hours``, ``q25_hours``, ``q75_hours``
        (time by which 50/25/75% of everyone at the step has converted; NaN = never reached) and
        ``median_hours_converted``, ``q25_hours_converted``, ``q75_hours_converted``.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS
    >>> ttc = cxkit.time_to_convert(cxkit.load_sample(), STEPS)
    >>> list(ttc.columns[:3])
    ['step_index', 'step', 'next_step']
    """
    complete_only = options.pop("complete_only", False)
    _, table, groups, attrs, _ = _prepare(
        events,
        steps,
        window,
        by,
        customers,
        observed_at,
        complete_only,
        "time_to_convert",
        **options,
    )
    labels = list(attrs["steps"])
    window_td, observed = attrs["window"], attrs["observed_at"]
    step_tds = list(attrs["step_windows"].values())
    if groups is None:
        parts = [((), np.ones(len(table), bool))]
        gcols = []
    else:
        gcols = list(groups.columns)
        codes, uniq = _factorize_rows(groups)
        parts = [(tuple(uniq.iloc[g]), codes == g) for g in range(len(uniq))]
    summary, curves = [], []
    for key, mask in parts:
        sub = table[mask]
        for k in range(1, len(labels)):
            hours, conv = _durations(sub, k, window_td, observed, step_tds[k])
            times, surv, low, high, risk = _kaplan_meier(hours, conv)
            head = dict(zip(gcols, key, strict=True))
            head.update(step_index=k, step=labels[k - 1], next_step=labels[k])
            q = np.quantile(hours[conv], [0.25, 0.5, 0.75]) if conv.any() else [np.nan] * 3
            summary.append(
                {
                    **head,
                    "reached": int(len(hours)),
                    "converted": int(conv.sum()),
                    "censored": int((~conv).sum()),
                    "pct_converted": 100 * (1 - surv[-1]) if len(surv) else 0.0,
                    "median_hours": _km_quantile(times, surv, 0.5),
                    "q25_hours": _km_quantile(times, surv, 0.25),
                    "q75_hours": _km_quantile(times, surv, 0.75),
                    "median_hours_converted": q[1],
                    "q25_hours_converted": q[0],
                    "q75_hours_converted": q[2],
                }
            )
            if curve:
                curves.append(
                    pd.DataFrame(
                        {
                            **head,
                            "hours": np.r_[0.0, times],
                            "pct_converted": 100 * (1 - np.r_[1.0, surv]),
                            "ci_low": 100 * (1 - np.r_[1.0, high]),
                            "ci_high": 100 * (1 - np.r_[1.0, low]),
                            "at_risk": np.r_[len(hours), risk],
                        }
                    )
                )
    if curve:
        out = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    else:
        out = pd.DataFrame(summary)
    out.attrs = jsonable(attrs)
    return out


def funnel_trend(
    events,
    steps=None,
    *,
    period="W",
    window="14D",
    by=None,
    customers=None,
    observed_at=None,
    **options,
):
    """Conversion by entry week or month: the funnel of each entry period.

    Parameters
    ----------
    period : {"W", "M"} or pandas period alias
        Entry period; a person belongs to the period of the entry their chain starts from.
    Others as in :func:`funnel`.

    Returns
    -------
    DataFrame
        :func:`funnel`'s columns per ``period`` (a Timestamp, the period's start), plus
        ``open_windows``: entrants of that period whose window was still open at the end of the
        data (recent periods are incomplete; see ``complete_only``).

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS
    >>> trend = cxkit.funnel_trend(cxkit.load_sample(), STEPS, period="M")
    >>> "period" in trend.columns
    True
    """
    complete_only = options.pop("complete_only", False)
    _, table, groups, attrs, _ = _prepare(
        events, steps, window, by, customers, observed_at, complete_only, "funnel_trend", **options
    )
    alias = {"W": "W-SUN", "M": "M", "MS": "M", "ME": "M", "Q": "Q"}.get(period, period)
    try:
        periods = table["step_1_at"].dt.to_period(alias).dt.start_time
    except (ValueError, TypeError):
        raise DataError(
            "funnel_trend(period=...)",
            [{"column": "period", "expected": f"'W' (weeks) or 'M' (months); got {period!r}"}],
        ) from None
    keys = pd.DataFrame({"period": periods.to_numpy()})
    if groups is not None:
        keys = pd.concat([keys, groups], axis=1)
    out = _summarise(table, list(attrs["steps"]), keys)
    open_by = table.groupby(keys["period"].to_numpy())["window_open"].sum()
    out["open_windows"] = out["period"].map(open_by).fillna(0).astype(int).to_numpy()
    out.attrs = jsonable(attrs)
    return out


def compare_funnel(
    events,
    steps=None,
    *,
    by,
    baseline=None,
    window="14D",
    customers=None,
    observed_at=None,
    test="z",
    correction="holm",
    alpha=0.05,
    power=0.8,
    **options,
):
    """Test each step's conversion between groups (A/B variants, devices, channels).

    Each group's step conversion (``pct_of_previous``) is compared with the ``baseline`` group,
    or, when no baseline is given, with everyone else pooled ("rest"). For each step and group:
    the difference in percentage points with a Newcombe 95% CI, the relative change, a
    two-proportion z test (``test="z"``) or a chi-square test of the 2×2 table
    (``test="chi2"``, same p-value without continuity correction), the p-value corrected for
    the number of comparisons (Holm by default), and the minimum detectable effect for these
    sample sizes, so that "no significant difference" is not read into an underpowered test.
    The MDE is computed at the level the adjusted p-values are read at (``alpha / m`` for Holm
    or Bonferroni with ``m`` comparisons) with the variance under the alternative, so a true
    difference of that size is found with probability ``power``. Where a cell of a 2×2 table
    expects fewer than five people the p-value comes from an exact test (Boschloo's, Fisher's
    for large tables; ``test_used``, ``small_counts``), as the z test there rejects too often.

    Parameters
    ----------
    by : str
        The grouping (as in :func:`funnel`).
    baseline : str, optional
        The reference group (e.g. "control"); default each group against all others.
    test : {"z", "chi2"}
    correction : {"holm", "bonferroni", "fdr_bh", "none"}
    alpha, power : float
        Significance level and power for ``significant`` and ``mde_pp``.
    Others as in :func:`funnel`.

    Returns
    -------
    DataFrame
        One row per step (from step 2) × compared group: ``step_index``, ``step``, ``by``
        (the column), ``group``, ``reference``, ``n_group``, ``pct_group``, ``n_reference``,
        ``pct_reference`` (people at the previous step and the share who continued),
        ``diff_pp``, ``ci_low``, ``ci_high``, ``relative`` (ratio), ``statistic``, ``p_value``,
        ``p_adjusted``, ``significant``, ``mde_pp`` (smallest difference in points these sizes
        detect with the given power at the adjusted level), ``p_overall`` (chi-square across
        all groups at the step), ``test_used`` and ``small_counts``.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS
    >>> cmp = cxkit.compare_funnel(cxkit.load_sample(), STEPS, by="device")
    >>> bool((cmp["p_adjusted"] >= cmp["p_value"]).all())
    True
    """
    from scipy import stats

    if test not in ("z", "chi2"):
        raise DataError(
            "compare_funnel(test=...)",
            [{"column": "test", "expected": f"'z' or 'chi2'; got {test!r}"}],
        )
    if correction not in ("holm", "bonferroni", "fdr_bh", "none", None):
        raise DataError(
            "compare_funnel(correction=...)",
            [{"column": "correction", "expected": "'holm', 'bonferroni', 'fdr_bh' or 'none'"}],
        )
    if not isinstance(by, str):
        raise DataError(
            "compare_funnel(by=...)",
            [{"column": "by", "expected": f"one column name; got {by!r}"}],
        )
    f = funnel(
        events,
        steps,
        window=window,
        by=by,
        customers=customers,
        observed_at=observed_at,
        **options,
    )
    groups = list(pd.unique(f[by]))
    if baseline is not None and baseline not in groups:
        raise DataError(
            "compare_funnel(baseline=...)",
            [{"column": "baseline", "expected": f"one of the groups of '{by}'; got {baseline!r}"}],
            columns=groups,
        )
    K = int(f["step_index"].max())
    rows = []
    for k in range(2, K + 1):
        now = f[f["step_index"] == k].set_index(by)["customers"].reindex(groups).fillna(0)
        before = f[f["step_index"] == k - 1].set_index(by)["customers"].reindex(groups)
        before = before.fillna(0)
        table = np.vstack([now.to_numpy(), (before - now).to_numpy()])
        nonempty = table.sum(axis=0) > 0
        p_overall = np.nan
        if nonempty.sum() >= 2 and (table[:, nonempty].sum(axis=1) > 0).all():
            p_overall = stats.chi2_contingency(table[:, nonempty], correction=False)[1]
        step = f.loc[f["step_index"] == k, "step"].iloc[0]
        for g in groups:
            if g == baseline:
                continue
            x1, n1 = now[g], before[g]
            if baseline is None:
                x2, n2, ref = now.sum() - x1, before.sum() - n1, "rest"
            else:
                x2, n2, ref = now[baseline], before[baseline], baseline
            rows.append(
                (
                    {"step_index": k, "step": step, "by": by, "group": g, "reference": ref},
                    (x1, n1, x2, n2),
                    p_overall,
                )
            )
    # the MDE at the level significance is read at: alpha / m for Holm with m comparisons
    alpha_mde = _family_alpha(alpha, len(rows), correction)
    out = pd.DataFrame(
        [
            {
                **head,
                **_two_proportions(*counts, test=test, alpha_mde=alpha_mde, power=power),
                "p_overall": p_overall,
            }
            for head, counts, p_overall in rows
        ]
    )
    if len(out):
        out["p_adjusted"] = _adjust(out["p_value"].to_numpy(), correction)
        out["significant"] = out["p_adjusted"] < alpha
        tail = ("p_adjusted", "significant", "mde_pp", "p_overall", "test_used", "small_counts")
        cols = [c for c in out.columns if c not in tail]
        cols.insert(cols.index("p_value") + 1, "p_adjusted")
        out = out[cols + ["significant", "mde_pp", "p_overall", "test_used", "small_counts"]]
    out.attrs = jsonable(
        {
            **f.attrs,
            "test": test,
            "correction": correction,
            "alpha": alpha,
            "power": power,
            "alpha_mde": alpha_mde,
        }
    )
    return out


def segment_gaps(events, steps=None, *, by=("device", "channel"), **options):
    """Every step × segment comparison of :func:`compare_funnel` over several groupings, the
    largest credible gap first.

    Runs :func:`compare_funnel` (each group against everyone else) for each ``by`` column that
    exists, and sorts: significant gaps first, then by ``relative`` (the lowest ratio of the
    group's step conversion to the rest's first) — so ``.iloc[0]`` is "the segment that falls
    behind, and where". Columns as in :func:`compare_funnel`, plus ``lost``: how many more people
    of the group would have continued at the rest's rate.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.funnel import STEPS, segment_gaps
    >>> worst = segment_gaps(cxkit.load_sample(), STEPS).iloc[0]
    >>> (worst["group"], worst["step"])
    ('mobile', 'purchase')
    """
    whole = isinstance(events, Journey) or isinstance(events, EngineJourney)
    events_df = events.events if whole else events
    customers = options.get("customers")
    if customers is None and whole:
        customers = events.customers
    by = [by] if isinstance(by, str) else list(by)
    present = [
        b
        for b in by
        if b in events_df.columns or (customers is not None and b in customers.columns)
    ]
    if not present:
        raise DataError(
            "segment_gaps(by=...)",
            [
                {
                    "column": "by",
                    "expected": f"at least one column of the events or customers table among {by}",
                }
            ],
            columns=events_df.columns,
        )
    parts = [compare_funnel(events, steps, by=b, **options) for b in present]
    out = pd.concat(parts, ignore_index=True)
    if out.empty:
        return out
    out["lost"] = np.maximum(out["n_group"] * (out["pct_reference"] - out["pct_group"]) / 100, 0)
    out = out.sort_values(["significant", "relative"], ascending=[False, True], kind="stable")
    out = out.reset_index(drop=True)
    out.attrs = jsonable(parts[0].attrs)
    return out

"""A/B tests on the funnel, by intention to treat.

In a randomized test the arms are comparable only as a whole: everyone assigned to an arm. A
step's conversion among the people who reached the previous step (what
:func:`cxkit.compare_funnel` compares) is not randomized — a variant that brings more people to
step 2 changes *who* is at step 3 — so a variant that only improves step 2 can look
"significantly worse" at the last step while it sells more. :func:`ab_test` compares, per step
and arm, the share of **all assigned people** who reached the step, and shows the step-to-step
rates beside them as description only.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._args import jsonable
from .._stats import adjust_pvalues as _adjust
from .._stats import wilson as _wilson
from ..data import DataError
from ._proportions import family_alpha, two_proportions
from .reduce import _reduce, _unpack
from .steps import _stacklevel

__all__ = ["ab_test", "ABTest", "SRM_ALPHA"]

#: Sample-ratio mismatch is flagged below this chi-square p-value (the usual, strict threshold:
#: a real mismatch means the assignment or the logging is broken, not bad luck).
SRM_ALPHA = 0.001

_REPEATED_LOOKS = (
    "These p-values hold for one look at the data, at a sample size fixed in advance. Looking "
    "again and again and stopping when a difference is significant makes false alarms far "
    "more likely than the stated level."
)


class ABTest:
    """The result of :func:`ab_test`, fitted-model style.

    Attributes
    ----------
    table : DataFrame
        One row per step × compared arm: ``step_index``, ``step``, ``arm``, ``control``,
        ``n_arm``, ``reached_arm``, ``pct_arm``, ``n_control``, ``reached_control``,
        ``pct_control`` (percent of *everyone assigned* who reached the step), ``diff_pp`` with
        its Newcombe 95% ``ci_low``/``ci_high``, ``relative``, ``p_value``, ``p_adjusted``
        (over every row of the table), ``significant``, ``mde_pp`` (at the adjusted level),
        ``test_used``, ``small_counts``, ``final`` (the last step: conversion), and, as
        description only (no test), ``pct_of_previous_arm``/``pct_of_previous_control``.
    steps_ : DataFrame
        Per arm and step: ``assigned``, ``reached``, ``pct`` (of assigned) with Wilson
        ``ci_low``/``ci_high`` and ``pct_of_previous`` (descriptive).
    arms_ : DataFrame
        Per arm: ``assigned``, ``share`` (percent), ``expected_share``, ``entered``.
    srm_ : dict
        Sample-ratio check: ``statistic``, ``p_value``, ``mismatch`` (p below
        :data:`SRM_ALPHA`).
    conversion_ : DataFrame
        The rows of ``table`` for the last step.
    notes_ : list of str
        What to keep in mind (repeated looks, people in several arms, open windows).
    attrs : dict
        Settings and counts (JSON types).
    """

    def __init__(self, table, steps, arms, srm, notes, attrs):
        self.table = table
        self.steps_ = steps
        self.arms_ = arms
        self.srm_ = srm
        self.notes_ = notes
        self.attrs = attrs
        self.conversion_ = table[table["final"]].reset_index(drop=True)

    @property
    def control(self):
        return self.attrs["control"]

    def plot(self, ax=None, **kwargs):
        """Share of everyone assigned who reached each step, per arm (95% intervals).

        See :func:`cxkit.plots.plot_ab_test`."""
        from .plots import plot_ab_test

        return plot_ab_test(self, ax=ax, **kwargs)

    def __repr__(self):
        parts = [f"ABTest(variant={self.attrs['variant']!r}, assigned={self.attrs['assigned']:,}"]
        for row in self.conversion_.itertuples():
            parts.append(
                f"{row.arm} vs {row.control}: {row.pct_arm:.1f}% vs {row.pct_control:.1f}% "
                f"converted, {row.diff_pp:+.1f} pp [{row.ci_low:+.1f}, {row.ci_high:+.1f}], "
                f"p_adj={row.p_adjusted:.3g}"
            )
        parts.append(f"SRM p={self.srm_['p_value']:.3g}")
        return ", ".join(parts) + ")"


def _assignment(events, customers, variant, source):
    """Each assigned person's arm (a Series indexed by customer_id as text) and counts."""
    if not isinstance(variant, str) or not variant:
        raise DataError(
            f"{source}(variant=...)",
            [{"column": "variant", "expected": f"a column name; got {variant!r}"}],
        )
    notes = {"mixed": 0, "from": None}
    if variant in events.columns and variant not in ("customer_id", "timestamp", "event"):
        rows = events.loc[events[variant].notna(), ["customer_id", "timestamp", variant]]
        rows = rows.sort_values("timestamp", kind="stable")
        arms = rows.drop_duplicates("customer_id").set_index("customer_id")[variant]
        arms.index = arms.index.astype(str)
        arms = arms.astype(str)
        pairs = rows.drop_duplicates(["customer_id", variant])
        dup = pairs["customer_id"].duplicated()
        notes["mixed"] = int(pairs.loc[dup, "customer_id"].nunique())
        notes["from"] = "events"
    elif customers is not None and variant in customers.columns and variant != "customer_id":
        rows = customers.loc[customers[variant].notna(), ["customer_id", variant]]
        arms = rows.assign(customer_id=rows["customer_id"].astype(str)).drop_duplicates(
            "customer_id"
        )
        arms = arms.set_index("customer_id")[variant].astype(str)
        notes["from"] = "customers"
    else:
        have = [c for c in events.columns if c not in ("customer_id", "timestamp", "event")]
        if customers is not None:
            have += [c for c in customers.columns if c != "customer_id" and c not in have]
        raise DataError(
            f"{source}(variant=...)",
            [
                {
                    "column": "variant",
                    "expected": f"a column of the events or customers table; '{variant}' is "
                    "in neither",
                }
            ],
            columns=have,
            hint="name the column that holds each person's arm (e.g. [funnel] variant = "
            "'variant' in cxkit.toml)",
        )
    return arms.rename("arm"), notes


def ab_test(
    journey,
    steps=None,
    *,
    variant,
    window="14D",
    control=None,
    expected=None,
    customers=None,
    observed_at=None,
    alpha=0.05,
    power=0.8,
    correction="holm",
    **options,
):
    """Compare the arms of a randomized test on the funnel, by intention to treat.

    Everyone assigned to an arm counts, whether or not they entered the funnel: per step and
    arm, the share of all assigned people who reached it, the difference from the control arm
    with a Newcombe 95% interval, a p-value (pooled z test; exact below five expected people
    in a cell) adjusted over every step and arm (Holm by default), and the minimum detectable
    effect at that adjusted level. The last step is the conversion. A chi-square test of the
    arm sizes against the expected split checks for sample-ratio mismatch (broken assignment or
    logging). Step-to-step rates are shown as description only: they compare different people.

    Parameters
    ----------
    journey : Journey or DataFrame
        The journey (or its events table).
    steps : list or dict
        Funnel steps, as in :func:`cxkit.funnel`.
    variant : str
        The column holding each person's arm: an events column (a person's arm is the value on
        their first event that has one) or a customers-table attribute.
    window : str, default "14D"
        As in :func:`cxkit.funnel`.
    control : str, optional
        The reference arm; default the arm named "control" (any case), else the first in
        sorted order.
    expected : dict, optional
        Expected share of each arm, e.g. ``{"A": 0.5, "B": 0.5}``; default an equal split.
    customers : DataFrame, optional
        For ``variant`` as a customer attribute (taken from a Journey).
    observed_at : Timestamp, optional
        End of the data (default the Journey's).
    alpha, power : float
        Significance level (before the correction) and power for ``mde_pp``.
    correction : {"holm", "bonferroni", "fdr_bh", "none"}
    **options
        ``strict``, ``start``, ``end``, ``entry``, ``exclude``, ``stages``, ``step_windows``:
        as in :func:`cxkit.funnel` (``start``/``end`` limit the entries to the test period).

    Returns
    -------
    ABTest
        ``.table`` (one row per step × arm), ``.steps_``, ``.arms_``, ``.srm_``,
        ``.conversion_``, ``.notes_``, ``.plot(ax=...)``.

    Notes
    -----
    The p-values are valid for one look at a sample size fixed in advance; repeated looks
    inflate false alarms (the result's notes say so). People seen in several arms are kept in
    the arm of their first event and counted; people whose window was still open at the end
    of the data count as not (yet) converted, in every arm alike.

    Examples
    --------
    >>> import numpy as np
    >>> import cxkit
    >>> ev = cxkit.load_sample().events
    >>> ev = ev.assign(arm=np.where(ev["customer_id"].astype(str).str[-1] < "5", "A", "B"))
    >>> res = cxkit.ab_test(ev, ["site_visit", "add_to_cart", "purchase"], variant="arm")
    >>> list(res.table["step"])
    ['site_visit', 'add_to_cart', 'purchase']
    >>> bool(res.srm_["p_value"] > 0.001)
    True
    """
    source = "ab_test"
    if "complete_only" in options or "by" in options:
        name = "complete_only" if "complete_only" in options else "by"
        raise DataError(
            f"{source}({name}=...)",
            [
                {
                    "column": name,
                    "expected": "not an option here: every assigned person counts (intention "
                    "to treat), and the arms are the groups",
                }
            ],
        )
    if correction not in ("holm", "bonferroni", "fdr_bh", "none", None):
        raise DataError(
            f"{source}(correction=...)",
            [{"column": "correction", "expected": "'holm', 'bonferroni', 'fdr_bh' or 'none'"}],
        )
    events, customers, observed = _unpack(journey, customers, observed_at)
    arms_of, counts = _assignment(events, customers, variant, source)
    levels = sorted(pd.unique(arms_of))
    if len(levels) < 2:
        raise DataError(
            f"{source}(variant=...)",
            [
                {
                    "column": variant,
                    "expected": "at least two arms",
                    "rows": int(len(arms_of)),
                    "examples": levels,
                }
            ],
        )
    if control is None:
        named = [a for a in levels if a.lower() == "control"]
        control = named[0] if named else levels[0]
    elif str(control) not in levels:
        raise DataError(
            f"{source}(control=...)",
            [
                {
                    "column": "control",
                    "expected": f"one of the arms of '{variant}'; got {control!r}",
                }
            ],
            columns=levels,
        )
    control = str(control)
    others = [a for a in levels if a != control]

    table, _ = _reduce(
        events,
        steps,
        window=window,
        observed_at=observed,
        **{
            "strict": False,
            "start": None,
            "end": None,
            "entry": "all",
            "exclude": None,
            "stages": None,
            "step_windows": None,
            **options,
        },
    )
    labels = list(table.attrs["steps"])
    K = len(labels)
    ids = table["customer_id"].astype(str).to_numpy()
    depth = pd.Series(table["depth"].to_numpy(), index=ids)
    open_ = pd.Series(table["window_open"].to_numpy(), index=ids)
    person_depth = depth.reindex(arms_of.index, fill_value=0).to_numpy()
    person_open = open_.reindex(arms_of.index, fill_value=False).to_numpy()
    arm_code = pd.Categorical(arms_of.to_numpy(), categories=levels).codes
    A = len(levels)
    assigned = np.bincount(arm_code, minlength=A)
    hist = np.bincount(arm_code * (K + 1) + person_depth, minlength=A * (K + 1)).reshape(A, K + 1)
    reached = hist[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]  # reached[a, k-1]: depth >= k

    # sample-ratio mismatch
    from scipy import stats

    if expected is None:
        shares = np.full(A, 1 / A)
    else:
        bad = sorted(set(map(str, expected)) ^ set(levels))
        values = np.array([expected.get(a, np.nan) for a in levels], float)
        if bad or not (np.isfinite(values).all() and (values > 0).all()):
            raise DataError(
                f"{source}(expected=...)",
                [
                    {
                        "column": "expected",
                        "expected": "a positive share for every arm and no other key",
                        "examples": bad or [expected],
                    }
                ],
                columns=levels,
            )
        shares = values / values.sum()
    chi = stats.chisquare(assigned, assigned.sum() * shares)
    srm = {
        "statistic": float(chi.statistic),
        "p_value": float(chi.pvalue),
        "mismatch": bool(chi.pvalue < SRM_ALPHA),
    }

    # per arm and step: share of everyone assigned (with Wilson), step-to-step (descriptive)
    frames = []
    for a, arm in enumerate(levels):
        lo, hi = _wilson(reached[a], assigned[a])
        prev = np.r_[assigned[a], reached[a, :-1]]
        with np.errstate(divide="ignore", invalid="ignore"):
            frames.append(
                pd.DataFrame(
                    {
                        "arm": arm,
                        "step_index": np.arange(1, K + 1),
                        "step": labels,
                        "assigned": int(assigned[a]),
                        "reached": reached[a],
                        "pct": 100 * reached[a] / assigned[a],
                        "ci_low": lo,
                        "ci_high": hi,
                        "pct_of_previous": np.where(prev > 0, 100 * reached[a] / prev, np.nan),
                    }
                )
            )
    per_arm = pd.concat(frames, ignore_index=True)

    m = K * len(others)
    alpha_mde = family_alpha(alpha, m, correction)
    c = levels.index(control)
    rows = []
    for k in range(K):
        for arm in others:
            a = levels.index(arm)
            res = two_proportions(
                reached[a, k],
                assigned[a],
                reached[c, k],
                assigned[c],
                alpha_mde=alpha_mde,
                power=power,
            )
            prev_a = assigned[a] if k == 0 else reached[a, k - 1]
            prev_c = assigned[c] if k == 0 else reached[c, k - 1]
            rows.append(
                {
                    "step_index": k + 1,
                    "step": labels[k],
                    "arm": arm,
                    "control": control,
                    "n_arm": res["n_group"],
                    "reached_arm": int(reached[a, k]),
                    "pct_arm": res["pct_group"],
                    "n_control": res["n_reference"],
                    "reached_control": int(reached[c, k]),
                    "pct_control": res["pct_reference"],
                    "diff_pp": res["diff_pp"],
                    "ci_low": res["ci_low"],
                    "ci_high": res["ci_high"],
                    "relative": res["relative"],
                    "p_value": res["p_value"],
                    "mde_pp": res["mde_pp"],
                    "test_used": res["test_used"],
                    "small_counts": res["small_counts"],
                    "final": k == K - 1,
                    "pct_of_previous_arm": 100 * reached[a, k] / prev_a if prev_a else np.nan,
                    "pct_of_previous_control": 100 * reached[c, k] / prev_c if prev_c else np.nan,
                }
            )
    out = pd.DataFrame(rows)
    out.insert(
        out.columns.get_loc("p_value") + 1, "p_adjusted", _adjust(out["p_value"], correction)
    )
    out.insert(out.columns.get_loc("p_adjusted") + 1, "significant", out["p_adjusted"] < alpha)

    entered = np.bincount(arm_code[person_depth > 0], minlength=A)
    arms = pd.DataFrame(
        {
            "arm": levels,
            "assigned": assigned,
            "share": 100 * assigned / max(assigned.sum(), 1),
            "expected_share": 100 * shares,
            "entered": entered,
        }
    )
    unassigned = int((~pd.Index(ids).isin(arms_of.index)).sum())
    notes = [_REPEATED_LOOKS]
    if srm["mismatch"]:
        notes.append(
            f"The arms' sizes do not match the expected split (chi-square p = "
            f"{srm['p_value']:.2g}): check the assignment and the logging before trusting any "
            "difference."
        )
        warnings.warn(
            f"ab_test: sample-ratio mismatch in '{variant}' (arm sizes "
            f"{dict(zip(levels, assigned.tolist(), strict=True))}, chi-square p = "
            f"{srm['p_value']:.2g}); the comparison may be biased",
            UserWarning,
            stacklevel=_stacklevel(),
        )
    if counts["mixed"]:
        notes.append(
            f"{counts['mixed']:,} people appear in more than one arm; each is kept in the arm of "
            "their first event."
        )
    n_open = int((person_open & (person_depth < K)).sum())
    if n_open:
        notes.append(
            f"{n_open:,} assigned people had not converted and their window was still open when "
            "the data ends; they count as not converted (alike in every arm)."
        )
    attrs = jsonable(
        {
            "variant": variant,
            "variant_from": counts["from"],
            "control": control,
            "arms": levels,
            "assigned": int(assigned.sum()),
            "mixed_arms": counts["mixed"],
            "unassigned_entrants": unassigned,
            "open_not_converted": n_open,
            "steps": table.attrs["steps"],
            "window": table.attrs["window"],
            "observed_at": table.attrs["observed_at"],
            "alpha": alpha,
            "alpha_mde": alpha_mde,
            "power": power,
            "correction": correction,
        }
    )
    out.attrs = dict(attrs)
    return ABTest(out, per_arm, arms, srm, notes, attrs)

"""Two proportions: difference with Newcombe's interval, a test that holds its level at small
counts, and the minimum detectable effect at the level the significance is read at.

Shared by :func:`cxkit.compare_funnel` and :func:`cxkit.ab_test`.

>>> row = two_proportions(30, 100, 50, 100)
>>> round(row["diff_pp"], 1), row["test_used"]
(-20.0, 'z')
>>> round(mde(0.5, 100, 100, alpha=0.05, power=0.8) * 100, 1)
19.3
"""

from __future__ import annotations

import numpy as np

from .._stats import wilson as _wilson

#: Below this expected count in any cell of the 2×2 table the pooled z test is replaced by an
#: exact test (the z test's type I error reaches 8.6% at n = 10 per arm).
MIN_EXPECTED = 5
#: Boschloo's exact test (more powerful than Fisher's) while the table is this small, in
#: (n1 + 1) × (n2 + 1) cells; Fisher's beyond (Boschloo's search grows with the product).
_BOSCHLOO_CELLS = 2601


def _z_test(x1, n1, x2, n2):
    from scipy import stats

    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if not se > 0:
        return 0.0, 1.0
    z = (p1 - p2) / se
    return float(z), float(2 * stats.norm.sf(abs(z)))


def _exact_p(x1, n1, x2, n2):
    """Two-sided exact p-value of the 2×2 table, and the test's name."""
    from scipy import stats

    table = [[int(x1), int(x2)], [int(n1 - x1), int(n2 - x2)]]
    if (n1 + 1) * (n2 + 1) <= _BOSCHLOO_CELLS:
        p = stats.boschloo_exact(table, alternative="two-sided").pvalue
        name = "exact (Boschloo)"
    else:
        p = stats.fisher_exact(table, alternative="two-sided").pvalue
        name = "exact (Fisher)"
    return float(min(max(p, 0.0), 1.0)), name


def small_counts(x1, n1, x2, n2):
    """True when some cell of the 2×2 table expects fewer than :data:`MIN_EXPECTED` people."""
    pooled = (x1 + x2) / (n1 + n2)
    return bool(min(n1, n2) * min(pooled, 1 - pooled) < MIN_EXPECTED)


def mde(p0, n1, n2, *, alpha, power):
    """Smallest change of ``p0`` (a share, 0–1) that a two-sided test at ``alpha`` detects with
    ``power``, ``n1`` people in the changed arm and ``n2`` in the reference.

    The variance is taken under the null (pooled share, what the z test divides by) for the
    critical value and under the alternative for the power:
    ``d = z(1 - alpha/2) * se0(d) + z(power) * se1(d)``, solved for ``d``. The larger of the
    upward and downward solutions is returned, so every change at least this large (either way)
    has at least ``power``. NaN when no change inside 0–1 reaches the power.
    """
    from scipy import optimize, stats

    if not (n1 > 0 and n2 > 0) or not 0 <= p0 <= 1:
        return np.nan
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)

    def gap(d, sign):
        p1 = p0 + sign * d
        pbar = (n1 * p1 + n2 * p0) / (n1 + n2)
        se0 = np.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n2))
        se1 = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n2)
        return d - z_a * se0 - z_b * se1

    found = []
    for sign, room in ((1, 1 - p0), (-1, p0)):
        if room <= 0:
            continue
        hi = room - 1e-12
        if gap(hi, sign) < 0:  # even the largest possible change is not detected reliably
            return np.nan
        found.append(optimize.brentq(gap, 0.0, hi, args=(sign,), xtol=1e-10))
    return float(max(found)) if found else np.nan


def two_proportions(x1, n1, x2, n2, *, test="z", alpha_mde=0.05, power=0.8):
    """Compare ``x1/n1`` with ``x2/n2`` (the reference); percentages in points.

    The p-value is the pooled two-proportion z test (``test="chi2"`` reports the statistic as
    the chi-square of the 2×2 table, same p-value), or an exact test when a cell expects fewer
    than five people (``test_used`` says which). ``mde_pp`` is :func:`mde` at ``alpha_mde``
    (the level the significance is read at, after the correction for many tests).
    """
    x1, n1, x2, n2 = float(x1), float(n1), float(x2), float(n2)
    p1 = x1 / n1 if n1 else np.nan
    p2 = x2 / n2 if n2 else np.nan
    # Newcombe's hybrid score interval (method 10) from the two Wilson intervals
    l1, u1 = (v / 100 for v in _wilson(x1, n1))
    l2, u2 = (v / 100 for v in _wilson(x2, n2))
    with np.errstate(invalid="ignore"):
        low = 100 * (p1 - p2 - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2))
        high = 100 * (p1 - p2 + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))
    stat, p_value, used, small = np.nan, np.nan, "", False
    if n1 and n2:
        z, p_value = _z_test(x1, n1, x2, n2)
        stat = z**2 if test == "chi2" else z
        used = test
        small = small_counts(x1, n1, x2, n2) and 0 < x1 + x2 < n1 + n2
        if small:
            p_value, used = _exact_p(x1, n1, x2, n2)
            stat = np.nan
    base = p2 if 0 < p2 < 1 else ((x1 + x2) / (n1 + n2) if n1 + n2 else np.nan)
    mde_pp = 100 * mde(base, n1, n2, alpha=alpha_mde, power=power) if n1 and n2 else np.nan
    return {
        "n_group": int(n1),
        "pct_group": 100 * p1,
        "n_reference": int(n2),
        "pct_reference": 100 * p2,
        "diff_pp": 100 * (p1 - p2),
        "ci_low": float(low),
        "ci_high": float(high),
        "relative": p1 / p2 if p2 else np.nan,
        "statistic": float(stat),
        "p_value": p_value,
        "test_used": used,
        "small_counts": bool(small),
        "mde_pp": float(mde_pp),
    }


def family_alpha(alpha, m, correction):
    """The level one comparison is read at in a family of ``m`` under ``correction``: α/m for
    Holm and Bonferroni (Holm's first, strictest step; its later steps are looser, so the MDE
    is conservative), α for none. For FDR control (Benjamini–Hochberg) also α/m: the level a
    lone real effect among nulls must pass."""
    if correction in (None, "none") or m <= 1:
        return alpha
    return alpha / m

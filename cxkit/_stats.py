"""Small statistics shared by the analyses: the Wilson interval and p-value adjustment."""

from __future__ import annotations

import numpy as np

Z95 = 1.959963984540054
ADJUSTMENTS = ("holm", "bonferroni", "fdr_bh", "none", None)


def wilson(x, n, z=Z95):
    """Wilson score interval for ``x`` successes of ``n``, in percent (NaN where ``n == 0``).

    >>> [round(float(v), 2) for v in wilson(8, 10)]
    [49.02, 94.33]
    """
    x = np.asarray(x, float)
    n = np.asarray(n, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        # at x = 0 and x = n the bounds are exactly 0 and 1; rounding put them a hair inside,
        # leaving the observed rate outside its own interval (and matplotlib refusing the bar)
        low = np.where(n > 0, np.where(x <= 0, 0.0, np.clip(centre - half, 0, 1)), np.nan)
        high = np.where(n > 0, np.where(x >= n, 1.0, np.clip(centre + half, 0, 1)), np.nan)
    return 100 * low, 100 * high


def adjust_pvalues(p, method="holm"):
    """Adjust p-values for multiple comparisons (NaNs are left out and kept).

    ``method``: ``"holm"`` (step-down, controls the family-wise error), ``"bonferroni"``,
    ``"fdr_bh"`` (Benjamini–Hochberg false discovery rate) or ``"none"``/None.

    >>> adjust_pvalues([0.01, 0.04, 0.03], "holm").round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p, float)
    out = p.copy()
    ok = ~np.isnan(p)
    q = p[ok]
    m = len(q)
    if m == 0 or method in (None, "none"):
        return out
    order = np.argsort(q)
    adj = np.empty(m)
    if method == "bonferroni":
        adj = np.minimum(q * m, 1)
    elif method == "holm":
        adj[order] = np.minimum(np.maximum.accumulate((m - np.arange(m)) * q[order]), 1)
    elif method == "fdr_bh":
        ranked = q[order] * m / np.arange(1, m + 1)
        adj[order] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1)
    else:
        raise ValueError(f"unknown adjustment {method!r}; use one of {ADJUSTMENTS}")
    out[ok] = adj
    return out

"""The small shared statistics (cxkit._stats)."""

import numpy as np
from scipy import stats

from cxkit._stats import wilson


def test_wilson_equals_scipy_and_holds_the_observed_rate():
    n = np.concatenate([np.full(k + 1, k) for k in range(1, 300)])
    x = np.concatenate([np.arange(k + 1) for k in range(1, 300)])
    low, high = wilson(x, n)
    rate = 100 * x / n
    # a bin with no churners (or only churners) sits exactly on its bound: error bars drawn
    # from the rate to each bound must never be negative
    assert (low <= rate).all() and (rate <= high).all()
    assert (low[x == 0] == 0).all() and (high[x == n] == 100).all()
    for k, m in [(0, 7), (3, 5), (12, 40), (40, 40), (1, 2000)]:
        ci = stats.binomtest(k, m).proportion_ci(method="wilson")
        got = wilson(k, m)
        np.testing.assert_allclose(got, (100 * ci.low, 100 * ci.high), atol=1e-9)

"""A Cox model on start–stop intervals in O(n log n): one binary search, then cumulative sums per step.

lifelines' ``CoxTimeVaryingFitter`` loops over every distinct event time and masks every row
each time (quadratic: 72 s at a million events, half an hour at ten million). This fits the same
model — Efron's ties, covariates standardised for the Newton steps, lifelines' ridge penalty — and
gives the same coefficients and standard errors (tests compare the two to 1e-6).

The risk set at time t is every interval with ``start < t <= stop``. Its sums over rows
(of exp(x·β), of x·exp(x·β)) are cumulative sums over the event times of what enters and what
leaves, placed by one binary search done once (no sort of the rows). The
Hessian's risk-set term, Σ_t a_t Σ_{i∈R(t)} w_i x_i x_iᵀ, is Σ_i w_i (Σ_{t∈(start_i, stop_i]}
a_t) x_i x_iᵀ: one weighted cross-product of the design matrix, no p×p array per row or time.

Examples
--------
>>> import numpy as np
>>> from cxkit.retention.startstop import StartStopCox
>>> X = np.array([[0.0], [1.0], [0.0], [1.0]])
>>> fit = StartStopCox().fit(X, start=[0, 0, 0, 0], stop=[1, 2, 3, 4],
...                          event=[True, True, False, True], names=["x"])
>>> fit.params_.index.tolist()
['x']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


class StartStopCox:
    """Cox proportional-hazards fit on start–stop intervals (Efron's ties).

    Parameters
    ----------
    penalizer : float
        Ridge penalty as lifelines applies it: ``0.5 * penalizer * n * ||β||²`` on the
        standardised covariates.
    alpha : float
        1 − confidence level of :attr:`summary`'s bounds.
    tol : float
        Stop when the Newton step's norm (standardised scale) falls below this.
    max_steps : int

    Attributes
    ----------
    params_, standard_errors_ : Series
        Coefficients (log hazard ratios) and their standard errors, on the covariates' scale.
    variance_matrix_ : DataFrame
    log_likelihood_ : float
        Log partial likelihood at the fit (penalty subtracted).
    summary : DataFrame
        ``coef``, ``exp(coef)``, ``se(coef)``, ``z``, ``p`` and the bounds, one row per covariate
        (lifelines' column names).
    n_steps_ : int
    """

    def __init__(self, penalizer=0.0, alpha=0.05, tol=1e-10, max_steps=50):
        self.penalizer = penalizer
        self.alpha = alpha
        self.tol = tol
        self.max_steps = max_steps

    def fit(self, X, start, stop, event, names=None):
        """Fit on a design matrix ``X`` (n × p) and the intervals ``(start, stop]``."""
        from lifelines.exceptions import ConvergenceError

        X = np.asarray(X, dtype=float)
        start = np.asarray(start, dtype=float)
        stop = np.asarray(stop, dtype=float)
        event = np.asarray(event, dtype=bool)
        names = list(names) if names is not None else [f"x{i}" for i in range(X.shape[1])]
        mean, std = X.mean(0), X.std(0, ddof=1)
        std = np.where(std > 0, std, 1.0)
        Z = (X - mean) / std
        prep = _prepare(start, stop, event)
        n, p = Z.shape
        pen = float(self.penalizer) * n
        beta = np.zeros(p)
        ll, g, h = _derivatives(Z, beta, prep)
        ll, g, h = ll - 0.5 * pen * beta @ beta, g - pen * beta, h - pen * np.eye(p)
        for step in range(1, self.max_steps + 1):  # noqa: B007 (read after the loop)
            try:
                delta = np.linalg.solve(-h, g)
            except np.linalg.LinAlgError as exc:
                raise ConvergenceError(
                    "the Cox model's Hessian is singular: two covariates may be collinear", exc
                ) from None
            if not np.all(np.isfinite(delta)):
                raise ConvergenceError("the Cox model's Newton step is not finite")
            size = 1.0
            while True:  # halve the step until the likelihood does not fall
                trial = beta + size * delta
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    t_ll, t_g, t_h = _derivatives(Z, trial, prep)  # non-finite: halved
                t_ll -= 0.5 * pen * trial @ trial
                if np.isfinite(t_ll) and t_ll >= ll - 1e-12 * abs(ll):
                    break
                size /= 2
                if size < 1e-6:
                    raise ConvergenceError("the Cox model did not converge (no ascent step)")
            beta = trial
            ll, g, h = t_ll, t_g - pen * beta, t_h - pen * np.eye(p)
            if np.linalg.norm(size * delta) < self.tol:
                break
        else:
            raise ConvergenceError(f"the Cox model did not converge in {self.max_steps} steps")
        self.n_steps_ = step
        index = pd.Index(names, name="covariate")
        variance = np.linalg.inv(-h) / np.outer(std, std)
        self.params_ = pd.Series(beta / std, index=index, name="coef")
        self.variance_matrix_ = pd.DataFrame(variance, index=index, columns=index)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(variance)), index=index, name="se")
        self.log_likelihood_ = float(ll)
        self._n_rows, self._n_events = n, int(event.sum())
        return self

    @property
    def summary(self):
        coef, se = self.params_, self.standard_errors_
        z = coef / se
        q = stats.norm.ppf(1 - self.alpha / 2)
        ci = 100 * (1 - self.alpha)
        return pd.DataFrame(
            {
                "coef": coef,
                "exp(coef)": np.exp(coef),
                "se(coef)": se,
                f"coef lower {ci:g}%": coef - q * se,
                f"coef upper {ci:g}%": coef + q * se,
                "z": z,
                "p": stats.chi2.sf(z**2, 1),
            }
        )

    def __repr__(self):
        if not hasattr(self, "params_"):
            return "StartStopCox(unfitted)"
        return (
            f"StartStopCox(rows={self._n_rows:,}, events={self._n_events:,}, "
            f"log-likelihood={self.log_likelihood_:.2f})"
        )


def _prepare(start, stop, event):
    """Everything that does not depend on β: the sorts and binary searches."""
    times, k_of_death, d = np.unique(stop[event], return_inverse=True, return_counts=True)
    # row i is at risk at t_k (start_i < t_k <= stop_i) exactly for upto_start_i <= k <
    # upto_stop_i, where upto_* counts the event times at or before start_i / stop_i
    upto_stop = np.searchsorted(times, stop, side="right")
    upto_start = np.searchsorted(times, start, side="right")
    # Efron: the r-th of d tied deaths (r = 0..d-1) sees the tie set's share r / d removed
    sub_k = np.repeat(np.arange(len(times)), d)
    first = np.concatenate([[0], np.cumsum(d)[:-1]])
    frac = (np.arange(len(sub_k)) - first[sub_k]) / d[sub_k]
    return {
        "deaths": np.flatnonzero(event),
        "k_of_death": k_of_death,
        "n_times": len(times),
        "enter_leave": np.concatenate([upto_start, upto_stop]),
        "upto_stop": upto_stop,
        "upto_start": upto_start,
        "sub_k": sub_k,
        "frac": frac,
    }


def _risk_sums(values, prep):
    """Σ over the risk set at each event time of each column of ``values`` (n × m): a row is
    added where it enters and taken off where it leaves, then one cumulative sum over times."""
    n_times, at = prep["n_times"], prep["enter_leave"]
    out = np.empty((n_times, values.shape[1]))
    for j in range(values.shape[1]):  # a dozen covariates, not rows
        v = values[:, j]
        change = np.bincount(at, weights=np.concatenate([v, -v]), minlength=n_times + 1)
        out[:, j] = np.cumsum(change[:n_times])
    return out


def _derivatives(Z, beta, prep):
    """Log partial likelihood, gradient and Hessian at ``beta`` (Efron's ties)."""
    eta = Z @ beta
    eta_max = eta.max()
    w = np.exp(eta - eta_max)  # scaled: the likelihood's ratios do not change
    wz = w[:, None] * Z
    wz1 = np.column_stack([w, wz])
    risk = _risk_sums(wz1, prep)
    deaths, k = prep["deaths"], prep["k_of_death"]
    ties = np.zeros((prep["n_times"], wz1.shape[1]))
    np.add.at(ties, k, wz1[deaths])
    sub_k, frac = prep["sub_k"], prep["frac"]
    sub = risk[sub_k] - frac[:, None] * ties[sub_k]  # [denominator, numerator (p)]
    denom = sub[:, 0]
    share = sub[:, 1:] / denom[:, None]
    inv = 1.0 / denom
    a = np.bincount(sub_k, weights=inv, minlength=prep["n_times"])
    b = np.bincount(sub_k, weights=frac * inv, minlength=prep["n_times"])
    cum_a = np.concatenate([[0.0], np.cumsum(a)])
    c = cum_a[prep["upto_stop"]] - cum_a[prep["upto_start"]]
    zd = Z[deaths]
    ll = float(eta[deaths].sum() - (np.log(denom) + eta_max).sum())
    grad = zd.sum(0) - share.sum(0)
    risk_term = (Z * (w * c)[:, None]).T @ Z
    tie_term = (zd * (w[deaths] * b[k])[:, None]).T @ zd
    hess = share.T @ share - risk_term + tie_term
    return ll, grad, hess

"""A repeat-purchase log with known parameters: BG/NBD purchases and dropout, Gamma-Gamma spend.

Each customer makes a first purchase at a time uniform over the first ``acquisition_weeks``;
while alive they buy as a Poisson process with rate λ ~ Gamma(r, rate α) a week; after each
repeat purchase they leave for good with probability p ~ Beta(a, b) (Fader, Hardie & Lee 2005).
Each purchase's amount is Gamma(p, rate ν), ν ~ Gamma(q, rate v) per customer (Fader, Hardie &
Lee 2005, "RFM and CLV"). The defaults are the published CDNOW estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_purchases", "CDNOW_PARAMS"]

#: BG/NBD (r, alpha, a, b; weeks) and Gamma-Gamma (p, q, v) estimates published for CDNOW.
CDNOW_PARAMS = {
    "r": 0.2426,
    "alpha": 4.4135,
    "a": 0.7929,
    "b": 2.4258,
    "p": 6.25,
    "q": 3.74,
    "v": 15.44,
}


def simulate_purchases(
    customers=2000,
    *,
    weeks=78,
    acquisition_weeks=12,
    params=None,
    start="2024-01-01",
    seed=0,
):
    """Purchase events of ``customers`` buyers over ``weeks``, with the truth planted.

    Parameters
    ----------
    customers : int
    weeks : float
        Length of the log; ``observed_at`` is ``start`` + ``weeks``.
    acquisition_weeks : float
        First purchases are spread uniformly over this many first weeks.
    params : dict, optional
        Any of ``r, alpha, a, b, p, q, v`` (defaults :data:`CDNOW_PARAMS`; rates are a week).
    start : str
    seed : int

    Returns
    -------
    events : DataFrame
        ``customer_id``, ``timestamp``, ``event`` ("purchase"), ``value``, sorted.
    truth : dict
        ``params``, ``observed_at`` (ISO text), ``weeks`` and ``customers``: a DataFrame per
        customer with ``customer_id``, ``rate`` (λ a week), ``dropout`` (p), ``mean_spend``
        (p/ν) and ``alive`` (not yet dropped out at ``observed_at``).

    Examples
    --------
    >>> events, truth = simulate_purchases(customers=100, seed=1)
    >>> events["customer_id"].nunique()
    100
    >>> truth["observed_at"]
    '2025-06-30T00:00:00'
    """
    par = {**CDNOW_PARAMS, **(params or {})}
    rng = np.random.default_rng(seed)
    n = int(customers)
    lam = rng.gamma(par["r"], 1 / par["alpha"], n)
    drop = rng.beta(par["a"], par["b"], n)
    nu = rng.gamma(par["q"], 1 / par["v"], n)
    first = rng.uniform(0, acquisition_weeks, n)
    # snap first purchases to whole days so that day-level summaries see exact ages
    first = np.floor(first * 7) / 7
    span = weeks - first
    # Poisson-process purchases over the whole span, cut at the dropout purchase: the customer
    # leaves after repeat purchase number D ~ Geometric(p) (1, 2, …)
    n_possible = rng.poisson(lam * span)
    leaves_after = rng.geometric(np.clip(drop, 1e-12, 1))
    n_repeat = np.minimum(n_possible, leaves_after)
    alive = n_possible < leaves_after
    owner = np.repeat(np.arange(n), n_possible)
    u = rng.uniform(0, 1, n_possible.sum())
    order = np.lexsort((u, owner))
    u, owner = u[order], owner[order]
    rank = np.arange(len(u)) - np.repeat(np.cumsum(n_possible) - n_possible, n_possible)
    keep = rank < n_repeat[owner]
    rep_owner = owner[keep]
    rep_time = first[rep_owner] + u[keep] * span[rep_owner]
    who = np.r_[np.arange(n), rep_owner]
    when = np.r_[first, rep_time]
    amount = rng.gamma(par["p"], 1 / nu[who])
    ids = np.array([f"C{i:06d}" for i in range(n)], dtype=object)
    t0 = pd.Timestamp(start)
    events = pd.DataFrame(
        {
            "customer_id": ids[who],
            "timestamp": t0 + pd.to_timedelta(np.round(when * 7 * 86400), unit="s"),
            "event": "purchase",
            "value": np.round(amount, 2),
        }
    )
    events = events.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)
    truth = {
        "params": par,
        "observed_at": (t0 + pd.Timedelta(days=7 * weeks)).isoformat(),
        "weeks": weeks,
        "customers": pd.DataFrame(
            {
                "customer_id": ids,
                "rate": lam,
                "dropout": drop,
                "mean_spend": par["p"] / nu,
                "alive": alive,
            }
        ),
    }
    return events, truth

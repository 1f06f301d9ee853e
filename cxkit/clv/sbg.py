"""Cohort retention of subscribers with the shifted-beta-geometric model (Fader & Hardie 2007):
each subscriber cancels at the end of a period with their own probability θ, θ ~ Beta(α, β)
within a signup cohort, so the retention rate of a cohort rises as the least loyal leave.

The reduction (:func:`sbg_table`) turns churn dates into periods; the fit (:func:`sbg`) is
pymc-marketing's ``ShiftedBetaGeoModel`` with flat priors per cohort (the optional extra
``clv``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._args import jsonable, require_columns
from ..data import DataError, Journey
from ..engine.frames import customers_frame
from ..engine.journey import is_engine
from .summary import UNIT_DAYS

__all__ = ["sbg_table", "sbg", "SBGResult", "simulate_sbg"]

_SOURCE = "sbg()"


def sbg_table(journey, *, period="M", observed_at=None):
    """One row per customer: ``customer_id``, ``cohort`` (signup period), ``recency`` (the
    period of cancellation, 1 = the signup period; ``T`` while still subscribed) and ``T`` (the
    calendar periods from the cohort's to the one of ``observed_at``, both included: one T per
    cohort, as the model needs) and ``active`` (not cancelled).

    A customer observed for less than two periods cannot be told apart from one who just
    started and is left out (``.attrs["too_recent"]``), as the model needs T ≥ 2.

    Examples
    --------
    >>> import cxkit
    >>> t = sbg_table(cxkit.load_sample())
    >>> bool((t["recency"] <= t["T"]).all())
    True
    """
    from ..retention import survival_table

    if not (isinstance(journey, Journey) or is_engine(journey)):
        raise DataError(_SOURCE, [{"column": "journey", "expected": "a cxkit.Journey"}])
    if period not in ("W", "M"):
        raise DataError(_SOURCE, [{"column": "period", "expected": f"'W' or 'M'; got {period!r}"}])
    churned = customers_frame(journey).get("churned_at")
    if churned is None or churned.isna().all():
        raise DataError(
            _SOURCE,
            [{"column": "churned_at", "expected": "cancellation dates of a subscription"}],
        )
    table = survival_table(journey, observed_at=observed_at)
    end = pd.Timestamp(table.attrs.get("observed_at", journey.observed_at))
    # calendar periods, as the model needs one T per cohort: signup in period 0 of its cohort,
    # cancellation in period k → recency k + 1; T = periods from the cohort's to today's
    signup = pd.to_datetime(table["signup_at"]).dt.to_period(period)
    left = pd.to_datetime(table["signup_at"]) + pd.to_timedelta(table["duration_days"], unit="D")
    index = _period_index(signup, period)
    T = _period_index(pd.Series([end]).dt.to_period(period), period)[0] - index + 1
    lived = _period_index(left.dt.to_period(period), period) - index + 1
    gone = table["churned"].astype(bool).to_numpy()
    recency = np.where(gone, np.clip(lived, 1, T), T)
    out = pd.DataFrame(
        {
            "customer_id": table["customer_id"].to_numpy(),
            "cohort": signup.astype(str).to_numpy(),
            "recency": recency.astype("int64"),
            "T": T.astype("int64"),
            "active": ~gone,
        }
    )
    keep = out["T"] >= 2
    out = out[keep].reset_index(drop=True)
    out.attrs = jsonable({"period": period, "observed_at": end, "too_recent": int((~keep).sum())})
    return out


def _period_index(periods, period):
    """Whole periods since 1970 (months or weeks) as int64."""
    return np.asarray(periods.array.asi8, "int64")


class SBGResult:
    """A fitted cohort sBG model.

    Attributes
    ----------
    params_ : DataFrame
        One row per cohort: ``cohort``, ``customers``, ``alpha``, ``beta``,
        ``mean_churn`` (α / (α + β), the cohort's average cancellation probability a period).
    table : DataFrame
        Per active customer: the :func:`sbg_table` columns, ``retention_rate`` (chance of
        renewing at the end of the current period) and ``expected_periods`` (expected remaining
        periods, discounted).
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        return f"<cxkit.SBGResult: {len(self.params_)} cohorts, {len(self.table)} customers>"


def sbg(journey_or_table, *, period="M", discount=0.1):
    """Fit the shifted-beta-geometric model per signup cohort.

    Parameters
    ----------
    journey_or_table : Journey or :func:`sbg_table` table
    period : {"M", "W"}
    discount : float
        Yearly discount rate of later periods (0.1 is 10%).

    Returns
    -------
    SBGResult
    """
    from . import backend

    clv, Prior = backend._clv_module()
    data = journey_or_table
    if isinstance(data, Journey):
        data = sbg_table(data, period=period)
    need = ["customer_id", "cohort", "recency", "T"]
    require_columns(data, need, _SOURCE)
    unit = data.attrs.get("period", period)
    active = (
        data["active"].to_numpy(bool)
        if "active" in data
        else (data["recency"] == data["T"]).to_numpy()
    )
    data = data[need].assign(cohort=lambda d: d["cohort"].astype(str))
    config = {"alpha": Prior("HalfFlat", dims="cohort"), "beta": Prior("HalfFlat", dims="cohort")}
    with backend._quiet():
        model = clv.ShiftedBetaGeoModel(model_config=config)
        model.fit(data=data, method="map", progressbar=False)
        per_period = (1 + float(discount)) ** (UNIT_DAYS[unit] / UNIT_DAYS["Y"]) - 1
        now = data[active]
        rate = model.expected_retention_rate(data=now, future_t=0)
        remaining = model.expected_residual_lifetime(data=now, discount_rate=per_period)
    post = backend._posterior(model)
    cohorts = [str(c) for c in post["alpha"].coords["cohort"].values]
    alpha = post["alpha"].mean(("chain", "draw")).values
    beta = post["beta"].mean(("chain", "draw")).values
    counts = data["cohort"].value_counts()
    params = pd.DataFrame(
        {
            "cohort": cohorts,
            "customers": counts.reindex(cohorts).to_numpy(),
            "alpha": alpha,
            "beta": beta,
            "mean_churn": alpha / (alpha + beta),
        }
    )
    table = now.copy()
    table["retention_rate"] = _per_customer(rate, now)
    table["expected_periods"] = _per_customer(remaining, now)
    return SBGResult(params_=params, table=table, period=unit, discount=float(discount))


def _per_customer(da, data):
    """Posterior mean per customer, in the rows' order (the predictions carry one value per
    customer along their last dimension, labelled by a ``customer_id`` coordinate)."""
    da = da.mean(("chain", "draw"))
    values = np.asarray(da.values, float).ravel()
    ids = np.asarray(da.coords["customer_id"].values).ravel()
    return pd.Series(values, index=ids).reindex(data["customer_id"].to_numpy()).to_numpy()


def simulate_sbg(cohorts, *, alpha=0.7, beta=3.0, seed=0):
    """Subscribers with planted sBG churn: ``cohorts`` maps a cohort label to ``(customers,
    T)``; each customer cancels in period X ~ sBG(α, β), seen as ``recency = min(X, T)``.

    >>> simulate_sbg({"2024-01": (5, 6)}, seed=1)["T"].tolist()
    [6, 6, 6, 6, 6]
    """
    rng = np.random.default_rng(seed)
    parts = []
    for label, (n, T) in cohorts.items():
        x = rng.geometric(rng.beta(alpha, beta, n))
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": [f"{label}-{i}" for i in range(n)],
                    "cohort": label,
                    "recency": np.minimum(x, T),
                    "T": T,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)

"""The start–stop Cox fit (cxkit.retention.startstop) against lifelines' CoxTimeVaryingFitter."""

import warnings

import numpy as np
import pandas as pd
import pytest

import cxkit
from cxkit.data import DataError
from cxkit.retention.startstop import StartStopCox


def _lifelines(frame, covariates, penalizer=0.0):
    from lifelines import CoxTimeVaryingFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CoxTimeVaryingFitter(penalizer=penalizer).fit(
            frame[["id", "start", "stop", "event", *covariates]],
            id_col="id",
            event_col="event",
            start_col="start",
            stop_col="stop",
        )


def _random_intervals(seed, n_people=400, whole_days=True):
    """People with 1–4 consecutive intervals, covariates changing between them; whole-day
    times give many tied churn times (Efron's correction matters)."""
    rng = np.random.default_rng(seed)
    pieces = rng.integers(1, 5, n_people)
    pid = np.repeat(np.arange(n_people), pieces)
    length = rng.integers(1, 40, len(pid)) if whole_days else rng.exponential(20, len(pid))
    stop = pd.Series(length).groupby(pid).cumsum().to_numpy().astype(float)
    start = stop - length
    last = np.r_[pid[1:] != pid[:-1], True]
    x1 = rng.normal(size=len(pid))
    x2 = rng.integers(0, 2, len(pid)).astype(float)
    x3 = np.repeat(rng.normal(size=n_people), pieces)  # fixed per person
    risk = np.exp(0.5 * x1 - 0.7 * x2 + 0.3 * x3)
    event = last & (rng.random(len(pid)) < 0.6 * risk / (1 + risk))
    return pd.DataFrame(
        {"id": pid, "start": start, "stop": stop, "event": event, "x1": x1, "x2": x2, "x3": x3}
    )


@pytest.mark.parametrize(
    ("seed", "whole_days", "penalizer"),
    [(1, True, 0.0), (2, False, 0.0), (3, True, 0.05)],
)
def test_startstop_cox_equals_lifelines_on_random_intervals(seed, whole_days, penalizer):
    frame = _random_intervals(seed, whole_days=whole_days)
    cols = ["x1", "x2", "x3"]
    ref = _lifelines(frame, cols, penalizer)
    fit = StartStopCox(penalizer=penalizer).fit(
        frame[cols], frame["start"], frame["stop"], frame["event"], names=cols
    )
    if whole_days:  # the case Efron's correction is for
        assert frame.loc[frame["event"], "stop"].duplicated().sum() > 30
    np.testing.assert_allclose(fit.params_[cols], ref.params_[cols], rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        fit.standard_errors_[cols], ref.standard_errors_[cols], rtol=0, atol=1e-6
    )
    assert fit.log_likelihood_ == pytest.approx(ref.log_likelihood_, abs=1e-6)
    np.testing.assert_allclose(fit.summary["p"], ref.summary.loc[cols, "p"], rtol=1e-5)


def test_hand_case_two_people_one_tie():
    # a (x=1) and b (x=0) both at risk on (0, 2]; a dies at 1, b at 2: the partial likelihood
    # is exp(β)/(exp(β)+1) · 1/1, maximised as β → ∞ … so add c (x=1) censored at 2:
    # L(β) = e^β/(2e^β+1) · 1/(e^β+1)  →  dL/dβ = 0 at e^β = 1/√2
    fit = StartStopCox().fit(
        [[1.0], [0.0], [1.0]], start=[0, 0, 0], stop=[1, 2, 2], event=[True, True, False]
    )
    assert fit.params_.iloc[0] == pytest.approx(np.log(1 / np.sqrt(2)), abs=1e-9)


def test_cox_time_varying_equals_lifelines_on_the_sample(sample):
    tv = cxkit.time_varying_table(sample)
    fit = cxkit.cox_time_varying(tv)
    hr = fit.hazard_ratios_.set_index("term")
    covariates = tv.attrs["drivers"] + tv.attrs["covariates"]
    frame = pd.get_dummies(tv[covariates], prefix_sep="=", dtype=float).assign(
        id=tv["customer_id"], start=tv["start"], stop=tv["stop"], event=tv["churned"]
    )
    terms = list(hr.index)
    ref = _lifelines(frame, terms)
    np.testing.assert_allclose(hr["coef"], ref.params_[terms], rtol=0, atol=1e-6)
    np.testing.assert_allclose(hr["se"], ref.standard_errors_[terms], rtol=0, atol=1e-6)


def test_cox_time_varying_does_not_loop_over_event_times(sample, monkeypatch):
    # lifelines' gradient loops over every distinct churn time (quadratic: 72 s at 1M events)
    from lifelines import CoxTimeVaryingFitter

    def refuse(*args, **kwargs):
        raise AssertionError("CoxTimeVaryingFitter._get_gradients was called")

    monkeypatch.setattr(CoxTimeVaryingFitter, "_get_gradients", staticmethod(refuse))
    fit = cxkit.cox_time_varying(cxkit.time_varying_table(sample))
    assert fit.events_ > 1000


def test_cox_time_varying_refuses_empty_intervals():
    frame = _random_intervals(4, n_people=50)
    frame.loc[[3, 7], "stop"] = frame.loc[[3, 7], "start"]
    frame = frame.rename(columns={"id": "customer_id", "event": "churned"})
    with pytest.raises(DataError, match=r"start < stop.*2 row"):
        cxkit.cox_time_varying(frame, ["x1", "x2"])

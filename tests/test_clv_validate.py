"""Holdout check, contractual value and the CLV figures."""

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pytest

import cxkit
from cxkit import DataError
from cxkit.clv import contractual_value, holdout_check, remaining_months, simulate_purchases
from cxkit.clv.plots import plot_holdout, plot_p_alive, plot_value_concentration


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def log():
    return simulate_purchases(customers=2000, seed=4)


def test_holdout_counts_match_lifetimes_and_prediction_is_close(log):
    pytest.importorskip("pymc_marketing")
    events, truth = log
    check = holdout_check(events, observed_at=truth["observed_at"])
    assert check["frequency_group"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert check["customers"].sum() == check.attrs["customers"] == 2000
    assert check.attrs["holdout"] == pytest.approx(26.0)  # the last third of 78 weeks
    lifetimes = pytest.importorskip("lifetimes")
    ref = lifetimes.utils.calibration_and_holdout_data(
        events,
        "customer_id",
        "timestamp",
        calibration_period_end=check.attrs["calibration_end"],
        observation_period_end=truth["observed_at"],
        freq="D",
        freq_multiplier=7,
    )
    assert check.attrs["actual_total"] == ref["frequency_holdout"].sum()
    grouped = ref.groupby(np.minimum(ref["frequency_cal"], 7))["frequency_holdout"].mean()
    np.testing.assert_allclose(check["actual"], grouped.to_numpy())
    # the planted model predicts the holdout total within 15% (Poisson noise alone is ~3%,
    # the calibration estimates add the rest)
    assert check.attrs["predicted_total"] == pytest.approx(check.attrs["actual_total"], rel=0.15)
    ax = plot_holdout(check, ax=plt.gca())
    assert ax is plt.gca() and len(ax.lines) == 2


def test_holdout_refuses_a_calibration_end_after_the_data(log):
    events, truth = log
    with pytest.raises(DataError, match="calibration_end.*before observed_at"):
        holdout_check(events, observed_at=truth["observed_at"], calibration_end="2030-01-01")


def test_contractual_value_is_margin_times_remaining_months():
    j = cxkit.load_sample()
    table = contractual_value(j, discount=0.0)
    from cxkit.churn.pipeline import _value_curve

    curve, _ = _value_curve(j)
    expected = remaining_months(curve, table["tenure_days"], discount_rate=0.0)
    np.testing.assert_allclose(table["expected_months"], expected)
    np.testing.assert_allclose(
        table["expected_value"], table.attrs["monthly_margin"] * table["expected_months"]
    )
    assert (table["expected_months"] <= 12).all() and (table["expected_months"] >= 1).all()
    longer = contractual_value(j, horizon="24M", discount=0.0)
    assert (longer["expected_months"] > table["expected_months"]).all()
    assert longer["expected_months"].max() <= 24


def test_contractual_value_needs_churn_dates():
    j = cxkit.load_sample()
    shop = dataclasses.replace(j, customers=j.customers.drop(columns="churned_at"))
    with pytest.raises(DataError, match="churned_at.*churn dates"):
        contractual_value(shop)


def test_value_figures_return_their_axes(log):
    pytest.importorskip("pymc_marketing")
    events, truth = log
    result = cxkit.clv(events.head(3000), observed_at=truth["observed_at"])
    fig, (a1, a2) = plt.subplots(1, 2)
    assert plot_value_concentration(result, ax=a1) is a1
    assert result.plot_p_alive(ax=a2) is a2
    assert a1.get_ylim() == (0, 100)
    assert plot_p_alive(result) is plt.gca()

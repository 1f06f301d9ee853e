"""Cohort sBG: churn dates to periods by hand, planted sBG churn recovered."""

import numpy as np
import pandas as pd
import pytest

import cxkit
from cxkit import DataError
from cxkit.clv.sbg import sbg, sbg_table, simulate_sbg
from cxkit.data import journey_from_tables


def _journey():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "signup_at": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-10", "2024-03-25"]),
            "churned_at": pd.to_datetime(["2024-01-25", None, "2024-04-02", None]),
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": ["a"],
            "timestamp": pd.to_datetime(["2024-01-06"]),
            "event": ["login"],
        }
    )
    return journey_from_tables(events, customers, observed_at=pd.Timestamp("2024-04-15"))


def test_periods_by_hand():
    t = sbg_table(_journey())
    # observed in April: cohort 2024-01 has T = 4 (Jan..Apr), 2024-02 T = 3, 2024-03 T = 2
    assert t.to_dict("list") == {
        "customer_id": ["a", "b", "c", "d"],
        "cohort": ["2024-01", "2024-01", "2024-02", "2024-03"],
        "recency": [1, 4, 3, 2],  # a left in its signup month, c in its third (April)
        "T": [4, 4, 3, 2],
        "active": [False, True, False, True],
    }
    assert t.attrs["too_recent"] == 0


def test_needs_churn_dates():
    j = cxkit.load_sample()
    import dataclasses

    shop = dataclasses.replace(j, customers=j.customers.drop(columns="churned_at"))
    with pytest.raises(DataError, match="churned_at"):
        sbg_table(shop)


def test_recovers_planted_churn_and_retention_rises_with_tenure():
    pytest.importorskip("pymc_marketing")
    plan = {"a": (1500, 12), "b": (1500, 6), "c": (1500, 3)}
    result = sbg(simulate_sbg(plan, alpha=0.7, beta=3.0, seed=2), discount=0.1)
    p = result.params_.set_index("cohort")
    assert p["customers"].tolist() == [1500, 1500, 1500]
    # the mean cancellation probability a period, α/(α+β) = 0.189, is the first period's
    # churn share: within 3 binomial standard errors of the truth (0.030 at 1,500 customers;
    # this seed's cohort b churned 16.7% in its first month, and the fit says 16.4%)
    truth = 0.7 / 3.7
    se = np.sqrt(truth * (1 - truth) / 1500)
    np.testing.assert_allclose(p["mean_churn"], truth, atol=3 * se)
    t = result.table
    assert (t["recency"] == t["T"]).all()  # only active customers are valued
    by = t.groupby("cohort")[["retention_rate", "expected_periods"]].mean()
    # the least loyal leave first: the older the cohort, the likelier the rest renew
    assert (
        by.loc["a", "retention_rate"]
        > by.loc["b", "retention_rate"]
        > by.loc["c", "retention_rate"]
    )
    assert np.isfinite(t["expected_periods"]).all() and (t["expected_periods"] > 0).all()
    assert by.loc["a", "expected_periods"] > by.loc["c", "expected_periods"]
    # retention rate of a cohort at T: (β + T − 1) / (α + β + T − 1) (Fader & Hardie 2007, eq. 8)
    a = p.loc["a"]
    expected = (a["beta"] + 12 - 1) / (a["alpha"] + a["beta"] + 12 - 1)
    assert by.loc["a", "retention_rate"] == pytest.approx(expected)

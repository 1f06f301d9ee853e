"""clv_summary: the BTYD inputs, by hand and against lifetimes' summary_data_from_transaction_data."""

import numpy as np
import pandas as pd
import pytest

import cxkit
from cxkit import DataError
from cxkit.clv import clv_summary, simulate_purchases


def _log(rows):
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "event", "value"]).assign(
        timestamp=lambda d: pd.to_datetime(d["timestamp"])
    )


def test_hand_computed_weeks_same_day_merged_first_purchase_not_counted():
    log = _log(
        [
            ("a", "2024-01-01 09:00", "purchase", 10.0),
            ("a", "2024-01-08 10:00", "purchase", 20.0),
            ("a", "2024-01-08 18:00", "purchase", 5.0),  # same day: one purchase of 25
            ("a", "2024-01-15 12:00", "purchase", 35.0),
            ("a", "2024-01-10 12:00", "page_view", np.nan),  # no amount: not a purchase
            ("b", "2024-01-10 08:00", "purchase", 7.0),
            ("c", "2024-02-01 08:00", "purchase", 9.0),  # after observed_at: left out
        ]
    )
    s = clv_summary(log, observed_at="2024-01-29")
    assert s["customer_id"].tolist() == ["a", "b"]
    assert s["frequency"].tolist() == [2, 0]
    np.testing.assert_allclose(s["recency"], [2.0, 0.0])
    np.testing.assert_allclose(s["T"], [4.0, 19 / 7])
    np.testing.assert_allclose(s["monetary_value"], [30.0, 0.0])  # (25 + 35) / 2
    assert s.attrs["excluded"] == {"purchases after observed_at": 1}
    assert s.attrs["time_unit"] == "W"


def test_days_unit_and_event_override_without_amounts():
    log = _log(
        [
            ("a", "2024-01-01", "order", np.nan),
            ("a", "2024-01-04", "order", np.nan),
            ("a", "2024-01-04", "login", np.nan),
        ]
    ).drop(columns="value")
    s = clv_summary(log, observed_at="2024-01-11", time_unit="D", event="order")
    assert s.to_dict("list") == {
        "customer_id": ["a"],
        "frequency": [1],
        "recency": [3.0],
        "T": [10.0],
    }
    assert "monetary_value" not in s


def test_input_not_modified_and_missing_amounts_counted():
    log = _log(
        [
            ("a", "2024-01-01", "purchase", 10.0),
            ("a", "2024-01-03", "purchase", np.nan),
            ("a", "2024-01-05", "purchase", 30.0),
        ]
    )
    before = log.copy()
    s = clv_summary(log, observed_at="2024-01-10", time_unit="D", event="purchase")
    pd.testing.assert_frame_equal(log, before)
    assert s["frequency"].tolist() == [2]
    assert s["monetary_value"].tolist() == [30.0]  # the repeat day without an amount: not in mean
    assert s.attrs["missing_amounts"] == 1


def test_no_purchase_event_is_a_clear_error():
    log = _log([("a", "2024-01-01", "login", np.nan)]).drop(columns="value")
    with pytest.raises(DataError, match="purchase events.*none found"):
        clv_summary(log)
    with pytest.raises(DataError, match="'value_eur'.*missing"):
        clv_summary(log, value="value_eur", event="login")
    with pytest.raises(DataError, match="customer_id"):
        clv_summary(log.drop(columns="customer_id"))
    with pytest.raises(DataError, match="time_unit"):
        clv_summary(log, time_unit="H")


def test_journey_sample_uses_its_observed_at_and_purchases():
    j = cxkit.load_sample()
    s = cxkit.clv_summary(j)
    buyers = j.events.loc[j.events["event"] == "purchase", "customer_id"].nunique()
    assert len(s) == buyers
    assert s.attrs["observed_at"] == pd.Timestamp(j.observed_at).isoformat()
    assert (s["recency"] <= s["T"]).all() and (s["frequency"] >= 0).all()


def test_equals_lifetimes_on_a_simulated_log():
    lifetimes = pytest.importorskip("lifetimes")
    events, truth = simulate_purchases(customers=400, seed=5)
    ours = clv_summary(events, observed_at=truth["observed_at"])
    ref = lifetimes.utils.summary_data_from_transaction_data(
        events,
        "customer_id",
        "timestamp",
        monetary_value_col="value",
        observation_period_end=truth["observed_at"],
        freq="D",
        freq_multiplier=7,
    )
    ref = ref.reset_index()
    assert ours["customer_id"].tolist() == ref["customer_id"].tolist()
    for column in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(ours[column], ref[column], rtol=1e-12, err_msg=column)


def test_published_cdnow_summary():
    """The CDNOW sample (2,357 customers) summarised gives the published table (rounded to
    two decimals there)."""
    pytest.importorskip("lifetimes")
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value, load_dataset

    tx = load_dataset(
        "CDNOW_sample.txt",
        header=None,
        sep=r"\s+",
        names=["master", "customer_id", "date", "cds", "value"],
        dtype={"date": str},
    )
    tx = tx.assign(timestamp=pd.to_datetime(tx["date"], format="%Y%m%d"), event="purchase")
    ours = clv_summary(tx, observed_at="1997-09-30")
    published = load_cdnow_summary_data_with_monetary_value()
    assert len(ours) == len(published) == 2357
    np.testing.assert_array_equal(ours["frequency"], published["frequency"])
    for column in ("recency", "T", "monetary_value"):
        np.testing.assert_allclose(ours[column], published[column], atol=0.0051)

"""The simulator: deterministic, and the planted numbers show up in the raw data."""

import numpy as np
import pandas as pd
import pytest

import cxkit
from cxkit.simulate import FUNNEL_STEPS, simulate, write_sample

NO_EFFECTS = {
    "plan": {"annual": 1.0},
    "acquisition_channel": {"ads": 1.0, "social": 1.0, "email": 1.0, "referral": 1.0},
    "support_tickets_30d": 1.0,
    "detractor": 1.0,
    "disengaged": 1.0,
}


@pytest.fixture(scope="module")
def small():
    return simulate(customers=600, seed=3)


def reached_steps(journey, truth, *, settle_days=14):
    """Per person: which funnel steps they reached (raw event presence), for people whose
    window closed before the end of the data."""
    ev = journey.events
    aware = ev[ev["event"].isin(list(truth["funnel"]["awareness_events"].values()))]
    entry = aware.groupby("customer_id", observed=True)["timestamp"].min()
    entry = entry[entry < journey.observed_at - pd.Timedelta(days=settle_days)]
    out = pd.DataFrame(index=entry.index)
    for step in FUNNEL_STEPS[1:]:
        ids = ev.loc[ev["event"] == step, "customer_id"].unique()
        out[step] = out.index.isin(ids)
    device = ev.groupby("customer_id", observed=True)["device"].first()
    channel = aware.groupby("customer_id", observed=True)["channel"].first()
    return out.assign(
        device=device.reindex(out.index).astype(str),
        channel=channel.reindex(out.index).astype(str),
    )


def test_same_seed_same_tables_and_bytes(tmp_path, small):
    again, truth = simulate(customers=600, seed=3)
    journey, _ = small
    pd.testing.assert_frame_equal(journey.events, again.events)
    pd.testing.assert_frame_equal(journey.customers, again.customers)
    pd.testing.assert_frame_equal(journey.surveys, again.surveys)
    a = write_sample(journey, truth, tmp_path / "a")
    b = write_sample(again, truth, tmp_path / "b")
    for name in ("events.csv.gz", "customers.csv", "surveys.csv", "truth.json", "README.md"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    other, _ = simulate(customers=600, seed=4)
    assert not journey.customers["signup_at"].equals(other.customers["signup_at"])


def test_written_folder_reads_back_with_every_row(tmp_path, small):
    journey, truth = small
    back = cxkit.read_journey(write_sample(journey, truth, tmp_path))
    assert len(back.events) == len(journey.events) == truth["counts"]["events"]
    assert len(back.customers) == len(journey.customers)
    assert len(back.surveys) == len(journey.surveys)
    assert back.customers["churned_at"].notna().sum() == truth["counts"]["churned"]


def test_sample_is_small_and_is_what_the_simulator_makes(tmp_path, sample_truth):
    folder = cxkit.sample_dir()
    assert sum(p.stat().st_size for p in folder.iterdir()) < 5e6
    journey, truth = simulate(
        customers=sample_truth["customers_requested"], seed=sample_truth["seed"]
    )
    write_sample(journey, truth, tmp_path)
    assert (tmp_path / "events.csv.gz").read_bytes() == (folder / "events.csv.gz").read_bytes()


@pytest.mark.parametrize("by", ["device", "channel"])
def test_step_rates_match_planted(sample, sample_truth, by):
    steps = reached_steps(sample, sample_truth)
    expected = sample_truth["funnel"]["expected_step_rate"][by]
    z_scores = []
    prev = pd.Series(True, index=steps.index)
    for step in FUNNEL_STEPS[1:]:
        for level, rows in steps[prev].groupby(by):
            p = expected[level][step]
            n = len(rows)
            z_scores.append((rows[step].mean() - p) / np.sqrt(p * (1 - p) / n))
        prev = steps[step]
    z = np.abs(z_scores)
    assert z.max() < 4, z.round(1)
    assert np.mean(z < 1.96) > 0.8  # about 95% inside their intervals


def test_pain_point_visible_in_raw_counts(sample, sample_truth):
    pain = sample_truth["funnel"]["pain_point"]
    steps = reached_steps(sample, sample_truth)
    at_prev = steps[steps[pain["from_step"]]]
    rate = at_prev.groupby(pain["segment_column"])[pain["step"]].mean()
    others = rate.drop(pain["segment_value"])
    assert rate[pain["segment_value"]] < 0.6 * others.min()


def test_pain_point_elsewhere_shows_there():
    journey, truth = simulate(
        customers=800,
        seed=11,
        pain_point={"channel": "social", "step": "add_to_cart", "factor": 0.4},
    )
    steps = reached_steps(journey, truth)
    rate = steps[steps["product_view"]].groupby("channel")["add_to_cart"].mean()
    assert rate["social"] < 0.6 * rate.drop("social").min()
    purchase = steps[steps["checkout"]].groupby("device")["purchase"].mean()
    assert purchase.max() - purchase.min() < 0.1  # mobile checkout is fine in this world


def test_churn_rate_is_the_planted_baseline_without_drivers():
    journey, truth = simulate(customers=3000, seed=5, drivers=NO_EFFECTS)
    c = journey.customers
    end = journey.observed_at
    stop = c["churned_at"].fillna(end)
    days = (stop - c["signup_at"]).dt.total_seconds().to_numpy() / 86400
    churned = c["churned_at"].notna().to_numpy()
    base = truth["churn"]["baseline_daily_hazard"]
    # exponential MLE on each piece of the baseline: events / exposure
    early_exposure = np.minimum(days, 60).sum()
    early_events = (churned & (days <= 60)).sum()
    late_exposure = np.clip(days - 60, 0, None).sum()
    late_events = (churned & (days > 60)).sum()
    early = truth["churn"]["baseline_first_60_days_factor"]
    for events, exposure, rate in (
        (early_events, early_exposure, early * base),
        (late_events, late_exposure, base),
    ):
        estimate = events / exposure
        se = np.sqrt(events) / exposure
        assert abs(estimate - rate) < 4 * se, (estimate, rate, se)


def test_events_stop_at_churn(small):
    journey, _ = small
    c = journey.customers.set_index("customer_id")
    ev = journey.events
    ev = ev[ev["customer_id"].astype(str).isin(c.index)]
    churn = c["churned_at"].reindex(ev["customer_id"].astype(str)).to_numpy()
    after = ev["timestamp"].to_numpy() > churn
    assert not after[~pd.isna(churn)].any()
    sv = journey.surveys
    churn = c["churned_at"].reindex(sv["customer_id"]).to_numpy()
    assert not (sv["timestamp"].to_numpy() > churn)[~pd.isna(churn)].any()


def test_truth_documents_every_driver(sample_truth):
    drivers = sample_truth["churn"]["drivers"]
    assert {d["kind"] for d in drivers} >= {"fixed", "time-varying"}
    for d in drivers:
        assert d["quantity"] and d["feature_family"] and d["hazard_ratio"] > 0


def test_bad_parameters_raise_data_error():
    with pytest.raises(cxkit.DataError, match="pain_point"):
        simulate(customers=50, pain_point={"device": "fridge", "step": "purchase", "factor": 0.5})
    with pytest.raises(cxkit.DataError, match="drivers"):
        simulate(customers=50, drivers={"weather": 2.0})

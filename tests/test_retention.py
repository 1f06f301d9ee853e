"""Tests of cxkit.retention: hand cases, lifelines references, recovery of planted truth."""

import numpy as np
import pandas as pd
import pytest

import cxkit
from cxkit.data import DataError, journey_from_tables

OBS = pd.Timestamp("2024-03-01")


def _customers(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "signup_at", "churned_at", "plan"])
    frame["signup_at"] = pd.to_datetime(frame["signup_at"], format="ISO8601")
    frame["churned_at"] = pd.to_datetime(frame["churned_at"], format="ISO8601")
    frame["plan"] = frame["plan"].astype("category")
    return frame


@pytest.fixture
def hand_customers():
    return _customers(
        [
            ("a", "2024-01-01 00:00", "2024-01-11 12:00", "monthly"),  # 10.5 days, churned
            ("b", "2024-01-01 00:00", None, "monthly"),  # active: censored at OBS, 60 days
            ("c", "2024-01-01 00:00", "2024-04-01", "annual"),  # churn after OBS: censored
            ("d", "2024-02-01 06:00", "2024-02-01 18:00", "annual"),  # same-day churn: 0.5
            ("e", "2024-03-05 00:00", None, "annual"),  # signs up after OBS: excluded
            ("f", "2024-02-29 18:00", None, "monthly"),  # 0.25 days, censored
            ("g", "2024-01-31 00:00", "2024-03-01 00:00", "monthly"),  # churn at OBS: churned
        ]
    )


def _events(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "event"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame["customer_id"] = frame["customer_id"].astype("category")
    frame["event"] = frame["event"].astype("category")
    return frame.sort_values(["customer_id", "timestamp"]).reset_index(drop=True)


# ---- survival_table --------------------------------------------------------------------------


def test_survival_table_hand_cases(hand_customers):
    before = hand_customers.copy()
    table = cxkit.survival_table(hand_customers, observed_at=OBS).set_index("customer_id")
    pd.testing.assert_frame_equal(hand_customers, before)  # input untouched
    expected = {
        "a": (10.5, True),
        "b": (60.0, False),
        "c": (60.0, False),
        "d": (0.5, True),
        "f": (0.25, False),
        "g": (30.0, True),
    }
    assert sorted(table.index) == sorted(expected)
    for cid, (days, churned) in expected.items():
        assert table.loc[cid, "duration_days"] == days
        assert table.loc[cid, "churned"] == churned
    assert table.attrs["excluded_signup_after"] == 1
    assert table.attrs["churn_after_observed"] == 1
    assert table["churned"].dtype == bool
    assert table["duration_days"].dtype == float
    assert str(table["plan"].dtype) == "category"


def test_survival_table_takes_observed_at_from_journey(hand_customers):
    # the customers table ends on 2024-04-01 (a churn date); events run to 2024-03-10
    events = _events([("a", "2024-01-01", "purchase"), ("zz", "2024-03-10", "site_visit")])
    journey = journey_from_tables(
        events,
        hand_customers.drop(columns="churned_at").assign(
            churned_at=hand_customers["churned_at"].where(hand_customers["customer_id"] != "c")
        ),
    )
    assert journey.observed_at == pd.Timestamp("2024-03-10")
    table = cxkit.survival_table(journey).set_index("customer_id")
    assert table.loc["b", "duration_days"] == 69.0
    assert "e" in table.index and table.loc["e", "duration_days"] == 5.0
    assert pd.Timestamp(table.attrs["observed_at"]) == pd.Timestamp("2024-03-10")


def test_survival_table_without_observed_at_asks_for_it(hand_customers):
    with pytest.raises(DataError, match="observed_at"):
        cxkit.survival_table(hand_customers)


# ---- activity_table --------------------------------------------------------------------------


def _days(*ds):
    return [pd.Timestamp("2024-01-01") + pd.Timedelta(days=d) for d in ds]


def test_activity_table_hand_cases():
    obs = pd.Timestamp("2024-01-01") + pd.Timedelta(days=180)
    rows = []
    plan = {
        "x": [0, 10, 100, 110],  # gap 90 after day 10: lost at 10, came back
        # never a gap of 60, last touch 10 days ago: active, censored at 180 - 60 = 120 (the
        # last moment a lapse could have been seen), not at the last touch
        "q": [0, 40, 80, 130, 170],
        "v": [150, 175],  # starts after 120: carries no information, left out and counted
        "r": [0, 50, 100],  # 80 days quiet at the end: lost at 100
        "s": [0, 59.5, 119],  # gaps of 59.5 then 61: lost at 119
        "t": [0, 60],  # a gap of exactly 60 counts: lost at 0
        "u": [0.25, 150.75],  # starts at its first touch (0.25): lost at once, came back
    }
    for cid, ds in plan.items():
        rows += [(cid, ts, "app_login") for ts in _days(*ds)]
    rows.append(("r", obs + pd.Timedelta(days=1), "app_login"))  # after observation: ignored
    table = cxkit.activity_table(_events(rows), inactivity="60D", observed_at=obs)
    table = table.set_index("customer_id")
    expected = {
        "x": (10, True),
        "q": (120, False),
        "r": (100, True),
        "s": (119, True),
        "t": (0, True),
        "u": (0, True),
    }
    for cid, (days, churned) in expected.items():
        assert table.loc[cid, "duration_days"] == days, cid
        assert table.loc[cid, "churned"] == churned, cid
    assert table.attrs["returned_after_lapse"] == 3  # x, t, u
    assert table.attrs["events_after_observed"] == 1
    assert "v" not in table.index and table.attrs["excluded_too_recent"] == 1


def test_activity_table_with_journey_counts_signup_ignores_funnel_and_prospects():
    customers = _customers(
        [
            ("a", "2024-01-10", None, "monthly"),
            ("b", "2024-01-10", None, "annual"),  # no touchpoint after signup
        ]
    )
    events = _events(
        [
            ("a", "2024-01-01", "site_visit"),  # funnel, before signup: ignored
            ("a", "2024-01-10", "purchase"),
            ("a", "2024-02-09", "app_login"),
            ("p", "2024-05-01", "site_visit"),  # a prospect: sets observed_at only
        ]
    )
    journey = journey_from_tables(events, customers)
    table = cxkit.activity_table(journey, inactivity="60D").set_index("customer_id")
    assert table.loc["a", "duration_days"] == 30.0 and table.loc["a", "churned"]
    assert table.loc["b", "duration_days"] == 0.0 and table.loc["b", "churned"]
    assert table.attrs["customers_without_touchpoints"] == 1
    assert list(table.index) == ["a", "b"]
    assert "plan" in table.columns


# ---- Kaplan–Meier, summaries, log-rank vs lifelines ------------------------------------------


def _waltons():
    from lifelines.datasets import load_waltons

    w = load_waltons()
    return w.rename(columns={"T": "duration_days"}).assign(churned=w["E"].astype(bool))


def _rossi():
    from lifelines.datasets import load_rossi

    r = load_rossi()
    return r.rename(columns={"week": "duration_days"}).assign(churned=r["arrest"].astype(bool))


@pytest.mark.parametrize("loader, by", [(_waltons, "group"), (_rossi, "fin"), (_rossi, None)])
def test_kaplan_meier_equals_lifelines(loader, by):
    from lifelines import KaplanMeierFitter

    table = loader()
    curves = cxkit.kaplan_meier(table, by=by)
    groups = [(None, table)] if by is None else list(table.groupby(by))
    for level, sub in groups:
        kmf = KaplanMeierFitter().fit(sub["duration_days"], sub["churned"])
        c = curves if by is None else curves[curves[by] == level]
        np.testing.assert_allclose(c["time"], kmf.timeline)
        np.testing.assert_allclose(c["survival"], kmf.survival_function_.iloc[:, 0])
        np.testing.assert_allclose(c["ci_low"], kmf.confidence_interval_.iloc[:, 0])
        np.testing.assert_allclose(c["ci_high"], kmf.confidence_interval_.iloc[:, 1])
        np.testing.assert_array_equal(c["at_risk"], kmf.event_table["at_risk"])
        np.testing.assert_array_equal(c["churned"], kmf.event_table["observed"])


def test_survival_summary_median_and_times_equal_lifelines():
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    table = _waltons()
    summary = cxkit.survival_summary(table, by="group", times=(10, 50)).set_index("group")
    for level, sub in table.groupby("group"):
        kmf = KaplanMeierFitter().fit(sub["duration_days"], sub["churned"])
        ci = median_survival_times(kmf.confidence_interval_)
        assert summary.loc[level, "median_days"] == kmf.median_survival_time_
        assert summary.loc[level, "median_ci_low"] == ci.iloc[0, 0]
        assert summary.loc[level, "median_ci_high"] == ci.iloc[0, 1]
        for day in (10, 50):
            expected = 100 * kmf.survival_function_at_times(day).iloc[0]
            assert summary.loc[level, f"pct_retained_{day}d"] == pytest.approx(expected)
    # past the follow-up of a group: unknown, not the last value
    late = cxkit.survival_summary(table, times=(1000,))
    assert np.isnan(late["pct_retained_1000d"].iloc[0])


def test_logrank_equals_lifelines_and_corrects_pairs():
    from lifelines.statistics import multivariate_logrank_test, pairwise_logrank_test

    table = _rossi().assign(age_group=lambda d: pd.cut(d["age"], [0, 20, 25, 30, 99]).astype(str))
    res = cxkit.logrank(table, by="age_group")
    overall = multivariate_logrank_test(
        table["duration_days"], table["age_group"], table["churned"]
    )
    assert res["p_value"].iloc[0] == pytest.approx(overall.p_value)
    pairs = pairwise_logrank_test(table["duration_days"], table["age_group"], table["churned"])
    ps = pairs.summary["p"].to_numpy()
    got = res["p_value"].iloc[1:].to_numpy()
    np.testing.assert_allclose(np.sort(got), np.sort(ps))
    # Holm: adjusted ≥ raw, monotone in the raw order, and the smallest × number of pairs
    adj = res["p_adjusted"].iloc[1:].to_numpy()
    assert (adj >= got - 1e-15).all()
    assert adj[np.argmin(got)] == pytest.approx(min(1.0, got.min() * len(got)))


# ---- RMST: Greenwood variance (not lifelines' #1682), vs survRM2 on waltons -----------------


def test_rmst_matches_survrm2_on_waltons():
    # survRM2::rmst2 reference values for the waltons miR-137 arm at tau = 10, as quoted in
    # lifelines issue #1682 / PR #1526: RMST 9.794, SE 0.123, two-sample p 0.145
    res = cxkit.rmst(_waltons(), by="group", horizon=10, reference="control")
    mir = res[(res["group"] == "miR-137") & res["versus"].isna()].iloc[0]
    assert mir["rmst_days"] == pytest.approx(9.7941, abs=1e-4)
    assert mir["se"] == pytest.approx(0.123, abs=1e-3)
    diff = res[res["versus"] == "control"].iloc[0]
    assert diff["p_value"] == pytest.approx(0.145, abs=1e-3)


def test_rmst_estimate_equals_lifelines_area_and_hand_variance():
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    table = _rossi()
    kmf = KaplanMeierFitter().fit(table["duration_days"], table["churned"])
    res = cxkit.rmst(table, horizon=40)
    assert res["rmst_days"].iloc[0] == pytest.approx(restricted_mean_survival_time(kmf, t=40))
    # hand case: 4 customers, events at 1 and 3, censored at 2 and 5; tau = 4
    small = pd.DataFrame({"duration_days": [1.0, 2, 3, 5], "churned": [True, False, True, False]})
    r = cxkit.rmst(small, horizon=4).iloc[0]
    # S = 1 on [0,1), 3/4 on [1,3), 3/8 on [3,4): area = 1 + 1.5 + 0.375
    assert r["rmst_days"] == pytest.approx(2.875)
    # A(1) = 1.5 + 0.375, d/(n(n-d)) = 1/(4·3); A(3) = 0.375, 1/(2·1)
    assert r["se"] ** 2 == pytest.approx(1.875**2 / 12 + 0.375**2 / 2)


def test_rmst_horizon_past_follow_up_warns():
    small = pd.DataFrame({"duration_days": [1.0, 2, 3], "churned": [True, False, True]})
    with pytest.warns(UserWarning, match="horizon"):
        res = cxkit.rmst(small, horizon=10)
    assert np.isnan(res["rmst_days"].iloc[0])


# ---- Cox: lifelines reference, bad input -----------------------------------------------------


@pytest.mark.filterwarnings("ignore:cox:UserWarning")
def test_cox_matches_lifelines_rossi():
    from lifelines import CoxPHFitter

    table = _rossi()
    covs = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
    fit = cxkit.cox(table, covs, cv=3)
    ref = CoxPHFitter().fit(table[covs + ["duration_days", "churned"]], "duration_days", "churned")
    hr = fit.hazard_ratios_.set_index("term")
    np.testing.assert_allclose(hr.loc[covs, "hazard_ratio"], ref.hazard_ratios_[covs], rtol=1e-6)
    np.testing.assert_allclose(hr.loc[covs, "p_value"], ref.summary.loc[covs, "p"], rtol=1e-6)
    assert 0.5 < fit.concordance_ < 0.75
    # lifelines' documented result on rossi: age and wexp break proportional hazards
    assert set(fit.ph_check_.loc[fit.ph_check_["violates"], "term"]) == {"age", "wexp"}
    assert "stratify" in fit.ph_check_.set_index("term").loc["age", "advice"]
    from lifelines.statistics import proportional_hazard_test

    ph = proportional_hazard_test(
        ref, table[covs + ["duration_days", "churned"]], time_transform="rank"
    ).summary
    got = fit.ph_check_.set_index("term").loc[covs, "p_value"]
    np.testing.assert_allclose(got.to_numpy(), ph.loc[covs, "p"].to_numpy(), rtol=1e-6)
    assert "CoxResult" in repr(fit) and "n=432" in repr(fit)


@pytest.mark.filterwarnings("ignore:cox:UserWarning")
def test_cox_bad_input():
    table = _rossi().assign(constant=1.0)
    with pytest.raises(DataError, match="nope"):
        cxkit.cox(table, ["fin", "nope"])
    with pytest.raises(DataError, match="columns present"):
        cxkit.kaplan_meier(table, by="nope")
    with pytest.warns(UserWarning, match="constant"):
        fit = cxkit.cox(table, ["fin", "constant"], cv=0)
    assert list(fit.hazard_ratios_["term"]) == ["fin"]
    assert fit.skipped_ and "constant" in fit.skipped_[0]
    censored = table.assign(churned=np.where(table["fin"] == 1, False, table["churned"]))
    with pytest.warns(UserWarning, match="no churn"):
        cxkit.logrank(censored, by="fin")
    with pytest.raises(DataError, match="censored"):
        cxkit.cox(table.assign(churned=False), ["fin"], cv=0)


# ---- time-varying table ----------------------------------------------------------------------


def test_time_varying_table_hand_case():
    customers = _customers(
        [("a", "2024-01-01", "2024-03-01", "monthly"), ("b", "2024-01-01", None, "annual")]
    )
    events = _events(
        [
            ("a", "2024-01-01", "purchase"),
            ("a", "2024-01-11", "support_ticket"),  # day 10: +1, leaves on day 40
            ("a", "2024-01-21", "support_ticket"),  # day 20: +1, leaves on day 50
            ("b", "2024-01-01", "purchase"),
            ("b", "2024-03-31", "app_login"),  # sets observed_at: day 90
        ]
    )
    surveys = pd.DataFrame(
        {
            "customer_id": ["a", "b", "b"],
            "timestamp": pd.to_datetime(["2024-01-31", "2024-01-16", "2024-02-15"]),
            "survey": ["nps", "nps", "nps"],
            "score": [3, 5, 9],  # a: detractor from day 30; b: detractor days 15–45
        }
    )
    tv = cxkit.time_varying_table(journey_from_tables(events, customers, surveys))
    a = tv[tv["customer_id"] == "a"]
    assert a[["start", "stop"]].to_numpy().tolist() == [
        [0, 10], [10, 20], [20, 30], [30, 40], [40, 50], [50, 60]]  # fmt: skip
    assert a["support_tickets_30d"].tolist() == [0, 1, 2, 2, 1, 0]
    assert a["detractor"].tolist() == [0, 0, 0, 1, 1, 1]
    assert a["churned"].tolist() == [False] * 5 + [True]
    b = tv[tv["customer_id"] == "b"]
    assert b[["start", "stop"]].to_numpy().tolist() == [[0, 15], [15, 45], [45, 90]]
    assert b["detractor"].tolist() == [0, 1, 0]
    assert not b["churned"].any()
    assert (tv.loc[tv["customer_id"] == "b", "plan"] == "annual").all()


# ---- recovery of the simulator's planted hazard ratios ---------------------------------------


def _planted(truth):
    return {d["name"]: d["hazard_ratio"] for d in truth["churn"]["drivers"]}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [101, 202])
def test_time_varying_cox_recovers_planted_hazard_ratios(seed):
    # the latent "disengaged" state is switched off (HR 1): with it, a model that cannot see it
    # attenuates the other ratios towards 1 (non-collapsibility) — tested separately below
    journey, truth = cxkit.simulate(customers=4000, seed=seed, drivers={"disengaged": 1.0})
    fit = cxkit.cox_time_varying(cxkit.time_varying_table(journey))
    planted = _planted(truth)
    hr = fit.hazard_ratios_.set_index("term")
    for term in hr.index:
        # device and region carry no planted effect: HR 1
        z = (hr.loc[term, "coef"] - np.log(planted.get(term, 1.0))) / hr.loc[term, "se"]
        assert abs(z) < 3.5, (term, hr.loc[term, "hazard_ratio"], planted.get(term, 1.0))


@pytest.mark.slow
def test_fixed_cox_and_rmst_on_simulated_data():
    journey, truth = cxkit.simulate(customers=4000, seed=303, drivers={"disengaged": 1.0})
    table = cxkit.survival_table(journey)
    fit = cxkit.cox(table, ["plan", "acquisition_channel"], cv=0)
    planted = _planted(truth)
    hr = fit.hazard_ratios_.set_index("term")
    # tickets and detractor are left out of this fixed model: they vary between customers
    # independently of plan and channel, so the marginal ratios are attenuated towards 1
    # (non-collapsibility); allow 0.15 on the log scale for it besides 3.5 SE of noise
    for term in hr.index:
        gap = abs(hr.loc[term, "coef"] - np.log(planted[term]))
        assert gap < 3.5 * hr.loc[term, "se"] + 0.15, (term, hr.loc[term, "hazard_ratio"])
    res = cxkit.rmst(table, by="plan", horizon=365)
    groups = res[res["versus"].isna()].set_index("plan")["rmst_days"]
    assert groups["annual"] > groups["monthly"]  # planted HR 0.5 for annual
    diff = res[res["versus"] == "monthly"].iloc[0]
    assert diff["ci_low"] > 0


def test_recovery_with_latent_disengagement_on_the_sample(sample, sample_truth):
    # default drivers (disengaged HR 1.8, unobserved): the planted ratios are recovered within
    # a documented tolerance — the omitted latent state pulls the others towards 1
    fit = cxkit.cox_time_varying(cxkit.time_varying_table(sample))
    planted = _planted(sample_truth)
    hr = fit.hazard_ratios_.set_index("term")
    for term in hr.index:
        gap = abs(hr.loc[term, "coef"] - np.log(planted.get(term, 1.0)))
        assert gap < 3.5 * hr.loc[term, "se"] + 0.15, (term, hr.loc[term, "hazard_ratio"])


# ---- cohorts ---------------------------------------------------------------------------------


def test_cohort_retention_contract_hand_case():
    customers = _customers(
        [
            ("a", "2024-01-05", "2024-02-10", "monthly"),  # lost in month 1
            ("b", "2024-01-20", None, "monthly"),
            ("c", "2024-01-31", "2024-01-31 12:00", "monthly"),  # lost in month 0
            ("d", "2024-02-03", "2024-04-02", "annual"),  # after OBS: retained where observed
        ]
    )
    cells = cxkit.cohort_retention(customers, period="M", observed_at="2024-03-15")
    jan = cells[cells["cohort"] == pd.Period("2024-01", "M")].set_index("period")
    assert jan["cohort_size"].tolist() == [3, 3, 3]
    assert jan.loc[0, "pct_retained"] == pytest.approx(200 / 3)
    assert jan.loc[1, "pct_retained"] == pytest.approx(100 / 3)
    assert np.isnan(jan.loc[2, "pct_retained"])  # March not over on 15 March: blank
    feb = cells[cells["cohort"] == pd.Period("2024-02", "M")].set_index("period")
    assert feb.loc[0, "pct_retained"] == 100.0 and np.isnan(feb.loc[1, "pct_retained"])


def test_cohort_retention_activity_hand_case():
    customers = _customers(
        [("a", "2024-01-05", None, "monthly"), ("b", "2024-01-20", None, "monthly")]
    )
    events = _events(
        [
            ("a", "2024-01-01", "site_visit"),  # before signup: not a retained touch
            ("a", "2024-01-05", "purchase"),
            ("a", "2024-03-02", "app_login"),  # month 2
            ("b", "2024-01-20", "purchase"),
            ("b", "2024-02-11", "app_login"),  # month 1
            ("b", "2024-04-10", "app_login"),  # sets observed_at: April incomplete
        ]
    )
    cells = cxkit.cohort_retention(journey_from_tables(events, customers), kind="activity")
    jan = cells.set_index("period")
    assert jan["pct_retained"].iloc[:3].tolist() == [100.0, 50.0, 50.0]
    assert np.isnan(jan.loc[3, "pct_retained"])


# ---- plots -----------------------------------------------------------------------------------


def test_plots_return_the_axes_they_were_given(sample, sample_truth):
    import matplotlib.pyplot as plt

    from cxkit.plots import plot_cohort_heatmap, plot_hazard_ratios, plot_survival

    table = cxkit.survival_table(sample)
    _, axes = plt.subplots(1, 3)
    assert plot_survival(table, by="plan", ax=axes[0]) is axes[0]
    assert plot_survival(cxkit.kaplan_meier(table), ax=axes[0]) is axes[0]
    fit = cxkit.cox(table, ["plan"], cv=0)
    assert plot_hazard_ratios(fit, ax=axes[1], planted=sample_truth) is axes[1]
    assert plot_cohort_heatmap(cxkit.cohort_retention(sample), ax=axes[2]) is axes[2]
    texts = [t.get_text() for t in axes[0].texts]
    assert "At risk" in texts


def test_activity_table_censoring_is_not_informative(sample):
    """Cut the data 240 days early: the survival curve of the cut data must match what the full
    data says about the same customers (censoring at the latest touchpoint would overstate it by
    several points at day 150)."""
    early = sample.observed_at - pd.Timedelta(days=240)
    cut = cxkit.activity_table(sample, inactivity="60D", observed_at=early)
    full = cxkit.activity_table(sample, inactivity="60D")
    full = full[full["customer_id"].isin(cut["customer_id"])]

    def at(table, day):
        curve = cxkit.kaplan_meier(table)
        return curve.loc[curve["time"] <= day, "survival"].iloc[-1]

    for day in (30, 90, 150):
        assert abs(at(cut, day) - at(full, day)) < 0.02, day


def test_cox_warns_about_attributes_not_known_at_signup(sample):
    table = cxkit.survival_table(sample)
    with pytest.warns(UserWarning, match=r"\['loyalty_tier'\] are not marked as known at signup"):
        cxkit.cox(table, ["plan", "loyalty_tier"], cv=0)


# ---- input validation ------------------------------------------------------------------------


def _hand_journey(customers):
    events = _events([("a", "2024-01-01", "purchase"), ("zz", "2024-03-10", "site_visit")])
    return journey_from_tables(events, customers[customers["customer_id"] != "c"].copy())


def test_tables_from_a_journey_remember_its_observed_at(hand_customers):
    journey = _hand_journey(hand_customers)
    assert journey.observed_at == pd.Timestamp("2024-03-10")
    # design.md's contract call: a customers table alone, observed_at=None
    alone = cxkit.survival_table(journey.customers, observed_at=None)
    pd.testing.assert_frame_equal(alone, cxkit.survival_table(journey))
    assert alone.set_index("customer_id").loc["b", "duration_days"] == 69.0
    assert pd.Timestamp(alone.attrs["observed_at"]) == pd.Timestamp("2024-03-10")
    pd.testing.assert_frame_equal(
        cxkit.cohort_retention(journey.customers), cxkit.cohort_retention(journey)
    )
    bare = cxkit.activity_table(journey.events, inactivity="30D")
    assert pd.Timestamp(bare.attrs["observed_at"]) == pd.Timestamp("2024-03-10")
    # a is seen once on 1 January, lost 30 days later; zz starts after 10 Feb: too recent
    assert bare["customer_id"].tolist() == ["a"] and bare["churned"].tolist() == [True]
    assert bare.attrs["excluded_too_recent"] == 1
    cells = cxkit.cohort_retention(journey.events, kind="activity")
    assert pd.Timestamp(cells.attrs["observed_at"]) == pd.Timestamp("2024-03-10")
    with pytest.raises(DataError, match="observed_at"):  # a table that does not remember it
        cxkit.activity_table(_events([("a", "2024-01-01", "purchase")]))
    with pytest.raises(DataError, match="observed_at"):
        cxkit.cohort_retention(hand_customers)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda j: cxkit.activity_table(j, inactivity=60), "bare number 60"),
        (lambda j: cxkit.activity_table(j, inactivity="60"), "bare number"),
        (lambda j: cxkit.activity_table(j, inactivity="-5D"), "positive duration"),
        (lambda j: cxkit.activity_table(j, observed_at=5), r"observed_at.*number 5"),
        (lambda j: cxkit.survival_table(j, observed_at="2000-13-45"), "'2000-13-45'"),
        (lambda j: cxkit.survival_table(j.customers, observed_at="soon"), "'soon'"),
        (lambda j: cxkit.cohort_retention(j, observed_at=1.5), "observed_at"),
        (lambda j: cxkit.time_varying_table(j, tickets_window=30), "tickets_window"),
        (
            lambda j: cxkit.time_varying_table(
                j, engagement_event="app_login", engagement_window="often"
            ),
            "engagement_window",
        ),
    ],
)
def test_durations_and_moments_are_checked(hand_customers, call, match):
    with pytest.raises(DataError, match=match):
        call(_hand_journey(hand_customers))


def test_rmst_horizon_in_days_or_as_a_duration():
    table = _waltons()
    days = cxkit.rmst(table, horizon=30)
    for horizon in ("30D", "720h", pd.Timedelta(days=30), np.float64(30)):
        got = cxkit.rmst(table, horizon=horizon)
        pd.testing.assert_frame_equal(got, days)
        assert got.attrs["horizon"] == 30.0
    for bad, match in [
        (0, "positive number of days"),
        (-3, "positive number of days"),
        (np.inf, "positive number of days"),
        ("365", "bare number"),
        ("a year", "positive duration"),
        (True, "horizon"),
    ]:
        with pytest.raises(DataError, match=match):
            cxkit.rmst(table, horizon=bad)


@pytest.mark.parametrize(
    "change, match",
    [
        (
            lambda c: c.assign(signup_at=c["signup_at"].where(c["customer_id"] != "b")),
            r"column 'signup_at': a timestamp in every row; some are empty \(1 row\(s\); "
            r"e\.g\. 'row 2: NaT'\)",
        ),
        (
            lambda c: c.assign(churned_at=c["churned_at"].where(c["customer_id"] != "a", "2023")),
            r"column 'churned_at': a churn date on or after signup_at \(1 row\(s\); e\.g\. 'row 1:"
            r" a signed up 2024-01-01",
        ),
        (
            lambda c: c.assign(customer_id=c["customer_id"].replace({"b": "a"})),
            r"column 'customer_id': one row per customer.*\(2 row\(s\); e\.g\. 'a'\)",
        ),
        (
            lambda c: c.assign(
                signup_at=c["signup_at"].dt.strftime("%Y-%m-%d").replace("2024-01-01", "nope")
            ),
            r"column 'signup_at': .*could not be parsed \(3 row\(s\)",
        ),
    ],
)
def test_survival_table_checks_a_customers_frame(hand_customers, change, match):
    bad = change(hand_customers)
    with pytest.raises(DataError, match=match):
        cxkit.survival_table(bad, observed_at=OBS)


def test_survival_table_reads_text_dates_and_refuses_to_exclude_everyone(hand_customers):
    as_text = hand_customers.assign(
        signup_at=hand_customers["signup_at"].astype(str),
        churned_at=hand_customers["churned_at"].dt.strftime("%Y-%m-%d %H:%M"),
    )
    before = as_text.copy()
    got = cxkit.survival_table(as_text, observed_at=OBS)
    pd.testing.assert_frame_equal(as_text, before)  # input untouched
    pd.testing.assert_frame_equal(got, cxkit.survival_table(hand_customers, observed_at=OBS))
    with pytest.raises(DataError, match=r"every customer \(7\) signed up after 2023-12-01"):
        cxkit.survival_table(hand_customers, observed_at="2023-12-01")


def test_kaplan_meier_accepts_a_journey_and_checks_its_table(hand_customers):
    journey = _hand_journey(hand_customers)
    pd.testing.assert_frame_equal(
        cxkit.kaplan_meier(journey), cxkit.kaplan_meier(cxkit.survival_table(journey))
    )
    table = _waltons()
    ref = cxkit.kaplan_meier(table, by="group")
    pd.testing.assert_frame_equal(cxkit.kaplan_meier(table, by=["group"]), ref)
    as_int = table.assign(churned=table["churned"].astype(int))
    pd.testing.assert_frame_equal(cxkit.kaplan_meier(as_int, by="group"), ref)
    bad_rows = [
        (table.assign(duration_days=table["duration_days"].where(table.index != 2)), "duration"),
        (table.assign(duration_days=table["duration_days"].replace(6.0, -6.0)), "duration"),
        (table.assign(duration_days=np.inf), "duration_days"),
        (table.assign(duration_days=table["duration_days"].astype(str)), "duration_days"),
        (table.assign(churned=np.where(table["churned"], "yes", "no")), r"churned.*'yes'"),
        (table.assign(churned=table["churned"].astype(int) * 2), "churned"),
        (table.assign(churned=np.where(table.index == 0, np.nan, 1.0)), "churned"),
    ]
    for bad, match in bad_rows:
        with pytest.raises(DataError, match=match):
            cxkit.kaplan_meier(bad)
    for alpha in (0, 1, 1.5, -0.1, "5%"):
        with pytest.raises(DataError, match="alpha"):
            cxkit.kaplan_meier(table, alpha=alpha)
    with pytest.raises(DataError, match="one column to split by; got 2"):
        cxkit.kaplan_meier(table.assign(other="x"), by=["group", "other"])
    with pytest.raises(DataError, match="every value is missing"):
        cxkit.kaplan_meier(table.assign(group=np.nan), by="group")
    with pytest.raises(DataError, match="every value is missing"):
        cxkit.survival_summary(table.assign(group=np.nan), by="group")


def test_plot_survival_empty_and_all_missing_groups(hand_customers):
    import matplotlib.pyplot as plt

    from cxkit.plots import plot_survival

    table = cxkit.survival_table(hand_customers, observed_at=OBS)
    _, ax = plt.subplots()
    assert plot_survival(table.iloc[0:0], ax=ax) is ax
    assert "No customers to show" in [t.get_text() for t in ax.texts]
    with pytest.raises(DataError, match="every value is missing"):
        plot_survival(table.assign(plan=np.nan), by="plan", ax=ax)
    with pytest.raises(DataError, match="by"):
        plot_survival(cxkit.kaplan_meier(table), by="device", ax=ax)
    plt.close("all")


# ---- limits and bad values named before lifelines sees them (issue 12) ----------------------


def test_activity_table_names_unknown_touchpoints():
    rows = [("a", ts, "app_login") for ts in _days(0, 10)] + [("b", _days(3)[0], "purchase")]
    events = _events(rows)
    with pytest.raises(DataError, match="purchse") as err:
        cxkit.activity_table(events, inactivity="60D", touchpoints=["purchse", "app_login"])
    message = str(err.value)
    assert "occur nowhere" in message and "app_login" in message and "purchase" in message
    assert "'app_login'" not in message.split("e.g.")[1].split(")")[0]  # only the typo named
    obs = _days(200)[0]
    ok = cxkit.activity_table(events, inactivity="60D", touchpoints=["purchase"], observed_at=obs)
    assert ok["customer_id"].tolist() == ["b"]


def test_many_levels_are_refused_with_the_limit():
    from cxkit.retention.checks import MAX_LEVELS

    rng = np.random.default_rng(0)
    n = 3000
    table = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "duration_days": rng.exponential(100, n),
            "churned": rng.random(n) < 0.5,
            "zip": [f"z{i % 1200}" for i in range(n)],  # 1,200 levels
            "plan": rng.choice(["a", "b"], n),
        }
    )
    for call in (
        lambda: cxkit.logrank(table, by="zip"),
        lambda: cxkit.kaplan_meier(table, by="zip"),
        lambda: cxkit.cox(table, ["plan", "zip"], cv=0),
    ):
        with pytest.raises(DataError, match=f"at most {MAX_LEVELS} groups.*1,200 distinct"):
            call()
    few = table.assign(zip=[f"z{i % MAX_LEVELS}" for i in range(n)])
    assert len(cxkit.kaplan_meier(few, by="zip")["zip"].unique()) == MAX_LEVELS


def test_cohort_retention_refuses_a_period_too_fine_for_the_span():
    customers = _customers(
        [("a", "2022-01-05", None, "monthly"), ("b", "2024-01-20", "2024-02-01", "monthly")]
    )
    with pytest.raises(DataError, match=r"(?s)period='min' gives 1,.*coarser period"):
        cxkit.cohort_retention(customers, period="min", observed_at="2024-03-15")
    days = cxkit.cohort_retention(customers, period="D", observed_at="2024-03-15")
    assert days["cohort"].nunique() == 2  # 801 days: within the limit


def test_infinite_covariates_are_named_before_lifelines():
    table = _rossi()
    bad = table.assign(ratio=np.where(np.arange(len(table)) % 100 == 7, np.inf, 1.0))
    bad.loc[bad.index[:3], "ratio"] = 2.0
    with pytest.raises(DataError, match=r"'ratio'.*infinite.*5 row") as err:
        cxkit.cox(bad, ["fin", "ratio"], cv=0)
    assert "7" in str(err.value)  # the row labels

"""Experience scores, RFM segments, journey map and NPS landmark analysis."""

import io

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import cxkit
from cxkit.data import DataError, journey_from_tables
from cxkit.experience import (
    RFM_SEGMENTS,
    ces,
    csat,
    journey_map,
    nps,
    nps_landmark,
    rfm,
    rfm_summary,
)
from cxkit.experience.scores import _nps_interval

T0 = pd.Timestamp("2024-01-01")


def _surveys(rows):
    """rows: (customer_id, day, survey, score, stage)."""
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "survey", "score", "stage"])
    frame["timestamp"] = T0 + pd.to_timedelta(frame.pop("day"), unit="D")
    frame["score"] = frame["score"].astype("int64")
    frame["stage"] = frame["stage"].astype("category")
    return frame


@pytest.fixture
def answers():
    # nps: a 10, b 9, c 8, d 6, e 0, a 3 (later), b 7 (stage y); csat and ces rows mixed in
    return _surveys(
        [
            ("a", 0, "nps", 10, "x"),
            ("b", 1, "nps", 9, "x"),
            ("c", 2, "nps", 8, "x"),
            ("d", 3, "nps", 6, "y"),
            ("e", 4, "nps", 0, "y"),
            ("a", 5, "nps", 3, "y"),
            ("b", 6, "nps", 7, "y"),
            ("a", 0, "csat", 5, "x"),
            ("b", 1, "csat", 4, "x"),
            ("c", 2, "csat", 2, "y"),
            ("d", 3, "csat", 1, "y"),
            ("e", 4, "csat", 4, "y"),
            ("a", 0, "ces", 7, "x"),
            ("b", 1, "ces", 5, "x"),
            ("c", 2, "ces", 3, "x"),
            ("d", 3, "ces", 1, "y"),
        ]
    )


@pytest.fixture
def people():
    return pd.DataFrame(
        {
            "customer_id": list("abcd"),
            "signup_at": [T0] * 4,
            "churned_at": pd.NaT,
            "plan": pd.Categorical(["monthly", "annual", "monthly", "annual"]),
        }
    )


# ------------------------------------------------------------------------------ scores


def test_nps_hand_counted_overall(answers):
    t = nps(answers)
    # 7 answers: promoters 10, 9 (2); passives 8, 7 (2); detractors 6, 0, 3 (3)
    row = t.iloc[0]
    assert row["n"] == 7
    assert row["promoters"] == pytest.approx(200 / 7)
    assert row["passives"] == pytest.approx(200 / 7)
    assert row["detractors"] == pytest.approx(300 / 7)
    assert row["nps"] == pytest.approx(-100 / 7)
    assert bool(row["small"])
    assert t.attrs["unit"] == "answer"


def test_nps_by_stage(answers):
    t = nps(answers, by="stage").set_index("stage")
    assert t.loc["x", "n"] == 3 and t.loc["x", "nps"] == pytest.approx(100 * 2 / 3)
    # y: 6, 0, 3 detractors, 7 passive
    assert t.loc["y", "n"] == 4 and t.loc["y", "nps"] == pytest.approx(-75)
    assert t.loc["y", "passives"] == pytest.approx(25)


def test_nps_latest_per_customer_and_customer_attribute(answers, people):
    t = nps(answers, per_customer="latest")
    # latest: a 3 (det), b 7 (pas), c 8 (pas), d 6 (det), e 0 (det)
    assert t.loc[0, "n"] == 5 and t.loc[0, "nps"] == pytest.approx(-60)
    assert t.attrs["excluded"]["earlier answers of the same customer (per_customer='latest')"] == 2
    by_plan = nps(answers, by="plan", customers=people).set_index("plan")
    # monthly a, c: 10, 8, 3 -> 1 pro, 1 pas, 1 det; annual b, d: 9, 6, 7
    assert by_plan.loc["monthly", "nps"] == pytest.approx(0)
    assert by_plan.loc["annual", "n"] == 3
    assert by_plan.attrs["excluded"] == {"answers of ids not in customers": 1}  # e
    journey = journey_from_tables(
        pd.DataFrame({"customer_id": list("abcd"), "timestamp": [T0] * 4, "event": "purchase"}),
        people,
        answers.loc[answers["customer_id"] != "e"],
    )
    pd.testing.assert_frame_equal(nps(journey, by="plan"), by_plan.reset_index())


def test_csat_hand_counted_with_wilson(answers):
    t = csat(answers)
    assert t.loc[0, "n"] == 5 and t.loc[0, "csat"] == pytest.approx(60)
    ci = stats.binomtest(3, 5).proportion_ci(method="wilson")
    assert t.loc[0, "ci_low"] == pytest.approx(100 * ci.low)
    assert t.loc[0, "ci_high"] == pytest.approx(100 * ci.high)
    by = csat(answers, by="stage").set_index("stage")
    assert by.loc["x", "csat"] == 100 and by.loc["y", "csat"] == pytest.approx(100 / 3)
    assert csat(answers, satisfied=(5,)).loc[0, "csat"] == pytest.approx(20)


def test_ces_hand_counted(answers):
    t = ces(answers)
    # 7, 5, 3, 1: mean 4, low effort (5-7) 2 of 4
    assert t.loc[0, "ces"] == pytest.approx(4) and t.loc[0, "low_effort"] == pytest.approx(50)
    low, high = stats.t.interval(0.95, 3, loc=4, scale=np.std([7, 5, 3, 1], ddof=1) / 2)
    assert (t.loc[0, "ci_low"], t.loc[0, "ci_high"]) == pytest.approx((low, high))
    by = ces(answers, by="stage").set_index("stage")
    assert by.loc["x", "ces"] == pytest.approx(5) and by.loc["y", "low_effort"] == 0
    assert np.isnan(by.loc["y", "ci_low"])  # one answer: no interval


def test_small_flag_and_min_n(answers):
    assert nps(answers, min_n=5)["small"].tolist() == [False]
    assert nps(answers, by="stage", min_n=4)["small"].tolist() == [True, False]


def test_bad_arguments_name_the_argument(answers):
    with pytest.raises(DataError, match="'region'.*customer attribute"):
        nps(answers, by="region")
    with pytest.raises(DataError, match="per_customer"):
        csat(answers, per_customer="newest")
    with pytest.raises(DataError, match="'score'.*missing"):
        ces(answers.drop(columns="score"))


def _with_scores(answers, kind, new):
    """answers with the scores of one survey type replaced (others untouched)."""
    out = answers.assign(score=answers["score"].astype(object))
    at = out.index[out["survey"] == kind]
    out.loc[at, "score"] = new
    return out


@pytest.mark.parametrize(
    "fn, kind, new, match",
    [
        (
            nps,
            "nps",
            [20, 19, 18, 16, 10, 13, 17],
            r"'score'.*0 to 10.*outside \(6 row\(s\); e\.g\. 20",
        ),
        (nps, "nps", [10, np.nan, 8, 6, np.nan, 3, 7], r"'score'.*missing \(2 row\(s\)"),
        (nps, "nps", [10, 9.5, 8, 6, 0, 3, 7], r"'score'.*fractions \(1 row\(s\); e\.g\. 9\.5"),
        (csat, "csat", [9] * 5, r"'score'.*1 to 5.*outside \(5 row\(s\); e\.g\. 9\)"),
        (csat, "csat", [5, 4, 0, 1, 4], r"'score'.*outside \(1 row\(s\); e\.g\. 0\)"),
        (
            ces,
            "ces",
            ["7", "five", "3", "x"],
            r"'score'.*not numbers \(2 row\(s\); e\.g\. 'five', 'x'",
        ),
        (ces, "ces", [7, 5, 3, 8], r"'score'.*1 to 7.*outside \(1 row\(s\); e\.g\. 8\)"),
    ],
)
def test_bad_scores_are_refused_with_counts(answers, fn, kind, new, match):
    with pytest.raises(DataError, match=match):
        fn(_with_scores(answers, kind, new))


def test_scores_of_other_surveys_and_numeric_text_are_fine(answers):
    # an off-scale nps answer does not concern csat; numbers stored as text are read as numbers
    assert csat(_with_scores(answers, "nps", 99)).loc[0, "csat"] == pytest.approx(60)
    text = answers.assign(score=answers["score"].astype(str))
    pd.testing.assert_frame_equal(nps(text), nps(answers))


def test_bad_customers_and_score_sets(answers):
    with pytest.raises(DataError, match="'customers'.*DataFrame.*got str"):
        nps(answers, by="plan", customers="customers.csv")
    assert csat(answers, satisfied=4).loc[0, "csat"] == pytest.approx(40)  # b 4, e 4 of 5
    assert csat(answers, satisfied=4).attrs["satisfied"] == [4]  # a list: attrs stay JSON
    assert ces(answers, low_effort=7).loc[0, "low_effort"] == pytest.approx(25)
    with pytest.raises(DataError, match="'satisfied'.*1 to 5"):
        csat(answers, satisfied="4")
    with pytest.raises(DataError, match="'satisfied'.*1 to 5"):
        csat(answers, satisfied=(4, 6))
    with pytest.raises(DataError, match="'low_effort'.*1 to 7"):
        ces(answers, low_effort=(5.5,))


def test_nps_interval_contains_estimate_and_shrinks():
    # every composition of 2..40 answers: the estimate is inside the interval
    n, pro, det = np.array(
        [(n, p, d) for n in range(2, 41) for p in range(n + 1) for d in range(n - p + 1)]
    ).T
    low, high = _nps_interval(pro, n - pro - det, det)
    est = 100 * (pro - det) / n
    assert np.all((low <= est + 1e-9) & (est <= high + 1e-9))
    assert np.all((low >= -100) & (high <= 100))
    k = np.array([1, 2, 4, 8, 16, 64])
    low, high = _nps_interval(5 * k, 3 * k, 2 * k)
    assert np.all(np.diff(high - low) < 0)
    # wilson for csat shrinks too
    widths = [np.diff(csat(_many_csat(m))[["ci_low", "ci_high"]].to_numpy())[0, 0] for m in k]
    assert np.all(np.diff(widths) < 0)


def _many_csat(m):
    scores = [5, 4, 4, 2, 1] * int(m)
    return pd.DataFrame(
        {"customer_id": range(len(scores)), "timestamp": T0, "survey": "csat", "score": scores}
    )


@pytest.mark.parametrize("n, p", [(100, (0.4, 0.35, 0.25)), (30, (0.6, 0.3, 0.1))])
def test_nps_interval_coverage(n, p):
    rng = np.random.default_rng(12345)
    counts = rng.multinomial(n, p, size=2000)
    low, high = _nps_interval(counts[:, 0], counts[:, 1], counts[:, 2])
    truth = 100 * (p[0] - p[2])
    coverage = np.mean((low <= truth) & (truth <= high))
    assert 0.93 <= coverage <= 0.97  # Monte Carlo SE 0.5 points


# ------------------------------------------------------------------------------ RFM


def _purchases(spec):
    """spec: {customer: [(days_before_end, value), ...]} -> events with a non-purchase row."""
    rows = [
        (c, T0 + pd.Timedelta(days=100 - d), "purchase", v)
        for c, items in spec.items()
        for d, v in items
    ]
    rows.append(("z", T0, "site_visit", np.nan))
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "event", "value"])


def test_rfm_quintiles_hand_case():
    # ten customers, recency 0..9 days, frequency 1..10 (customer i bought i+1 times)
    spec = {f"c{i}": [(i, 10.0)] + [(50, 1.0)] * (9 - i) for i in range(10)}
    end = T0 + pd.Timedelta(days=100)
    t = rfm(_purchases(spec), observed_at=end).set_index("customer_id")
    assert "z" not in t.index  # no value: not a purchase
    assert t["recency"].tolist() == list(range(10))
    assert t["frequency"].tolist() == list(range(10, 0, -1))
    # most recent two get R=5 ... least recent two R=1; highest frequency two F=5
    assert t["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert t["f_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert t["m_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert t.loc["c0", "segment"] == "champions" and t.loc["c9", "segment"] == "hibernating"
    assert t.loc["c4", "segment"] == "need attention" and t.loc["c0", "rfm"] == "555"


def test_rfm_ties_share_a_score_whatever_the_order():
    spec = {"a": [(1, 5.0)], "b": [(1, 5.0)], "c": [(2, 5.0), (3, 5.0)], "d": [(9, 5.0)] * 3}
    events = _purchases(spec)
    t = rfm(events).set_index("customer_id")
    shuffled = rfm(events.sample(frac=1, random_state=0)).set_index("customer_id")
    pd.testing.assert_frame_equal(t, shuffled, check_like=True)
    # a and b tie on everything: same scores; one-time buyers a, b get F = 1 (nobody worse)
    assert t.loc["a", "rfm"] == t.loc["b", "rfm"]
    assert t.loc["a", "f_score"] == 1 and t.loc["c", "f_score"] == 3 and t.loc["d", "f_score"] == 4


def test_rfm_segment_grid_is_complete_and_event_option():
    cells = [(r, f) for _, rs, fs, _ in RFM_SEGMENTS for r in rs for f in fs]
    assert sorted(cells) == [(r, f) for r in range(1, 6) for f in range(1, 6)]
    events = _purchases({"a": [(1, 5.0), (2, 7.0)]})
    counted = rfm(events, event=["site_visit", "purchase"]).set_index("customer_id")
    assert counted.loc["z", "monetary"] == 0 and counted.loc["a", "frequency"] == 2
    with pytest.raises(DataError, match="event='purchase'"):
        rfm(events.drop(columns="value"))
    late = rfm(events, observed_at=T0 + pd.Timedelta(days=98, hours=12))
    assert late.attrs["excluded"]["qualifying events after observed_at"] == 1


def test_rfm_observed_at_argument_and_table_attrs():
    events = _purchases({"a": [(1, 5.0)], "b": [(10, 5.0)]})  # latest purchase: T0 + 99 days
    with pytest.raises(DataError, match="'observed_at'.*2025-06-30.*'zz'"):
        rfm(events, observed_at="zz")
    with pytest.raises(DataError, match="'observed_at'.*number"):
        rfm(events, observed_at=20)
    assert rfm(events).set_index("customer_id")["recency"].tolist() == [0, 9]
    assert rfm(events).attrs["observed_at_from"].startswith("the latest event")
    tagged = events.copy()
    tagged.attrs["observed_at"] = T0 + pd.Timedelta(days=101)  # as cxkit's loaders set it
    t = rfm(tagged)
    assert t.set_index("customer_id")["recency"].tolist() == [2, 11]
    assert pd.Timestamp(t.attrs["observed_at"]) == T0 + pd.Timedelta(days=101)  # ISO text
    given = rfm(tagged, observed_at="2024-04-20T00:00:00+02:00")  # aware -> naive UTC
    assert pd.Timestamp(given.attrs["observed_at"]) == pd.Timestamp("2024-04-19 22:00")


def test_rfm_summary_adds_up():
    spec = {f"c{i}": [(i, 10.0 * (i + 1))] for i in range(7)}
    t = rfm(_purchases(spec))
    s = rfm_summary(t)
    assert len(s) == len(RFM_SEGMENTS)
    assert s["customers"].sum() == 7 and s["pct_customers"].sum() == pytest.approx(100)
    assert s["monetary"].sum() == pytest.approx(t["monetary"].sum())


# ------------------------------------------------------------------------------ landmark


def _no_effect_journey(n=3000, seed=2024):
    """Constant churn hazard, NPS answers every 90 days while a customer, scores independent
    of everything: NPS has no effect on staying."""
    rng = np.random.default_rng(seed)
    end = T0 + pd.Timedelta(days=900)
    signup = T0 + pd.to_timedelta(rng.uniform(0, 400, n), unit="D")
    life = rng.exponential(350, n)
    churned = signup + pd.to_timedelta(life, unit="D")
    ids = np.array([f"c{i:05d}" for i in range(n)])
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_at": signup,
            "churned_at": pd.Series(churned).where(churned <= end),
        }
    )
    k = np.arange(1, 11)
    day = 80 + 90 * (k - 1)  # answers 80, 170, 260 ... days after signup
    when = signup.to_numpy()[:, None] + pd.to_timedelta(day, unit="D").to_numpy()[None, :]
    alive = (day[None, :] < life[:, None]) & (when <= end.to_datetime64())
    asked = alive & (rng.random(alive.shape) < 0.6)
    rows, cols = np.nonzero(asked)
    surveys = pd.DataFrame(
        {
            "customer_id": ids[rows],
            "timestamp": when[rows, cols],
            "survey": "nps",
            "score": rng.integers(0, 11, len(rows)),
        }
    )
    events = pd.DataFrame({"customer_id": ids, "timestamp": signup, "event": "purchase"})
    return journey_from_tables(events, customers, surveys, observed_at=end)


def test_landmark_is_unbiased_where_ever_detractor_is_not():
    from lifelines import CoxPHFitter

    journey = _no_effect_journey()
    # naive: "ever answered as a detractor", followed from signup
    cu = journey.customers
    det_ids = journey.surveys.loc[journey.surveys["score"] <= 6, "customer_id"].unique()
    stop = cu["churned_at"].fillna(journey.observed_at)
    naive = pd.DataFrame(
        {
            "days": (stop - cu["signup_at"]).dt.days + 0.5,
            "churned": cu["churned_at"].notna().astype(int),
            "ever_detractor": cu["customer_id"].isin(det_ids).astype(int),
        }
    )
    cox = CoxPHFitter().fit(naive, "days", "churned")
    z_naive = cox.summary.loc["ever_detractor", "z"]
    assert z_naive < -8  # "detractors stay longer": pure immortal-time bias

    result = nps_landmark(journey, landmark_days=180)
    s = result.summary_.set_index("group")
    hr, lo, hi = s.loc["detractor", ["hazard_ratio", "hr_ci_low", "hr_ci_high"]]
    z = np.log(hr) / ((np.log(hi) - np.log(lo)) / (2 * 1.96))
    assert abs(z) < 3.3 and 0.8 < hr < 1.25  # no effect, as simulated (naive HR is ~0.2)
    assert result.logrank_["p_value"] > 0.001
    d = result.detractor_hr_
    assert d["ci_low"] < d["hazard_ratio"] < d["ci_high"] and 0.8 < d["hazard_ratio"] < 1.25
    assert result.logrank_["groups"] == ["promoter", "passive", "detractor"]
    # everybody at risk answered at day 80 or did not; latest answer before day 180 is day 170's
    assert s["customers"].sum() == len(result.data_)


def test_landmark_reduction_hand_case():
    day = pd.Timedelta(days=1)
    customers = pd.DataFrame(
        {
            "customer_id": ["p", "d", "gone", "late", "quiet"],
            "signup_at": [T0, T0, T0, T0 + 300 * day, T0],
            "churned_at": [T0 + 150 * day, pd.NaT, T0 + 50 * day, pd.NaT, pd.NaT],
        }
    )
    surveys = pd.DataFrame(
        {
            "customer_id": ["p", "d", "d", "quiet"],
            "timestamp": [T0 + 10 * day, T0 + 20 * day, T0 + 120 * day, T0 + 100 * day],
            "survey": "nps",
            "score": [10, 2, 10, 9],  # d's promoter answer is after the landmark
        }
    )
    events = pd.DataFrame({"customer_id": ["p"], "timestamp": [T0], "event": ["purchase"]})
    journey = journey_from_tables(events, customers, surveys, observed_at=T0 + 360 * day)
    result = nps_landmark(journey, landmark_days=90, at_days=30)
    data = result.data_.set_index("customer_id")
    assert sorted(data.index) == ["d", "p", "quiet"]
    assert data.loc["p", "group"] == "promoter" and data.loc["d", "group"] == "detractor"
    assert data.loc["quiet", "group"] == "no answer"  # answered only after the landmark
    assert data.loc["p", "duration_days"] == 60 and bool(data.loc["p", "churned"])
    assert data.loc["d", "duration_days"] == 270 and not data.loc["d", "churned"]
    assert result.excluded == {
        "landmark after observed_at (not reached yet)": 1,
        "churned before the landmark": 1,
    }
    assert "customers=3" in repr(result)
    capped = nps_landmark(journey, landmark_days=90, horizon_days=30).data_
    assert capped["duration_days"].max() == 30 and not capped["churned"].any()


# ------------------------------------------------------------------------------ journey map


def test_journey_map_hand_case(answers, people):
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c", "x"],
            "timestamp": T0,
            "event": [
                "ad_click",
                "site_visit",
                "purchase",
                "ad_click",
                "site_visit",
                "ad_click",
                "mystery",
            ],
        }
    )
    surveys = answers.assign(stage=answers["stage"].map({"x": "purchase", "y": "later"}))
    journey = journey_from_tables(events, people, surveys.loc[surveys["customer_id"] != "e"])
    stages = {"awareness": ["ad_click"], "consideration": ["site_visit"], "purchase": ["purchase"]}
    t = journey_map(journey, stages).set_index("stage")
    assert t["events"].tolist()[:3] == [3, 2, 1]
    assert t["people"].tolist()[:3] == [3, 2, 1]
    assert t.loc["consideration", "pct_of_previous"] == pytest.approx(200 / 3)
    assert t.loc["purchase", "csat_n"] == 2 and t.loc["purchase", "csat"] == 100
    assert t.loc["purchase", "nps"] == pytest.approx(100 * 2 / 3)
    assert "later" in t.index  # survey stage not in the map: kept, with no volume
    assert t.attrs["excluded"]["events in no stage"] == 1


# ------------------------------------------------------------------------------ sample


def test_sample_recovers_planted_csat(sample, sample_truth):
    t = csat(sample, by=["touchpoint", "device"], per_customer=None)
    checkout = t.loc[t["touchpoint"] == "checkout"].set_index("device")
    planted = sample_truth["experience"]["csat_checkout"]
    # mean score of answers: within a few SE of the planted means (SD of a 1-5 answer <= 1.2)
    mobile = checkout.loc["mobile"]
    assert abs(mobile["mean_score"] - planted["in_pain_segment_mean"]) < 4 * 1.2 / np.sqrt(
        mobile["n"]
    )
    desktop = checkout.loc["desktop"]
    assert abs(desktop["mean_score"] - planted["others_mean"]) < 4 * 1.2 / np.sqrt(desktop["n"])
    assert checkout.loc["mobile", "ci_high"] < checkout.loc["desktop", "ci_low"]


def test_sample_tables_are_consistent(sample):
    overall = nps(sample)
    by_plan = nps(sample, by="plan")
    assert by_plan["n"].sum() + sum(by_plan.attrs["excluded"].values()) == overall.loc[0, "n"]
    table = rfm(sample)
    assert table["customer_id"].is_unique and set(table["customer_id"]) <= set(
        sample.customers["customer_id"]
    )
    assert cxkit.rfm is rfm and cxkit.nps is nps


def test_sample_tables_export_to_parquet(sample):
    """attrs stay JSON-serialisable: pandas writes them into Parquet metadata."""
    table = rfm(sample)
    landmark = nps_landmark(sample, landmark_days=180)
    for t in [
        nps(sample, by="touchpoint"),
        csat(sample),
        ces(sample),
        table,
        rfm_summary(table),
        journey_map(sample),
        landmark.summary_,
        landmark.curves_,
    ]:
        t.to_parquet(io.BytesIO())
    assert pd.Timestamp(table.attrs["observed_at"]) == sample.observed_at


# ------------------------------------------------------------------------------ plots


def test_plots_return_the_axes_they_were_given(answers, people):
    from cxkit.plots import plot_journey_map, plot_nps, plot_nps_landmark, plot_segments

    _, ax = plt.subplots()
    assert plot_nps(nps(answers, by="stage"), ax=ax) is ax
    assert len(ax.patches) == 6 and "NPS" in ax.texts[0].get_text()
    _, ax = plt.subplots()
    assert plot_nps(answers.iloc[:0], ax=ax) is ax  # no answers: an empty, titled Axes
    _, ax = plt.subplots()
    spec = {f"c{i}": [(i, 10.0)] for i in range(5)}
    assert plot_segments(rfm(_purchases(spec)), ax=ax) is ax
    journey = _no_effect_journey(n=300)
    _, ax = plt.subplots()
    assert plot_journey_map(journey_map(journey), ax=ax) is ax
    _, ax = plt.subplots()
    assert plot_nps_landmark(nps_landmark(journey, 180), ax=ax) is ax
    assert ax.get_ylabel() == "Still a customer (%)"


# ------------------------------------------------------- answers clustered by customer


def _repeated_answers(kind, alpha, *, reps=1000, customers=60, seed=12):
    """``reps`` independent surveys of ``customers`` customers each answering 1–15 times; each
    customer has their own score distribution (Dirichlet(alpha) over the scale), so one
    customer's answers are alike. Returns (answers with a ``rep`` column, the true mean of the
    answer-level score distribution, as scale values and their probabilities)."""
    lo, hi = cxkit.data.SURVEY_SCALES[kind]
    rng = np.random.default_rng(seed)
    people = reps * customers
    m = rng.integers(1, 16, people)
    probs = rng.dirichlet(alpha, people)
    who = np.repeat(np.arange(people), m)
    u = rng.random(len(who))
    level = (u[:, None] > np.cumsum(probs, axis=1)[who]).sum(axis=1)
    frame = pd.DataFrame(
        {
            "customer_id": who.astype(str),
            "timestamp": T0,
            "survey": kind,
            "score": (lo + np.minimum(level, hi - lo)).astype("int64"),
            "rep": who // customers,
        }
    )
    mean_probs = np.asarray(alpha, float) / np.sum(alpha)  # m is independent of the probs
    return frame, np.arange(lo, hi + 1), mean_probs


def _coverage(table, truth):
    return float(((table["ci_low"] <= truth) & (truth <= table["ci_high"])).mean())


@pytest.mark.parametrize("kind", ["nps", "csat", "ces"])
def test_repeated_answers_intervals_cover_by_simulation(kind):
    # each customer's own distribution over the scale (Dirichlet 0.5): answers strongly alike
    lo, hi = cxkit.data.SURVEY_SCALES[kind]
    alpha = np.full(hi - lo + 1, 0.5)
    answers, levels, probs = _repeated_answers(kind, alpha)
    if kind == "nps":
        truth = 100 * (probs[levels >= 9].sum() - probs[levels <= 6].sum())
        fn = nps
    elif kind == "csat":
        truth = 100 * probs[levels >= 4].sum()
        fn = csat
    else:
        truth = float((levels * probs).sum())
        fn = ces
    naive = fn(answers, by="rep", clustered=False)
    fixed = fn(answers, by="rep")
    assert fixed.attrs["clustered"] and not naive.attrs["clustered"]
    assert _coverage(naive, truth) < 0.85  # answers taken as independent under-cover
    # 1,000 replicates: the standard error of a 95% coverage is 0.7 points
    assert _coverage(fixed, truth) == pytest.approx(0.95, abs=0.02)
    pd.testing.assert_series_equal(fixed[kind], naive[kind])  # the estimate is unchanged


def test_clustered_variance_matches_the_sandwich_by_hand():
    # CSAT: customer a answers 5, 5, 5; b 1, 1, 1; c 4 (one answer). p = 4/7.
    rows = [("a", d, "csat", 5, "x") for d in range(3)]
    rows += [("b", d, "csat", 1, "x") for d in range(3)] + [("c", 0, "csat", 4, "x")]
    answers = _surveys(rows)
    t = csat(answers).iloc[0]
    p, n = 4 / 7, 7
    # cluster-robust (CR1) variance of a ratio mean: C/(C-1) * sum_i (S_i - p m_i)^2 / n^2
    var = 3 / 2 * ((3 - 3 * p) ** 2 + (0 - 3 * p) ** 2 + (1 - p) ** 2) / n**2
    n_eff = p * (1 - p) / var  # 1.675 answers' worth, not 7
    assert n_eff == pytest.approx(1.6752, abs=1e-4)
    # Wilson at n_eff answers (not whole counts, so by hand)
    z = stats.norm.ppf(0.975)
    centre = (p + z**2 / (2 * n_eff)) / (1 + z**2 / n_eff)
    half = z * np.sqrt(p * (1 - p) / n_eff + z**2 / (4 * n_eff**2)) / (1 + z**2 / n_eff)
    assert (t["ci_low"], t["ci_high"]) == pytest.approx(
        (100 * (centre - half), 100 * (centre + half))
    )
    naive = csat(answers, clustered=False).iloc[0]
    wilson = stats.binomtest(4, 7).proportion_ci(method="wilson")
    assert (naive["ci_low"], naive["ci_high"]) == pytest.approx(
        (100 * wilson.low, 100 * wilson.high)
    )
    # CES mean: scores 5,5,5 / 1,1,1 / 4 -> clustered standard error, C - 1 = 2 df
    ces_rows = [(c, d, "ces", s, "x") for c, d, _, s, _ in rows]
    e = ces(_surveys(ces_rows)).iloc[0]
    mean = 22 / 7
    var = 3 / 2 * ((15 - 3 * mean) ** 2 + (3 - 3 * mean) ** 2 + (4 - mean) ** 2) / n**2
    half = stats.t.ppf(0.975, 2) * np.sqrt(var)
    assert (e["ci_low"], e["ci_high"]) == pytest.approx((mean - half, mean + half))
    # one answer per customer: the plain intervals, exactly
    once = _surveys([(str(i), 0, "csat", s, "x") for i, s in enumerate([5, 5, 1, 4, 2])])
    assert not csat(once).attrs["clustered"]
    pd.testing.assert_frame_equal(csat(once), csat(once, clustered=False), check_exact=True)


def test_clustered_interval_when_every_answer_agrees_uses_kish():
    # 2 customers, answers all satisfied: no spread, so n_eff = (sum m)^2 / sum m^2 = 100/52
    rows = [("a", d, "csat", 5, "x") for d in range(6)] + [
        ("b", d, "csat", 4, "x") for d in range(4)
    ]
    t = csat(_surveys(rows)).iloc[0]
    n_eff = 100 / 52
    z = stats.norm.ppf(0.975)
    low = 1 / (1 + z**2 / n_eff)  # Wilson lower bound at p = 1
    assert t["ci_low"] == pytest.approx(100 * low) and t["ci_high"] == pytest.approx(100)


def test_journey_map_leaves_empty_cells_unshaded(sample):
    from cxkit.experience import journey_map
    from cxkit.plots import plot_journey_map

    table = journey_map(sample)
    ax = plot_journey_map(table)
    shade = ax.images[0].get_array()
    nps_row = list(ax.get_yticks()).index(len(ax.get_yticks()) - 1)  # NPS is the last row
    known = np.isfinite(table["nps"].to_numpy(float))
    assert known.sum() == 1  # the sample asks NPS at one stage only
    assert shade.mask[nps_row][~known].all()  # its other cells are not coloured
    assert not shade.mask[nps_row][known].any()

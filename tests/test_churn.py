"""Churn prediction: leakage, exact labels and features on hand cases, honest evaluation,
recovery of the simulator's planted drivers, bad input, plots."""

import dataclasses
import io
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cxkit.churn import (
    calibration_table,
    campaign_value,
    churn_dataset,
    compare_models,
    driver_importance,
    drivers_in_words,
    feature_catalogue,
    gains_table,
    score,
)
from cxkit.churn.models import _metrics
from cxkit.data import DataError, Journey
from cxkit.data.spec import Spec

T0 = pd.Timestamp("2024-01-01")
OBSERVED = pd.Timestamp("2024-12-31")


def journey_of(events, customers, surveys=None, observed_at=OBSERVED):
    ev = pd.DataFrame(events, columns=["customer_id", "timestamp", "event", "channel", "value"])
    ev["timestamp"] = pd.to_datetime(ev["timestamp"], format="mixed")
    for c in ("customer_id", "event", "channel"):
        ev[c] = ev[c].astype("category")
    ev = ev.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)
    cu = pd.DataFrame(
        customers, columns=["customer_id", "signup_at", "churned_at", "plan", "loyalty_tier"]
    )
    cu["signup_at"] = pd.to_datetime(cu["signup_at"])
    cu["churned_at"] = pd.to_datetime(cu["churned_at"])
    cu["plan"] = cu["plan"].astype("category")
    cu["loyalty_tier"] = cu["loyalty_tier"].astype("category")
    su = pd.DataFrame(surveys or [], columns=["customer_id", "timestamp", "survey", "score"])
    su["timestamp"] = pd.to_datetime(su["timestamp"])
    su["customer_id"] = su["customer_id"].astype(object)
    su["score"] = su["score"].astype("int64")
    return Journey(ev, cu, su, pd.Timestamp(observed_at))


def hand_journey():
    customers = [
        # id, signup, churned, plan, loyalty (as of extraction)
        ("a", "2024-01-10", None, "monthly", "gold"),
        ("b", "2024-02-01", "2024-03-15", "annual", "bronze"),  # churns in (Mar 1, Mar 31]
        ("c", "2024-02-20", "2024-02-25", "monthly", "bronze"),  # churned before Mar 1
        ("d", "2024-03-01", None, "annual", "silver"),  # signs up at the cutoff
        ("e", "2024-04-05", None, "monthly", "bronze"),  # signs up after
        ("f", "2024-01-15", "2024-03-01", "monthly", "gold"),  # churns exactly at cutoff
    ]
    events = [
        ("a", "2024-01-10 10:00", "purchase", "web", 20.0),
        ("a", "2024-01-20", "app_login", "app", np.nan),
        ("a", "2024-02-10", "app_login", "app", np.nan),
        ("a", "2024-02-20", "support_ticket", "support", np.nan),
        ("a", "2024-02-29 23:00", "app_login", "app", np.nan),
        ("a", "2024-03-01", "app_login", "app", np.nan),  # at the cutoff: not used
        ("b", "2024-02-01", "purchase", "web", 50.0),
        ("b", "2024-02-15", "app_login", "app", np.nan),
        ("p", "2024-02-15", "site_visit", "web", np.nan),  # a prospect
    ]
    surveys = [
        ("a", "2024-02-01", "nps", 9),
        ("a", "2024-02-25", "nps", 3),
        ("a", "2024-03-02", "nps", 10),
        ("b", "2024-02-10", "csat", 4),
    ]
    return journey_of(events, customers, surveys)


def test_rows_labels_and_features_on_a_hand_case():
    j = hand_journey()
    with pytest.warns(UserWarning, match="loyalty_tier"):
        X, y = churn_dataset(j, ["2024-03-01"], lookback="60D", horizon="30D")
    # rows: signed up strictly before the cutoff and not churned by it
    assert list(X.index.get_level_values("customer_id")) == ["a", "b"]
    assert y.tolist() == [0.0, 1.0]
    a = X.xs("a", level="customer_id").iloc[0]
    assert a["tenure_days"] == 51
    assert a["recency_days"] == pytest.approx(1 / 24)
    assert a["n_app_login_60d"] == 3 and a["n_app_login_30d"] == 2
    # trend: (2 per 30 days) / (3 per 51 days of tenure)
    assert a["trend_app_login"] == pytest.approx((2 / 30) / (3 / 51))
    assert a["n_channel_app_60d"] == 3 and a["support_contacts_30d"] == 1
    assert a["spend_60d"] == 20 and a["spend_30d"] == 0
    assert a["nps_latest"] == 3 and a["nps_detractor"] == 1 and a["days_since_nps"] == 5
    assert np.isnan(a["csat_latest"])
    assert "loyalty_tier" not in X.columns and X["plan"].tolist() == ["monthly", "annual"]
    b = X.xs("b", level="customer_id").iloc[0]
    assert b["csat_latest"] == 4 and np.isnan(b["nps_latest"])
    per = pd.DataFrame(X.attrs["per_cutoff"]).iloc[0]
    assert (per["rows"], per["not_signed_up_yet"], per["churned_before"]) == (2, 2, 2)


def test_trend_counts_only_events_after_signup():
    """Signup 45 days before the cutoff, one login every 5 days since (a steady rate), and ten
    logins on the web before signup: the trend is 1, not pulled down by the earlier visits."""
    customers = [
        ("a", "2024-01-16", None, "monthly", "gold"),
        ("b", "2024-01-01", None, "annual", "gold"),
    ]
    cutoff = pd.Timestamp("2024-03-01")
    events = [
        ("a", cutoff - pd.Timedelta(days=d), "app_login", "app", np.nan) for d in range(5, 46, 5)
    ]
    events += [
        ("a", cutoff - pd.Timedelta(days=60 + d), "app_login", "web", np.nan) for d in range(10)
    ]
    events += [("b", cutoff - pd.Timedelta(days=d), "app_login", "app", np.nan) for d in (3, 40)]
    j = journey_of(events, customers)
    X, _ = churn_dataset(j, [cutoff], lookback="90D", horizon="30D", static=["plan"])
    a = X.xs("a", level="customer_id").iloc[0]
    assert a["tenure_days"] == 45 and a["n_app_login_90d"] == 19  # counts keep the browsing
    assert a["n_app_login_30d"] == 6
    # 6 logins in 30 days against 9 in the 45 days since signup: steady (before: 6/30 ÷ 19/45)
    assert a["trend_app_login"] == pytest.approx((6 / 30) / (9 / 45)) == 1.0
    b = X.xs("b", level="customer_id").iloc[0]
    assert b["trend_app_login"] == pytest.approx((1 / 30) / (2 / 60))


def test_event_names_that_read_as_features_do_not_overwrite_them():
    customers = [("a", "2024-01-10", None, "monthly", "gold")]
    events = [
        ("a", "2024-02-01", "events", "web", np.nan),
        ("a", "2024-02-02", "events", "web", np.nan),
        ("a", "2024-02-03", "channel_web", "app", np.nan),
        ("a", "2024-02-04", "app_login", "app", np.nan),
    ]
    j = journey_of(events, customers)
    with pytest.warns(UserWarning, match="n_event_"):
        X, _ = churn_dataset(j, ["2024-03-01"], lookback="60D", static=["plan"])
    a = X.iloc[0]
    # all 4 events; the event called "events" 2; the web channel 2; "channel_web" events 1
    assert a["n_events_60d"] == 4 and a["n_event_events_60d"] == 2
    assert a["n_channel_web_60d"] == 2 and a["n_event_channel_web_60d"] == 1
    assert a["n_channel_app_60d"] == 2 and a["n_app_login_60d"] == 1
    assert X.attrs["renamed_events"] == {
        "events": "n_event_events_60d",
        "channel_web": "n_event_channel_web_60d",
    }
    cat = feature_catalogue(X).set_index("feature")["definition"]
    assert (
        cat["n_event_events_60d"] == "Number of 'events' events in the 60 days before the cutoff."
    )
    customers = j.customers.assign(tenure_days=[5.0])
    j2 = dataclasses.replace(j, customers=customers)
    with pytest.raises(DataError, match="(?s)static.*overwrite.*tenure_days"):
        churn_dataset(j2, ["2024-03-01"], lookback="60D", static=["plan", "tenure_days"])


def test_labels_unknown_when_horizon_passes_observed_at():
    j = hand_journey()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = churn_dataset(j, ["2024-03-01", "2024-12-15"], horizon="30D")
    late = y.xs(pd.Timestamp("2024-12-15"), level="cutoff")
    assert late.isna().all() and len(late) == 3  # a, d, e active; label unknown
    assert X.attrs["rows_unlabelled"] == 3


def test_frequency_cutoffs_and_static_choice():
    j = hand_journey()
    X, _ = churn_dataset(j, "MS", lookback="30D", static=["plan"])
    cuts = X.index.get_level_values("cutoff").unique()
    assert cuts[0] == pd.Timestamp("2024-03-01") and cuts[-1] == pd.Timestamp("2024-12-01")
    assert "n_app_login_30d" in X.columns and "trend_app_login" not in X.columns


# --- non-contractual labels: no activity of the named kinds in the horizon -----------------


def shop_journey(activity=("purchase",)):
    """A shop: no churn dates; activity is purchases (cutoff 2024-03-01, lookback 60 days from
    2024-01-01, horizon 30 days to 2024-03-31 inclusive)."""
    customers = [
        ("a", "2024-01-10", None, "monthly", "gold"),  # buys again inside the horizon
        ("b", "2024-02-01", None, "annual", "bronze"),  # only logs in after: churns
        ("c", "2023-10-01", None, "monthly", "bronze"),  # last purchase before the lookback
        ("d", "2024-03-01", None, "annual", "silver"),  # signs up at the cutoff
        ("e", "2024-02-10", None, "monthly", "bronze"),  # next purchase after the horizon
        ("f", "2023-12-01", None, "monthly", "gold"),  # purchases exactly on both edges
    ]
    events = [
        ("a", "2024-01-10", "purchase", "web", 20.0),
        ("a", "2024-03-01", "purchase", "web", 20.0),  # at the cutoff: neither side
        ("a", "2024-03-31", "purchase", "web", 20.0),  # last moment of the horizon
        ("b", "2024-02-01", "purchase", "web", 50.0),
        ("b", "2024-03-10", "app_login", "app", np.nan),
        ("c", "2023-12-31", "purchase", "web", 10.0),
        ("e", "2024-02-10", "purchase", "web", 10.0),
        ("e", "2024-04-01", "purchase", "web", 10.0),
        ("f", "2024-01-01", "purchase", "web", 10.0),  # first moment of the lookback
        ("f", "2024-03-31", "purchase", "web", 10.0),
    ]
    j = journey_of(events, customers)
    j.customers.attrs["churn_dates"] = False
    spec = Spec(activity=None if activity is None else list(activity), inactivity="90D")
    return dataclasses.replace(j, spec=spec)


def test_inactivity_labels_on_a_hand_case():
    j = shop_journey()
    assert j.business_model == "non-contractual"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = churn_dataset(j, ["2024-03-01"], lookback="60D", horizon="30D")
    assert list(X.index.get_level_values("customer_id")) == ["a", "b", "e", "f"]
    assert y.tolist() == [0.0, 1.0, 1.0, 0.0]
    assert X.attrs["label"] == "inactivity" and X.attrs["activity"] == ["purchase"]
    per = pd.DataFrame(X.attrs["per_cutoff"]).iloc[0]
    assert (per["rows"], per["not_signed_up_yet"], per["churned_before"]) == (4, 1, 1)
    # every event counts when the spec names no activity: b's login keeps b
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, y_all = churn_dataset(shop_journey(None), ["2024-03-01"], lookback="60D", horizon="30D")
    assert y_all.tolist() == [0.0, 0.0, 1.0, 0.0]
    # the keyword overrides the business model either way
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Xc, yc = churn_dataset(j, ["2024-03-01"], lookback="60D", label="churned_at")
    assert yc.sum() == 0 and len(Xc) == 5  # no churn dates: everyone signed up is a row
    Xi, _ = churn_dataset(hand_journey(), ["2024-03-01"], static=["plan"], label="inactivity")
    assert Xi.attrs["label"] == "inactivity"


def test_inactivity_defaults_and_unknown_labels():
    j = shop_journey()
    X, y = churn_dataset(j, ["2024-03-01", "2024-12-15"], static=["plan"])
    assert X.attrs["horizon"] == str(pd.Timedelta("90D"))  # the inactivity gap the spec states
    assert X.attrs["lookback"] == str(pd.Timedelta("90D"))  # c's December purchase counts now
    first = y.xs(pd.Timestamp("2024-03-01"), level="cutoff")
    assert first.to_dict() == {"a": 0.0, "b": 1.0, "c": 1.0, "e": 0.0, "f": 0.0}
    late = pd.DataFrame(X.attrs["per_cutoff"]).iloc[1]
    assert not late["label_known"] and late["rows"] == 0  # nobody bought in the 90 days before
    _, unknown = churn_dataset(j, ["2024-03-20"], horizon="300D", static=["plan"])
    assert len(unknown) == 5 and unknown.isna().all()  # the horizon passes observed_at
    with pytest.raises(DataError, match="business.activity"):
        churn_dataset(shop_journey(["refund"]), ["2024-03-01"], static=["plan"])
    with pytest.raises(DataError, match="'label'"):
        churn_dataset(j, ["2024-03-01"], label="cancelled")


# --- leakage: nothing at or after the cutoff changes any feature ---------------------------

EVENT_TYPES = ["app_login", "support_ticket", "purchase", "email_open", "brand_new_event"]


def random_journey(seed, n=12):
    rng = np.random.default_rng(seed)
    ids = [f"c{i:02d}" for i in range(n)]
    signup = T0 + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    churn = [
        s + pd.Timedelta(days=int(d)) if rng.random() < 0.6 else None
        for s, d in zip(signup, rng.integers(1, 300, n), strict=False)
    ]
    churn = [c if c is None or c < OBSERVED else None for c in churn]
    customers = [
        (i, s, c, rng.choice(["monthly", "annual"]), rng.choice(["gold", "bronze"]))
        for i, s, c in zip(ids, signup, churn, strict=False)
    ]
    m = 150
    who = rng.integers(0, n, m)
    when = T0 + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, m), unit="min")
    kind = rng.choice(EVENT_TYPES[:4], m)
    events = [
        (
            ids[w],
            t,
            k,
            "app" if k == "app_login" else "web",
            float(rng.integers(5, 50)) if k == "purchase" else np.nan,
        )
        for w, t, k in zip(who, when, kind, strict=False)
    ]
    surveys = [
        (ids[w], T0 + pd.Timedelta(days=int(d)), s, int(rng.integers(0, 6)))
        for w, d, s in zip(
            rng.integers(0, n, 40),
            rng.integers(0, 365, 40),
            rng.choice(["nps", "csat"], 40),
            strict=False,
        )
    ]
    return customers, events, surveys


def features(customers, events, surveys, cutoffs, label=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, _ = churn_dataset(
            journey_of(events, customers, surveys),
            cutoffs,
            lookback="90D",
            horizon="30D",
            label=label,
        )
    return X


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    cut_day=st.integers(120, 330),
    add=st.lists(
        st.tuples(st.integers(0, 11), st.integers(0, 60 * 24 * 30), st.sampled_from(EVENT_TYPES)),
        max_size=8,
    ),
    delete_after=st.booleans(),
    change_scores=st.booleans(),
    move_churn=st.booleans(),
    relabel_loyalty=st.booleans(),
    new_answers=st.integers(0, 4),
)
def test_nothing_after_the_cutoff_changes_a_feature(
    seed, cut_day, add, delete_after, change_scores, move_churn, relabel_loyalty, new_answers
):
    customers, events, surveys = random_journey(seed)
    cutoff = T0 + pd.Timedelta(days=cut_day)
    cutoffs = [cutoff - pd.Timedelta(days=45), cutoff]
    # cutoffs must follow the first signup (else churn_dataset refuses them, rightly)
    assume(min(pd.Timestamp(c[1]) for c in customers) < cutoffs[0])
    before = features(customers, events, surveys, cutoffs)

    ids = [c[0] for c in customers]
    ev2 = [e for e in events if not (delete_after and e[1] >= cutoff)]
    ev2 += [
        (ids[i], cutoff + pd.Timedelta(minutes=m), k, "new_channel", 9.0) for i, m, k in add
    ]  # at or after the cutoff, new event types and channels too
    su2 = [
        (c, t, s, (10 - v) % 6 if change_scores and t >= cutoff else v) for c, t, s, v in surveys
    ]
    su2 += [(ids[i], cutoff + pd.Timedelta(hours=i), "nps", 0) for i in range(new_answers)]
    cu2 = []
    for cid, s, ch, plan, tier in customers:
        if move_churn and (ch is None or ch > cutoff):  # churn after the cutoff: any date
            ch = cutoff + pd.Timedelta(days=3) if ch is None else None
        cu2.append((cid, s, ch, plan, "platinum" if relabel_loyalty else tier))
    after = features(cu2, ev2, su2, cutoffs)
    pd.testing.assert_frame_equal(before, after, check_categorical=False)


def test_changes_between_cutoffs_leave_the_earlier_cutoff_alone():
    customers, events, surveys = random_journey(3)
    c1, c2 = pd.Timestamp("2024-06-01"), pd.Timestamp("2024-08-01")
    before = features(customers, events, surveys, [c1, c2]).xs(c1, level="cutoff")
    extra = [
        (c[0], c1 + pd.Timedelta(days=5), "support_ticket", "support", np.nan) for c in customers
    ]
    after = features(customers, events + extra, surveys, [c1, c2]).xs(c1, level="cutoff")
    common = before.columns.intersection(after.columns)
    pd.testing.assert_frame_equal(before[common], after[common], check_categorical=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    cut_day=st.integers(120, 330),
    add=st.lists(
        st.tuples(st.integers(0, 11), st.integers(0, 60 * 24 * 30), st.sampled_from(EVENT_TYPES)),
        max_size=8,
    ),
    delete_after=st.booleans(),
)
def test_inactivity_rows_and_features_ignore_the_future(seed, cut_day, add, delete_after):
    customers, events, surveys = random_journey(seed)
    customers = [(c, s, None, p, t) for c, s, _, p, t in customers]
    cutoff = T0 + pd.Timedelta(days=cut_day)
    cutoffs = [cutoff - pd.Timedelta(days=45), cutoff]
    assume(min(c[1] for c in customers) < cutoffs[0])  # cutoffs must follow the first signup
    before = features(customers, events, surveys, cutoffs, label="inactivity")
    ids = [c[0] for c in customers]
    ev2 = [e for e in events if not (delete_after and e[1] >= cutoff)]
    ev2 += [(ids[i], cutoff + pd.Timedelta(minutes=m), k, "web", 9.0) for i, m, k in add]
    after = features(customers, ev2, surveys, cutoffs, label="inactivity")
    pd.testing.assert_frame_equal(before, after, check_categorical=False)


# --- metrics against scikit-learn ------------------------------------------------------------


def test_metrics_match_sklearn_with_ties_and_weights():
    from sklearn.metrics import (
        average_precision_score,
        brier_score_loss,
        log_loss,
        roc_auc_score,
    )

    rng = np.random.default_rng(1)
    y = rng.random(500) < 0.2
    p = np.round(rng.random(500) * 0.6 + 0.3 * y, 2)  # many ties
    w = rng.integers(0, 4, (3, 500)).astype(float)
    got = _metrics(p, y, w)
    for b in range(3):
        assert got["roc_auc"][b] == pytest.approx(roc_auc_score(y, p, sample_weight=w[b]))
        assert got["pr_auc"][b] == pytest.approx(average_precision_score(y, p, sample_weight=w[b]))
        assert got["brier"][b] == pytest.approx(brier_score_loss(y, p, sample_weight=w[b]))
        assert got["log_loss"][b] == pytest.approx(log_loss(y, p, sample_weight=w[b]))
    top = np.argsort(-p, kind="stable")[:50]
    assert _metrics(p, y)["lift_at_10pct"][0] == pytest.approx(y[top].mean() / y.mean())


# --- models on a plain table -------------------------------------------------------------------


def plain_table(n=600, seed=0):
    rng = np.random.default_rng(seed)
    plan = rng.choice(["monthly", "annual", None], n, p=[0.6, 0.35, 0.05])
    tickets = rng.poisson(1.0, n).astype(float)
    tickets[rng.random(n) < 0.1] = np.nan
    logit = -1.5 + 1.2 * (plan == "monthly") + 0.6 * np.nan_to_num(tickets)
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    table = pd.DataFrame(
        {
            "customer_id": [f"id{i}" for i in range(n)],
            "signup_at": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 300, n), "D"),
            "plan": plan,
            "tickets": tickets,
            "vip": rng.random(n) < 0.1,
            "region": pd.Categorical(rng.choice(["n", "s"], n)),
            "churned": churned,
        }
    )
    table.attrs["true_logit"] = logit
    return table


def test_compare_models_on_a_plain_mixed_table():
    table = plain_table()
    with pytest.warns(UserWarning, match="customer_id"):
        res = compare_models(table, "churned", n_boot=50)
    t = res.table
    assert list(t.index) == ["logistic", "boosting"]
    assert res.evaluation_ == "5-fold cross-validation"
    from sklearn.metrics import roc_auc_score

    oracle = roc_auc_score(table["churned"], table.attrs["true_logit"])  # the true model
    assert t["n"].eq(600).all()
    assert (t["roc_auc"] > oracle - 0.06).all() and (t["roc_auc_ci_low"] < oracle).all()
    assert (t["roc_auc_ci_low"] < t["roc_auc"]).all() and (
        t["roc_auc"] < t["roc_auc_ci_high"]
    ).all()
    assert set(res.notes_["dropped_columns"]) == {"customer_id", "signup_at"}
    assert table.shape == (600, 7)  # input untouched
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = compare_models(table, "churned", n_boot=50)
    pd.testing.assert_frame_equal(
        t.drop(columns="fit_seconds"), again.table.drop(columns="fit_seconds")
    )


def _xor_table(n=2000, seed=0, strength=3.0):
    """A churn table where only an interaction matters (logistic regression cannot see it)."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    logit = -1.0 + strength * np.sign(a) * np.sign(b)
    return pd.DataFrame({"a": a, "b": b, "churned": rng.random(n) < 1 / (1 + np.exp(-logit))})


def test_model_choice_follows_the_paired_difference():
    """The simpler model is kept unless the other's advantage on the selection metric has a
    paired bootstrap interval excluding 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        linear = compare_models(plain_table(1500, seed=3).drop(columns="customer_id"), "churned")
        xor = compare_models(_xor_table(), "churned", n_boot=100)
    for res in (linear, xor):
        d, t = res.differences_, res.table
        assert list(d.index) == [
            "roc_auc",
            "pr_auc",
            "brier",
            "log_loss",
            "lift_at_10pct",
            "brier_skill",
        ]
        for m in ("roc_auc", "log_loss"):  # the point difference is the tables' difference
            assert d.loc[m, "difference"] == pytest.approx(
                t.loc["boosting", m] - t.loc["logistic", m]
            )
            assert d.loc[m, "ci_low"] < d.loc[m, "difference"] < d.loc[m, "ci_high"]
    # linear truth: boosting is not clearly better, so the simpler model ships (whatever the
    # sign of its point difference)
    assert not (linear.differences_.loc["log_loss", "clear"] and linear.best_ == "boosting")
    ll = linear.differences_.loc["log_loss"]
    assert linear.best_ == ("boosting" if ll["ci_high"] < 0 else "logistic") == "logistic"
    # an interaction only trees can see: boosting clearly better, and chosen
    ll = xor.differences_.loc["log_loss"]
    assert ll["ci_high"] < 0 and ll["clear"] and xor.best_ == "boosting"
    assert xor.differences_.loc["roc_auc", "ci_low"] > 0.1
    # without replicates nothing is clear: the simpler model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = compare_models(_xor_table(600), "churned", n_boot=0)
    assert plain.best_ == "logistic" and plain.differences_["ci_low"].isna().all()


def test_importance_interval_includes_permutation_noise():
    """With every held-out row from one customer, the bootstrap over customers cannot vary;
    the interval must still be as wide as the permutations disagree."""
    table = _xor_table(800, seed=1).assign(noise=np.random.default_rng(2).normal(size=800))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = compare_models(table, "churned", n_boot=0, n_splits=3)
    one = dataclasses.replace(res, predictions_=res.predictions_.assign(group=0))
    imp = driver_importance(one, model="boosting", n_repeats=4, n_boot=20).set_index("family")
    assert (imp["ci_high"] - imp["ci_low"] > 1e-4).all()  # before: zero width
    centre = (imp["ci_low"] + imp["ci_high"]) / 2
    assert np.allclose(centre, imp["importance"])  # normal interval around the mean drop
    assert imp.loc["a", "ci_low"] > 0 and imp.loc["b", "ci_low"] > 0  # the interaction
    assert "permutations" in imp.attrs["interval"]


def test_logistic_baseline_logs_only_skewed_numbers():
    """A per-call risk and a signed balance act linearly; only spend is long-tailed. A signed
    log on every column bent the linear ones (ROC AUC 0.780 against the true model's 0.791)."""
    from sklearn.metrics import roc_auc_score

    from cxkit.churn.models import _SkewedLog

    rng = np.random.default_rng(0)
    n = 5000
    calls = rng.poisson(1.5, n).astype(float)
    minutes = rng.normal(180, 55, n).clip(0)
    balance = rng.normal(0, 3, n)
    spend = rng.lognormal(3, 1, n)
    logit = -4.7 + 0.55 * calls + 0.012 * (minutes - 180) + 0.25 * balance
    logit += 0.5 * np.log1p(spend)
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    X = pd.DataFrame({"calls": calls, "minutes": minutes, "balance": balance, "spend": spend})
    step = _SkewedLog().fit(X.assign(flag=(calls > 3).astype(float)))
    assert step.log_.tolist() == [False, False, False, True, False]  # 0/1 columns stay
    res = compare_models(X.assign(churned=churned), "churned", n_boot=0)
    oracle = roc_auc_score(churned, logit)
    assert res.table.loc["logistic", "roc_auc"] > oracle - 0.005


@pytest.mark.parametrize(
    "case, match",
    [
        ("one_class", "one class"),
        ("missing", "missing"),
        ("not_binary", "0/1"),
    ],
)
def test_bad_targets(case, match):
    table = plain_table(100)
    if case == "one_class":
        table["churned"] = False
    elif case == "missing":
        table["churned"] = table["churned"].astype(float)
        table.loc[3, "churned"] = np.nan
    else:
        table["churned"] = table["churned"].astype(int) * 2
    with pytest.raises(DataError, match=match) as err:
        compare_models(table.drop(columns=["customer_id"]), "churned")
    assert "column 'y'" in str(err.value)


def test_a_yes_no_target_is_read_with_a_note():
    table = plain_table(300).drop(columns=["customer_id"])
    yes_no = table.assign(churned=np.where(table["churned"], " Yes", "No"))
    with pytest.warns(UserWarning, match="churn = 'Yes', not churn = 'No'"):
        res = compare_models(yes_no, "churned", n_boot=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = compare_models(
            table.assign(churned=table["churned"].astype(int)), "churned", n_boot=0
        )
    assert res.notes_["target"] == "target labels read as churn = 'Yes', not churn = 'No'"
    assert res.table["roc_auc"].tolist() == ref.table["roc_auc"].tolist()
    assert res.y_.tolist() == table["churned"].astype(float).tolist()
    left = table.assign(churned=pd.Categorical(np.where(table["churned"], "Left", "Stayed")))
    with pytest.warns(UserWarning, match="'Left'"):
        compare_models(left, "churned", n_boot=0)
    # two labels neither of which reads as churn: refused, showing both
    ab = table.assign(churned=np.where(table["churned"], "A", "B"))
    with pytest.raises(DataError, match=r"labels \['A', 'B'\]|labels \['B', 'A'\]"):
        compare_models(ab, "churned", n_boot=0)
    three = table.assign(churned=np.where(table["churned"], "yes", "no"))
    three.loc[:4, "churned"] = "maybe"
    with pytest.raises(DataError, match="maybe") as err:
        compare_models(three, "churned", n_boot=0)
    assert "'no'" in str(err.value) and "'yes'" in str(err.value)  # the labels it has


def test_a_plain_table_model_scores_new_rows():
    table = plain_table(600)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = compare_models(table, "churned", n_boot=0)
    new = table.drop(columns=["churned"]).iloc[:50].copy()
    p = res.predict_proba(new)
    assert p.name == "churn_probability" and p.index.equals(new.index)
    # the same as the fitted pipeline on the prepared training rows
    ref = res.model_.predict_proba(res.X_.iloc[:50])[:, 1]
    np.testing.assert_allclose(p.to_numpy(), ref)
    assert new.shape == (50, 6)  # input untouched
    odd = new.assign(plan=["weekly"] + list(new["plan"].iloc[1:]))
    with pytest.warns(UserWarning, match="never saw.*'plan': 1"):
        res.predict_proba(odd)
    with pytest.raises(DataError, match="tickets"):
        res.predict_proba(new.drop(columns=["tickets"]))
    with pytest.raises(DataError, match=r"(?s)'tickets'.*infinite"):
        res.predict_proba(new.assign(tickets=np.inf))


def test_infinite_features_are_named_before_scikit_learn():
    table = plain_table(300).drop(columns=["customer_id"])
    table["ratio"] = 1.0
    table.loc[[4, 9], "ratio"] = np.inf
    table.loc[12, "ratio"] = -np.inf
    with pytest.raises(DataError, match=r"(?s)'ratio'.*infinite.*3 row.*'4', '9', '12'") as err:
        compare_models(table, "churned", n_boot=0)
    assert "NaN" in str(err.value)  # the fix is named


def test_bad_dataset_arguments():
    j = hand_journey()
    with pytest.raises(DataError, match="'cutoffs'"):
        churn_dataset(j, ["2025-06-01"])
    with pytest.raises(DataError, match="'cutoffs'"):
        churn_dataset(j, ["2023-01-01"])
    with pytest.raises(DataError, match="'lookback'"):
        churn_dataset(j, ["2024-03-01"], lookback="12h")
    with pytest.raises(DataError, match="'horizon'"):
        churn_dataset(j, ["2024-03-01"], horizon="soon")
    with pytest.raises(DataError, match="'static'"):
        churn_dataset(j, ["2024-03-01"], static=["shoe_size"])
    # bare numbers would be nanoseconds (horizon=30 used to give 0 % churn): refused
    with pytest.raises(DataError, match="'horizon'.*bare number 30"):
        churn_dataset(j, ["2024-03-01"], horizon=30)
    with pytest.raises(DataError, match="'lookback'.*bare number 90"):
        churn_dataset(j, ["2024-03-01"], lookback=90)
    with pytest.raises(DataError, match="'recent'.*positive"):
        churn_dataset(j, ["2024-03-01"], recent="-5D")
    with pytest.raises(DataError, match="'journey'.*cxkit.Journey.*got DataFrame") as err:
        churn_dataset(j.events, "MS")
    assert "cxkit.read_journey" in str(err.value) and "load_sample" in str(err.value)
    # a Timedelta and a day string give the same table
    a, ya = churn_dataset(j, ["2024-03-01"], horizon=pd.Timedelta(days=30), static=["plan"])
    b, yb = churn_dataset(j, ["2024-03-01"], horizon="30D", static=["plan"])
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_series_equal(ya, yb)


def test_compare_models_refuses_an_empty_table():
    table = plain_table(100).drop(columns=["customer_id"])
    with pytest.raises(DataError, match="'X'.*empty"):
        compare_models(table.iloc[:0], "churned")
    with pytest.raises(DataError, match="'X'.*empty"):
        compare_models(table.iloc[:0].drop(columns="churned"), table["churned"].iloc[:0])


def test_campaign_value_by_hand():
    cv = campaign_value(
        [0.9, 0.6, 0.2, 0.1],
        [1, 1, 0, 0],
        contact_cost=2,
        offer_cost=8,
        offer_success=0.5,
        customer_value=100,
    )
    # contacting k customers: 50 per churner reached, 10 per contact (stayers pay the offer too)
    assert cv["profit"].tolist() == [0, 40, 80, 70, 60]
    assert cv.attrs["best"] == {"n_contacted": 2, "pct_contacted": 50.0, "profit": 80.0}
    expected = campaign_value(
        [0.9, 0.6], contact_cost=2, offer_cost=8, offer_success=0.5, customer_value=[100, 10]
    )
    assert expected["profit"].tolist() == pytest.approx([0, 35, 28])
    with pytest.raises(DataError, match="'offer_success'"):
        campaign_value([0.5], contact_cost=1, offer_cost=1, offer_success=2, customer_value=1)


def test_campaign_value_takes_score_tables_and_refuses_text():
    money = dict(contact_cost=2, offer_cost=8, offer_success=0.5, customer_value=100)
    scores = pd.DataFrame(
        {"customer_id": list("abcd"), "churn_probability": [0.9, 0.6, 0.2, 0.1], "risk_rank": 1}
    )
    cv = campaign_value(scores, [1, 1, 0, 0], **money)  # a score() table: its probabilities
    assert cv["profit"].tolist() == [0, 40, 80, 70, 60]
    with pytest.raises(DataError, match="'scores'.*churn_probability"):
        campaign_value(scores.drop(columns="churn_probability"), **money)
    with pytest.raises(DataError, match="'scores'.*numbers"):
        campaign_value(["0.9", "high"], **money)
    for arg, bad in [
        ("contact_cost", "1"),
        ("offer_cost", None),
        ("offer_success", "0.5"),
        ("contact_cost", True),
        ("offer_cost", -1),
    ]:
        with pytest.raises(DataError, match=f"'{arg}'"):
            campaign_value([0.5], **{**money, arg: bad})
    with pytest.raises(DataError, match="'customer_value'.*numbers"):
        campaign_value([0.5], **{**money, "customer_value": "100"})
    with pytest.raises(DataError, match=r"'customer_value'.*one per customer \(2\)"):
        campaign_value([0.5, 0.4], **{**money, "customer_value": [1, 2, 3]})
    with pytest.raises(DataError, match="'y'.*0/1"):
        campaign_value([0.5, 0.4], [1, 2], **money)


# --- on the simulator's sample ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_fit(sample):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = churn_dataset(sample, "MS")
    return X, y, compare_models(X, y, n_boot=100)


def test_out_of_time_never_trains_on_the_future(sample_fit):
    X, y, res = sample_fit
    cut = X.index.get_level_values("cutoff")
    horizon = pd.Timedelta(X.attrs["horizon"])
    assert res.evaluation_ == "out of time" and len(res.folds_) == 5
    for split in res.folds_:
        assert (cut[split["test"]] == split["cutoff"]).all()
        assert (cut[split["train"]] + horizon <= split["cutoff"]).all()
        assert y.iloc[split["train"]].notna().all() and y.iloc[split["test"]].notna().all()
    assert res.notes_["rows_unlabelled"] == int(y.isna().sum()) > 0


def test_models_beat_the_base_rate(sample_fit):
    _, _, res = sample_fit
    t = res.table
    assert (t["roc_auc_ci_low"] > 0.55).all()  # a base-rate predictor has AUC 0.5
    assert (t["brier_skill_ci_low"] > 0).all()  # paired with each split's training base rate
    assert (t["lift_at_10pct_ci_low"] > 1.2).all()


def test_planted_drivers_rank_at_the_top(sample_fit, sample_truth):
    """The families that carry the simulator's planted drivers are exactly the top of the
    held-out importances of gradient boosting, each clearly above zero; families without an
    effect are not. The chosen model (logistic regression: boosting is not clearly better on
    the sample) finds every planted family too; it reads part of the engagement effect from
    the overall activity counts, which sum the engagement events (a linear model cannot tell
    a sum from its parts), so "overall activity" joins them."""
    _, _, res = sample_fit
    planted = {d["feature_family"] for d in sample_truth["churn"]["drivers"]}
    trees = driver_importance(res, model="boosting", n_boot=100, n_repeats=2)
    trees = trees.set_index("family")
    assert set(trees.index[: len(planted)]) == planted
    assert (trees.loc[list(planted), "ci_low"] > 0).all()
    assert (trees.loc[["region", "device"], "ci_low"] <= 0).all()
    assert res.best_ == "logistic"
    imp = driver_importance(res, n_boot=100, n_repeats=2).set_index("family")
    clear = set(imp.index[imp["ci_low"] > 0])
    assert planted <= clear and clear - planted <= {"activity"}
    assert (imp.loc[["region", "device", "browsing"], "ci_low"] <= 0).all()
    assert drivers_in_words(imp.reset_index())[0].startswith("Plan")


def test_score_needs_a_journey_and_a_moment(sample, sample_fit):
    res = sample_fit[2]
    with pytest.raises(DataError, match="'journey'.*got DataFrame"):
        score(sample.events, res)
    with pytest.raises(DataError, match="'at'.*number"):
        score(sample, res, at=20)


def test_score_today_and_diagnostics(sample, sample_fit):
    X, y, res = sample_fit
    s = score(sample, res)
    active = sample.customers["churned_at"].isna() | (
        sample.customers["churned_at"] > sample.observed_at
    )
    active &= sample.customers["signup_at"] < sample.observed_at
    assert len(s) == active.sum() and s["customer_id"].is_unique
    assert s["churn_probability"].between(0, 1).all()
    assert s["churn_probability"].is_monotonic_decreasing
    assert (s["reason_1"] != "").mean() > 0.9
    cal = calibration_table(res)
    assert (cal.groupby("model")["n"].sum() == res.table["n"].iloc[0]).all()
    g = gains_table(res)
    assert g.groupby("model")["pct_churners_reached"].max().eq(100).all()
    cat = feature_catalogue(X)
    assert cat["feature"].tolist() == list(X.columns)
    assert not cat["definition"].eq("User-supplied column.").any()


def test_result_tables_export_to_parquet(sample, sample_fit):
    """attrs stay JSON-serialisable (pandas writes them into Parquet metadata); settings read
    back from them still work."""
    X, y, res = sample_fit
    s = score(sample, res)
    cv = campaign_value(s, contact_cost=1, offer_cost=5, offer_success=0.3, customer_value=300)
    for t in [
        X.head(50),
        y.head(50).to_frame(),
        s,
        cv,
        calibration_table(res),
        gains_table(res),
        driver_importance(res, n_boot=10, n_repeats=1),
        res.table,
        feature_catalogue(X),
    ]:
        t.to_parquet(io.BytesIO())
    assert pd.Timedelta(X.attrs["horizon"]) == pd.Timedelta("30D")
    assert pd.Timestamp(X.attrs["per_cutoff"][0]["cutoff"]) == X.index.levels[1].min()
    assert cv.attrs["best"]["n_contacted"] == int(cv["profit"].idxmax())


def test_plots_return_the_axes_they_were_given(sample_fit):
    import matplotlib.pyplot as plt

    from cxkit import plots

    _, _, res = sample_fit
    imp = driver_importance(res, n_boot=20, n_repeats=1)
    cv = campaign_value(
        res.predictions_["p_boosting"],
        res.predictions_["churned"],
        contact_cost=1,
        offer_cost=5,
        offer_success=0.3,
        customer_value=300,
    )
    for fn, data in [
        (plots.plot_roc_pr, res),
        (plots.plot_calibration, res),
        (plots.plot_gains, res),
        (plots.plot_importance, imp),
        (plots.plot_campaign_value, cv),
    ]:
        _, ax = plt.subplots()
        assert fn(data, ax=ax) is ax
        assert ax.get_title()
    _, ax = plt.subplots()
    assert plots.plot_roc_pr(res, curve="pr", ax=ax) is ax


def test_import_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, cxkit; cxkit.churn_dataset; "
        "print(any(m.startswith(('sklearn', 'matplotlib', 'scipy')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_contact_list_is_the_profitable_top_of_the_ranking():
    from cxkit.churn.actions import contact_list

    p = np.array([0.9, 0.6, 0.5, 0.2, 0.05])
    scores = pd.DataFrame(
        {
            "customer_id": list("abcde"),
            "churn_probability": p,
            "risk_rank": np.arange(1, 6),
            "reason_1": ["few logins"] * 5,
        }
    )
    money = {"contact_cost": 1, "offer_cost": 4, "offer_success": 0.5, "customer_value": 30}
    money["currency"] = "EUR"
    # gains by hand: 0.9*0.5*30-5 = 8.5, 4.0, 2.5, -2.0, -4.25 -> contact a, b, c
    got = contact_list(scores, money)
    assert got["customer_id"].tolist() == ["a", "b", "c"]
    assert got["expected_gain"].tolist() == [8.5, 4.0, 2.5]
    best = campaign_value(p, contact_cost=1, offer_cost=4, offer_success=0.5, customer_value=30)
    assert got["expected_gain"].sum() == pytest.approx(best.attrs["best"]["profit"])
    assert set(got["currency"]) == {"EUR"} and got["reason_1"].tolist() == ["few logins"] * 3
    nothing = contact_list(scores, {**money, "offer_cost": 50})
    assert nothing.empty and "expected_gain" in nothing.columns


def _predictions(*folds):
    """A hand-made ``predictions_`` frame: one (probabilities, outcomes) pair per fold."""
    rows = [
        pd.DataFrame({"p_logistic": p, "churned": y, "fold": i}) for i, (p, y) in enumerate(folds)
    ]
    pr = pd.concat(rows, ignore_index=True)
    return dataclasses.make_dataclass("R", ["predictions_", "best_"])(pr, "logistic")


def test_campaign_depth_is_chosen_on_the_earlier_month_and_scored_on_the_last():
    from cxkit.churn import pipeline

    result = _predictions(
        ([0.9, 0.1], [0, 0]),  # the first month: best not to contact anyone (not used)
        ([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]),  # profits 0, 45, 90, 85, 80: best 50%
        ([0.9, 0.8, 0.7, 0.6, 0.5, 0.1], [1, 0, 0, 1, 1, 1]),  # 0, 45, 40, 35, 80, 125, 170
    )
    money = {"contact_cost": 1, "offer_cost": 4, "offer_success": 0.5, "customer_value": 100}
    held_out, _ = pipeline.campaign_tables(result, None, money)
    chosen = held_out.attrs["chosen"]
    assert chosen["pct_contacted"] == 50 and chosen["n_contacted"] == 3
    assert chosen["profit"] == pytest.approx(35.0) and chosen["chosen_on"] == 4
    assert held_out.attrs["in_sample_best"]["profit"] == pytest.approx(170.0)
    assert held_out.attrs["in_sample_best"]["pct_contacted"] == 100
    assert chosen["ci_low"] <= 35.0 <= chosen["ci_high"] and chosen["n_boot"] == 500
    one, _ = pipeline.campaign_tables(_predictions(([0.9, 0.1], [1, 0])), None, money)
    assert one.attrs["chosen"] is None and one.attrs["in_sample_best"]["n_contacted"] == 1


def test_profit_interval_matches_a_plain_bootstrap_and_is_seeded():
    from cxkit.churn.evaluate import profit_interval

    rng = np.random.default_rng(3)
    p = rng.uniform(size=300)
    y = (rng.uniform(size=300) < p).astype(int)
    value = rng.uniform(50, 150, size=300)
    money = dict(contact_cost=1, offer_cost=4, offer_success=0.5, customer_value=value)
    got = profit_interval(p, y, pct_contacted=20, n_boot=4000, **money)
    assert got == profit_interval(p, y, pct_contacted=20, n_boot=4000, **money)
    # a plain bootstrap: resample rows, contact the riskiest 60 of the resample
    idx = np.random.default_rng(9).integers(0, 300, size=(4000, 300))
    ranked = np.take_along_axis(idx, np.argsort(-p[idx], axis=1, kind="stable"), axis=1)
    top = ranked[:, :60]
    ref = (y[top] * 0.5 * value[top]).sum(axis=1) - 60 * 5
    lo, hi = np.quantile(ref, [0.025, 0.975])
    order = np.argsort(-p)[:60]
    assert got["profit"] == pytest.approx((y[order] * 0.5 * value[order]).sum() - 300)
    assert got["ci_low"] == pytest.approx(lo, abs=0.1 * (hi - lo))
    assert got["ci_high"] == pytest.approx(hi, abs=0.1 * (hi - lo))
    # every contacted customer churns and is worth the same: no uncertainty
    flat = profit_interval(p, np.ones(300), pct_contacted=10, **{**money, "customer_value": 30})
    assert flat["ci_low"] == flat["ci_high"] == flat["profit"] == pytest.approx(30 * (15 - 5))


def test_remaining_months_on_exponential_lifetimes_match_the_closed_form():
    from cxkit.churn.pipeline import _MONTH, remaining_months
    from cxkit.retention import kaplan_meier

    rng = np.random.default_rng(12)
    n, mean_days = 40_000, 200.0
    life = rng.exponential(mean_days, n)
    followed = rng.uniform(0, 700, n)  # staggered signups, observation ends for all on one day
    table = pd.DataFrame({"duration_days": np.minimum(life, followed), "churned": life < followed})
    curve = kaplan_meier(table)
    keep = np.exp(-_MONTH / mean_days)  # memoryless: the same for every tenure
    for rate in (0.0, 0.1):
        d = (1 + rate) ** (-1 / 12)
        truth = sum((keep * d) ** m for m in range(12))
        got = remaining_months(curve, [0, 30, 200, 400], discount_rate=rate)
        np.testing.assert_allclose(got, truth, rtol=0.02)
        # a curve followed for 300 days only: 280 days + 11 months is mostly its extension,
        # which must keep the churn rate (a flat tail would give about 12)
        short = kaplan_meier(
            table.assign(
                duration_days=np.minimum(life, followed / 2.33), churned=life < followed / 2.33
            )
        )
        tail = remaining_months(short, [280], discount_rate=rate)
        np.testing.assert_allclose(tail, truth, rtol=0.03)
    assert got[0] == pytest.approx(
        sum(curve_s * d**m for m, curve_s in enumerate(np.exp(-_MONTH * np.arange(12) / 200))),
        rel=0.01,
    )


def test_contact_list_values_each_customer_by_their_own_remaining_value():
    from cxkit.churn.actions import contact_list

    scores = pd.DataFrame(
        {
            "customer_id": list("abc"),
            "churn_probability": [0.9, 0.6, 0.3],
            "risk_rank": [1, 2, 3],
        }
    )
    money = {"contact_cost": 1, "offer_cost": 4, "offer_success": 0.5, "customer_value": 30}
    money["customer_values"] = pd.Series({"a": 10.0, "b": 100.0})  # c: the average, 30
    # gains by hand: 0.9*0.5*10-5 = -0.5, 0.6*0.5*100-5 = 25, 0.3*0.5*30-5 = -0.5
    got = contact_list(scores, money)
    assert got["customer_id"].tolist() == ["b"] and got["expected_gain"].tolist() == [25.0]


def test_campaign_plot_marks_the_depth_chosen_on_the_earlier_month():
    import matplotlib

    matplotlib.use("Agg")
    from cxkit.churn import pipeline, plots

    result = _predictions(
        ([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]),
        ([0.9, 0.8, 0.7, 0.6, 0.5, 0.1], [1, 0, 0, 1, 1, 1]),
    )
    money = {"contact_cost": 1, "offer_cost": 4, "offer_success": 0.5, "customer_value": 100}
    held_out, _ = pipeline.campaign_tables(result, None, money)
    ax = plots.plot_campaign_value(held_out)
    (note,) = ax.texts
    assert note.get_text().startswith("chosen on the month before: contact 3 (50%)")
    assert [line.get_xdata()[0] for line in ax.lines[2:]] == [100, 50]

"""Churn findings on many data shapes, without running a notebook: the sample (planted drivers
found, one chosen model named consistently), customers without churn dates (inactivity labels),
no surveys, no device/channel, 50 customers, no churners, no revenue, money from the spec."""

import dataclasses
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import cxkit
from cxkit.churn import (
    calibration_table,
    driver_importance,
    findings,
    gains_table,
    pipeline,
    tables,
)
from cxkit.data import journey_from_tables
from cxkit.data.spec import Spec

BAD = re.compile(r"\b(nan|inf|NaT|None|True|False)\b")


def texts(found):
    out = [f.plain() for f in found]
    for t in out:
        assert not BAD.search(t), t
    return " ".join(out)


def with_spec(journey, **spec):
    return dataclasses.replace(journey, spec=Spec(**spec))


def without_churn_dates(journey, **spec):
    cu = journey.customers.copy()
    cu["churned_at"] = pd.Series(pd.NaT, index=cu.index, dtype="datetime64[ns]")
    cu.attrs = {**journey.customers.attrs, "churn_dates": False}
    j = journey_from_tables(journey.events, cu, journey.surveys, spec=Spec(**spec))
    return j


@pytest.fixture(scope="module")
def fitted(sample):
    snap = pipeline.snapshots(sample)
    result = pipeline.fit(snap.X, snap.y, n_boot=50)
    importance = driver_importance(result, n_repeats=2, n_boot=50)
    return snap, result, importance


def test_sample_dataset_and_models(sample, fitted):
    snap, result, _ = fitted
    ds = findings.dataset(snap, journey=sample)
    assert ds[0].applies and ds[0].values["rate"] == f"{100 * snap.y.mean():.1f}%"
    assert ds[0].values["rows"] == f"{len(snap.X):,}"
    assert "loyalty_tier" in ds[1].values["cols"]  # as of extraction: left out
    mc = findings.model_comparison(result, snap.X, snap.y, journey=sample)
    head, body = mc
    assert head.headline and head.values["auc"] == result.table.loc[result.best_, "roc_auc"]
    chosen = {"logistic": "logistic regression", "boosting": "gradient boosting"}[result.best_]
    assert head.values["m"] == chosen and body.values["chosen"] == chosen
    words = texts(mc)
    if result.best_ == "boosting":  # never "the simpler model is as good" beside it
        assert "simpler" not in words
    feats = texts(findings.features(snap.X, journey=sample))
    assert "latest NPS answer" in feats and "support contacts" in feats


def test_sample_lift_calibration_drivers(sample, sample_truth, fitted):
    snap, result, importance = fitted
    gains = gains_table(result)
    g = gains[gains["model"] == result.best_].set_index("pct_contacted")["pct_churners_reached"]
    (lf,) = findings.lift(result, gains)
    assert lf.values["g20"] == pytest.approx(g.loc[20.0])
    (cal,) = findings.calibration(result, calibration_table(result))
    assert 0 <= cal.values["gap"] < 5
    dr = findings.drivers(importance, journey=sample)
    planted = {d["feature_family"] for d in sample_truth["churn"]["drivers"]}
    # the chosen logistic regression reads part of the engagement effect from the overall
    # activity counts (their sum), so that family may join the planted ones (test_churn.py)
    found = {f.values["family"] for f in dr}
    assert planted - found <= {"engagement"} and found - planted <= {"activity"}
    assert dr[0].values["w"] == "Plan"
    pl = findings.planted(importance, sample_truth)
    assert pl[0].values["det"] == len(planted) and pl[0].values["hits"] >= len(planted) - 1


def test_sample_scores_campaign_and_overview(sample, fitted):
    snap, result, _ = fitted
    scores = pipeline.score_today(sample, result)
    money = pipeline.campaign_money(
        sample, base_rate=result.table.loc[result.best_, "base_rate"], horizon="30D"
    )
    assert money["assumed"] == [
        "margin_rate",
        "contact_cost",
        "offer_cost",
        "offer_success",
        "discount_rate",
    ]
    held_out, today = pipeline.campaign_tables(result, scores, money)
    found = findings.campaign(held_out, today, money, journey=sample)
    words = texts(found)
    assert "assumptions" in words and "kit's defaults" in words
    assert found[1].values["n"] == f"{len(held_out) - 1:,}"
    chosen = held_out.attrs["chosen"]  # chosen on the month before, scored on the last
    assert found[1].values["p"] == findings._amount(chosen["profit"], "")
    assert found[1].values["bp"] == findings._amount(held_out.attrs["best"]["profit"], "")
    assert "in hindsight" in found[1].plain() and "flatters" in found[1].plain()
    assert found[1].values["lo"] == findings._amount(chosen["ci_low"], "")
    if chosen["n_contacted"]:
        assert "95% interval" in found[1].plain()
    else:  # with values by tenure, no share paid on the month before: nobody is contacted
        assert "contacts nobody" in found[1].plain() and chosen["profit"] == 0
    assert "offer success" in found[1].plain() and found[1].values["os"] == 30
    (sc,) = findings.scores(scores, result, journey=sample)
    assert sc.values["n"] == f"{len(scores):,}" and "leave within 30 days" in sc.plain()
    assert len(tables.score_table(scores)) == 15
    ov = findings.overview(sample)
    assert ov[0].headline and ov[1].summary and "30 days" in ov[0].plain()
    rc = pipeline.recent_churn(sample)
    assert ov[0].values["k"] == f"{rc['churned']:,}"
    texts(ov)


def test_money_from_the_spec_is_used_and_not_called_assumed(sample):
    money = {"currency": "EUR", "margin_rate": 0.5, "contact_cost": 2.0}
    j = with_spec(sample, money=money)
    m = pipeline.campaign_money(j, base_rate=8.0, horizon="30D")
    assert m["assumed"] == ["offer_cost", "offer_success", "discount_rate"]
    base = pipeline.campaign_money(sample, base_rate=8.0, horizon="30D")
    assert m["monthly_margin"] == pytest.approx(base["monthly_margin"] * 0.5 / 0.3)
    text, values = findings._assumptions(m)
    assert values["cc"] == "2 EUR" and "offer cost, offer success" in values["names"]
    ov = findings.overview(j)
    assert "EUR" in ov[1].plain() and "assuming" not in ov[1].plain()
    assert "names no currency" not in text
    cheap = pipeline.campaign_money(sample, base_rate=8.0, horizon="30D", contact_cost=0.5)
    text, values = findings._assumptions(cheap)
    assert values["cc"] == "0.50"  # not rounded to 0
    assert "names no currency" in text


def test_customers_without_churn_dates_get_inactivity_labels(sample):
    j = without_churn_dates(
        sample, activity=["purchase"], labels={"purchase": "purchase"}, inactivity="90D"
    )
    assert j.business_model == "non-contractual"
    snap = pipeline.snapshots(j)
    assert snap.X.attrs["label"] == "inactivity" and snap.X.attrs["horizon"] == "90 days 00:00:00"
    assert pipeline.why_not_fit(snap.X, snap.y) is None and 0 < snap.y.mean() < 1
    words = texts(findings.dataset(snap, journey=j))
    assert "made no purchase" in words and "no churn dates" in words.lower()
    (ov,) = findings.overview(j)[:1]
    assert ov.applies and "made no purchase in the 3 months after it" in ov.plain()
    assert "churn date" not in texts(findings.overview(j))


@pytest.fixture(scope="module")
def small_world():
    journey, _ = cxkit.simulate(customers=400, seed=3)
    return journey


def test_no_surveys_no_device_channel_drivers_only_from_the_data(small_world):
    ev = small_world.events.drop(columns=["device", "channel"])
    cu = small_world.customers.drop(columns=["device"])
    j = journey_from_tables(ev, cu, None)
    snap = pipeline.snapshots(j)
    feats = texts(findings.features(snap.X, journey=j))
    assert "NPS" not in feats and "CSAT" not in feats and "device" not in feats
    result = pipeline.fit(snap.X, snap.y, n_boot=0)
    assert result is not None
    imp = driver_importance(result, n_repeats=1, n_boot=0)
    words = texts(findings.drivers(imp, journey=j))
    assert not re.search(r"NPS|CSAT|effort|device", words)
    assert set(imp["family"]) <= set(snap.X.attrs["feature_family"].values())


def test_fifty_customers_is_explained_not_a_crash(sample):
    few = sample.customers.sample(50, random_state=1)
    ev = sample.events[sample.events["customer_id"].isin(few["customer_id"])]
    j = journey_from_tables(ev, few.reset_index(drop=True), None)
    snap = pipeline.snapshots(j)
    assert pipeline.fit(snap.X, snap.y) is None
    (mc,) = findings.model_comparison(None, snap.X, snap.y, journey=j)
    assert not mc.applies and "at least 20" in mc.plain() and "would enable" in mc.plain()
    assert findings.lift(None, None) == [] and findings.scores(None, None) == []
    for f in (findings.calibration(None, None), findings.drivers(None)):
        assert not f[0].applies and "no churn model" in f[0].plain()
    money = pipeline.campaign_money(j)
    (cp,) = findings.campaign(None, None, money, journey=j)
    assert not cp.applies
    texts(findings.overview(j) + findings.dataset(snap, journey=j))


def test_no_churners_yet(sample):
    cu = sample.customers.copy()
    cu["churned_at"] = pd.NaT
    j = journey_from_tables(sample.events, cu, sample.surveys)
    assert j.business_model == "contractual"
    snap = pipeline.snapshots(j)
    words = texts(findings.dataset(snap, journey=j))
    assert "No customer in the data has a churn date yet" in words
    (mc,) = findings.model_comparison(pipeline.fit(snap.X, snap.y), snap.X, snap.y)
    assert not mc.applies and "0 churners" in mc.plain()
    (ov,) = findings.overview(j)
    assert not ov.applies and "non-contractual" in ov.plain()


def test_too_short_one_cutoff_no_revenue_and_skips(sample):
    start = sample.customers["signup_at"].min()
    short = journey_from_tables(
        sample.events[sample.events["timestamp"] < start + pd.Timedelta("60D")],
        sample.customers[sample.customers["signup_at"] < start + pd.Timedelta("40D")].assign(
            churned_at=pd.NaT
        ),
        None,
    )
    snap = pipeline.snapshots(short)
    assert snap.X is None and "too short" in snap.why
    (ds,) = findings.dataset(snap, journey=short)
    assert not ds.applies and "More history" in ds.plain()
    assert not findings.features(None)[0].applies
    assert "no snapshots" in findings.model_comparison(None, None, None)[0].plain()
    novalue = journey_from_tables(sample.events.drop(columns=["value"]), sample.customers, None)
    money = pipeline.campaign_money(novalue, base_rate=8.0, horizon="30D")
    (cp,) = findings.campaign(None, None, money, journey=novalue)
    assert not cp.applies and "no revenue" in cp.plain()
    assert len(findings.overview(novalue)) == 1  # no margin at risk without money
    skipping = with_spec(sample, skip=["churn.drivers", "churn.recent"])
    assert "skips" in findings.drivers(None, journey=skipping)[0].plain()
    assert not findings.overview(skipping)[0].applies


def test_inactivity_with_every_event_counting(small_world):
    j = without_churn_dates(small_world)
    rc = pipeline.recent_churn(j)
    assert rc["label"] == "inactivity" and rc["activity"] is None
    (ov, *_) = findings.overview(j)
    assert "had no activity" in ov.plain()
    assert ov.values["n"] == f"{rc['active']:,}"
    assert np.isfinite(rc["churned"] / rc["active"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = cxkit.churn_dataset(j, [rc["cutoff"]])
    assert len(X) == rc["active"] and int(y.sum()) == rc["churned"]


# --- notebook 03 on odd shapes, through the report ------------------------------------------

VISIBLE_BAD = re.compile(r"\b(nan|NaN|inf|NaT|None|True|False|Traceback)\b")


def visible_text(page):
    import html

    text = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def write_folder(folder, events, customers, surveys=None, spec=None):
    import json

    folder.mkdir(parents=True)
    events.to_csv(folder / "events.csv.gz", index=False)
    customers.to_csv(folder / "customers.csv", index=False)
    if surveys is not None:
        surveys.to_csv(folder / "surveys.csv", index=False)
    if spec:
        (folder / "cxkit.json").write_text(json.dumps(spec))
    return folder


def shape(name, sample, root):
    ev, cu, su = sample.events, sample.customers, sample.surveys
    if name == "sample":
        return None
    if name == "shop":  # no churn dates, purchases are the activity, money in the spec
        spec = {"business": {"activity": ["purchase"]}, "money": {"currency": "EUR"}}
        return write_folder(root / name, ev, cu.drop(columns=["churned_at"]), su, spec)
    if name == "no_surveys_device_channel":
        return write_folder(root / name, ev.drop(columns=["device", "channel"]), cu)
    if name == "fifty_customers":
        few = cu.sample(50, random_state=1)
        return write_folder(root / name, ev[ev["customer_id"].isin(few["customer_id"])], few)
    if name == "no_churners":
        return write_folder(root / name, ev, cu.assign(churned_at=None), su)
    raise ValueError(name)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["sample", "shop", "no_surveys_device_channel", "fifty_customers", "no_churners"]
)
def test_notebook_03_runs_and_reads_clean(name, sample, tmp_path):
    from cxkit.report import build_report

    folder = shape(name, sample, tmp_path / "data")
    build_report(folder, tmp_path / "out", only=["03"], progress=False)
    page = (tmp_path / "out" / "03_churn_prediction.html").read_text()
    text = visible_text(page)
    bad = [text[max(0, m.start() - 60) : m.end() + 20] for m in VISIBLE_BAD.finditer(text)]
    assert not bad, bad
    if name == "shop":
        assert "made no purchase" in text and "EUR" in text
    if name in ("fifty_customers", "no_churners"):
        assert "No churn model" in text
    if name == "no_surveys_device_channel":
        assert "NPS answer" not in text.split("Which touchpoints")[1]


def test_activity_naming_no_event_is_explained(sample):
    j = without_churn_dates(sample, activity=["refund"])
    snap = pipeline.snapshots(j)
    assert snap.X is None and "activity" in snap.why
    (ov,) = findings.overview(j)
    assert not ov.applies and "activity" in ov.plain()
    assert not findings.dataset(snap, journey=j)[0].applies


def _xor_table(n, seed, strength):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    logit = -1.0 + strength * np.sign(a) * np.sign(b) + 0.8 * a
    return pd.DataFrame({"a": a, "b": b, "churned": rng.random(n) < 1 / (1 + np.exp(-logit))})


@pytest.mark.parametrize("strength, chosen", [(3.0, "boosting"), (0.0, "logistic")])
def test_model_prose_follows_the_paired_choice(strength, chosen):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = cxkit.compare_models(_xor_table(1500, 4, strength), "churned", n_boot=100)
    assert result.best_ == chosen
    head, body = findings.model_comparison(result)
    words = texts([head, body])
    d = result.differences_.loc["roc_auc"]
    assert body.values["d_auc"] == pytest.approx(d["difference"], abs=5e-4)
    assert (body.values["d_auc_lo"], body.values["d_auc_hi"]) == pytest.approx(
        (d["ci_low"], d["ci_high"]), abs=5e-4
    )
    assert "intervals overlap" not in words and "the same customers resampled" in words
    if chosen == "boosting":
        assert "is clearly better on log loss" in words and "simpler logistic" in words
        assert "not clearly" not in words
    else:  # boosting's log loss is worse here: "no better", not "not clearly better"
        assert result.differences_.loc["log_loss", "difference"] > 0
        assert "Gradient boosting is no better" in words
        assert "The simpler logistic regression is used" in words


def test_top_reason_agrees_with_family_importance():
    table = pd.DataFrame(
        {
            "churn_probability": np.linspace(0.9, 0.1, 20),
            "reason_1": ["overall activity"] * 2 + ["plan"] * 18,
        }
    )
    result = dataclasses.make_dataclass("R", ["spec_"])({"horizon": "30D", "label": "x"})
    importance = pd.DataFrame(
        {
            "family": ["plan", "activity"],
            "importance": [0.05, 0.001],
            "ci_low": [0.03, -0.002],
            "ci_high": [0.07, 0.004],
            "words": ["plan", "overall activity"],
        }
    )
    # the riskiest 10% (2 rows) have "overall activity" first, which is drawn as noise
    (found,) = findings.scores(table, result, importance=importance)
    assert "reason" not in found.values and "reason" not in found.plain()
    clear = importance.assign(ci_low=[0.03, 0.0005])
    (found,) = findings.scores(table, result, importance=clear)
    assert found.values["reason"] == "overall activity"
    (found,) = findings.scores(table, result)  # without importance nothing to agree with
    assert "reason" not in found.values


def test_a_kept_customer_is_worth_their_remaining_margin_given_tenure(sample):
    from lifelines import KaplanMeierFitter

    from cxkit.churn.pipeline import _MONTH
    from cxkit.retention import survival_table

    money = pipeline.campaign_money(sample, base_rate=8.0, horizon="30D")
    assert money["value_rule"] == "tenure" and money["discount_rate"] == 0.1
    table = survival_table(sample)
    active = table[~table["churned"]]
    per = money["customer_values"]
    assert per.index.tolist() == active["customer_id"].tolist()
    assert money["customer_value"] == pytest.approx(per.mean())
    # by hand for the ten newest customers (their next year lies inside the curve): lifelines'
    # curve at tenure + 0..11 months over the curve at tenure, discounted 10% a year
    kmf = KaplanMeierFitter().fit(table["duration_days"], table["churned"])
    new = active.nsmallest(10, "duration_days")
    t = new["duration_days"].to_numpy()[:, None] + _MONTH * np.arange(12)
    s = kmf.survival_function_at_times(t.ravel()).to_numpy().reshape(t.shape)
    months = (s / s[:, :1]) @ (1.1 ** (-np.arange(12) / 12))
    got = per.loc[new["customer_id"]].to_numpy() / money["monthly_margin"]
    np.testing.assert_allclose(got, months, rtol=1e-9)
    undiscounted = pipeline.campaign_money(sample, discount_rate=0)
    assert undiscounted["customer_value"] > money["customer_value"]
    with pytest.raises(cxkit.DataError, match="discount_rate"):
        pipeline.campaign_money(sample, discount_rate=1.5)
    # values at a past date follow tenure then: one customer, one year earlier
    cid = active["customer_id"].iloc[0]
    then = pd.Timestamp(sample.observed_at) - pd.Timedelta("100D")
    (v,) = pipeline.customer_values(money, [cid], [then])
    tenure = (then - active["signup_at"].iloc[0]) / pd.Timedelta(days=1)
    expected = money["monthly_margin"] * pipeline.remaining_months(money["curve"], [tenure])[0]
    assert v == pytest.approx(expected)


def test_without_churn_dates_a_kept_customer_is_valued_at_the_recent_rate(sample):
    from cxkit.churn import campaign_value

    j = without_churn_dates(sample, activity=["purchase"], inactivity="90D")
    money = pipeline.campaign_money(j, base_rate=10.0, horizon="30D", value_model="constant")
    assert money["value_rule"] == "constant" and money["customer_values"] is None
    keep = 0.9 ** (365.25 / 12 / 30) / 1.1 ** (1 / 12)
    assert money["months_kept"] == pytest.approx(sum(keep**m for m in range(12)))
    held_out = campaign_value(
        [0.9, 0.1], [1, 0], contact_cost=1, offer_cost=4, offer_success=0.5, customer_value=100
    )
    held_out.attrs.update(chosen=None)
    (_, cp) = findings.campaign(held_out, None, money, journey=j)
    words = texts([cp])
    assert "no churn dates" in words and "the same for every customer" in words
    assert "ranks who is likely to leave, not whom the offer would change" in words
    assert cp.values["os"] == 30 and "**30%**" in cp.text.format(**cp.values)


def test_snapshot_table_counts_have_thousands_separators(sample):
    import warnings

    from cxkit.churn import tables

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, _ = cxkit.churn_dataset(sample, "MS")
    t = tables.cutoff_table(X)
    per = pd.DataFrame(X.attrs["per_cutoff"])
    assert t["Not signed up yet"].iloc[0] == f"{int(per['not_signed_up_yet'][0]):,}"
    assert "," in t["Not signed up yet"].iloc[0]  # 2,464 people, not 2464


def test_without_churn_dates_a_kept_buyer_is_valued_by_the_repeat_buying_model(sample):
    """Issue 14: E[discounted margin over 12 months | still a customer] per buyer, from the
    BG/NBD + Gamma-Gamma fit, instead of one constant-rate value for everyone."""
    pytest.importorskip("pymc_marketing")
    j = without_churn_dates(sample, activity=["purchase"], inactivity="90D")
    money = pipeline.campaign_money(j, base_rate=10.0, horizon="30D", margin_rate=0.5)
    assert money["value_rule"] == "purchases"
    per = money["customer_values"]
    result = per.attrs["result"]
    t = result.table.set_index("customer_id")
    expected = t["expected_value"] / t["p_alive"]
    np.testing.assert_allclose(per.to_numpy(), expected.reindex(per.index).to_numpy())
    assert result.margin == 0.5 and result.horizon_months == 12
    assert result.discount == pytest.approx(money["discount_rate"])
    assert money["customer_value"] == pytest.approx(per.mean())
    # frequent buyers are worth more if kept than one-off buyers
    assert per[t["frequency"] >= 5].mean() > per[t["frequency"] == 0].mean()
    held_out = campaign_value_table()
    (_, cp) = findings.campaign(held_out, None, money, journey=j)
    words = texts([cp])
    assert "repeat-buying model" in words and "the same for every customer" not in words


def campaign_value_table():
    from cxkit.churn import campaign_value

    held_out = campaign_value(
        [0.9, 0.1], [1, 0], contact_cost=1, offer_cost=4, offer_success=0.5, customer_value=100
    )
    held_out.attrs.update(chosen=None)
    return held_out

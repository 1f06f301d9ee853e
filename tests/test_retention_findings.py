"""Findings of the retention report on many data shapes, without running a notebook."""

import dataclasses
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import cxkit
from cxkit.data import journey_from_tables, read_customers
from cxkit.data.spec import Spec
from cxkit.retention import findings, retention_table
from cxkit.retention.cohorts import cohort_table
from cxkit.retention.cox import fit_drivers

BAD = re.compile(r"\b(nan|inf|NaT|None|True|False)\b|Traceback|\w+_\w+")


def _all(journey, truth=None):
    """Every section's findings, as the notebook computes them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = retention_table(journey)
        models = fit_drivers(journey, table, cv=0)
        out = findings.overall(table, journey=journey)
        out += findings.segments(table, journey=journey)
        out += findings.drivers(models, journey=journey)
        out.append(findings.ph_check(models, journey=journey))
        out += findings.rmst(table, journey=journey)
        out += findings.cohorts(cohort_table(journey), table, journey=journey)
        out += findings.actions(models, journey=journey)
        out += findings.overview(journey)
    for f in out:
        text = f.plain()
        assert not BAD.search(text), (f.key, text)
        assert text.strip()
    return table, models, {f.key: f for f in reversed(out)}, out


def _non_contractual(journey, events=None, spec=None):
    customers = read_customers(journey.customers.drop(columns=["churned_at"]))
    ev = journey.events if events is None else events
    return journey_from_tables(ev, customers, journey.surveys, spec=spec)


@pytest.fixture(scope="module")
def small():
    return cxkit.simulate(customers=300, seed=5)


# ---- the sample: real numbers and planted truth ---------------------------------------------


def test_sample_numbers_and_planted_drivers(sample, sample_truth):
    table, models, by_key, out = _all(sample)
    s = cxkit.survival_summary(table, times=(90, 365)).iloc[0]
    head = by_key["retention.overall"]
    assert head.headline and head.values["median_days"] == s["median_days"]
    assert head.values["churned"] == s["churned"] == table["churned"].sum()
    km = cxkit.kaplan_meier(table)
    assert km.loc[km["survival"] <= 0.5, "time"].iloc[0] == head.values["median_days"]
    retained = by_key["retention.retained"].values
    assert (
        retained["pct_0"] == s["pct_retained_90d"] and retained["pct_1"] == s["pct_retained_365d"]
    )
    planted = {d["name"]: d["hazard_ratio"] for d in sample_truth["churn"]["drivers"]}
    hr = models.varying_.hazard_ratios_.set_index("term")
    for term in ("plan=annual", "acquisition_channel=ads", "detractor"):
        assert hr.loc[term, "ci_low"] <= planted[term] <= hr.loc[term, "ci_high"], term
    check = findings.truth_check(models, sample_truth)
    assert check.values["inside"] >= check.values["n"] - 1
    cols = {f.values["column"] for f in out if f.key == "retention.segments" and f.applies}
    assert {"plan", "acquisition_channel"} <= cols
    plan = next(f for f in out if f.key == "retention.segments" and f.values["column"] == "plan")
    assert plan.values["best"] == "annual" and plan.values["p_value"] < 0.05
    rmst = [f for f in out if f.key == "retention.rmst"]
    assert rmst[0].values["horizon_days"] == 365
    ref = cxkit.rmst(table, horizon=365)["rmst_days"].iloc[0]
    assert rmst[0].values["rmst_days"] == pytest.approx(ref)
    by_plan = cxkit.survival_summary(table, by="plan", times=(180,)).set_index("plan")
    assert plan.values["best_pct"] == by_plan.loc["annual", "pct_retained_180d"]
    assert plan.values["p_value"] == cxkit.logrank(table, by="plan")["p_value"].iloc[0]
    rmst_plan = next(f for f in rmst if f.values.get("column") == "plan")
    ref = cxkit.rmst(table, by="plan", horizon=365).set_index("plan")
    assert rmst_plan.values["a"] == "annual"
    assert rmst_plan.values["a_days"] == ref.loc["annual", "rmst_days"].iloc[0]
    ov = findings.overview(sample)
    assert len(ov) == 1 and ov[0].headline and ov[0].summary
    assert ov[0].values["median_days"] == s["median_days"]


def test_skip_in_spec_is_respected(sample):
    j = journey_from_tables(
        sample.events, sample.customers, sample.surveys, spec=Spec(skip=["retention.cohorts"])
    )
    table = retention_table(j)
    (f,) = findings.cohorts(cohort_table(j), table, journey=j)
    assert not f.applies and "skip" in f.plain()


# ---- non-contractual ------------------------------------------------------------------------


def test_customers_without_churn_dates_use_activity(small):
    journey, _ = small
    j = _non_contractual(journey)
    assert j.business_model == "non-contractual"
    table, models, by_key, _ = _all(j)
    assert table.attrs["business_model"] == "non-contractual"
    assert table.attrs["inactivity_source"] == "data"
    gap = cxkit.retention.typical_gap(j)
    assert table.attrs["inactivity_days"] == gap / pd.Timedelta("1D")
    assert "no activity for" in by_key["retention.definition"].plain()
    assert by_key["retention.overall"].applies
    cells = cohort_table(j)
    assert cells.attrs["kind"] == "activity"
    # time-varying drivers are not modelled without churn dates; no sentence about them
    assert models.varying_ is None
    assert all("support" not in f.plain() for f in by_key.values())


def test_year_scale_purchase_log(small):
    journey, _ = small
    ev = journey.events[journey.events["event"] == "purchase"].reset_index(drop=True)
    ev["event"] = ev["event"].cat.remove_unused_categories()
    j = _non_contractual(journey, events=ev)
    table, _, by_key, _ = _all(j)
    days = table.attrs["inactivity_days"]
    assert 20 <= days <= 365  # a gap of the data's own scale: weeks to months
    assert f"no purchase for {days:.0f} days" in by_key["retention.definition"].plain()
    s = cxkit.survival_summary(table).iloc[0]
    assert by_key["retention.overall"].values["churned"] == s["churned"]


def test_spec_inactivity_and_activity_are_used(small):
    journey, _ = small
    spec = Spec(business_model="non-contractual", inactivity="60D", activity=["purchase"])
    j = journey_from_tables(journey.events, journey.customers, journey.surveys, spec=spec)
    table, _, by_key, _ = _all(j)
    assert table.attrs["inactivity_source"] == "spec" and table.attrs["inactivity_days"] == 60
    text = by_key["retention.definition"].plain()
    assert "no purchase for 60 days" in text and "data spec" in text


def _clickstream():
    """A minutes-scale clickstream: 200 visitors over 36 hours, a few page views each."""
    rng = np.random.default_rng(3)
    n = 200
    start = pd.Timestamp("2024-05-01") + pd.to_timedelta(rng.uniform(0, 36, n), unit="h")
    visits = rng.geometric(0.3, n)
    rows = []
    for i in range(n):  # a hand-made fixture: a loop over 200 people is fine here
        t = start[i]
        for _ in range(visits[i]):
            rows.append((f"u{i}", t, "page_view"))
            t += pd.Timedelta(minutes=float(rng.exponential(4)))
    events = cxkit.read_events(pd.DataFrame(rows, columns=["customer_id", "timestamp", "event"]))
    first = events.groupby("customer_id", observed=True)["timestamp"].min().reset_index()
    customers = read_customers(first.rename(columns={"timestamp": "signup_at"}))
    return journey_from_tables(events, customers)


def test_minutes_scale_clickstream():
    j = _clickstream()
    table, _, by_key, out = _all(j)
    assert table.attrs["inactivity_days"] < 1 / 24  # minutes, not 90 days
    head = by_key["retention.overall"]
    assert "minute" in head.plain() or "second" in head.plain()
    assert not by_key["retention.cohorts"].applies  # two days: too short for cohorts


# ---- odd shapes -----------------------------------------------------------------------------


def test_no_churners_yet(small):
    journey, _ = small
    cu = journey.customers.assign(churned_at=pd.NaT)
    j = journey_from_tables(journey.events, cu, journey.surveys)
    assert j.business_model == "contractual"
    _, _, by_key, _ = _all(j)
    head = by_key["retention.overall"]
    assert not head.applies and "No customer has left yet" in head.plain()
    for key in ("retention.segments", "retention.drivers", "retention.cohorts", "retention.rmst"):
        assert not by_key[key].applies, key
    assert "still holds all its customers" in by_key["retention.cohorts"].plain()
    assert findings.overview(j)[0].applies  # the index still says it


def test_no_signup_attributes(small):
    journey, _ = small
    cu = journey.customers[["customer_id", "signup_at", "churned_at"]]
    j = journey_from_tables(journey.events, cu, journey.surveys)
    _, models, by_key, out = _all(j)
    assert models.fixed_ is None and "attribute known at signup" in models.why_fixed_
    assert not by_key["retention.segments"].applies
    assert "attribute" in by_key["retention.segments"].plain()
    assert not by_key["retention.ph"].applies
    # drivers over time still run: tickets and NPS answers exist
    assert models.varying_ is not None and by_key["retention.drivers"].applies


def test_no_attributes_and_no_experiences(small):
    journey, _ = small
    cu = journey.customers[["customer_id", "signup_at", "churned_at"]]
    ev = journey.events[journey.events["event"] != "support_ticket"]
    j = journey_from_tables(ev.reset_index(drop=True), cu, None)
    _, models, by_key, out = _all(j)
    assert models.best_ is None
    f = by_key["retention.drivers"]
    assert not f.applies and "attribute known at signup" in f.plain()
    assert all("NPS" not in x.plain() and "support" not in x.plain() for x in out)


def test_one_plan_level(small):
    journey, _ = small
    cu = journey.customers[["customer_id", "signup_at", "churned_at"]].assign(plan="monthly")
    j = journey_from_tables(journey.events, read_customers(cu), journey.surveys)
    _, _, by_key, out = _all(j)
    seg = by_key["retention.segments"]
    assert not seg.applies
    assert all("plan" not in f.plain() for f in out)


def test_fifty_customers():
    journey, _ = cxkit.simulate(customers=50, seed=8)
    table, _, by_key, out = _all(journey)
    assert by_key["retention.overall"].values["customers"] == len(table)


def test_no_customer_followed(small):
    journey, _ = small
    j = _non_contractual(journey)
    table = retention_table(j).iloc[0:0]
    (f,) = [x for x in findings.overall(table, journey=j) if x.key == "retention.overall"]
    assert not f.applies and "too recently" in f.plain()


# ---- notebook 02 on odd shapes (slow) -------------------------------------------------------


def _visible_text(html):
    body = re.sub(r"(?s)<(style|script)[^>]*>.*?</\1>", " ", html)
    body = re.sub(r"(?s)<img[^>]*>", " ", body)
    return re.sub(r"<[^>]+>", " ", body)


def _write(folder, journey, drop_churn=False):
    folder.mkdir(parents=True, exist_ok=True)
    journey.events.to_csv(folder / "events.csv", index=False)
    cu = journey.customers.drop(columns=["churned_at"]) if drop_churn else journey.customers
    cu.to_csv(folder / "customers.csv", index=False)
    if len(journey.surveys):
        journey.surveys.to_csv(folder / "surveys.csv", index=False)
    return folder


def _shapes(root):
    journey, _ = cxkit.simulate(customers=300, seed=5)
    tiny, _ = cxkit.simulate(customers=50, seed=8)
    purchases = journey.events[journey.events["event"] == "purchase"]
    bare = journey.customers[["customer_id", "signup_at", "churned_at"]]
    return {
        "no-churn-dates": _write(root / "a", journey, drop_churn=True),
        "purchases-only": _write(
            root / "b",
            journey_from_tables(purchases.reset_index(drop=True), journey.customers, None),
            drop_churn=True,
        ),
        "no-churners": _write(
            root / "c",
            journey_from_tables(
                journey.events, journey.customers.assign(churned_at=pd.NaT), journey.surveys
            ),
        ),
        "no-attributes": _write(root / "d", journey_from_tables(journey.events, bare, None)),
        "fifty": _write(root / "e", tiny),
        "clickstream": _write(root / "f", _clickstream(), drop_churn=True),
    }


@pytest.mark.slow
def test_notebook_02_runs_on_the_sample_and_odd_shapes(tmp_path):
    from cxkit.report import build_report

    folders = {"sample": None, **_shapes(tmp_path / "data")}
    for name, folder in folders.items():
        out = tmp_path / name
        build_report(None if folder is None else str(folder), str(out), only=["02"])
        text = _visible_text((out / "02_retention_survival.html").read_text())
        bad = re.search(r"\b(nan|inf|NaT|None|True|False)\b|Traceback|\binf days", text)
        assert not bad, (name, text[max(0, bad.start() - 200) : bad.end() + 200])
        if name == "no-churn-dates":
            assert "no cancellation date" in text
        if name == "no-churners":
            assert "No customer has left yet" in text


def test_choose_inactivity_rules(small):
    from cxkit.retention import choose_inactivity

    journey, _ = small
    assert choose_inactivity(journey, inactivity="30D") == (pd.Timedelta("30D"), "argument")
    stated = journey_from_tables(
        journey.events, journey.customers, journey.surveys, spec=Spec(inactivity="45D")
    )
    assert choose_inactivity(stated) == (pd.Timedelta("45D"), "spec")
    # a stated gap longer than half the data's span leaves no lapse to see: the data decides
    too_long = journey_from_tables(
        journey.events, journey.customers, journey.surveys, spec=Spec(inactivity="400D")
    )
    gap, source = choose_inactivity(too_long)
    assert source == "data" and gap < pd.Timedelta("400D")
    # activity_table's default follows the same rule
    table = cxkit.activity_table(stated)
    assert table.attrs["inactivity"] == str(pd.Timedelta("45D"))


# ---- hazard-ratio prose: units, association, what was tested ---------------------------------


def _hand_drivers(kind=True):
    """Drivers with a hand-made hazard-ratio table: support contacts per contact (HR 3, the
    largest number), a detractor state, and two signup groups."""
    from cxkit.retention.cox import CoxResult, Drivers

    rows = [
        ("support_tickets_30d", "support_tickets_30d", None, None, "per unit", 3.0, 2.5, 3.6),
        ("detractor", "detractor", None, None, "yes/no", 1.8, 1.5, 2.1),
        (
            "acquisition_channel=ads",
            "acquisition_channel",
            "ads",
            "organic",
            "level",
            1.4,
            1.2,
            1.6,
        ),
        ("plan=annual", "plan", "annual", "monthly", "level", 0.5, 0.4, 0.6),
        ("region=west", "region", "west", "east", "level", 1.1, 0.9, 1.3),
    ]
    cols = ["term", "covariate", "level", "reference", "kind", "hazard_ratio", "ci_low", "ci_high"]
    hr = pd.DataFrame(rows, columns=cols)
    if not kind:
        hr = hr.drop(columns="kind")
    fit = CoxResult(hazard_ratios_=hr, model_=None, kind_="time-varying")
    return Drivers(varying_=fit, drivers_=["support_tickets_30d", "detractor"])


CAUSAL = re.compile(r"\b(driver|drivers|drive|drives|protect\w*|as fast while)\b", re.I)


def test_hazard_ratio_prose_keeps_units_apart():
    models = _hand_drivers()
    found = findings.drivers(models)
    head = found[0]
    # the per-contact ratio (3.0) is the largest number but is not ranked against groups
    assert head.headline and head.values["term"].startswith("A latest NPS answer")
    assert "while it holds" in head.plain() and "1.80×" in head.plain()
    per = next(f for f in found if "contact" in f.plain() and "each one more" in f.plain())
    assert per.values["hr"] == 3.0 and per.values["hr3"] == pytest.approx(27.0)
    assert "per contact" in per.plain() and "about 27.0×" in per.plain()
    assert not per.headline
    acts = findings.actions(models)
    tick = next(a for a in acts if "support contacts" in a.plain())
    assert (
        "each one more contact goes with 3.00×" in tick.plain()
        and "(three: 27.0×)" in tick.plain()
    )
    for f in [*found, *acts]:
        assert not CAUSAL.search(f.plain()), f.plain()
    assert any("associations in observed data" in f.plain() for f in found)
    # results without the kind column (older pickles) read numbers per unit, levels by level
    old = findings.drivers(_hand_drivers(kind=False))
    assert old[0].values["term"].startswith("Acquisition channel ads")  # detractor: per unit


def test_ph_prose_says_what_was_tested(sample):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = retention_table(sample)
        models = fit_drivers(sample, table, cv=0)
    ph = findings.ph_check(models, journey=sample).plain()
    assert "signup traits alone" in ph and "was not tested" in ph
    assert "can be read as constant" not in ph and "not proof" in ph
    labels = set(models.varying_.hazard_ratios_["label"])
    assert "support contacts in the last 30 days, per contact" in labels
    assert "plan: annual vs monthly" in labels
    kinds = models.varying_.hazard_ratios_.set_index("term")["kind"]
    assert kinds["support_tickets_30d"] == "per unit" and kinds["detractor"] == "yes/no"
    words = " ".join(f.plain() for f in [*findings.drivers(models), *findings.actions(models)])
    assert not CAUSAL.search(words) and "3 contacts" not in words
    # without the time-varying model nothing untested is mentioned
    fixed_only = dataclasses.replace(models, varying_=None)
    assert "not tested" not in findings.ph_check(fixed_only).plain()


@pytest.mark.parametrize(
    "days, expected",
    [
        (89.0, "89D"),
        (89.00000000000001, "89D"),  # float noise from an interpolated quantile
        (89.2, "90D"),
        (0.5, "12h"),
        (0.02, "29min"),  # 28.8 minutes
        (1 / 1_440 + 1e-15, "1min"),
        (1e-6, "1min"),
    ],
)
def test_nice_gap_rounds_up_to_whole_units(days, expected):
    from cxkit.retention.inactivity import _nice_gap

    assert _nice_gap(days) == pd.Timedelta(expected)

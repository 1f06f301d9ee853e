"""Findings of the experience analysis and the journey overview, on many data shapes (no
notebook), and notebook 00 on the sample and odd shapes (slow)."""

import dataclasses
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import cxkit
from cxkit import overview
from cxkit.data import journey_from_tables
from cxkit.data.spec import Spec
from cxkit.experience import findings as F
from cxkit.experience import journey_map, nps_landmark, rfm_summary

# ------------------------------------------------------------------------------ shapes


def _text(found):
    found = found if isinstance(found, list) else [found]
    return " ".join(f.plain() for f in found)


def _shape(j, *, events=None, customers=None, surveys=None, spec=None):
    ev = (j.events if events is None else events).copy()
    cu = (j.customers if customers is None else customers).copy()
    sv = (j.surveys if surveys is None else surveys).copy()
    return journey_from_tables(ev, cu, sv, spec=spec or j.spec)


def no_surveys(j):
    return _shape(j, surveys=j.surveys.iloc[:0])


def csat_only(j):
    """Product ratings as CSAT: no NPS/CES, no stage or touchpoint, ~8 answers per customer."""
    sv = j.surveys.loc[j.surveys["survey"] == "csat", ["customer_id", "timestamp", "survey"]]
    sv = sv.assign(score=j.surveys.loc[sv.index, "score"])
    copies = [sv.assign(timestamp=sv["timestamp"] - pd.Timedelta(hours=h)) for h in range(3)]
    return _shape(j, surveys=pd.concat(copies, ignore_index=True))


def nps_only(j):
    return _shape(j, surveys=j.surveys.loc[j.surveys["survey"] == "nps"].reset_index(drop=True))


def no_device(j):
    return _shape(
        j,
        events=j.events.drop(columns=["device"]),
        customers=j.customers.drop(columns=["device"]),
    )


def no_value(j):
    return _shape(j, events=j.events.drop(columns=["value"]))


def no_churn_dates(j):
    cu = j.customers.copy()
    cu["churned_at"] = pd.Series(pd.NaT, index=cu.index, dtype="datetime64[ns]")
    cu.attrs = {**cu.attrs, "churn_dates": False}
    return _shape(j, customers=cu)


@pytest.fixture(scope="module")
def tiny():
    journey, _ = cxkit.simulate(customers=50, seed=5)
    return journey


# ------------------------------------------------------------------------------ sample


def test_sample_scores_equal_the_analysis(sample):
    found = {f.key: f for f in F.scores(sample)}
    assert list(found) == ["experience.nps", "experience.csat", "experience.ces"]
    score, sat, effort = (cxkit.nps(sample), cxkit.csat(sample), cxkit.ces(sample))
    assert found["experience.nps"].values["nps"] == pytest.approx(score["nps"].iloc[0])
    assert found["experience.nps"].values["n"] == score["n"].iloc[0]
    assert found["experience.nps"].values["lo"] == pytest.approx(score["ci_low"].iloc[0])
    assert found["experience.csat"].values["csat"] == pytest.approx(sat["csat"].iloc[0])
    assert found["experience.csat"].values["n"] == sat["n"].iloc[0] == 7835
    assert found["experience.ces"].values["ces"] == pytest.approx(effort["ces"].iloc[0])
    assert found["experience.nps"].headline and not found["experience.csat"].headline
    head = F.overview(sample)
    assert [f.key for f in head] == ["experience.nps"] and head[0].headline
    assert head[0].plain() == found["experience.nps"].plain()
    assert all(F.why_not(sample, s) == [] for s in ("scores", "touchpoints", "rfm", "landmark"))


def test_sample_touchpoint_and_device_gap_find_the_planted_pain(sample):
    by_point = cxkit.csat(sample, by="touchpoint")
    worst = F.csat_by_touchpoint(by_point, journey=sample)[0]
    reliable = by_point.loc[~by_point["small"]]
    assert worst.values["name"] == reliable.loc[reliable["csat"].idxmin(), "touchpoint"]
    assert worst.values["csat"] == pytest.approx(reliable["csat"].min())
    cells = cxkit.csat(sample, by=["touchpoint", "device"])
    gap = F.device_gap(cells, by_point, journey=sample)[0]
    assert (gap.values["name"], gap.values["device"]) == ("checkout", "mobile")
    assert gap.values["all"] == pytest.approx(
        by_point.set_index("touchpoint").loc["checkout", "csat"]
    )


def test_sample_volumes_map_landmark_rfm(sample):
    v = overview.volumes(sample)
    assert v.headline and v.summary
    assert v.values["customers"] == len(sample.customers)
    assert v.values["people"] == sample.notes["people"]
    assert v.values["churned"] == int(sample.customers["churned_at"].notna().sum())
    assert v.values["conv"] == pytest.approx(100 * len(sample.customers) / sample.notes["people"])
    assert "have since left" in v.plain()
    jm = journey_map(sample)
    f = F.journey_map(jm, journey=sample)[0]
    assert f.applies and f.values["pct"] == pytest.approx(jm["pct_of_previous"].min())
    lm = nps_landmark(sample, landmark_days=90, horizon_days=90)
    f = F.nps_and_retention(lm)[0]
    assert f.values["hr"] == pytest.approx(lm.detractor_hr_["hazard_ratio"])
    assert "3 months" in f.plain() and "after signup" in f.plain()
    summary = rfm_summary(cxkit.rfm(sample))
    f = F.rfm(summary, journey=sample)[0]
    top = summary.set_index("segment")
    assert f.values["rev"] == pytest.approx(top.loc[["champions", "loyal"], "pct_monetary"].sum())
    assert f.values["buyers"] == int(summary["customers"].sum())


def test_mix_uses_the_profiled_segments_not_a_hard_wired_column(sample):
    assert overview.mix_column(sample) == "acquisition_channel"
    table = overview.segment_mix(sample)
    f = overview.mix(table, journey=sample)
    shares = sample.customers["acquisition_channel"].value_counts(normalize=True)
    assert f.values["top"] == shares.index[0] and f.values["pct"] == pytest.approx(
        100 * shares.iloc[0]
    )
    j = _shape(sample, customers=sample.customers.drop(columns=["acquisition_channel"]))
    assert overview.mix_column(j) == "plan"
    j = _shape(sample, spec=Spec(segments=["region"]))
    assert overview.mix_column(j) == "region"
    bare = sample.customers[["customer_id", "signup_at", "churned_at"]]
    j = _shape(sample, customers=bare)
    f = overview.mix(overview.segment_mix(j), journey=j)
    assert not f.applies and "attribute" in f.plain()
    assert F.why_not(j, "nps_segments")[0].applies is False


def test_plot_gained_lost_two_different_lines_or_one(sample):
    fig, ax = plt.subplots()
    assert overview.plot_gained_lost(sample, ax=ax) is ax
    joined, left = ax.get_lines()
    assert joined.get_color() != left.get_color()
    assert joined.get_linestyle() != left.get_linestyle()
    fig, ax = plt.subplots()
    overview.plot_gained_lost(no_churn_dates(sample), ax=ax)
    assert len(ax.get_lines()) == 1


# ------------------------------------------------------------------------------ odd shapes


def test_no_surveys(sample):
    j = no_surveys(sample)
    found = F.scores(j)
    assert len(found) == 1 and not found[0].applies and "no survey answers" in found[0].plain()
    assert not F.overview(j)[0].applies
    for section in ("touchpoints", "device_gap", "nps_segments", "landmark"):
        assert F.why_not(j, section) and not F.why_not(j, section)[0].applies
    assert "survey answers" not in overview.holdings(j).index.str.cat()


def test_csat_only_reports_csat_and_never_nps(sample):
    j = csat_only(sample)
    assert j.surveys.groupby("customer_id").size().mean() > 5
    found = F.scores(j)
    assert [f.key for f in found] == ["experience.csat"] and found[0].headline
    assert found[0].values["csat"] == pytest.approx(cxkit.csat(j)["csat"].iloc[0])
    assert found[0].values["n"] == len(j.surveys)
    touch = F.why_not(j, "touchpoints")[0]
    assert not touch.applies and "touchpoint" in touch.plain()
    said = _text(
        found
        + F.overview(j)
        + [
            f
            for s in ("touchpoints", "device_gap", "nps_segments", "landmark")
            for f in F.why_not(j, s)
        ]
    )
    assert not re.search(r"NPS|Net Promoter|promoter|detractor", said), said


def test_nps_only(sample):
    j = nps_only(sample)
    found = F.scores(j)
    assert [f.key for f in found] == ["experience.nps"]
    assert found[0].values["nps"] == pytest.approx(cxkit.nps(j)["nps"].iloc[0])
    assert "CSAT" not in _text(F.why_not(j, "touchpoints"))
    assert F.why_not(j, "landmark") == []


def test_no_device(sample):
    j = no_device(sample)
    assert F.why_not(j, "touchpoints") == []
    gap = F.why_not(j, "device_gap")[0]
    assert not gap.applies and "device" in gap.plain()
    by_point = cxkit.csat(j, by="touchpoint")
    assert F.csat_by_touchpoint(by_point, journey=j)[0].applies


def test_no_value_column(sample):
    j = no_value(sample)
    f = F.why_not(j, "rfm")[0]
    assert not f.applies and "revenue" in f.plain() and "value" in f.plain()


def test_currency_from_the_spec(sample):
    j = dataclasses.replace(sample, spec=Spec(money={"currency": "EUR"}))
    f = F.rfm(rfm_summary(cxkit.rfm(j)), journey=j)[0]
    assert "EUR" in f.plain()


def test_no_churn_dates_is_non_contractual(sample):
    j = no_churn_dates(sample)
    assert j.business_model == "non-contractual"
    v = overview.volumes(j)
    assert "left" not in v.plain() and "churned" not in v.values
    assert v.values["active"] + v.values["quiet"] == len(j.customers)
    buyers = j.events.loc[j.events["value"].notna()]
    last = buyers.groupby(buyers["customer_id"].astype(object), observed=True)["timestamp"].max()
    from cxkit._format import duration_text
    from cxkit.retention import choose_inactivity

    gap, _ = choose_inactivity(j)  # the same gap retention and churn use
    assert v.values["active"] == int((last >= j.observed_at - gap).sum())
    assert f"bought in the last {duration_text(gap)}" in v.plain()
    g = overview.gained_lost(j)
    assert g.applies and "lost" not in g.values and "no end date" in g.plain()
    lm = F.why_not(j, "landmark")[0]
    assert not lm.applies and "churn dates" in lm.plain()
    assert "customers who left" not in overview.holdings(j).index


def test_fifty_customers(tiny):
    lm = F.why_not(tiny, "landmark")
    assert lm and not lm[0].applies and "Too few customers" in lm[0].plain()
    table = overview.segment_mix(tiny)
    assert table["small"].all()
    assert not overview.mix(table, journey=tiny).applies
    if F.why_not(tiny, "touchpoints") == []:
        by_point = cxkit.csat(tiny, by=F.touchpoint_column(tiny))
        found = F.csat_by_touchpoint(by_point, journey=tiny)[0]
        small = set(by_point.loc[by_point["small"], F.touchpoint_column(tiny)])
        assert not found.applies or found.values["name"] not in small


def test_small_groups_are_never_the_finding():
    by_point = pd.DataFrame(
        {
            "touchpoint": ["a", "b", "c"],
            "n": [5, 100, 200],
            "csat": [10.0, 60.0, 80.0],
            "ci_low": [1.0, 50.0, 74.0],
            "ci_high": [40.0, 69.0, 85.0],
            "small": [True, False, False],
        }
    )
    f = F.csat_by_touchpoint(by_point)[0]
    assert f.values["name"] == "b" and f.values["small"] == 1
    f = F.csat_by_touchpoint(by_point.assign(small=True))[0]
    assert not f.applies


def test_journey_map_without_matching_events(sample):
    ev = sample.events.copy()
    ev["event"] = ev["event"].cat.rename_categories(lambda c: f"x{c}")
    j = _shape(sample, events=ev, surveys=sample.surveys.iloc[:0])
    f = F.journey_map(journey_map(j), journey=j)[0]
    assert not f.applies and "journey stages" in f.plain()
    assert not re.search(r"[a-z]+_[a-z]+|JOURNEY_STAGES|cxkit", f.plain())


def test_journey_map_with_some_stages_unmatched(sample):
    ev = sample.events.copy()
    ev["event"] = ev["event"].cat.rename_categories({"purchase": "order_completed"})
    j = _shape(sample, events=ev)
    jm = journey_map(j)
    f = F.journey_map(jm, journey=j)[0]
    assert f.applies and f.values["missing"] == "purchase"
    assert (f.values["before"], f.values["after"]) != ("decision", "purchase")
    assert "left out" in f.plain()


def test_contractual_without_churners_yet(sample):
    cu = sample.customers.assign(churned_at=pd.NaT)
    j = _shape(sample, customers=cu)
    assert j.business_model == "contractual"
    assert "none has left" in overview.volumes(j).plain()
    assert "none has left" in overview.gained_lost(j).plain()
    assert "churn dates" in F.why_not(j, "landmark")[0].plain()


def test_spec_skip_and_readers_tables(sample):
    j = dataclasses.replace(sample, spec=Spec(skip=["experience.rfm"]))
    assert "skipped" in F.why_not(j, "rfm")[0].plain()
    shown = overview.for_readers(cxkit.csat(sample, by="touchpoint"))
    text = shown.to_string()
    assert not re.search(r"True|False|nan|ci_low", text)
    with pytest.raises(ValueError, match="unknown section"):
        F.why_not(sample, "nope")


# ------------------------------------------------------------------------------ notebook 00

BAD_TEXT = re.compile(r"\b(nan|NaN|inf|NaT|None|True|False|Traceback)\b")


def _visible(path):
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts, self.hidden = [], 0

        def handle_starttag(self, tag, attrs):
            self.hidden += tag in ("style", "script")

        def handle_endtag(self, tag):
            self.hidden -= tag in ("style", "script")

        def handle_data(self, data):
            if not self.hidden:
                self.parts.append(data)

    parser = Text()
    parser.feed(path.read_text())
    return " ".join(" ".join(parser.parts).split())


def _write(journey, folder, *, churn_dates=True):
    folder.mkdir(parents=True, exist_ok=True)
    journey.events.to_csv(folder / "events.csv", index=False)
    cu = journey.customers if churn_dates else journey.customers.drop(columns=["churned_at"])
    cu.to_csv(folder / "customers.csv", index=False)
    if len(journey.surveys):
        journey.surveys.to_csv(folder / "surveys.csv", index=False)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["sample", "bare", "csat_only", "fifty"])
def test_notebook_00_runs_and_reads_clean(tmp_path, sample, shape):
    from cxkit.report import build_report

    if shape == "sample":
        folder = None
    elif shape == "bare":  # no surveys, no device or channel, no revenue
        ev = sample.events.drop(columns=["device", "channel", "value"])
        cu = sample.customers.drop(columns=["device", "acquisition_channel"])
        folder = _write(
            _shape(sample, events=ev, customers=cu, surveys=sample.surveys.iloc[:0]),
            tmp_path / "data",
        )
    elif shape == "csat_only":  # product ratings, no churn dates
        folder = _write(csat_only(sample), tmp_path / "data", churn_dates=False)
    else:
        journey, _ = cxkit.simulate(customers=50, seed=5)
        folder = _write(journey, tmp_path / "data")
    build_report(folder, tmp_path / "out", only=["00"], progress=False)
    text = _visible(tmp_path / "out" / "00_journey_overview.html")
    assert not BAD_TEXT.search(text), BAD_TEXT.search(text)
    assert "JOURNEY_STAGES" not in text and "cxkit.experience" not in text
    if shape == "csat_only":
        assert "CSAT" in text and not re.search(r"NPS|Net Promoter", text)
        assert "have since left" not in text
    if shape == "bare":
        assert "no survey answers" in text and "no revenue" in text
    if shape == "sample":
        assert "have since left" in text and "Net Promoter Score" in text
    assert np.isfinite(len(text))

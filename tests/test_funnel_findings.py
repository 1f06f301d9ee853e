"""Findings of the funnel report (cxkit.funnel.findings) on many data shapes, without a notebook."""

import re

import numpy as np
import pandas as pd
import pytest

import cxkit
from cxkit.data import DataError, journey_from_tables
from cxkit.data.spec import Spec
from cxkit.funnel import STEPS, findings, funnel_steps, segment_gaps, tables

BAD_WORDS = re.compile(r"\b(nan|NaN|inf|NaT|None|True|False|Traceback)\b")
T0 = pd.Timestamp("2024-03-01 09:00")


def _with_spec(journey, events=None, **spec):
    events = journey.events if events is None else events
    return journey_from_tables(
        events.copy(),
        journey.customers.copy(),
        journey.surveys.copy(),
        observed_at=journey.observed_at,
        spec=Spec.from_dict(spec) if spec else None,
    )


def report(journey):
    """Every finding of notebook 01, computed as the notebook does."""
    fs = funnel_steps(journey)
    steps, kw = fs.steps, fs.kwargs
    table = cxkit.funnel(journey, steps, **kw) if steps else None
    cols = findings.segment_columns(journey, steps)
    by_segment = {c: cxkit.funnel(journey, steps, by=c, **kw) for c in cols}
    gaps = segment_gaps(journey, steps, by=cols, **kw) if cols else None
    ttc = cxkit.time_to_convert(journey, steps, **kw) if steps else None
    focus = findings.paths_focus(table, gaps, cols) if table is not None else None
    paths, group, by = None, None, None
    if focus is not None:
        stop, by, group = focus
        paths = cxkit.drop_off_paths(journey, steps, step=stop, by=by, n=5, **kw)
    closed = cxkit.funnel(journey, steps, complete_only=True, **kw) if steps else None
    ab = cxkit.ab_test(journey, steps, variant=fs.variant, **kw) if steps and fs.variant else None
    out = {
        "notes": fs.notes,
        "overall": findings.overall(table, journey=journey),
        "weakest": findings.weakest_step(table, journey=journey),
        "segments": findings.segments(by_segment, table, journey=journey),
        "gaps": findings.segment_gaps(gaps, table, journey=journey),
        "time": findings.time_to_convert(ttc, table, journey=journey),
        "paths": findings.drop_off_paths(paths, table, group=group, by=by, journey=journey),
        "open": findings.open_windows(table, closed, journey=journey),
        "todo": findings.what_to_do(table, gaps, journey=journey),
        "ab": findings.ab_test(ab, journey=journey, steps=bool(steps)),
        "overview": findings.overview(journey),
    }
    flat = [f for v in out.values() for f in (v if isinstance(v, list) else [v])]
    for f in flat:
        assert not BAD_WORDS.search(f.plain()), (f.key, f.plain())
        assert "0 days (0 to 0)" not in f.plain() and not re.search(r"\d\.\d+ hours", f.plain())
    readable = [tables.readable_funnel(table, journey=journey)] if table is not None else []
    readable += [tables.readable_times(ttc, journey=journey), tables.readable_gaps(gaps)]
    readable += [tables.readable_paths(paths, journey=journey)]
    for frame in readable:
        assert not BAD_WORDS.search(frame.to_string()), frame.to_string()
    readable += [tables.readable_ab_test(ab, journey=journey)]
    return out, {"table": table, "gaps": gaps, "ttc": ttc, "closed": closed, "ab": ab}


@pytest.fixture(scope="module")
def sample_report(sample):
    return report(sample)


# --------------------------------------------------------------------------------------------
# steps from the spec
# --------------------------------------------------------------------------------------------


def test_steps_default_to_the_sample_when_their_events_exist(sample):
    steps, window, notes = funnel_steps(sample)
    assert steps == dict(STEPS) and window == "14D"
    assert notes[0].applies and "[funnel]" in notes[0].plain()


def test_steps_come_from_the_spec(sample):
    j = _with_spec(
        sample,
        funnel={
            "steps": {"cart": "add_to_cart", "buy": "purchase"},
            "window": "3D",
            "entry": "first",
        },
    )
    fs = funnel_steps(j)
    assert fs.steps == {"cart": ["add_to_cart"], "buy": ["purchase"]}
    assert fs.kwargs == {"window": "3D", "entry": "first"} and fs.notes == []


def test_no_spec_and_other_event_names_give_no_steps(sample):
    events = sample.events.copy()
    events["event"] = events["event"].cat.rename_categories({"purchase": "order"})
    fs = funnel_steps(_with_spec(sample, events))
    assert fs.steps is None
    note = fs.notes[0]
    assert not note.applies
    assert note.plain() == (
        "The funnel needs its steps: add a [funnel] section to cxkit.toml (cxkit init writes "
        "a starter)."
    )


def test_steps_matching_no_event_are_explained_not_a_key_error(sample):
    j = _with_spec(sample, funnel={"steps": {"visit": "site_visit", "pay": ["paid", "payment"]}})
    fs = funnel_steps(j)
    assert fs.steps is None and not fs.notes[0].applies
    text = fs.notes[0].plain()
    assert "pay (paid or payment)" in text and "site_visit" in text and "app_login" in text
    with pytest.raises(DataError, match=r"steps\.pay.*\n.*|paid"):
        funnel_steps(j, strict=True)
    out, _ = report(j)  # every section explains instead of failing
    assert not out["overall"].applies and "no steps" in out["overall"].plain()
    assert all(not f.applies for f in out["overview"])


def test_a_skipped_funnel_has_no_steps(sample):
    fs = funnel_steps(_with_spec(sample, skip=["funnel"]))
    assert fs.steps is None and "skip" in fs.notes[0].plain()


def test_bad_spec_steps_raise_data_error(sample):
    with pytest.raises(DataError, match="steps"):
        funnel_steps(_with_spec(sample, funnel={"steps": {"visit": 3}}))


# --------------------------------------------------------------------------------------------
# the sample: numbers equal the tables, the planted pain point is found
# --------------------------------------------------------------------------------------------


def test_overall_and_weakest_equal_the_funnel_table(sample_report):
    out, res = sample_report
    table = res["table"]
    o = out["overall"].values
    assert out["overall"].headline
    assert o["n"] == table["customers"].iloc[0] and o["reached"] == table["customers"].iloc[-1]
    assert o["pct"] == pytest.approx(table["pct_of_start"].iloc[-1])
    assert o["window"] == "14 days"
    w = out["weakest"].values
    later = table[table["step_index"] > 1]
    row = later.loc[later["pct_of_previous"].idxmin()]
    assert row["step"] == "add_to_cart" and w["step"] == "add to cart"  # in words
    assert w["previous"] == "product view"
    assert w["pct"] == pytest.approx(row["pct_of_previous"])
    at = table.set_index("step")["customers"]
    assert w["lost"] == at["product_view"] - at["add_to_cart"]


def test_the_planted_pain_point_is_found(sample_report, sample_truth):
    out, res = sample_report
    pain = sample_truth["funnel"]["pain_point"]
    gap = out["gaps"]
    assert gap.headline and gap.values["group"] == pain["segment_value"]
    assert gap.values["step"] == pain["step"] and gap.values["previous"] == pain["from_step"]
    worst = res["gaps"].iloc[0]
    assert gap.values["diff"] == pytest.approx(worst["diff_pp"])
    assert gap.values["lost"] == pytest.approx(worst["lost"])
    check = findings.truth_check(res["gaps"], sample_truth)
    assert check.values["found"] and "found exactly that" in check.plain()
    device = [f for f in out["segments"] if f.values["column"] == "device"][0]
    assert device.values["step"] == "purchase" and device.values["low"] == "mobile"


def test_time_to_convert_reads_in_the_unit_its_size_calls_for(sample_report):
    out, res = sample_report
    ttc = res["ttc"]
    row = ttc.loc[ttc["median_hours_converted"].idxmax()]
    t = out["time"].values
    assert t["median_hours_converted"] == pytest.approx(row["median_hours_converted"])
    assert t["median"] == "6 hours" and "add to cart → checkout" in out["time"].plain()
    times = tables.readable_times(ttc)
    assert times.loc["awareness", "Median of those who moved on"] == "18 minutes"


def test_time_to_convert_keeps_the_two_medians_apart():
    # 4 people at A; 2 reach B after 1 h and 3 h, 2 never: the median among those who moved on
    # is 2 hours, while half of everyone at A has moved on by 3 hours (Kaplan-Meier)
    rows = [("a", 0, "A"), ("a", 1, "B"), ("b", 0, "A"), ("b", 3, "B"), ("c", 0, "A")]
    rows += [("d", 0, "A"), ("e", 30 * 24, "Z")]
    events = pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": [T0 + pd.Timedelta(hours=r[1]) for r in rows],
            "event": [r[2] for r in rows],
        }
    )
    ttc = cxkit.time_to_convert(events, ["A", "B"], window="1D")
    f = findings.time_to_convert(ttc)
    assert f.values["median_hours_converted"] == 2.0 and f.values["median"] == "2 hours"
    assert f.values["median_hours"] == 3.0 and f.values["everyone"] == "3 hours"
    assert "half of everyone at A has taken it within 3 hours" in f.plain()
    assert "half of them" not in f.plain()
    # fewer than half ever move on: no time by which half of everyone has
    ttc = cxkit.time_to_convert(events[events["customer_id"] != "b"], ["A", "B"], window="1D")
    f = findings.time_to_convert(ttc)
    assert f.values["median_hours"] is None and "half of everyone" not in f.plain()


def test_paths_and_what_to_do(sample_report):
    out, res = sample_report
    p = out["paths"]
    assert p.values["step"] == "checkout" and p.values["path"] == "help center"
    fix, leak = out["todo"]
    assert fix.headline and fix.values["group"] == "mobile" and fix.values["order_value"] > 0
    assert "in orders" in fix.plain() and "everyone is product view → add to cart" in leak.plain()


def test_open_windows_states_the_measured_direction(sample_report):
    out, res = sample_report
    f = out["open"]
    assert f.values["open"] == res["table"].attrs["open_windows"]
    diff = abs(f.values["pct_closed"] - f.values["pct"])
    assert ("agree" in f.plain()) == (diff < 0.1)
    table, closed = res["table"].copy(), res["closed"].copy()
    closed["pct_of_start"] = closed["pct_of_start"] + 1.0  # pretend leaving them out raises it
    assert "understates" in findings.open_windows(table, closed).plain()
    closed["pct_of_start"] = closed["pct_of_start"] - 2.0
    assert "overstates" in findings.open_windows(table, closed).plain()


def _ab_journey(journey, **funnel):
    """The journey with a random 50/50 arm per person on their events, and the spec naming it."""
    rng = np.random.default_rng(11)
    ids = journey.events["customer_id"].astype(str)
    people = pd.unique(ids)
    arm = pd.Series(np.where(rng.random(len(people)) < 0.5, "control", "new_checkout"), people)
    return journey_from_tables(
        journey.events.assign(arm=ids.map(arm).to_numpy()),
        journey.customers.copy(),
        journey.surveys.copy(),
        observed_at=journey.observed_at,
        spec=Spec.from_dict({"funnel": {"variant": "arm", **funnel}}),
    )


def test_ab_test_section_follows_the_result(sample, sample_report):
    j = _ab_journey(sample)
    fs = funnel_steps(j)
    assert fs.variant == "arm" and "variant" not in fs.kwargs
    out, res = report(j)
    ab = res["ab"]
    head, srm, caveat = out["ab"]
    row = ab.conversion_.iloc[0]
    assert (head.values["arm"], head.values["control"]) == ("new_checkout", "control")
    assert head.values["pct_arm"] == row.pct_arm and head.values["diff"] == row.diff_pp
    assert head.values["n_arm"] + head.values["n_control"] == j.events["customer_id"].nunique()
    # a random split of customers changes nothing: not confirmed, and the MDE says how much
    # could have been seen; the sizes match the designed split
    assert not row.significant and "can confirm" in head.plain() and "detects" in head.plain()
    assert "match the designed split" in srm.plain()
    assert "description only" in caveat.plain() and "one look" in caveat.plain()
    shown = tables.readable_ab_test(ab, journey=j)
    assert len(shown) == len(ab.table)
    # without a variant in the spec, the section says how to get one
    (none,) = sample_report[0]["ab"]
    assert not none.headline and "names no variant" in none.plain()  # a note, not a gap


def test_a_bad_variant_in_the_spec_names_the_key(sample):
    for bad in (3, "", ["arm"]):
        with pytest.raises(DataError, match=r"funnel\.variant"):
            Spec.from_dict({"funnel": {"variant": bad}})
    j = _ab_journey(sample)
    with pytest.raises(DataError, match=r"variant(.|\n)*'nope' is in neither"):
        cxkit.ab_test(j, STEPS, variant="nope")
    wrong = journey_from_tables(
        j.events, j.customers, spec=Spec.from_dict({"funnel": {"variant": "nope"}})
    )
    with pytest.raises(DataError, match=r"funnel\.variant(.|\n)*'nope' is in neither"):
        funnel_steps(wrong)


def test_overview_headline_and_money_summary(sample):
    head, money = findings.overview(sample)
    assert head.headline and not head.summary and money.summary
    assert "reach purchase" in head.plain() and "product view → add to cart" in head.plain()
    j = _with_spec(sample, money={"currency": "EUR"})
    assert findings.overview(j)[1].plain().count("EUR") == 1
    assert (
        "EUR"
        in findings.what_to_do(
            cxkit.funnel(j, STEPS), segment_gaps(j, STEPS, by=["device"]), journey=j
        )[0].plain()
    )


def test_no_value_means_no_money(sample):
    j = _with_spec(sample, sample.events.drop(columns=["value"]))
    assert [f.summary for f in findings.overview(j)] == [False]
    fix = findings.what_to_do(
        cxkit.funnel(j, STEPS), segment_gaps(j, STEPS, by=["device"]), journey=j
    )[0]
    assert "orders" not in fix.plain()


def test_labels_reach_the_reader(sample):
    j = _with_spec(sample, labels={"purchase": "Bought", "checkout": "Checked out"})
    out, _ = report(j)
    assert "Bought" in out["overall"].plain()
    assert "Checked out → Bought" in out["gaps"].plain()


def test_skipped_sections_say_so(sample):
    j = _with_spec(sample, skip=["funnel.segments"])
    assert findings.segment_columns(j, STEPS) == []
    f = findings.segments({}, cxkit.funnel(j, STEPS), journey=j)[0]
    assert not f.applies and "skip" in f.plain()


# --------------------------------------------------------------------------------------------
# odd shapes
# --------------------------------------------------------------------------------------------


def test_no_device_or_channel(sample):
    j = _with_spec(sample, sample.events.drop(columns=["device", "channel"]))
    out, res = report(j)
    assert res["gaps"] is None
    (seg,) = out["segments"]
    assert not seg.applies and "device or channel" in seg.plain()
    assert not out["gaps"].applies
    assert out["overall"].applies and out["weakest"].applies and out["paths"].applies
    assert len(out["todo"]) == 1 and out["todo"][0].applies  # the leak for everyone only


def test_one_segment_level(sample):
    events = sample.events.drop(columns=["channel"])
    events["device"] = "desktop"
    out, _ = report(_with_spec(sample, events))
    (seg,) = out["segments"]
    assert not seg.applies and "only one value" in seg.plain() and "device" in seg.plain()


def _minute_journey(**spec):
    """Hand-made sessions: view, then cart 2–9 minutes later, then pay a minute or two after."""
    rng = np.random.default_rng(3)
    rows = []
    for i in range(200):
        t = T0 + pd.Timedelta(minutes=int(rng.integers(0, 5000)))
        rows.append((f"c{i}", t, "view", "mobile" if i % 2 else "desktop"))
        if i % 3:
            t = t + pd.Timedelta(minutes=int(rng.integers(2, 10)))
            rows.append((f"c{i}", t, "cart", "mobile" if i % 2 else "desktop"))
            if i % 4:
                rows.append(
                    (
                        f"c{i}",
                        t + pd.Timedelta(seconds=int(rng.integers(60, 180))),
                        "pay",
                        "mobile" if i % 2 else "desktop",
                    )
                )
    raw = pd.DataFrame(rows, columns=["customer_id", "timestamp", "event", "device"])
    events = cxkit.read_events(raw, device="device")
    first = raw.groupby("customer_id")["timestamp"].min().reset_index()
    customers = cxkit.read_customers(first.rename(columns={"timestamp": "signup_at"}))
    spec = {
        "funnel": {"steps": {"view": "view", "cart": "cart", "pay": "pay"}, "window": "1h"},
        **spec,
    }
    return journey_from_tables(events, customers, spec=Spec.from_dict(spec))


def test_a_minute_scale_funnel_reads_in_minutes():
    j = _minute_journey()
    out, res = report(j)
    text = out["time"].plain()
    assert "minutes" in text and "hour" not in text and "days" not in text, text
    assert out["overall"].values["window"] == "60 minutes"
    readable = tables.readable_funnel(res["table"], journey=j)
    assert readable["Median time from previous step"].str.contains("minute").all() or (
        readable["Median time from previous step"].iloc[0] == ""
    )


def test_a_one_step_funnel():
    j = _minute_journey(funnel={"steps": {"view": "view"}})
    out, res = report(j)
    assert out["overall"].applies and "one step" in out["overall"].plain()
    assert out["overall"].values["n"] == 200
    for key in ("weakest", "gaps", "time", "paths", "open"):
        assert not out[key].applies and "one step" in out[key].plain().lower(), key
    assert not out["segments"][0].applies and "one step" in out["segments"][0].plain()
    assert "one step" in out["overview"][0].plain()


def test_fifty_customers():
    journey, _ = cxkit.simulate(customers=50, seed=4)
    out, res = report(journey)
    assert out["overall"].applies
    assert out["overall"].values["n"] == res["table"]["customers"].iloc[0]
    gaps = out["gaps"]
    if not gaps.headline:  # too few for a significant gap: the MDE says how large one could be
        assert "MDE" in gaps.plain() or not gaps.applies


# --------------------------------------------------------------------------------------------
# notebook 01 on odd folders: it runs, and readers never see nan, NaT, None, True/False
# --------------------------------------------------------------------------------------------


def _visible_text(html_text):
    import html

    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html_text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text))


def _write(folder, journey, events=None, spec=None):
    folder.mkdir()
    (journey.events if events is None else events).to_csv(folder / "events.csv", index=False)
    journey.customers.to_csv(folder / "customers.csv", index=False)
    if spec is not None:
        (folder / "cxkit.toml").write_text(spec)
    return folder


def _folders(root):
    small, _ = cxkit.simulate(customers=300, seed=5)
    fifty, _ = cxkit.simulate(customers=50, seed=4)
    minutes = _minute_journey()
    renamed = small.events.copy()
    renamed["event"] = renamed["event"].cat.rename_categories({"purchase": "order"})
    steps = '[funnel]\nwindow = "1h"\nsteps = {view = "view", cart = "cart", pay = "pay"}\n'
    return {
        "no_segments": _write(
            root / "no_segments", small, small.events.drop(columns=["device", "channel"])
        ),
        "fifty": _write(root / "fifty", fifty),
        "minutes": _write(root / "minutes", minutes, spec=steps + '[labels]\npay = "Paid"\n'),
        "one_step": _write(root / "one_step", minutes, spec='[funnel]\nsteps = {view = "view"}\n'),
        "unmatched": _write(
            root / "unmatched",
            small,
            spec='[funnel]\nsteps = {visit = "site_visit", x = "nope"}\n',
        ),
        "no_steps": _write(root / "no_steps", small, renamed),
        "ab": _write(root / "ab", _ab_journey(small), spec='[funnel]\nvariant = "arm"\n'),
    }


EXPECT = {
    "no_segments": "device or channel",
    "fifty": "reached purchase",
    "minutes": "minutes",
    "one_step": "one step",
    "unmatched": "no event matches the step",
    "no_steps": "The funnel needs its steps",
    "ab": "of everyone assigned to new_checkout reached",
}


@pytest.mark.slow
def test_notebook_01_on_odd_folders(tmp_path):
    from cxkit.report import build_report

    for name, folder in _folders(tmp_path).items():
        out = tmp_path / f"out-{name}"
        build_report(folder, out, only=["01"], progress=False)
        text = _visible_text((out / "01_buyer_funnel.html").read_text())
        assert not BAD_WORDS.search(text), (name, BAD_WORDS.findall(text))
        assert EXPECT[name] in text, (name, text[:3000])
        assert "0 days (0 to 0)" not in text and not re.search(r"\d\.\d+ hours", text)
        if name == "minutes":
            assert "Paid" in text and "hour" not in text.split("How long do steps take?")[1]


def test_readable_window_puts_the_short_window_beside_the_full(sample):
    fs = funnel_steps(sample)
    full = cxkit.funnel(sample, fs.steps, **fs.kwargs)
    short = cxkit.funnel(sample, fs.steps, **{**fs.kwargs, "window": "3D"})
    t = tables.readable_window(short, full, "3D", journey=sample)
    assert list(t.columns) == [
        "Step",
        "People within 3 days",
        "% of entrants within 3 days",
        "% of entrants, full window",
    ]
    last = t.iloc[-1]
    assert last["People within 3 days"] == f"{int(short['customers'].iloc[-1]):,}"
    assert last["% of entrants, full window"] == f"{full['pct_of_start'].iloc[-1]:.1f}%"
    assert not BAD_WORDS.search(t.to_string())

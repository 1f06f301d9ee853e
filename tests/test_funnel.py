"""Tests of cxkit.funnel: hand cases, a plain reference implementation, chdb, the simulator."""

import warnings

import funnel_logs
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxkit
from cxkit.data import DataError
from cxkit.funnel import STEPS, _adjust, _wilson, funnel_table

T0 = pd.Timestamp("2024-01-01")


def log(rows):
    """Events from (customer, offset, event[, device]) tuples; offsets are Timedeltas or hours."""
    out = []
    for r in rows:
        offset = r[1] if isinstance(r[1], pd.Timedelta) else pd.Timedelta(hours=r[1])
        out.append(
            {
                "customer_id": r[0],
                "timestamp": T0 + offset,
                "event": r[2],
                "device": r[3] if len(r) > 3 else "desktop",
            }
        )
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------------------
# reference implementation: one person at a time, straight from the definition
# --------------------------------------------------------------------------------------------


def reference(
    events,
    steps,
    window,
    *,
    strict=False,
    exclude=(),
    entry="all",
    start=None,
    end=None,
    step_windows=None,
):
    """{customer: (depth, [step times], entry position in events)} by the written rules.

    ``step_windows``: a list with one duration (or None) per step after the first."""
    sets = [{s} if isinstance(s, str) else set(s) for s in steps]
    window = pd.Timedelta(window)
    own = [None] + [None if w is None else pd.Timedelta(w) for w in (step_windows or [])]
    own += [None] * (len(sets) - len(own))
    frame = events.reset_index(drop=True).assign(_pos=np.arange(len(events)))
    frame = frame.sort_values(["customer_id", "timestamp", "_pos"], kind="stable")
    out = {}
    for cid, g in frame.groupby("customer_id", sort=False):
        rows = list(zip(g["timestamp"], g["event"], g["_pos"], strict=True))
        entries = [i for i, r in enumerate(rows) if r[1] in sets[0]]
        if entry == "first":
            entries = entries[:1]
        entries = [
            i
            for i in entries
            if (start is None or rows[i][0] >= pd.Timestamp(start))
            and (end is None or rows[i][0] < pd.Timestamp(end))
        ]
        best = None
        for e in entries:
            chain = [e]
            for k in range(1, len(sets)):
                prev = chain[-1]
                cand = next(
                    (
                        i
                        for i, r in enumerate(rows)
                        if i not in chain and r[1] in sets[k] and r[0] >= rows[prev][0]
                    ),
                    None,
                )
                if cand is None or rows[cand][0] > rows[e][0] + window:
                    break
                if own[k] is not None and rows[cand][0] > rows[prev][0] + own[k]:
                    break
                between = [r[1] for r in rows[min(prev, cand) + 1 : max(prev, cand)]]
                if any(b in exclude for b in between):
                    break
                if strict:
                    allowed = sets[k - 1] | sets[k]
                    others = set().union(*(s for j, s in enumerate(sets) if j not in (k - 1, k)))
                    if any(b in others - allowed for b in between):
                        break
                chain.append(cand)
            if best is None or len(chain) > len(best):
                best = chain
        if best is not None:
            out[cid] = (len(best), [rows[i][0] for i in best], rows[best[0]][2])
    return out


def check_against_reference(events, steps, window, **options):
    ref = reference(events, steps, window, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = funnel_table(events, steps, window=window, **options)
    assert set(table["customer_id"]) == set(ref)
    for row in table.itertuples(index=False):
        depth, times, entry_pos = ref[row.customer_id]
        assert row.depth == depth, (row.customer_id, row.depth, depth)
        got = [getattr(row, f"step_{k + 1}_at") for k in range(depth)]
        assert got == times, (row.customer_id, got, times)
        assert row.entry_row == entry_pos
    return table, ref


# --------------------------------------------------------------------------------------------
# hand cases
# --------------------------------------------------------------------------------------------


def test_chain_ending_exactly_on_window_boundary_counts():
    ev = log(
        [
            ("a", 0, "A"),
            ("a", pd.Timedelta("14D"), "B"),
            ("b", 0, "A"),
            ("b", pd.Timedelta("14D") + pd.Timedelta("1s"), "B"),
        ]
    )
    f = cxkit.funnel(ev, ["A", "B"], window="14D")
    assert f["customers"].tolist() == [2, 1]
    assert f.loc[1, "median_time_to_step"] == pd.Timedelta("14D")


def test_later_entry_with_deeper_chain_wins():
    ev = log(
        [
            ("a", 0, "A"),
            ("a", 24, "B"),
            ("a", 20 * 24, "A"),
            ("a", 21 * 24, "B"),
            ("a", 22 * 24, "C"),
        ]
    )
    table = funnel_table(ev, ["A", "B", "C"], window="14D")
    assert table["depth"].tolist() == [3]
    assert table.loc[0, "step_1_at"] == T0 + pd.Timedelta(days=20)
    assert table.loc[0, "entry_row"] == 2


def test_earliest_entry_reaching_the_depth_gives_the_times():
    ev = log([("a", 0, "A"), ("a", 1, "A"), ("a", 2, "B")])
    table = funnel_table(ev, ["A", "B"], window="1D")
    assert table.loc[0, "step_1_at"] == T0
    assert table.loc[0, "step_2_at"] == T0 + pd.Timedelta(hours=2)


def test_steps_in_the_wrong_order_do_not_count():
    ev = log([("a", 0, "B"), ("a", 1, "A"), ("b", 0, "C"), ("b", 1, "B"), ("b", 2, "A")])
    f = cxkit.funnel(ev, ["A", "B", "C"])
    assert f["customers"].tolist() == [2, 0, 0]


def test_equal_timestamps_count_and_a_row_matches_one_step():
    ev = log([("a", 0, "B"), ("a", 0, "A"), ("b", 0, "A")])
    assert cxkit.funnel(ev, ["A", "B"])["customers"].tolist() == [2, 1]
    # the same row cannot be step 1 and step 2: "A twice" needs two A rows
    assert cxkit.funnel(ev, ["A", "A"])["customers"].tolist() == [2, 0]


def test_tied_rows_are_not_reused_for_later_steps():
    # two purchases at one moment are two orders, not three
    ev = log([("a", 0, "purchase"), ("a", 0, "purchase"), ("b", 0, "purchase")])
    ev = pd.concat([ev, log([("b", 24, "purchase"), ("b", 24, "purchase")])], ignore_index=True)
    table = funnel_table(ev, ["purchase"] * 3, window="14D").set_index("customer_id")
    assert table["depth"].to_dict() == {"a": 2, "b": 3}
    f = cxkit.funnel(ev, ["purchase"] * 3, window="14D")
    assert f["customers"].tolist() == [2, 2, 1]
    # a tie of three rows across alternating steps: A, B, A at one time gives depth 3, not 4
    ev = log([("a", 0, "A"), ("a", 0, "B"), ("a", 0, "A")])
    assert funnel_table(ev, ["A", "B", "A", "B"])["depth"].tolist() == [3]


def test_a_few_ties_among_many_rows():
    # few tied rows (the lookup among tied rows only, not a table over the whole log): a tied
    # row before the entry in the input still counts as at the entry's time
    rows = [("a", 0, "A"), ("a", 1, "B"), ("a", 1, "B"), ("c", 5, "B"), ("c", 5, "A")]
    rows += [(f"p{i:02d}", 0, "A") for i in range(20)] + [(f"p{i:02d}", 2, "B") for i in range(20)]
    ev = log(rows)
    table = funnel_table(ev, ["A", "B", "B"]).set_index("customer_id")
    assert table.loc["a", "depth"] == 3
    assert table.loc["a", "step_3_at"] == T0 + pd.Timedelta(hours=1)
    assert table.loc["c", "depth"] == 2
    assert table.loc["c", "step_2_at"] == T0 + pd.Timedelta(hours=5)
    assert table.loc["c", "entry_row"] == 4
    assert (table.drop(index=["a", "c"])["depth"] == 2).all()
    f = cxkit.funnel(ev, ["A", "B", "B"])
    assert f["customers"].tolist() == [22, 22, 1]


def longest_chain(events, steps, window):
    """{customer: depth}: the longest chain of distinct rows, by exhaustive search.

    Steps are single events; a chain's times never decrease and stay within ``window`` of its
    first row."""
    window = pd.Timedelta(window)
    out = {}
    for cid, g in events.groupby("customer_id", sort=False):
        rows = list(zip(g["timestamp"], g["event"], strict=True))

        def deepest(chain, rows=rows):
            k = len(chain)
            if k == len(steps):
                return k
            t_prev, t_entry = rows[chain[-1]][0], rows[chain[0]][0]
            best = k
            for i, (t, e) in enumerate(rows):
                if i not in chain and e == steps[k] and t_prev <= t <= t_entry + window:
                    best = max(best, deepest(chain + [i]))
                    if best == len(steps):
                        break
            return best

        depths = [deepest([i]) for i, r in enumerate(rows) if r[1] == steps[0]]
        if depths:
            out[cid] = max(depths)
    return out


@st.composite
def tied_logs(draw):
    """Whole-day timestamps (many ties) and steps that repeat events."""
    n = draw(st.integers(1, 14))
    frame = pd.DataFrame(
        {
            "customer_id": draw(st.lists(st.sampled_from(["p", "q"]), min_size=n, max_size=n)),
            "timestamp": T0
            + pd.to_timedelta(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), "D"),
            "event": draw(st.lists(st.sampled_from(["A", "B"]), min_size=n, max_size=n)),
        }
    )
    steps = draw(st.lists(st.sampled_from(["A", "B"]), min_size=2, max_size=5))
    return frame, steps, draw(st.sampled_from(["1min", "1D", "3D", "14D"]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tied_logs())
def test_ties_and_repeated_steps_equal_the_longest_chain_of_distinct_rows(data):
    events, steps, window = data
    table, ref = check_against_reference(events, steps, window)
    assert table.set_index("customer_id")["depth"].to_dict() == longest_chain(
        events, steps, window
    )


def test_alternatives_and_named_steps():
    ev = log([("a", 0, "x"), ("a", 1, "B"), ("b", 0, "y"), ("c", 0, "B")])
    f = cxkit.funnel(ev, {"aware": ["x", "y"], "buy": "B"})
    assert f["step"].tolist() == ["aware", "buy"]
    assert f["customers"].tolist() == [2, 1]
    assert f["pct_of_previous"].tolist() == [100.0, 50.0]


def test_step_no_event_matches_gives_zeros_and_a_warning():
    ev = log([("a", 0, "A"), ("a", 1, "B")])
    with pytest.warns(UserWarning, match="nope"):
        f = cxkit.funnel(ev, ["A", "nope", "B"])
    assert f["customers"].tolist() == [1, 0, 0]
    with pytest.warns(UserWarning, match="A"):
        f = cxkit.funnel(ev, ["Z", "A"])
    assert f["customers"].tolist() == [0, 0]
    assert f["pct_of_start"].isna().all()


def test_columns_percentages_and_wilson():
    ev = log([(str(i), 0, "A") for i in range(10)] + [(str(i), 1, "B") for i in range(5)])
    f = cxkit.funnel(ev, ["A", "B"])
    assert list(f.columns) == [
        "step_index",
        "step",
        "customers",
        "pct_of_start",
        "pct_of_previous",
        "ci_low",
        "ci_high",
        "median_time_to_step",
    ]
    assert f.loc[1, "pct_of_start"] == 50.0
    # Wilson 95% for 5 of 10: 23.66% to 76.34%
    assert f.loc[1, "ci_low"] == pytest.approx(23.66, abs=0.01)
    assert f.loc[1, "ci_high"] == pytest.approx(76.34, abs=0.01)
    lo, hi = _wilson(0, 20)
    assert lo == 0 and hi == pytest.approx(16.11, abs=0.01)


def test_input_is_not_modified_and_order_does_not_matter():
    ev = log([("a", 2, "B"), ("b", 0, "A"), ("a", 0, "A"), ("b", 3, "C"), ("b", 1, "B")])
    before = ev.copy()
    f1 = cxkit.funnel(ev, ["A", "B", "C"])
    pd.testing.assert_frame_equal(ev, before)
    f2 = cxkit.funnel(ev.sample(frac=1, random_state=0), ["A", "B", "C"])
    pd.testing.assert_frame_equal(f1, f2)
    assert f1["customers"].tolist() == [2, 2, 1]


def test_strict_exclude_entry_and_date_range():
    ev = log(
        [
            ("a", 0, "A"),
            ("a", 1, "C"),
            ("a", 2, "B"),
            ("a", 3, "C"),
            ("b", 0, "A"),
            ("b", 1, "X"),
            ("b", 2, "B"),
            ("c", 0, "A"),
            ("c", 1, "A"),
            ("c", 2, "B"),
        ]
    )
    assert cxkit.funnel(ev, ["A", "B", "C"])["customers"].tolist() == [3, 3, 1]
    # strict: C (another step's event) between A and B breaks a's chain; a repeated A does not
    assert cxkit.funnel(ev, ["A", "B", "C"], strict=True)["customers"].tolist() == [3, 2, 0]
    assert cxkit.funnel(ev, ["A", "B"], exclude=["X"])["customers"].tolist() == [3, 2]
    first = cxkit.funnel(ev, ["A", "B"], entry="first", window="90min")
    assert first["customers"].tolist() == [3, 0]
    ranged = cxkit.funnel(ev, ["A", "B"], start=T0 + pd.Timedelta("30min"))
    assert ranged["customers"].tolist() == [1, 1]


def test_open_windows_are_counted_and_complete_only_leaves_them_out():
    ev = log(
        [
            ("a", 0, "A"),
            ("a", 1, "B"),
            ("b", 0, "A"),
            ("c", 20 * 24, "A"),
            ("d", 21 * 24, "A"),
            ("d", 21 * 24 + 1, "B"),
        ]
    )
    f = cxkit.funnel(ev, ["A", "B"], window="14D")
    assert f["customers"].tolist() == [4, 2]
    assert f.attrs["open_windows"] == 2 and f.attrs["open_not_converted"] == 1
    g = cxkit.funnel(ev, ["A", "B"], window="14D", complete_only=True)
    assert g["customers"].tolist() == [2, 1]
    assert g.attrs["left_out_open"] == 2 and g.attrs["entrants"] == 2


def test_complete_only_judges_people_on_their_closed_entries():
    # a converts from a closed entry and enters again near the end: kept, converted; b converts
    # only from its open entry: kept, judged on its closed entry, which did not convert; c has
    # only an open entry: left out
    ev = log(
        [
            ("a", 0, "A"),
            ("a", 1, "B"),
            ("a", 29 * 24, "A"),
            ("b", 0, "A"),
            ("b", 29 * 24, "A"),
            ("b", 29 * 24 + 1, "B"),
            ("c", 29 * 24 + 2, "A"),
        ]
    )
    g = cxkit.funnel(ev, ["A", "B"], window="14D", complete_only=True)
    assert g["customers"].tolist() == [2, 1]
    assert g.attrs["left_out_open"] == 1  # c: every entry still open
    assert g.attrs["open_windows"] == 3 and g.attrs["judged_on_closed"] == 2
    assert g.attrs["open_entries_left_out"] == 3


def _repeat_orders(seed, n=4000, days=730):
    """Customers who order at their own rate until they lapse (many keep buying)."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0, days, n)
    rate = rng.gamma(0.3, 1 / 60, n)  # orders per day
    end = np.minimum(start + rng.exponential(1500, n), days + 365)
    k = 1 + rng.poisson(rate * (end - start))
    who = np.repeat(np.arange(n), k)
    when = start[who] + rng.uniform(0, 1, len(who)) * (end - start)[who]
    when[np.r_[0, np.cumsum(k)[:-1]]] = start
    return pd.DataFrame(
        {
            "customer_id": who.astype(str),
            "timestamp": T0 + pd.to_timedelta(when, "D"),
            "event": "order",
        }
    )


def test_complete_only_recovers_the_repeat_rate_of_the_full_history():
    full = _repeat_orders(2)
    observed, window = T0 + pd.Timedelta("730D"), pd.Timedelta("60D")
    # truth from the whole history (nothing censored), straight from the definition: a second
    # order within 60 days of an order placed while the window could still close in the data
    o = full.sort_values(["customer_id", "timestamp"])
    gap = o.groupby("customer_id")["timestamp"].shift(-1) - o["timestamp"]
    entered = o["timestamp"] <= observed - window
    truth = 100 * o.loc[entered & (gap <= window), "customer_id"].nunique()
    truth /= o.loc[entered, "customer_id"].nunique()
    assert 20 < truth < 32
    seen = full[full["timestamp"] <= observed]
    f = cxkit.funnel(
        seen, ["order", "order"], window="60D", observed_at=observed, complete_only=True
    )
    assert f["pct_of_start"].iloc[-1] == pytest.approx(truth, abs=1e-9)
    # leaving out everyone whose last order is recent (the old rule) gave 17.2% against 26.0%
    last = seen.groupby("customer_id")["timestamp"].max()
    assert f.attrs["open_windows"] == int((last + window > observed).sum())
    assert f.attrs["left_out_open"] < f.attrs["open_windows"] / 2


def test_by_events_column_on_entry_event_and_customer_attribute():
    ev = log(
        [
            ("a", 0, "A", "mobile"),
            ("a", 1, "B", "desktop"),
            ("b", 0, "A", "desktop"),
            ("c", 0, "A", "mobile"),
        ]
    )
    f = cxkit.funnel(ev, ["A", "B"], by="device")
    got = f.set_index(["device", "step_index"])["customers"].to_dict()
    assert got == {("desktop", 1): 1, ("desktop", 2): 0, ("mobile", 1): 2, ("mobile", 2): 1}
    customers = pd.DataFrame(
        {"customer_id": ["a", "b"], "signup_at": [T0, T0], "plan": ["annual", "monthly"]}
    )
    f = cxkit.funnel(ev, ["A", "B"], by="plan", customers=customers)
    got = f.set_index(["plan", "step_index"])["customers"].to_dict()
    assert got[("(missing)", 1)] == 1 and got[("annual", 2)] == 1
    assert f.attrs["missing_group"] == 1


def test_stages_give_a_stage_level_funnel():
    ev = log(
        [
            ("a", 0, "ad_click"),
            ("a", 1, "product_view"),
            ("a", 2, "checkout"),
            ("b", 0, "email_click"),
            ("b", 1, "site_visit"),
        ]
    )
    with pytest.warns(UserWarning, match="purchase"):
        f = cxkit.funnel(ev, stages=cxkit.STAGES)
    assert f["step"].tolist()[:3] == ["awareness", "consideration", "decision"]
    assert f["customers"].tolist()[:4] == [2, 2, 1, 0]


def test_step_window_boundary_is_inclusive():
    ev = log(
        [
            ("a", 0, "A"),
            ("a", pd.Timedelta("1h"), "B"),  # just inside B's own window
            ("b", 0, "A"),
            ("b", pd.Timedelta("1h") + pd.Timedelta("1s"), "B"),  # just outside
            ("c", 0, "A"),
            ("c", pd.Timedelta("30min"), "B"),
            ("c", pd.Timedelta("30min") + pd.Timedelta("1D"), "C"),  # C has no own limit
        ]
    )
    f = cxkit.funnel(ev, ["A", "B", "C"], window="14D", step_windows={"B": "1h"})
    assert f["customers"].tolist() == [3, 2, 1]
    assert f.attrs["step_windows"] == {"A": None, "B": "0 days 01:00:00", "C": None}
    as_list = cxkit.funnel(ev, ["A", "B", "C"], window="14D", step_windows=["1h", None])
    pd.testing.assert_frame_equal(f, as_list)
    # the overall window still holds: C is within its own window but not within 1D of entry
    g = cxkit.funnel(ev, ["A", "B", "C"], window="1D", step_windows=["1h", "2D"])
    assert g["customers"].tolist() == [3, 2, 0]


def test_later_entry_meets_the_step_window_the_earliest_misses():
    ev = log([("a", 0, "A"), ("a", 5, "A"), ("a", 6, "B"), ("b", 0, "A"), ("b", 6, "B")])
    table = funnel_table(ev, ["A", "B"], window="1D", step_windows={"B": "2h"})
    got = table.set_index("customer_id")
    assert got["depth"].to_dict() == {"a": 2, "b": 1}
    assert got.loc["a", "step_1_at"] == T0 + pd.Timedelta(hours=5)
    assert got.loc["a", "entry_row"] == 1
    # without the step window the earliest entry reaches B and gives the times
    plain = funnel_table(ev, ["A", "B"], window="1D").set_index("customer_id")
    assert plain.loc["a", "step_1_at"] == T0


def test_step_window_runs_from_the_earliest_match_of_the_previous_step():
    # B matches at 1 h (the earliest B), so C at 4 h is 3 h after it: too late for "2h",
    # even though a later B (3 h) would have been close enough — the chain rule, as in ClickHouse
    ev = log([("a", 0, "A"), ("a", 1, "B"), ("a", 3, "B"), ("a", 4, "C")])
    f = cxkit.funnel(ev, ["A", "B", "C"], step_windows={"C": "2h"})
    assert f["customers"].tolist() == [1, 1, 0]


def test_step_windows_pass_through_the_other_analyses():
    ev = log(
        [
            ("a", 0, "A", "mobile"),
            ("a", 3, "B", "mobile"),  # too late for B's own 2 h
            ("b", 0, "A", "desktop"),
            ("c", 0, "A", "desktop"),
            ("c", 1, "B", "desktop"),
            ("d", 30 * 24, "Z"),
        ]
    )
    sw = {"B": "2h"}
    ttc = cxkit.time_to_convert(ev, ["A", "B"], window="1D", step_windows=sw).iloc[0]
    # a and b are censored at 2 h (the step window), c converts at 1 h
    assert (ttc.reached, ttc.converted, ttc.censored) == (3, 1, 2)
    assert ttc.pct_converted == pytest.approx(100 / 3)
    trend = cxkit.funnel_trend(ev, ["A", "B"], period="M", step_windows=sw)
    assert trend.query("step_index == 2")["customers"].tolist() == [1]
    paths = cxkit.drop_off_paths(ev, ["A", "B"], step=1, window="1D", step_windows=sw)
    assert paths.query("length == 1").set_index("path")["customers"].to_dict() == {
        "B": 1,
        "(nothing)": 1,
    }
    cmp = cxkit.compare_funnel(ev, ["A", "B"], by="device", baseline="desktop", step_windows=sw)
    assert (cmp.iloc[0].n_group, cmp.iloc[0].pct_group) == (1, 0.0)
    gaps = cxkit.segment_gaps(ev, ["A", "B"], by="device", step_windows=sw)
    assert pd.Timedelta(gaps.attrs["step_windows"]["B"]) == pd.Timedelta("2h")


@pytest.mark.parametrize(
    "step_windows",
    [
        {"nope": "1h"},
        {"A": "1h"},  # the first step has no previous step
        ["1h"],
        ["1h", None, "1h"],
        {"B": "soon"},
        [None, "-1h"],
        "1h",
    ],
)
def test_bad_step_windows_raise_data_error_naming_it(step_windows):
    ev = log([("a", 0, "A"), ("a", 1, "B"), ("a", 2, "C")])
    with pytest.raises(DataError, match="step_windows"):
        cxkit.funnel(ev, ["A", "B", "C"], step_windows=step_windows)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": []}, "steps"),
        ({"steps": ["A"], "window": "fortnight"}, "window"),
        ({"steps": ["A"], "window": "-1D"}, "window"),
        ({"steps": ["A"], "by": "colour"}, "by"),
        ({"steps": ["A"], "entry": "last"}, "entry"),
        ({"steps": ["A"], "start": "soon"}, "start"),
        ({"steps": [["A", 3]]}, "steps"),
    ],
)
def test_bad_arguments_raise_data_error_naming_the_argument(kwargs, match):
    ev = log([("a", 0, "A")])
    with pytest.raises(DataError, match=match):
        cxkit.funnel(ev, **kwargs)


def test_missing_column_is_a_data_error():
    with pytest.raises(DataError, match="event"):
        cxkit.funnel(pd.DataFrame({"customer_id": ["a"], "timestamp": [T0]}), ["A"])


def test_module_import_does_not_hide_the_function():
    import cxkit.funnel as module

    assert callable(cxkit.funnel)
    assert module(log([("a", 0, "A")]), ["A"])["customers"].tolist() == [1]


# --------------------------------------------------------------------------------------------
# property test against the reference
# --------------------------------------------------------------------------------------------


def logs():
    return funnel_logs.logs(
        T0,
        max_events=40,
        people=["p", "q", "r", "s"],
        max_offset=30,
        step_windows=[None, "0s", "1min", "10min", "2h", "1D"],
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    logs(),
    st.sampled_from(
        [
            {},
            {"strict": True},
            {"exclude": ["D"]},
            {"entry": "first"},
            {"start": T0 + pd.Timedelta("5min")},
        ]
    ),
)
def test_vectorised_reduction_equals_the_reference(data, options):
    events, steps, window, step_windows = data
    options = {**options, "step_windows": step_windows}
    table, ref = check_against_reference(events, steps, window, **options)
    # the tidy funnel, by the device on the entry event, from the reference
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = cxkit.funnel(events, steps, window=window, by="device", **options)
    for (device, k), n in f.set_index(["device", "step_index"])["customers"].items():
        expected = sum(
            1
            for depth, _, pos in ref.values()
            if depth >= k and events["device"].iloc[pos] == device
        )
        assert n == expected


# --------------------------------------------------------------------------------------------
# ClickHouse's windowFunnel
# --------------------------------------------------------------------------------------------


def test_counts_equal_clickhouse_window_funnel():
    chdb = pytest.importorskip("chdb")
    rng = np.random.default_rng(3)
    for trial in range(5):
        n = 4000
        ev = pd.DataFrame(
            {
                "customer_id": rng.integers(0, 400, n).astype(str),
                "timestamp": T0 + pd.to_timedelta(rng.integers(0, 300, n), unit="s"),
                "event": rng.choice(list("ABCDE"), n),
            }
        )
        steps = [["A", "B"], "C", "D", "E"] if trial % 2 else ["A", "B", "C", "D"]
        window = int(rng.integers(5, 100))
        frame = pd.DataFrame(  # noqa: F841 (read by chdb as Python(frame))
            {
                "uid": ev["customer_id"],
                "ts": (ev["timestamp"].to_numpy().view("int64") // 10**9).astype("uint64"),
                "ev": ev["event"],
            }
        )
        conds = ", ".join(
            "ev IN (" + ", ".join(f"'{e}'" for e in ([s] if isinstance(s, str) else s)) + ")"
            for s in steps
        )
        sql = (
            f"SELECT uid, windowFunnel({window})(ts, {conds}) AS level FROM Python(frame) "
            "GROUP BY uid"
        )
        ch = chdb.query(sql, "DataFrame").set_index("uid")["level"]
        ch = ch[ch > 0].sort_index()
        ours = funnel_table(ev, steps, window=f"{window}s").set_index("customer_id")["depth"]
        pd.testing.assert_series_equal(
            ours.sort_index(), ch.astype("int64"), check_names=False, check_index_type=False
        )


# --------------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------------


def test_time_to_convert_censors_instead_of_dropping():
    # 4 people at A; 2 reach B after 1 h and 3 h; 2 never do (censored at the window's end)
    ev = log(
        [
            ("a", 0, "A"),
            ("a", 1, "B"),
            ("b", 0, "A"),
            ("b", 3, "B"),
            ("c", 0, "A"),
            ("d", 0, "A"),
            ("e", 30 * 24, "Z"),
        ]
    )
    ttc = cxkit.time_to_convert(ev, ["A", "B"], window="1D")
    row = ttc.iloc[0]
    assert (row.reached, row.converted, row.censored) == (4, 2, 2)
    assert row.pct_converted == pytest.approx(50.0)
    assert row.median_hours == 3.0  # half of everyone has converted by 3 h
    assert row.median_hours_converted == 2.0  # among converters only
    assert np.isnan(row.q75_hours)  # never reached: only half ever convert
    curve = cxkit.time_to_convert(ev, ["A", "B"], window="1D", curve=True)
    assert curve["pct_converted"].tolist() == [0.0, 25.0, 50.0]


def test_drop_off_paths_next_events_inside_window():
    ev = log(
        [
            ("a", 0, "A"),
            ("a", 1, "help"),
            ("a", 2, "chat"),
            ("a", 30 * 24, "help"),
            ("b", 0, "A"),
            ("b", 1, "help"),
            ("c", 0, "A"),
            ("c", 1, "B"),
            ("d", 0, "A"),
        ]
    )
    paths = cxkit.drop_off_paths(ev, ["A", "B"], step=1, window="1D")
    one = paths[paths["length"] == 1].set_index("path")["customers"].to_dict()
    assert one == {"help": 2, "(nothing)": 1}
    two = paths[paths["length"] == 2].set_index("path")["customers"].to_dict()
    assert two == {"help → chat": 1}
    assert (paths["droppers"] == 3).all()
    with pytest.raises(DataError, match="step"):
        cxkit.drop_off_paths(ev, ["A", "B"], step=2)


def test_compare_funnel_two_proportion_test_and_mde():
    rows = [(f"m{i}", 0, "A", "mobile") for i in range(200)]
    rows += [(f"m{i}", 1, "B", "mobile") for i in range(60)]
    rows += [(f"d{i}", 0, "A", "desktop") for i in range(200)]
    rows += [(f"d{i}", 1, "B", "desktop") for i in range(100)]
    cmp = cxkit.compare_funnel(log(rows), ["A", "B"], by="device", baseline="desktop")
    row = cmp.iloc[0]
    assert (row.group, row.reference, row.n_group, row.n_reference) == (
        "mobile",
        "desktop",
        200,
        200,
    )
    assert row.diff_pp == pytest.approx(-20.0)
    # pooled z = (0.3 - 0.5) / sqrt(0.4 * 0.6 * (2 / 200))
    assert row.statistic == pytest.approx(-0.2 / np.sqrt(0.4 * 0.6 / 100))
    assert row.ci_low < -20 < row.ci_high < 0
    # MDE d solves d = 1.96 se0 + 0.8416 se1: se0 with the pooled share (the test's variance),
    # se1 under the alternative (0.5 + d against 0.5); one comparison, so alpha = 0.05
    d = row.mde_pp / 100
    pbar = 0.5 + d / 2
    se0 = np.sqrt(pbar * (1 - pbar) * 2 / 200)
    se1 = np.sqrt(((0.5 + d) * (0.5 - d) + 0.25) / 200)
    assert d == pytest.approx(1.959964 * se0 + 0.841621 * se1, rel=1e-6)
    assert row.mde_pp == pytest.approx(13.83, abs=0.01)
    assert row.significant and row.test_used == "z" and not row.small_counts


def _power(n1, n2, p0, p1, alpha, reps=4000, seed=0):
    """Share of simulated experiments the pooled z test rejects at alpha (two-sided)."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    x1, x2 = rng.binomial(n1, p1, reps), rng.binomial(n2, p0, reps)
    pooled = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float(np.mean(2 * stats.norm.sf(np.abs(z)) < alpha))


@pytest.mark.parametrize(
    "n1, n2, p0, m",
    [(2000, 2000, 0.05, 20), (500, 500, 0.3, 1), (3000, 3000, 0.02, 1), (400, 1600, 0.1, 15)],
)
def test_power_at_the_reported_mde_is_the_promised_power(n1, n2, p0, m):
    from cxkit.funnel._proportions import mde

    d = mde(p0, n1, n2, alpha=0.05 / m, power=0.8)
    assert _power(n1, n2, p0, p0 + d, 0.05 / m) == pytest.approx(0.80, abs=0.05)


def test_compare_funnel_mde_holds_at_the_holm_level():
    # four devices, each against the rest at one step: four comparisons, read at 0.05 / 4
    rng = np.random.default_rng(1)
    rows = []
    for device, n in [("a", 3000), ("b", 3000), ("c", 1000), ("d", 400)]:
        bought = rng.random(n) < 0.06
        rows += [(f"{device}{i}", 0, "A", device) for i in range(n)]
        rows += [(f"{device}{i}", 1, "B", device) for i in np.flatnonzero(bought)]
    cmp = cxkit.compare_funnel(log(rows), ["A", "B"], by="device")
    assert len(cmp) == 4 and cmp.attrs["alpha_mde"] == pytest.approx(0.0125)
    for row in cmp.itertuples():
        p0 = row.pct_reference / 100
        power = _power(row.n_group, row.n_reference, p0, p0 + row.mde_pp / 100, 0.0125)
        assert power == pytest.approx(0.80, abs=0.05), (row.group, power)


def test_small_counts_use_an_exact_test_that_keeps_its_level():
    from scipy import stats

    from cxkit.funnel._proportions import two_proportions

    # 10 people in a segment against 100 in the rest, 2% base rate: the pooled z test rejects
    # a true null 8.3% of the time at the 5% level; the exact test must stay at or under 5%
    n1, n2, p = 10, 100, 0.02
    pa, pb = stats.binom.pmf(np.arange(n1 + 1), n1, p), stats.binom.pmf(np.arange(n2 + 1), n2, p)
    type1 = z_type1 = left = 0.0
    for a in np.flatnonzero(pa > 1e-6):
        for b in np.flatnonzero(pb > 1e-6):
            w = pa[a] * pb[b]
            row = two_proportions(a, n1, b, n2)
            left += w
            type1 += w * (row["p_value"] < 0.05)
            pooled = (a + b) / (n1 + n2)
            if 0 < pooled < 1:
                z = (a / n1 - b / n2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
                z_type1 += w * (2 * stats.norm.sf(abs(z)) < 0.05)
            if a + b:
                assert row["small_counts"] and row["test_used"].startswith("exact")
    assert z_type1 > 0.08
    assert type1 + (1 - left) <= 0.05
    big = two_proportions(1, 20000, 6, 20000)  # Fisher's for a table too large for Boschloo
    assert big["test_used"] == "exact (Fisher)"
    assert big["p_value"] == pytest.approx(
        stats.fisher_exact([[1, 6], [19999, 19994]]).pvalue, rel=1e-12
    )


def test_multiple_comparison_corrections():
    p = np.array([0.01, 0.04, 0.03, np.nan])
    assert np.allclose(_adjust(p, "bonferroni")[:3], [0.03, 0.12, 0.09])
    assert np.allclose(_adjust(p, "holm")[:3], [0.03, 0.06, 0.06])
    assert np.allclose(_adjust(p, "fdr_bh")[:3], [0.03, 0.04, 0.04])
    assert np.isnan(_adjust(p, "holm")[3])


def test_funnel_trend_by_entry_month():
    ev = log([("a", 0, "A"), ("a", 1, "B"), ("b", 40 * 24, "A")])
    trend = cxkit.funnel_trend(ev, ["A", "B"], period="M")
    assert trend["period"].nunique() == 2
    assert trend.query("step_index == 2")["customers"].tolist() == [1, 0]


# --------------------------------------------------------------------------------------------
# the simulator's planted truth
# --------------------------------------------------------------------------------------------


def test_step_rates_recover_the_planted_probabilities(sample, sample_truth):
    f = cxkit.funnel(sample, STEPS, by="device")
    planted = sample_truth["funnel"]["expected_step_rate"]["device"]
    for row in f[f["step_index"] > 1].itertuples():
        p = planted[row.device][row.step]
        n = f[(f["device"] == row.device) & (f["step_index"] == row.step_index - 1)]
        se = np.sqrt(p * (1 - p) / n["customers"].iloc[0])
        assert abs(row.pct_of_previous / 100 - p) < 3.5 * se, (row.device, row.step)


def test_pain_point_is_found_at_the_planted_step(sample, sample_truth):
    pain = sample_truth["funnel"]["pain_point"]
    cmp = cxkit.compare_funnel(sample, STEPS, by=pain["segment_column"])
    worst = cmp[cmp["significant"]].sort_values("relative").iloc[0]
    assert (worst["group"], worst["step"]) == (pain["segment_value"], pain["step"])


def test_plots_return_the_axes_they_were_given(sample):
    import matplotlib.pyplot as plt

    from cxkit import plots

    f = cxkit.funnel(sample, STEPS, by="device")
    for data, func in [
        (f, plots.plot_funnel),
        (cxkit.funnel(sample, STEPS), plots.plot_funnel),
        (cxkit.time_to_convert(sample, STEPS, curve=True), plots.plot_time_to_convert),
        (
            cxkit.drop_off_paths(sample, STEPS, step="add_to_cart", by="device"),
            plots.plot_drop_off_paths,
        ),
    ]:
        _, ax = plt.subplots()
        assert func(data, ax=ax) is ax
    _, ax = plt.subplots()
    assert plots.plot_funnel(f.iloc[0:0], ax=ax) is ax


@pytest.mark.slow
def test_notebook_finds_a_pain_point_planted_elsewhere(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    from cxkit.simulate import simulate, write_sample

    journey, truth = simulate(
        customers=1500,
        seed=11,
        pain_point={"device": "desktop", "step": "add_to_cart", "factor": 0.5},
    )
    write_sample(journey, truth, tmp_path)
    nb = nbformat.read("notebooks/01_buyer_funnel.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    (params,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    params.source += f"\ndata_dir = {str(tmp_path)!r}\nexports_dir = None"  # keeps the others
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    text = "\n".join(
        o["data"]["text/markdown"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "text/markdown" in o.get("data", {})
    )
    assert "**desktop** (device) at **product view → add to cart**" in text
    assert "found exactly that" in text


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"window": 14}, r"window.*bare number 14"),
        ({"observed_at": "2025-13-45"}, r"observed_at.*'2025-13-45'"),
        ({"observed_at": 5}, r"observed_at.*number 5"),
        ({"steps": 5}, r"steps.*int 5"),
        ({"steps": [1, 2]}, r"steps.*event name"),
        ({"steps": {"a": 5}}, r"steps.*event name"),
        ({"step_windows": {"site_visit": 3}}, r"step_windows"),
    ],
)
def test_bad_arguments_name_the_argument(sample, kwargs, pattern):
    from cxkit.funnel import STEPS

    args = {"steps": STEPS, **kwargs}
    with pytest.raises(cxkit.DataError, match=pattern):
        cxkit.funnel(sample.events, **args)


def test_observed_at_comes_from_the_journey_when_given_a_loaded_table():
    from cxkit.funnel import STEPS

    later = pd.Timestamp("2025-07-15")
    journey = cxkit.read_journey(cxkit.sample_dir(), observed_at=later)
    assert journey.events["timestamp"].max() < later
    table = cxkit.funnel(journey.events, STEPS)  # the table alone, not the Journey
    assert pd.Timestamp(table.attrs["observed_at"]) == later
    assert table.attrs["open_windows"] == 0  # everyone's 14 days have passed by then


# --------------------------------------------------------------------------------------------
# A/B tests by intention to treat
# --------------------------------------------------------------------------------------------

AB_STEPS = ["visit", "cart", "checkout", "purchase"]


def _randomized_test(seed=5, n=20000, boost=0.4):
    """A randomized test where the variant changes only step 2 (the cart).

    Each person has an intent q ~ Uniform(0, 1) and takes each step with probability q; in arm
    B the cart step has probability q + boost (1 - q). So B brings in people of lower intent,
    who then check out and buy less often: step 3 and 4 rates *among those who got there* fall,
    although no person's chance at those steps changed. Truth (intention to treat): conversion
    E[q^3] = 1/4 in A, (1 - boost)/4 + boost/3 in B."""
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(n) < 0.5, "A", "B")
    q = rng.random(n)
    p_cart = np.where(arm == "B", q + boost * (1 - q), q)
    u = rng.random((3, n))
    cart = u[0] < p_cart
    checkout = cart & (u[1] < q)
    purchase = checkout & (u[2] < q)
    start = T0 + pd.to_timedelta(rng.uniform(0, 60, n), "D")
    ids = np.array([f"c{i}" for i in range(n)])
    parts = []
    for k, (name, mask) in enumerate(
        zip(AB_STEPS, [np.ones(n, bool), cart, checkout, purchase], strict=True)
    ):
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": ids[mask],
                    "timestamp": start[mask] + pd.Timedelta(hours=k),
                    "event": name,
                    "variant": arm[mask],
                }
            )
        )
    events = pd.concat(parts, ignore_index=True)
    customers = pd.DataFrame({"customer_id": ids, "signup_at": start, "arm": arm})
    truth = 100 * ((1 - boost) / 4 + boost / 3 - 1 / 4)
    return events, customers, truth


def test_ab_test_finds_the_end_to_end_gain_not_a_spurious_last_step_loss():
    events, customers, truth = _randomized_test()
    observed = events["timestamp"].max() + pd.Timedelta("30D")
    res = cxkit.ab_test(events, AB_STEPS, variant="variant", window="14D", observed_at=observed)
    final = res.conversion_.iloc[0]
    assert (final.arm, final.control, final.step) == ("B", "A", "purchase")
    assert final.n_arm + final.n_control == 20000
    assert final.significant and final.diff_pp > 0
    half = (final.ci_high - final.ci_low) / 2
    assert abs(final.diff_pp - truth) < 1.5 * half  # truth +3.3 points
    assert final.ci_low < truth < final.ci_high
    assert not (res.table["significant"] & (res.table["diff_pp"] < 0)).any()
    # every share is of everyone assigned: step 1 is 100% in both arms
    first = res.table.iloc[0]
    assert first.pct_arm == first.pct_control == 100.0 and first.p_value == 1.0
    # the step-to-step rate at the last step is lower in B (selection), shown as description
    assert final.pct_of_previous_arm < final.pct_of_previous_control
    # ... which is what compare_funnel tests, and finds "significant"
    cmp = cxkit.compare_funnel(events, AB_STEPS, by="variant", baseline="A", observed_at=observed)
    last = cmp[cmp["step"] == "purchase"].iloc[0]
    assert last.significant and last.diff_pp < -2
    # Holm over 4 steps x 1 arm, and the MDE at that level
    assert res.attrs["alpha_mde"] == pytest.approx(0.05 / 4)
    assert (res.table["p_adjusted"] >= res.table["p_value"]).all()
    assert not res.srm_["mismatch"] and res.srm_["p_value"] > 0.001
    assert any("one look" in note for note in res.notes_)
    assert "B vs A" in repr(res)


def test_ab_test_variant_from_a_customer_attribute_counts_everyone_assigned():
    events, customers, _ = _randomized_test(n=4000)
    observed = events["timestamp"].max() + pd.Timedelta("30D")
    # 300 more people assigned to A who never showed up: they count, as not converted
    extra = pd.DataFrame(
        {"customer_id": [f"x{i}" for i in range(300)], "signup_at": T0, "arm": "A"}
    )
    customers = pd.concat([customers, extra], ignore_index=True)
    by_events = cxkit.ab_test(
        events, AB_STEPS, variant="variant", window="14D", observed_at=observed
    )
    with pytest.warns(UserWarning, match="sample-ratio mismatch"):  # 300 more in A
        by_attr = cxkit.ab_test(
            events,
            AB_STEPS,
            variant="arm",
            customers=customers,
            window="14D",
            observed_at=observed,
        )
    assert by_attr.attrs["variant_from"] == "customers"
    a = by_attr.arms_.set_index("arm")
    b = by_events.arms_.set_index("arm")
    assert a.loc["A", "assigned"] == b.loc["A", "assigned"] + 300
    assert a.loc["B", "assigned"] == b.loc["B", "assigned"]
    assert (by_attr.table["reached_control"] == by_events.table["reached_control"]).all()
    assert by_attr.steps_.query("arm == 'A' and step_index == 1")["pct"].iloc[0] < 100


def test_ab_test_flags_a_sample_ratio_mismatch_and_checks_its_arguments():
    events, customers, _ = _randomized_test(n=4000)
    # drop 10% of B's people (broken logging): 2,000 vs 1,800 is far from an equal split
    lost = customers.query("arm == 'B'").sample(frac=0.1, random_state=1)["customer_id"]
    events = events[~events["customer_id"].isin(lost)]
    with pytest.warns(UserWarning, match="sample-ratio mismatch"):
        res = cxkit.ab_test(events, AB_STEPS, variant="variant")
    assert res.srm_["mismatch"] and res.srm_["p_value"] < 0.001
    n = res.arms_["assigned"].to_numpy()
    from scipy import stats

    assert res.srm_["p_value"] == pytest.approx(stats.chisquare(n).pvalue)
    # with the split it was designed for (53/47), no mismatch
    share = n / n.sum()
    ok = cxkit.ab_test(
        events, AB_STEPS, variant="variant", expected={"A": share[0], "B": share[1]}
    )
    assert not ok.srm_["mismatch"]
    # a person logged in both arms stays in the arm of their first event, and is counted
    first = events.sort_values("timestamp").iloc[0]
    later = first.to_frame().T.assign(
        timestamp=first["timestamp"] + pd.Timedelta("1h"),
        variant="B" if first["variant"] == "A" else "A",
    )
    with pytest.warns(UserWarning, match="sample-ratio"):
        both = cxkit.ab_test(
            pd.concat([events, later], ignore_index=True), AB_STEPS, variant="variant"
        )
    assert both.attrs["mixed_arms"] == 1 and any("more than one arm" in n for n in both.notes_)
    assert (both.arms_["assigned"].to_numpy() == n).all()
    with pytest.raises(DataError, match="variant(.|\n)*'arm' is in neither"):
        cxkit.ab_test(events, AB_STEPS, variant="arm")
    with pytest.raises(DataError, match="control"):
        cxkit.ab_test(events, AB_STEPS, variant="variant", control="C")
    with pytest.raises(DataError, match="expected"):
        cxkit.ab_test(events, AB_STEPS, variant="variant", expected={"A": 1})
    with pytest.raises(DataError, match="two arms"):
        cxkit.ab_test(events.assign(variant="A"), AB_STEPS, variant="variant")


def test_ab_test_plot_returns_the_axes_it_was_given():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    events, _, _ = _randomized_test(n=2000)
    res = cxkit.ab_test(events, AB_STEPS, variant="variant")
    fig, ax = plt.subplots()
    assert res.plot(ax=ax) is ax
    assert len(ax.get_lines()) >= 2
    plt.close(fig)


def test_missing_timestamps_and_ids_are_data_errors_naming_the_rows():
    ev = log([("a", 0, "A"), ("b", 1, "A"), ("c", 2, "B")])
    no_time = ev.assign(timestamp=ev["timestamp"].where(ev.index != 1))
    with pytest.raises(DataError, match=r"timestamp.*row 2"):
        cxkit.funnel(no_time, ["A", "B"])
    no_id = ev.assign(customer_id=ev["customer_id"].astype("category").where(ev.index != 2))
    with pytest.raises(DataError, match=r"customer_id.*row 3"):
        cxkit.funnel(no_id, ["A", "B"])

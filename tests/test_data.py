"""Loaders: round trips, every bad input named in design.md, and no mutation of inputs."""

import gzip

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxkit
from cxkit import DataError


def events_frame():
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "c"],
            "timestamp": [
                "2024-01-02 10:00",
                "2024-01-01 09:00",
                "2024-01-01 08:00",
                "2024-01-03 12:00",
            ],
            "event": ["purchase", "site_visit", "site_visit", "app_login"],
            "channel": ["web", "web", "ads", "app"],
            "value": [10.5, None, None, None],
        }
    )


def customers_frame():
    return pd.DataFrame(
        {
            "customer_id": ["a", "c"],
            "signup_at": ["2024-01-02 10:00", "2024-01-03 11:00"],
            "churned_at": [None, "2024-02-01 00:00"],
            "plan": ["monthly", "annual"],
        }
    )


def surveys_frame():
    return pd.DataFrame(
        {
            "customer_id": ["a", "c", "a"],
            "timestamp": ["2024-01-05", "2024-01-06", "2024-01-07"],
            "survey": ["nps", "CSAT", "ces"],
            "score": [9, 4, 6],
            "stage": ["post-purchase", "purchase", "post-purchase"],
        }
    )


def write_folder(tmp_path, events=None, customers=None, surveys=None, fmt="csv"):
    frames = {
        "events": events if events is not None else events_frame(),
        "customers": customers if customers is not None else customers_frame(),
        "surveys": surveys if surveys is not None else surveys_frame(),
    }
    for name, frame in frames.items():
        if fmt == "parquet":
            frame.to_parquet(tmp_path / f"{name}.parquet")
        elif fmt == "gz" and name == "events":
            frame.to_csv(tmp_path / f"{name}.csv.gz", index=False)
        else:
            frame.to_csv(tmp_path / f"{name}.csv", index=False)
    return tmp_path


# ---------------------------------------------------------------------------------- good input


@pytest.mark.parametrize("fmt", ["csv", "gz", "parquet"])
def test_round_trip_every_row_accounted_for(tmp_path, fmt):
    j = cxkit.read_journey(write_folder(tmp_path, fmt=fmt))
    assert len(j.events) == 4 and len(j.customers) == 2 and len(j.surveys) == 3
    assert j.notes == {
        "people": 3,
        "prospects": 1,
        "customers_without_events": 0,
        "unknown_survey_ids": 0,
        "after_observed_at": 0,
    }
    # observed_at: the latest timestamp across all tables (the churn date here)
    assert j.observed_at == pd.Timestamp("2024-02-01")
    assert isinstance(j.events["customer_id"].dtype, pd.CategoricalDtype)
    assert isinstance(j.events["event"].dtype, pd.CategoricalDtype)
    assert j.events["timestamp"].is_monotonic_increasing is False  # sorted by customer first
    assert list(j.events["customer_id"].astype(str)) == ["a", "a", "b", "c"]
    assert j.events["value"].sum() == 10.5
    assert list(j.surveys["survey"]) == ["nps", "csat", "ces"]
    assert j.customers["churned_at"].isna().sum() == 1


def test_column_mapping(tmp_path):
    ev = events_frame().rename(
        columns={"customer_id": "user_id", "timestamp": "ts", "event": "action"}
    )
    out = cxkit.read_events(ev, customer="user_id", timestamp="ts", event="action")
    assert list(out.columns[:3]) == ["customer_id", "timestamp", "event"]
    assert "user_id" in ev.columns  # the input is untouched


def test_ids_keep_leading_zeros(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,signup_at\n007,2024-01-01\n8,2024-01-02\n")
    assert list(cxkit.read_customers(path)["customer_id"]) == ["007", "8"]


def test_aware_timestamps_are_converted_to_utc_and_a_mix_needs_a_zone():
    ev = events_frame()
    ev["timestamp"] = [
        "2024-01-02T10:00:00+02:00",
        "2024-01-01T09:00:00Z",
        "2024-01-01 08:00",
        "2024-01-03 12:00",
    ]
    # a column mixing values with and without an offset needs the zone of the naive ones
    with pytest.raises(DataError, match=r"(?s)UTC offset.*2 row.*'2024-01-01 08:00'.*timezone="):
        cxkit.read_events(ev)
    out = cxkit.read_events(ev, timezone="UTC").set_index("event")["timestamp"]
    assert out["purchase"] == pd.Timestamp("2024-01-02 08:00")
    assert out["app_login"] == pd.Timestamp("2024-01-03 12:00")
    ev["timestamp"] = ["2024-01-02T10:00:00+02:00", "2024-01-01T09:00:00Z", "x", "y"]
    ev = ev.iloc[:2]
    out = cxkit.read_events(ev).set_index("event")["timestamp"]  # all aware: converted to UTC
    assert out["purchase"] == pd.Timestamp("2024-01-02 08:00")


def test_observed_at_given_and_counts_of_unknown_survey_ids(tmp_path):
    su = surveys_frame()
    su.loc[1, "customer_id"] = "zz"
    with pytest.warns(UserWarning, match="1 survey answer"):
        j = cxkit.read_journey(write_folder(tmp_path, surveys=su), observed_at="2024-03-01")
    assert j.observed_at == pd.Timestamp("2024-03-01")
    assert j.notes["unknown_survey_ids"] == 1
    assert len(j.surveys) == 3  # reported, not dropped


def test_surveys_optional(tmp_path):
    write_folder(tmp_path)
    (tmp_path / "surveys.csv").unlink()
    j = cxkit.read_journey(tmp_path)
    assert len(j.surveys) == 0 and list(j.surveys.columns[:4]) == [
        "customer_id",
        "timestamp",
        "survey",
        "score",
    ]


def test_sample_loads_and_matches_truth(sample, sample_truth):
    assert len(sample.customers) == sample_truth["counts"]["customers"]
    assert len(sample.events) == sample_truth["counts"]["events"]
    assert sample.notes["prospects"] == sample_truth["counts"]["people"] - len(sample.customers)


# ----------------------------------------------------------------------------------- bad input


def _bad_events(**changes):
    ev = events_frame()
    for col, (row, val) in changes.items():
        ev[col] = ev[col].astype(object)
        ev.loc[row, col] = val
    return ev


BAD = [
    # (id, loader, input builder, kwargs, pattern the message must contain)
    (
        "events-missing-column",
        "events",
        lambda: events_frame().drop(columns="event"),
        {},
        r"column 'event'.*missing(.|\n)*columns present: customer_id, timestamp",
    ),
    (
        "events-bad-mapping",
        "events",
        events_frame,
        {"timestamp": "ts"},
        r"column 'ts'.*lacks it(.|\n)*columns present",
    ),
    (
        "events-bad-timestamp",
        "events",
        lambda: _bad_events(timestamp=(1, "yesterday")),
        {},
        r"column 'timestamp'.*could not be parsed.*1 row.*'yesterday'",
    ),
    (
        "events-numeric-timestamp",
        "events",
        lambda: events_frame().assign(timestamp=[1, 2, 3, 4]),
        {},
        r"column 'timestamp'",
    ),
    (
        "events-empty-timestamp",
        "events",
        lambda: _bad_events(timestamp=(2, None)),
        {},
        r"column 'timestamp'.*empty",
    ),
    (
        "events-empty-id",
        "events",
        lambda: _bad_events(customer_id=(0, None)),
        {},
        r"column 'customer_id'.*empty",
    ),
    (
        "events-empty-event",
        "events",
        lambda: _bad_events(event=(3, "  ")),
        {},
        r"column 'event'.*empty",
    ),
    (
        "events-bad-value",
        "events",
        lambda: _bad_events(value=(0, "ten")),
        {},
        r"column 'value'.*not.*'ten'",
    ),
    ("events-empty-table", "events", lambda: events_frame().iloc[:0], {}, r"table is empty"),
    (
        "customers-missing-signup",
        "customers",
        lambda: customers_frame().drop(columns="signup_at"),
        {},
        r"column 'signup_at'.*missing(.|\n)*columns present: customer_id, churned_at, plan",
    ),
    (
        "customers-duplicates",
        "customers",
        lambda: pd.concat([customers_frame(), customers_frame().iloc[:1]]),
        {},
        r"column 'customer_id'.*more than once.*2 row.*'a'",
    ),
    (
        "customers-churn-before-signup",
        "customers",
        lambda: customers_frame().assign(churned_at=[None, "2023-12-31"]),
        {},
        r"column 'churned_at'.*on or after signup_at.*1 row",
    ),
    (
        "customers-bad-churn-date",
        "customers",
        lambda: customers_frame().assign(churned_at=[None, "soon"]),
        {},
        r"column 'churned_at'.*could not be parsed.*'soon'",
    ),
    (
        "customers-bad-mapping",
        "customers",
        customers_frame,
        {"signup_at": "created"},
        r"column 'created'",
    ),
    ("customers-empty", "customers", lambda: customers_frame().iloc[:0], {}, r"empty"),
    (
        "surveys-nps-out-of-range",
        "surveys",
        lambda: surveys_frame().assign(score=[11, 4, 6]),
        {},
        r"column 'score'.*scale.*nps 11",
    ),
    (
        "surveys-csat-out-of-range",
        "surveys",
        lambda: surveys_frame().assign(score=[9, 0, 6]),
        {},
        r"column 'score'.*csat 0",
    ),
    (
        "surveys-fractional-score",
        "surveys",
        lambda: surveys_frame().assign(score=[9, 4, 5.5]),
        {},
        r"column 'score'.*ces 5.5",
    ),
    (
        "surveys-text-score",
        "surveys",
        lambda: surveys_frame().assign(score=[9, "good", 6]),
        {},
        r"column 'score'.*not numbers.*'good'",
    ),
    (
        "surveys-unknown-type",
        "surveys",
        lambda: surveys_frame().assign(survey=["nps", "ltr", "ces"]),
        {},
        r"column 'survey'.*unknown survey types.*'ltr'",
    ),
    (
        "surveys-missing-score",
        "surveys",
        lambda: surveys_frame().drop(columns="score"),
        {},
        r"column 'score'.*missing",
    ),
]

LOADERS = {
    "events": cxkit.read_events,
    "customers": cxkit.read_customers,
    "surveys": cxkit.read_surveys,
}


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_dataframe_input_names_the_problem(case):
    _, loader, build, kwargs, pattern = case
    with pytest.raises(DataError, match=pattern) as info:
        LOADERS[loader](build(), **kwargs)
    assert str(info.value).startswith("DataError:") is False
    assert "DataFrame" in str(info.value)  # the source is named


@pytest.mark.parametrize("case", BAD[:3] + BAD[9:12], ids=[c[0] for c in BAD[:3] + BAD[9:12]])
def test_bad_file_input_names_the_file(tmp_path, case):
    _, loader, build, kwargs, pattern = case
    path = tmp_path / f"{loader}.csv"
    build().to_csv(path, index=False)
    with pytest.raises(DataError, match=pattern) as info:
        LOADERS[loader](path, **kwargs)
    assert str(path) in str(info.value)


def test_all_problems_collected_in_one_error():
    ev = _bad_events(timestamp=(1, "never"), value=(0, "ten"))
    with pytest.raises(DataError) as info:
        cxkit.read_events(ev)
    assert len(info.value.problems) == 2


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"(?s)nope\.csv.*does not"):
        cxkit.read_events(tmp_path / "nope.csv")


def test_garbage_file(tmp_path):
    path = tmp_path / "events.csv.gz"
    path.write_bytes(b"\x00\x01not gzip at all\xff" * 10)
    with pytest.raises(DataError, match=r"(?s)events\.csv\.gz.*readable"):
        cxkit.read_events(path)


def test_garbage_parquet(tmp_path):
    path = tmp_path / "events.parquet"
    path.write_text("customer_id,timestamp\n")
    with pytest.raises(DataError, match=r"(?s)events\.parquet.*readable"):
        cxkit.read_events(path)


def test_empty_file(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("")
    with pytest.raises(DataError, match=r"(?s)customers\.csv.*empty"):
        cxkit.read_customers(path)


def test_header_only_file(tmp_path):
    path = tmp_path / "events.csv"
    with gzip.open(tmp_path / "x.gz", "wt") as fh:
        fh.write("")
    path.write_text("customer_id,timestamp,event\n")
    with pytest.raises(DataError, match=r"(?s)events\.csv.*table is empty"):
        cxkit.read_events(path)


def test_folder_without_files(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(DataError, match=r"events\.csv(.|\n)*customers\.csv(.|\n)*notes\.txt"):
        cxkit.read_journey(tmp_path)


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        cxkit.read_journey(tmp_path / "nowhere")


def test_error_is_a_value_error_and_shows_at_most_five_examples():
    ev = events_frame()
    ev = pd.concat([ev] * 5, ignore_index=True)
    ev["timestamp"] = "bad"
    with pytest.raises(ValueError) as info:
        cxkit.read_events(ev)
    (problem,) = info.value.problems
    assert problem["rows"] == 20 and len(problem["examples"]) == 5


# ---------------------------------------------------------------------------------- no mutation

_ids = st.sampled_from(["a", "b", "c", "007"])
_times = st.datetimes(
    min_value=pd.Timestamp("2023-01-01").to_pydatetime(),
    max_value=pd.Timestamp("2025-01-01").to_pydatetime(),
)


@st.composite
def event_tables(draw):
    n = draw(st.integers(1, 8))
    return pd.DataFrame(
        {
            "customer_id": draw(st.lists(_ids, min_size=n, max_size=n)),
            "timestamp": [t.isoformat() for t in draw(st.lists(_times, min_size=n, max_size=n))],
            "event": draw(st.lists(st.sampled_from(["visit", "buy"]), min_size=n, max_size=n)),
            "value": draw(
                st.lists(st.one_of(st.none(), st.floats(0, 100)), min_size=n, max_size=n)
            ),
        }
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_tables(), st.booleans())
def test_loaders_never_modify_their_input(frame, as_datetime):
    if as_datetime:
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], format="ISO8601")
    before = frame.copy(deep=True)
    cxkit.read_events(frame)
    pd.testing.assert_frame_equal(frame, before)
    customers = frame.drop_duplicates("customer_id").rename(columns={"timestamp": "signup_at"})
    before = customers.copy(deep=True)
    cxkit.read_customers(customers)
    pd.testing.assert_frame_equal(customers, before)
    surveys = frame.assign(survey="nps", score=np.arange(len(frame)) % 11)
    before = surveys.copy(deep=True)
    cxkit.read_surveys(surveys)
    pd.testing.assert_frame_equal(surveys, before)


def test_read_journey_refuses_unknown_mapping_keys_and_bad_observed_at(tmp_path):
    folder = write_folder(tmp_path)
    with pytest.raises(DataError, match=r"events=(.|\n)*keys among customer, timestamp"):
        cxkit.read_journey(folder, events={"customer_id": "user_id"})
    with pytest.raises(DataError, match=r"observed_at.*'last tuesday'"):
        cxkit.read_journey(folder, observed_at="last tuesday")


def test_every_table_carries_the_journeys_observed_at(tmp_path):
    j = cxkit.read_journey(write_folder(tmp_path), observed_at="2024-06-01T02:00:00+02:00")
    assert j.observed_at == pd.Timestamp("2024-06-01")  # aware -> UTC
    for table in (j.events, j.customers, j.surveys):
        assert pd.Timestamp(table.attrs["observed_at"]) == j.observed_at
        table.head().to_parquet(tmp_path / "out.parquet")  # attrs stay JSON-serialisable


# --- events-only folders: customers derived from events ------------------------------------


def _events_only(tmp_path):
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c", "d", "d"],
            "timestamp": [
                "2024-01-01 10:00",
                "2024-01-02 10:00",
                "2024-01-01 09:00",
                "2024-01-05 09:00",
                "2024-01-03 12:00",
                "2024-01-04 08:00",
                "2024-01-06 08:00",
            ],
            "event": [
                "visit",
                "Purchase",
                "visit",
                "CHECKOUT_COMPLETED",
                "visit",
                "visit",
                "visit",
            ],
        }
    )
    frame.to_csv(tmp_path / "events.csv", index=False)
    return frame


def test_events_only_folder_derives_customers(tmp_path):
    _events_only(tmp_path)
    j = cxkit.read_journey(tmp_path)
    # a bought on 2 Jan, b completed a checkout on 5 Jan; c and d only visited
    assert j.customers[["customer_id", "signup_at"]].to_dict("list") == {
        "customer_id": ["a", "b"],
        "signup_at": [pd.Timestamp("2024-01-02 10:00"), pd.Timestamp("2024-01-05 09:00")],
    }
    assert j.customers["churned_at"].isna().all()
    assert j.business_model == "non-contractual"
    assert j.notes["prospects"] == 2
    assert "look like a purchase" in j.notes["customers_derived"]
    assert "Purchase" in j.notes["customers_derived"]


def test_derived_customers_follow_the_spec_activity_or_every_event(tmp_path):
    from cxkit.data.journey import customers_from_events

    _events_only(tmp_path)
    (tmp_path / "cxkit.toml").write_text('[business]\nactivity = ["visit"]\n')
    j = cxkit.read_journey(tmp_path)
    first = j.customers.set_index("customer_id")["signup_at"].dt.strftime("%d %H").to_dict()
    assert first == {"a": "01 10", "b": "01 09", "c": "03 12", "d": "04 08"}
    ev = j.events[j.events["event"] == "visit"]
    every = customers_from_events(ev.assign(event=ev["event"].astype(str)))  # none purchase-like
    assert len(every) == 4 and "any kind" in every.attrs["derived"]
    with pytest.raises(DataError, match=r"business\.activity(.|\n)*columns present: .*visit"):
        customers_from_events(j.events, activity=["renewal"])


def test_customers_without_churned_at_are_non_contractual(tmp_path):
    write_folder(tmp_path, customers=customers_frame().drop(columns=["churned_at"]))
    j = cxkit.read_journey(tmp_path)
    assert j.customers.attrs["churn_dates"] is False
    assert j.business_model == "non-contractual"
    spec = {"business": {"model": "contractual"}}  # the spec's word wins
    assert cxkit.read_journey(tmp_path, spec=spec).business_model == "contractual"
    write_folder(tmp_path)
    assert cxkit.read_journey(tmp_path).business_model == "contractual"


# --- real exports (issue 11): wrong or silent before ----------------------------------------


def _reexport(journey, folder, fmt, keep=None):
    """The journey's tables written as CSV with every timestamp in ``fmt``; ``keep`` filters
    events, customers and surveys rows."""
    folder.mkdir(exist_ok=True)
    for name in ("events", "customers", "surveys"):
        frame = getattr(journey, name).copy()
        if keep is not None:
            frame = frame[keep(frame)]
        frame.to_csv(folder / f"{name}.csv", index=False, date_format=fmt)
    return folder


def test_sample_reexported_day_first_reads_the_same_or_asks(sample, tmp_path):
    # every column has some day above 12: the reading is inferred (and said), never mixed
    folder = _reexport(sample, tmp_path / "dmy", "%d/%m/%Y %H:%M:%S")
    with pytest.warns(UserWarning, match=r"dates read day first: '\d\d/\d\d/\d{4}"):
        j = cxkit.read_journey(folder)
    assert j.observed_at == sample.observed_at == pd.Timestamp("2025-06-29 23:58:20")
    for name in ("events", "customers", "surveys"):
        new, old = getattr(j, name), getattr(sample, name)
        for col in ("timestamp", "signup_at", "churned_at"):
            if col in old.columns:
                assert new[col].equals(old[col]), (name, col)
    assert "day first" in j.notes["cleaning"]["events"]["timestamp_read"]
    buyers = j.events.loc[j.events["event"] == "purchase", "customer_id"].nunique()
    old_buyers = sample.events.loc[sample.events["event"] == "purchase", "customer_id"].nunique()
    assert buyers == old_buyers

    # only days 1-12: every date reads both ways, so the loader asks (examples, what to pass)
    def early(frame):
        col = "signup_at" if "signup_at" in frame.columns else "timestamp"
        return (frame[col].dt.day <= 12) & (frame.get("churned_at", frame[col]).dt.day <= 12)

    folder = _reexport(sample, tmp_path / "early", "%d/%m/%Y %H:%M:%S", keep=early)
    pattern = r"(?s)events\.csv.*'timestamp'.*3 May or 5 March.*row 1: '\d\d/.*dayfirst=True"
    with pytest.raises(DataError, match=pattern):
        cxkit.read_journey(folder)
    (folder / "cxkit.toml").write_text("[timestamps]\ndayfirst = true\n")
    j = cxkit.read_journey(folder)
    assert j.events["timestamp"].equals(
        sample.events.loc[early(sample.events), "timestamp"].reset_index(drop=True)
    )


def test_a_column_mixing_day_first_and_month_first_is_refused():
    ev = events_frame()
    ev["timestamp"] = ["03/05/2024", "25/12/2024", "12/25/2024", "04/05/2024"]
    with pytest.raises(DataError, match=r"(?s)mixes two formats.*'25/12/2024' \(day first\)"):
        cxkit.read_events(ev)
    with pytest.raises(DataError, match=r"(?s)day first.*1 row.*'12/25/2024'"):
        cxkit.read_events(ev, dayfirst=True)  # one reading for the column: the odd row is named
    ev["timestamp"] = ["03/05/2024", "25/12/2024", "13/01/2024", "04/05/2024"]
    out = cxkit.read_events(ev, date_format="%d/%m/%Y").set_index("event")["timestamp"]
    assert out["purchase"] == pd.Timestamp("2024-05-03")


def test_naive_after_aware_is_not_shifted():
    # pandas alone reads the second value as 15:00 (the offset of the first one)
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "timestamp": ["2024-03-05T10:00-05:00", "2024-03-05T10:00"],
            "event": ["visit", "order"],
        }
    )
    with pytest.raises(DataError, match=r"(?s)UTC offset.*row 2: '2024-03-05T10:00'"):
        cxkit.read_events(frame)
    out = cxkit.read_events(frame, timezone="UTC").set_index("event")["timestamp"]
    assert out.to_dict() == {
        "visit": pd.Timestamp("2024-03-05 15:00"),
        "order": pd.Timestamp("2024-03-05 10:00"),
    }
    objects = frame.assign(
        timestamp=[pd.Timestamp("2024-03-05 10:00", tz="America/New_York"), pd.Timestamp(0)]
    )
    objects["timestamp"] = objects["timestamp"].astype(object)
    with pytest.raises(DataError, match="UTC offset"):
        cxkit.read_events(objects)


@pytest.mark.parametrize("word", ["today", "now", "12:30", "Yesterday"])
def test_relative_timestamps_are_refused(word):
    with pytest.raises(DataError, match=rf"(?s)'timestamp'.*'today' or 'now'.*1 row.*'{word}'"):
        cxkit.read_events(_bad_events(timestamp=(2, word)))


def test_two_files_for_one_table(tmp_path):
    write_folder(tmp_path)
    events_frame().to_parquet(tmp_path / "events.parquet")
    with pytest.raises(
        DataError,
        match=r"(?s)one file for the events table.*'events\.parquet', "
        r"'events\.csv'",
    ):
        cxkit.read_journey(tmp_path)
    (tmp_path / "cxkit.toml").write_text('[tables.events]\nfile = "events.csv"\n')
    assert len(cxkit.read_journey(tmp_path).events) == 4  # named in the spec: no doubt


def test_repeated_headers_and_mappings_onto_existing_names(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("customer_id,timestamp,event,event\na,2024-01-01,visit,order\n")
    with pytest.raises(DataError, match=r"(?s)events\.csv.*2 columns named 'event'"):
        cxkit.read_events(path)
    with pytest.raises(DataError, match=r"2 columns named 'event'"):
        cxkit.read_events(
            pd.read_csv(path).set_axis(
                ["customer_id", "timestamp", "event"] * 1 + ["event"], axis=1
            )
        )
    both = events_frame().assign(user_id=["u1", "u2", "u1", "u3"])
    with pytest.raises(DataError, match=r"(?s)one column named 'customer_id'.*'user_id'"):
        cxkit.read_events(both, customer="user_id")
    with pytest.raises(DataError, match=r"(?s)'channel' is mapped to 'event' and 'device'"):
        cxkit.read_events(events_frame().drop(columns="event"), event="channel", device="channel")


def test_ids_are_trimmed_like_event_names_and_counted(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "customer_id,timestamp,event\n 1,2024-01-01,visit\n1 ,2024-01-02,visit \n"
        "1,2024-01-03,order\n2,2024-01-01,visit\n"
    )
    with pytest.warns(UserWarning, match=r"spaces trimmed around 2 customer_id value"):
        ev = cxkit.read_events(path)
    assert list(ev["customer_id"].astype(str)) == ["1", "1", "1", "2"]
    assert list(ev["event"].astype(str)) == ["visit", "visit", "order", "visit"]
    assert ev.attrs["notes"]["trimmed"] == {"customer_id": 2, "event": 1}
    with pytest.raises(DataError, match=r"(?s)more than once.*2 row.*'7'"):
        cxkit.read_customers(
            pd.DataFrame({"customer_id": ["7", " 7"], "signup_at": ["2024-01-01"] * 2})
        )
    with pytest.warns(UserWarning):
        j = cxkit.read_journey(tmp_path)
    assert j.notes["people"] == 2
    assert j.notes["cleaning"]["events"]["trimmed"]["customer_id"] == 2


@pytest.mark.parametrize("value", ["inf", "-inf", "1e308", "1e16"])
def test_infinite_or_absurd_revenue_is_refused(tmp_path, value):
    path = tmp_path / "events.csv"
    path.write_text(
        f"customer_id,timestamp,event,value\na,2024-01-01,order,{value}\na,2024-01-02,order,12.5\n"
    )
    with pytest.raises(DataError, match=r"(?s)'value'.*finite.*1 row.*row 1"):
        cxkit.read_events(path)


def test_list_valued_parquet_columns_are_refused(tmp_path):
    frame = events_frame().assign(event=[["visit"], ["order"], ["visit"], ["visit"]])
    frame.to_parquet(tmp_path / "events.parquet")
    with pytest.raises(DataError, match=r"(?s)'event'.*hold lists.*4 row"):
        cxkit.read_events(tmp_path / "events.parquet")
    su = surveys_frame().assign(comment=[["a"], None, ["b", "c"]])
    with pytest.raises(DataError, match=r"(?s)'comment'.*hold lists.*2 row"):
        cxkit.read_surveys(su)


def _export_text():
    return "customer_id;timestamp;event;channel\na;2024-01-01 10:00;visit;café\nb;2024-01-02 11:00;order;web\n"


def test_encodings_and_separators_are_detected_or_named(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(_export_text().encode("utf-16"))  # Excel's "Unicode text": BOM, UTF-16
    with pytest.warns(UserWarning, match=r"UTF-16.*separated by semicolons"):
        ev = cxkit.read_events(path)
    assert list(ev["channel"].astype(str)) == ["café", "web"]
    path.write_bytes(_export_text().replace(";", "\t").encode("utf-8-sig"))
    with pytest.warns(UserWarning, match="separated by tabs"):
        assert list(cxkit.read_events(path)["channel"].astype(str)) == ["café", "web"]
    path.write_bytes(_export_text().encode("cp1252"))
    with pytest.raises(
        DataError,
        match=r"(?s)UTF-8.*line 2.*0xe9.*'a;2024-01-01 10:00;visit;"
        r"café'.*encoding='cp1252'",
    ):
        cxkit.read_events(path)
    with pytest.warns(UserWarning, match="semicolons"):
        ev = cxkit.read_events(path, encoding="cp1252")
    assert list(ev["channel"].astype(str)) == ["café", "web"]
    path.write_bytes(_export_text().replace(";", "|").encode("utf-16-le"))  # no BOM
    with pytest.raises(DataError, match=r"UTF-16 without a byte-order mark(.|\n)*utf-16-le"):
        cxkit.read_events(path)
    (tmp_path / "cxkit.toml").write_text('[tables.events]\nencoding = "utf-16-le"\nsep = "|"\n')
    assert len(cxkit.read_journey(tmp_path).events) == 2


def test_read_journey_of_a_file_says_it_is_a_file(tmp_path):
    write_folder(tmp_path)
    with pytest.raises(DataError, match=r"(?s)events\.csv.*this is a file.*read_events"):
        cxkit.read_journey(tmp_path / "events.csv")


def test_an_empty_churn_column_is_no_churn_yet(tmp_path):
    """A CSV whose churned_at column has no value at all (nobody has left) is read by CSV
    readers as numbers; it is all-missing timestamps, not an error."""
    import pandas as pd

    (tmp_path / "customers.csv").write_text(
        "customer_id,signup_at,churned_at\nc1,2024-01-01,\nc2,2024-02-01,\n"
    )
    c = cxkit.read_customers(tmp_path / "customers.csv")
    assert c["churned_at"].isna().all() and pd.api.types.is_datetime64_any_dtype(c["churned_at"])

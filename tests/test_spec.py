"""The data spec: every key validated with a DataError naming it, and read_journey using it."""

import json

import pandas as pd
import pytest

import cxkit
from cxkit import DataError
from cxkit.data.spec import Spec, read_spec


def events_frame():
    return pd.DataFrame(
        {
            "user_id": ["a", "a", "b", "c", "c"],
            "ts": [
                "03/05/2024 10:00",
                "04/05/2024 09:30",
                "13/05/2024 08:00",
                "01/06/2024 12:00",
                "02/06/2024 12:00",
            ],
            "action": ["visit", "order", "visit", "visit", "order"],
            "source": ["web", "web", "ads", "app", "app"],
        }
    )


def write(folder, text, name="cxkit.toml"):
    (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize(
    "raw, key",
    [
        ({"colour": 1}, "colour"),
        ({"business": {"model": "subscription"}}, "business.model"),
        ({"business": {"inactivity": "90"}}, "business.inactivity"),
        ({"business": {"inactivity": "soon"}}, "business.inactivity"),
        ({"business": {"lapse": "90D"}}, "business.lapse"),
        ({"business": {"activity": [1, 2]}}, "business.activity"),
        ({"funnel": {"window": "14"}}, "funnel.window"),
        ({"funnel": {"window": 14}}, "funnel.window"),
        ({"funnel": {"steps": {}}}, "funnel.steps"),
        ({"funnel": {"steps": ["visit", "order"]}}, "funnel.steps"),
        ({"funnel": {"steps": {"visit": []}}}, "funnel.steps"),
        ({"funnel": {"steps": {"visit": 3}}}, "funnel.steps"),
        ({"funnel": {"entry": "last"}}, "funnel.entry"),
        ({"funnel": {"step_windows": {"cart": "2"}}}, r"funnel.step_windows.cart"),
        ({"funnel": {"stages": {}}}, "funnel.stages"),
        ({"money": {"margin_rate": 1.5}}, "money.margin_rate"),
        ({"money": {"margin_rate": "30%"}}, "money.margin_rate"),
        ({"money": {"contact_cost": -1}}, "money.contact_cost"),
        ({"money": {"offer_cost": -0.5}}, "money.offer_cost"),
        ({"money": {"offer_success": 0}}, "money.offer_success"),
        ({"money": {"offer_success": 1.2}}, "money.offer_success"),
        ({"money": {"discount_rate": 1.5}}, "money.discount_rate"),
        ({"money": {"discount_rate": "10%"}}, "money.discount_rate"),
        ({"money": {"margin_rate": 0.3, "margin_column": "m"}}, "money.margin_rate"),
        ({"money": {"price": 3}}, "money.price"),
        ({"timestamps": {"dayfirst": "yes"}}, "timestamps.dayfirst"),
        ({"timestamps": {"timezone": "Mars/Olympus"}}, "timestamps.timezone"),
        ({"timestamps": {"format": "day/month"}}, "timestamps.format"),
        ({"timestamps": {"zone": "UTC"}}, "timestamps.zone"),
        ({"tables": {"orders": {}}}, "tables.orders"),
        ({"tables": {"events": {"user": "uid"}}}, "tables.events.user"),
        ({"tables": {"events": {"signup_at": "x"}}}, "tables.events.signup_at"),
        ({"tables": {"events": {"customer_id": 3}}}, "tables.events.customer_id"),
        ({"tables": {"events": "clicks.csv"}}, "tables.events"),
        ({"observed_at": "tomorrow-ish"}, "observed_at"),
        ({"observed_at": 20250630}, "observed_at"),
        ({"labels": {"visit": 3}}, "labels.visit"),
        ({"segments": "device, plan".split(", ") + [3]}, "segments"),
        ({"skip": [1]}, "skip"),
    ],
)
def test_every_bad_key_is_named(raw, key):
    with pytest.raises(DataError, match=rf"column '{key}'"):
        Spec.from_dict(raw, source="cxkit.toml")


def test_good_values_pass_and_translate_to_loader_keywords():
    spec = Spec.from_dict(
        {
            "tables": {"events": {"file": "clicks.csv", "customer_id": "user_id", "event": "a"}},
            "timestamps": {"dayfirst": True, "timezone": "Europe/Madrid", "format": "%d/%m/%Y"},
            "funnel": {"steps": {"v": "visit", "o": ["order", "reorder"]}, "window": "7D"},
            "money": {"margin_rate": 0, "offer_success": 1, "contact_cost": 0},
            "skip": ["anything.at.all"],
            "observed_at": "2025-06-30",
        }
    )
    assert spec.loader_keywords("events") == {"customer": "user_id", "event": "a"}
    assert spec.loader_keywords("customers") == {}
    assert spec.parse_keywords() == {
        "dayfirst": True,
        "date_format": "%d/%m/%Y",
        "timezone": "Europe/Madrid",
    }
    assert spec.skips("anything.at.all.below")


def test_mapping_file_and_observed_at_from_the_spec(tmp_path):
    events_frame().to_csv(tmp_path / "clicks.csv", index=False)
    write(
        tmp_path,
        """
observed_at = 2024-07-01
[tables.events]
file = "clicks.csv"
customer_id = "user_id"
timestamp = "ts"
event = "action"
channel = "source"
[timestamps]
dayfirst = true
""",
    )
    j = cxkit.read_journey(tmp_path)
    assert len(j.events) == len(events_frame()) == 5
    assert list(j.events.columns) == ["customer_id", "timestamp", "event", "channel"]
    assert j.observed_at == pd.Timestamp("2024-07-01")
    # day first: 03/05/2024 is 3 May, 13/05/2024 is 13 May
    first = j.events.set_index(["customer_id", "event"])["timestamp"]
    assert first[("a", "visit")] == pd.Timestamp("2024-05-03 10:00")
    assert first[("b", "visit")] == pd.Timestamp("2024-05-13 08:00")


def test_explicit_arguments_override_the_file(tmp_path):
    frame = events_frame().rename(columns={"action": "what"})
    frame.to_csv(tmp_path / "events.csv", index=False)
    write(
        tmp_path,
        '[tables.events]\ncustomer_id = "user_id"\ntimestamp = "ts"\nevent = "action"\n'
        "[timestamps]\ndayfirst = true\n",
    )
    with pytest.raises(DataError, match="'action'"):
        cxkit.read_journey(tmp_path)
    j = cxkit.read_journey(tmp_path, events={"event": "what"}, observed_at="2024-08-01")
    assert j.events["event"].value_counts()["order"] == 2
    assert j.observed_at == pd.Timestamp("2024-08-01")
    # the override takes effect: month first, 13/05/2024 cannot be read (never half and half)
    with pytest.raises(DataError, match=r"(?s)month first.*1 row.*'13/05/2024 08:00'"):
        cxkit.read_journey(
            tmp_path, spec={"timestamps": {"dayfirst": False}}, events={"event": "what"}
        )


def test_exact_format_and_timezone(tmp_path):
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "timestamp": ["2024.01.15 10h00", "2024.07.15 10h00", "2024.07.15 23h30"],
            "event": ["visit", "order", "order"],
        }
    )
    frame.to_csv(tmp_path / "events.csv", index=False)
    write(tmp_path, '[timestamps]\nformat = "%Y.%m.%d %Hh%M"\ntimezone = "Europe/Madrid"\n')
    ts = cxkit.read_journey(tmp_path).events["timestamp"].tolist()
    # Madrid is UTC+1 in January and UTC+2 in July
    assert ts == [
        pd.Timestamp("2024-01-15 09:00"),
        pd.Timestamp("2024-07-15 08:00"),
        pd.Timestamp("2024-07-15 21:30"),
    ]
    frame.loc[2, "timestamp"] = "2024-07-15 23:30"  # not the format
    frame.to_csv(tmp_path / "events.csv", index=False)
    with pytest.raises(DataError, match=r"(?s)format '%Y.%m.%d %Hh%M'.*1 row"):
        cxkit.read_journey(tmp_path)


def test_timezone_leaves_aware_values_alone():
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "timestamp": ["2024-03-05 14:00", "2024-03-05T14:00:00+05:00"],
            "event": ["visit", "visit"],
        }
    )
    ev = cxkit.read_events(frame, timezone="America/New_York")  # UTC-5 in March (before DST)
    assert ev.set_index("customer_id")["timestamp"].to_dict() == {
        "a": pd.Timestamp("2024-03-05 19:00"),
        "b": pd.Timestamp("2024-03-05 09:00"),
    }
    with pytest.raises(DataError, match="Mars/Olympus"):
        cxkit.read_events(frame, timezone="Mars/Olympus")


def test_dayfirst_on_customers_and_surveys():
    cu = cxkit.read_customers(
        pd.DataFrame({"customer_id": ["a"], "signup_at": ["03/05/2024"], "churned_at": [None]}),
        dayfirst=True,
    )
    assert cu["signup_at"].iloc[0] == pd.Timestamp("2024-05-03")
    su = cxkit.read_surveys(
        pd.DataFrame(
            {"customer_id": ["a"], "timestamp": ["03/05/2024"], "survey": ["nps"], "score": [9]}
        ),
        dayfirst=True,
    )
    assert su["timestamp"].iloc[0] == pd.Timestamp("2024-05-03")


def test_unparsable_spec_file_is_named(tmp_path):
    write(tmp_path, "[funnel\nwindow = 3")
    with pytest.raises(DataError, match=r"cxkit\.toml(.|\n)*valid TOML"):
        read_spec(tmp_path)
    (tmp_path / "cxkit.toml").unlink()
    write(tmp_path, "{not json", name="cxkit.json")
    with pytest.raises(DataError, match=r"cxkit\.json(.|\n)*valid JSON"):
        read_spec(tmp_path)


def test_bad_key_in_a_file_names_file_and_key(tmp_path):
    write(tmp_path, '[funnel]\nwindow = "14"\n')
    with pytest.raises(DataError, match=r"cxkit\.toml(.|\n)*column 'funnel\.window'"):
        read_spec(tmp_path)


def test_two_spec_files_refused(tmp_path):
    write(tmp_path, "")
    write(tmp_path, "{}", name="cxkit.json")
    with pytest.raises(DataError, match="one spec file"):
        read_spec(tmp_path)


def test_funnel_json_is_the_funnel_part_and_validated(tmp_path):
    (tmp_path / "funnel.json").write_text(
        json.dumps({"steps": {"visit": "visit", "order": "order"}, "window": "7D"})
    )
    assert read_spec(tmp_path).funnel == {
        "steps": {"visit": "visit", "order": "order"},
        "window": "7D",
    }
    write(tmp_path, 'observed_at = "2024-07-01"\n')
    assert read_spec(tmp_path).funnel["window"] == "7D"
    (tmp_path / "funnel.json").write_text(json.dumps({"steps": {}, "window": "7D"}))
    with pytest.raises(DataError, match=r"funnel\.json(.|\n)*column 'steps'"):
        read_spec(tmp_path)


def test_missing_named_file(tmp_path):
    events_frame().to_csv(tmp_path / "events.csv", index=False)
    write(tmp_path, '[tables.events]\nfile = "clicks.csv"\n')
    with pytest.raises(DataError, match=r"tables\.events\.file(.|\n)*clicks\.csv"):
        cxkit.read_journey(tmp_path)


def test_the_documented_example_loads_and_readme_matches_the_docstring(tmp_path):
    import re
    from pathlib import Path

    import cxkit.data.spec as module

    doc = module.__doc__.split("::\n\n", 1)[1].split("\nExamples\n")[0]
    doc = "\n".join(line[4:] for line in doc.strip("\n").splitlines())
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    block = re.search(r"## Your own data: cxkit\.toml.*?```toml\n(.*?)```", readme, re.S)
    assert block.group(1).strip() == doc.strip()
    spec = read_spec(write(tmp_path, doc))
    assert spec.business_model == "non-contractual"
    assert spec.loader_keywords("events") == {
        "customer": "user_id",
        "timestamp": "ts",
        "event": "action",
        "decimal": ",",
    }
    assert spec.label("page_view") == "Visited the site"

"""cxkit init: profile a folder, write a starter cxkit.toml that loads, never overwrite."""

import shutil

import pandas as pd
import pytest

import cxkit
from cxkit import DataError
from cxkit.cli import main
from cxkit.data.profile import event_order, guess_mapping, profile
from cxkit.data.spec import read_spec


@pytest.fixture(scope="module")
def sample_copy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample") / "data"
    shutil.copytree(cxkit.sample_dir(), folder)
    path = cxkit.init_spec(folder)
    return folder, path


def test_init_on_the_sample_round_trips(sample_copy, sample):
    folder, path = sample_copy
    assert path == folder / "cxkit.toml"
    text = path.read_text()
    assert "# guess:" in text
    spec = read_spec(folder)
    assert spec.business_model == "contractual"  # the sample has churn dates
    assert spec.activity == ["purchase"]
    steps = spec.funnel["steps"]
    assert list(steps)[-1] == "purchase" and list(steps)[1:4] == [
        "site_visit",
        "product_view",
        "add_to_cart",
    ]
    assert set(steps["first_touch"]) == {
        "ad_click",
        "social_click",
        "email_click",
        "referral_visit",
        "organic_search",
    }
    assert {"channel", "device", "plan", "region"} <= set(spec.segments)
    assert spec.money == {}  # money is left for the analyst
    j = cxkit.read_journey(folder)
    base = sample
    assert (len(j.events), len(j.customers), len(j.surveys)) == (
        len(base.events),
        len(base.customers),
        len(base.surveys),
    )
    assert j.spec.source.endswith("cxkit.toml")


def test_init_never_overwrites(tmp_path):
    folder, path = tmp_path, tmp_path / "cxkit.toml"
    _clickstream().to_csv(folder / "events.csv", index=False)
    path.write_text("# mine\n")
    with pytest.raises(DataError, match=r"cxkit\.toml(.|\n)*already has one(.|\n)*--force"):
        cxkit.init_spec(folder)
    assert path.read_text() == "# mine\n"
    assert main(["init", str(folder)]) == 2
    assert path.read_text() == "# mine\n"
    assert main(["init", str(folder), "--force"]) == 0
    assert "# guess:" in path.read_text()


def test_init_refuses_a_json_spec_even_with_force(tmp_path, capsys):
    _clickstream().to_csv(tmp_path / "events.csv", index=False)
    (tmp_path / "cxkit.json").write_text("{}")
    assert main(["init", str(tmp_path), "--force"]) == 2
    assert "cxkit.json" in capsys.readouterr().err
    assert not (tmp_path / "cxkit.toml").exists()


def _clickstream():
    """Mapped names, day-first dates, no customers: 3 buyers among 4 people."""
    return pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u2", "u2", "u3", "u4", "u4"] * 3,
            "ts": [
                "03/05/2024 10:00",
                "03/05/2024 10:05",
                "13/05/2024 09:00",
                "04/05/2024 11:00",
                "04/05/2024 11:30",
                "05/05/2024 12:00",
                "06/05/2024 08:00",
                "20/05/2024 08:00",
            ]
            * 3,
            "action": ["view", "cart", "Order_Placed", "view", "cart", "view", "view", "buy_now"]
            * 3,
            "device": ["web", "web", "app", "app", "app", "web", "web", "app"] * 3,
        }
    )


def test_init_on_an_events_only_folder(tmp_path, capsys):
    _clickstream().to_csv(tmp_path / "events.csv", index=False)
    assert main(["init", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "no customers table" in out and "could not decide" in out
    spec = read_spec(tmp_path)
    assert spec.tables["events"] == {
        "customer_id": "user_id",
        "timestamp": "ts",
        "event": "action",
    }
    assert spec.timestamps["dayfirst"] is True  # 13/05/2024 can only be day first
    assert spec.business_model == "non-contractual"
    assert spec.activity == ["Order_Placed", "buy_now"]
    assert spec.segments == ["device"]
    j = cxkit.read_journey(tmp_path)
    assert j.business_model == "non-contractual"
    # u1 ordered first on 13 May, u4 bought on 20 May; u2, u3 never did
    signup = j.customers.set_index("customer_id")["signup_at"].to_dict()
    assert signup == {
        "u1": pd.Timestamp("2024-05-13 09:00"),
        "u4": pd.Timestamp("2024-05-20 08:00"),
    }
    assert "look like a purchase" not in j.notes["customers_derived"]  # the spec named them
    assert "Order_Placed" in j.notes["customers_derived"]


def test_init_says_what_it_cannot_map(tmp_path, capsys):
    frame = _clickstream().rename(columns={"user_id": "who", "action": "what"})
    frame.to_csv(tmp_path / "events.csv", index=False)
    assert main(["init", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "tables.events.customer_id" in out and "tables.events.event" in out
    text = (tmp_path / "cxkit.toml").read_text()
    assert '# customer_id = "?"  # could not map' in text
    assert 'timestamp = "ts"' in text  # the only date/time column
    spec = read_spec(tmp_path)  # loads as written
    assert "customer_id" not in spec.tables["events"]
    with pytest.raises(DataError, match="customer_id"):
        cxkit.read_journey(tmp_path)
    # after the analyst fills it in, the folder reads
    text = text.replace('# customer_id = "?"', 'customer_id = "who"')
    text = text.replace('# event = "?"', 'event = "what"')
    (tmp_path / "cxkit.toml").write_text(text)
    assert len(cxkit.read_journey(tmp_path).events) == len(frame)


def test_guess_mapping():
    kinds = {"UserID": "text", "event_time": "date/time", "Action": "text", "revenue": "number"}
    mapping, unmapped = guess_mapping("events", list(kinds), kinds)
    assert mapping == {
        "customer_id": "UserID",
        "timestamp": "event_time",
        "event": "Action",
        "value": "revenue",
    }
    assert unmapped == []
    _, unmapped = guess_mapping("events", ["a", "b"], {"a": "text", "b": "text"})
    assert unmapped == ["customer_id", "timestamp", "event"]


def test_event_order_by_hand():
    ev = cxkit.read_events(
        _clickstream()
        .rename(columns={"user_id": "customer_id", "ts": "timestamp"})
        .rename(columns={"action": "event"}),
        dayfirst=True,
    )
    order = {e["event"]: e for e in event_order(ev)}
    assert order["view"]["people"] == 4 and order["view"]["rows"] == 12
    assert order["view"]["median_position"] == 1.0
    assert order["cart"]["median_position"] == 2.0  # u1 and u2: second distinct event
    # u1 ordered 10 days after their first view (3 May 10:00 -> 13 May 09:00)
    assert order["Order_Placed"]["median_days_from_start"] == pytest.approx(23 / 24 + 9)


def test_profile_of_the_sample_journey(sample):
    j = sample
    p = profile(j)
    assert p["churn_dates"] is True and p["churned"] == int(
        j.customers["churned_at"].notna().sum()
    )
    assert p["surveys"]["nps"] == {
        "answers": int((j.surveys["survey"] == "nps").sum()),
        "lowest": 0,
        "highest": 10,
    }
    assert p["segments"]["events"] == {"channel": 10, "device": 3}


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16"])
def test_init_writes_how_the_file_is_written_and_the_spec_reads_it(tmp_path, encoding):
    """A European export: not UTF-8, semicolons, amounts with a decimal comma."""
    frame = _clickstream()
    frame["device"] = frame["device"].replace({"app": "móvil"})  # not ASCII
    frame["amount"] = ["1.234,50", "", "12,50", "", "", "", "", "3,00"] * 3
    text = frame.to_csv(index=False, sep=";")
    (tmp_path / "events.csv").write_bytes(text.encode(encoding))
    with pytest.raises(DataError):
        cxkit.read_journey(tmp_path)  # without the spec: refused, with a hint
    cxkit.init_spec(tmp_path)
    written = (tmp_path / "cxkit.toml").read_text()
    assert f'encoding = "{encoding}"' in written
    assert 'sep = ";"' in written and 'decimal = ","' in written
    assert read_spec(tmp_path).tables["events"]["decimal"] == ","
    j = cxkit.read_journey(tmp_path)
    assert j.events["value"].sum() == pytest.approx(3 * (1234.5 + 12.5 + 3.0))
    assert set(j.events["device"].cat.categories) == {"web", "móvil"}
    assert len(j.events) == len(frame)

"""Opening a journey on DuckDB: the same contract as the pandas loaders, checked in SQL."""

import subprocess
import sys

import pandas as pd
import pytest

import cxkit

pytest.importorskip("ibis")
pytest.importorskip("duckdb")


def test_import_cxkit_does_not_import_ibis():
    code = "import sys, cxkit; print('ibis' in sys.modules, 'duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.fixture(scope="module")
def parquet_sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample_parquet")
    journey = cxkit.load_sample()
    for name in ("events", "customers", "surveys"):
        getattr(journey, name).to_parquet(folder / f"{name}.parquet")
    return folder, journey


def test_read_journey_duckdb_holds_the_same_tables(parquet_sample):
    folder, journey = parquet_sample
    engine = cxkit.read_journey(folder, engine="duckdb", threads=1)
    assert type(engine).__name__ == "EngineJourney" and engine.engine == "duckdb"
    assert engine.observed_at == journey.observed_at
    assert engine.business_model == journey.business_model
    back = engine.to_pandas()
    pd.testing.assert_frame_equal(
        back.events, journey.events, check_dtype=False, check_categorical=False
    )
    cols = list(journey.customers.columns)
    pd.testing.assert_frame_equal(
        back.customers[cols], journey.customers, check_dtype=False, check_categorical=False
    )
    assert len(back.surveys) == len(journey.surveys)


def test_read_journey_duckdb_returns_freed_memory_by_default(parquet_sample):
    """The allocator flushes after tasks (a finished query's pages left resident beside the
    pulled-back table); a setting given by the caller wins."""
    folder, _ = parquet_sample

    def setting(journey, name):
        query = f"SELECT value FROM duckdb_settings() WHERE name = '{name}'"
        return journey.backend.con.execute(query).fetchone()[0]

    engine = cxkit.read_journey(folder, engine="duckdb", threads=1)
    assert setting(engine, "allocator_background_threads") == "true"
    assert setting(engine, "allocator_flush_threshold") == "32MB"  # the default is 128 MiB
    mine = cxkit.read_journey(
        folder, engine="duckdb", threads=1, allocator_background_threads=False
    )
    assert setting(mine, "allocator_background_threads") == "false"


def test_read_journey_duckdb_reads_csv_with_the_spec(tmp_path):
    (tmp_path / "events.csv").write_text(
        "user,ts,action\nu1,2024-03-01 10:00,visit\nu1,2024-03-01 12:30,order\n"
        "u2,2024-03-02 09:00,visit\n"
    )
    (tmp_path / "cxkit.toml").write_text(
        '[tables.events]\ncustomer_id = "user"\ntimestamp = "ts"\nevent = "action"\n'
        '[timestamps]\ntimezone = "Europe/Madrid"\n'
    )
    pandas_journey = cxkit.read_journey(tmp_path)
    engine = cxkit.read_journey(tmp_path, engine="duckdb")
    # naive Madrid times are UTC one hour earlier in March, as the pandas loader reads them
    assert engine.observed_at == pandas_journey.observed_at == pd.Timestamp("2024-03-02 08:00")
    assert engine.business_model == "non-contractual"
    back = engine.to_pandas()
    assert back.customers["customer_id"].tolist() == ["u1"]  # derived: the ordering person
    assert back.customers["signup_at"].tolist() == [pd.Timestamp("2024-03-01 11:30")]


def _folder(tmp_path, **files):
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
    return tmp_path


def test_missing_column_names_the_file_and_column(tmp_path):
    folder = _folder(tmp_path, events="customer_id,timestamp\na,2024-01-01\n")
    with pytest.raises(cxkit.DataError, match=r"events\.csv[\s\S]*event[\s\S]*missing"):
        cxkit.read_journey(folder, engine="duckdb")


def test_bad_timestamps_and_missing_ids_give_row_examples(tmp_path):
    folder = _folder(
        tmp_path,
        events="customer_id,timestamp,event\na,2024-01-01,visit\n,2024-01-02,visit\n"
        "b,not a date,visit\nc,2024-01-03,\n",
    )
    with pytest.raises(cxkit.DataError) as info:
        cxkit.read_journey(folder, engine="duckdb")
    text = str(info.value)
    assert "events.csv" in text and "not a date" in text and "row 3" in text
    assert "customer_id" in text and "row 2" in text


def test_offsets_beside_naive_times_need_a_timezone(tmp_path):
    folder = _folder(
        tmp_path,
        events="customer_id,timestamp,event\na,2024-01-01T10:00:00+02:00,visit\n"
        "a,2024-01-01 11:00:00,visit\n",
    )
    with pytest.raises(cxkit.DataError, match="UTC offset"):
        cxkit.read_journey(folder, engine="duckdb")
    # all with offsets: converted to naive UTC
    folder = _folder(
        tmp_path,
        events="customer_id,timestamp,event\na,2024-01-01T10:00:00+02:00,visit\n",
    )
    assert cxkit.read_journey(folder, engine="duckdb").observed_at == pd.Timestamp(
        "2024-01-01 08:00"
    )


def test_customers_checks(tmp_path):
    folder = _folder(
        tmp_path,
        events="customer_id,timestamp,event\na,2024-01-01,visit\n",
        customers="customer_id,signup_at,churned_at\na,2024-01-01,\na,2024-01-02,\n",
    )
    with pytest.raises(cxkit.DataError, match=r"appear more than once[\s\S]*a"):
        cxkit.read_journey(folder, engine="duckdb")
    (tmp_path / "customers.csv").write_text(
        "customer_id,signup_at,churned_at\na,2024-01-05,2024-01-01\n"
    )
    with pytest.raises(cxkit.DataError, match="on or after signup_at"):
        cxkit.read_journey(folder, engine="duckdb")


def test_survey_scale_checked(tmp_path):
    folder = _folder(
        tmp_path,
        events="customer_id,timestamp,event\na,2024-01-01,visit\n",
        surveys="customer_id,timestamp,survey,score\na,2024-01-02,NPS,11\n",
    )
    with pytest.raises(cxkit.DataError, match=r"nps 0–10[\s\S]*row 1"):
        cxkit.read_journey(folder, engine="duckdb")


def test_connect_takes_backend_tables_and_a_mapping():
    import ibis

    con = ibis.duckdb.connect()
    con.raw_sql(
        "CREATE TABLE clicks AS SELECT * FROM (VALUES "
        "(1, 'u1', TIMESTAMP '2024-01-01 10:00', 'visit'), "
        "(2, 'u1', TIMESTAMP '2024-01-01 10:00', 'signup'), "
        "(3, 'u2', TIMESTAMP '2024-01-02 10:00', 'visit')) t(id, uid, ts, what)"
    )
    spec = {"tables": {"events": {"customer_id": "uid", "timestamp": "ts", "event": "what"}}}
    journey = cxkit.connect(con, events="clicks", spec=spec, order="id")
    assert journey.observed_at == pd.Timestamp("2024-01-02 10:00")
    f = cxkit.funnel(journey, ["visit", "signup"])
    assert f["customers"].tolist() == [2, 1]
    with pytest.raises(cxkit.DataError, match="order="):
        cxkit.connect(con, events="clicks", spec=spec, order="nope")


def test_unknown_engine_is_refused(tmp_path):
    with pytest.raises(cxkit.DataError, match="pandas' or 'duckdb"):
        cxkit.read_journey(tmp_path, engine="polars")

"""The reductions on Spark in local mode (through Ibis) equal the pandas engine.

Runs only where the ``spark`` extra is installed (pyspark and Java 17); ``make test`` installs
the ``duckdb`` extra only, so these are skipped there. A Spark session takes ~15 s to start."""

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

import cxkit

pytest.importorskip("ibis")
pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java", allow_module_level=True)

pytestmark = pytest.mark.slow

T0 = pd.Timestamp("2024-03-01")


@pytest.fixture(scope="module")
def journeys():
    import ibis
    from pyspark.sql import SparkSession

    from cxkit.data import journey_from_tables

    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    rng = np.random.default_rng(1)
    n = 400
    # Spark reads microsecond timestamps (not nanoseconds)
    events = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 30, n).astype(str),
            "timestamp": (T0 + pd.to_timedelta(rng.integers(0, 3000, n), unit="min")).astype(
                "datetime64[us]"
            ),
            "event": rng.choice(["visit", "cart", "buy"], n),
            "row": np.arange(n),
        }
    )
    churn = T0 + pd.to_timedelta(rng.integers(1000, 4000, 15), unit="min")
    customers = pd.DataFrame(
        {
            "customer_id": [str(i) for i in range(30)],
            "signup_at": (T0 + pd.to_timedelta(rng.integers(0, 1000, 30), unit="min")).astype(
                "datetime64[us]"
            ),
            "churned_at": pd.Series([pd.NaT] * 15 + list(churn), dtype="datetime64[us]"),
        }
    )
    spark.createDataFrame(events).createOrReplaceTempView("events")
    spark.createDataFrame(customers).createOrReplaceTempView("customers")
    con = ibis.pyspark.connect(spark)
    engine = cxkit.connect(con, events="events", customers="customers", order="row")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = journey_from_tables(
            events.drop(columns="row").astype({"timestamp": "datetime64[ns]"}),
            customers.astype({"signup_at": "datetime64[ns]", "churned_at": "datetime64[ns]"}),
            observed_at=engine.observed_at,
        )
    yield local, engine
    spark.stop()


def _same(a, b):
    a = a.assign(customer_id=a["customer_id"].astype(str))
    a = a.sort_values("customer_id").reset_index(drop=True)
    b = b.sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b[a.columns], check_dtype=False, check_categorical=False)


def test_spark_opens_with_the_same_observed_at(journeys):
    local, engine = journeys
    assert engine.engine == "pyspark"
    assert engine.observed_at == local.observed_at


@pytest.mark.parametrize(
    "options",
    [{"window": "1D"}, {"entry": "first", "strict": True}],
)
def test_spark_funnel_table(journeys, options):
    local, engine = journeys
    steps = ["visit", "cart", "buy"] if "window" in options else ["visit", "buy", "buy"]
    _same(
        cxkit.funnel_table(local, steps, **options), cxkit.funnel_table(engine, steps, **options)
    )


def test_spark_survival_activity_rfm(journeys):
    local, engine = journeys
    _same(cxkit.survival_table(local), cxkit.survival_table(engine))
    _same(
        cxkit.activity_table(local, inactivity="12h"),
        cxkit.activity_table(engine, inactivity="12h"),
    )
    _same(cxkit.rfm(local, event="buy"), cxkit.rfm(engine, event="buy"))


def test_spark_churn_features(journeys):
    local, engine = journeys
    a = cxkit.churn_dataset(local, ["2024-03-02"], lookback="1D")[0].sort_index()
    b = cxkit.churn_dataset(engine, ["2024-03-02"], lookback="1D")[0].sort_index()
    pd.testing.assert_frame_equal(a, b[a.columns], check_dtype=False)


@pytest.mark.parametrize("kind", ["contract", "activity"])
def test_spark_cohort_retention(journeys, kind):
    local, engine = journeys
    a = cxkit.cohort_retention(local, period="D", kind=kind)
    b = cxkit.cohort_retention(engine, period="D", kind=kind)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert a.attrs == b.attrs


def test_spark_time_varying_table(journeys):
    local, engine = journeys
    options = {"engagement_event": "visit", "tickets_window": "1D", "detractor": False}
    a = cxkit.time_varying_table(local, **options)
    b = cxkit.time_varying_table(engine, **options)
    a = a.assign(customer_id=a["customer_id"].astype(str))
    a = a.sort_values(["customer_id", "start"]).reset_index(drop=True)
    b = b.sort_values(["customer_id", "start"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_categorical=False)
    assert a.attrs == b.attrs


def test_spark_clv_summary(journeys):
    local, engine = journeys
    for unit in ("D", "W"):
        a = cxkit.clv_summary(local, event="buy", time_unit=unit)
        b = cxkit.clv_summary(engine, event="buy", time_unit=unit)
        assert len(a) > 10 and (a["frequency"] > 0).any()
        pd.testing.assert_frame_equal(
            a.sort_index(), b.sort_index()[a.columns], check_dtype=False, check_index_type=False
        )
        assert a.attrs == b.attrs

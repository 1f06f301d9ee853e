"""Every result table can be exported as it is: to CSV and to Parquet (pandas writes attrs
into Parquet metadata with json.dumps, so attrs must stay JSON-serialisable)."""

import io
import warnings

import pytest

import cxkit
from cxkit.funnel import STEPS


def result_tables(j):
    st = cxkit.survival_table(j)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, _ = cxkit.churn_dataset(j, "MS")
    return {
        "events": lambda: j.events,
        "customers": lambda: j.customers,
        "funnel": lambda: cxkit.funnel(j, STEPS, by="device"),
        "funnel_table": lambda: cxkit.funnel_table(j, STEPS),
        "time_to_convert": lambda: cxkit.time_to_convert(j, STEPS),
        "funnel_trend": lambda: cxkit.funnel_trend(j, STEPS),
        "drop_off_paths": lambda: cxkit.drop_off_paths(j, STEPS, step=5),
        "compare_funnel": lambda: cxkit.compare_funnel(j, STEPS, by="device"),
        "survival_table": lambda: st,
        "activity_table": lambda: cxkit.activity_table(j),
        "kaplan_meier": lambda: cxkit.kaplan_meier(st, by="plan"),
        "survival_summary": lambda: cxkit.survival_summary(st, by="plan"),
        "logrank": lambda: cxkit.logrank(st, by="plan"),
        "rmst": lambda: cxkit.rmst(st, by="plan", horizon=365),
        "cohort_retention": lambda: cxkit.cohort_retention(j),
        "time_varying_table": lambda: cxkit.time_varying_table(j),
        "churn_dataset": lambda: X,
        "nps": lambda: cxkit.nps(j, by="touchpoint"),
        "csat": lambda: cxkit.csat(j, by="touchpoint"),
        "rfm": lambda: cxkit.rfm(j),
        "journey_map": lambda: cxkit.journey_map(j),
    }


@pytest.fixture(scope="module")
def tables(sample):
    return result_tables(sample)


@pytest.mark.parametrize(
    "name",
    [
        "events",
        "customers",
        "funnel",
        "funnel_table",
        "time_to_convert",
        "funnel_trend",
        "drop_off_paths",
        "compare_funnel",
        "survival_table",
        "activity_table",
        "kaplan_meier",
        "survival_summary",
        "logrank",
        "rmst",
        "cohort_retention",
        "time_varying_table",
        "churn_dataset",
        "nps",
        "csat",
        "rfm",
        "journey_map",
    ],
)
def test_result_table_exports_to_parquet_and_csv(tables, name):
    table = tables[name]().head(50)
    table.to_parquet(io.BytesIO())
    table.to_csv(io.StringIO())


def test_a_dollar_in_data_is_drawn_as_written(sample):
    """Segment names come from the user's data: "$5 plan" is text, not matplotlib mathtext
    (two $ made a label mathtext, and "$5_$" a traceback)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cxkit.set_theme()
    import dataclasses

    events = sample.events.assign(
        device=sample.events["device"].astype(str).replace("mobile", "promo $5_$10")
    )
    journey = dataclasses.replace(sample, events=events)
    ax = cxkit.plots.plot_funnel(cxkit.funnel(journey, STEPS, by="device"), by="device")
    ax.figure.canvas.draw()  # raised ValueError before: parsed as math
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "promo $5_$10" in labels
    plt.close("all")

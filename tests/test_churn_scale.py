"""Churn at scale (issue 16): bounded training sets, importance on a customer sample, and a
churn_dataset whose counting does not depend on the order or chunking of the events."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

import cxkit
import cxkit.churn.reduce as reduce_module
from cxkit.churn import churn_dataset, compare_models, driver_importance
from cxkit.data import DataError, Journey


def _table(n=3000, rows_per_customer=1, seed=0):
    rng = np.random.default_rng(seed)
    calls = rng.poisson(1.0, n).astype(float)
    noise = rng.normal(size=n)
    churned = rng.random(n) < 1 / (1 + np.exp(-(-2.0 + 0.9 * calls)))
    ids = [f"c{i // rows_per_customer}" for i in range(n)]
    return pd.DataFrame({"customer_id": ids, "calls": calls, "noise": noise, "churned": churned})


@pytest.fixture
def fitted_rows(monkeypatch):
    """Rows of every Pipeline.fit call (the models' training sets)."""
    seen = []
    real = Pipeline.fit

    def recording(self, X, *args, **kwargs):
        seen.append(len(X))
        return real(self, X, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "fit", recording)
    return seen


def test_models_learn_from_a_seeded_sample_of_at_most_max_train_rows(fitted_rows):
    table = _table()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = compare_models(table, "churned", n_splits=2, n_boot=20, max_train_rows=500)
    # 2 splits × 2 models, then the chosen model on every labelled row: each on 500 rows
    assert fitted_rows == [500] * 5
    assert res.notes_["rows_fitted"] == [500, 500] and res.notes_["rows_fitted_final"] == 500
    assert res.notes_["max_train_rows"] == 500
    # held-out evaluation is unchanged: every row is predicted once and scored
    assert res.notes_["rows_evaluated"] == 3000 and len(res.predictions_) == 3000
    assert res.table["n"].tolist() == [3000, 3000]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = compare_models(table, "churned", n_splits=2, n_boot=20, max_train_rows=500)
    pd.testing.assert_frame_equal(
        res.table.drop(columns="fit_seconds"), again.table.drop(columns="fit_seconds")
    )
    # the real driver is still found from a sample (AUC of calls alone is about 0.7)
    assert res.table.loc["logistic", "roc_auc"] > 0.65


def test_without_a_cap_every_training_row_is_used(fitted_rows):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_models(_table(), "churned", n_splits=2, n_boot=0, max_train_rows=None)
    assert fitted_rows == [1500] * 4 + [3000]


@pytest.mark.parametrize("bad", [50, 0.5, "1000", True])
def test_bad_max_train_rows(bad):
    with pytest.raises(DataError, match="'max_train_rows'.*at least 100"):
        compare_models(_table(300), "churned", max_train_rows=bad)


def test_importance_above_max_rows_uses_whole_customers_and_says_so():
    table = _table(4000, rows_per_customer=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = compare_models(table, "churned", n_splits=2, n_boot=0)
    imp = driver_importance(res, n_repeats=2, n_boot=50, max_rows=1002)
    # customers drawn whole: 250 customers of 4 rows fit in 1002 rows, 251 would not
    assert imp.attrs["rows"] == 1000 and imp.attrs["customers"] == 250
    assert imp.attrs["rows_held_out"] == 4000
    top = imp.iloc[0]
    assert top["family"] == "calls" and top["ci_low"] > 0
    again = driver_importance(res, n_repeats=2, n_boot=50, max_rows=1002)
    pd.testing.assert_frame_equal(imp, again)
    # wider intervals than on all rows: the sample's precision, not the full table's
    full = driver_importance(res, n_repeats=2, n_boot=50, max_rows=None)
    assert full.attrs["rows"] == 4000
    width = (imp["ci_high"] - imp["ci_low"]).iloc[0]
    assert width > (full["ci_high"] - full["ci_low"]).iloc[0]
    with pytest.raises(DataError, match="'max_rows'"):
        driver_importance(res, max_rows=0)


def _shuffled_text_ids(journey, seed):
    """The same journey with the events in random order and ids as plain text."""
    ev = journey.events.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    ev["customer_id"] = ev["customer_id"].astype(str).astype(object)
    return Journey(ev, journey.customers, journey.surveys, journey.observed_at)


@pytest.mark.parametrize("label", ["churned_at", "inactivity"])
def test_churn_dataset_does_not_depend_on_event_order_ids_or_chunks(sample, monkeypatch, label):
    cutoffs = pd.date_range(end=sample.observed_at.normalize(), periods=6, freq="MS")
    kwargs = {"lookback": "90D", "horizon": "30D", "label": label}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = churn_dataset(sample, list(cutoffs), **kwargs)
        monkeypatch.setattr(reduce_module, "_CHUNK", 7_919)  # many chunks, uneven
        X2, y2 = churn_dataset(_shuffled_text_ids(sample, 3), list(cutoffs), **kwargs)
    pd.testing.assert_frame_equal(X, X2)
    pd.testing.assert_series_equal(y, y2)


def test_latest_answer_at_a_shared_moment_is_the_later_row():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "signup_at": pd.to_datetime(["2024-01-01", "2024-01-05"]),
            "churned_at": pd.to_datetime([None, None]),
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": pd.Categorical(["a", "a", "b"]),
            "timestamp": pd.to_datetime(["2024-01-02", "2024-02-10", "2024-01-06"]),
            "event": pd.Categorical(["purchase", "app_login", "purchase"]),
        }
    )
    surveys = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "a"],
            "timestamp": pd.to_datetime(["2024-02-01", "2024-02-01", "2024-01-20", "2024-03-05"]),
            "survey": ["nps", "nps", "nps", "nps"],
            "score": [2, 9, 7, 0],
        }
    )
    j = Journey(events, customers, surveys, pd.Timestamp("2024-06-30"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, _ = churn_dataset(j, ["2024-03-01", "2024-04-01"], lookback="60D")
    a = X.xs("a", level="customer_id")
    assert a["nps_latest"].tolist() == [9, 0]  # the later of two answers at one moment
    assert a["days_since_nps"].tolist() == [29, 27]
    assert a["recency_days"].tolist() == [20, 51]
    b = X.xs("b", level="customer_id")
    assert b["nps_latest"].tolist() == [7, 7] and b["recency_days"].tolist() == [55, 86]


def test_sample_comparison_is_unchanged_below_the_caps(sample):
    """Below both caps nothing is sampled: the same table as fitting on every row."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = churn_dataset(sample, "MS")
        capped = cxkit.compare_models(X, y, n_boot=30)
        full = cxkit.compare_models(X, y, n_boot=30, max_train_rows=None)
    pd.testing.assert_frame_equal(
        capped.table.drop(columns="fit_seconds"), full.table.drop(columns="fit_seconds")
    )
    assert capped.notes_["rows_fitted_final"] == int(y.notna().sum())


def test_logistic_reads_categories_in_any_order_as_their_text():
    """The baseline one-hot encodes category codes; categories listed out of alphabetical
    order (and a missing value) give the same predictions as the same table as text."""
    rng = np.random.default_rng(8)
    n = 1200
    plan = rng.choice(["weekly", "annual", "monthly", None], n, p=[0.2, 0.3, 0.45, 0.05])
    calls = rng.poisson(1.0, n).astype(float)
    logit = -1.8 + 1.0 * (plan == "monthly") - 0.8 * (plan == "annual") + 0.5 * calls
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    text = pd.DataFrame({"plan": plan, "calls": calls, "churned": churned})
    coded = text.assign(
        plan=pd.Categorical(plan, categories=["weekly", "monthly", "annual"])  # not sorted
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = compare_models(text, "churned", n_splits=3, n_boot=0)
        b = compare_models(coded, "churned", n_splits=3, n_boot=0)
    np.testing.assert_allclose(
        a.predictions_["p_logistic"], b.predictions_["p_logistic"], rtol=1e-9, atol=1e-12
    )
    new = pd.DataFrame({"plan": ["monthly", "annual", None, "daily"], "calls": [1.0] * 4})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pa, pb = a.predict_proba(new), b.predict_proba(new)
    np.testing.assert_allclose(pa, pb, rtol=1e-9)
    assert pa.iloc[0] > pa.iloc[1]  # monthly riskier than annual, as planted

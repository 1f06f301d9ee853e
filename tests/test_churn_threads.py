"""compare_models: one thread per native pool; AUC-only metrics for permutation importance."""

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_info

import cxkit


def test_compare_models_caps_openmp_and_blas_threads(monkeypatch):
    # unchecked, on a busy machine the idle threads spin-wait: 49 s instead of 19 s
    seen = []
    real = Pipeline.fit

    def recording(self, *args, **kwargs):
        seen.append({(p["user_api"], p["num_threads"]) for p in threadpool_info()})
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "fit", recording)
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600)})
    y = pd.Series(rng.random(600) < 1 / (1 + np.exp(-X["a"])), name="churned")
    cxkit.compare_models(X, y, n_boot=5)
    assert seen, "no model fitted"
    pools = set().union(*seen)
    assert {api for api, _ in pools} >= {"blas", "openmp"}
    assert {n for _, n in pools} == {1}, pools


def test_auc_only_metrics_equal_the_full_ones():
    from cxkit.churn.models import _boot_weights, _metrics

    rng = np.random.default_rng(8)
    p = np.round(rng.random(500), 2)  # ties
    y = rng.random(500) < p
    W = _boot_weights(np.arange(500) // 2, 30, rng)
    full, fast = _metrics(p, y, W), _metrics(p, y, W, auc_only=True)
    assert set(fast) == {"roc_auc"}
    np.testing.assert_array_equal(fast["roc_auc"], full["roc_auc"])

"""The one place that talks to pymc-marketing (the optional extra ``clv``), for its 0.19 (Python
3.11) and 1.x (Python 3.12+) APIs alike.

Both accept a model built without data, given the data in ``fit(data=...)`` and in every
prediction (``data=``); parameters are read from the posterior group, an arviz InferenceData
in 0.x and an xarray DataTree in 1.x. Priors are flat and explicit: the library's defaults move
the CDNOW estimates 11–14% (docs/decisions.md, issue 14). pymc is imported here, on first use,
never at ``import cxkit``.
"""

from __future__ import annotations

import contextlib
import logging
import warnings

import numpy as np

__all__ = [
    "INSTALL",
    "available",
    "fit_purchases",
    "fit_spend",
    "expected_purchases",
    "p_alive",
    "expected_spend",
    "summarise",
]

#: What to run when the extra is missing (said by errors and by the notebook).
INSTALL = 'pip install "cxkit[clv]"'

#: Parameters of each purchase model: BG/NBD (Fader, Hardie & Lee 2005) and Pareto/NBD
#: (Schmittlein, Morrison & Colombo 1987); rates are per time unit of the summary.
PURCHASE_PARAMS = {"bgnbd": ("r", "alpha", "a", "b"), "pareto": ("r", "alpha", "s", "beta")}
_SPEND_PARAMS = ("p", "q", "v")


def available():
    """True when pymc-marketing can be imported (without importing it)."""
    from importlib.util import find_spec

    return find_spec("pymc_marketing") is not None


def _clv_module():
    try:
        from pymc_extras.prior import Prior
        from pymc_marketing import clv
    except ImportError as err:  # the optional extra is not installed
        raise ImportError(
            f"customer lifetime value needs the optional extra 'clv' (pymc-marketing): {INSTALL}"
        ) from err
    return clv, Prior


@contextlib.contextmanager
def _quiet():
    """pymc logs every sampler step and warns about flat priors: keep the notebook clean."""
    loggers = [logging.getLogger(n) for n in ("pymc", "pytensor", "pymc_marketing")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _fit_kwargs(method, random_state, n_draws, chains):
    if method == "map":
        return {"method": "map", "progressbar": False}
    return {
        "method": "mcmc",
        "progressbar": False,
        "random_seed": random_state,
        "draws": n_draws,
        "tune": n_draws,
        "chains": chains,
        "cores": 1,
    }


def _posterior(model):
    idata = model.idata
    post = idata["posterior"] if not hasattr(idata, "posterior") else idata.posterior
    return getattr(post, "ds", post)  # a DataTree node (1.x) or a Dataset (0.x)


class Fitted:
    """A fitted pymc-marketing model and its data, with predictions as draws × customers."""

    def __init__(self, model, data, names):
        self.model, self.data, self.names = model, data, names

    def params(self):
        post = _posterior(self.model)
        return {k: float(post[k].mean()) for k in self.names}

    def intervals(self, level=0.95):
        """{name: (low, high)} equal-tailed posterior intervals; None for a MAP fit."""
        post = _posterior(self.model)
        if post.sizes["chain"] * post.sizes["draw"] < 2:
            return None
        q = [(1 - level) / 2, (1 + level) / 2]
        return {k: tuple(float(x) for x in post[k].quantile(q).values) for k in self.names}

    def n_draws(self):
        post = _posterior(self.model)
        return int(post.sizes["chain"] * post.sizes["draw"])


def _matrix(da):
    """(draws, customers) array from a chain × draw × customer_id DataArray."""
    da = da.stack(sample=("chain", "draw")).transpose("sample", "customer_id")
    return np.asarray(da.values, float)


def fit_purchases(summary, *, model="bgnbd", method="map", random_state=0, n_draws=500, chains=2):
    """BG/NBD (``model="bgnbd"``) or Pareto/NBD (``"pareto"``) on a :func:`cxkit.clv_summary`
    table, flat priors."""
    clv, Prior = _clv_module()
    data = summary[["customer_id", "frequency", "recency", "T"]]
    names = PURCHASE_PARAMS[model]
    config = {k: Prior("HalfFlat") for k in names}
    cls = clv.BetaGeoModel if model == "bgnbd" else clv.ParetoNBDModel
    with _quiet():
        fitted = cls(model_config=config)
        fitted.fit(data=data, **_fit_kwargs(method, random_state, n_draws, chains))
    return Fitted(fitted, data, names)


def fit_spend(summary, *, method="map", random_state=0, n_draws=500, chains=2):
    """Gamma-Gamma on the repeat buyers (frequency > 0, positive spend) of a summary."""
    clv, Prior = _clv_module()
    data = summary.loc[
        (summary["frequency"] > 0) & (summary["monetary_value"] > 0),
        ["customer_id", "frequency", "monetary_value"],
    ]
    config = {k: Prior("HalfFlat") for k in _SPEND_PARAMS}
    with _quiet():
        model = clv.GammaGammaModel(model_config=config)
        model.fit(data=data, **_fit_kwargs(method, random_state, n_draws, chains))
    return Fitted(model, data, _SPEND_PARAMS)


def expected_purchases(fitted, summary, t):
    """E[purchases in the next ``t`` units | history]: (draws, customers)."""
    data = summary[["customer_id", "frequency", "recency", "T"]]
    with _quiet():
        return _matrix(fitted.model.expected_purchases(data=data, future_t=t))


def p_alive(fitted, summary):
    """P(still a customer | history): (draws, customers)."""
    data = summary[["customer_id", "frequency", "recency", "T"]]
    with _quiet():
        return _matrix(fitted.model.expected_probability_alive(data=data))


def expected_spend(fitted, summary):
    """E[amount of a future purchase | history] (the population mean without repeats):
    (draws, customers)."""
    data = summary[["customer_id", "frequency", "monetary_value"]].assign(
        monetary_value=lambda d: d["monetary_value"].where(d["frequency"] > 0, 0.0)
    )
    with _quiet():
        return _matrix(fitted.model.expected_customer_spend(data=data))


def summarise(matrix):
    """Mean and 95% interval over draws, per customer."""
    m = np.asarray(matrix, float)
    if m.shape[0] == 1:
        return m[0], None, None
    lo, hi = np.quantile(m, [0.025, 0.975], axis=0)
    return m.mean(axis=0), lo, hi

"""The customer-value analysis as the report runs it: each step returns its result, or None with
the reason (in plain words) when the data cannot support it.

>>> import cxkit
>>> from cxkit.clv import pipeline
>>> run = pipeline.prepare(cxkit.load_sample())
>>> run.why is None, len(run.summary) > 100
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..data import DataError
from . import backend
from .contractual import contractual_value
from .fit import MIN_REPEAT_BUYERS, clv
from .summary import clv_summary
from .validate import holdout_check

__all__ = ["ValueRun", "prepare", "fit", "check", "subscriptions", "MIN_BUYERS"]

#: The repeat-buying model is fitted with at least this many buyers.
MIN_BUYERS = 50


@dataclass
class ValueRun:
    """What the notebook needs: the summary, the fit, the holdout check, subscriber values, and
    ``why`` the repeat-buying model could not run (None when it could): ``"skipped"``,
    ``"no_purchases"``, ``"too_few"`` (numbers in ``notes``) or ``"not_installed"``; the
    findings say it in words."""

    journey: object
    summary: object = None
    result: object = None
    check: object = None
    contract: object = None
    why: str | None = None
    notes: dict = field(default_factory=dict)

    @property
    def currency(self):
        return (self.journey.spec.money or {}).get("currency") or ""


def prepare(journey):
    """The BTYD summary of the journey's buyers, or ``why`` not."""
    run = ValueRun(journey)
    if journey.spec.skips("clv"):
        run.why = "skipped"
        return run
    try:
        run.summary = clv_summary(journey)
    except DataError:
        run.why = "no_purchases"
        return run
    s = run.summary
    repeat = int((s["frequency"] > 0).sum())
    if len(s) < MIN_BUYERS or repeat < MIN_REPEAT_BUYERS:
        run.why = "too_few"
        run.notes.update(buyers=len(s), repeat=repeat)
    elif not backend.available():
        run.why = "not_installed"
    return run


def fit(run, *, horizon="12M", method="map", discount=None, margin=None):
    """Fit :func:`cxkit.clv` on the prepared summary (None when ``run.why``)."""
    if run.why is None:
        money = run.journey.spec.money or {}
        run.result = clv(
            run.summary,
            horizon=horizon,
            method=method,
            discount=money.get("discount_rate") if discount is None else discount,
            margin=money.get("margin_rate") if margin is None else margin,
        )
    return run.result


def check(run):
    """The calibration/holdout check, or None when the log is too short or too thin for it."""
    if run.result is None:
        return None
    try:
        table = holdout_check(run.journey)
    except DataError:
        return None
    if table["customers"].sum() < MIN_BUYERS or table.attrs["actual_total"] <= 0:
        return None
    run.check = table
    return table


def subscriptions(run, *, horizon="12M", discount=None):
    """Remaining value of active subscribers (contractual data with revenue), or None."""
    journey = run.journey
    if journey.spec.skips("clv") or journey.business_model != "contractual":
        return None
    try:
        run.contract = contractual_value(journey, horizon=horizon, discount=discount)
    except DataError:
        return None
    return run.contract

"""The standard check of a repeat-buying model: fit on the first part of the log (calibration),
predict each customer's repeat purchases in the rest (holdout), compare by calibration
frequency."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._args import jsonable
from ..data import DataError, Journey
from ..engine.frames import event_facts
from ..engine.journey import is_engine
from . import backend
from .summary import UNIT_DAYS, clv_summary

__all__ = ["holdout_check", "MAX_GROUP"]

#: Calibration frequencies of this many repeat purchases or more share one group ("7+").
MAX_GROUP = 7


def holdout_check(
    journey_or_events,
    *,
    calibration_end=None,
    observed_at=None,
    time_unit="W",
    event=None,
    value="value",
):
    """Predicted against actual repeat purchases in a holdout period, by calibration frequency.

    Parameters
    ----------
    journey_or_events : Journey or events DataFrame
    calibration_end : str or Timestamp, optional
        End of the calibration period. Default: two thirds of the way from the first purchase
        to ``observed_at`` (the holdout is the last third).
    observed_at, time_unit, event, value
        As in :func:`cxkit.clv_summary`.

    Returns
    -------
    DataFrame
        One row per calibration frequency (``0`` … ``6``, ``7+``): ``frequency_group``,
        ``customers``, ``actual`` and ``predicted`` (mean repeat purchases per customer in the
        holdout). ``.attrs``: ``calibration_end``, ``observed_at``, ``holdout`` (length in
        ``time_unit``), ``actual_total``, ``predicted_total``, ``params`` (the calibration
        fit), ``customers``.

    Examples
    --------
    >>> from cxkit.clv import simulate_purchases, holdout_check
    >>> events, truth = simulate_purchases(customers=500, seed=2)
    >>> check = holdout_check(events, observed_at=truth["observed_at"])  # doctest: +SKIP
    """
    kw = {"time_unit": time_unit, "event": event, "value": value}
    full = clv_summary(journey_or_events, observed_at, **kw)
    end = pd.Timestamp(full.attrs["observed_at"])
    if calibration_end is None:
        if isinstance(journey_or_events, Journey) or is_engine(journey_or_events):
            first = event_facts(journey_or_events)["first"]  # counted in SQL on an engine
        else:
            first = pd.Timestamp(journey_or_events["timestamp"].min())
        calibration_end = (first + (end - first) * 2 / 3).floor("D")
    cal_end = pd.Timestamp(calibration_end)
    if not cal_end < end:
        raise DataError(
            "holdout_check()",
            [
                {
                    "column": "calibration_end",
                    "expected": f"a moment before observed_at ({end}); got {cal_end}",
                }
            ],
        )
    cal = clv_summary(journey_or_events, cal_end, **kw)
    later = full.set_index("customer_id")["frequency"].reindex(cal["customer_id"]).to_numpy()
    actual = later - cal["frequency"].to_numpy()
    unit = UNIT_DAYS[time_unit]
    horizon = (end.floor("D") - cal_end.floor("D")) / pd.Timedelta(days=unit)
    fitted = backend.fit_purchases(cal)
    predicted, _, _ = backend.summarise(backend.expected_purchases(fitted, cal, horizon))
    group = np.minimum(cal["frequency"].to_numpy(), MAX_GROUP)
    frame = pd.DataFrame({"g": group, "actual": actual, "predicted": predicted})
    agg = frame.groupby("g").agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    agg = agg.reset_index()
    labels = [str(g) if g < MAX_GROUP else f"{MAX_GROUP}+" for g in agg.pop("g")]
    agg.insert(0, "frequency_group", labels)
    agg.attrs = jsonable(
        {
            "calibration_end": cal_end,
            "observed_at": end,
            "holdout": float(horizon),
            "time_unit": time_unit,
            "customers": len(cal),
            "actual_total": float(actual.sum()),
            "predicted_total": float(predicted.sum()),
            "params": fitted.params(),
        }
    )
    return agg

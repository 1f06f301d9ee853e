"""NPS and retention without immortal-time bias: a landmark analysis."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._args import jsonable
from ..data import DataError, Journey
from ..engine.frames import customers_frame, surveys_frame
from ..engine.journey import is_engine

NPS_GROUPS = ("promoter", "passive", "detractor", "no answer")


@dataclass(repr=False)
class NPSLandmark:
    """Result of :func:`nps_landmark`: survival after a landmark by NPS group.

    Attributes
    ----------
    summary_ : DataFrame
        One row per group: ``group``, ``customers``, ``churned``, ``censored``,
        ``median_days`` (KM median after the landmark; NaN if not reached), ``retained``
        (% still active ``at_days`` after the landmark, KM) with ``retained_ci_low``/``_high``,
        ``hazard_ratio`` vs promoters with ``hr_ci_low``/``hr_ci_high`` (Cox), ``small``.
    curves_ : DataFrame
        Kaplan–Meier curves, tidy: ``group``, ``time`` (days since landmark), ``survival``,
        ``ci_low``, ``ci_high``, ``at_risk``.
    data_ : DataFrame
        One row per customer at risk at the landmark: ``customer_id``, ``landmark``,
        ``score`` (latest NPS answer before it), ``group``, ``duration_days``, ``churned``.
    logrank_ : dict
        Multivariate log-rank test across the answer groups: ``test_statistic``, ``p_value``,
        ``degrees_of_freedom``, ``groups``.
    fitters_ : dict
        ``{group: lifelines.KaplanMeierFitter}``, and ``cox_`` the CoxPHFitter (or None).
    detractor_hr_ : dict
        Detractors vs all other customers who answered (promoters and passives together), the
        usual NPS question: ``hazard_ratio``, ``ci_low``, ``ci_high``, ``p_value``,
        ``detractors``, ``others`` (NaN when either group has no churn).
    landmark : str
        What the landmark was. ``excluded`` counts customers not at risk at it.
    """

    summary_: pd.DataFrame
    curves_: pd.DataFrame
    data_: pd.DataFrame
    logrank_: dict
    fitters_: dict
    cox_: object
    detractor_hr_: dict
    landmark: str
    excluded: dict = field(default_factory=dict)

    def __repr__(self):
        d = self.data_
        p = self.logrank_.get("p_value", np.nan)
        return (
            f"NPSLandmark(landmark={self.landmark}, customers={len(d):,}, "
            f"churned={int(d['churned'].sum()):,}, censored={int((~d['churned']).sum()):,}, "
            f"log-rank p={p:.3g})"
        )


def _landmark_table(journey, landmark_days, landmark, horizon_days):
    """Reduction: one row per customer active at the landmark, with their NPS group."""
    cu = customers_frame(journey)[["customer_id", "signup_at", "churned_at"]].copy()
    cu["customer_id"] = cu["customer_id"].astype(object)
    observed_at = pd.Timestamp(journey.observed_at)
    if landmark is not None:
        cu["landmark"] = pd.Timestamp(landmark)
        label = f"{pd.Timestamp(landmark):%Y-%m-%d}"
    else:
        cu["landmark"] = cu["signup_at"] + pd.Timedelta(days=landmark_days)
        label = f"{landmark_days:g} days after signup"
    excluded = {}
    not_yet = (cu["signup_at"] > cu["landmark"]).to_numpy()
    if landmark is not None:
        excluded["signed up after the landmark"] = int(not_yet.sum())
    unreached = ~not_yet & (cu["landmark"] > observed_at).to_numpy()
    excluded["landmark after observed_at (not reached yet)"] = int(unreached.sum())
    gone = ~not_yet & ~unreached & (cu["churned_at"] <= cu["landmark"]).to_numpy()
    excluded["churned before the landmark"] = int(gone.sum())
    cu = cu.loc[~(not_yet | unreached | gone)]
    end = pd.Series(observed_at, index=cu.index)
    if horizon_days is not None:
        end = end.where(
            end < cu["landmark"] + pd.Timedelta(days=horizon_days),
            cu["landmark"] + pd.Timedelta(days=horizon_days),
        )
    churned = cu["churned_at"].notna() & (cu["churned_at"] <= end)
    stop = cu["churned_at"].where(churned, end)
    cu["duration_days"] = (stop - cu["landmark"]) / pd.Timedelta(days=1)
    cu["churned"] = churned.to_numpy()

    sv = surveys_frame(journey)
    answers = sv.loc[sv["survey"] == "nps", ["customer_id", "timestamp", "score"]]
    answers = answers.assign(customer_id=answers["customer_id"].astype(object))
    answers = answers.merge(cu[["customer_id", "landmark"]], on="customer_id", how="inner")
    answers = answers.loc[answers["timestamp"] < answers["landmark"]]
    latest = answers.sort_values("timestamp", kind="stable").drop_duplicates(
        "customer_id", keep="last"
    )[["customer_id", "score"]]
    cu = cu.merge(latest, on="customer_id", how="left")
    s = cu["score"]
    group = np.select([s >= 9, s >= 7, s >= 0], NPS_GROUPS[:3], default=NPS_GROUPS[3])
    cu["group"] = pd.Categorical(group, categories=NPS_GROUPS, ordered=True)
    cols = ["customer_id", "landmark", "score", "group", "duration_days", "churned"]
    return cu[cols].reset_index(drop=True), label, excluded


def nps_landmark(
    journey,
    landmark_days=90,
    *,
    landmark=None,
    horizon_days=None,
    at_days=180,
    min_n=30,
    confidence=0.95,
):
    """Does what customers say predict how long they stay? NPS group → survival, by landmark.

    At the landmark (``landmark_days`` after each customer's signup, or one calendar date
    ``landmark=`` for everybody) we take the customers still active, put each in a group by
    their latest NPS answer *before* the landmark (promoter 9–10, passive 7–8, detractor 0–6,
    or "no answer"), and follow them from the landmark until churn or ``observed_at``
    (censored). Kaplan–Meier per group, a log-rank test across the three answer groups and a
    Cox hazard ratio of each group vs promoters, and of detractors vs all other answerers
    (``detractor_hr_``).

    Why not compare customers who *ever* answered as detractors with the rest? Because that
    group is defined with answers given during the follow-up: to answer a survey on day 300 a
    customer must still be a customer on day 300, so long-lived customers collect more answers
    and are more often "ever detractors". Their survival before that answer is *immortal time*
    credited to the group, and the comparison is biased (here: detractors look loyal even
    when NPS has no effect). The landmark fixes every group with information available at the
    landmark and starts the clock there, so it has no such bias. Answers after the landmark
    are not used; for effects that change over time use a time-varying Cox model.

    Parameters
    ----------
    journey : Journey
    landmark_days : float
        Days after signup at which each customer is grouped (ignored if ``landmark`` is given).
    landmark : str or Timestamp, optional
        One calendar landmark for everybody signed up before it.
    horizon_days : float, optional
        Follow customers at most this long after the landmark (censor there).
    at_days : float
        The ``retained`` column is KM survival this many days after the landmark (at most
        ``horizon_days``).
    min_n : int
        Groups with fewer customers are flagged ``small``.
    confidence : float

    Returns
    -------
    NPSLandmark
        ``summary_`` (tidy table), ``curves_``, ``data_``, ``logrank_``, ``detractor_hr_``,
        ``fitters_``, ``cox_``.

    Examples
    --------
    >>> import cxkit
    >>> result = cxkit.nps_landmark(cxkit.load_sample(), landmark_days=120)
    >>> list(result.summary_["group"])[:3]
    ['promoter', 'passive', 'detractor']
    """
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    if not (isinstance(journey, Journey) or is_engine(journey)):
        raise DataError(
            "nps_landmark(journey=...)",
            [
                {
                    "column": "journey",
                    "expected": "a "
                    f"cxkit.Journey (events, customers, surveys); got {type(journey).__name__}",
                }
            ],
            hint="build one with cxkit.read_journey(folder) or cxkit.load_sample()",
        )
    data, label, excluded = _landmark_table(journey, landmark_days, landmark, horizon_days)
    if horizon_days is not None:
        at_days = min(at_days, horizon_days)
    alpha = 1 - confidence
    fitters, curves, rows = {}, [], []
    for group in NPS_GROUPS:
        part = data.loc[data["group"] == group]
        row = {"group": group, "customers": len(part), "churned": int(part["churned"].sum())}
        row["censored"] = row["customers"] - row["churned"]
        if len(part):
            kmf = KaplanMeierFitter(alpha=alpha, label=group)
            kmf.fit(part["duration_days"], part["churned"])
            fitters[group] = kmf
            ci = kmf.confidence_interval_survival_function_
            curves.append(
                pd.DataFrame(
                    {
                        "group": group,
                        "time": kmf.survival_function_.index.to_numpy(),
                        "survival": kmf.survival_function_.iloc[:, 0].to_numpy(),
                        "ci_low": ci.iloc[:, 0].to_numpy(),
                        "ci_high": ci.iloc[:, 1].to_numpy(),
                        "at_risk": kmf.event_table["at_risk"].to_numpy(),
                    }
                )
            )
            median = kmf.median_survival_time_
            row["median_days"] = float(median) if np.isfinite(median) else np.nan
            if part["duration_days"].max() >= at_days:
                row["retained"] = 100 * float(kmf.survival_function_at_times(at_days).iloc[0])
                lo, hi = _km_ci_at(ci, at_days)
                row["retained_ci_low"], row["retained_ci_high"] = 100 * lo, 100 * hi
        rows.append(row)
    summary = pd.DataFrame(rows).reindex(
        columns=[
            "group",
            "customers",
            "churned",
            "censored",
            "median_days",
            "retained",
            "retained_ci_low",
            "retained_ci_high",
        ]
    )
    summary["group"] = pd.Categorical(summary["group"], categories=NPS_GROUPS, ordered=True)

    answered = data.loc[data["group"] != "no answer"]
    present = [g for g in NPS_GROUPS[:3] if (answered["group"] == g).any()]
    logrank = {
        "test_statistic": np.nan,
        "p_value": np.nan,
        "degrees_of_freedom": 0,
        "groups": present,
    }
    if len(present) > 1:
        test = multivariate_logrank_test(
            answered["duration_days"], answered["group"].astype(str), answered["churned"]
        )
        logrank.update(
            test_statistic=float(test.test_statistic),
            p_value=float(test.p_value),
            degrees_of_freedom=len(present) - 1,
        )
    cox = None
    summary["hazard_ratio"] = np.nan
    summary["hr_ci_low"] = np.nan
    summary["hr_ci_high"] = np.nan
    # a hazard ratio needs churn in the group and in the reference (else it is 0 or infinite)
    churners = set(answered.loc[answered["churned"], "group"].astype(str))
    hr_groups = [g for g in present if g in churners]
    if "promoter" in hr_groups and len(hr_groups) > 1:
        design = pd.DataFrame(
            {
                "duration_days": answered["duration_days"].to_numpy(),
                "churned": answered["churned"].to_numpy(),
            }
        )
        for g in hr_groups[1:]:
            design[g] = (answered["group"] == g).to_numpy().astype(float)
        cox = CoxPHFitter(alpha=alpha).fit(design, "duration_days", "churned")
        s = cox.summary
        lower = next(c for c in s.columns if c.startswith("exp(coef) lower"))
        upper = next(c for c in s.columns if c.startswith("exp(coef) upper"))
        for g in hr_groups[1:]:
            at = summary["group"] == g
            summary.loc[at, "hazard_ratio"] = s.loc[g, "exp(coef)"]
            summary.loc[at, "hr_ci_low"] = s.loc[g, lower]
            summary.loc[at, "hr_ci_high"] = s.loc[g, upper]
        summary.loc[
            summary["group"] == "promoter", ["hazard_ratio", "hr_ci_low", "hr_ci_high"]
        ] = 1.0
    detractor_hr = {
        "hazard_ratio": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "p_value": np.nan,
        "detractors": int((answered["group"] == "detractor").sum()),
        "others": int((answered["group"] != "detractor").sum()),
    }
    is_det = (answered["group"] == "detractor").to_numpy()
    churn = answered["churned"].to_numpy()
    if churn[is_det].any() and churn[~is_det].any():
        design = pd.DataFrame(
            {
                "duration_days": answered["duration_days"].to_numpy(),
                "churned": churn,
                "detractor": is_det.astype(float),
            }
        )
        s = CoxPHFitter(alpha=alpha).fit(design, "duration_days", "churned").summary
        lower = next(c for c in s.columns if c.startswith("exp(coef) lower"))
        upper = next(c for c in s.columns if c.startswith("exp(coef) upper"))
        detractor_hr.update(
            hazard_ratio=float(s.loc["detractor", "exp(coef)"]),
            ci_low=float(s.loc["detractor", lower]),
            ci_high=float(s.loc["detractor", upper]),
            p_value=float(s.loc["detractor", "p"]),
        )
    summary["small"] = summary["customers"] < min_n
    curves = (
        pd.concat(curves, ignore_index=True)
        if curves
        else pd.DataFrame(columns=["group", "time", "survival", "ci_low", "ci_high", "at_risk"])
    )
    curves["group"] = pd.Categorical(curves["group"], categories=NPS_GROUPS, ordered=True)
    summary.attrs = jsonable({"landmark": label, "at_days": at_days, "excluded": excluded})
    return NPSLandmark(summary, curves, data, logrank, fitters, cox, detractor_hr, label, excluded)


def _km_ci_at(ci, t):
    """The KM confidence band at time t (step function: last value at or before t)."""
    before = ci.loc[ci.index <= t]
    if before.empty:
        return 1.0, 1.0
    return float(before.iloc[-1, 0]), float(before.iloc[-1, 1])

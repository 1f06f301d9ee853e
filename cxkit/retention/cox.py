"""Cox proportional-hazards models: fixed covariates known at signup, and time-varying drivers."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._args import infinite_values
from .._stats import adjust_pvalues
from ..data import SIGNUP_ATTRIBUTES, DataError
from ..engine.frames import has_events, survey_kinds
from .checks import (
    _as_list,
    _check_alpha,
    _check_columns,
    _check_levels,
    _check_survival,
    _reference_level,
    _zgrid,
)
from .startstop import StartStopCox


@dataclass
class CoxResult:
    """A fitted Cox model with tidy results.

    Attributes
    ----------
    hazard_ratios_ : DataFrame
        One row per term: ``term`` (``plan=annual``), ``covariate``, ``level``, ``reference``,
        ``label`` (``plan: annual vs monthly``), ``kind`` (``level``: a group against the
        reference; ``yes/no``: a 0/1 column; ``per unit``: the ratio for one unit more of a
        number, so ratios of different kinds or units are not comparable), ``hazard_ratio``,
        ``ci_low``, ``ci_high``, ``p_value``, ``coef``, ``se``.
    model_ : lifelines CoxPHFitter, or StartStopCox for time-varying fits
    concordance_ : float or None
        Cross-validated concordance (mean over folds); None for time-varying models.
    concordance_train_ : float or None
        Concordance on the data the model was fitted on (optimistic).
    ph_check_ : DataFrame or None
        Proportional-hazards test per term (lifelines' ``proportional_hazard_test``, rank
        time transform): ``term``, ``test_statistic``, ``p_value``, ``p_adjusted`` (Holm,
        across terms), ``violates`` (``p_adjusted < ph_alpha``), ``advice`` (plain words).
    ph_summary_ : str
        The proportional-hazards check in one paragraph.
    skipped_ : list of str
        Covariates left out, and why.
    n_, events_ : int
        Customers (or intervals' customers) and churn events used.
    """

    hazard_ratios_: pd.DataFrame
    model_: object
    concordance_: float | None = None
    concordance_train_: float | None = None
    ph_check_: pd.DataFrame | None = None
    ph_summary_: str = ""
    skipped_: list = field(default_factory=list)
    n_: int = 0
    events_: int = 0
    kind_: str = "fixed"

    def __repr__(self):
        lines = [
            f"CoxResult({self.kind_} covariates, n={self.n_:,}, churned={self.events_:,}"
            + (
                f", concordance (cross-validated)={self.concordance_:.3f}"
                if self.concordance_ is not None
                else ""
            )
            + ")"
        ]
        for _, r in self.hazard_ratios_.iterrows():
            lines.append(
                f"  {r['term']:<32} HR {r['hazard_ratio']:6.2f} "
                f"[{r['ci_low']:.2f}, {r['ci_high']:.2f}]  p={r['p_value']:.3g}"
            )
        if self.ph_summary_:
            lines.append("  " + self.ph_summary_)
        if self.skipped_:
            lines.append("  skipped: " + "; ".join(self.skipped_))
        return "\n".join(lines)


def _check_finite_covariates(table, covariates, where):
    """Infinite numbers reach lifelines as a bare error; name the column and rows instead."""
    problems = infinite_values(table, covariates)
    if problems:
        raise DataError(
            f"{where}(covariates=...)",
            problems,
            hint="replace infinite values (e.g. a ratio divided by zero) with NaN (rows with a "
            "missing covariate are left out, with a warning) or with a cap",
        )


def _design(table, covariates, where):
    """Numeric design matrix: categoricals one-hot against their reference level; constant
    covariates are skipped with a warning. Returns (X, terms, skipped, dropped_rows)."""
    columns, terms, skipped = {}, [], []
    _check_finite_covariates(table, covariates, where)
    missing = table[covariates].isna().any(axis=1).to_numpy()
    for name in covariates:
        col = table[name][~missing]
        if pd.api.types.is_bool_dtype(col) or (
            pd.api.types.is_numeric_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype)
        ):
            values = col.to_numpy().astype(float)
            if np.nanstd(values) == 0:
                skipped.append(f"{name} (constant: {values[0]:g} for everyone)")
                continue
            columns[name] = values
            # a 0/1 column is a yes/no state; any other number is read per unit
            kind = "yes/no" if np.isin(values, (0.0, 1.0)).all() else "per unit"
            terms.append(
                {"term": name, "covariate": name, "level": None, "reference": None, "kind": kind}
            )
            continue
        _check_levels(col, name, where, "covariates")
        ref = _reference_level(name, col)
        levels = (
            list(col.cat.categories)
            if isinstance(col.dtype, pd.CategoricalDtype)
            else sorted(col.unique(), key=str)
        )
        levels = [lv for lv in levels if lv != ref and (col == lv).any()]
        if not levels:
            skipped.append(f"{name} (constant: {ref!r} for everyone)")
            continue
        for lv in levels:
            term = f"{name}={lv}"
            columns[term] = (col == lv).to_numpy().astype(float)
            terms.append(
                {"term": term, "covariate": name, "level": lv, "reference": ref, "kind": "level"}
            )
    if skipped:
        warnings.warn(f"{where}: skipped " + "; ".join(skipped), stacklevel=3)
    if missing.any():
        warnings.warn(
            f"{where}: {int(missing.sum())} row(s) with a missing covariate value are left out",
            stacklevel=3,
        )
    X = pd.DataFrame(columns, index=table.index[~missing])
    return X, terms, skipped, missing


#: Plot labels, with their unit, of the drivers :func:`time_varying_table` builds.
_UNIT_LABELS = {
    "support_tickets_30d": "support contacts in the last 30 days, per contact",
    "detractor": "latest NPS answer 0–6 (detractor): yes vs no",
}


def _hr_table(model, terms, alpha):
    s = model.summary
    z = _zgrid(alpha)
    rows = []
    for t in terms:
        coef, se = float(s.loc[t["term"], "coef"]), float(s.loc[t["term"], "se(coef)"])
        name = str(t["covariate"]).replace("_", " ")
        if t["kind"] == "level":
            label = f"{name}: {t['level']} vs {t['reference']}"
        elif t["kind"] == "yes/no":
            label = _UNIT_LABELS.get(t["covariate"], f"{name}: yes vs no")
        else:
            label = _UNIT_LABELS.get(t["covariate"], f"{name}, per 1 more")
        rows.append(
            {
                **t,
                "label": label,
                "hazard_ratio": np.exp(coef),
                "ci_low": np.exp(coef - z * se),
                "ci_high": np.exp(coef + z * se),
                "p_value": float(s.loc[t["term"], "p"]),
                "coef": coef,
                "se": se,
            }
        )
    return pd.DataFrame(rows)


def _ph_check(model, frame, terms, alpha_ph):
    from lifelines.statistics import proportional_hazard_test

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = proportional_hazard_test(model, frame, time_transform="rank")
    s = test.summary
    names = [n if isinstance(n, str) else n[0] for n in s.index]
    stats = dict(zip(names, s["test_statistic"].to_numpy(), strict=True))
    ps = dict(zip(names, s["p"].to_numpy(), strict=True))
    raw = np.array([float(ps.get(t["term"], np.nan)) for t in terms])
    adjusted = adjust_pvalues(np.nan_to_num(raw, nan=1.0), "holm")
    rows = []
    for t, p, p_adj in zip(terms, raw, adjusted, strict=True):
        bad = bool(p_adj < alpha_ph)
        if bad:
            advice = (
                f"the effect of {t['covariate']} changes with time since signup: "
                f"stratify on it (cox(..., strata=['{t['covariate']}'])) if you only "
                "need the other hazard ratios, or split follow-up into periods (e.g. "
                "first 90 days vs later) and read one hazard ratio per period"
            )
        else:
            advice = "no evidence that the hazard ratio changes over time"
        rows.append(
            {
                "term": t["term"],
                "test_statistic": float(stats.get(t["term"], np.nan)),
                "p_value": p,
                "p_adjusted": p_adj,
                "violates": bad,
                "advice": advice,
            }
        )
    check = pd.DataFrame(rows)
    violators = check.loc[check["violates"], "term"].tolist()
    if violators:
        summary = (
            "Proportional hazards: " + ", ".join(violators) + " violate(s) the assumption "
            f"(Holm-adjusted p < {alpha_ph:g}); its hazard ratio is an average over time. "
            "Stratify on "
            "it, or model a time-varying effect; with many customers small, harmless "
            "departures are also flagged, so look at the curves too."
        )
    else:
        summary = (
            f"Proportional hazards: no covariate violates the assumption (Holm-adjusted p ≥ "
            f"{alpha_ph:g} for each): no evidence that a hazard ratio changes over time "
            "(which is not proof that it is constant)."
        )
    return check, summary


def _design_varying(table, covariates, where):
    """:func:`_design`, refusing a model in which every covariate was constant."""
    X, terms, skipped, missing = _design(table, covariates, where)
    if not terms:
        raise DataError(
            where,
            [
                {
                    "column": "covariates",
                    "expected": "at least one covariate "
                    "that varies; all were constant: " + "; ".join(skipped),
                }
            ],
        )
    return X, terms, skipped, missing


def _warn_not_at_signup(columns, where):
    """Customer attributes are exported as of extraction; only those the data dictionary marks
    as known at signup are safe as fixed covariates (a tier earned by staying long 'explains'
    staying long)."""

    rest = [c for c in columns if c not in SIGNUP_ATTRIBUTES]
    if rest:
        warnings.warn(
            f"{where}: {rest} are not marked as known at signup "
            f"({', '.join(SIGNUP_ATTRIBUTES)}). An attribute recorded later (e.g. a loyalty "
            "tier earned by staying) makes long-lived customers look protected by it "
            "(immortal-time bias); use it only if it was fixed at signup.",
            stacklevel=3,
        )


def cox(
    table,
    covariates,
    *,
    strata=None,
    penalizer=0.0,
    alpha=0.05,
    cv=5,
    random_state=0,
    ph_alpha=0.05,
):
    """Cox proportional-hazards model on attributes known at signup.

    Fits lifelines' ``CoxPHFitter``. Categorical covariates are one-hot encoded against a
    reference level (:data:`REFERENCE_LEVELS`: ``organic`` for ``acquisition_channel``,
    ``monthly`` for ``plan``; otherwise the most frequent level). Constant covariates are
    skipped with a warning. Only use attributes fixed at signup here: drivers that change over
    time (tickets, NPS answers, engagement) belong in :func:`cox_time_varying`.

    Parameters
    ----------
    table : DataFrame
        A survival table.
    covariates : sequence of str
        Columns of ``table``.
    strata : sequence of str, optional
        Columns to stratify on (own baseline hazard each, no hazard ratio) — the usual fix when
        a covariate violates proportional hazards.
    penalizer : float
        Ridge penalty passed to lifelines.
    alpha : float
        1 − confidence level of the hazard-ratio intervals.
    cv : int
        Folds for the cross-validated concordance (0 or 1 skips it).
    random_state : int
        Seed of the fold split.
    ph_alpha : float
        Significance level of the proportional-hazards test.

    Returns
    -------
    CoxResult
        ``.hazard_ratios_``, ``.model_``, ``.concordance_`` (cross-validated),
        ``.concordance_train_``, ``.ph_check_``, ``.ph_summary_``, ``.skipped_``.

    Examples
    --------
    >>> import cxkit
    >>> table = cxkit.survival_table(cxkit.load_sample())
    >>> fit = cxkit.cox(table, ["plan", "acquisition_channel"])
    >>> "plan=annual" in set(fit.hazard_ratios_["term"])
    True
    """
    from lifelines import CoxPHFitter
    from lifelines.utils import k_fold_cross_validation

    where = "cox"
    table = _check_survival(table, where)
    _check_alpha(alpha, where)
    covariates = _as_list(covariates)
    strata = _as_list(strata)
    if not covariates:
        raise DataError(
            where,
            [{"column": "covariates", "expected": "at least one column"}],
            columns=table.columns,
        )
    _check_columns(table, covariates, where, "covariates")
    _check_columns(table, strata, where, "strata")
    _warn_not_at_signup(covariates + strata, where)
    X, terms, skipped, missing = _design_varying(table, covariates, where)
    kept = table[~missing]
    frame = X.assign(
        duration_days=kept["duration_days"].to_numpy(),
        churned=kept["churned"].to_numpy().astype(int),
    )
    for s in strata:
        frame[s] = kept[s].astype(str).to_numpy()
    if frame["churned"].sum() == 0:
        raise DataError(
            where,
            [{"column": "churned", "expected": "some churn to model; every customer is censored"}],
        )
    model = CoxPHFitter(penalizer=penalizer, alpha=alpha)
    model.fit(frame, "duration_days", "churned", strata=strata or None)
    hr = _hr_table(model, terms, alpha)
    concordance = None
    if cv and cv > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = k_fold_cross_validation(
                CoxPHFitter(penalizer=penalizer),
                frame,
                "duration_days",
                "churned",
                k=cv,
                scoring_method="concordance_index",
                seed=random_state,
                fitter_kwargs={"strata": strata} if strata else {},
            )
        concordance = float(np.mean(scores))
    check, summary = _ph_check(model, frame, terms, ph_alpha)
    return CoxResult(
        hazard_ratios_=hr,
        model_=model,
        concordance_=concordance,
        concordance_train_=float(model.concordance_index_),
        ph_check_=check,
        ph_summary_=summary,
        skipped_=skipped,
        n_=len(frame),
        events_=int(frame["churned"].sum()),
        kind_="fixed",
    )


def cox_time_varying(table, covariates=None, *, penalizer=0.0, alpha=0.05):
    """Cox model with time-varying covariates on start–stop intervals.

    The same model as lifelines' ``CoxTimeVaryingFitter`` (Efron's ties, its ridge penalty),
    fitted by :class:`~cxkit.retention.startstop.StartStopCox` in time that grows with the
    rows, not with rows × event times (lifelines: 72 s at a million events; this: about 1 s).

    Parameters
    ----------
    table : DataFrame
        From :func:`time_varying_table`: ``customer_id``, ``start``, ``stop``, ``churned`` and
        covariates.
    covariates : sequence of str, optional
        Default: the table's drivers and fixed covariates (``table.attrs``), or every column
        besides the interval columns.
    penalizer : float
        Ridge penalty passed to lifelines.
    alpha : float
        1 − confidence level.

    Returns
    -------
    CoxResult
        ``.hazard_ratios_``, ``.model_``; no concordance or PH test (lifelines offers none for
        time-varying fits).

    Examples
    --------
    >>> import cxkit
    >>> tv = cxkit.time_varying_table(cxkit.load_sample())
    >>> fit = cxkit.cox_time_varying(tv)
    >>> "detractor" in set(fit.hazard_ratios_["term"])
    True
    """
    where = "cox_time_varying"
    _check_columns(table, ["customer_id", "start", "stop", "churned"], where, "table")
    if covariates is None:
        covariates = list(table.attrs.get("drivers", [])) + list(table.attrs.get("covariates", []))
        if not covariates:
            covariates = [
                c for c in table.columns if c not in ("customer_id", "start", "stop", "churned")
            ]
    covariates = _as_list(covariates)
    _check_columns(table, covariates, where, "covariates")
    X, terms, skipped, missing = _design_varying(table, covariates, where)
    kept = table[~missing]
    frame = X.assign(
        customer_id=kept["customer_id"].to_numpy(),
        start=kept["start"].to_numpy(),
        stop=kept["stop"].to_numpy(),
        churned=kept["churned"].to_numpy().astype(int),
    )
    if frame["churned"].sum() == 0:
        raise DataError(
            where,
            [{"column": "churned", "expected": "some churn to model; every customer is censored"}],
        )
    bad = ~(frame["start"] < frame["stop"])
    if bad.any():
        raise DataError(
            where,
            [
                {
                    "column": "start, stop",
                    "expected": "intervals with start < stop",
                    "rows": int(bad.sum()),
                    "examples": [
                        f"customer {c}: start {a}, stop {b}"
                        for c, a, b in frame.loc[bad, ["customer_id", "start", "stop"]]
                        .head(5)
                        .itertuples(index=False)
                    ],
                }
            ],
        )
    model = StartStopCox(penalizer=penalizer, alpha=alpha).fit(
        X.to_numpy(dtype=float),
        frame["start"].to_numpy(dtype=float),
        frame["stop"].to_numpy(dtype=float),
        frame["churned"].to_numpy(dtype=bool),
        names=list(X.columns),
    )
    hr = _hr_table(model, terms, alpha)
    return CoxResult(
        hazard_ratios_=hr,
        model_=model,
        skipped_=skipped,
        n_=int(frame["customer_id"].nunique()),
        events_=int(frame["churned"].sum()),
        kind_="time-varying",
        ph_summary_="Proportional hazards: not tested for time-varying fits.",
    )


@dataclass
class Drivers:
    """The Cox models a retention report fits, and why one was not fitted.

    Attributes
    ----------
    fixed_ : CoxResult or None
        Signup attributes (:func:`cox`).
    varying_ : CoxResult or None
        Signup attributes plus drivers that change over time (:func:`cox_time_varying`).
    attributes_ : list of str
        Signup attributes used.
    drivers_ : list of str
        Time-varying driver columns offered to the model (only those whose events or survey
        answers exist).
    why_fixed_, why_varying_ : str
        Plain sentences: why a model is missing ("" when it was fitted).
    """

    fixed_: CoxResult | None = None
    varying_: CoxResult | None = None
    attributes_: list = field(default_factory=list)
    drivers_: list = field(default_factory=list)
    why_fixed_: str = ""
    why_varying_: str = ""

    @property
    def best_(self):
        """The time-varying model when there is one, else the signup-attribute model."""
        return self.varying_ if self.varying_ is not None else self.fixed_


# DataError and lifelines' ConvergenceError are ValueErrors; a singular design a LinAlgError
_FIT_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError)

#: Fewest departures for which the report fits a Cox model.
MIN_DEPARTURES = 10


def _usable_attributes(table, names):
    out = []
    for name in names:
        if name in table.columns:
            levels = table[name].nunique(dropna=True)
            numeric = pd.api.types.is_numeric_dtype(table[name]) and not isinstance(
                table[name].dtype, pd.CategoricalDtype
            )
            if levels >= 2 and (numeric or levels <= 12):
                out.append(name)
    return out


def fit_drivers(journey, table, *, ticket_event="support_ticket", cv=5):
    """Fit the report's Cox models where the data supports them; say why not otherwise.

    Signup attributes (:func:`cxkit.data.profile.signup_attributes`, those with 2–12 levels or
    numeric) go into a fixed-covariate model. For contractual data, drivers that change over
    time are added only when their data exists: support contacts in the last 30 days when there
    are ``ticket_event`` events, a detractor NPS answer when there are NPS answers.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.retention.cox import fit_drivers
    >>> j = cxkit.load_sample()
    >>> fit = fit_drivers(j, cxkit.survival_table(j), cv=0)
    >>> fit.fixed_ is not None
    True
    """
    from ..data.profile import signup_attributes
    from .reduce import time_varying_table

    out = Drivers()
    out.attributes_ = _usable_attributes(table, signup_attributes(journey))
    churned = int(table["churned"].sum())
    if churned < MIN_DEPARTURES:
        out.why_fixed_ = out.why_varying_ = (
            "no customer has left yet" if churned == 0 else f"only {churned} customers have left"
        )
        return out
    if not out.attributes_:
        out.why_fixed_ = "no customer attribute known at signup varies between customers"
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out.fixed_ = cox(table, out.attributes_, cv=cv if churned >= 4 * cv else 0)
            except _FIT_ERRORS:  # lifelines: no convergence on tiny or separated data
                out.why_fixed_ = "the model could not be fitted on so few departures"
    if journey.business_model != "contractual":
        out.why_varying_ = "contractual"
        return out
    has_tickets = has_events(journey, [ticket_event])
    has_nps = "nps" in survey_kinds(journey)
    if not (has_tickets or has_nps):
        out.why_varying_ = "no drivers"
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tv = time_varying_table(
            journey, ticket_event=ticket_event, detractor=has_nps, covariates=out.attributes_
        )
        drivers = [d for d in tv.attrs["drivers"] if has_tickets or d == "detractor"]
        out.drivers_ = drivers
        try:
            out.varying_ = cox_time_varying(tv, drivers + out.attributes_)
        except _FIT_ERRORS:
            out.why_varying_ = "the model could not be fitted on so few departures"
    return out

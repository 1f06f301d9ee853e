"""Customer-experience scores (NPS, CSAT, CES) with intervals, RFM segments, and experience ↔
retention.

Scores
------
:func:`nps`, :func:`csat` and :func:`ces` take the surveys table (or a :class:`~cxkit.Journey`)
and return one tidy row per group with ``n``, the score, ``ci_low``/``ci_high`` and a ``small``
flag. Only the rows of the survey type are used (``nps`` reads ``survey == "nps"``). ``by`` may
name a surveys column (``stage``, ``touchpoint``) or a customer attribute (``plan``,
``acquisition_channel`` …); customer attributes are joined on ``customer_id`` from the Journey's
customers table, or from ``customers=`` when the first argument is a plain surveys table.

The unit is an *answer* by default: a customer who answered four times counts four times.
``per_customer="latest"`` keeps each customer's latest answer (within each group), so that every
customer counts once; ``"first"`` keeps the first.

Answers of one customer are alike (a happy customer answers 5 again and again), so they carry
less information than as many answers of different customers. When a group has customers who
answered more than once, its intervals are **clustered by customer** (``clustered=True``, the
default): the variance of the score is the cluster-robust (sandwich) variance of a ratio
estimator, Σᵢ(Sᵢ − θ̂ mᵢ)² / n² × C/(C − 1) over the C customers with mᵢ answers summing to Sᵢ,
and the intervals below are computed with the *effective* number of answers n_eff = n × naive
variance / clustered variance (capped at n; Korn & Graubard 1998). When the answers leave the
correlation unknown (all in one class) n_eff is Kish's (Σmᵢ)² / Σmᵢ², the value for answers
that are identical within each customer. The CES mean uses the clustered standard error with
C − 1 degrees of freedom. Groups in which every customer answered once get the plain intervals.
``clustered=False`` treats every answer as independent.

Intervals (95 % by default)
---------------------------
* NPS: adjusted Wald (Rocks 2016, *The American Statistician* 70(2)). Promoters and detractors
  come from one multinomial sample, so Var(p_P − p_D) = (p_P + p_D − (p_P − p_D)²)/n. The
  plain Wald interval has zero width when every answer falls in one class and under-covers in
  small samples, so we add 3 pseudo-answers (¾ promoter, ¾ detractor, 1½ passive): p̃ = (x + ¾)/
  (n + 3), centre p̃_P − p̃_D, variance from p̃ with n + 3. The reported ``nps`` is the plain
  estimate; the interval is clipped to ±100. The centre is shrunk slightly towards 0, so with a
  single answer the interval can miss the estimate (e.g. one promoter: 100 vs −48…98); such
  groups are flagged ``small``.
* CSAT and % low effort: Wilson score interval (contains the estimate, never leaves 0–100).
* CES mean: Student-t interval on the mean of the 1–7 answers (NaN with one answer).

All three are computed on n_eff instead of n when answers are clustered (see above).

Segments
--------
:func:`rfm` scores customers on recency, frequency and monetary value (quintile scores 1–5, 5
best) and names them with the standard R × F grid (:data:`RFM_SEGMENTS`); :func:`rfm_summary`
gives segment sizes and value.

Experience and retention
------------------------
:func:`nps_landmark` asks whether what customers *say* predicts how long they *stay*, with a
landmark analysis that avoids immortal-time bias; :func:`journey_map` summarises volume,
conversion, CSAT and NPS per journey stage.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from .._args import jsonable
from .._stats import Z95 as _Z95
from .._stats import wilson as _wilson
from ..data import SURVEY_SCALES, DataError, Journey
from ..engine.frames import customers_frame, surveys_frame
from ..engine.journey import is_engine


def _z(confidence):
    from statistics import NormalDist

    if not 0 < confidence < 1:
        raise DataError(
            "confidence=...",
            [
                {
                    "column": "confidence",
                    "expected": f"a level between 0 and 1, e.g. 0.95; got {confidence!r}",
                }
            ],
        )
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _nps_interval(promoters, passives, detractors, z=_Z95):
    """Adjusted-Wald NPS interval (Rocks 2016) in NPS points, clipped to ±100.

    Arrays of counts in, arrays ``(low, high)`` out. NaN where there are no answers.
    """
    pro = np.asarray(promoters, float)
    det = np.asarray(detractors, float)
    n = pro + np.asarray(passives, float) + det
    n_adj = n + 3.0
    p_pro = (pro + 0.75) / n_adj
    p_det = (det + 0.75) / n_adj
    centre = p_pro - p_det
    se = np.sqrt((p_pro + p_det - centre**2) / n_adj)
    low = np.clip(centre - z * se, -1.0, 1.0) * 100
    high = np.clip(centre + z * se, -1.0, 1.0) * 100
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def _t_interval(mean, sd, n, confidence):
    from scipy import stats

    n = np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf(0.5 + confidence / 2, np.where(n > 1, n - 1, np.nan))
        half = t * np.asarray(sd, float) / np.sqrt(n)
    return mean - half, mean + half


def _as_list(by):
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _checked_scores(rows, kind, fn):
    """The ``score`` column of one survey type's rows as int64, or a DataError listing every
    missing, non-numeric, non-whole or out-of-scale answer."""
    lo, hi = SURVEY_SCALES[kind]
    raw = rows["score"]
    if pd.api.types.is_bool_dtype(raw):
        num = pd.Series(np.nan, index=raw.index)
    else:
        num = pd.to_numeric(raw, errors="coerce")
    missing = raw.isna().to_numpy()
    text = num.isna().to_numpy() & ~missing
    known = num.notna().to_numpy()
    values = num.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        fraction = known & (values % 1 != 0)
        outside = known & ~fraction & ((values < lo) | (values > hi))
    problems = [
        {
            "column": "score",
            "expected": expected,
            "rows": int(bad.sum()),
            "examples": list(pd.unique(raw[bad]))[:5],
        }
        for bad, expected in (
            (missing, f"a score in every {kind} answer; some are missing"),
            (text, f"numbers on the {kind} scale {lo}–{hi}; some are not numbers"),
            (fraction, f"whole numbers on the {kind} scale {lo}–{hi}; some have fractions"),
            (outside, f"whole numbers from {lo} to {hi} (the {kind} scale); some are outside"),
        )
        if bad.any()
    ]
    if problems:
        raise DataError(
            f"{fn}(surveys=...)",
            problems,
            hint="read the file with cxkit.read_surveys, which checks scores against "
            "cxkit.data.SURVEY_SCALES",
        )
    return num.astype("int64")


def _score_set(values, kind, argument, fn):
    """Scores that count (e.g. ``satisfied``): one whole number or several, on the scale."""
    lo, hi = SURVEY_SCALES[kind]
    scalar = isinstance(values, numbers.Number) or isinstance(values, str)
    items = [values] if scalar else list(values) if np.iterable(values) else [values]
    bad = [
        v
        for v in items
        if isinstance(v, (bool, np.bool_))
        or not isinstance(v, numbers.Real)
        or not lo <= v <= hi
        or v % 1 != 0
    ]
    if bad or not items:
        raise DataError(
            f"{fn}({argument}=...)",
            [
                {
                    "column": argument,
                    "expected": f"one or more whole numbers from {lo} to {hi} (the {kind} "
                    f"scale), e.g. {(hi - 1, hi)}; got {values!r}",
                }
            ],
        )
    return tuple(int(v) for v in items)


def _survey_rows(data, kind, by, customers, per_customer, fn):
    """The answers of one survey type with the ``by`` columns attached.

    Returns (frame, by_columns, excluded) where ``excluded`` counts rows left out and why.
    """
    if isinstance(data, Journey) or is_engine(data):  # an engine's answers come back whole
        surveys = surveys_frame(data)
        if customers is None:
            customers = customers_frame(data)
    elif isinstance(data, pd.DataFrame):
        surveys = data
    else:
        raise DataError(
            f"{fn}(surveys=...)",
            [
                {
                    "column": "surveys",
                    "expected": "the surveys "
                    f"DataFrame or a cxkit.Journey; got {type(data).__name__}",
                }
            ],
        )
    missing = [
        c for c in ("customer_id", "timestamp", "survey", "score") if c not in surveys.columns
    ]
    if missing:
        raise DataError(
            f"{fn}(surveys=...)",
            [{"column": c, "expected": "required surveys column is missing"} for c in missing],
            columns=surveys.columns,
            hint="read the file with cxkit.read_surveys, which maps your names",
        )
    if customers is not None and not isinstance(customers, pd.DataFrame):
        raise DataError(
            f"{fn}(customers=...)",
            [
                {
                    "column": "customers",
                    "expected": "the customers DataFrame (e.g. cxkit.read_customers(path)); "
                    f"got {type(customers).__name__}",
                }
            ],
            hint="or pass a cxkit.Journey as the first argument",
        )
    rows = surveys.loc[surveys["survey"] == kind]
    rows = rows.assign(score=_checked_scores(rows, kind, fn))
    cols = ["customer_id", "timestamp", "score"]
    by = _as_list(by)
    from_customers = [c for c in by if c not in surveys.columns]
    problems = []
    if from_customers:
        if customers is None:
            problems = [
                {
                    "column": c,
                    "expected": "a surveys column, or a customer attribute "
                    "(pass customers= or a cxkit.Journey to join it)",
                }
                for c in from_customers
            ]
        elif "customer_id" not in customers.columns:
            problems = [
                {"column": "customer_id", "expected": "a customers column to join attributes on"}
            ]
        else:
            problems = [
                {"column": c, "expected": "a column of surveys or customers; neither has it"}
                for c in from_customers
                if c not in customers.columns
            ]
    if problems:
        present = list(surveys.columns) + (
            list(customers.columns) if customers is not None else []
        )
        raise DataError(
            f"{fn}(by=...)",
            problems,
            columns=dict.fromkeys(present),
            hint="by= takes stage, touchpoint, channel or a customer attribute",
        )
    frame = rows[cols + [c for c in by if c in surveys.columns]].copy()
    excluded = {}
    if from_customers:
        attrs = customers[["customer_id", *from_customers]].copy()
        attrs["customer_id"] = attrs["customer_id"].astype(object)
        frame["customer_id"] = frame["customer_id"].astype(object)
        frame = frame.merge(attrs, on="customer_id", how="left", validate="many_to_one")
        unknown = ~frame["customer_id"].isin(attrs["customer_id"]).to_numpy()
        if unknown.any():
            excluded["answers of ids not in customers"] = int(unknown.sum())
            frame = frame.loc[~unknown]
    if by:
        na = frame[by].isna().any(axis=1).to_numpy()
        if na.any():
            excluded[f"answers with no {' / '.join(by)}"] = int(na.sum())
            frame = frame.loc[~na]
    if per_customer not in (None, "answer", "latest", "first"):
        raise DataError(
            f"{fn}(per_customer=...)",
            [
                {
                    "column": "per_customer",
                    "expected": f"None, 'latest' or 'first'; got {per_customer!r}",
                }
            ],
        )
    if per_customer in ("latest", "first"):
        before = len(frame)
        frame = frame.sort_values("timestamp", kind="stable")
        keep = "last" if per_customer == "latest" else "first"
        frame = frame.drop_duplicates(["customer_id", *by], keep=keep)
        excluded[
            f"earlier answers of the same customer (per_customer={per_customer!r})"
            if keep == "last"
            else "later answers of the same customer (per_customer='first')"
        ] = before - len(frame)
    return frame, by, excluded


def _clustered(frame, by, columns, clustered):
    """Per group: answers ``n``, customers ``C``, and for each value column the estimate and its
    customer-clustered variance (ratio estimator, C/(C − 1) small-sample factor).

    Returns a DataFrame indexed like :func:`_groups` with ``n``, ``C``, ``repeat`` (some customer
    answered more than once and ``clustered``), ``kish`` ((Σm)²/Σm²) and ``<col>_var``.
    """
    keys = by or ["_all"]
    f = frame if by else frame.assign(_all=0)
    per = f.groupby([*keys, "customer_id"], observed=True, sort=True, dropna=False)[columns].agg(
        ["sum", "count"]
    )
    m = per[(columns[0], "count")].astype(float)
    g = m.groupby(level=keys, observed=True, sort=True)
    m2 = (m**2).groupby(level=keys, observed=True, sort=True).sum()
    out = pd.DataFrame({"n": g.sum(), "C": g.size(), "m2": m2})
    out["repeat"] = bool(clustered) & (g.max() > 1).to_numpy()
    out["kish"] = out["n"] ** 2 / out["m2"]
    n_of = out["n"].reindex(per.index.droplevel("customer_id")).to_numpy()
    C = out["C"].to_numpy(float)
    for col in columns:
        S = per[(col, "sum")].astype(float)
        theta = (S.groupby(level=keys, observed=True, sort=True).sum() / out["n"]).reindex(
            per.index.droplevel("customer_id")
        )
        resid = (S.to_numpy() - theta.to_numpy() * m.to_numpy()) ** 2 / n_of**2
        ss = pd.Series(resid, index=per.index)
        ss = ss.groupby(level=keys, observed=True, sort=True).sum().to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{col}_var"] = np.where(C > 1, ss * C / (C - 1), np.nan)
    return out


def _n_effective(unit_var, clustered_var, c):
    """Effective answers: the variance of one answer over the clustered variance of the mean
    (n × naive variance / clustered variance), capped at n; Kish's value where the variance
    cannot tell (no spread, or one customer). Plain n where no customer answered twice."""
    n = c["n"].to_numpy(float)
    unit_var = np.asarray(unit_var, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = unit_var / np.asarray(clustered_var, float)
    unknown = ~np.isfinite(ratio) | (unit_var <= 1e-12)
    eff = np.where(unknown, c["kish"].to_numpy(float), np.minimum(ratio, n))
    return np.where(c["repeat"].to_numpy(), eff, n)


def _cluster_note(cl):
    if not cl["repeat"].any():
        return ""
    return "; clustered by customer (cluster-robust variance, effective number of answers)"


def _cluster_attrs(cl):
    return {"clustered": bool(cl["repeat"].any())}


def _groups(frame, by):
    """Group by the ``by`` columns, or into one group when there are none."""
    if by:
        return frame.groupby(by, observed=True, sort=True)
    return frame.assign(_all=0).groupby("_all")


def _counts(frame, by, columns):
    """Sum and count of boolean/number columns per group (one row when ``by`` is empty)."""
    return _groups(frame, by)[columns].agg(["sum", "count"])


def _finish(table, by, min_n, attrs):
    table["small"] = table["n"] < min_n
    table = table.reset_index(drop=not by)
    table.attrs = jsonable(attrs)
    return table


def _unit(per_customer):
    return {
        None: "answer",
        "answer": "answer",
        "latest": "latest answer per customer",
        "first": "first answer per customer",
    }[per_customer]


def nps(
    surveys,
    by=None,
    *,
    customers=None,
    per_customer=None,
    clustered=True,
    min_n=30,
    confidence=0.95,
):
    """Net Promoter Score with a confidence interval, overall or per group.

    Promoters answer 9–10, passives 7–8, detractors 0–6 on the 0–10 scale; NPS = % promoters −
    % detractors (−100…100). Uses the ``survey == "nps"`` rows only.

    Parameters
    ----------
    surveys : DataFrame or Journey
        The surveys table, or a Journey (then customer attributes can be used in ``by``).
    by : str or list of str, optional
        A surveys column (``stage``, ``touchpoint``) or a customer attribute (``plan`` …).
    customers : DataFrame, optional
        Customers table to join attributes from when ``surveys`` is a plain DataFrame.
    per_customer : {None, "latest", "first"}
        None counts every answer; "latest" keeps each customer's latest answer per group.
    clustered : bool
        When customers answered more than once, widen the interval for the likeness of one
        customer's answers (customer-clustered variance, see the module notes). False treats
        every answer as independent.
    min_n : int
        Groups with fewer answers are flagged ``small`` (kept, not hidden).
    confidence : float
        Level of the interval.

    Returns
    -------
    DataFrame
        [by columns], ``n``, ``promoters``, ``passives``, ``detractors`` (% of n), ``nps``,
        ``ci_low``, ``ci_high`` (adjusted Wald, see the module notes), ``small``.
        ``.attrs`` holds the unit, the method and counts of answers left out.

    Raises
    ------
    DataError
        When a score of the survey type used is missing, not a number, not whole or off its
        scale (``cxkit.data.SURVEY_SCALES``), or an argument is of the wrong kind.

    Examples
    --------
    >>> import cxkit
    >>> j = cxkit.load_sample()
    >>> table = cxkit.nps(j, by="plan")
    >>> list(table.columns[:3])
    ['plan', 'n', 'promoters']
    """
    frame, by, excluded = _survey_rows(surveys, "nps", by, customers, per_customer, "nps")
    frame = frame.assign(_pro=frame["score"] >= 9, _det=frame["score"] <= 6)
    frame["_pas"] = ~(frame["_pro"] | frame["_det"])
    c = _counts(frame, by, ["_pro", "_pas", "_det"])
    n = c[("_pro", "count")].to_numpy()
    k = {
        name: c[(col, "sum")].to_numpy().astype(float)
        for name, col in (("promoters", "_pro"), ("passives", "_pas"), ("detractors", "_det"))
    }
    table = pd.DataFrame(index=c.index)
    table["n"] = n.astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, count in k.items():
            table[name] = 100 * count / n
    table["nps"] = table["promoters"] - table["detractors"]
    frame["_s"] = frame["_pro"].astype(float) - frame["_det"].astype(float)
    cl = _clustered(frame, by, ["_s"], clustered)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_pro, p_det = k["promoters"] / n, k["detractors"] / n
    eff = _n_effective(p_pro + p_det - (p_pro - p_det) ** 2, cl["_s_var"], cl)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(n > 0, eff / n, 0.0)
    low, high = _nps_interval(
        k["promoters"] * scale, k["passives"] * scale, k["detractors"] * scale, _z(confidence)
    )
    table["ci_low"], table["ci_high"] = low, high
    return _finish(
        table,
        by,
        min_n,
        {
            "survey": "nps",
            "unit": _unit(per_customer),
            "confidence": confidence,
            "method": "adjusted Wald (Rocks 2016): +3 pseudo-answers, 3/4 promoter, 3/4 detractor"
            + _cluster_note(cl),
            **_cluster_attrs(cl),
            "excluded": excluded,
        },
    )


def csat(
    surveys,
    by=None,
    *,
    satisfied=(4, 5),
    customers=None,
    per_customer=None,
    clustered=True,
    min_n=30,
    confidence=0.95,
):
    """Customer satisfaction: % of CSAT answers that are satisfied (4–5 of 5), Wilson interval.

    Uses the ``survey == "csat"`` rows only. Parameters as in :func:`nps`; ``satisfied`` is the
    score, or the scores, that count as satisfied (whole numbers 1–5).

    Returns
    -------
    DataFrame
        [by columns], ``n``, ``csat`` (%), ``ci_low``, ``ci_high``, ``mean_score``, ``small``.

    Examples
    --------
    >>> import cxkit
    >>> j = cxkit.load_sample()
    >>> table = cxkit.csat(j, by="touchpoint")
    >>> bool(table["csat"].between(0, 100).all())
    True
    """
    frame, by, excluded = _survey_rows(surveys, "csat", by, customers, per_customer, "csat")
    satisfied = _score_set(satisfied, "csat", "satisfied", "csat")
    frame = frame.assign(_ok=frame["score"].isin(list(satisfied)))
    c = _counts(frame, by, ["_ok", "score"])
    table = pd.DataFrame(index=c.index)
    table["n"] = c[("_ok", "count")].astype("int64")
    ok = c[("_ok", "sum")].to_numpy().astype(float)
    n = table["n"].to_numpy().astype(float)
    cl = _clustered(frame.assign(_okf=frame["_ok"].astype(float)), by, ["_okf"], clustered)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = ok / n
        eff = _n_effective(p * (1 - p), cl["_okf_var"], cl)
        table["csat"] = 100 * p
        table["ci_low"], table["ci_high"] = _wilson(p * eff, eff, _z(confidence))
        table["mean_score"] = c[("score", "sum")].to_numpy() / table["n"].to_numpy()
    return _finish(
        table,
        by,
        min_n,
        {
            "survey": "csat",
            "unit": _unit(per_customer),
            "confidence": confidence,
            "satisfied": tuple(satisfied),
            "method": "Wilson score interval" + _cluster_note(cl),
            **_cluster_attrs(cl),
            "excluded": excluded,
        },
    )


def ces(
    surveys,
    by=None,
    *,
    low_effort=(5, 6, 7),
    customers=None,
    per_customer=None,
    clustered=True,
    min_n=30,
    confidence=0.95,
):
    """Customer effort score on the 1–7 agree scale: mean and % low effort, with intervals.

    Uses the ``survey == "ces"`` rows only ("the company made it easy": 7 = strongly agree, so
    higher is better). Parameters as in :func:`nps`; ``low_effort`` lists the scores that count
    as low effort (5–7).

    Returns
    -------
    DataFrame
        [by columns], ``n``, ``ces`` (mean score), ``ci_low``, ``ci_high`` (Student t on the
        mean), ``low_effort`` (%), ``low_effort_ci_low``, ``low_effort_ci_high`` (Wilson),
        ``small``.

    Examples
    --------
    >>> import cxkit
    >>> j = cxkit.load_sample()
    >>> table = cxkit.ces(j)
    >>> bool(table["ces"].between(1, 7).all())
    True
    """
    frame, by, excluded = _survey_rows(surveys, "ces", by, customers, per_customer, "ces")
    low_effort = _score_set(low_effort, "ces", "low_effort", "ces")
    frame = frame.assign(
        _low=frame["score"].isin(list(low_effort)), _score=frame["score"].astype(float)
    )
    stats = _groups(frame, by).agg(
        n=("_score", "size"), ces=("_score", "mean"), sd=("_score", "std"), low=("_low", "sum")
    )
    table = pd.DataFrame(index=stats.index)
    table["n"] = stats["n"].astype("int64")
    table["ces"] = stats["ces"]
    cl = _clustered(
        frame.assign(_lowf=frame["_low"].astype(float)), by, ["_score", "_lowf"], clustered
    )
    mean, sd, n = stats["ces"].to_numpy(), stats["sd"].to_numpy(), stats["n"].to_numpy(float)
    lo_t, hi_t = _t_interval(mean, sd, n, confidence)
    # clustered: the sandwich standard error with C − 1 degrees of freedom
    lo_c, hi_c = _t_interval(
        mean,
        np.sqrt(cl["_score_var"].to_numpy() * cl["C"].to_numpy(float)),
        cl["C"].to_numpy(float),
        confidence,
    )
    rep = cl["repeat"].to_numpy()
    table["ci_low"], table["ci_high"] = np.where(rep, lo_c, lo_t), np.where(rep, hi_c, hi_t)
    low = stats["low"].to_numpy().astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = low / n
        eff = _n_effective(p * (1 - p), cl["_lowf_var"], cl)
        table["low_effort"] = 100 * p
    table["low_effort_ci_low"], table["low_effort_ci_high"] = _wilson(p * eff, eff, _z(confidence))
    return _finish(
        table,
        by,
        min_n,
        {
            "survey": "ces",
            "unit": _unit(per_customer),
            "confidence": confidence,
            "low_effort": tuple(low_effort),
            "method": "Student t on the mean; Wilson score interval on % low effort"
            + _cluster_note(cl),
            **_cluster_attrs(cl),
            "excluded": excluded,
        },
    )

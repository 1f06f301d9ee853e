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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._args import jsonable, observed_at_of
from ._stats import Z95 as _Z95
from ._stats import wilson as _wilson
from .data import SURVEY_SCALES, DataError, Journey

__all__ = [
    "nps",
    "csat",
    "ces",
    "rfm",
    "rfm_summary",
    "RFM_SEGMENTS",
    "nps_landmark",
    "NPSLandmark",
    "journey_map",
    "JOURNEY_STAGES",
]


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


# --------------------------------------------------------------------------------------------
# interval arithmetic (vectorized over groups; used by the tests' coverage simulations too)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# shared input handling
# --------------------------------------------------------------------------------------------


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
    if isinstance(data, Journey):
        surveys = data.surveys
        if customers is None:
            customers = data.customers
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


# --------------------------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------------------------


def nps(surveys, by=None, *, customers=None, per_customer=None, min_n=30, confidence=0.95):
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
    low, high = _nps_interval(k["promoters"], k["passives"], k["detractors"], _z(confidence))
    table["ci_low"], table["ci_high"] = low, high
    return _finish(
        table,
        by,
        min_n,
        {
            "survey": "nps",
            "unit": _unit(per_customer),
            "confidence": confidence,
            "method": "adjusted Wald (Rocks 2016): +3 pseudo-answers, 3/4 promoter, 3/4 detractor",
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
    with np.errstate(invalid="ignore", divide="ignore"):
        table["csat"] = 100 * ok / table["n"].to_numpy()
        table["ci_low"], table["ci_high"] = _wilson(ok, table["n"], _z(confidence))
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
            "method": "Wilson score interval",
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
    table["ci_low"], table["ci_high"] = _t_interval(
        stats["ces"].to_numpy(), stats["sd"].to_numpy(), stats["n"], confidence
    )
    low = stats["low"].to_numpy().astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["low_effort"] = 100 * low / table["n"].to_numpy()
    table["low_effort_ci_low"], table["low_effort_ci_high"] = _wilson(
        low, table["n"], _z(confidence)
    )
    return _finish(
        table,
        by,
        min_n,
        {
            "survey": "ces",
            "unit": _unit(per_customer),
            "confidence": confidence,
            "low_effort": tuple(low_effort),
            "method": "Student t on the mean; Wilson score interval on % low effort",
            "excluded": excluded,
        },
    )


# --------------------------------------------------------------------------------------------
# RFM segmentation
# --------------------------------------------------------------------------------------------

#: The standard R × F segment grid: (segment, R scores, F scores, meaning), best first. Every one
#: of the 25 (R, F) cells belongs to exactly one segment.
RFM_SEGMENTS = (
    ("champions", (5,), (4, 5), "bought recently and buy often"),
    ("loyal", (3, 4), (4, 5), "buy often, fairly recently"),
    ("potential loyalists", (4, 5), (2, 3), "recent, a few purchases"),
    ("new", (5,), (1,), "first purchase very recently"),
    ("promising", (4,), (1,), "recent, one purchase"),
    ("need attention", (3,), (3,), "average recency and frequency"),
    ("about to sleep", (3,), (1, 2), "few purchases, not recently"),
    ("can't lose them", (1, 2), (5,), "used to buy most often, long ago"),
    ("at risk", (1, 2), (3, 4), "bought often, long ago"),
    ("hibernating", (1, 2), (1, 2), "few purchases, long ago"),
)
_SEGMENT_NAMES = [s[0] for s in RFM_SEGMENTS]
_SEGMENT_GRID = np.empty((6, 6), dtype=object)  # [R, F], 1-based
for _name, _rs, _fs, _ in RFM_SEGMENTS:
    for _r in _rs:
        for _f in _fs:
            _SEGMENT_GRID[_r, _f] = _name


def _quintile_score(values, higher_is_better):
    """Score 1–5: 1 + floor(5 × share of customers with a strictly worse value).

    Ties share a score (the one of their lowest-placed member), so the score does not depend on
    row order; with many ties (e.g. one-time buyers) some scores stay unused.
    """
    x = pd.Series(np.asarray(values, float))
    worse = (x if higher_is_better else -x).rank(method="min").to_numpy() - 1
    return (1 + (5 * worse.astype("int64")) // len(x)).astype("int64")


def rfm(events, *, observed_at=None, event=None):
    """Recency, frequency and monetary value per customer, with scores and named segments.

    Parameters
    ----------
    events : DataFrame or Journey
        The events table (or a Journey: its events and ``observed_at``).
    observed_at : str or Timestamp, optional
        The moment recency is measured to. Default: the Journey's ``observed_at``, else the
        events table's ``attrs["observed_at"]`` (set by cxkit's loaders), else the latest event
        (``.attrs["observed_at_from"]`` says which). Events after it are left out (counted in
        ``.attrs["excluded"]``).
    event : str or list of str, optional
        Which events count as purchases. Default: every event with a ``value`` (revenue), so
        page views and logins do not count. With ``event=``, those events count and
        ``monetary`` sums their values (missing values as 0).

    Returns
    -------
    DataFrame
        One row per person with at least one qualifying event: ``customer_id``, ``recency``
        (days since the last one), ``frequency`` (how many), ``monetary`` (sum of value),
        ``r_score``, ``f_score``, ``m_score`` (1–5, 5 best), ``rfm`` (e.g. "545") and
        ``segment`` (ordered categorical, :data:`RFM_SEGMENTS`, from R and F).
        ``.attrs["observed_at"]`` is the moment used, as ISO text.

    Notes
    -----
    Scores are quintiles of customers: score = 1 + floor(5 × share of customers whose value is
    strictly worse), where worse means longer ago for recency and lower for frequency and
    monetary. Tied customers share a score whatever the row order (all one-time buyers get
    F = 1), so with heavy ties fewer than five scores are used. Segments follow the common R × F
    grid (champions R5 F4–5, loyal R3–4 F4–5, … hibernating R1–2 F1–2).

    Examples
    --------
    >>> import cxkit
    >>> j = cxkit.load_sample()
    >>> table = cxkit.rfm(j)
    >>> bool(table["r_score"].between(1, 5).all())
    True
    """
    origin = None
    if isinstance(events, Journey):
        if observed_at is None:
            observed_at, origin = events.observed_at, "the Journey's observed_at"
        events = events.events
    if not isinstance(events, pd.DataFrame):
        raise DataError(
            "rfm(events=...)",
            [
                {
                    "column": "events",
                    "expected": "the events "
                    f"DataFrame or a cxkit.Journey; got {type(events).__name__}",
                }
            ],
        )
    need = ["customer_id", "timestamp", "event"] + (["value"] if event is None else [])
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise DataError(
            "rfm(events=...)",
            [{"column": c, "expected": "required column is missing"} for c in missing],
            columns=events.columns,
            hint="without a value column, name the purchase events: event='purchase'"
            if missing == ["value"]
            else None,
        )
    if observed_at is not None:
        origin = origin or "given"
    elif events.attrs.get("observed_at") is not None:
        origin = "the table's extraction moment (events.attrs)"
    observed_at = observed_at_of(events, observed_at, "rfm")
    if observed_at is None:
        observed_at = pd.Timestamp(events["timestamp"].max())
        origin = "the latest event (no observed_at given)"
    if event is None:
        mask = events["value"].notna().to_numpy()
        rule = "events with a value"
    else:
        names = _as_list(event)
        mask = events["event"].isin(names).to_numpy()
        rule = f"events {names}"
    late = mask & (events["timestamp"] > observed_at).to_numpy()
    mask &= ~late
    if not mask.any():
        raise DataError(
            "rfm(events=...)",
            [
                {
                    "column": "value" if event is None else "event",
                    "expected": f"at least one qualifying event ({rule}) on or before "
                    f"{observed_at}; none found",
                }
            ],
            hint="name the purchase events with event='purchase'",
        )
    cols = ["customer_id", "timestamp"] + (["value"] if "value" in events.columns else [])
    rows = events.loc[mask, cols]
    rows = rows.assign(
        customer_id=rows["customer_id"].astype(object),
        value=rows["value"].fillna(0.0) if "value" in rows else 0.0,
    )
    g = rows.groupby("customer_id", sort=True)
    table = pd.DataFrame(
        {"last": g["timestamp"].max(), "frequency": g.size(), "monetary": g["value"].sum()}
    ).reset_index()
    table.insert(1, "recency", (observed_at - table.pop("last")) / pd.Timedelta(days=1))
    table["frequency"] = table["frequency"].astype("int64")
    table["r_score"] = _quintile_score(table["recency"], higher_is_better=False)
    table["f_score"] = _quintile_score(table["frequency"], higher_is_better=True)
    table["m_score"] = _quintile_score(table["monetary"], higher_is_better=True)
    table["rfm"] = (
        table["r_score"].astype(str) + table["f_score"].astype(str) + table["m_score"].astype(str)
    )
    table["segment"] = pd.Categorical(
        _SEGMENT_GRID[table["r_score"].to_numpy(), table["f_score"].to_numpy()],
        categories=_SEGMENT_NAMES,
        ordered=True,
    )
    table.attrs = jsonable(
        {
            "observed_at": observed_at,
            "observed_at_from": origin,
            "counted": rule,
            "excluded": {"qualifying events after observed_at": int(late.sum())},
        }
    )
    return table


def rfm_summary(table):
    """Segment sizes and value from an :func:`rfm` table, one row per segment (best first).

    Returns
    -------
    DataFrame
        ``segment``, ``customers``, ``pct_customers``, ``monetary`` (sum), ``pct_monetary``,
        ``mean_recency``, ``mean_frequency``, ``mean_monetary``. Empty segments are kept with 0.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.experience import rfm_summary
    >>> summary = rfm_summary(cxkit.rfm(cxkit.load_sample()))
    >>> int(summary["customers"].sum()) > 0
    True
    """
    missing = [
        c for c in ("segment", "recency", "frequency", "monetary") if c not in table.columns
    ]
    if missing:
        raise DataError(
            "rfm_summary(table=...)",
            [{"column": c, "expected": "a column of cxkit.rfm's result"} for c in missing],
            columns=table.columns,
            hint="pass the table returned by cxkit.rfm",
        )
    g = table.groupby("segment", observed=False, sort=True)
    out = g.agg(
        customers=("recency", "size"),
        monetary=("monetary", "sum"),
        mean_recency=("recency", "mean"),
        mean_frequency=("frequency", "mean"),
        mean_monetary=("monetary", "mean"),
    ).reset_index()
    out.insert(2, "pct_customers", 100 * out["customers"] / max(len(table), 1))
    total = table["monetary"].sum()
    out.insert(4, "pct_monetary", 100 * out["monetary"] / total if total else np.nan)
    return out


# --------------------------------------------------------------------------------------------
# experience -> retention: landmark analysis
# --------------------------------------------------------------------------------------------

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
    cu = journey.customers[["customer_id", "signup_at", "churned_at"]].copy()
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

    sv = journey.surveys
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

    if not isinstance(journey, Journey):
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


# --------------------------------------------------------------------------------------------
# journey map
# --------------------------------------------------------------------------------------------

#: Default stages of the journey and the events that belong to each (the sample's names, as in
#: its data dictionary). Events are matched by name, so every ``purchase`` (first or repeat)
#: counts in the purchase stage.
JOURNEY_STAGES = {
    "awareness": ["ad_click", "social_click", "email_click", "referral_visit", "organic_search"],
    "consideration": ["site_visit", "product_view", "help_center", "contact_chat"],
    "decision": ["add_to_cart", "checkout"],
    "purchase": ["purchase"],
    "post-purchase": [
        "onboarding_complete",
        "app_login",
        "email_open",
        "whatsapp_message",
        "support_ticket",
    ],
}


def journey_map(journey, stages=None, *, min_n=30, confidence=0.95):
    """Volume, reach, conversion, CSAT and NPS per journey stage: the data of a journey map.

    Parameters
    ----------
    journey : Journey
    stages : dict, optional
        ``{stage: [events]}`` in journey order. Default :data:`JOURNEY_STAGES` (the sample's
        events). Survey answers are matched to stages by the surveys' ``stage`` column.

    Returns
    -------
    DataFrame
        One row per stage: ``stage``, ``events`` (volume), ``people`` (who reached this stage
        or a later one), ``pct_of_first``, ``pct_of_previous`` (conversion between stages),
        ``csat``, ``csat_n``, ``csat_ci_low``, ``csat_ci_high``, ``nps``, ``nps_n``,
        ``nps_ci_low``, ``nps_ci_high``. Survey stages not in ``stages`` are added at the end
        with no volume. ``.attrs["excluded"]`` counts events in no stage.

    Notes
    -----
    "Reached" means any event of that stage or a later one, in any order and with no time
    window: an overview, not a funnel. Use :func:`cxkit.funnel` for ordered, windowed
    conversion.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.experience import journey_map
    >>> table = journey_map(cxkit.load_sample())
    >>> list(table["stage"])[:2]
    ['awareness', 'consideration']
    """
    if not isinstance(journey, Journey):
        raise DataError(
            "journey_map(journey=...)",
            [{"column": "journey", "expected": f"a cxkit.Journey; got {type(journey).__name__}"}],
        )
    stages = dict(JOURNEY_STAGES if stages is None else stages)
    if not stages:
        raise DataError(
            "journey_map(stages=...)",
            [{"column": "stages", "expected": "a dict {stage: [events]} with at least one stage"}],
        )
    order = list(stages)
    lookup = {ev: i for i, evs in enumerate(stages.values()) for ev in _as_list(evs)}
    ev = journey.events
    idx = ev["event"].astype(object).map(lookup)
    unmapped = int(idx.isna().sum())
    volume = np.bincount(idx.dropna().astype("int64"), minlength=len(order))
    mapped = pd.DataFrame(
        {
            "customer_id": ev["customer_id"].astype(object)[idx.notna()],
            "k": idx.dropna().astype("int64"),
        }
    )
    deepest = mapped.groupby("customer_id", sort=False)["k"].max().to_numpy()
    reached = np.bincount(deepest, minlength=len(order))[::-1].cumsum()[::-1]
    table = pd.DataFrame(
        {"stage": order, "events": volume.astype("int64"), "people": reached.astype("int64")}
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        table["pct_of_first"] = 100 * table["people"] / table["people"].iloc[0]
        table["pct_of_previous"] = 100 * table["people"] / table["people"].shift(1)

    excluded = {"events in no stage": unmapped}
    sv = journey.surveys
    if "stage" in sv.columns and len(sv):
        cs = csat(sv, by="stage", min_n=min_n, confidence=confidence)
        ns = nps(sv, by="stage", min_n=min_n, confidence=confidence)
        scores = pd.merge(
            cs[["stage", "csat", "n", "ci_low", "ci_high"]].rename(
                columns={"n": "csat_n", "ci_low": "csat_ci_low", "ci_high": "csat_ci_high"}
            ),
            ns[["stage", "nps", "n", "ci_low", "ci_high"]].rename(
                columns={"n": "nps_n", "ci_low": "nps_ci_low", "ci_high": "nps_ci_high"}
            ),
            on="stage",
            how="outer",
        )
        scores["stage"] = scores["stage"].astype(str)
        extra = sorted(set(scores["stage"]) - set(order))
        table = table.merge(scores, on="stage", how="outer")
        table["stage"] = pd.Categorical(table["stage"], categories=order + extra, ordered=True)
        table = table.sort_values("stage").reset_index(drop=True)
        table["stage"] = table["stage"].astype(str)
        excluded["survey answers with no stage"] = int(sv["stage"].isna().sum())
        if extra:
            excluded["survey stages not in stages (added as rows)"] = len(extra)
    else:
        for col in (
            "csat",
            "csat_n",
            "csat_ci_low",
            "csat_ci_high",
            "nps",
            "nps_n",
            "nps_ci_low",
            "nps_ci_high",
        ):
            table[col] = np.nan
    for col in ("csat_n", "nps_n"):
        table[col] = table[col].fillna(0).astype("int64")
    table.attrs = jsonable({"stages": stages, "excluded": excluded})
    return table

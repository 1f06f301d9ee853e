"""``churn_dataset``'s rows, labels and features as Ibis expressions.

The pandas reduction explodes each event to the cutoffs whose lookback holds it and counts with
``bincount``. Here the same counts are one conditional aggregation per (customer, cutoff): the
events are range-joined to the (few) cutoffs, joined to the rows (customers active at each
cutoff), and every feature column is a ``sum(case …)``. "The latest event / answer strictly
before the cutoff, of any age" uses the cutoff *bucket* of each row (how many cutoffs are at or
before it, a scalar expression) and a running maximum over buckets. The wide table that comes
back is the feature matrix itself; the statistics (:func:`cxkit.compare_models`) are unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import DataError
from .journey import EngineJourney, _ibis
from .retention import _interval, _lit

_DAY = pd.Timedelta(days=1)
_DAY_US = 86_400 * 10**6


def _bucket(t, cut, strict=False):
    """How many cutoffs are at or before ``t`` (``strict``: strictly before). Rows with bucket
    <= k are before cutoff k strictly: bucket b means cut[b-1] <= t < cut[b]."""
    b = _ibis().literal(0)
    for c in cut:
        b = b + ((t > _lit(c)) if strict else (t >= _lit(c))).cast("int64")
    return b


def _fetch(journey, expr):
    """The wide feature table as pandas through Arrow, column by column.

    Not ``journey.execute``: Ibis' DuckDB ``execute`` turns every column that has a null (here
    every count column of the customers without events, and ``last_t``) into Python objects
    before converting it back, which was most of this query's memory (3.3 GiB at 10M events
    under a 1 GB DuckDB limit) and half its time."""
    backend = journey.backend
    if getattr(backend, "name", None) == "duckdb":
        # streamed, so that DuckDB keeps no materialised copy of the result beside Arrow's
        # (Ibis 12's to_pyarrow_batches calls a method DuckDB 2 no longer has)
        import pyarrow as pa

        reader = backend.con.sql(backend.compile(expr)).to_arrow_reader(256_000)
        table = pa.Table.from_batches(list(reader), schema=reader.schema)
        table = table.cast(expr.schema().to_pyarrow())
    else:
        table = backend.to_pyarrow(expr)
    return table.to_pandas(split_blocks=True, self_destruct=True)


def _safe(name):
    return "x" + "".join(ch if ch.isalnum() else "_" for ch in str(name)) + f"_{abs(hash(name))}"


def rows_and_labels(journey, cuts, cut, settings, static_cols, H, L, obs):
    """Every customer at every cutoff (``cuts``: a table of ``k``, ``c``; ``cut``: the sorted
    cutoffs) with ``signed`` (signed up before it), ``active`` (a row of the dataset: not gone
    yet, or active within the lookback), ``label`` (churned within the horizon) and ``known``
    (the horizon ends by ``obs``), by the rules of :func:`cxkit.churn.labels.rows_and_labels`;
    the dataset's rows and :func:`cxkit.engine.labels.label_counts` both come from it."""
    ibis = _ibis()
    cust_t, ev = journey.customers, journey.events
    churn = ibis.ifelse(cust_t.churned_at <= obs, cust_t.churned_at, None)
    cust = cust_t.select(
        *static_cols, cid=cust_t.customer_id, signup=cust_t.signup_at, churn=churn
    )
    grid = cust.cross_join(cuts)
    signed = grid.signup < grid.c
    grid = grid.mutate(signed=signed)
    if settings["label"] == "churned_at":
        grid = grid.mutate(active=grid.signed & ~(grid.churn <= grid.c).fill_null(False))
        grid = grid.mutate(
            label=((grid.churn > grid.c) & (grid.churn <= grid.c + H))
            .fill_null(False)
            .cast("float64")
        )
    else:
        act = (
            ev if settings["activity"] is None else ev.filter(ev.event.isin(settings["activity"]))
        )
        if settings["activity"] is not None:
            present = journey.execute(act.count())
            if not present:
                raise DataError(
                    "spec [business] activity",
                    [
                        {
                            "column": "business.activity",
                            "expected": "names of events in the events table; none of them occurs",
                            "rows": len(settings["activity"]),
                            "examples": list(settings["activity"])[:5],
                        }
                    ],
                )
        a = act.select(a_id=act.customer_id, a_t=act.timestamp)
        # the cutoffs with c - L <= t <= c + H, unnested (as for the features below)
        first = _bucket(a.a_t - H, cut, strict=True)
        a = a.mutate(k=ibis.range(first, _bucket(a.a_t + L, cut)).unnest())
        aw = a.join(cuts, a.k == cuts.k).select(a.a_id, a.a_t, cuts.k, cuts.c)
        counts = aw.group_by(["a_id", "k"]).aggregate(
            before=((aw.a_t >= aw.c - L) & (aw.a_t < aw.c)).cast("int64").sum(),
            after=((aw.a_t > aw.c) & (aw.a_t <= aw.c + H)).cast("int64").sum(),
        )
        g = grid.left_join(counts, [grid.cid == counts.a_id, grid.k == counts.k]).select(
            *[grid[c] for c in grid.columns], before=counts.before, after=counts.after
        )
        grid = g.mutate(
            active=g.signed & (g.before.fill_null(0) > 0),
            label=(g.after.fill_null(0) == 0).cast("float64"),
        ).drop("before", "after")
    grid = grid.mutate(known=grid.c + H <= obs)
    return grid


def churn_dataset(
    journey,
    cutoffs,
    *,
    lookback=None,
    horizon=None,
    recent="30D",
    static=None,
    families=None,
    label=None,
    activity=None,
):
    """:func:`cxkit.churn_dataset` on an :class:`~cxkit.engine.EngineJourney` (same X, y)."""
    from ..churn.labels import _settings
    from ..churn.reduce import (
        _EVENT_FAMILIES,
        _finish,
        _frame,
        _resolve_cutoffs,
        _static_columns,
        _window_features,
        _windows,
    )
    from .retention import choose_inactivity

    if not isinstance(journey, EngineJourney):
        raise DataError("churn_dataset", [{"column": "journey", "expected": "an EngineJourney"}])
    ibis = _ibis()
    source = "churn_dataset()"
    settings = _settings(
        journey,
        choose_inactivity,
        label=label,
        lookback=lookback,
        horizon=horizon,
        activity=activity,
    )
    lookback, horizon, recent = _windows(settings, recent, source)
    observed = pd.Timestamp(journey.observed_at)
    cust_t, ev = journey.customers, journey.events
    start = pd.Timestamp(journey.execute(cust_t.signup_at.min()))
    cut = _resolve_cutoffs(cutoffs, start, observed, lookback, source)
    static_cols = _static_columns(journey, static, source)
    fam_of_event = {**_EVENT_FAMILIES, **(families or {})}
    obs = _lit(observed)
    n_cut = len(cut)
    cuts = ibis.memtable(
        pd.DataFrame({"k": np.arange(n_cut, dtype="int64"), "c": cut.astype("datetime64[us]")})
    )
    H, L, R = _interval(horizon), _interval(lookback), _interval(recent)

    # --- rows and labels -------------------------------------------------------------------
    grid = rows_and_labels(journey, cuts, cut, settings, static_cols, H, L, obs)
    per_cut = (
        journey.execute(
            grid.group_by("k")
            .aggregate(
                rows=grid.active.cast("int64").sum(),
                not_signed=(~grid.signed).cast("int64").sum(),
                churned_before=(grid.signed & ~grid.active).cast("int64").sum(),
            )
            .order_by("k")
        )
        .set_index("k")
        .reindex(range(n_cut))
    )
    rows = grid.filter(grid.active)
    rows = rows.mutate(tenure=rows.c.delta(rows.signup, unit="microsecond") / _DAY_US)

    # --- events in the lookback of each row ------------------------------------------------
    known_ids = cust_t.select(kid=cust_t.customer_id)
    has_channel = "channel" in ev.columns
    has_value = "value" in ev.columns
    e = ev.select(
        e_id=ev.customer_id,
        e_t=ev.timestamp,
        e_ev=ev.event.cast("string"),
        **({"e_ch": ev.channel.cast("string")} if has_channel else {}),
        **({"e_v": ev.value.cast("float64")} if has_value else {}),
    )
    # each event goes to the cutoffs whose lookback holds it, c - L <= t < c: the cutoffs
    # k0 <= k < k1, found with scalar expressions and unnested (no range join: DuckDB's
    # inequality joins do not stay inside its memory limit)
    k0, k1 = _bucket(e.e_t, cut), _bucket(e.e_t + L, cut)
    ew = e.mutate(k=ibis.range(k0, k1).unnest(), k_r=_bucket(e.e_t + R, cut))
    r = rows.select("cid", "k", "signup").view()
    ew = ew.join(r, [ew.e_id == r.cid, ew.k == r.k]).select(
        *[ew[c] for c in ew.columns], signup=r.signup
    )
    ew = ew.mutate(in_r=ew.k < ew.k_r, post=ew.e_t >= ew.signup)
    # the event names and channels in the rows' lookbacks, and which events each channel
    # carries: one scan of the joined events (three scans cost ~25 s at 10M events)
    keys = ["e_ev", "e_ch"] if has_channel else ["e_ev"]
    pairs = journey.execute(ew.group_by(keys).aggregate(n=ew.count()))
    types = sorted(map(str, pairs["e_ev"].unique()))
    channels, ch_type = [], None
    if has_channel:
        ch_type = pairs[pairs["e_ch"].notna()]
        channels = sorted(map(str, ch_type["e_ch"].unique()))
    # counts as COUNT(*) FILTER: an 8-byte state per group and column (a SUM of integers is a
    # 16-byte HUGEINT in DuckDB), sent back as int32
    metrics = {}
    for name in types:
        is_t = ew.e_ev == name
        s = _safe(name)
        metrics[f"L{s}"] = ew.count(where=is_t)
        metrics[f"R{s}"] = ew.count(where=is_t & ew.in_r)
        metrics[f"PL{s}"] = ew.count(where=is_t & ew.post)
        metrics[f"PR{s}"] = ew.count(where=is_t & ew.post & ew.in_r)
    for name in channels:
        is_c = (ew.e_ch == name).fill_null(False)
        s = _safe(name)
        metrics[f"CL{s}"] = ew.count(where=is_c)
        metrics[f"CR{s}"] = ew.count(where=is_c & ew.in_r)
    spend = []
    if has_value:
        v = ew.e_v.fill_null(0.0)
        metrics["spend_L"] = v.sum()
        metrics["spend_R"] = ibis.ifelse(ew.in_r, v, 0.0).sum()
        spend = ["spend_L", "spend_R"]
    agg = ew.group_by(["e_id", "k"]).aggregate(**metrics)

    # recency: the latest event strictly before the cutoff, of any age
    eb = e.mutate(b=_bucket(e.e_t, cut))
    last_b = eb.filter(eb.b < n_cut).group_by(["e_id", "b"]).aggregate(t=eb.e_t.max()).view()
    rr = rows.select(q_id=rows.cid, q_k=rows.k).view()
    recency = (
        rr.join(last_b, [rr.q_id == last_b.e_id, last_b.b <= rr.q_k])
        .group_by(["q_id", "q_k"])
        .aggregate(last_t=last_b.t.max())
    )

    # surveys: the latest answer of each kind strictly before the cutoff
    survey_parts = []
    kinds = []
    if journey.surveys is not None:
        sv = journey.surveys
        kinds = [
            k
            for k in ("nps", "csat", "ces")
            if k in set(journey.execute(sv.select("survey").distinct())["survey"])
        ]
        if kinds:
            sb = sv.filter(sv.survey.isin(kinds)).select(
                s_id=sv.customer_id, s_kind=sv.survey, s_t=sv.timestamp, s_v=sv.score
            )
            sb = sb.mutate(b=_bucket(sb.s_t, cut))
            sb = sb.filter(sb.b < n_cut)
            rs = rows.select(u_id=rows.cid, u_k=rows.k).view()
            j = rs.join(sb, [rs.u_id == sb.s_id, sb.b <= rs.u_k])
            survey_parts = j.group_by(["u_id", "u_k", "s_kind"]).aggregate(
                t=j.s_t.max(), v=j.s_v.argmax(j.s_t)
            )

    # --- assemble --------------------------------------------------------------------------
    base = rows.select("cid", "k", "tenure", "label", "known", *static_cols)
    wide = base.left_join(agg, [base.cid == agg.e_id, base.k == agg.k]).select(
        *[base[c] for c in base.columns],
        *[agg[c].fill_null(0).cast("int32").name(c) for c in metrics if c not in spend],
        *[agg[c].fill_null(0.0).name(c) for c in spend],
    )
    wide = wide.left_join(recency, [wide.cid == recency.q_id, wide.k == recency.q_k]).select(
        *[wide[c] for c in wide.columns], last_t=recency.last_t
    )
    frame = _fetch(journey, wide.order_by(["cid", "k"]))
    survey_frame = journey.execute(survey_parts) if kinds else None
    prospect = journey.execute(ev.filter(~ev.customer_id.isin(known_ids.kid)).count())
    late = 0
    if settings["label"] == "churned_at":
        late = int(journey.execute((cust_t.churned_at > obs).cast("int64").sum()) or 0)

    cv = cut.to_numpy()
    ki = frame["k"].to_numpy().astype(int)
    c_ns = cv[ki].astype("int64")
    n_rows = len(frame)
    feats = {"tenure_days": frame["tenure"].to_numpy(float)}
    family = {"tenure_days": "tenure"}
    last_t = pd.to_datetime(frame["last_t"]).to_numpy("datetime64[ns]").astype("int64")
    last_t = np.where(frame["last_t"].isna().to_numpy(), np.nan, last_t.astype(float))
    feats["recency_days"] = (c_ns - last_t) / _DAY.value
    family["recency_days"] = "recency"

    # int32 counts, as the pandas engine's (half the memory of the wide matrices and of X)
    def col(name):
        return frame[name].to_numpy(np.int32) if name in frame else np.zeros(n_rows, np.int32)

    def stack(prefix, names):
        if not names:
            return np.zeros((n_rows, 0), np.int32)
        return np.column_stack([col(f"{prefix}{_safe(t)}") for t in names])

    if channels:  # which events each channel carries, channels × types
        ch_mat = np.vstack(
            [
                ch_type[ch_type["e_ch"] == name]
                .set_index("e_ev")["n"]
                .reindex(types)
                .fillna(0)
                .to_numpy()
                for name in channels
            ]
        )
    else:
        ch_mat = np.zeros((0, len(types)))
    counts = tuple(stack(p, types) for p in ("L", "R", "PL", "PR"))
    channel_counts = (stack("CL", channels), stack("CR", channels), ch_mat)
    # the int32 counts are copied into the matrices: drop them (a gigabyte at 100M events)
    frame = frame.drop(columns=[c for c in metrics if c not in spend and c in frame])
    renamed = _window_features(
        feats,
        family,
        names=types,
        type_family=[fam_of_event.get(t, t) for t in types],
        counts=counts,
        channels=channels,
        channel_counts=channel_counts,
        spend=(
            (
                frame["spend_L"].fillna(0.0).to_numpy(float),
                frame["spend_R"].fillna(0.0).to_numpy(float),
            )
            if has_value
            else None
        ),
        tenure=feats["tenure_days"],
        lookback=lookback,
        recent=recent,
    )
    if kinds:
        key = pd.MultiIndex.from_arrays([frame["cid"].astype(str), frame["k"].astype(int)])
        for kind in kinds:
            part = survey_frame[survey_frame["s_kind"] == kind]
            part = part.set_index([part["u_id"].astype(str), part["u_k"].astype(int)])
            part = part.reindex(key)
            v_last = part["v"].to_numpy(float)
            t_last = pd.to_datetime(part["t"]).to_numpy("datetime64[ns]").astype("int64")
            t_last = np.where(part["t"].isna().to_numpy(), np.nan, t_last.astype(float))
            feats[f"{kind}_latest"] = v_last
            family[f"{kind}_latest"] = kind
            if kind == "nps":
                feats["nps_detractor"] = np.where(np.isnan(v_last), np.nan, v_last <= 6)
                family["nps_detractor"] = "nps"
            feats[f"days_since_{kind}"] = (c_ns - t_last) / _DAY.value
            family[f"days_since_{kind}"] = kind

    X, index = _frame(feats, frame["cid"].to_numpy(), cv[ki], static_cols, renamed, source)
    for c in static_cols:
        X[c] = frame[c].to_numpy()
        if X[c].dtype == object:
            X[c] = X[c].astype("category")
        family[c] = c
    label = frame["label"].to_numpy(float, copy=True)
    known = frame["known"].to_numpy(bool)
    label[~known] = np.nan
    y = pd.Series(label, index=index, name="churned")
    _finish(
        X,
        y,
        settings=settings,
        recent=recent,
        static_cols=static_cols,
        families=families,
        family=family,
        observed=observed,
        cut=cut,
        ki=ki,
        known=known,
        counts={
            "rows": per_cut["rows"].fillna(0).astype(int).to_numpy(),
            "not_signed_up_yet": per_cut["not_signed"].fillna(0).astype(int).to_numpy(),
            "churned_before": per_cut["churned_before"].fillna(0).astype(int).to_numpy(),
        },
        late=late,
        prospect=int(prospect),
        renamed=renamed,
        engine=journey.engine,
    )
    return X, y

"""Churn prediction from touchpoints: leakage-free datasets, model comparison, campaign value.

Two halves, kept apart (see the design's "Growing past one machine"):

* the **reduction** — :func:`churn_dataset` turns a :class:`~cxkit.Journey` into one row of
  features per customer × cutoff, computed only from what was known strictly before the cutoff,
  and a label (churn in the ``horizon`` after it);
* the **statistics** — :func:`compare_models` fits a logistic-regression baseline and gradient
  boosting on any feature table, evaluates them out of time (or by cross-validation on a plain
  table) with bootstrap CIs, and returns the chosen model fitted; :func:`calibration_table`,
  :func:`gains_table`, :func:`driver_importance`, :func:`score` and :func:`campaign_value` turn
  that into decisions.

scikit-learn is imported inside the functions that need it, so ``import cxkit`` stays light.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd

from .._args import duration, jsonable
from ..data import DataError, Journey
from ..data.profile import signup_attributes
from .catalogue import FAMILY_WORDS, FEATURE_CATALOGUE, _window_name, feature_catalogue
from .labels import label_settings, rows_and_labels

_DAY = pd.Timedelta(days=1)

#: Events counted per pass of churn_dataset (bounds the memory of the exploded windows).
_CHUNK = 4_000_000

__all__ = ["churn_dataset", "feature_catalogue", "FEATURE_CATALOGUE", "FAMILY_WORDS"]


#: Family of the sample's event names; any other event is its own family.
_EVENT_FAMILIES = {
    "support_ticket": "support",
    "contact_chat": "support",
    "help_center": "support",
    "app_login": "engagement",
    "email_open": "engagement",
    "whatsapp_message": "engagement",
    "onboarding_complete": "engagement",
    "purchase": "purchases",
    **dict.fromkeys(
        [
            "ad_click",
            "social_click",
            "email_click",
            "referral_visit",
            "organic_search",
            "site_visit",
            "product_view",
            "add_to_cart",
            "checkout",
        ],
        "browsing",
    ),
}


def _bad(source, argument, expected, examples=None):
    return DataError(
        source,
        [
            {
                "column": argument,
                "expected": expected,
                "rows": 1 if examples else None,
                "examples": examples,
            }
        ],
    )


def _in_customer_order(journey, X, y):
    """An engine's rows in the pandas reduction's order: customers as the customers table
    lists them (the loader's order), then cutoffs. The same rows either way; the order
    matters to what follows (the models' bootstrap draws rows by position)."""
    from ..engine.frames import customers_frame

    if not len(X):
        return X, y
    ids = pd.Index(customers_frame(journey)["customer_id"].astype(object))
    where = ids.get_indexer(X.index.get_level_values(0).astype(object))
    order = np.lexsort((X.index.get_level_values(1).to_numpy(), where))
    X2, y2 = X.iloc[order], y.iloc[order]
    X2.attrs, y2.attrs = X.attrs, y.attrs
    return X2, y2


def _need_journey(journey, fn):
    if not isinstance(journey, Journey):
        raise DataError(
            f"{fn}(journey=...)",
            [
                {
                    "column": "journey",
                    "expected": "a cxkit.Journey (events, customers, surveys and observed_at); "
                    f"got {type(journey).__name__}",
                }
            ],
            hint="build one with cxkit.read_journey(folder) or cxkit.load_sample(); a single "
            "table is not enough (labels need customers, features need events and surveys)",
        )


def _amount(value, argument, source, *, low=0.0, high=np.inf, expected):
    """A plain number within [low, high] (strings and bools refused: "1" is not a cost)."""
    ok = (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, np.bool_))
        and np.isfinite(value)
        and low <= value <= high
    )
    if not ok:
        raise _bad(source, argument, expected, [value])
    return float(value)


def _resolve_cutoffs(cutoffs, start, observed, lookback, source):
    """Cutoffs as a sorted unique DatetimeIndex inside (start, observed]."""
    if isinstance(cutoffs, str):
        try:
            first = (start + lookback).normalize()
            out = pd.date_range(first, observed, freq=cutoffs)
        except ValueError:
            try:
                out = pd.DatetimeIndex([pd.Timestamp(cutoffs)])
            except ValueError:
                raise _bad(
                    source, "cutoffs", "a list of dates or a frequency such as 'MS'", [cutoffs]
                ) from None
        if isinstance(cutoffs, str) and len(out) == 0:
            raise _bad(
                source,
                "cutoffs",
                f"a frequency giving at least one cutoff between "
                f"{first} (first data + lookback) and observed_at {observed}",
                [cutoffs],
            )
    else:
        values = (
            [cutoffs]
            if np.isscalar(cutoffs) or isinstance(cutoffs, pd.Timestamp)
            else list(cutoffs)
        )
        if not values:
            raise _bad(source, "cutoffs", "at least one cutoff date")
        try:
            out = pd.DatetimeIndex(pd.to_datetime(values))
        except (ValueError, TypeError):
            raise _bad(source, "cutoffs", "dates (e.g. '2025-01-01')", values[:5]) from None
    if out.tz is not None:
        out = out.tz_convert("UTC").tz_localize(None)
    out = out.astype("datetime64[ns]").unique().sort_values()
    outside = out[(out <= start) | (out > observed) | out.isna()]
    if len(outside):
        raise DataError(
            source,
            [
                {
                    "column": "cutoffs",
                    "expected": f"dates after the first "
                    f"signup ({start}) and no later than observed_at ({observed})",
                    "rows": len(outside),
                    "examples": [str(c) for c in outside[:5]],
                }
            ],
            hint="choose cutoffs inside the data, e.g. cutoffs='MS'",
        )
    return out


def _static_columns(journey, static, source):
    customers = journey.customers
    known = signup_attributes(journey)
    base = {"customer_id", "signup_at", "churned_at"}
    attrs = [c for c in customers.columns if c not in base]
    if static is None:
        chosen = known
        rest = [c for c in attrs if c not in chosen]
        if rest:
            warnings.warn(
                f"churn_dataset: customer attribute(s) {rest} are not used as features: "
                "customer tables are exported as of today and the data dictionary does "
                "not mark them as known at signup (they may leak the future). Pass "
                "static=[...] to choose the attributes yourself.",
                stacklevel=3,
            )
        return chosen
    chosen = [static] if isinstance(static, str) else list(static)
    missing = [c for c in chosen if c not in attrs]
    if missing:
        raise DataError(
            source,
            [
                {
                    "column": "static",
                    "expected": "names of customer attributes",
                    "rows": len(missing),
                    "examples": missing,
                }
            ],
            columns=attrs,
        )
    risky = [c for c in chosen if c not in known]
    if risky:
        warnings.warn(
            f"churn_dataset: static={risky} are not marked as known at signup; if they "
            "are as of extraction they leak the future into past cutoffs.",
            stacklevel=3,
        )
    return chosen


def _codes_of(values, index, cat_pos=None):
    """Position of each value in ``index`` (-1 if absent); fast path for categoricals
    (``cat_pos``: the categories' positions, when already looked up)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        if cat_pos is None:
            cat_pos = index.get_indexer(values.cat.categories.astype(object))
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, cat_pos[codes], -1)
    return index.get_indexer(values.astype(object))


def _as_category_codes(values):
    cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    return cat.cat.codes.to_numpy().astype(np.int32), [str(c) for c in cat.cat.categories]


def _latest_before(rows, times, cust, value, cutoff_ns):
    """Latest (time, value) strictly before each row's cutoff, per customer (as merge_asof
    would: among answers at the same moment the last in input order).

    With the events grouped by customer and in time order (as read_events gives them; others
    are sorted first), an event is its customer's latest before cutoff k exactly for the
    cutoffs from the first one after it up to the first one after the customer's next event:
    one pass over the events, no sort by time. Times come back as int64 ns, or as float with
    NaN when some row has no earlier event (as merge_asof's column would)."""
    ci, ki = np.asarray(rows["cust"]), np.asarray(rows["k"])
    n_rows = len(ci)
    found = np.zeros(n_rows, bool)
    out_t = np.zeros(n_rows, np.int64)
    out_v = np.full(n_rows, np.nan)
    times = np.asarray(times, np.int64)
    cust, value = np.asarray(cust), np.asarray(value)
    if n_rows and len(times):
        n_cut = int(ki.max()) + 1
        cut = np.zeros(n_cut, np.int64)
        cut[ki] = cutoff_ns
        if not _grouped_in_time_order(cust, times):
            order = np.lexsort((times, cust))  # stable: ties keep the input order
            cust, times, value = cust[order], times[order], value[order]
        k0 = np.searchsorted(cut, times, side="right")  # first cutoff after the event
        k1 = np.empty_like(k0)
        k1[:-1] = k0[1:]  # … and after the customer's next event
        k1[np.r_[cust[1:] != cust[:-1], True]] = n_cut
        n = np.maximum(k1 - k0, 0)
        e = np.repeat(np.arange(len(times)), n)
        k = k0[e] + (np.arange(len(e)) - (np.cumsum(n) - n)[e])
        n_cust = int(max(ci.max(), cust.max())) + 1
        r = _row_lookup(ci, ki, n_cust, n_cut)(cust[e], k)
        ok = r >= 0
        r, e = r[ok], e[ok]
        found[r] = True
        out_t[r] = times[e]
        out_v[r] = value[e]
    if not found.all():
        out_t = np.where(found, out_t.astype(float), np.nan)
    return out_t, out_v


def _grouped_in_time_order(cust, times):
    """Each customer's rows are consecutive and in time order (checked in one pass)."""
    if len(cust) < 2:
        return True
    new = cust[1:] != cust[:-1]
    if not np.all(new | (times[1:] >= times[:-1])):
        return False
    runs = int(new.sum()) + 1
    return runs == len(np.unique(cust[np.r_[True, new]]))


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
    """One row of features per customer × cutoff, and whether they churned in the horizon after.

    Parameters
    ----------
    journey : Journey
        The three tables and ``observed_at`` (the extraction time).
    cutoffs : list of dates, a date, or str
        Dates at which to take a snapshot, or a pandas frequency such as ``"MS"`` (month starts
        from the first signup + ``lookback`` up to ``observed_at``). Each must lie after the first
        signup and no later than ``observed_at``.
    lookback : str or Timedelta, optional
        Window of history before the cutoff used for counts (at least one day), e.g. ``"90D"``
        (the default; with inactivity labels at least the spec's ``inactivity`` gap).
        Durations need a unit: a bare number such as ``30`` is refused (pandas would read it
        as nanoseconds).
    horizon : str or Timedelta, optional
        Churn in (cutoff, cutoff + horizon] is the label. Default ``"30D"``; with inactivity
        labels the spec's ``inactivity`` gap (``"90D"`` unless the spec says otherwise).
    recent : str or Timedelta
        Short window for the "last 30 days" counts and the trend ratios (capped at ``lookback``).
    static : list of str, optional
        Customer attributes used as features. Default: those the data dictionary marks as known
        at signup (``cxkit.data.SIGNUP_ATTRIBUTES``); other attributes are left out with a
        warning, because customer tables are exported as of today.
    families : dict, optional
        ``{event: family}`` overriding how events are grouped into feature families (the
        sample's events are already grouped: support, engagement, purchases, browsing).
    label : {"churned_at", "inactivity"}, optional
        How churn is defined. ``"churned_at"`` (default for contractual journeys): rows are
        customers who signed up before the cutoff and had not churned by it; the label is a
        churn date in (cutoff, cutoff + horizon]. ``"inactivity"`` (default for
        non-contractual journeys, which have no churn dates): rows are customers who signed
        up before the cutoff and were **active at it — at least one activity event in
        [cutoff - lookback, cutoff)**; the label is 1 when they have **no activity event in
        (cutoff, cutoff + horizon]**. ``churned_at`` is then not used.
    activity : list of str, optional
        Events that count as activity for inactivity labels. Default: the spec's
        ``[business] activity``, else every event.

    Returns
    -------
    X : DataFrame
        Indexed by ``customer_id`` and ``cutoff``. Rows: customers who signed up before the
        cutoff and had not churned by it. Features: see :data:`FEATURE_CATALOGUE` and
        :func:`feature_catalogue`. ``X.attrs`` holds the settings (durations and dates as
        text, e.g. ``"30 days 00:00:00"``; read back with ``pd.Timedelta``), each feature's
        family, counts of what was excluded, and ``per_cutoff`` (one record per cutoff, the
        cutoff as ISO text), all JSON-serialisable so the table exports to Parquet.
    y : Series of float
        1 if the customer churned in (cutoff, cutoff + horizon], 0 if not, NaN when
        cutoff + horizon is after ``observed_at`` (unknown yet: rows for scoring, never for
        training or evaluation).

    Notes
    -----
    Windows are half-open, ``[cutoff - window, cutoff)``: an event exactly at the cutoff is not
    used. Churn dates after ``observed_at`` are treated as not (yet) churned. With inactivity
    labels an activity event exactly at the cutoff counts neither for being active nor for the
    label (the label window is (cutoff, cutoff + horizon]).

    Examples
    --------
    >>> import cxkit
    >>> j = cxkit.load_sample()
    >>> X, y = cxkit.churn_dataset(j, ["2025-01-01", "2025-03-01"])
    >>> X.index.names
    FrozenList(['customer_id', 'cutoff'])
    """
    source = "churn_dataset()"
    if type(journey).__name__ == "EngineJourney":  # DuckDB, Spark, a warehouse (cxkit.engine)
        from ..engine.churn import churn_dataset as on_engine

        X, y = on_engine(journey, cutoffs, lookback=lookback, horizon=horizon, recent=recent,
                         static=static, families=families, label=label, activity=activity)  # fmt: skip
        return _in_customer_order(journey, X, y)
    _need_journey(journey, "churn_dataset")
    settings = label_settings(
        journey, label=label, lookback=lookback, horizon=horizon, activity=activity
    )
    lookback, horizon, recent = _windows(settings, recent, source)
    customers, events, surveys = journey.customers, journey.events, journey.surveys
    observed = pd.Timestamp(journey.observed_at)
    start = customers["signup_at"].min()
    cut = _resolve_cutoffs(cutoffs, start, observed, lookback, source)
    static_cols = _static_columns(journey, static, source)
    fam_of_event = {**_EVENT_FAMILIES, **(families or {})}

    # --- rows: customers active at each cutoff --------------------------------------------
    cust_index = pd.Index(customers["customer_id"].astype(object))
    signup = customers["signup_at"].to_numpy("datetime64[ns]")
    cv = cut.to_numpy()
    lab = rows_and_labels(journey, cut, cust_index, **settings, codes=_codes_of)
    ci, ki, label, known = lab["ci"], lab["ki"], lab["label"], lab["known"]  # customer-major
    signed, active, late_churn = lab["signed"], lab["active"], lab["late_churn"]
    n_rows, n_cut = len(ci), len(cv)
    c_ns = cv[ki].astype("int64")
    tenure = (cv[ki] - signup[ci]) / _DAY.to_timedelta64()

    rows = {"cust": ci, "k": ki}
    feats = {"tenure_days": tenure}
    family = {"tenure_days": "tenure"}

    # --- events ----------------------------------------------------------------------------
    cat_pos = None
    if isinstance(events["customer_id"].dtype, pd.CategoricalDtype):  # looked up once
        cat_pos = cust_index.get_indexer(events["customer_id"].cat.categories.astype(object))
    ec = _codes_of(events["customer_id"], cust_index, cat_pos)
    mine = ec >= 0
    ev_c = ec[mine]
    ev_t = events["timestamp"].to_numpy("datetime64[ns]")[mine].astype("int64")
    ev_type, type_names = _as_category_codes(events["event"][mine])
    has_channel = "channel" in events.columns
    if has_channel:
        ev_ch, ch_names = _as_category_codes(events["channel"][mine])
    has_value = "value" in events.columns
    ev_v = events["value"].to_numpy(float)[mine] if has_value else None

    # recency: last event strictly before the cutoff (any age)
    last_t, _ = _latest_before(rows, ev_t, ev_c, np.zeros(len(ev_c)), c_ns)
    feats["recency_days"] = (c_ns - last_t) / _DAY.value
    family["recency_days"] = "recency"

    # counts over windows: each event is exploded to the cutoffs whose lookback contains it
    # (cutoffs found by searchsorted), then counted with one bincount per table.
    # Counting works on rows renumbered in the events' customer order (read_events sorts by
    # customer), so each chunk of events adds into one contiguous block of rows: the work per
    # chunk follows its events, not the size of the whole table (adding full-size count tables
    # per chunk made the cost per event grow with the journey). Any other order is still right.
    rank = _customer_rank(cat_pos, len(cust_index))
    inner = np.argsort(rank[ci].astype(np.int64) * n_cut + ki, kind="stable")  # inner -> row
    inner_of = np.empty(n_rows, np.int64)
    inner_of[inner] = np.arange(n_rows)
    row_of = _row_lookup(ci, ki, len(cust_index), n_cut, inner_of)
    L, R = lookback.value, recent.value
    cut_ns = cv.astype("int64")
    n_types = len(type_names)
    n_ch = len(ch_names) if has_channel else 0
    cnt_type_L = np.zeros((n_rows, n_types), np.int32)
    cnt_type_R = np.zeros((n_rows, n_types), np.int32)
    cnt_ch_L = np.zeros((n_rows, n_ch), np.int32)
    cnt_ch_R = np.zeros((n_rows, n_ch), np.int32)
    spend_L = np.zeros(n_rows)
    spend_R = np.zeros(n_rows)
    ch_type = np.zeros((n_ch, n_types), np.int64)
    # trend ratios compare rates over the time a customer had in each window (tenure-clipped),
    # so they count only events at or after signup (earlier browsing would inflate the long
    # window's rate against an exposure that starts at signup)
    post_L = np.zeros((n_rows, n_types), np.int32)
    post_R = np.zeros((n_rows, n_types), np.int32)
    signup_row = signup[ci[inner]].astype("int64")
    chunk = _CHUNK
    for s in range(0, len(ev_t), chunk):  # a loop over chunks only bounds memory
        t = ev_t[s : s + chunk]
        k0 = np.searchsorted(cut_ns, t, side="right")  # first cutoff after the event
        k1 = np.searchsorted(cut_ns, t + L, side="right")  # cutoffs with c - L <= t
        n = k1 - k0
        if n.sum() == 0:
            continue
        idx = np.repeat(np.arange(len(t)), n)
        offs = np.cumsum(n) - n
        k = k0[idx] + (np.arange(len(idx)) - offs[idx])
        r = row_of(ev_c[s : s + chunk][idx], k)
        ok = r >= 0
        if not ok.any():
            continue
        idx, k, r = idx[ok], k[ok], r[ok]
        lo = int(r.min())
        r = r - lo  # rows lo … lo + size - 1 of the inner order
        size = int(r.max()) + 1
        block = slice(lo, lo + size)
        in_r = t[idx] >= cut_ns[k] - R
        et = ev_type[s : s + chunk][idx]
        cnt_type_L[block] += _bincount2(r, et, size, n_types)
        if has_channel:  # which event each channel carries (in the windows only)
            ech_all = ev_ch[s : s + chunk][idx]
            m_ch = ech_all >= 0
            ch_type += np.bincount(
                ech_all[m_ch] * n_types + et[m_ch], minlength=n_ch * n_types
            ).reshape(n_ch, n_types)
        cnt_type_R[block] += _bincount2(r[in_r], et[in_r], size, n_types)
        post = t[idx] >= signup_row[block][r]
        post_L[block] += _bincount2(r[post], et[post], size, n_types)
        post_R[block] += _bincount2(r[post & in_r], et[post & in_r], size, n_types)
        if has_channel:
            ech = ev_ch[s : s + chunk][idx]
            keep = ech >= 0
            cnt_ch_L[block] += _bincount2(r[keep], ech[keep], size, n_ch)
            cnt_ch_R[block] += _bincount2(r[keep & in_r], ech[keep & in_r], size, n_ch)
        if has_value:
            v = np.nan_to_num(ev_v[s : s + chunk][idx])
            spend_L[block] += np.bincount(r, weights=v, minlength=size)
            spend_R[block] += np.bincount(r[in_r], weights=v[in_r], minlength=size)
    # back to the rows' own order (customer-major, as the customers table lists them)
    cnt_type_L, cnt_type_R, post_L, post_R = (
        a[inner_of] for a in (cnt_type_L, cnt_type_R, post_L, post_R)
    )
    cnt_ch_L, cnt_ch_R = cnt_ch_L[inner_of], cnt_ch_R[inner_of]
    spend_L, spend_R = spend_L[inner_of], spend_R[inner_of]

    type_family = [fam_of_event.get(e, e) for e in type_names]
    renamed = _window_features(
        feats,
        family,
        names=type_names,
        type_family=type_family,
        counts=(cnt_type_L, cnt_type_R, post_L, post_R),
        channels=ch_names if has_channel else [],
        channel_counts=(cnt_ch_L, cnt_ch_R, ch_type),
        spend=(spend_L, spend_R) if has_value else None,
        tenure=tenure,
        lookback=lookback,
        recent=recent,
    )

    # --- surveys: latest answer strictly before the cutoff --------------------------------
    if len(surveys):
        sc = _codes_of(surveys["customer_id"], cust_index)
        kinds = surveys["survey"].astype(str).to_numpy()
        st = surveys["timestamp"].to_numpy("datetime64[ns]").astype("int64")
        score_v = surveys["score"].to_numpy(float)
        for kind in ("nps", "csat", "ces"):
            m = (sc >= 0) & (kinds == kind)
            if not m.any():
                continue
            t_last, v_last = _latest_before(rows, st[m], sc[m], score_v[m], c_ns)
            v_last = v_last.astype(float)
            feats[f"{kind}_latest"] = v_last
            family[f"{kind}_latest"] = kind
            if kind == "nps":
                feats["nps_detractor"] = np.where(np.isnan(v_last), np.nan, v_last <= 6)
                family["nps_detractor"] = "nps"
            feats[f"days_since_{kind}"] = (c_ns - t_last) / _DAY.value
            family[f"days_since_{kind}"] = kind

    # --- assemble --------------------------------------------------------------------------
    X, index = _frame(feats, cust_index.to_numpy()[ci], cv[ki], static_cols, renamed, source)
    for col in static_cols:
        X[col] = customers[col].to_numpy()[ci]
        if not isinstance(X[col].dtype, pd.CategoricalDtype) and X[col].dtype == object:
            X[col] = X[col].astype("category")
        elif isinstance(customers[col].dtype, pd.CategoricalDtype):
            X[col] = pd.Categorical(X[col], categories=customers[col].cat.categories)
        family[col] = col
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
            "rows": active.sum(0),
            "not_signed_up_yet": (~signed).sum(0),
            "churned_before": (signed & ~active).sum(0),
        },
        late=int(late_churn.sum()),
        prospect=int((~mine).sum()),
        renamed=renamed,
    )
    return X, y


def _window_features(
    feats,
    family,
    *,
    names,
    type_family,
    counts,
    channels,
    channel_counts,
    spend,
    tenure,
    lookback,
    recent,
):
    """Adds the features of the lookback and recent windows to ``feats`` and ``family`` (both
    engines) and returns the renamed events {event: feature}.

    ``counts``: (lookback, recent, lookback from signup on, recent from signup on) counts, rows
    × event ``names``; ``channel_counts``: (lookback, recent) rows × ``channels`` and channels ×
    event names (which events each channel carries); ``spend``: (lookback, recent) or None.
    Events and channels without a count in the lookback get no feature."""
    cnt_L, cnt_R, post_L, post_R = counts
    cnt_ch_L, cnt_ch_R, ch_type = channel_counts
    wl, wr = _window_name(lookback), _window_name(recent)
    same = recent == lookback
    feats[f"n_events_{wl}"] = cnt_L.sum(1)
    family[f"n_events_{wl}"] = "activity"
    if not same:
        feats[f"n_events_{wr}"] = cnt_R.sum(1)
        family[f"n_events_{wr}"] = "activity"
    exp_L = np.clip(tenure, 1e-9, lookback / _DAY)
    exp_R = np.clip(tenure, 1e-9, recent / _DAY)
    present = cnt_L.sum(0) > 0
    renamed = {}
    for j, name in enumerate(names):
        if not present[j]:
            continue
        fam = type_family[j]
        stem = _event_stem(name)
        if stem != f"n_{name}":
            renamed[name] = f"{stem}_{wl}"
        feats[f"{stem}_{wl}"] = cnt_L[:, j]
        family[f"{stem}_{wl}"] = fam
        if not same:
            feats[f"{stem}_{wr}"] = cnt_R[:, j]
            family[f"{stem}_{wr}"] = fam
            with np.errstate(divide="ignore", invalid="ignore"):
                trend = (post_R[:, j] / exp_R) / (post_L[:, j] / exp_L)
            if (post_L[:, j] > 0).mean() >= 0.25:  # else mostly undefined
                feats[f"trend_{name}"] = np.where(post_L[:, j] > 0, trend, np.nan)
                family[f"trend_{name}"] = fam
    # a channel belongs to the family of the event it mostly carries (app -> app_login)
    for j, name in enumerate(channels):
        if cnt_ch_L[:, j].sum() == 0:
            continue
        top = type_family[int(np.argmax(ch_type[j]))]
        feats[f"n_channel_{name}_{wl}"] = cnt_ch_L[:, j]
        family[f"n_channel_{name}_{wl}"] = top
        if not same:
            feats[f"n_channel_{name}_{wr}"] = cnt_ch_R[:, j]
            family[f"n_channel_{name}_{wr}"] = top
    if spend is not None:
        feats[f"spend_{wl}"] = spend[0]
        family[f"spend_{wl}"] = "purchases"
        if not same:
            feats[f"spend_{wr}"] = spend[1]
            family[f"spend_{wr}"] = "purchases"
    support = [j for j, f in enumerate(type_family) if f == "support" and present[j]]
    if support:
        feats[f"support_contacts_{wl}"] = cnt_L[:, support].sum(1)
        family[f"support_contacts_{wl}"] = "support"
        if not same:
            feats[f"support_contacts_{wr}"] = cnt_R[:, support].sum(1)
            family[f"support_contacts_{wr}"] = "support"
    return renamed


def _windows(settings, recent, source):
    """lookback, horizon and recent (at most the lookback) of churn_dataset (both engines)."""
    lookback, horizon = settings["lookback"], settings["horizon"]
    recent = duration(recent, "recent", "churn_dataset")
    if lookback < _DAY:
        raise _bad(source, "lookback", "a window of at least one day, e.g. '90D'", [str(lookback)])
    return lookback, horizon, min(recent, lookback)


def _frame(feats, ids, cutoffs, static_cols, renamed, source):
    """X (the features, indexed by customer and cutoff) and its index; refuses static columns
    that would overwrite a feature and warns of renamed events (both engines)."""
    index = pd.MultiIndex.from_arrays(
        [pd.Index(ids, dtype=object), pd.DatetimeIndex(cutoffs)],
        names=["customer_id", "cutoff"],
    )
    X = pd.DataFrame(feats, index=index)
    taken = [c for c in static_cols if c in X.columns]
    if taken:
        raise DataError(
            source,
            [
                {
                    "column": "static",
                    "expected": "customer attributes whose names differ from the features "
                    "churn_dataset builds; these would overwrite one",
                    "rows": len(taken),
                    "examples": taken,
                }
            ],
            hint="rename the attribute in the customers table (e.g. 'crm_tenure_days')",
        )
    if renamed:
        warnings.warn(
            "churn_dataset: event names that read like other features are counted under "
            f"'n_event_…' names: {renamed}",
            stacklevel=3,
        )
    return X, index


def _finish(
    X,
    y,
    *,
    settings,
    recent,
    static_cols,
    families,
    family,
    observed,
    cut,
    ki,
    known,
    counts,
    late,
    prospect,
    renamed,
    **extra,
):
    """The per-cutoff table and the attrs of churn_dataset's X and y (both engines; ``extra``
    goes into X.attrs last). ``counts``: rows, not_signed_up_yet, churned_before per cutoff."""
    lookback, horizon = settings["lookback"], settings["horizon"]
    label = y.to_numpy(float)
    per_cut = pd.DataFrame(
        {
            "cutoff": cut,
            **counts,
            "label_known": [bool(c + horizon <= observed) for c in cut],
            "churn_pct": [
                100 * np.nanmean(label[ki == k]) if known[ki == k].any() else np.nan
                for k in range(len(cut))
            ],
        }
    )
    X.attrs = jsonable(
        {
            "source": "churn_dataset",
            "label": settings["label"],
            "activity": settings["activity"],
            "lookback": str(lookback),
            "horizon": str(horizon),
            "recent": str(recent),
            "static": static_cols,
            "families": dict(families or {}),
            "feature_family": family,
            "observed_at": str(observed),
            "rows_unlabelled": int((~known).sum()),
            "churn_after_observed_at": late,
            "prospect_events": prospect,
            "renamed_events": renamed,
            "per_cutoff": per_cut.to_dict("records"),  # a DataFrame here would break pd.concat
            **extra,
        }
    )
    y.attrs = jsonable(
        {
            "label": settings["label"],
            "horizon": str(horizon),
            "rows_unlabelled": int((~known).sum()),
        }
    )


def _event_stem(name):
    """``n_<event>``, or ``n_event_<event>`` for an event whose name would read as another
    feature (``events`` → the all-events count, ``channel_web`` → the web channel's count)."""
    if name == "events" or name.startswith(("channel_", "event_")):
        return f"n_event_{name}"
    return f"n_{name}"


def _row_lookup(ci, ki, n_cust, n_cut, number=None):
    """A function (customer, cutoff index) -> ``number`` of the row (default its position), or
    -1 when not a row. Rows are customer-major (``ci`` then ``ki`` ascending)."""
    number = np.arange(len(ci)) if number is None else np.asarray(number, np.int64)
    if n_cust * n_cut <= 100_000_000:
        table = np.full((n_cust, n_cut), -1, np.int64)
        table[ci, ki] = number
        return lambda c, k: table[c, k]
    keys = ci.astype(np.int64) * n_cut + ki

    def find(c, k):
        q = c.astype(np.int64) * n_cut + k
        pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
        return np.where(keys[pos] == q, number[pos], -1)

    return find


def _customer_rank(cat_pos, n_cust):
    """Per customer (position in the customers table), its place in the events' customer
    order: its category code when the events' ids are categorical (``cat_pos``: each
    category's customer position or -1; read_events sorts by these codes), else its own
    position. Customers absent from the categories come last."""
    rank = np.arange(n_cust, dtype=np.int64)
    if cat_pos is not None:
        rank += len(cat_pos)
        found = cat_pos >= 0
        rank[cat_pos[found]] = np.flatnonzero(found)
    return rank


def _bincount2(r, j, n_rows, n_cols):
    if n_cols == 0:
        return np.zeros((n_rows, 0), np.int32)
    flat = np.bincount(r * n_cols + j, minlength=n_rows * n_cols)
    return flat.reshape(n_rows, n_cols).astype(np.int32)

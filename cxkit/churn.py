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
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._args import duration, jsonable, moment
from ._stats import wilson as _wilson
from .data import SIGNUP_ATTRIBUTES, DataError, Journey

__all__ = [
    "FEATURE_CATALOGUE",
    "FAMILY_WORDS",
    "churn_dataset",
    "feature_catalogue",
    "compare_models",
    "ModelComparison",
    "calibration_table",
    "gains_table",
    "driver_importance",
    "drivers_in_words",
    "score",
    "campaign_value",
]

_DAY = pd.Timedelta(days=1)

#: Feature name patterns → plain-words definitions. ``{event}``, ``{channel}``, ``{window}``,
#: ``{recent}``, ``{attribute}`` are filled in for a given table by :func:`feature_catalogue`.
#: Every feature of :func:`churn_dataset` uses only what happened strictly before its cutoff.
FEATURE_CATALOGUE = {
    "tenure_days": "Days from signup to the cutoff.",
    "recency_days": "Days from the customer's last event of any kind before the cutoff to the "
    "cutoff (empty if they had none).",
    "n_events_{window}": "Events of any kind in the {window} before the cutoff.",
    "n_{event}_{window}": "Number of '{event}' events in the {window} before the cutoff.",
    "trend_{event}": "Daily rate of '{event}' in the last {recent} divided by its daily rate over "
    "the lookback, each counted over the part of the window after signup: 1 = steady, below 1 = "
    "falling (empty when there were none in the lookback).",
    "n_channel_{channel}_{window}": "Events through the '{channel}' channel in the {window} "
    "before the cutoff.",
    "spend_{window}": "Revenue (sum of event values) in the {window} before the cutoff.",
    "support_contacts_{window}": "Support contacts (events of the support family) in the "
    "{window} before the cutoff.",
    "nps_latest": "The customer's latest NPS answer (0–10) before the cutoff.",
    "nps_detractor": "1 if the latest NPS answer before the cutoff is 0–6 (detractor), 0 if "
    "7–10, empty if they never answered.",
    "days_since_nps": "Days from the latest NPS answer to the cutoff.",
    "csat_latest": "The customer's latest CSAT answer (1–5) before the cutoff.",
    "days_since_csat": "Days from the latest CSAT answer to the cutoff.",
    "ces_latest": "The customer's latest effort score (1–7) before the cutoff.",
    "days_since_ces": "Days from the latest CES answer to the cutoff.",
    "{attribute}": "Customer attribute '{attribute}', known at signup (customers table).",
}

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

#: Feature families in words, for reasons and driver sentences.
FAMILY_WORDS = {
    "support": "support contacts",
    "nps": "latest NPS answer",
    "csat": "latest CSAT answer",
    "ces": "latest effort score",
    "engagement": "app and email engagement",
    "purchases": "purchases and spend",
    "browsing": "browsing the shop",
    "tenure": "time as a customer",
    "recency": "days since last activity",
    "activity": "overall activity",
    "plan": "plan",
    "acquisition_channel": "acquisition channel",
    "device": "device",
    "region": "region",
}


# --------------------------------------------------------------------------------------------
# arguments
# --------------------------------------------------------------------------------------------


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


def _window_name(td):
    if td % _DAY == pd.Timedelta(0):
        return f"{td // _DAY}d"
    if td % pd.Timedelta(hours=1) == pd.Timedelta(0):
        return f"{td // pd.Timedelta(hours=1)}h"
    return f"{int(td.total_seconds())}s"


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


def _static_columns(customers, static, source):
    base = {"customer_id", "signup_at", "churned_at"}
    attrs = [c for c in customers.columns if c not in base]
    if static is None:
        chosen = [c for c in SIGNUP_ATTRIBUTES if c in customers.columns]
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
    risky = [c for c in chosen if c not in SIGNUP_ATTRIBUTES]
    if risky:
        warnings.warn(
            f"churn_dataset: static={risky} are not marked as known at signup; if they "
            "are as of extraction they leak the future into past cutoffs.",
            stacklevel=3,
        )
    return chosen


# --------------------------------------------------------------------------------------------
# the reduction: journey -> features at cutoffs
# --------------------------------------------------------------------------------------------


def _codes_of(values, index):
    """Position of each value in ``index`` (-1 if absent); fast path for categoricals."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cat_pos = index.get_indexer(values.cat.categories.astype(object))
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, cat_pos[codes], -1)
    return index.get_indexer(values.astype(object))


def _as_category_codes(values):
    cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    return cat.cat.codes.to_numpy().astype(np.int32), [str(c) for c in cat.cat.categories]


def _latest_before(rows, times, cust, value, cutoff_ns):
    """Latest (time, value) strictly before each row's cutoff, per customer (merge_asof)."""
    right = pd.DataFrame({"cust": cust, "t": times, "v": value}).sort_values("t", kind="stable")
    left = pd.DataFrame({"cust": rows["cust"], "t": cutoff_ns, "row": np.arange(len(cutoff_ns))})
    left = left.sort_values("t", kind="stable")
    right = right.rename(columns={"t": "t_event"})
    right["t"] = right["t_event"]
    out = pd.merge_asof(
        left, right, on="t", by="cust", allow_exact_matches=False, direction="backward"
    ).sort_values("row")
    return out["t_event"].to_numpy(), out["v"].to_numpy()


def churn_dataset(
    journey, cutoffs, *, lookback="90D", horizon="30D", recent="30D", static=None, families=None
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
    lookback : str or Timedelta
        Window of history before the cutoff used for counts (at least one day), e.g. ``"90D"``.
        Durations need a unit: a bare number such as ``30`` is refused (pandas would read it
        as nanoseconds).
    horizon : str or Timedelta
        Churn in (cutoff, cutoff + horizon] is the label, e.g. ``"30D"``.
    recent : str or Timedelta
        Short window for the "last 30 days" counts and the trend ratios (capped at ``lookback``).
    static : list of str, optional
        Customer attributes used as features. Default: those the data dictionary marks as known
        at signup (``cxkit.data.SIGNUP_ATTRIBUTES``); other attributes are left out with a
        warning, because customer tables are exported as of today.
    families : dict, optional
        ``{event: family}`` overriding how events are grouped into feature families (the
        sample's events are already grouped: support, engagement, purchases, browsing).

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
    used. Churn dates after ``observed_at`` are treated as not (yet) churned.

    Examples
    --------
    >>> import cxkit
    >>> j = cxkit.load_sample()
    >>> X, y = cxkit.churn_dataset(j, ["2025-01-01", "2025-03-01"])
    >>> X.index.names
    FrozenList(['customer_id', 'cutoff'])
    """
    source = "churn_dataset()"
    _need_journey(journey, "churn_dataset")
    lookback = duration(lookback, "lookback", "churn_dataset")
    horizon = duration(horizon, "horizon", "churn_dataset")
    recent = duration(recent, "recent", "churn_dataset")
    if lookback < _DAY:
        raise _bad(source, "lookback", "a window of at least one day, e.g. '90D'", [str(lookback)])
    recent = min(recent, lookback)
    customers, events, surveys = journey.customers, journey.events, journey.surveys
    observed = pd.Timestamp(journey.observed_at)
    start = customers["signup_at"].min()
    cut = _resolve_cutoffs(cutoffs, start, observed, lookback, source)
    static_cols = _static_columns(customers, static, source)
    fam_of_event = {**_EVENT_FAMILIES, **(families or {})}

    # --- rows: customers active at each cutoff --------------------------------------------
    cust_index = pd.Index(customers["customer_id"].astype(object))
    signup = customers["signup_at"].to_numpy("datetime64[ns]")
    churn = customers["churned_at"].to_numpy("datetime64[ns]")
    late_churn = churn > np.datetime64(observed)
    churn = np.where(late_churn, np.datetime64("NaT"), churn)
    cv = cut.to_numpy()
    signed = signup[:, None] < cv[None, :]
    gone = churn[:, None] <= cv[None, :]  # NaT compares False
    active = signed & ~gone
    ci, ki = np.nonzero(active)  # customer-major, then cutoff
    n_rows, n_cut = len(ci), len(cv)
    c_ns = cv[ki].astype("int64")
    end = cv[ki] + horizon.to_timedelta64()
    known = end <= np.datetime64(observed)
    ch = churn[ci]
    label = ((ch > cv[ki]) & (ch <= end)).astype(float)
    label[~known] = np.nan
    tenure = (cv[ki] - signup[ci]) / _DAY.to_timedelta64()

    rows = {"cust": ci, "k": ki}
    feats = {"tenure_days": tenure}
    family = {"tenure_days": "tenure"}

    # --- events ----------------------------------------------------------------------------
    ec = _codes_of(events["customer_id"], cust_index)
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
    row_of = _row_lookup(ci, ki, len(cust_index), n_cut)
    L, R = lookback.value, recent.value
    wl, wr = _window_name(lookback), _window_name(recent)
    same = recent == lookback
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
    chunk = 4_000_000
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
        idx, k, r = idx[ok], k[ok], r[ok]
        in_r = t[idx] >= cut_ns[k] - R
        et = ev_type[s : s + chunk][idx]
        cnt_type_L += _bincount2(r, et, n_rows, n_types)
        if has_channel:  # which event each channel carries (in the windows only)
            ech_all = ev_ch[s : s + chunk][idx]
            m_ch = ech_all >= 0
            ch_type += np.bincount(
                ech_all[m_ch] * n_types + et[m_ch], minlength=n_ch * n_types
            ).reshape(n_ch, n_types)
        cnt_type_R += _bincount2(r[in_r], et[in_r], n_rows, n_types)
        if has_channel:
            ech = ev_ch[s : s + chunk][idx]
            keep = ech >= 0
            cnt_ch_L += _bincount2(r[keep], ech[keep], n_rows, n_ch)
            cnt_ch_R += _bincount2(r[keep & in_r], ech[keep & in_r], n_rows, n_ch)
        if has_value:
            v = np.nan_to_num(ev_v[s : s + chunk][idx])
            spend_L += np.bincount(r, weights=v, minlength=n_rows)
            spend_R += np.bincount(r[in_r], weights=v[in_r], minlength=n_rows)

    feats[f"n_events_{wl}"] = cnt_type_L.sum(1)
    family[f"n_events_{wl}"] = "activity"
    if not same:
        feats[f"n_events_{wr}"] = cnt_type_R.sum(1)
        family[f"n_events_{wr}"] = "activity"
    exp_L = np.clip(tenure, 1e-9, lookback / _DAY)
    exp_R = np.clip(tenure, 1e-9, recent / _DAY)
    type_family = [fam_of_event.get(e, e) for e in type_names]
    present = cnt_type_L.sum(0) > 0
    for j, name in enumerate(type_names):
        if not present[j]:
            continue
        fam = type_family[j]
        feats[f"n_{name}_{wl}"] = cnt_type_L[:, j]
        family[f"n_{name}_{wl}"] = fam
        if not same:
            feats[f"n_{name}_{wr}"] = cnt_type_R[:, j]
            family[f"n_{name}_{wr}"] = fam
            with np.errstate(divide="ignore", invalid="ignore"):
                trend = (cnt_type_R[:, j] / exp_R) / (cnt_type_L[:, j] / exp_L)
            if (cnt_type_L[:, j] > 0).mean() >= 0.25:  # else mostly undefined
                feats[f"trend_{name}"] = np.where(cnt_type_L[:, j] > 0, trend, np.nan)
                family[f"trend_{name}"] = fam
    if has_channel:
        # a channel belongs to the family of the event it mostly carries (app -> app_login)
        for j, name in enumerate(ch_names):
            if cnt_ch_L[:, j].sum() == 0:
                continue
            top = type_family[int(np.argmax(ch_type[j]))]
            feats[f"n_channel_{name}_{wl}"] = cnt_ch_L[:, j]
            family[f"n_channel_{name}_{wl}"] = top
            if not same:
                feats[f"n_channel_{name}_{wr}"] = cnt_ch_R[:, j]
                family[f"n_channel_{name}_{wr}"] = top
    if has_value:
        feats[f"spend_{wl}"] = spend_L
        family[f"spend_{wl}"] = "purchases"
        if not same:
            feats[f"spend_{wr}"] = spend_R
            family[f"spend_{wr}"] = "purchases"
    support = [j for j, f in enumerate(type_family) if f == "support" and present[j]]
    if support:
        feats[f"support_contacts_{wl}"] = cnt_type_L[:, support].sum(1)
        family[f"support_contacts_{wl}"] = "support"
        if not same:
            feats[f"support_contacts_{wr}"] = cnt_type_R[:, support].sum(1)
            family[f"support_contacts_{wr}"] = "support"

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
    index = pd.MultiIndex.from_arrays(
        [pd.Index(cust_index.to_numpy()[ci], dtype=object), pd.DatetimeIndex(cv[ki])],
        names=["customer_id", "cutoff"],
    )
    X = pd.DataFrame(feats, index=index)
    for col in static_cols:
        X[col] = customers[col].to_numpy()[ci]
        if not isinstance(X[col].dtype, pd.CategoricalDtype) and X[col].dtype == object:
            X[col] = X[col].astype("category")
        elif isinstance(customers[col].dtype, pd.CategoricalDtype):
            X[col] = pd.Categorical(X[col], categories=customers[col].cat.categories)
        family[col] = col
    y = pd.Series(label, index=index, name="churned")

    per_cut = pd.DataFrame(
        {
            "cutoff": cut,
            "rows": active.sum(0),
            "not_signed_up_yet": (~signed).sum(0),
            "churned_before": (signed & gone).sum(0),
            "label_known": [bool(c + horizon <= observed) for c in cut],
            "churn_pct": [
                100 * np.nanmean(label[ki == k]) if known[ki == k].any() else np.nan
                for k in range(n_cut)
            ],
        }
    )
    X.attrs = jsonable(
        {
            "source": "churn_dataset",
            "lookback": str(lookback),
            "horizon": str(horizon),
            "recent": str(recent),
            "static": static_cols,
            "families": dict(families or {}),
            "feature_family": family,
            "observed_at": str(observed),
            "rows_unlabelled": int((~known).sum()),
            "churn_after_observed_at": int(late_churn.sum()),
            "prospect_events": int((~mine).sum()),
            "per_cutoff": per_cut.to_dict("records"),  # a DataFrame here would break pd.concat
        }
    )
    y.attrs = jsonable({"horizon": str(horizon), "rows_unlabelled": int((~known).sum())})
    return X, y


def _row_lookup(ci, ki, n_cust, n_cut):
    """A function (customer, cutoff index) -> row number, or -1 when not a row."""
    if n_cust * n_cut <= 100_000_000:
        table = np.full((n_cust, n_cut), -1, np.int64)
        table[ci, ki] = np.arange(len(ci))
        return lambda c, k: table[c, k]
    keys = ci.astype(np.int64) * n_cut + ki

    def find(c, k):
        q = c.astype(np.int64) * n_cut + k
        pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
        return np.where(keys[pos] == q, pos, -1)

    return find


def _bincount2(r, j, n_rows, n_cols):
    if n_cols == 0:
        return np.zeros((n_rows, 0), np.int32)
    flat = np.bincount(r * n_cols + j, minlength=n_rows * n_cols)
    return flat.reshape(n_rows, n_cols).astype(np.int32)


def feature_catalogue(X=None):
    """The feature catalogue: one row per feature of ``X`` with its family and definition.

    Parameters
    ----------
    X : DataFrame, optional
        A result of :func:`churn_dataset`. Without it, the generic catalogue
        (:data:`FEATURE_CATALOGUE`) is returned as a table.

    Returns
    -------
    DataFrame
        ``feature``, ``family``, ``definition``, ``kind`` (numeric or categorical) and
        ``missing_pct`` (share of rows without a value, %).

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.churn import feature_catalogue
    >>> X, y = cxkit.churn_dataset(cxkit.load_sample(), ["2025-01-01"])
    >>> feature_catalogue(X).columns.tolist()
    ['feature', 'family', 'definition', 'kind', 'missing_pct']
    """
    if X is None:
        return pd.DataFrame(
            {"feature": list(FEATURE_CATALOGUE), "definition": list(FEATURE_CATALOGUE.values())}
        )
    fam = X.attrs.get("feature_family", {})
    lookback = pd.Timedelta(X.attrs.get("lookback", "90D"))
    recent = pd.Timedelta(X.attrs.get("recent", "30D"))
    words = {
        _window_name(lookback): f"{lookback.days} days",
        _window_name(recent): f"{recent.days} days",
    }
    rows = []
    for col in X.columns:
        rows.append(
            {
                "feature": col,
                "family": fam.get(col, col),
                "definition": _define(col, words, recent, X.attrs.get("static", [])),
                "kind": "categorical" if not pd.api.types.is_numeric_dtype(X[col]) else "numeric",
                "missing_pct": 100 * float(X[col].isna().mean()) if len(X) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _define(col, windows, recent, static):
    rec = f"{recent.days} days"
    if col in FEATURE_CATALOGUE:
        return FEATURE_CATALOGUE[col]
    if col in static:
        return FEATURE_CATALOGUE["{attribute}"].format(attribute=col)
    if col.startswith("trend_"):
        return FEATURE_CATALOGUE["trend_{event}"].format(event=col[6:], recent=rec)
    for suffix, words in windows.items():
        if col.endswith("_" + suffix):
            stem = col[: -len(suffix) - 1]
            for prefix, pattern in (
                ("n_channel_", "n_channel_{channel}_{window}"),
                ("support_contacts", "support_contacts_{window}"),
                ("spend", "spend_{window}"),
                ("n_events", "n_events_{window}"),
                ("n_", "n_{event}_{window}"),
            ):
                if stem.startswith(prefix):
                    rest = stem[len(prefix) :]
                    return FEATURE_CATALOGUE[pattern].format(
                        channel=rest, event=rest, window=words
                    )
    return "User-supplied column."


# --------------------------------------------------------------------------------------------
# the statistics: model comparison
# --------------------------------------------------------------------------------------------


@dataclass(repr=False)
class ModelComparison:
    """Result of :func:`compare_models`: the table, held-out predictions and the chosen model.

    Attributes
    ----------
    table : DataFrame
        One row per model (index ``model``): held-out metrics with 95% bootstrap CIs.
    best_ : str
        The chosen model (lowest held-out log loss unless ``select=`` says otherwise).
    model_ : sklearn Pipeline
        The chosen model refitted on every labelled row; ready for :func:`score`.
    predictions_ : DataFrame
        Held-out rows: ``churned`` (0/1), ``fold``, ``group`` and one probability column per
        model.
    folds_ : list of dict
        Per split: ``train`` and ``test`` row positions, ``cutoff`` (out of time) and the
        fitted pipelines (``models``).
    """

    table: pd.DataFrame
    best_: str
    model_: object
    predictions_: pd.DataFrame
    folds_: list
    X_: pd.DataFrame
    y_: pd.Series
    evaluation_: str
    features_: list
    family_: dict
    reference_: dict
    spec_: dict | None = None
    notes_: dict = field(default_factory=dict)

    def __repr__(self):
        cols = ["roc_auc", "pr_auc", "base_rate", "brier", "lift_at_10pct"]
        return (
            f"ModelComparison({self.evaluation_}, chosen={self.best_!r}, "
            f"n={self.notes_.get('rows_evaluated')})\n" + self.table[cols].round(3).to_string()
        )

    def _repr_html_(self):
        return self.table._repr_html_()

    def __getitem__(self, key):
        return self.table[key]

    @property
    def loc(self):
        return self.table.loc


def _prepare(X, source):
    """A model-ready copy: categoricals for text, numbers for bools/durations; ids and dates
    dropped (reported)."""
    X = X.copy()
    X.attrs = {}
    dropped = {}
    for col in list(X.columns):
        s = X[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            X.pop(col)
            dropped[col] = "date/time column (use it to build features, e.g. tenure)"
        elif pd.api.types.is_timedelta64_dtype(s):
            X[col] = s / _DAY
        elif pd.api.types.is_bool_dtype(s):
            X[col] = s.astype(float)
        elif isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s):
            if not isinstance(s.dtype, pd.CategoricalDtype):  # text; missing stays NaN
                s = s.map(str, na_action="ignore").astype("category")
            n_levels = len(s.cat.categories)
            if len(X) > 20 and s.nunique() > 0.5 * len(X):
                X.pop(col)
                dropped[col] = "identifier-like (a different value in most rows)"
            elif n_levels > 250:
                X.pop(col)
                dropped[col] = f"{n_levels} categories (more than 250)"
            else:
                X[col] = s.cat.remove_unused_categories()
        else:
            X[col] = s.astype(float)
    if X.shape[1] == 0:
        raise DataError(
            source,
            [
                {
                    "column": "X",
                    "expected": "at least one usable feature column",
                    "rows": len(dropped),
                    "examples": list(dropped),
                }
            ],
        )
    if dropped:
        warnings.warn(f"compare_models: columns not used as features: {dropped}", stacklevel=3)
    return X, dropped


def _pipelines(X, random_state):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    cat = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    num = [c for c in X.columns if c not in cat]
    signed_log = FunctionTransformer(_signed_log, feature_names_out="one-to-one")
    logistic = make_pipeline(
        ColumnTransformer(
            [
                (
                    "num",
                    make_pipeline(
                        SimpleImputer(
                            strategy="median", add_indicator=True, keep_empty_features=True
                        ),
                        signed_log,
                        StandardScaler(),
                    ),
                    num,
                ),
                (
                    "cat",
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent", keep_empty_features=True),
                        OneHotEncoder(handle_unknown="ignore", min_frequency=5),
                    ),
                    cat,
                ),
            ],
            sparse_threshold=0,
        ),
        LogisticRegression(C=0.5, solver="newton-cholesky", max_iter=200),
    )
    boosting = make_pipeline(
        ColumnTransformer(
            [
                ("num", "passthrough", num),
                ("cat", _CategoryCodes(), cat),
            ],
            verbose_feature_names_out=False,
        ),
        HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_iter=150,
            max_leaf_nodes=4,
            min_samples_leaf=50,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=random_state,
            categorical_features=list(range(len(num), len(num) + len(cat))),
        ),
    )
    return {"logistic": logistic, "boosting": boosting}


@contextmanager
def _fitting():
    """One OpenMP thread while fitting: the tables are small, and on a shared or busy machine
    gradient boosting's threads spin-wait (5-10× slower); results are deterministic either way."""
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="openmp"):
        warnings.simplefilter("ignore", UserWarning)
        yield


def _signed_log(a):
    a = np.asarray(a, float)
    return np.sign(a) * np.log1p(np.abs(a))


class _CategoryCodes:
    """Pandas categoricals → their integer codes (NaN for missing), for native HGB categories.
    The categories are fixed when the table is prepared, so codes mean the same in every fold."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        out = (
            np.column_stack([X[c].cat.codes.to_numpy().astype(float) for c in X.columns])
            if X.shape[1]
            else np.zeros((len(X), 0))
        )
        out[out < 0] = np.nan
        return out

    def fit_transform(self, X, y=None):
        return self.transform(X)

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def set_output(self, *, transform=None):
        return self


def _as_target(y, X, source):
    if isinstance(y, str):
        if y not in X.columns:
            raise DataError(
                source,
                [{"column": "y", "expected": f"a column of X named {y!r}"}],
                columns=X.columns,
            )
        return X.drop(columns=[y]), X[y]
    if y is None:
        raise DataError(
            source,
            [
                {
                    "column": "y",
                    "expected": "the target: a Series aligned with X or the name of a column of X",
                }
            ],
        )
    if isinstance(y, pd.Series):
        if len(y) != len(X):
            raise _bad(source, "y", f"{len(X)} values (one per row of X)", [len(y)])
        return X, pd.Series(y.to_numpy(), index=X.index, name=y.name or "churned")
    y = np.asarray(y)
    if len(y) != len(X):
        raise _bad(source, "y", f"{len(X)} values (one per row of X)", [len(y)])
    return X, pd.Series(y, index=X.index, name="churned")


def _check_target(y, allow_missing, source):
    values = y.astype("float64") if y.dtype == bool else pd.to_numeric(y, errors="coerce")
    bad = values.notna() & ~values.isin([0, 1])
    if (y.notna() & values.isna()).any() or bad.any():
        ex = list(pd.unique(y[bad | (y.notna() & values.isna())]))[:5]
        raise DataError(
            source,
            [
                {
                    "column": "y",
                    "expected": "a 0/1 (or True/False) churn target",
                    "rows": int(bad.sum()),
                    "examples": ex,
                }
            ],
        )
    missing = values.isna()
    if missing.any() and not allow_missing:
        raise DataError(
            source,
            [
                {
                    "column": "y",
                    "expected": "a churn label in every row; some are missing",
                    "rows": int(missing.sum()),
                    "examples": [str(i) for i in y.index[missing][:5]],
                }
            ],
            hint="drop rows without a label, or pass a churn_dataset result whose "
            "unlabelled rows carry cutoffs",
        )
    known = values[~missing]
    if known.nunique() < 2:
        raise DataError(
            source,
            [
                {
                    "column": "y",
                    "expected": "both churners and non-churners (the target has one class)",
                    "rows": int(len(known)),
                    "examples": list(pd.unique(known))[:2],
                }
            ],
        )
    return values


def compare_models(
    X,
    y=None,
    *,
    cutoffs=None,
    horizon=None,
    n_splits=5,
    n_boot=200,
    select="log_loss",
    random_state=0,
):
    """Fit a logistic-regression baseline and gradient boosting; evaluate them honestly.

    Parameters
    ----------
    X : DataFrame
        Any feature table: numeric and categorical (text) columns, missing values allowed —
        a :func:`churn_dataset` result or a plain customer table. Date columns and
        identifier-like text columns are left out (with a warning).
    y : Series, array or str
        The 0/1 churn target aligned with X, or the name of a column of X.
    cutoffs : array-like, optional
        Each row's cutoff date. Default: the ``cutoff`` index level when X has one. With cutoffs
        the evaluation is **out of time**: for each cutoff in turn, models are trained only on
        cutoffs whose label horizon ends on or before it, and tested on it (rolling forward).
        Rows without a label (NaN) are then scoring rows and are left out (counted). Without
        cutoffs: stratified ``n_splits``-fold cross-validation, and a missing label is an error.
    horizon : str, optional
        Label horizon; default ``X.attrs["horizon"]`` from :func:`churn_dataset`.
    n_boot : int
        Bootstrap replicates over customers for the CIs.
    select : str
        Held-out metric choosing the returned model: ``"log_loss"`` (default; rewards ranking
        and calibration, both needed to value a campaign), ``"roc_auc"``, ``"pr_auc"`` or
        ``"brier"``.
    random_state : int

    Returns
    -------
    ModelComparison
        ``.table``: one row per model with ``roc_auc``, ``pr_auc``, ``base_rate`` (%),
        ``brier``, ``log_loss``, ``lift_at_10pct``, each with ``*_ci_low``/``*_ci_high``, and
        ``fit_seconds``; ``.model_``: the chosen model refitted on all labelled rows.

    Examples
    --------
    >>> import cxkit
    >>> X, y = cxkit.churn_dataset(cxkit.load_sample(), "MS")
    >>> result = cxkit.compare_models(X, y, n_boot=50)
    >>> list(result.table.index)
    ['logistic', 'boosting']
    """
    source = "compare_models()"
    if not isinstance(X, pd.DataFrame):
        raise _bad(source, "X", "a DataFrame of features", [type(X).__name__])
    if len(X) == 0:
        raise _bad(source, "X", "at least one row of features; X is empty", [0])
    if select not in ("log_loss", "roc_auc", "pr_auc", "brier"):
        raise _bad(source, "select", "one of log_loss, roc_auc, pr_auc, brier", [select])
    X, y = _as_target(y, X, source)
    if cutoffs is None and "cutoff" in (X.index.names or []):
        cut = pd.DatetimeIndex(X.index.get_level_values("cutoff"))
    elif cutoffs is not None:
        cut = pd.DatetimeIndex(pd.to_datetime(np.asarray(cutoffs)))
        if len(cut) != len(X):
            raise _bad(source, "cutoffs", f"one cutoff per row of X ({len(X)})", [len(cut)])
    else:
        cut = None
    y = _check_target(y, allow_missing=cut is not None, source=source)
    labelled = y.notna().to_numpy()
    Xp, dropped = _prepare(X, source)
    groups = _groups(X)

    if cut is not None:
        h = horizon if horizon is not None else X.attrs.get("horizon")
        if h is None:
            raise _bad(
                source,
                "horizon",
                "the label horizon (e.g. '30D') when rows carry "
                "cutoffs; churn_dataset results carry it",
            )
        h = duration(h, "horizon", "compare_models")
        splits, skipped = _out_of_time_splits(cut, labelled, y.to_numpy(), h, n_splits)
        if not splits:
            raise DataError(
                source,
                [
                    {
                        "column": "cutoffs",
                        "expected": "at least two cutoffs "
                        f"more than the horizon ({h}) apart with known labels, so "
                        "that an earlier one can train for a later one",
                    }
                ],
            )
        evaluation = "out of time"
    else:
        from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

        yy = y.to_numpy().astype(int)
        if len(np.unique(groups)) < len(groups):
            kf = StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state)
            it = kf.split(Xp, yy, groups)
        else:
            kf = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
            it = kf.split(Xp, yy)
        splits = [{"train": tr, "test": te, "cutoff": None} for tr, te in it]
        skipped = []
        evaluation = f"{n_splits}-fold cross-validation"

    from sklearn.base import clone

    protos = _pipelines(Xp, random_state)
    yv = y.to_numpy()
    test_rows = np.concatenate([s["test"] for s in splits])
    probs = {name: np.empty(len(test_rows)) for name in protos}
    fit_seconds = dict.fromkeys(protos, 0.0)
    pos = 0
    for f, split in enumerate(splits):
        tr, te = split["train"], split["test"]
        split["models"] = {}
        split["fold"] = f
        for name, proto in protos.items():
            model = clone(proto)
            t0 = time.perf_counter()
            with _fitting():
                model.fit(Xp.iloc[tr], yv[tr].astype(int))
            fit_seconds[name] += time.perf_counter() - t0
            probs[name][pos : pos + len(te)] = model.predict_proba(Xp.iloc[te])[:, 1]
            split["models"][name] = model
        pos += len(te)
    y_test = yv[test_rows].astype(int)
    fold_of = np.concatenate([np.full(len(s["test"]), i) for i, s in enumerate(splits)])
    g_test = groups[test_rows]

    # the base-rate predictor each split could have used: its training churn rate
    base_pred = np.concatenate([np.full(len(s["test"]), yv[s["train"]].mean()) for s in splits])
    rng = np.random.default_rng(random_state)
    preds = {**probs, "_base": base_pred}
    point = {n: _metrics(p, y_test) for n, p in preds.items()}
    boot = _bootstrap(preds, y_test, g_test, n_boot, rng)
    metrics = ("roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10pct", "brier_skill")
    for n in preds:  # skill vs the base-rate predictor, paired on the same customers
        point[n]["brier_skill"] = 1 - point[n]["brier"] / point["_base"]["brier"]
        if n_boot:
            boot[n]["brier_skill"] = 1 - boot[n]["brier"] / boot["_base"]["brier"]
    table = []
    for name in protos:
        row = {
            "model": name,
            "n": len(y_test),
            "churners": int(y_test.sum()),
            "base_rate": 100 * y_test.mean(),
        }
        for metric in metrics:
            row[metric] = float(point[name][metric][0])
            lo, hi = (
                np.nanpercentile(boot[name][metric], [2.5, 97.5]) if n_boot else (np.nan, np.nan)
            )
            row[f"{metric}_ci_low"], row[f"{metric}_ci_high"] = float(lo), float(hi)
        row["fit_seconds"] = fit_seconds[name]
        table.append(row)
    table = pd.DataFrame(table).set_index("model")
    order = ["n", "churners", "base_rate"] + [
        f"{m}{s}" for m in metrics for s in ("", "_ci_low", "_ci_high")
    ]
    table = table[order + ["fit_seconds"]]
    ascending = select in ("log_loss", "brier")
    best = table[select].sort_values(ascending=ascending).index[0]

    final = clone(protos[best])
    with _fitting():
        final.fit(Xp[labelled], yv[labelled].astype(int))
    preds = pd.DataFrame(
        {
            "churned": y_test,
            "fold": fold_of,
            "group": g_test,
            **{f"p_{n}": probs[n] for n in protos},
        },
        index=X.index[test_rows],
    )
    family = {c: X.attrs.get("feature_family", {}).get(c, c) for c in Xp.columns}
    reference = {
        c: (
            Xp.loc[labelled, c].mode(dropna=True).iloc[0]
            if isinstance(Xp[c].dtype, pd.CategoricalDtype)
            else float(Xp.loc[labelled, c].median())
        )
        for c in Xp.columns
    }
    spec = None
    if X.attrs.get("source") == "churn_dataset":
        spec = {k: X.attrs[k] for k in ("lookback", "horizon", "recent", "static", "families")}
    notes = {
        "rows": len(X),
        "rows_unlabelled": int((~labelled).sum()),
        "rows_evaluated": len(test_rows),
        "dropped_columns": dropped,
        "skipped_cutoffs": skipped,
        "select": select,
    }
    table.attrs = jsonable({"evaluation": evaluation, **notes})
    return ModelComparison(
        table=table,
        best_=best,
        model_=final,
        predictions_=preds,
        folds_=splits,
        X_=Xp,
        y_=y,
        evaluation_=evaluation,
        features_=list(Xp.columns),
        family_=family,
        reference_=reference,
        spec_=spec,
        notes_=notes,
    )


def _groups(X):
    if "customer_id" in (X.index.names or []):
        ids = X.index.get_level_values("customer_id")
    elif "customer_id" in X.columns:
        ids = X["customer_id"]
    else:
        return np.arange(len(X))
    return pd.factorize(np.asarray(ids, dtype=object))[0]


def _out_of_time_splits(cut, labelled, y, horizon, n_splits):
    """Rolling forward: test on each cutoff, train on cutoffs whose horizon has ended by then."""
    splits, skipped = [], []
    cv = cut.to_numpy()
    ends = cv + horizon.to_timedelta64()
    for c in np.unique(cv[labelled])[::-1]:  # latest first; the last n_splits usable ones
        if len(splits) == n_splits:
            break
        test = np.flatnonzero(labelled & (cv == c))
        train = np.flatnonzero(labelled & (ends <= c))
        if len(train) == 0 or len(np.unique(y[train])) < 2 or len(np.unique(y[test])) < 2:
            skipped.append(str(pd.Timestamp(c).date()))
            continue
        splits.append({"train": train, "test": test, "cutoff": pd.Timestamp(c)})
    return splits[::-1], skipped[::-1]


# --- metrics, vectorised over bootstrap weights ----------------------------------------------


def _metrics(p, y, W=None):
    """Held-out metrics of probabilities ``p`` (n) for outcomes ``y``, under row weights ``W``
    (B×n bootstrap weights, or None for the plain estimate → arrays of length 1).

    Ties in the scores are handled as scikit-learn does (ROC AUC and average precision match
    ``roc_auc_score`` / ``average_precision_score`` with ``sample_weight``)."""
    p = np.asarray(p, float).ravel()
    W = np.ones((1, len(p))) if W is None else W
    yf = np.asarray(y, float)
    order = np.argsort(-p, kind="stable")
    ps = p[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    out = {
        k: np.empty(W.shape[0])
        for k in ("roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10pct")
    }
    for b0 in range(0, W.shape[0], 64):  # blocks of replicates bound memory
        Wb = W[b0 : b0 + 64]
        _fill(out, b0, Wb[:, order], yf[order], starts, p, Wb, yf)
    return out


def _fill(out, b0, Ws, ys, starts, P, W, y):
    wp = np.add.reduceat(Ws * ys, starts, axis=1)
    wn = np.add.reduceat(Ws * (1 - ys), starts, axis=1)
    tp, fp = np.cumsum(wp, 1), np.cumsum(wn, 1)
    pos, neg = tp[:, -1], fp[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (wn * (tp - wp / 2)).sum(1) / (pos * neg)
        prec = np.where(tp + fp > 0, tp / (tp + fp), 0)
        ap = (wp * prec).sum(1) / pos
        total = Ws.sum(1)
        cw = np.cumsum(Ws, 1)
        top = (cw - Ws) < 0.1 * total[:, None] - 1e-9
        lift = ((Ws * ys * top).sum(1) / (Ws * top).sum(1)) / (pos / total)
        p = np.clip(P, 1e-15, 1 - 1e-15)
        brier = (W * (p - y) ** 2).sum(1) / W.sum(1)
        ll = -(W * (y * np.log(p) + (1 - y) * np.log(1 - p))).sum(1) / W.sum(1)
    sl = slice(b0, b0 + Ws.shape[0])
    out["roc_auc"][sl], out["pr_auc"][sl], out["lift_at_10pct"][sl] = auc, ap, lift
    out["brier"][sl], out["log_loss"][sl] = brier, ll


def _boot_weights(groups, n_boot, rng):
    """Cluster-bootstrap weights: each customer drawn with replacement; rows weighted by how
    often their customer was drawn (B × n)."""
    codes, uniq = pd.factorize(groups)
    G = len(uniq)
    counts = rng.multinomial(G, np.full(G, 1 / G), size=n_boot).astype(np.float64)
    return counts[:, codes]


def _bootstrap(preds, y, groups, n_boot, rng, block=50):
    """Metrics of every prediction vector under the same cluster-bootstrap replicates (paired),
    in blocks of replicates so memory stays bounded."""
    out = {n: {} for n in preds}
    if not n_boot:
        return out
    codes, uniq = pd.factorize(groups)
    G = len(uniq)
    parts = {n: [] for n in preds}
    for b0 in range(0, n_boot, block):
        counts = rng.multinomial(G, np.full(G, 1 / G), size=min(block, n_boot - b0))
        W = counts[:, codes].astype(np.float64)
        for n, p in preds.items():
            parts[n].append(_metrics(p, y, W))
    for n in preds:
        out[n] = {m: np.concatenate([d[m] for d in parts[n]]) for m in parts[n][0]}
    return out


# --------------------------------------------------------------------------------------------
# diagnostics
# --------------------------------------------------------------------------------------------


def _pred_columns(result):
    return [c for c in result.predictions_.columns if c.startswith("p_")]


def calibration_table(result, *, n_bins=10):
    """Reliability curve: predicted vs observed churn in bins of predicted risk (held out).

    Returns
    -------
    DataFrame
        ``model``, ``bin``, ``n``, ``predicted`` (mean predicted %), ``observed`` (%),
        ``ci_low``, ``ci_high`` (Wilson 95% on ``observed``).

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.churn import calibration_table
    >>> X, y = cxkit.churn_dataset(cxkit.load_sample(), "MS")
    >>> calibration_table(cxkit.compare_models(X, y, n_boot=0)).columns[0]
    'model'
    """
    pr = result.predictions_
    out = []
    for col in _pred_columns(result):
        p = pr[col].to_numpy()
        edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
        b = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
        g = pd.DataFrame({"b": b, "p": p, "y": pr["churned"].to_numpy()}).groupby("b")
        t = g.agg(n=("y", "size"), predicted=("p", "mean"), k=("y", "sum")).reset_index()
        lo, hi = _wilson(t["k"].to_numpy(), t["n"].to_numpy())
        out.append(
            pd.DataFrame(
                {
                    "model": col[2:],
                    "bin": t["b"] + 1,
                    "n": t["n"],
                    "predicted": 100 * t["predicted"],
                    "observed": 100 * t["k"] / t["n"],
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def gains_table(result, *, points=20):
    """Cumulative gains and lift: share of churners reached by contacting the top x% (held out).

    Returns
    -------
    DataFrame
        ``model``, ``pct_contacted``, ``pct_churners_reached``, ``lift`` (reached ÷ contacted).
    """
    pr = result.predictions_
    y = pr["churned"].to_numpy()
    out = []
    grid = np.linspace(0, 100, points + 1)
    for col in _pred_columns(result):
        order = np.argsort(-pr[col].to_numpy(), kind="stable")
        cum = np.r_[0, np.cumsum(y[order])] / max(y.sum(), 1)
        k = np.round(grid / 100 * len(y)).astype(int)
        reached = 100 * cum[k]
        with np.errstate(divide="ignore", invalid="ignore"):
            lift = np.where(grid > 0, reached / grid, np.nan)
        out.append(
            pd.DataFrame(
                {
                    "model": col[2:],
                    "pct_contacted": grid,
                    "pct_churners_reached": reached,
                    "lift": lift,
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def driver_importance(result, *, model=None, n_repeats=3, n_boot=200, random_state=0):
    """Which feature families drive the predictions: grouped permutation importance, held out.

    All features of a family (e.g. every count of one touchpoint) are permuted together, in the
    held-out rows of each split, with the model that never saw them; importance is the drop in
    ROC AUC. CIs: bootstrap over customers of that drop (the same customers for the model with
    and without the family).

    Returns
    -------
    DataFrame
        One row per family, strongest first: ``family``, ``importance`` (AUC drop),
        ``ci_low``, ``ci_high``, ``rank``, ``features`` (how many), ``words``.

    Examples
    --------
    >>> import cxkit
    >>> from cxkit.churn import driver_importance
    >>> X, y = cxkit.churn_dataset(cxkit.load_sample(), "MS")
    >>> imp = driver_importance(cxkit.compare_models(X, y, n_boot=0), n_boot=50)
    >>> imp.columns[0]
    'family'
    """
    name = model or result.best_
    rng = np.random.default_rng(random_state)
    Xp = result.X_
    families = pd.Series(result.family_)
    fam_names = list(dict.fromkeys(families.to_numpy()))
    pr = result.predictions_
    y = pr["churned"].to_numpy()
    base = pr[f"p_{name}"].to_numpy()
    perm = np.empty((len(fam_names), n_repeats, len(y)))
    with _fitting():
        pos = 0
        for split in result.folds_:
            te = split["test"]
            Xt = Xp.iloc[te]
            fitted = split["models"][name]
            copies = []
            for fam in fam_names:
                cols = list(families.index[families == fam])
                for _ in range(n_repeats):
                    shuffled = Xt.copy()
                    order = rng.permutation(len(Xt))
                    for c in cols:  # one permutation for the whole family
                        shuffled[c] = Xt[c].iloc[order].set_axis(Xt.index)
                    copies.append(shuffled)
            # one prediction call per split (per-call overhead dominates on small tables)
            p = fitted.predict_proba(pd.concat(copies, ignore_index=True))[:, 1]
            perm[:, :, pos : pos + len(te)] = p.reshape(len(fam_names), n_repeats, len(te))
            pos += len(te)
    W = _boot_weights(pr["group"].to_numpy(), n_boot, rng) if n_boot else np.ones((1, len(y)))
    base_auc = _metrics(base, y, W)["roc_auc"]
    base_point = _metrics(base, y)["roc_auc"][0]
    rows = []
    for f, fam in enumerate(fam_names):
        drops_b = np.zeros(W.shape[0])
        point = 0.0
        for r in range(n_repeats):
            drops_b += base_auc - _metrics(perm[f, r], y, W)["roc_auc"]
            point += base_point - _metrics(perm[f, r], y)["roc_auc"][0]
        drops_b /= n_repeats
        lo, hi = np.percentile(drops_b, [2.5, 97.5]) if n_boot else (np.nan, np.nan)
        rows.append(
            {
                "family": fam,
                "importance": point / n_repeats,
                "ci_low": lo,
                "ci_high": hi,
                "features": int((families == fam).sum()),
                "words": FAMILY_WORDS.get(fam, fam.replace("_", " ")),
            }
        )
    out = pd.DataFrame(rows).sort_values("importance", ascending=False, kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    out = out.reset_index(drop=True)[
        ["family", "importance", "ci_low", "ci_high", "rank", "features", "words"]
    ]
    out.attrs = jsonable(
        {"model": name, "metric": "drop in ROC AUC", "baseline_roc_auc": base_point}
    )
    return out


def drivers_in_words(importance, *, top=5):
    """The strongest drivers as plain sentences (only those whose CI excludes zero).

    Examples
    --------
    >>> import pandas as pd
    >>> from cxkit.churn import drivers_in_words
    >>> imp = pd.DataFrame({"family": ["support"], "importance": [0.05], "ci_low": [0.03],
    ...                     "ci_high": [0.07], "words": ["support contacts"]})
    >>> drivers_in_words(imp)[0][:16]
    'Support contacts'
    """
    out = []
    strong = (
        importance[importance["ci_low"] > 0]
        if importance["ci_low"].notna().any()
        else importance[importance["importance"] > 0]
    )
    for _, row in strong.head(top).iterrows():
        words = str(row["words"])
        out.append(
            f"{words[:1].upper()}{words[1:]}: without it the model ranks churners "
            f"{row['importance']:.3f} worse in ROC AUC (95% CI {row['ci_low']:.3f} to "
            f"{row['ci_high']:.3f})."
        )
    return out


# --------------------------------------------------------------------------------------------
# scoring today and the value of a campaign
# --------------------------------------------------------------------------------------------


def score(journey, model, at=None, *, reasons=3):
    """Churn probability of every active customer at ``at``, with their top reasons.

    Parameters
    ----------
    journey : Journey
    model : ModelComparison
        A :func:`compare_models` result fitted on :func:`churn_dataset` features; the same
        feature settings (lookback, horizon, attributes) are used.
    at : date, optional
        When to score; default ``journey.observed_at`` (today's data).
    reasons : int
        How many reasons per customer.

    Returns
    -------
    DataFrame
        One row per active customer, riskiest first: ``customer_id``, ``churn_probability``
        (0–1, within the model's horizon), ``risk_rank``, ``reason_1`` … (feature families that
        raise this customer's risk most compared with a typical customer, in words) and
        ``reason_1_pts`` … (how many percentage points each adds). Ready for ``to_csv``.

    Examples
    --------
    >>> import cxkit
    >>> j = cxkit.load_sample()
    >>> X, y = cxkit.churn_dataset(j, "MS")
    >>> scores = cxkit.score(j, cxkit.compare_models(X, y, n_boot=0))
    >>> scores.columns[:3].tolist()
    ['customer_id', 'churn_probability', 'risk_rank']
    """
    source = "score()"
    if not isinstance(model, ModelComparison) or model.spec_ is None:
        raise _bad(
            source,
            "model",
            "a compare_models() result fitted on churn_dataset() features",
            [type(model).__name__],
        )
    _need_journey(journey, "score")
    at = pd.Timestamp(journey.observed_at) if at is None else moment(at, "at", "score")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, _ = churn_dataset(journey, [at], **model.spec_)
    Xs = _align(X, model)
    with _fitting():
        p, D = _reasons(model, Xs)
    out = pd.DataFrame(
        {"customer_id": X.index.get_level_values("customer_id"), "churn_probability": p}
    )
    if reasons and D.shape[1]:
        top = np.argsort(-D.to_numpy(), axis=1, kind="stable")[:, :reasons]
        names = np.array([FAMILY_WORDS.get(f, f.replace("_", " ")) for f in D.columns])
        vals = np.take_along_axis(D.to_numpy(), top, axis=1)
        for i in range(top.shape[1]):
            ok = vals[:, i] > 0
            out[f"reason_{i + 1}"] = np.where(ok, names[top[:, i]], "")
            out[f"reason_{i + 1}_pts"] = np.where(ok, np.round(100 * vals[:, i], 1), 0.0)
    out = out.sort_values("churn_probability", ascending=False, kind="stable")
    out.insert(2, "risk_rank", np.arange(1, len(out) + 1))
    out = out.reset_index(drop=True)
    out.attrs = jsonable(
        {
            "at": str(at),
            "horizon": model.spec_["horizon"],
            "model": model.best_,
            "customers": len(out),
        }
    )
    return out


def _reasons(model, Xs):
    """Probability, and per family how much it falls when that family is set to a typical
    customer's values (training medians / most frequent levels)."""
    p = model.model_.predict_proba(Xs)[:, 1]
    fams = pd.Series(model.family_)
    deltas = {}
    for fam in dict.fromkeys(fams.to_numpy()):
        ref = Xs.copy()
        for c in fams.index[fams == fam]:
            value = model.reference_[c]
            if isinstance(Xs[c].dtype, pd.CategoricalDtype):
                ref[c] = pd.Categorical([value] * len(ref), dtype=Xs[c].dtype)
            else:
                ref[c] = value
        deltas[fam] = p - model.model_.predict_proba(ref)[:, 1]
    return p, pd.DataFrame(deltas)


def _align(X, model):
    """X in the columns and categories the model was trained with (counts absent today = 0)."""
    out = pd.DataFrame(index=X.index)
    for c in model.features_:
        train = model.X_[c]
        if c in X.columns:
            s = X[c]
        elif c.startswith(("n_", "spend_", "support_contacts_")):
            s = pd.Series(0.0, index=X.index)
        else:
            s = pd.Series(np.nan, index=X.index)
        if isinstance(train.dtype, pd.CategoricalDtype):
            out[c] = pd.Categorical(s.astype("string").astype(object), dtype=train.dtype)
        else:
            out[c] = s.astype(float)
    return out


def _numbers(values, argument, source):
    """Values as a float array; text, dates and bools-as-text refused with the argument named."""
    if isinstance(values, (pd.Series, pd.Index)) and pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    a = np.asarray(values)
    if a.dtype.kind not in "biuf":
        raise _bad(
            source,
            argument,
            "numbers (not text)",
            [str(v) for v in np.ravel(a)[:3]] or [type(values).__name__],
        )
    return a.astype(float)


def campaign_value(scores, y=None, *, contact_cost, offer_cost, offer_success, customer_value):
    """Expected profit of a retention campaign by how many top-ranked customers are contacted.

    Contacting a customer costs ``contact_cost``; everyone contacted gets the offer and its
    ``offer_cost`` is counted for all of them, including those who would have stayed anyway.
    A churner who is contacted stays with probability ``offer_success``, which earns
    ``customer_value`` — their expected *remaining* value (e.g. restricted mean remaining
    lifetime × margin), not what they spent in the past.

    Parameters
    ----------
    scores : array-like, Series or DataFrame
        Churn probabilities (0–1); customers are contacted from the highest down. A DataFrame
        (e.g. the result of :func:`score`) is read through its ``churn_probability`` column.
    y : array-like, optional
        Observed churn (0/1) of the same customers on held-out data: the profit is then what
        the campaign would really have earned. Without it the probabilities are taken as the
        expected churn (scoring today).
    contact_cost, offer_cost : float
        Cost per contacted customer of reaching them and of the offer.
    offer_success : float
        Share (0–1) of contacted churners whom the offer keeps.
    customer_value : float or array-like
        Expected remaining value of keeping a customer (one number, or one per customer).

    Returns
    -------
    DataFrame
        One row per depth: ``n_contacted``, ``pct_contacted``, ``churners_reached``,
        ``customers_saved``, ``cost``, ``value_saved``, ``profit``. ``.attrs["best"]`` holds the
        best depth (``n_contacted``, ``pct_contacted``, ``profit``).

    Examples
    --------
    >>> from cxkit.churn import campaign_value
    >>> cv = campaign_value([0.9, 0.5, 0.1], [1, 0, 0], contact_cost=1, offer_cost=4,
    ...                     offer_success=0.5, customer_value=100)
    >>> cv.attrs["best"]["n_contacted"]
    1
    """
    source = "campaign_value()"
    if isinstance(scores, pd.DataFrame):
        if "churn_probability" not in scores.columns:
            raise DataError(
                source,
                [
                    {
                        "column": "scores",
                        "expected": "churn probabilities: a Series/array, or a DataFrame with "
                        "a churn_probability column (as cxkit.score returns)",
                    }
                ],
                columns=scores.columns,
            )
        scores = scores["churn_probability"]
    p = _numbers(scores, "scores", source)
    if p.ndim != 1 or len(p) == 0 or np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise _bad(source, "scores", "churn probabilities between 0 and 1, none missing")
    contact_cost = _amount(contact_cost, "contact_cost", source, expected="a number of 0 or more")
    offer_cost = _amount(offer_cost, "offer_cost", source, expected="a number of 0 or more")
    offer_success = _amount(
        offer_success, "offer_success", source, high=1.0, expected="a number between 0 and 1"
    )
    value = _numbers(customer_value, "customer_value", source)
    if value.ndim > 1 or value.size not in (1, len(p)):
        raise _bad(
            source, "customer_value", f"one number, or one per customer ({len(p)})", [value.size]
        )
    value = np.broadcast_to(value.reshape(-1) if value.ndim else value, p.shape)
    if not np.isfinite(value).all():
        raise _bad(source, "customer_value", "a value for every customer")
    if y is not None:
        outcome = _numbers(y, "y", source)
        if outcome.shape != p.shape or not np.isin(outcome, (0, 1)).all():
            raise _bad(source, "y", f"{len(p)} observed 0/1 outcomes, none missing")
    else:
        outcome = p
    order = np.argsort(-p, kind="stable")
    churn = np.r_[0, np.cumsum(outcome[order])]
    saved_value = np.r_[0, np.cumsum(outcome[order] * offer_success * value[order])]
    n = np.arange(len(p) + 1)
    cost = n * (contact_cost + offer_cost)
    profit = saved_value - cost
    out = pd.DataFrame(
        {
            "n_contacted": n,
            "pct_contacted": 100 * n / len(p),
            "churners_reached": churn,
            "customers_saved": churn * offer_success,
            "cost": cost,
            "value_saved": saved_value,
            "profit": profit,
        }
    )
    best = int(np.argmax(profit))
    out.attrs = jsonable(
        {
            "best": {
                "n_contacted": best,
                "pct_contacted": 100 * best / len(p),
                "profit": float(profit[best]),
            },
            "realised": y is not None,
        }
    )
    return out

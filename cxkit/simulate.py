"""A seeded simulator of customer journeys with known ground truth.

The generative model, in the order it runs (every number is a parameter and lands in the truth):

1. **Prospects.** Each person gets an acquisition channel (ads, social, email, referral, organic)
   and a device (desktop, mobile, tablet), and one awareness touchpoint (``ad_click``,
   ``social_click``, ``email_click``, ``referral_visit``, ``organic_search``) at a uniform time
   in ``[start, end]``.
2. **Buyer funnel.** awareness → ``site_visit`` → ``product_view`` → ``add_to_cart`` →
   ``checkout`` → ``purchase``. Each step is taken with probability
   ``base[step] × channel_multiplier[channel][step]``, times ``pain_point["factor"]`` for the
   people in the pain-point segment at the pain-point step (default: mobile, checkout →
   purchase at 0.45×). Delays between steps are log-normal (minutes to a day). Some people
   who drop off do something else next: ``help_center``, ``contact_chat`` or a repeat
   ``site_visit`` — the pain-point droppers far more often ask for help.
3. **Customers.** A purchase before ``end`` makes the person a customer; ``signup_at`` is that
   first purchase. Plan (monthly / annual), region (no effect) are drawn at signup.
4. **After signup** (all stop at churn or ``end``): ``onboarding_complete``; ``app_login``
   (a person-specific rate, gamma-distributed with a coefficient of variation of 0.35, that
   falls to 20% once the customer becomes *disengaged*, a latent state entered after an
   exponential time), ``email_open``, ``whatsapp_message``, repeat
   ``purchase`` events with values; ``support_ticket`` events (Poisson).
5. **Surveys.** CSAT after the first purchase (lower in the pain-point segment), after
   onboarding and after each support ticket (with CES); NPS every ~90 days, lower when the
   customer had support tickets in the last 30 days.
6. **Churn** from a proportional-hazards model, simulated exactly for a piecewise-constant
   hazard on a daily grid: hazard = baseline (flat by default) × HR(plan) × HR(channel) × HR_ticket^(tickets in
   the last 30 days) × HR_detractor^(latest NPS answer ≤ 6) × HR_disengaged^(disengaged).
   Customers still active at ``end`` are right-censored.

Everything is vectorized over people: the only Python loops run over funnel steps and days.

Examples
--------
>>> import cxkit
>>> journey, truth = cxkit.simulate(customers=300, seed=1)
>>> truth["funnel"]["pain_point"]["step"]
'purchase'
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .data import journey_from_tables

__all__ = ["simulate", "write_sample", "FUNNEL_STEPS", "AWARENESS_EVENTS"]

CHANNELS = {"ads": 0.30, "social": 0.25, "email": 0.15, "referral": 0.10, "organic": 0.20}
DEVICES = {"desktop": 0.45, "mobile": 0.45, "tablet": 0.10}
AWARENESS_EVENTS = {
    "ads": "ad_click",
    "social": "social_click",
    "email": "email_click",
    "referral": "referral_visit",
    "organic": "organic_search",
}
FUNNEL_STEPS = ["awareness", "site_visit", "product_view", "add_to_cart", "checkout", "purchase"]
BASE_STEP_PROBABILITY = {
    "site_visit": 0.70,
    "product_view": 0.62,
    "add_to_cart": 0.40,
    "checkout": 0.62,
    "purchase": 0.80,
}
CHANNEL_MULTIPLIER = {
    "ads": {"site_visit": 0.85, "add_to_cart": 0.90},
    "social": {"site_visit": 0.80, "product_view": 0.90},
    "email": {"site_visit": 1.15},
    "referral": {"site_visit": 1.20, "add_to_cart": 1.25},
    "organic": {},
}
#: median delay (hours) and log-normal sigma of each step after the previous one
STEP_DELAY = {
    "site_visit": (0.3, 1.0),
    "product_view": (0.05, 0.8),
    "add_to_cart": (2.0, 1.2),
    "checkout": (6.0, 1.3),
    "purchase": (0.2, 1.0),
}
DEFAULT_PAIN_POINT = {"device": "mobile", "step": "purchase", "factor": 0.45}
DEFAULT_DRIVERS = {
    "plan": {"annual": 0.5},
    "acquisition_channel": {"ads": 1.5, "social": 1.25, "email": 1.0, "referral": 0.7},
    "support_tickets_30d": 1.5,
    "detractor": 2.0,
    "disengaged": 2.5,
}
PLAN_ANNUAL_SHARE = 0.3
REGIONS = ["north", "south", "east", "west"]
#: per-day rates after signup
RATES = {
    "app_login": 12 / 30,
    "email_open": 1.5 / 30,
    "whatsapp_message": 0.5 / 30,
    "purchase": 1 / 60,
    "support_ticket": 0.02,
}
DISENGAGED_LOGIN_FACTOR = 0.2
MEAN_DAYS_TO_DISENGAGE = 200.0
BASELINE_DAILY_HAZARD = 0.0012
EARLY_HAZARD_FACTOR = 1.0  # baseline × this in the first 60 days (1 = flat)
NPS_EVERY_DAYS = 90
NPS_RESPONSE_RATE = 0.45


def _p_table(pain_point):
    """Step probabilities as an array [channel, device, step(1..5)]."""
    chans, devs = list(CHANNELS), list(DEVICES)
    steps = FUNNEL_STEPS[1:]
    p = np.empty((len(chans), len(devs), len(steps)))
    for ci, c in enumerate(chans):
        for di, d in enumerate(devs):
            for si, s in enumerate(steps):
                v = BASE_STEP_PROBABILITY[s] * CHANNEL_MULTIPLIER[c].get(s, 1.0)
                seg_col = "device" if "device" in pain_point else "channel"
                seg_val = pain_point[seg_col]
                mine = d if seg_col == "device" else c
                if s == pain_point["step"] and mine == seg_val:
                    v *= pain_point["factor"]
                p[ci, di, si] = min(v, 0.98)
    return p


def _expected_rates(p):
    """Exact expected step rates (P(step k | reached k-1)) overall, by device and by channel."""
    w_c = np.array(list(CHANNELS.values()))
    w_d = np.array(list(DEVICES.values()))
    w = w_c[:, None] * w_d[None, :]
    reach_prev = np.concatenate(
        [np.ones(p.shape[:2] + (1,)), np.cumprod(p, axis=2)[..., :-1]], axis=2
    )
    steps = FUNNEL_STEPS[1:]

    def rate(weights, axis_keep):
        num = weights[..., None] * reach_prev * p
        den = weights[..., None] * reach_prev
        if axis_keep is None:
            return num.sum(axis=(0, 1)) / den.sum(axis=(0, 1))
        other = 1 - axis_keep
        return num.sum(axis=other) / den.sum(axis=other)

    overall = rate(w, None)
    by_dev = rate(w, 1)
    by_chan = rate(w, 0)
    out = {
        "overall": dict(zip(steps, overall.round(6).tolist(), strict=False)),
        "device": {
            d: dict(zip(steps, by_dev[i].round(6).tolist(), strict=False))
            for i, d in enumerate(DEVICES)
        },
        "channel": {
            c: dict(zip(steps, by_chan[i].round(6).tolist(), strict=False))
            for i, c in enumerate(CHANNELS)
        },
    }
    return out, float((w * np.prod(p, axis=2)).sum())


def _validate(pain_point, drivers):
    from .data import DataError

    seg = [k for k in pain_point if k in ("device", "channel")]
    problems = []
    if len(seg) != 1:
        problems.append(
            {
                "column": "pain_point",
                "expected": "exactly one of 'device' or "
                f"'channel' as the segment; got {sorted(pain_point)}",
            }
        )
    elif pain_point[seg[0]] not in (DEVICES if seg[0] == "device" else CHANNELS):
        problems.append(
            {"column": "pain_point", "expected": f"a known {seg[0]}; got {pain_point[seg[0]]!r}"}
        )
    if pain_point.get("step") not in FUNNEL_STEPS[1:]:
        problems.append(
            {
                "column": "pain_point",
                "expected": "step in "
                + ", ".join(FUNNEL_STEPS[1:])
                + f"; got {pain_point.get('step')!r}",
            }
        )
    unknown = set(drivers) - set(DEFAULT_DRIVERS)
    if unknown:
        problems.append(
            {
                "column": "drivers",
                "expected": "keys among "
                + ", ".join(DEFAULT_DRIVERS)
                + f"; got {sorted(unknown)}",
            }
        )
    if problems:
        raise DataError("simulate()", problems)


#: Fewer expected customers leave some seeds with none at all (nothing to analyse).
MIN_CUSTOMERS = 10


def _check_size(customers, seed):
    from .data import DataError

    problems = []
    whole = isinstance(customers, (int, np.integer)) and not isinstance(customers, bool)
    if not whole or customers < MIN_CUSTOMERS:
        problems.append(
            {
                "column": "customers",
                "expected": f"a whole number of at least {MIN_CUSTOMERS}",
                "rows": 1,
                "examples": [customers],
            }
        )
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        problems.append(
            {
                "column": "seed",
                "expected": "a whole number, 0 or more",
                "rows": 1,
                "examples": [seed],
            }
        )
    if problems:
        raise DataError("simulate()", problems)


def simulate(
    customers=3000,
    seed=7,
    *,
    start="2024-01-01",
    end="2025-06-30",
    pain_point=None,
    drivers=None,
    progress=False,
):
    """Simulate a whole customer journey with known ground truth.

    Parameters
    ----------
    customers : int
        Expected number of customers, at least :data:`MIN_CUSTOMERS`; the number of prospects
        is chosen so that the funnel converts about this many (the realised number varies
        with the seed).
    seed : int
        Seed of the only random generator used (a whole number, 0 or more); the same seed
        gives identical tables.
    start, end : str or Timestamp
        Observation period. Entries are uniform over it; everything is censored at ``end``.
    pain_point : dict, optional
        ``{"device": "mobile", "step": "purchase", "factor": 0.45}``: the step (the one entered
        from the previous step) whose probability is multiplied by ``factor`` for the segment
        (``device`` or ``channel``).
    drivers : dict, optional
        Hazard ratios overriding :data:`DEFAULT_DRIVERS`: ``plan`` and ``acquisition_channel``
        (dicts of level → HR vs monthly / organic), ``support_tickets_30d`` (per ticket in the
        last 30 days), ``detractor`` (latest NPS answer 0–6), ``disengaged``.
    progress : bool
        Print progress of the daily churn loop (useful for millions of customers).

    Returns
    -------
    journey : Journey
    truth : dict
        Every planted number, with the quantity it is; JSON-serialisable.

    Examples
    --------
    >>> import cxkit
    >>> j, truth = cxkit.simulate(customers=300, seed=3)
    >>> bool(j.customers["churned_at"].notna().any())
    True
    """
    _check_size(customers, seed)
    pain_point = dict(DEFAULT_PAIN_POINT if pain_point is None else pain_point)
    drv = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULT_DRIVERS.items()}
    for k, v in (drivers or {}).items():
        drv[k] = {**drv.get(k, {}), **v} if isinstance(v, dict) and k in drv else v
    _validate(pain_point, drivers or {})
    rng = np.random.default_rng(seed)
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    span = (t1 - t0) / pd.Timedelta(days=1)

    p = _p_table(pain_point)
    expected, p_convert = _expected_rates(p)
    n = max(int(round(customers / p_convert)), 10)

    chan = rng.choice(len(CHANNELS), size=n, p=list(CHANNELS.values()))
    dev = rng.choice(len(DEVICES), size=n, p=list(DEVICES.values()))
    entry = rng.uniform(0, span, size=n)

    # ---- funnel -------------------------------------------------------------------------
    rows = []  # (person, time_days, event, channel, value)

    def emit(who, when, event, channel, value=None):
        """Add event rows; ``event``/``channel`` are one name or one per row, value NaN."""
        size = len(who)
        rows.append(
            (
                who,
                when,
                np.broadcast_to(np.asarray(event, dtype=object), (size,)),
                np.broadcast_to(np.asarray(channel, dtype=object), (size,)),
                np.full(size, np.nan) if value is None else value,
            )
        )

    steps = FUNNEL_STEPS[1:]
    ev_names = list(AWARENESS_EVENTS.values())
    emit(np.arange(n), entry, np.array(ev_names)[chan], np.array(list(CHANNELS))[chan])
    depth = np.ones(n, dtype=int)
    t = entry.copy()
    reached = np.ones(n, bool)
    for si, s in enumerate(steps):
        go = reached & (rng.random(n) < p[chan, dev, si])
        med, sig = STEP_DELAY[s]
        t = t + np.exp(np.log(med / 24) + sig * rng.standard_normal(n))
        idx = np.flatnonzero(go)
        value = (
            np.round(np.exp(np.log(45) + 0.5 * rng.standard_normal(idx.size)), 2)
            if s == "purchase"
            else np.full(idx.size, np.nan)
        )
        emit(idx, t[idx], s, "web", value)
        depth[go] += 1
        reached = go
    purchase_t = np.where(depth == len(FUNNEL_STEPS), t, np.nan)

    # what droppers do next: the pain-point droppers ask for help far more often
    seg_col = "device" if "device" in pain_point else "channel"
    seg_idx = (list(DEVICES) if seg_col == "device" else list(CHANNELS)).index(pain_point[seg_col])
    in_seg = (dev if seg_col == "device" else chan) == seg_idx
    pain_depth = FUNNEL_STEPS.index(pain_point["step"])  # depth of those who stop just before
    dropped = (depth >= 2) & (depth < len(FUNNEL_STEPS))
    pain_drop = dropped & in_seg & (depth == pain_depth)
    does_next = dropped & (rng.random(n) < np.where(pain_drop, 0.8, 0.35))
    u = rng.random(n)
    nxt = np.where(
        pain_drop,
        np.where(u < 0.55, 0, np.where(u < 0.85, 1, 2)),
        np.where(u < 0.15, 0, np.where(u < 0.25, 1, 2)),
    )
    # time of the last step reached, re-derived from the rows
    last_t = np.full(n, np.nan)
    for idx, tt, *_ in rows:
        last_t[idx] = tt
    idx = np.flatnonzero(does_next)
    names = np.array(["help_center", "contact_chat", "site_visit"], dtype=object)[nxt[idx]]
    emit(
        idx,
        last_t[idx] + np.exp(np.log(0.25 / 24) + rng.standard_normal(idx.size)),
        names,
        np.where(names == "contact_chat", "chat", "web"),
    )

    # ---- customers ----------------------------------------------------------------------
    cust = np.flatnonzero(np.isfinite(purchase_t) & (purchase_t < span))
    m = cust.size
    signup = purchase_t[cust]
    annual = rng.random(m) < PLAN_ANNUAL_SHARE
    region = rng.integers(0, len(REGIONS), size=m)
    c_chan = chan[cust]
    lp = np.where(annual, np.log(drv["plan"].get("annual", 1.0)), 0.0)
    chan_hr = np.array([drv["acquisition_channel"].get(c, 1.0) for c in CHANNELS])
    lp = lp + np.log(chan_hr)[c_chan]
    disengage_after = rng.exponential(MEAN_DAYS_TO_DISENGAGE, size=m)
    exp_threshold = rng.exponential(1.0, size=m)
    login_rate = RATES["app_login"] * rng.gamma(8.0, 1 / 8, size=m)
    nps_first = 30 + rng.integers(0, 21, size=m)

    ticket_rows, nps_rows = [], []
    horizon = int(np.ceil(span - signup.min())) + 1 if m else 0
    buf = np.zeros((m, 30), dtype=np.int16)
    roll = np.zeros(m, dtype=np.int16)
    det = np.zeros(m, bool)
    cumhaz = np.zeros(m)
    churn_t = np.full(m, np.nan)
    alive = np.ones(m, bool)
    b_t, b_d, b_g = (
        np.log(drv["support_tickets_30d"]),
        np.log(drv["detractor"]),
        np.log(drv["disengaged"]),
    )
    for k in range(horizon):
        day0 = signup + k
        exposure = np.clip(span - day0, 0.0, 1.0)
        on = alive & (exposure > 0)
        if not on.any():
            break
        if progress and k % 60 == 0:
            print(f"simulate: day {k}/{horizon}, {on.sum():,} customers active", flush=True)
        dis = k >= disengage_after
        base = BASELINE_DAILY_HAZARD * (EARLY_HAZARD_FACTOR if k < 60 else 1.0)
        h = base * np.exp(lp + b_t * roll + b_d * det + b_g * dis)
        new = cumhaz + h * exposure
        ends = on & (new >= exp_threshold)
        churn_t[ends] = day0[ends] + (exp_threshold[ends] - cumhaz[ends]) / h[ends]
        cumhaz = np.where(on, new, cumhaz)
        alive &= ~ends
        # survey answers and tickets happen during the day; they act from the next day on
        sv = on & (k >= nps_first) & ((k - nps_first) % NPS_EVERY_DAYS == 0)
        sv &= rng.random(m) < NPS_RESPONSE_RATE
        if sv.any():
            i = np.flatnonzero(sv)
            score = np.clip(
                np.round(8.0 - 1.5 * roll[i] + 1.6 * rng.standard_normal(i.size)), 0, 10
            ).astype(int)
            nps_rows.append((i, day0[i] + rng.random(i.size), score))
            det[i] = score <= 6
        cnt = np.where(on, rng.poisson(RATES["support_ticket"], size=m), 0).astype(np.int16)
        if cnt.any():
            i = np.flatnonzero(cnt)
            i = np.repeat(i, cnt[i])
            ticket_rows.append((i, day0[i] + rng.random(i.size)))
        slot = k % 30
        roll += cnt - buf[:, slot]
        buf[:, slot] = cnt
    stop = np.where(np.isfinite(churn_t), churn_t, span)

    def keep(i, tt):
        ok = tt < stop[i]
        return i[ok], tt[ok]

    # post-purchase events
    person = cust  # customer index -> person id
    onb = rng.random(m) < 0.75
    i = np.flatnonzero(onb)
    i, tt = keep(i, signup[i] + np.exp(np.log(1.0) + 0.8 * rng.standard_normal(i.size)))
    onboard_t = np.full(m, np.nan)
    onboard_t[i] = tt
    emit(person[i], tt, "onboarding_complete", "app")

    def poisson_events(rate, a, b, name, channel, value=None):
        length = np.clip(b - a, 0, None)
        k = rng.poisson(rate * length)
        i = np.repeat(np.arange(m), k)
        tt = a[i] + rng.random(i.size) * length[i]
        emit(person[i], tt, name, channel, None if value is None else value(i.size))

    dis_at = np.minimum(signup + disengage_after, stop)
    poisson_events(login_rate, signup, dis_at, "app_login", "app")
    poisson_events(login_rate * DISENGAGED_LOGIN_FACTOR, dis_at, stop, "app_login", "app")
    poisson_events(np.full(m, RATES["email_open"]), signup, stop, "email_open", "email")
    poisson_events(
        np.full(m, RATES["whatsapp_message"]), signup, stop, "whatsapp_message", "whatsapp"
    )
    poisson_events(
        np.full(m, RATES["purchase"]),
        signup,
        stop,
        "purchase",
        "web",
        lambda size: np.round(np.exp(np.log(40) + 0.6 * rng.standard_normal(size)), 2),
    )
    ti = np.concatenate([r[0] for r in ticket_rows]) if ticket_rows else np.array([], int)
    tt = np.concatenate([r[1] for r in ticket_rows]) if ticket_rows else np.array([])
    ti, tt = keep(ti, tt)
    emit(person[ti], tt, "support_ticket", "support")

    # ---- surveys ------------------------------------------------------------------------
    srows = []  # (customer idx, time, survey, score, stage, touchpoint)

    def answers(i, tt, survey, mu, sd, lo, hi, stage, touchpoint):
        i, tt = keep(i, tt)
        mean = mu[i] if np.ndim(mu) else np.full(i.size, mu)
        score = np.clip(np.round(mean + sd * rng.standard_normal(i.size)), lo, hi).astype(int)
        srows.append((i, tt, survey, score, stage, touchpoint))

    c_in_seg = in_seg[cust]
    i = np.flatnonzero(rng.random(m) < 0.5)
    answers(
        i,
        signup[i] + np.exp(np.log(2 / 24) + rng.standard_normal(i.size)),
        "csat",
        np.where(c_in_seg, 3.4, 4.3),
        0.9,
        1,
        5,
        "purchase",
        "checkout",
    )
    i = np.flatnonzero(np.isfinite(onboard_t) & (rng.random(m) < 0.4))
    answers(
        i,
        onboard_t[i] + rng.random(i.size) / 4,
        "csat",
        4.1,
        0.9,
        1,
        5,
        "post-purchase",
        "onboarding",
    )
    sel = rng.random(ti.size) < 0.5
    answers(
        ti[sel],
        tt[sel] + rng.random(sel.sum()) / 2,
        "csat",
        3.2,
        1.1,
        1,
        5,
        "post-purchase",
        "support",
    )
    sel = rng.random(ti.size) < 0.4
    answers(
        ti[sel],
        tt[sel] + rng.random(sel.sum()) / 2,
        "ces",
        4.4,
        1.5,
        1,
        7,
        "post-purchase",
        "support",
    )
    for i, tt, score in nps_rows:
        ok = tt < stop[i]
        srows.append((i[ok], tt[ok], "nps", score[ok], "post-purchase", "relationship"))

    # ---- assemble -----------------------------------------------------------------------
    def ids(idx):
        return np.char.add("CX", np.char.zfill(idx.astype(str), 7))

    def stamp(days):
        secs = np.round(np.asarray(days, dtype=float) * 86400)
        return t0 + pd.to_timedelta(secs, unit="s")  # NaN -> NaT

    pid = np.concatenate([r[0] for r in rows])
    tdays = np.concatenate([r[1] for r in rows])
    keep_ev = tdays < span  # nothing after the end of observation
    devices = np.array(list(DEVICES), dtype=object)
    events = pd.DataFrame(
        {
            "customer_id": ids(pid[keep_ev]),
            "timestamp": stamp(tdays[keep_ev]),
            "event": np.concatenate([r[2] for r in rows])[keep_ev],
            "channel": np.concatenate([r[3] for r in rows])[keep_ev],
            "device": devices[dev[pid[keep_ev]]],
            "value": np.concatenate([r[4] for r in rows])[keep_ev],
        }
    )
    events = events.sort_values(["customer_id", "timestamp", "event"], kind="stable")
    events = events.reset_index(drop=True)
    for col in ("customer_id", "event", "channel", "device"):
        events[col] = events[col].astype("category")

    churned = np.isfinite(churn_t) & (churn_t < span)
    spend = (
        events.loc[events["value"].notna()].groupby("customer_id", observed=True)["value"].sum()
    )
    cids = ids(person)
    cust_spend = spend.reindex(cids).fillna(0).to_numpy()
    tier = np.where(cust_spend >= 300, "gold", np.where(cust_spend >= 120, "silver", "bronze"))
    # a CRM's "days since last seen", computed on the day of the export: a classic leak
    last_seen = events.groupby("customer_id", observed=True)["timestamp"].max()
    last_seen = last_seen.reindex(cids).fillna(stamp(signup).to_series().set_axis(cids))
    days_inactive = np.floor((t1 - last_seen).dt.total_seconds().to_numpy() / 86400)
    customers_df = pd.DataFrame(
        {
            "customer_id": cids,
            "signup_at": stamp(signup),
            "churned_at": stamp(np.where(churned, churn_t, np.nan)),
            "plan": np.where(annual, "annual", "monthly"),
            "acquisition_channel": np.array(list(CHANNELS), dtype=object)[c_chan],
            "device": devices[dev[cust]],
            "region": np.array(REGIONS, dtype=object)[region],
            "loyalty_tier": tier,
            "days_inactive": days_inactive.astype(int),
        }
    ).astype({"customer_id": object})
    customers_df = customers_df.sort_values("signup_at", kind="stable").reset_index(drop=True)
    for col in ("plan", "acquisition_channel", "device", "region", "loyalty_tier"):
        customers_df[col] = customers_df[col].astype("category")

    s_i = np.concatenate([r[0] for r in srows])
    surveys = pd.DataFrame(
        {
            "customer_id": ids(person[s_i]).astype(object),
            "timestamp": stamp(np.concatenate([r[1] for r in srows])),
            "survey": np.concatenate([np.full(r[0].size, r[2], dtype=object) for r in srows]),
            "score": np.concatenate([r[3] for r in srows]).astype("int64"),
            "stage": np.concatenate([np.full(r[0].size, r[4], dtype=object) for r in srows]),
            "touchpoint": np.concatenate([np.full(r[0].size, r[5], dtype=object) for r in srows]),
        }
    )
    surveys = surveys[surveys["timestamp"] < t1]
    surveys = surveys.sort_values(["timestamp", "customer_id"], kind="stable")
    surveys = surveys.reset_index(drop=True)
    for col in ("stage", "touchpoint"):
        surveys[col] = surveys[col].astype("category")

    journey = journey_from_tables(
        events, customers_df, surveys, observed_at=t1, source=f"simulate(seed={seed})"
    )
    truth = _truth(seed, customers, t0, t1, n, pain_point, drv, expected, p, journey)
    return journey, truth


def _truth(seed, customers, t0, t1, n, pain_point, drv, expected, p, journey):
    seg_col = "device" if "device" in pain_point else "channel"
    step_p = [
        {"channel": c, "device": d, "step": s, "probability": round(float(p[ci, di, si]), 6)}
        for ci, c in enumerate(CHANNELS)
        for di, d in enumerate(DEVICES)
        for si, s in enumerate(FUNNEL_STEPS[1:])
    ]
    prev = FUNNEL_STEPS[FUNNEL_STEPS.index(pain_point["step"]) - 1]
    drivers = [
        {
            "name": f"plan={lvl}",
            "kind": "fixed",
            "covariate": "plan",
            "level": lvl,
            "reference": "monthly",
            "hazard_ratio": hr,
            "feature_family": "plan",
            "quantity": f"hazard ratio of the {lvl} plan vs monthly, fixed at signup",
        }
        for lvl, hr in drv["plan"].items()
    ]
    drivers += [
        {
            "name": f"acquisition_channel={lvl}",
            "kind": "fixed",
            "covariate": "acquisition_channel",
            "level": lvl,
            "reference": "organic",
            "hazard_ratio": hr,
            "feature_family": "acquisition_channel",
            "quantity": f"hazard ratio of customers acquired via {lvl} vs organic, fixed "
            "at signup",
        }
        for lvl, hr in drv["acquisition_channel"].items()
    ]
    drivers += [
        {
            "name": "support_tickets_30d",
            "kind": "time-varying",
            "covariate": "support_tickets_30d",
            "hazard_ratio": drv["support_tickets_30d"],
            "feature_family": "support",
            "quantity": "hazard ratio per support ticket in the last "
            "30 days, time-varying (simulated on whole days: a ticket acts from the day after it "
            "for 30 days)",
        },
        {
            "name": "detractor",
            "kind": "time-varying",
            "covariate": "detractor",
            "hazard_ratio": drv["detractor"],
            "feature_family": "nps",
            "quantity": "hazard ratio while the customer's latest NPS answer is 0–6 (detractor), "
            "time-varying (acts from the day after the answer)",
        },
        {
            "name": "disengaged",
            "kind": "time-varying (latent)",
            "covariate": None,
            "hazard_ratio": drv["disengaged"],
            "feature_family": "engagement",
            "quantity": "hazard ratio once disengaged (a latent state after an exponential time, "
            f"mean {MEAN_DAYS_TO_DISENGAGE:.0f} days, in which the app_login rate falls to "
            f"{DISENGAGED_LOGIN_FACTOR:.0%}); observable only through app_login recency/trend",
        },
    ]
    c = journey.customers
    return {
        "generator": "cxkit.simulate",
        "seed": seed,
        "customers_requested": customers,
        "start": str(t0),
        "end": str(t1),
        "observed_at": str(t1),
        "counts": {
            "people": int(n),
            "customers": int(len(c)),
            "churned": int(c["churned_at"].notna().sum()),
            "events": int(len(journey.events)),
            "survey_answers": int(len(journey.surveys)),
        },
        "funnel": {
            "steps": FUNNEL_STEPS,
            "awareness_events": AWARENESS_EVENTS,
            "window_days_needed": 14,
            "channel_mix": CHANNELS,
            "device_mix": DEVICES,
            "pain_point": {
                "segment_column": seg_col,
                "segment_value": pain_point[seg_col],
                "step": pain_point["step"],
                "from_step": prev,
                "factor": pain_point["factor"],
                "quantity": f"probability of {prev} → {pain_point['step']} for "
                f"{seg_col}={pain_point[seg_col]} is multiplied by "
                f"{pain_point['factor']}",
            },
            "expected_step_rate": expected,
            "step_probability": step_p,
            "step_delay_hours": {
                s: {"median": m_, "sigma": s_} for s, (m_, s_) in STEP_DELAY.items()
            },
        },
        "churn": {
            "model": "proportional hazards; piecewise-constant daily hazard; time in days since "
            "signup",
            "baseline_daily_hazard": BASELINE_DAILY_HAZARD,
            "baseline_first_60_days_factor": EARLY_HAZARD_FACTOR,
            "baseline_note": f"×{EARLY_HAZARD_FACTOR:g} in the first 60 days",
            "drivers": drivers,
        },
        "experience": {
            "nps": "score = clip(round(8.0 − 1.5 × support tickets in the last 30 days + "
            "N(0, 1.6)), 0, 10), asked every 90 days, 45% answer",
            "csat_checkout": {"in_pain_segment_mean": 3.4, "others_mean": 4.3},
            "csat_support_mean": 3.2,
            "csat_onboarding_mean": 4.1,
        },
        "engagement_rates_per_day": RATES,
        "signup_attributes": ["plan", "acquisition_channel", "device", "region"],
        "as_of_extraction_attributes": ["loyalty_tier", "days_inactive"],
    }


def _to_csv_bytes(frame):
    return frame.to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S", float_format="%.2f").encode()


#: The files :func:`write_sample` writes, one per table.
SAMPLE_FILES = {"events": "events.csv.gz", "customers": "customers.csv", "surveys": "surveys.csv"}


def _check_out_folder(folder):
    """A folder to write a sample into: not a file, and without another file for one of the
    tables (an ``events.parquet`` beside the new ``events.csv.gz`` would make the folder
    unreadable)."""
    from .data import DataError
    from .data.journey import SUFFIXES

    if folder.exists() and not folder.is_dir():
        raise DataError(
            folder,
            [{"column": None, "expected": "a folder to write the data into; this is a file"}],
            hint="pass a new or existing folder",
        )
    if not folder.is_dir():
        return
    others = [
        folder / f"{stem}{suffix}"
        for stem, name in SAMPLE_FILES.items()
        for suffix in SUFFIXES
        if f"{stem}{suffix}" != name and (folder / f"{stem}{suffix}").is_file()
    ]
    if others:
        raise DataError(
            folder,
            [
                {
                    "column": None,
                    "expected": "no other file for the tables written here "
                    f"({', '.join(SAMPLE_FILES.values())}); the folder has",
                    "rows": len(others),
                    "examples": [p.name for p in others],
                }
            ],
            hint="write to a new folder, or remove those files first",
        )


def write_sample(journey, truth, folder):
    """Write a journey and its truth as a data folder (byte-identical for identical input).

    Writes ``events.csv.gz`` (gzip with ``mtime=0``), ``customers.csv``, ``surveys.csv``,
    ``truth.json`` and ``README.md`` (the data dictionary).
    """
    folder = Path(folder)
    _check_out_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(_to_csv_bytes(journey.events))
    (folder / "events.csv.gz").write_bytes(raw.getvalue())
    (folder / "customers.csv").write_bytes(_to_csv_bytes(journey.customers))
    (folder / "surveys.csv").write_bytes(_to_csv_bytes(journey.surveys))
    (folder / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n")
    readme = Path(__file__).parent / "report" / "templates" / "data_dictionary.md"
    text = readme.read_text()
    for key, val in {
        "SEED": truth["seed"],
        "CUSTOMERS": truth["counts"]["customers"],
        "PEOPLE": truth["counts"]["people"],
        "EVENTS": truth["counts"]["events"],
        "ANSWERS": truth["counts"]["survey_answers"],
        "START": truth["start"][:10],
        "END": truth["end"][:10],
    }.items():
        text = text.replace("{" + key + "}", f"{val:,}" if isinstance(val, int) else str(val))
    (folder / "README.md").write_text(text)
    return folder


def _main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description="Write a simulated data folder.")
    parser.add_argument("--out", default="data/sample")
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    journey, truth = simulate(customers=args.customers, seed=args.seed)
    write_sample(journey, truth, args.out)
    print(f"wrote {args.out}: {journey}")


if __name__ == "__main__":
    _main()

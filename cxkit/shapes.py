"""Data folders the contract allows that look nothing like the sample.

The bundled sample (``data/sample``) is one shape of data: three tables, device and channel
segments, churn dates, NPS/CSAT/CES by stage, a funnel of hours. Real exports differ. Each shape
here writes a folder of one such kind, so that tests can run the whole report on it:

================= =============================================================================
shape             what it is
================= =============================================================================
``no_segments``   no device or channel on events; no acquisition channel or device on customers
``no_surveys``    events and customers only
``csat_only``     product ratings as CSAT: many answers per customer, no NPS, no stage
``no_churn_dates`` a shop: customers without ``churned_at``
``events_only``   a clickstream: ``events.csv`` alone; purchases are the event ``purchase``
``minutes``       the funnel takes minutes to hours, not hours to days
``years``         four years of repeat purchases, months apart; events are only ``purchase``
``one_level``     every segment column has one level (all desktop, one plan, one region …)
``tiny``          about 50 customers
``own_names``     the analyst's own event and column names, described in ``cxkit.toml``
================= =============================================================================

Most shapes are transforms of :func:`cxkit.simulate` output (columns or tables dropped, times
rescaled); ``years`` has its own small generator. Folders hold no ``truth.json``: like a real
export, they come without the answers. The same name, size and seed give byte-identical files.

Examples
--------
>>> from cxkit.shapes import SHAPES, write_shape
>>> folder = write_shape("no_surveys", "/tmp/cxkit-no-surveys")  # doctest: +SKIP
>>> sorted(p.name for p in folder.iterdir())  # doctest: +SKIP
['README.md', 'customers.csv', 'events.csv.gz']
>>> len(SHAPES)
10
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

from .data import DataError

__all__ = ["SHAPES", "write_shape", "shape_tables"]

#: Shape name -> one line saying what the folder looks like.
SHAPES = {
    "no_segments": "Events without device or channel; customers without acquisition channel or "
    "device.",
    "no_surveys": "Events and customers only: no surveys file.",
    "csat_only": "Product ratings used as CSAT: several answers per customer after purchases, "
    "no NPS or CES, no stage or touchpoint.",
    "no_churn_dates": "A shop: the customers file has no churned_at column.",
    "events_only": "A clickstream: events.csv alone (no customers, no surveys); purchases are "
    "the event 'purchase'.",
    "minutes": "Each person's funnel compressed tenfold: steps minutes apart, the whole funnel "
    "minutes to hours.",
    "years": "About four years of repeat purchases months apart: events are only 'purchase' "
    "with a value; customers have signup_at (the first purchase) and no churned_at.",
    "one_level": "Every segment column has one level: all desktop, one channel, one plan, one "
    "region, one survey stage and touchpoint.",
    "tiny": "About 50 customers (the size argument is ignored).",
    "own_names": "The sample's events under other event and column names, described by a "
    "cxkit.toml ([tables.events] mapping, [funnel] steps, [labels]).",
}

#: Clickstream events kept by ``events_only`` (the web part of the sample's journey).
CLICKSTREAM_EVENTS = (
    "ad_click",
    "social_click",
    "email_click",
    "referral_visit",
    "organic_search",
    "site_visit",
    "product_view",
    "add_to_cart",
    "checkout",
    "purchase",
    "help_center",
)

#: The sample's event names -> the names ``own_names`` uses.
OWN_EVENT_NAMES = {
    "ad_click": "ad_clicked",
    "social_click": "social_referral",
    "email_click": "newsletter_click",
    "referral_visit": "friend_referral",
    "organic_search": "search_landing",
    "site_visit": "page_view",
    "product_view": "view_item",
    "add_to_cart": "add_to_basket",
    "checkout": "begin_checkout",
    "purchase": "order_placed",
    "help_center": "faq_view",
    "contact_chat": "chat_started",
    "app_login": "login",
    "email_open": "newsletter_open",
    "whatsapp_message": "whatsapp",
    "support_ticket": "ticket_opened",
    "onboarding_complete": "setup_done",
}

#: Canonical events column -> the column name ``own_names`` writes.
OWN_COLUMN_NAMES = {
    "customer_id": "user_id",
    "timestamp": "ts",
    "event": "action",
    "channel": "source",
    "device": "platform",
    "value": "amount",
}

_OWN_SPEC = """\
# The analyst's description of this export (written by cxkit.shapes, shape "own_names").

[tables.events]        # cxkit's name = the column in events.csv
customer_id = "user_id"
timestamp = "ts"
event = "action"
channel = "source"
device = "platform"
value = "amount"

[funnel]
window = "14D"

[funnel.steps]         # in order; a step may be any of several events
landing = ["ad_clicked", "social_referral", "newsletter_click", "friend_referral", "search_landing"]
visit = "page_view"
item = "view_item"
basket = "add_to_basket"
checkout = "begin_checkout"
order = "order_placed"

[labels]
page_view = "Visited the site"
view_item = "Viewed a product"
add_to_basket = "Added to the basket"
begin_checkout = "Started the checkout"
order_placed = "Placed an order"
ticket_opened = "Opened a support ticket"
"""


def write_shape(name, folder, *, customers=300, seed=0):
    """Write a data folder of one shape (see :data:`SHAPES`).

    Parameters
    ----------
    name : str
        A key of :data:`SHAPES`.
    folder : str or Path
        Created if needed; files of the same names are overwritten.
    customers : int
        About how many customers (``tiny`` always has about 50).
    seed : int
        Seed of the simulation; the same arguments give byte-identical files.

    Returns
    -------
    Path
        The folder, holding ``events.csv.gz`` (``events.csv`` for ``events_only`` and
        ``own_names``), ``customers.csv`` and ``surveys.csv`` when the shape has them, a
        ``cxkit.toml`` for ``own_names``, and a ``README.md`` naming the shape.

    Raises
    ------
    DataError
        When ``name`` is not a shape.

    Examples
    --------
    >>> import cxkit, cxkit.shapes
    >>> folder = cxkit.shapes.write_shape("tiny", "/tmp/cxkit-tiny")  # doctest: +SKIP
    >>> cxkit.read_journey(folder)  # doctest: +SKIP
    Journey(events=5,106, customers=51, surveys=257, ...)
    """
    files = shape_tables(name, customers=customers, seed=seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for filename, content in files.items():
        (folder / filename).write_bytes(_file_bytes(filename, content))
    return folder


def shape_tables(name, *, customers=300, seed=0):
    """The files of a shape, unwritten: file name -> DataFrame (or text for ``cxkit.toml``
    and ``README.md``). Tables are as they would be written (canonical names except for
    ``own_names``).

    Examples
    --------
    >>> from cxkit.shapes import shape_tables
    >>> files = shape_tables("no_churn_dates")
    >>> "churned_at" in files["customers.csv"].columns
    False
    """
    if name not in SHAPES:
        raise DataError(
            f"write_shape(name={name!r})",
            [{"column": "name", "expected": "one of " + ", ".join(SHAPES)}],
        )
    files = _BUILDERS[name](customers, seed)
    files["README.md"] = f"# cxkit data shape `{name}`\n\n{SHAPES[name]}\n" + (
        "\nWritten by `cxkit.shapes.write_shape` from a simulation; there is no truth file.\n"
    )
    return files


def _file_bytes(filename, content):
    from .simulate import _to_csv_bytes

    if isinstance(content, str):
        return content.encode("utf-8")
    raw = _to_csv_bytes(content)
    if not filename.endswith(".gz"):
        return raw
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as gz:
        gz.write(raw)
    return out.getvalue()


def _simulated(customers, seed):
    from .simulate import simulate

    journey, _ = simulate(customers=customers, seed=seed)
    return journey


def _tables(journey, *, events=None, customers=None, surveys=None):
    return {
        "events.csv.gz": journey.events if events is None else events,
        "customers.csv": journey.customers if customers is None else customers,
        "surveys.csv": journey.surveys if surveys is None else surveys,
    }


def _no_segments(customers, seed):
    """Events without ``channel``/``device``; customers without ``acquisition_channel``/
    ``device`` (plan, region and the rest stay)."""
    j = _simulated(customers, seed)
    return _tables(
        j,
        events=j.events.drop(columns=["channel", "device"]),
        customers=j.customers.drop(columns=["acquisition_channel", "device"]),
    )


def _no_surveys(customers, seed):
    """The sample's events and customers; no surveys file."""
    files = _tables(_simulated(customers, seed))
    del files["surveys.csv"]
    return files


def _csat_only(customers, seed):
    """Ratings of what was bought: after each purchase, 1 + Poisson(1.2) answers on a 1–5 scale,
    a few days later (delivery), scores around a per-customer mood. Only ``customer_id,
    timestamp, survey, score``."""
    j = _simulated(customers, seed)
    rng = np.random.default_rng(seed + 1)
    buys = j.events.loc[j.events["event"] == "purchase", ["customer_id", "timestamp"]]
    who = buys["customer_id"].astype(str).to_numpy()
    n = 1 + rng.poisson(1.2, len(buys))
    rows = np.repeat(np.arange(len(buys)), n)
    delay = pd.to_timedelta(rng.lognormal(np.log(4.0), 0.5, len(rows)), unit="D")
    ids, person = np.unique(who, return_inverse=True)
    mood = rng.normal(0.0, 0.6, len(ids))
    raw = 4.0 + mood[person[rows]] + rng.normal(0.0, 0.9, len(rows))
    ratings = pd.DataFrame(
        {
            "customer_id": who[rows],
            "timestamp": (buys["timestamp"].to_numpy()[rows] + delay).round("s"),
            "survey": "csat",
            "score": np.clip(np.round(raw), 1, 5).astype(int),
        }
    )
    ratings = ratings[ratings["timestamp"] <= j.observed_at]
    ratings = ratings.sort_values(["timestamp", "customer_id"], kind="stable")
    return _tables(j, surveys=ratings.reset_index(drop=True))


def _no_churn_dates(customers, seed):
    """The sample with ``churned_at`` dropped from customers (non-contractual by default)."""
    j = _simulated(customers, seed)
    return _tables(j, customers=j.customers.drop(columns=["churned_at"]))


def _events_only(customers, seed):
    """The web part of the sample's events (:data:`CLICKSTREAM_EVENTS`), in ``events.csv``
    alone: no app logins, messages or tickets, no customers or surveys file."""
    ev = _simulated(customers, seed).events
    keep = ev["event"].isin(CLICKSTREAM_EVENTS).to_numpy()
    clicks = ev.loc[keep].copy()
    clicks["event"] = clicks["event"].astype(str)
    return {"events.csv": clicks.reset_index(drop=True)}


def _minutes(customers, seed, factor=1 / 10):
    """Each person's events up to and including the first purchase (all events of people who
    never bought) are moved towards the first one: every gap is divided by 10, but kept at
    one second or more (and never later than it was), so order is kept. ``signup_at`` and the
    surveys about the first purchase move with the purchase."""
    j = _simulated(customers, seed)
    ev, cu, su = j.events.copy(), j.customers.copy(), j.surveys.copy()
    who = ev["customer_id"].astype(str)
    signup = who.map(cu.set_index("customer_id")["signup_at"])
    pre = (signup.isna() | (ev["timestamp"] <= signup)).to_numpy()
    times = ev.loc[pre, "timestamp"]
    key = who[pre]
    gaps = times.groupby(key, sort=False).diff().fillna(pd.Timedelta(0))
    shrunk = (
        (gaps * factor).clip(lower=pd.Timedelta(seconds=1)).where(gaps > pd.Timedelta(0), gaps)
    )
    start = times.groupby(key, sort=False).transform("min")
    moved = start + shrunk.groupby(key, sort=False).cumsum()
    ev.loc[pre, "timestamp"] = moved.where(moved < times, times).round("s")
    buys = ev.loc[pre & (ev["event"] == "purchase").to_numpy()]
    first = buys.groupby(buys["customer_id"].astype(str))["timestamp"].min()
    shift = cu["signup_at"] - cu["customer_id"].map(first)
    cu["signup_at"] = cu["customer_id"].map(first)
    about_purchase = (su["stage"] == "purchase").to_numpy()
    su_shift = su["customer_id"].map(pd.Series(shift.to_numpy(), index=cu["customer_id"]))
    su.loc[about_purchase, "timestamp"] -= su_shift[about_purchase]
    su = su.sort_values("timestamp", kind="stable").reset_index(drop=True)
    return _tables(j, events=ev, customers=cu, surveys=su)


def _years(customers, seed, years=4.0):
    """A repeat-purchase log (Pareto/NBD-like): first purchases uniform over four years; each
    customer buys at a rate of Gamma(2, 1/250 per day) — a purchase every few months — until an
    exponential lifetime (mean two years) or the end. Values log-normal around a per-customer
    spend. Customers: ``signup_at`` = first purchase, a ``country`` (no churn dates)."""
    rng = np.random.default_rng(seed)
    end = pd.Timestamp("2025-06-30")
    span = years * 365.25
    n = int(customers)
    first_day = rng.uniform(0.0, span, n)
    alive = np.minimum(rng.exponential(2 * 365.25, n), span - first_day)
    rate = rng.gamma(2.0, 1 / 250, n)
    repeats = rng.poisson(rate * alive)
    person = np.concatenate([np.arange(n), np.repeat(np.arange(n), repeats)])
    day = np.concatenate(
        [first_day, first_day[person[n:]] + rng.uniform(0, 1, repeats.sum()) * alive[person[n:]]]
    )
    spend = rng.lognormal(np.log(45.0), 0.5, n)
    ids = np.char.add("C", np.char.zfill(np.arange(n).astype(str), 5))
    begin = end - pd.Timedelta(days=span)
    events = pd.DataFrame(
        {
            "customer_id": ids[person],
            "timestamp": (begin + pd.to_timedelta(day, unit="D")).round("s"),
            "event": "purchase",
            "value": np.round(spend[person] * rng.lognormal(0.0, 0.4, len(person)), 2),
        }
    ).sort_values(["customer_id", "timestamp"], kind="stable")
    countries = np.array(["DE", "FR", "NL", "ES"])
    custs = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_at": (begin + pd.to_timedelta(first_day, unit="D")).round("s"),
            "country": countries[rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1])],
        }
    ).sort_values("signup_at", kind="stable")
    return {
        "events.csv.gz": events.reset_index(drop=True),
        "customers.csv": custs.reset_index(drop=True),
    }


def _one_level(customers, seed):
    """The sample with every segment column set to one value: events all ``desktop`` on
    ``web``; customers all ``monthly``, ``organic``, ``desktop``, ``north``, ``silver``;
    surveys all at stage ``post-purchase``, touchpoint ``support``."""
    j = _simulated(customers, seed)
    ev, cu, su = j.events.copy(), j.customers.copy(), j.surveys.copy()
    ev = ev.assign(channel="web", device="desktop")
    cu = cu.assign(
        plan="monthly",
        acquisition_channel="organic",
        device="desktop",
        region="north",
        loyalty_tier="silver",
    )
    su = su.assign(stage="post-purchase", touchpoint="support")
    return _tables(j, events=ev, customers=cu, surveys=su)


def _tiny(customers, seed):
    """The sample's kind of data with about 50 customers."""
    return _tables(_simulated(50, seed))


def _own_names(customers, seed):
    """The sample with events renamed (:data:`OWN_EVENT_NAMES`) and events columns renamed
    (:data:`OWN_COLUMN_NAMES`) in ``events.csv``, described by a hand-written ``cxkit.toml``."""
    j = _simulated(customers, seed)
    ev = j.events.copy()
    ev["event"] = ev["event"].cat.rename_categories(OWN_EVENT_NAMES)
    files = _tables(j, events=ev.rename(columns=OWN_COLUMN_NAMES))
    files["events.csv"] = files.pop("events.csv.gz")
    files["cxkit.toml"] = _OWN_SPEC
    return files


_BUILDERS = {
    "no_segments": _no_segments,
    "no_surveys": _no_surveys,
    "csat_only": _csat_only,
    "no_churn_dates": _no_churn_dates,
    "events_only": _events_only,
    "minutes": _minutes,
    "years": _years,
    "one_level": _one_level,
    "tiny": _tiny,
    "own_names": _own_names,
}

"""The journey map: people, conversion and experience scores per journey stage."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._args import jsonable
from ..data import DataError, Journey
from ..engine.frames import surveys_frame
from ..engine.journey import is_engine
from .scores import _as_list, csat, nps

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
    if not (isinstance(journey, Journey) or is_engine(journey)):
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
    if is_engine(journey):
        volume, deepest, unmapped = _stage_counts_engine(journey, lookup, len(order))
    else:
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
    sv = surveys_frame(journey)
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


def _stage_counts_engine(journey, lookup, n_stages):
    """(events per stage, each person's deepest stage, events in no stage) reduced in the
    engine: the per-person table is the only one that comes back."""
    import ibis

    ev = journey.events
    k = ibis.cases(*((ev.event == name, i) for name, i in lookup.items()), else_=None)
    mapped = ev.mutate(k=k.cast("int64"))
    per_stage = journey.execute(mapped.group_by("k").aggregate(n=mapped.count()))
    volume = np.zeros(n_stages, "int64")
    known = per_stage["k"].notna()
    volume[per_stage.loc[known, "k"].astype("int64")] = per_stage.loc[known, "n"]
    unmapped = int(per_stage.loc[~known, "n"].sum())
    kept = mapped.filter(mapped.k.notnull())
    deepest = journey.execute(kept.group_by("customer_id").aggregate(k=kept.k.max()))["k"]
    return volume, deepest.to_numpy().astype("int64"), unmapped

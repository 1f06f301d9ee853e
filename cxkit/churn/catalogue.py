"""The feature catalogue of :func:`~cxkit.churn_dataset`: what each feature means, and the
feature families in words.

>>> from cxkit.churn.catalogue import feature_catalogue
>>> feature_catalogue().columns.tolist()
['feature', 'definition']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    "the lookback, each over the part of the window after signup (events and days alike; events "
    "before signup are left out): 1 = steady, below 1 = falling (empty when there were none).",
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


def _window_name(td):
    if td % _DAY == pd.Timedelta(0):
        return f"{td // _DAY}d"
    if td % pd.Timedelta(hours=1) == pd.Timedelta(0):
        return f"{td // pd.Timedelta(hours=1)}h"
    return f"{int(td.total_seconds())}s"


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
                ("n_event_", "n_{event}_{window}"),
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

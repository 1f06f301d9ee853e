"""The churn results as tables a stakeholder reads: words for headers, dates as dates, and
"not known" instead of empty values.

>>> import pandas as pd
>>> from cxkit.churn.tables import score_table
>>> score_table(pd.DataFrame({"customer_id": ["a"], "churn_probability": [0.25],
...                           "risk_rank": [1]})).columns.tolist()
['Customer', 'Churn probability (%)']
"""

from __future__ import annotations

import pandas as pd

from .._format import UNKNOWN, count_text

__all__ = [
    "contact_table",
    "cutoff_table",
    "family_table",
    "model_export",
    "model_table",
    "score_table",
]

_NAMES = {"logistic": "Logistic regression", "boosting": "Gradient boosting"}


def cutoff_table(X):
    """One row per snapshot: active customers, not yet signed up, already lost, churned (%)."""
    per = pd.DataFrame(X.attrs["per_cutoff"])
    churn = per["churn_pct"].map(lambda v: UNKNOWN if pd.isna(v) else f"{v:.1f}")
    return pd.DataFrame(
        {
            "Snapshot": pd.to_datetime(per["cutoff"]).dt.date,
            "Active customers": per["rows"].map(count_text),
            "Not signed up yet": per["not_signed_up_yet"].map(count_text),
            "Already lost": per["churned_before"].map(count_text),
            "Churned in the horizon (%)": churn,
        }
    ).set_index("Snapshot")


def family_table(X, journey=None):
    """Feature families in words with how many features each holds."""
    from .findings import family_words

    fam = X.attrs.get("feature_family", {})
    s = pd.Series([fam.get(c, c) for c in X.columns])
    counts = s.value_counts(sort=False)
    return pd.DataFrame(
        {
            "Family": [family_words(f, journey) for f in counts.index],
            "Features": counts.to_numpy(),
        }
    ).set_index("Family")


def model_export(result):
    """The model comparison at full precision, for the report's CSV: ``result.table`` without
    ``fit_seconds``, which differs from run to run (the same input gives the same report)."""
    return result.table.drop(columns=["fit_seconds"], errors="ignore")


def model_table(result):
    """The model comparison with readable headers (the chosen model marked)."""
    t = result.table
    out = pd.DataFrame(
        {
            "ROC AUC": t["roc_auc"].round(3),
            "95% interval": [
                f"{lo:.3f} to {hi:.3f}" if pd.notna(lo) and pd.notna(hi) else UNKNOWN
                for lo, hi in zip(t["roc_auc_ci_low"], t["roc_auc_ci_high"], strict=True)
            ],
            "PR AUC": t["pr_auc"].round(3),
            "Brier skill": t["brier_skill"].round(3),
            "Lift at 10%": t["lift_at_10pct"].round(2),
        }
    )
    out.index = [_NAMES.get(m, m) + (" (chosen)" if m == result.best_ else "") for m in t.index]
    out.index.name = "Model"
    return out


def score_table(scores, n=15):
    """The riskiest ``n`` customers with their probability (%) and reasons in words."""
    top = scores.head(n)
    out = pd.DataFrame(
        {
            "Rank": top["risk_rank"].to_numpy(),
            "Customer": top["customer_id"].astype(str).to_numpy(),
            "Churn probability (%)": (100 * top["churn_probability"]).round(1).to_numpy(),
        }
    )
    i = 1
    while f"reason_{i}" in top.columns:
        out[f"Reason {i}"] = top[f"reason_{i}"].to_numpy()
        out[f"Reason {i}, adds (points)"] = top[f"reason_{i}_pts"].to_numpy()
        i += 1
    return out.set_index("Rank")


def contact_table(contacts):
    """:func:`cxkit.churn.actions.contact_list` as readers see it: probability in %, the
    expected gain with its currency, the reasons in words."""
    cur = contacts["currency"].iloc[0] if len(contacts) else ""
    gain = "Expected gain" + (f" ({cur})" if cur else "")
    out = pd.DataFrame(
        {
            "Rank": contacts["risk_rank"].to_numpy(),
            "Customer": contacts["customer_id"].astype(str).to_numpy(),
            "Churn probability": [f"{100 * p:.1f}%" for p in contacts["churn_probability"]],
            gain: [f"{g:,.2f}" for g in contacts["expected_gain"]],
        }
    )
    i = 1
    while f"reason_{i}" in contacts.columns:
        out[f"Reason {i}"] = contacts[f"reason_{i}"].fillna("").to_numpy()
        i += 1
    return out.set_index("Rank")

"""Reader's tables of customer value: words for headers, rounded numbers."""

from __future__ import annotations

import pandas as pd

__all__ = ["top_customers"]


def top_customers(result, n=10):
    """The ``n`` customers worth most (by expected value, else expected purchases).

    Returns
    -------
    DataFrame
        Indexed by customer; reader's columns: purchases so far, chance still buying (%), expected
        purchases, expected value (when spend is modelled), all rounded.
    """
    t = result.table.sort_values(result.value_column, ascending=False, kind="stable").head(n)
    out = pd.DataFrame(
        {
            "Customer": t["customer_id"].astype(str).to_numpy(),
            "Purchases so far": (t["frequency"] + 1).astype(int).to_numpy(),
            "Chance still buying (%)": (100 * t["p_alive"]).round(0).astype(int).to_numpy(),
            "Expected purchases": t["expected_purchases"].round(1).to_numpy(),
        }
    )
    if result.spend_modelled:
        out["Expected value"] = t["expected_value"].round(0).astype(int).to_numpy()
    return out.set_index("Customer")

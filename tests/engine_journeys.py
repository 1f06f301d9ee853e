"""Small random customers tables for the engine-equals-pandas tests (churn, retention)."""

import pandas as pd
from hypothesis import strategies as st


@st.composite
def customers(draw, t0, *, max_customers, max_signup, max_churn, plan=False):
    """(ids, customers): ``c0`` … up to ``max_customers`` customers signed up ``0 …
    max_signup`` days after ``t0``, some churned ``0 … max_churn`` days after signup; ``plan``:
    an attribute with values a/b."""
    n_c = draw(st.integers(1, max_customers))
    ids = [f"c{i}" for i in range(n_c)]
    signup = draw(st.lists(st.integers(0, max_signup), min_size=n_c, max_size=n_c))
    churn = draw(
        st.lists(st.one_of(st.none(), st.integers(0, max_churn)), min_size=n_c, max_size=n_c)
    )
    table = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_at": t0 + pd.to_timedelta(signup, unit="D"),
            "churned_at": [
                pd.NaT if c is None else t0 + pd.Timedelta(days=s + c)
                for s, c in zip(signup, churn, strict=True)
            ],
        }
    )
    if plan:
        table["plan"] = draw(st.lists(st.sampled_from(["a", "b"]), min_size=n_c, max_size=n_c))
    return ids, table

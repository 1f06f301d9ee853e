"""Small random event logs for the funnel tests (pandas and engine): many ties (few distinct
times), repeated events and alternative step events."""

import pandas as pd
from hypothesis import strategies as st

EVENTS = ["A", "B", "C", "D"]
step_item = st.one_of(
    st.sampled_from(EVENTS), st.lists(st.sampled_from(EVENTS), min_size=1, max_size=2, unique=True)
)


@st.composite
def logs(draw, t0, *, max_events, people, max_offset, step_windows):
    """(events, steps, window, step_windows): up to ``max_events`` events of ``people`` at
    ``t0`` plus 0 … ``max_offset`` minutes, hours or days; ``step_windows`` drawn from the
    given choices (or None)."""
    n = draw(st.integers(1, max_events))
    scale = draw(st.sampled_from(["1min", "1h", "1D"]))
    offsets = draw(st.lists(st.integers(0, max_offset), min_size=n, max_size=n))
    frame = pd.DataFrame(
        {
            "customer_id": draw(st.lists(st.sampled_from(people), min_size=n, max_size=n)),
            "timestamp": t0
            + pd.to_timedelta(offsets, unit="m") * (pd.Timedelta(scale) / pd.Timedelta("1min")),
            "event": draw(st.lists(st.sampled_from(EVENTS), min_size=n, max_size=n)),
            "device": draw(
                st.lists(st.sampled_from(["mobile", "desktop"]), min_size=n, max_size=n)
            ),
        }
    )
    steps = draw(st.lists(step_item, min_size=1, max_size=4))
    window = draw(st.sampled_from(["5min", "2h", "3D", "14D"]))
    windows = draw(
        st.one_of(
            st.none(),
            st.lists(
                st.sampled_from(step_windows),
                min_size=len(steps) - 1,
                max_size=len(steps) - 1,
            ),
        )
    )
    return frame, steps, window, windows

"""The funnel's tables as readers see them: labelled steps, percentages rounded, durations in
words, no ``nan`` or ``NaT`` (what is not known is left blank).

>>> import cxkit
>>> from cxkit.funnel import STEPS, tables
>>> j = cxkit.load_sample()
>>> list(tables.readable_funnel(cxkit.funnel(j, STEPS), journey=j).columns)[:2]
['Step', 'People']
"""

from __future__ import annotations

import pandas as pd

from .._format import duration_text, is_known

__all__ = [
    "readable_funnel",
    "readable_window",
    "readable_times",
    "readable_gaps",
    "readable_ab_test",
    "readable_paths",
    "labelled",
]


def _label(journey, name):
    return str(name) if journey is None else journey.spec.label(str(name))


def labelled(table, journey=None, columns=("step", "next_step")):
    """A copy of a funnel result with step names replaced by the spec's labels (for plots)."""
    out = table.copy()
    for c in columns:
        if c in out.columns:
            out[c] = out[c].map(lambda s: _label(journey, s))
    return out


def _pct(value, digits=1):
    return f"{value:.{digits}f}%" if is_known(value) else ""


def _points_ci(table):
    """A difference's 95% interval in points, for each row: "+1.2 to +3.4"."""
    return [
        f"{lo:+.1f} to {hi:+.1f}" if is_known(lo) and is_known(hi) else ""
        for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
    ]


def _p_text(p):
    return ("< 0.001" if p < 0.001 else f"{p:.3f}") if is_known(p) else ""


def _hours(value):
    return duration_text(value / 24) if is_known(value) else ""


def _segment_cols(table, known):
    return [c for c in table.columns if c not in known]


def readable_funnel(table, *, journey=None):
    """:func:`cxkit.funnel` as a reader's table: step, people, % of entrants, % of the previous
    step with its 95% CI, median time from the previous step."""
    known = {"step_index", "step", "customers", "pct_of_start", "pct_of_previous", "ci_low"}
    known |= {"ci_high", "median_time_to_step"}
    out = pd.DataFrame({c: table[c].astype(str) for c in _segment_cols(table, known)})
    out["Step"] = [_label(journey, s) for s in table["step"]]
    out["People"] = [f"{int(n):,}" for n in table["customers"]]
    out["% of entrants"] = [_pct(v) for v in table["pct_of_start"]]
    first = table["step_index"] == 1
    out["% of previous step"] = [
        "" if f else _pct(v) for f, v in zip(first, table["pct_of_previous"], strict=True)
    ]
    out["95% CI"] = [
        f"{lo:.1f}–{hi:.1f}%" if is_known(lo) and is_known(hi) else ""
        for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
    ]
    out["Median time from previous step"] = [
        duration_text(t) if is_known(t) else "" for t in table["median_time_to_step"]
    ]
    out.index = pd.Index(table["step_index"].to_numpy(), name="#")
    return out


def readable_window(short, full, window, *, journey=None):
    """The funnel with a shorter window (``short``) beside the full one (``full``): people and
    % of entrants reaching each step within ``window`` (e.g. ``"3D"``), and % in the full one."""
    within = duration_text(pd.Timedelta(window) / pd.Timedelta(days=1))
    out = pd.DataFrame(
        {
            "Step": [_label(journey, s) for s in short["step"]],
            f"People within {within}": [f"{int(n):,}" for n in short["customers"]],
            f"% of entrants within {within}": [_pct(v) for v in short["pct_of_start"]],
            "% of entrants, full window": [_pct(v) for v in full["pct_of_start"]],
        }
    )
    out.index = pd.Index(short["step_index"].to_numpy(), name="#")
    return out


def _indexed(out):
    """The first column as the index, so a displayed table has no row numbers."""
    return out.set_index(out.columns[0]) if len(out.columns) else out


def readable_times(ttc, *, journey=None):
    """:func:`cxkit.time_to_convert` as a reader's table, durations in words."""
    if ttc is None or ttc.empty:
        return pd.DataFrame()
    out = pd.DataFrame(
        {
            "From": [_label(journey, s) for s in ttc["step"]],
            "To": [_label(journey, s) for s in ttc["next_step"]],
            "People at step": [f"{int(n):,}" for n in ttc["reached"]],
            "Moved on": [f"{int(n):,}" for n in ttc["converted"]],
            "% moved on (survival)": [_pct(v) for v in ttc["pct_converted"]],
            "Half of everyone within": [_hours(v) for v in ttc["median_hours"]],
            "Median of those who moved on": [_hours(v) for v in ttc["median_hours_converted"]],
            "Middle half of those who moved on": [
                f"{_hours(a)} to {_hours(b)}" if is_known(a) and is_known(b) else ""
                for a, b in zip(
                    ttc["q25_hours_converted"], ttc["q75_hours_converted"], strict=True
                )
            ],
        }
    )
    return _indexed(out)


def readable_gaps(gaps, *, journey=None, n=8):
    """The first ``n`` rows of :func:`cxkit.funnel.segment_gaps` as a reader's table."""
    if gaps is None or gaps.empty:
        return pd.DataFrame()
    g = gaps.head(n)
    out = pd.DataFrame(
        {
            "Segment": [
                f"{b.replace('_', ' ')}: {v}" for b, v in zip(g["by"], g["group"], strict=True)
            ],
            "Step": [_label(journey, s) for s in g["step"]],
            "Segment %": [_pct(v) for v in g["pct_group"]],
            "Everyone else %": [_pct(v) for v in g["pct_reference"]],
            "Gap (points)": [f"{v:+.1f}" if is_known(v) else "" for v in g["diff_pp"]],
            "95% CI": _points_ci(g),
            "Adjusted p": [_p_text(p) for p in g["p_adjusted"]],
            "Detectable gap (MDE)": [f"{v:.1f}" if is_known(v) else "" for v in g["mde_pp"]],
            "People lost": [f"{v:,.0f}" if is_known(v) else "" for v in g["lost"]],
        }
    )
    return _indexed(out)


def readable_ab_test(result, *, journey=None):
    """:func:`cxkit.ab_test`'s table for readers: per step and arm, the share of everyone
    assigned, the difference with its interval and adjusted p, and the step-to-step rates
    marked as description."""
    if result is None or result.table.empty:
        return pd.DataFrame()
    t = result.table
    out = pd.DataFrame(
        {
            "Step": [_label(journey, s) for s in t["step"]],
            "Arm": [f"{a} vs {c}" for a, c in zip(t["arm"], t["control"], strict=True)],
            "Arm % of assigned": [_pct(v) for v in t["pct_arm"]],
            "Control % of assigned": [_pct(v) for v in t["pct_control"]],
            "Difference (points)": [f"{v:+.1f}" if is_known(v) else "" for v in t["diff_pp"]],
            "95% CI": _points_ci(t),
            "Adjusted p": [_p_text(p) for p in t["p_adjusted"]],
            "Detectable (MDE)": [f"{v:.1f}" if is_known(v) else "" for v in t["mde_pp"]],
            "Step-to-step % (arm, description only)": [_pct(v) for v in t["pct_of_previous_arm"]],
            "Step-to-step % (control, description only)": [
                _pct(v) for v in t["pct_of_previous_control"]
            ],
        }
    )
    return _indexed(out)


def readable_paths(paths, *, journey=None, length=2):
    """:func:`cxkit.drop_off_paths` (paths up to ``length`` events) as a reader's table."""
    if paths is None or paths.empty:
        return pd.DataFrame()
    known = {"step", "length", "path", "customers", "pct", "ci_low", "ci_high", "droppers"}
    p = paths[paths["length"] <= length]
    out = pd.DataFrame(
        {c.replace("_", " ").capitalize(): p[c].astype(str) for c in _segment_cols(p, known)}
    )
    out["Stopped at"] = [_label(journey, s) for s in p["step"]]
    out["Next"] = [
        " → ".join(_label(journey, e) for e in str(path).split(" → ")) for path in p["path"]
    ]
    out["People"] = [f"{int(n):,}" for n in p["customers"]]
    out["% of those who stopped"] = [_pct(v, 0) for v in p["pct"]]
    out["95% CI"] = [
        f"{lo:.0f}–{hi:.0f}%" if is_known(lo) and is_known(hi) else ""
        for lo, hi in zip(p["ci_low"], p["ci_high"], strict=True)
    ]
    return _indexed(out.reset_index(drop=True))

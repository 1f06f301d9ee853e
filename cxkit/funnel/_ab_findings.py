"""Findings about an A/B test of the funnel (re-exported by :mod:`cxkit.funnel.findings`)."""

from __future__ import annotations

from .._format import is_known
from ..story import Finding, not_applicable
from ._words import _NO_STEPS, _label, _skip

_NO_VARIANT = (
    "No A/B test is analysed: the spec names no variant. To compare the arms of a randomized "
    "test, name the column that holds each person's arm as variant in the [funnel] section of "
    "cxkit.toml."
)


def _p_text(p):
    return "below 0.001" if p < 0.001 else f"{p:.3f}"


def ab_test(result, *, journey=None, steps=True):
    """The arms of an A/B test compared by intention to treat: the conversion of everyone
    assigned, its difference with a 95% interval and the adjusted p-value, the sample-ratio
    check, and what the step-to-step rates may and may not be read as.

    Parameters
    ----------
    result : ABTest or None
        :func:`cxkit.ab_test`; None when the spec names no variant (or there are no steps).
    steps : bool
        False when the funnel has no steps (then the section says that instead).

    Returns
    -------
    list of Finding
    """
    key = "funnel.ab_test"
    if (skipped := _skip(journey, key)) is not None:
        return [skipped]
    if not steps:
        return [not_applicable(key, _NO_STEPS)]
    if result is None:  # most data has no A/B test: a note on the page, not a gap on the index
        return [Finding(key, _NO_VARIANT)]
    out = []
    attrs = result.attrs
    m = len(result.table)
    for row in result.conversion_.itertuples():
        significant = bool(row.significant)
        if significant:
            verdict = "a real difference after allowing for the {m} comparisons (adjusted p "
            verdict += "{p})"
        else:
            verdict = "not a difference the data can confirm after allowing for the {m} "
            verdict += "comparisons (adjusted p {p})"
            if is_known(row.mde_pp):
                verdict += "; this test reliably detects {mde:.1f} points or more"
        out.append(
            Finding(
                key,
                "**{arm}** against **{control}** ({n_arm:,} and {n_control:,} people assigned): "
                "**{pct_arm:.1f}%** of everyone assigned to {arm} reached **{last}**, against "
                "{pct_control:.1f}% in {control}: **{diff:+.1f} points** (95% CI {lo:+.1f} to "
                "{hi:+.1f}), " + verdict + ".",
                {
                    "arm": str(row.arm),
                    "control": str(row.control),
                    "n_arm": int(row.n_arm),
                    "n_control": int(row.n_control),
                    "pct_arm": float(row.pct_arm),
                    "pct_control": float(row.pct_control),
                    "last": _label(journey, row.step),
                    "diff": float(row.diff_pp),
                    "lo": float(row.ci_low),
                    "hi": float(row.ci_high),
                    "p": _p_text(float(row.p_adjusted)),
                    "m": m,
                    "mde": float(row.mde_pp) if is_known(row.mde_pp) else None,
                    "significant": significant,
                },
                headline=True,
            )
        )
    srm = result.srm_
    sizes = ", ".join(
        f"{a}: {n:,}" for a, n in zip(result.arms_["arm"], result.arms_["assigned"], strict=True)
    )
    if srm["mismatch"]:
        text = (
            "**Check the test before trusting it:** the arms' sizes ({sizes}) do not match the "
            "split the test was designed for (sample-ratio check p {p}). A mismatch this large "
            "means the assignment or the logging loses people in one arm."
        )
    else:
        text = "The arms' sizes ({sizes}) match the designed split (sample-ratio check p {p})."
    out.append(Finding(key, text, {"sizes": sizes, "p": _p_text(srm["p_value"])}))
    out.append(
        Finding(
            key,
            "Every share above is of *everyone assigned*, so the arms stay comparable at each "
            "step. The step-to-step rates in the table are description only: a variant that "
            "brings more people to a step changes who is there, so a lower rate at a later step "
            "need not mean the variant hurts it. " + result.notes_[0],
            {"variant": attrs["variant"]},
        )
    )
    return out

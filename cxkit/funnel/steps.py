"""Funnel steps: names, alternatives, stages, per-step windows, and the funnel part of a data spec."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from .._args import duration, moment
from ..data import DataError

#: Journey stages in order.
STAGE_ORDER = ("awareness", "consideration", "decision", "purchase", "post-purchase")


#: Default mapping of the sample's events to journey stages (pass as ``stages=``).
STAGES = {
    "ad_click": "awareness",
    "social_click": "awareness",
    "email_click": "awareness",
    "referral_visit": "awareness",
    "organic_search": "awareness",
    "site_visit": "consideration",
    "product_view": "consideration",
    "add_to_cart": "decision",
    "checkout": "decision",
    "purchase": "purchase",
    "onboarding_complete": "post-purchase",
    "app_login": "post-purchase",
    "email_open": "post-purchase",
    "whatsapp_message": "post-purchase",
    "support_ticket": "post-purchase",
}


#: The sample's buyer funnel: a step name and the event(s) that count for it.
STEPS = {
    "awareness": ["ad_click", "social_click", "email_click", "referral_visit", "organic_search"],
    "site_visit": "site_visit",
    "product_view": "product_view",
    "add_to_cart": "add_to_cart",
    "checkout": "checkout",
    "purchase": "purchase",
}


def read_funnel_spec(folder=None):
    """The funnel steps and window for a data folder: its ``funnel.json``, else the sample's.

    Your events have their own names; put a ``funnel.json`` beside them and every notebook and
    report uses it::

        {"steps": {"awareness": ["ad_click", "newsletter_click"], "visit": "page_view",
                   "cart": "add_to_cart", "purchase": "order_completed"},
         "window": "7D"}

    A step maps to one event name or a list of alternatives. The report uses
    :func:`funnel_steps` instead, which reads the spec (``cxkit.toml``'s ``[funnel]``, with
    ``funnel.json`` as its funnel part) and does not fall back on the sample's steps silently.

    Returns
    -------
    (dict, str)
        ``steps`` (step name → event or list of events) and ``window``.

    Examples
    --------
    >>> from cxkit.funnel import read_funnel_spec
    >>> steps, window = read_funnel_spec()
    >>> list(steps)[-1], window
    ('purchase', '14D')
    """
    import json
    from pathlib import Path

    path = Path(folder) / "funnel.json" if folder is not None else None
    if path is None or not path.exists():
        return dict(STEPS), "14D"
    try:
        spec = json.loads(path.read_text())
        steps = spec["steps"]
        if not isinstance(steps, dict) or not steps:
            raise ValueError("steps must be a non-empty object")
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(
            path,
            [
                {
                    "column": "steps",
                    "expected": f'{{"steps": {{"step name": "event" or [events], '
                    f'...}}, "window": "14D"}} ({exc})',
                }
            ],
        ) from None
    return steps, spec.get("window", "14D")


def _parse_window(window, source="funnel"):
    return duration(window, "window", source)


def _parse_step_windows(step_windows, labels, source="funnel"):
    """Per-step limits from the previous step: a list of K Timedeltas or None (None for step 1
    and for steps without their own limit)."""
    K = len(labels)
    out = [None] * K
    if step_windows is None:
        return out
    where = f"{source}(step_windows=...)"
    if isinstance(step_windows, dict):
        unknown = [key for key in step_windows if key not in labels[1:]]
        if unknown:
            raise DataError(
                where,
                [
                    {
                        "column": "step_windows",
                        "expected": "names of steps after the first (the first has no "
                        "previous step)",
                        "rows": len(unknown),
                        "examples": unknown[:5],
                    }
                ],
                columns=labels[1:],
            )
        items = [(labels.index(key), value) for key, value in step_windows.items()]
    elif isinstance(step_windows, list | tuple):
        if len(step_windows) != K - 1:
            raise DataError(
                where,
                [
                    {
                        "column": "step_windows",
                        "expected": f"one entry per step after the first ({K - 1} for "
                        f"{K} steps; None = no own limit); got {len(step_windows)}",
                    }
                ],
                columns=labels[1:],
            )
        items = list(enumerate(step_windows, start=1))
    else:
        raise DataError(
            where,
            [
                {
                    "column": "step_windows",
                    "expected": "a dict {step name: duration} or a list with one duration (or "
                    f"None) per step after the first; got {type(step_windows).__name__}",
                }
            ],
        )
    bad = []
    for k, value in items:
        if value is None:
            continue
        try:
            out[k] = duration(value, "step_windows", "funnel", allow_zero=True)
        except DataError:
            bad.append(f"{labels[k]}: {value!r}")
    if bad:
        raise DataError(
            where,
            [
                {
                    "column": "step_windows",
                    "expected": "durations such as '1D', '36h' or '30min' (or None)",
                    "rows": len(bad),
                    "examples": bad[:5],
                }
            ],
        )
    return out


def _normalise_steps(steps, stages, source="funnel"):
    """Return (labels, list of tuples of event names)."""
    if stages is not None:
        if not isinstance(stages, dict) or not stages:
            raise DataError(
                f"{source}(stages=...)",
                [{"column": "stages", "expected": "a dict mapping event names to stage names"}],
            )
        order = [s for s in STAGE_ORDER if s in set(stages.values())]
        order += [s for s in dict.fromkeys(stages.values()) if s not in order]
        wanted = order if steps is None else list(steps)
        unknown = [s for s in wanted if s not in order]
        if unknown:
            raise DataError(
                f"{source}(steps=...)",
                [
                    {
                        "column": "steps",
                        "expected": "stage names that appear in stages",
                        "rows": len(unknown),
                        "examples": unknown[:5],
                    }
                ],
                columns=order,
            )
        steps = {s: [e for e, st in stages.items() if st == s] for s in wanted}
    if steps is None or (hasattr(steps, "__len__") and len(steps) == 0):
        raise DataError(
            f"{source}(steps=...)",
            [
                {
                    "column": "steps",
                    "expected": "at least one "
                    "step (a list of event names, or a dict {step name: event(s)})",
                }
            ],
        )
    if isinstance(steps, str):
        steps = [steps]
    if not isinstance(steps, (dict, list, tuple)):
        raise DataError(
            f"{source}(steps=...)",
            [
                {
                    "column": "steps",
                    "expected": "a list of event names (an item may be a list of "
                    "alternatives) or a dict {step name: event(s)}; got "
                    f"{type(steps).__name__} {steps!r}",
                }
            ],
        )
    items = list(steps.items()) if isinstance(steps, dict) else [(None, s) for s in steps]
    labels, events = [], []
    for label, item in items:
        alts = (
            (item,)
            if isinstance(item, str)
            else tuple(item)
            if isinstance(item, (list, tuple, set))
            else ()
        )
        if not alts or not all(isinstance(a, str) for a in alts):
            raise DataError(
                f"{source}(steps=...)",
                [
                    {
                        "column": "steps",
                        "expected": "each step an event name or a non-empty list of event names",
                        "rows": 1,
                        "examples": [item],
                    }
                ],
            )
        name = str(label) if label is not None else " | ".join(alts)
        if name in labels:  # the same event twice in a row: "A", "A (2)"
            name = f"{name} ({sum(lab.split(' (')[0] == name for lab in labels) + 1})"
        labels.append(name)
        events.append(alts)
    return labels, events


def _parse_time(value, name, source):
    return None if value is None else moment(value, name, source)


def _stacklevel():
    """Stack level of the first frame outside cxkit, so warnings point at the user's call."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("cxkit"):
        frame, level = frame.f_back, level + 1
    return level


@dataclass(frozen=True)
class FunnelSteps:
    """The funnel a report uses: ``steps`` (None when there is none to use), the ``window``,
    other ``options`` for :func:`cxkit.funnel` (``entry``, ``step_windows``), ``notes``
    (findings saying where the steps came from, or why there are none) and ``variant`` (the
    column holding each person's arm when the spec names an A/B test, for
    :func:`cxkit.ab_test`)."""

    steps: dict | None
    window: str
    options: dict
    notes: list
    variant: str | None = None  # the spec's A/B test arm column (not an option of funnel())

    def __iter__(self):  # steps, window, notes = funnel_steps(journey)
        return iter((self.steps, self.window, self.notes))

    @property
    def kwargs(self):
        """Keyword arguments for :func:`cxkit.funnel` and friends: ``window`` and ``options``."""
        return {"window": self.window, **self.options}


def funnel_steps(journey, *, strict=False):
    """The funnel steps of a journey: its spec's ``[funnel]``, else the sample's when they fit.

    The spec's steps (``cxkit.toml``'s ``[funnel]`` or ``funnel.json``) are used as given.
    Without them, the sample's :data:`STEPS` are used only when every one of their events occurs
    in the data; otherwise there are no steps and the note says how to add them. A step whose
    events match no event makes the funnel unusable: ``steps`` is None and the note names the
    step and the events that exist (``strict=True`` raises :class:`DataError` instead).

    Parameters
    ----------
    journey : Journey
    strict : bool, default False
        Raise instead of returning no steps when a spec step matches no event.

    Returns
    -------
    FunnelSteps
        Unpacks as ``steps, window, notes``; ``.kwargs`` holds the window, entry and step
        windows to pass on.

    Examples
    --------
    >>> import cxkit
    >>> steps, window, notes = funnel_steps(cxkit.load_sample())
    >>> list(steps)[-1], window
    ('purchase', '14D')
    """
    from ..story import Finding, not_applicable

    spec = journey.spec.funnel or {}
    window = str(spec.get("window", "14D"))
    _parse_window(window, "cxkit.toml [funnel] window")
    options = {k: spec[k] for k in ("entry", "step_windows") if spec.get(k) is not None}
    variant = spec.get("variant")
    if variant is not None:
        have = [c for c in journey.events.columns if c not in ("customer_id", "timestamp")]
        if journey.customers is not None:
            have += [c for c in journey.customers.columns if c not in have]
        if variant not in have or variant in ("customer_id", "event"):
            raise DataError(
                f"{journey.spec.source} [funnel] variant",
                [
                    {
                        "column": "funnel.variant",
                        "expected": "a column of the events or customers table that holds "
                        f"each person's arm; '{variant}' is in neither",
                    }
                ],
                columns=[c for c in have if c not in ("customer_id", "event")],
                hint="fix the key 'funnel.variant' in the spec",
            )
    if journey.spec.skips("funnel"):
        why = "The funnel is left out of this report: the spec's skip list names it."
        return FunnelSteps(
            None, window, options, [not_applicable("funnel.steps", why)], variant=variant
        )
    from ..engine.frames import distinct

    present = set(distinct(journey, "event"))  # SELECT DISTINCT on an engine
    label = journey.spec.label
    if not spec.get("steps"):
        wanted = {
            e for alts in STEPS.values() for e in ([alts] if isinstance(alts, str) else alts)
        }
        if wanted <= present:
            note = Finding(
                "funnel.steps",
                "The funnel's steps are the sample's ({names}): the data has all their events "
                "and names no funnel of its own. Add a [funnel] section to cxkit.toml to choose "
                "the steps.",
                {"names": " → ".join(label(s) for s in STEPS)},
            )
            return FunnelSteps(dict(STEPS), window, options, [note], variant=variant)
        why = (
            "The funnel needs its steps: add a [funnel] section to cxkit.toml (cxkit init "
            "writes a starter)."
        )
        return FunnelSteps(
            None, window, options, [not_applicable("funnel.steps", why)], variant=variant
        )
    labels, events = _normalise_steps(spec["steps"], None, "cxkit.toml [funnel]")
    unmatched = [
        (lab, alts) for lab, alts in zip(labels, events, strict=True) if not set(alts) & present
    ]
    if unmatched:
        if strict:
            raise DataError(
                f"{journey.spec.source} [funnel] steps",
                [
                    {
                        "column": f"steps.{lab}",
                        "expected": "an event name that occurs in the events table",
                        "rows": len(alts),
                        "examples": list(alts)[:5],
                    }
                    for lab, alts in unmatched
                ],
                columns=sorted(present),
                hint="rename the step's events to names the events table uses",
            )
        why = Finding(
            "funnel.steps",
            "The funnel cannot be drawn: no event matches the step{s} {names} of the [funnel] "
            "section in cxkit.toml. The events in the data are {present}; fix the step names.",
            {
                "s": "s" if len(unmatched) > 1 else "",
                "names": ", ".join(f"{lab} ({' or '.join(alts)})" for lab, alts in unmatched),
                "present": ", ".join(sorted(present)[:20]) + (" …" if len(present) > 20 else ""),
            },
            applies=False,
        )
        return FunnelSteps(None, window, options, [why], variant=variant)
    return FunnelSteps(
        dict(zip(labels, map(list, events), strict=True)), window, options, [], variant=variant
    )

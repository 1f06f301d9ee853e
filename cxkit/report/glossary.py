"""The report's glossary, and links to it from the first use of each term on a page.

Each term is defined once (on the index page); every report links the first place it uses a
term to that definition, with the definition as the link's tooltip, so a reader who meets
"hazard ratio" or "ROC AUC" is one click (or a hover) from what it means.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

__all__ = ["TERMS", "glossary_html", "link_terms"]


@dataclass(frozen=True)
class Term:
    """A glossary entry: ``name`` as shown, the ``pattern`` that finds it in text, the
    ``definition``, and the survey kind it needs (None: always shown)."""

    name: str
    pattern: str
    definition: str
    needs: str | None = None

    @property
    def anchor(self):
        return "g-" + re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


TERMS = (
    Term(
        "Funnel step rate",
        r"step rate|step conversion",
        "Of the people who reached a step, the share who went on to the next one within the "
        "window (14 days unless stated).",
    ),
    Term(
        "Confidence interval (CI)",
        r"95% (?:confidence )?interval|\bCI\b",
        "The range the true value lies in with 95% confidence, given how many people the "
        "number rests on.",
    ),
    Term(
        "Adjusted p-value",
        r"adjusted p(?:-value)?",
        "The chance of a gap at least this large if there were none, corrected for testing "
        "many segments at once (Holm); below 0.05 the gap is unlikely to be chance.",
    ),
    Term(
        "Detectable gap (MDE)",
        r"\bMDE\b|detectable gap",
        "Minimum detectable effect: the smallest gap this many people can reveal 8 times "
        "out of 10; smaller real gaps may go unseen.",
    ),
    Term(
        "Censoring",
        r"\bcensor(?:ed|ing)\b",
        "Customers still active when the data was extracted: we know they stayed at least "
        "this long, not how long they will stay. Survival curves count them correctly; a "
        "plain average of tenure does not.",
    ),
    Term(
        "Hazard ratio",
        r"hazard ratios?",
        "How much a factor multiplies the risk of leaving at any moment: 2.0 doubles it, 0.5 "
        "halves it. It describes an association in this data, not a proven cause.",
    ),
    Term(
        "RMST",
        r"\bRMST\b|restricted mean",
        "Restricted mean survival time: the expected time a customer stays within a horizon "
        "(e.g. the first year).",
    ),
    Term(
        "ROC AUC",
        r"\bROC AUC\b",
        "The chance that the model ranks a random customer who left above a random one who "
        "stayed: 0.5 is guessing, 1.0 is perfect.",
    ),
    Term(
        "PR AUC",
        r"\bPR AUC\b",
        "Average precision: how often the customers the model flags really leave, averaged "
        "over list lengths; compare it with the share who leave.",
    ),
    Term(
        "Lift",
        r"\blift\b",
        "How many times more churners a model finds in its top-ranked group than random "
        "picking would.",
    ),
    Term(
        "NPS",
        r"\bNPS\b|Net Promoter Score",
        "Net Promoter Score: % promoters (9–10) minus % detractors (0–6), from −100 to 100.",
        needs="nps",
    ),
    Term(
        "CSAT",
        r"\bCSAT\b",
        "Customer satisfaction: % of answers that are 4 or 5 on a 1–5 scale.",
        needs="csat",
    ),
    Term(
        "CES",
        r"\bCES\b|customer effort",
        "Customer effort score: the average answer on a 1–7 scale of how easy it was (higher "
        "is easier).",
        needs="ces",
    ),
)


def _shown(kinds):
    return [t for t in TERMS if t.needs is None or t.needs in kinds]


def glossary_html(kinds=()):
    """The glossary as a ``<dl>``, each term with its anchor; survey terms only for the
    survey kinds (``"nps"``, ``"csat"``, ``"ces"``) the data has."""
    esc = html.escape
    rows = "".join(
        f'<dt id="{t.anchor}">{esc(t.name)}</dt><dd>{esc(t.definition)}</dd>\n'
        for t in _shown(kinds)
    )
    return f"<dl>\n{rows}</dl>"


_SKIP_PARENTS = {"a", "h1", "h2", "h3", "h4", "code", "pre", "script", "style", "title", "dt"}


def link_terms(page, *, href="index.html", kinds=()):
    """Link the first use of each glossary term in an HTML page to its definition.

    Text inside headings, links, code and the glossary itself is left alone; each term is
    linked once per page, with its definition as the tooltip.

    Examples
    --------
    >>> link_terms("<p>The hazard ratio is 2.</p>")  # doctest: +ELLIPSIS
    '<p>The <a class="gloss" href="index.html#g-hazard-ratio" title="How much ...">hazard ratio</a> is 2.</p>'
    """
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(page, "html.parser")
    todo = {t.anchor: t for t in _shown(kinds)}
    for node in list(soup.find_all(string=True)):
        if not todo:
            break
        if not isinstance(node, NavigableString) or type(node) is not NavigableString:
            continue  # comments, doctype …
        if any(p.name in _SKIP_PARENTS for p in node.parents if p.name):
            continue
        text = str(node)
        hits = [(m, t) for t in todo.values() if (m := re.search(t.pattern, text))]
        if not hits:
            continue
        pieces, at = [], 0
        for m, t in sorted(hits, key=lambda h: h[0].start()):
            if m.start() < at:
                continue  # overlaps a term linked just before
            pieces.append(text[at : m.start()])
            link = soup.new_tag("a", href=f"{href}#{t.anchor}", title=t.definition)
            link["class"] = "gloss"
            link.string = m.group(0)
            pieces.append(link)
            at = m.end()
            del todo[t.anchor]
        pieces.append(text[at:])
        for piece in pieces:
            node.insert_before(piece if not isinstance(piece, str) else NavigableString(piece))
        node.extract()
    return str(soup)

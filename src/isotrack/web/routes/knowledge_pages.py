"""The public knowledge pages: what isotrack checks and why.

``/knowledge`` (index), ``/knowledge/rules`` (the catalogue: every rule with its
severity, basis and sources), ``/knowledge/rules/{id}`` (one rule with its full
citations), ``/knowledge/claims`` (the seed articles' claims and their
verdicts), ``/knowledge/sources`` (the bibliography, one anchor per source).
They read only the knowledge base, like ``isotrack rules`` and
``GET /api/v1/knowledge/...``; no sign-in is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from isotrack.errors import NotFoundError
from isotrack.http.deps import KbDep
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.describe import active_programme, basis_text, programme_line
from isotrack.knowledge.model import Rule, Source
from isotrack.web.deps import OptionalWebUserDep
from isotrack.web.templating import render

router = APIRouter(prefix="/knowledge", include_in_schema=False)

TABLE_TITLES = {
    "order": "Order rules: checked when a prescription is written or dispensed",
    "course": "Course rules: checked over the whole course",
    "triage": "Triage rules: symptoms a patient reports",
}
GRADE_NAMES = {
    "P": "primary source",
    "S": "secondary source",
    "policy": "isotrack clinic policy (configurable)",
    "definition": "definition",
}


@dataclass(frozen=True, slots=True)
class RuleRow:
    """A rule as a page shows it: the entry, its basis in words, its sources."""

    rule: Rule
    basis: str
    sources: tuple[Source, ...]


def rule_row(kb: KnowledgeBase, rule: Rule) -> RuleRow:
    return RuleRow(rule, basis_text(rule.basis), tuple(kb.source(s) for s in rule.sources))


@router.get("", name="knowledge")
def knowledge_index(request: Request, kb: KbDep, _: OptionalWebUserDep) -> HTMLResponse:
    return render(
        request,
        "knowledge/index.html",
        {
            "rule_count": len(kb.rules),
            "claim_count": len(kb.claims),
            "source_count": len(kb.sources),
            "programme": programme_line(active_programme(kb)),
        },
    )


@router.get("/rules", name="knowledge_rules")
def rules_page(request: Request, kb: KbDep, _: OptionalWebUserDep) -> HTMLResponse:
    tables = [
        (table, title, [rule_row(kb, r) for r in kb.rules if r.table == table])
        for table, title in TABLE_TITLES.items()
    ]
    return render(request, "knowledge/rules.html", {"tables": tables})


@router.get("/rules/{rule_id}", name="knowledge_rule")
def rule_page(request: Request, rule_id: str, kb: KbDep, _: OptionalWebUserDep) -> HTMLResponse:
    try:
        rule = kb.rule(rule_id)
    except NotFoundError:
        raise NotFoundError(
            f"There is no rule {rule_id!r}. The list of rules has every rule id."
        ) from None
    return render(
        request,
        "knowledge/rule.html",
        {"row": rule_row(kb, rule), "table_title": TABLE_TITLES.get(rule.table, rule.table)},
    )


@router.get("/claims", name="knowledge_claims")
def claims_page(request: Request, kb: KbDep, _: OptionalWebUserDep) -> HTMLResponse:
    return render(request, "knowledge/claims.html", {"claims": kb.claims})


@router.get("/sources", name="knowledge_sources")
def sources_page(request: Request, kb: KbDep, _: OptionalWebUserDep) -> HTMLResponse:
    return render(request, "knowledge/sources.html", {"sources": kb.sources, "grades": GRADE_NAMES})

"""``/api/v1/knowledge``: the rule catalogue, the sources and the rated claims.
Public: the knowledge base holds no patient data, so no token is needed."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from isotrack.http.deps import KbDep

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])


class RuleOut(BaseModel):
    id: str
    title: str
    table: str
    severities: list[str]
    basis: str
    section: str
    fires_when: str
    action: str
    sources: list[str]


class SourceOut(BaseModel):
    id: str
    title: str
    grade: str
    citation: str
    url: str
    note: str


class ClaimOut(BaseModel):
    id: str
    claim: str
    rating: str
    reason: str
    topic: str
    sources: list[str]


@router.get("/rules", response_model=list[RuleOut], summary="The rule catalogue")
def list_rules(kb: KbDep) -> list[RuleOut]:
    return [
        RuleOut(
            id=r.id,
            title=r.title,
            table=str(r.table),
            severities=list(r.severities),
            basis=r.basis,
            section=r.section,
            fires_when=r.fires_when,
            action=r.action,
            sources=list(r.sources),
        )
        for r in kb.rules
    ]


@router.get("/sources", response_model=list[SourceOut], summary="The sources cited")
def list_sources(kb: KbDep) -> list[SourceOut]:
    return [
        SourceOut(
            id=s.id, title=s.title, grade=s.grade, citation=s.citation, url=s.url, note=s.note
        )
        for s in kb.sources
    ]


@router.get("/claims", response_model=list[ClaimOut], summary="Claims and their verdicts")
def list_claims(kb: KbDep) -> list[ClaimOut]:
    return [
        ClaimOut(
            id=c.id,
            claim=c.claim,
            rating=c.rating,
            reason=c.reason,
            topic=c.topic,
            sources=list(c.sources),
        )
        for c in kb.claims
    ]

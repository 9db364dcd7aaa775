"""Pydantic models of the API's responses shared by several routers.

Every route declares its response model, so the OpenAPI document describes
each body and Schemathesis can check the server keeps to it. The request models
of the command endpoints are in :mod:`isotrack.api.schemas_commands`.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from isotrack.clinical.findings import Assessment, Finding
from isotrack.knowledge.base import KnowledgeBase


class SourceRef(BaseModel):
    id: str
    title: str


class FindingOut(BaseModel):
    """One finding of the engine: what fired, how serious, why, and on what basis."""

    rule_id: str
    severity: str = Field(description="critical, warning or info")
    summary: str
    detail: str
    action: str
    basis: str
    policy: bool = Field(description="True when a clinic-policy threshold decided it")
    sources: list[SourceRef]
    data: dict[str, str] = Field(description="The patient data the rule used")


class AssessmentOut(BaseModel):
    evaluated_on: date
    findings: list[FindingOut] = Field(description="Most severe first, then by rule id")
    assumptions: list[str]
    context: dict[str, str]


class CommandResult(BaseModel):
    """A command stored in a patient's record."""

    patient_id: str
    type: str = Field(description="The command type, e.g. RecordWeight")
    version: int = Field(description="The record's version after the command (its ETag)")


def finding_out(finding: Finding, kb: KnowledgeBase) -> FindingOut:
    return FindingOut(
        rule_id=finding.rule_id,
        severity=finding.severity.label,
        summary=finding.summary,
        detail=finding.detail,
        action=finding.action,
        basis=finding.basis,
        policy=finding.policy,
        sources=[SourceRef(id=s, title=kb.source(s).title) for s in finding.sources],
        data=dict(finding.data),
    )


def assessment_out(assessment: Assessment, kb: KnowledgeBase) -> AssessmentOut:
    return AssessmentOut(
        evaluated_on=assessment.evaluated_on,
        findings=[finding_out(f, kb) for f in assessment.findings],
        assumptions=list(assessment.assumptions),
        context=dict(assessment.context),
    )

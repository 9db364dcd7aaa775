"""``/api/v1/audit``: the audit trail, page by page, and its verification (admin).

Admins see nothing clinical: the clinical keys of a row's detail (a refused
command and its reason, a comment on a CDS card) are withheld
(:data:`isotrack.store.audit.CLINICAL_DETAIL`). The row hash still covers them:
``/verify`` checks the whole row."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, select

from isotrack.http.authz import Action, Principal, require
from isotrack.http.deps import EngineDep
from isotrack.store import verify_audit
from isotrack.store.audit import without_clinical_detail
from isotrack.store.db import storage_errors
from isotrack.store.models import AuditRow

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

MAX_PAGE = 500


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    patient_id: str | None
    detail: str = Field(
        description="Canonical JSON; clinical keys (a refused command and its reason, a "
        "comment on a CDS card) are withheld and named under `withheld`: read them at "
        "/api/v1/patients/{id}/refused-commands"
    )
    before_hash: str | None
    after_hash: str | None
    row_hash: str


class AuditPage(BaseModel):
    total: int
    after: int = Field(description="The id the page starts after")
    items: list[AuditEntryOut]
    next_after: int | None = Field(description="Pass as ?after= for the next page")


class AuditVerificationOut(BaseModel):
    ok: bool
    rows: int
    first_broken: int | None
    reason: str
    head_hash: str


@router.get("", response_model=AuditPage, summary="The audit trail, oldest first, paged")
def read_audit(
    engine: EngineDep,
    _: Annotated[Principal, Depends(require(Action.AUDIT_READ))],
    after: Annotated[int, Query(ge=0, le=2**62, description="Start after this row id")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    patient_id: Annotated[str | None, Query(max_length=64)] = None,
) -> AuditPage:
    total, rows = _page(engine, after=after, limit=limit, patient_id=patient_id)
    items = [
        AuditEntryOut(**(row | {"detail": without_clinical_detail(row["action"], row["detail"])}))
        for row in rows
    ]
    return AuditPage(
        total=total,
        after=after,
        items=items,
        next_after=items[-1].id if len(items) == limit else None,
    )


@router.get(
    "/verify", response_model=AuditVerificationOut, summary="Check the audit trail's hash chain"
)
def verify(
    engine: EngineDep,
    _: Annotated[Principal, Depends(require(Action.AUDIT_READ))],
) -> AuditVerificationOut:
    found = verify_audit(engine)
    return AuditVerificationOut(
        ok=found.ok,
        rows=found.rows,
        first_broken=found.first_broken,
        reason=found.reason,
        head_hash=found.head_hash,
    )


def _page(
    engine: Engine, *, after: int, limit: int, patient_id: str | None
) -> tuple[int, list[dict[str, Any]]]:
    query = select(AuditRow).where(AuditRow.id > after).order_by(AuditRow.id).limit(limit)
    count = select(func.count()).select_from(AuditRow)
    if patient_id is not None:
        query = query.where(AuditRow.patient_id == patient_id)
        count = count.where(AuditRow.patient_id == patient_id)
    columns = ("id", "at", "actor", "action", "patient_id", "detail", "before_hash",
               "after_hash", "row_hash")  # fmt: skip
    with storage_errors(engine), engine.connect() as connection:
        total = connection.execute(count).scalar_one()
        rows = connection.execute(query.with_only_columns(*(getattr(AuditRow, c) for c in columns)))
        return int(total), [dict(zip(columns, row, strict=True)) for row in rows]

"""Write-back: the course summary into the EHR as a FHIR DocumentReference, when the
EHR granted isotrack the right to create DocumentReferences.

The document is a progress note (LOINC 11506-3 "Progress note", in the HL7 C-CDA on
FHIR value set ProgressNoteDocumentTypeCode, 2.16.840.1.113883.11.20.8.1:
https://www.hl7.org/fhir/us/ccda/ValueSet-2.16.840.1.113883.11.20.8.1.html) whose one
attachment is the summary as ``text/plain`` (UTF-8, base64 as FHIR requires), about
the EHR's patient. It is written only when a granted scope allows creating a
DocumentReference (:func:`may_create_documents`): SMART v2 ``patient/``, ``user/`` or
``system/`` ``DocumentReference.c`` (``.cruds``, ``.cu``…) or ``*.c``; SMART v1
``DocumentReference.write`` or ``.*`` (and ``*.write``, ``*.*``). A scope narrowed
by a query (``…c?category=…``) is not taken as leave to write this one. Otherwise
nothing is sent, and the reason says why.

Each document written is audited (``ehr:document-reference``: the FHIR base, the EHR
patient and the id the EHR gave it).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import Engine

from isotrack import SAFETY_LINE
from isotrack.clinical.record import course_view, replay
from isotrack.ehr.client import EhrClient, Json
from isotrack.ehr.summary import course_summary_text
from isotrack.knowledge import default_knowledge
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import AuditTrail, read_history
from isotrack.store.db import session_transaction
from isotrack.store.ehr import normalised_base

LOINC = "http://loinc.org"
PROGRESS_NOTE = "11506-3"
AUDIT_ACTION = "ehr:document-reference"
_SCOPE = re.compile(r"^(patient|user|system)/(DocumentReference|\*)\.([a-z*]+)$")
_V2_ORDER = "cruds"


@dataclass(frozen=True, slots=True)
class WriteBack:
    """What happened to the course summary: written (with the EHR's id), or why not."""

    written: bool
    reason: str
    document_id: str | None = None


def may_create_documents(scopes: str | Iterable[str]) -> tuple[bool, str]:
    """Whether the granted scopes allow creating a DocumentReference, and why (not)."""
    granted = scopes.split() if isinstance(scopes, str) else list(scopes)
    for scope in granted:
        found = _SCOPE.match(scope)
        if found is None:
            continue
        permissions = found.group(3)
        if permissions in ("write", "*") or ("c" in permissions and _is_v2_permission(permissions)):
            return True, f"the EHR granted {scope}"
    return False, (
        "the EHR did not grant isotrack the right to create DocumentReferences (a scope such "
        "as patient/DocumentReference.c): the course summary was not sent"
    )


def _is_v2_permission(permissions: str) -> bool:
    """c, r, u, d, s each at most once and in that order (SMART v2)."""
    positions = [_V2_ORDER.find(p) for p in permissions]
    return -1 not in positions and positions == sorted(set(positions))


def document_reference(summary: str, *, ehr_patient_id: str, now: datetime) -> Json:
    """The DocumentReference carrying ``summary`` for the EHR's patient."""
    data = base64.b64encode(summary.encode("utf-8")).decode("ascii")
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [{"system": LOINC, "code": PROGRESS_NOTE, "display": "Progress note"}],
            "text": "isotretinoin course summary",
        },
        "subject": {"reference": f"Patient/{ehr_patient_id}"},
        "date": now.isoformat(),
        "description": "isotretinoin course summary from isotrack",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "language": "en",
                    "data": data,
                    "title": "isotretinoin course summary",
                    "creation": now.isoformat(),
                }
            }
        ],
    }


def write_course_summary(
    engine: Engine,
    *,
    fhir_base_url: str,
    access_token: str,
    granted_scopes: str | Iterable[str],
    ehr_patient_id: str,
    patient_id: str,
    actor: str,
    now: datetime,
    http: httpx.Client | None = None,
    kb: KnowledgeBase | None = None,
) -> WriteBack:
    """POST the course summary of ``patient_id`` to the EHR as a DocumentReference
    about ``ehr_patient_id`` when the scopes allow it (an audited read of the record
    and an audited write); else nothing is sent. EhrReadError when the EHR refuses."""
    allowed, reason = may_create_documents(granted_scopes)
    if not allowed:
        return WriteBack(False, reason)
    kb = kb or default_knowledge()
    base = normalised_base(fhir_base_url)
    history = read_history(engine, patient_id, actor=actor, now=now)
    record = replay(((s.command, s.recorded_on) for s in history), kb=kb)
    view = course_view(
        record, [(s.command, s.recorded_on, s.actor) for s in history], on=now.date(), kb=kb
    )
    summary = course_summary_text(view, safety_line=SAFETY_LINE)
    with EhrClient(base, access_token, http) as client:
        stored = client.create(document_reference(summary, ehr_patient_id=ehr_patient_id, now=now))
    document_id = str(stored.get("id") or "")
    with session_transaction(engine) as session:
        AuditTrail(session).append(
            at=now,
            actor=actor,
            action=AUDIT_ACTION,
            patient_id=patient_id,
            detail={
                "fhir_base": base,
                "ehr_patient_id": ehr_patient_id,
                "document_id": document_id,
            },
        )
    return WriteBack(True, f"sent to the EHR as DocumentReference/{document_id}", document_id)

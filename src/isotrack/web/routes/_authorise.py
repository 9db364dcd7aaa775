"""Issuing a dispensing authorisation from a page: the one path the pharmacist's
check page and the prescriber's patient page share.

It is what ``POST /api/v1/patients/{id}/authorizations`` does: the programme's
own :func:`~isotrack.clinical.programme.authorize_dispense` on the record as read
in this request (a :class:`~isotrack.errors.ProgrammeRefusal` naming each unmet
requirement when it does not allow one today), a new ``PA-`` id, the prescriber of
the current prescription, stored as ``RecordAuthorization`` with the form's record
version (a record changed meanwhile: the 409 page, nothing stored).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from isotrack.clinical.programme import Authorization, as_command, authorize_dispense
from isotrack.clinical.state import PatientRecord
from isotrack.http.ids import new_authorization_id
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store.ppp_records import prescriber_of_current
from isotrack.web.deps import WebUser
from isotrack.web.routes._records import store_for


def issue_authorization(
    user: WebUser,
    engine: Engine,
    read: tuple[PatientRecord, int],
    *,
    now: datetime,
    kb: KnowledgeBase,
    version: int | None,
) -> Authorization:
    """Authorise dispensing the current prescription of the ``read`` record today, and
    store it as ``user``; raises ProgrammeRefusal (nothing stored) when not allowed."""
    record, current = read
    issued = authorize_dispense(
        record, on=now.date(), kb=kb, authorization_id=new_authorization_id(),
        prescriber=prescriber_of_current(engine, record),
    )  # fmt: skip
    store_for(
        user, engine, record.patient_id, as_command(issued), now=now, kb=kb,
        version=current if version is None else version,
    )  # fmt: skip
    return issued


def issued_text(issued: Authorization) -> str:
    """The confirmation shown once after issuing."""
    return (
        f"Authorisation {issued.id} created: up to {issued.max_quantity} capsules of "
        f"prescription {issued.prescription_id}, dispense by {issued.not_after.isoformat()}."
    )

"""Reading and changing a record for a signed-in browser user, through the API's
own access helpers (:mod:`isotrack.http.access`): the same patient-access
check, the same audited read, the same command store with optimistic locking.

- :func:`principal_of`: the :class:`~isotrack.http.authz.Principal` of a web user
  (a refusal after sign-in is audited like the API's);
- :func:`read_for`, :func:`store_for`: read a record / store a command as that user;
- :data:`PatientDep`, :func:`own_record`: the patient pages' user (patient accounts
  only; staff get the 403 page, audited as ``denied:patient-portal``) and their record;
- :func:`find_patients`: the pharmacy's look-up of patients
  (ids and names only, like ``GET /api/v1/patients``: not a read of anyone's record).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Form
from sqlalchemy import Engine, func, or_, select

from isotrack.clinical.state import AnyCommand, PatientRecord
from isotrack.http.access import read_allowed_record, store_command
from isotrack.http.authz import Action, Principal
from isotrack.http.deps import EngineDep, NowDep
from isotrack.http.schemas import CommandResult
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store.db import storage_errors
from isotrack.store.models import Patient
from isotrack.store.users import user_transaction
from isotrack.web.deps import PageForbidden, WebUser, require_page

VersionField = Annotated[int | None, Form(ge=0, le=2**31 - 1)]
"""The record version a form was drawn from (hidden field): a 409 page if it moved."""
SEARCH_LIMIT = 50
"""At most this many patients listed for one search (a page choice)."""


def principal_of(user: WebUser, engine: Engine, now: datetime) -> Principal:
    """The API's view of the web user; a refusal (another patient's record) is audited."""

    def record_denial(action: str, patient_id: str | None) -> None:
        with user_transaction(engine) as tx:
            tx.audit.append(at=now, actor=user.id, action=action, patient_id=patient_id)

    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        patient_id=user.patient_id,
        record_denial=record_denial,
    )


def read_for(
    user: WebUser, engine: Engine, patient_id: str, *, now: datetime, kb: KnowledgeBase
) -> tuple[PatientRecord, int]:
    """The record and its version, read (and audited) as ``user``."""
    return read_allowed_record(engine, patient_id, principal_of(user, engine, now), now=now, kb=kb)


def store_for(
    user: WebUser,
    engine: Engine,
    patient_id: str,
    command: AnyCommand,
    *,
    now: datetime,
    kb: KnowledgeBase,
    version: int | None,
) -> CommandResult:
    """Store ``command`` as ``user`` (ConflictError when the record moved past ``version``)."""
    principal = principal_of(user, engine, now)
    return store_command(engine, patient_id, command, principal, now=now, kb=kb, version=version)


def patient_user(
    user: Annotated[WebUser, Depends(require_page(Action.SELF_REPORT))],
    engine: EngineDep,
    now: NowDep,
) -> WebUser:
    """The signed-in patient (a staff account gets the 403 page, audited)."""
    if user.patient_id is None:
        with user_transaction(engine) as tx:
            tx.audit.append(at=now, actor=user.id, action="denied:patient-portal")
        raise PageForbidden(
            "These pages are for patients, to see their own treatment. Staff see patients "
            "from their own start page."
        )
    return user


PatientDep = Annotated[WebUser, Depends(patient_user)]


def own_record(
    user: WebUser, engine: Engine, now: datetime, kb: KnowledgeBase
) -> tuple[PatientRecord, int]:
    """The patient's own record and its version (one audited read)."""
    if user.patient_id is None:
        raise PageForbidden("This account holds no patient record.")
    return read_for(user, engine, user.patient_id, now=now, kb=kb)


def find_patients(engine: Engine, text: str) -> list[tuple[str, str]]:
    """(id, name) of the patients whose name contains ``text`` (any case) or whose id is
    ``text``, by name."""
    wanted = text.strip()
    if not wanted:
        return []
    query = (
        select(Patient.id, Patient.name)
        .where(
            or_(
                func.lower(Patient.name).contains(wanted.lower(), autoescape=True),
                Patient.id == wanted,
            )
        )
        .order_by(Patient.name, Patient.id)
        .limit(SEARCH_LIMIT)
    )
    with storage_errors(engine), engine.connect() as connection:
        return [(row.id, row.name) for row in connection.execute(query)]

"""What the clinician pages share: reading a record once per request (audited,
as the API reads), storing commands, and what the user's role may do there.

The clinic pages are staff pages: they need ``findings.read`` (prescribers and
nurses); a patient account has its own pages under ``/me``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine

from isotrack.clinical.record import PatientRecord
from isotrack.clinical.state import AnyCommand
from isotrack.http.access import PATIENT_ID_PATTERN
from isotrack.http.authz import Action
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import (
    PendingCommand,
    UnreadableRecord,
    execute,
    execute_many,
    read_checked,
    read_records,
)
from isotrack.web.deps import WebUser, require_page
from isotrack.web.templating import flash

ClinicUser = Annotated[WebUser, Depends(require_page(Action.FINDINGS_READ))]
PatientId = Annotated[str, Path(pattern=PATIENT_ID_PATTERN, max_length=64)]


@dataclass(frozen=True, slots=True)
class Permissions:
    """What the page offers to this user (the matrix decides; the routes check again)."""

    create: bool
    record: bool
    prescribe: bool
    override: bool
    manage_course: bool
    authorise: bool
    """Authorise a dispense from the patient page, and print the authorisation
    (``authorization.create`` on a clinic page: prescribers)."""

    @staticmethod
    def of(user: WebUser) -> Permissions:
        return Permissions(
            create=user.may(Action.PATIENT_CREATE),
            record=user.may(Action.CLINICAL_RECORD),
            prescribe=user.may(Action.PRESCRIBE),
            override=user.may(Action.FINDING_OVERRIDE),
            manage_course=user.may(Action.COURSE_MANAGE),
            authorise=user.may(Action.AUTHORIZATION_CREATE) and user.may(Action.FINDINGS_READ),
        )


@dataclass(frozen=True, slots=True)
class LoadedRecord:
    record: PatientRecord
    version: int
    history: tuple[tuple[AnyCommand, date, str], ...]
    """(command, recorded on, who recorded it), oldest first."""


def load_record(
    engine: Engine, patient_id: str, user: WebUser, *, now: datetime, kb: KnowledgeBase
) -> LoadedRecord:
    """The record, its version and its log: one audited read."""
    record, stored = read_checked(engine, patient_id, actor=user.username, now=now, kb=kb)
    return LoadedRecord(
        record=record,
        version=len(stored),
        history=tuple((s.command, s.recorded_on, s.actor) for s in stored),
    )


def load_all(
    engine: Engine, user: WebUser, *, now: datetime, kb: KnowledgeBase
) -> list[PatientRecord | UnreadableRecord]:
    """Every patient's record, each read audited, in one transaction; one that cannot be
    read back is an UnreadableRecord in its place (audited ``read-failed``)."""
    return read_records(engine, actor=user.username, now=now, kb=kb)


def store(
    engine: Engine,
    patient_id: str,
    commands: Sequence[AnyCommand],
    user: WebUser,
    *,
    now: datetime,
    kb: KnowledgeBase,
    version: int | None = None,
) -> int:
    """Store ``commands`` in one transaction (all or none); the new version."""
    if len(commands) == 1:
        _, new_version = execute(
            engine, patient_id, commands[0], actor=user.username, now=now, kb=kb,
            expected_version=version,
        )  # fmt: skip
        return new_version
    _, new_version = execute_many(
        engine,
        patient_id,
        [PendingCommand(command) for command in commands],
        actor=user.username,
        now=now,
        kb=kb,
        expected_version=version,
    )
    return new_version


def back_to_patient(request: Request, patient_id: str, message: str) -> RedirectResponse:
    """303 to the patient page with a message shown once."""
    response = RedirectResponse(f"/clinic/patients/{patient_id}", status_code=303)
    flash(request, response, message)
    return response

"""What the patient routers share: the patient id in the path, reading a record
the caller may see, and storing a command with optimistic locking.

Every read and every command goes through :mod:`isotrack.store` (one audited
transaction each) after :func:`~isotrack.http.authz.ensure_patient_access` has
checked that the caller may touch this patient's record (403 otherwise: a
patient only reaches their own record, whatever id they try).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import Header, Path, Query
from sqlalchemy import Engine

from isotrack.clinical.record import PatientRecord
from isotrack.clinical.state import AnyCommand, EnrolPatient, command_type
from isotrack.errors import InvalidInputError, NotFoundError
from isotrack.http.authz import Principal, ensure_patient_access
from isotrack.http.schemas import CommandResult
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import UnitOfWork, execute, read_record

PATIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""New patients get UUIDs; imported and demo records keep ids such as ``demo-ana``."""

PatientIdPath = Annotated[
    str,
    Path(
        description="The patient's id (a UUID for patients created through the API)",
        pattern=PATIENT_ID_PATTERN,
        max_length=64,
    ),
]
ExpectedVersionQuery = Annotated[
    int | None,
    Query(
        alias="expected_version",
        ge=0,
        le=2**31 - 1,
        description="The record version you saw; 409 if the record has moved since. "
        "The If-Match header (the ETag of the record) does the same.",
    ),
]
IfMatchHeader = Annotated[
    str | None,
    Header(
        max_length=40,
        description='The record version you saw, as an ETag ("7"); 409 if it has moved.',
    ),
]
_ETAG = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')


def expected_version(query: int | None, if_match: str | None) -> int | None:
    """The version the caller saw: ``?expected_version=`` or ``If-Match``; None: any."""
    if if_match is None or if_match.strip() == "*":
        return query
    found = _ETAG.match(if_match.strip())
    if found is None:
        raise InvalidInputError("If-Match", 'must be the record\'s ETag, e.g. "7"')
    header = int(found.group(1))
    if query is not None and query != header:
        raise InvalidInputError(
            "expected_version", f"{query} disagrees with If-Match {header}: give one of them"
        )
    return header


def etag(version: int) -> str:
    return f'"{version}"'


def read_allowed_record(
    engine: Engine, patient_id: str, principal: Principal, *, now: datetime, kb: KnowledgeBase
) -> tuple[PatientRecord, int]:
    """The record and its version, after checking the caller may see it (audited read)."""
    ensure_patient_access(principal, patient_id)
    return read_record(engine, patient_id, actor=principal.username, now=now, kb=kb)


def store_command(
    engine: Engine,
    patient_id: str,
    command: AnyCommand,
    principal: Principal,
    *,
    now: datetime,
    kb: KnowledgeBase,
    version: int | None = None,
) -> CommandResult:
    """Check the caller may write this patient's record, then apply and store ``command``."""
    ensure_patient_access(principal, patient_id)
    if not isinstance(command, EnrolPatient):
        require_patient(engine, patient_id)
    _, new_version = execute(
        engine, patient_id, command, actor=principal.username, now=now, kb=kb,
        expected_version=version,
    )  # fmt: skip
    return CommandResult(patient_id=patient_id, type=command_type(command), version=new_version)


def require_patient(engine: Engine, patient_id: str) -> None:
    """NotFoundError unless the patient is in the database (not an audited read)."""
    with UnitOfWork(engine) as uow:
        if uow.patients.version(patient_id) == 0:
            raise NotFoundError(f"no patient {patient_id!r}: create the patient first")

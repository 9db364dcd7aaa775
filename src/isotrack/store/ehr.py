"""EHR patients linked to isotrack records, and what was read from the EHR.

A link joins one EHR's patient (its FHIR base and Patient id) to one isotrack
record, by an identifier (system and value) the EHR gives the patient. At most one
link per EHR patient: linking one already linked is refused (ConflictError), so two
isotrack records never claim the same EHR patient. Linking and unlinking are audited
(``ehr-link:create`` / ``ehr-link:remove``, with the base, the EHR id and the
identifier).

What was read: each EHR resource read into a record, at the version read
(:class:`ReadResource`), and the resource(s) each stored command came from (its
provenance, :func:`command_sources`). Both are written in the transaction that
stores the commands (:func:`save_provenance`, called by
:func:`isotrack.store.execute_many`'s ``also``), so a command and its provenance
are stored together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isotrack.errors import ConflictError, InvalidInputError, NotFoundError
from isotrack.store.audit import AuditTrail
from isotrack.store.db import session_transaction, storage_errors
from isotrack.store.models import (
    EhrCommandSourceRow,
    EhrLinkRow,
    EhrResourceRow,
    Patient,
)

ACTION_PREFIX = "ehr-link:"


@dataclass(frozen=True, slots=True)
class EhrLink:
    fhir_base: str
    ehr_patient_id: str
    identifier_system: str
    identifier_value: str
    patient_id: str
    linked_by: str
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class ReadResource:
    """An EHR resource as read into a record: ``Type/id`` at a version."""

    resource_type: str
    resource_id: str
    version_id: str = ""
    last_updated: str = ""

    @property
    def label(self) -> str:
        return f"{self.resource_type}/{self.resource_id}"


def normalised_base(fhir_base: str) -> str:
    """The FHIR base as kept: without a trailing slash; refused when not http(s)."""
    base = fhir_base.strip().rstrip("/")
    if not base.startswith(("https://", "http://")) or len(base) > 500:
        raise InvalidInputError("fhir_base", f"not an http(s) FHIR base URL: {fhir_base!r}")
    return base


def link_patient(
    engine: Engine,
    *,
    fhir_base: str,
    ehr_patient_id: str,
    identifier_system: str,
    identifier_value: str,
    patient_id: str,
    actor: str,
    now: datetime,
) -> EhrLink:
    """Link the EHR's patient to isotrack's ``patient_id`` (audited). NotFoundError when
    the isotrack patient does not exist; ConflictError when the EHR patient is linked."""
    base = normalised_base(fhir_base)
    _require("ehr_patient_id", ehr_patient_id, 64)
    _require("identifier_system", identifier_system, 500)
    _require("identifier_value", identifier_value, 200)
    link = EhrLink(
        base, ehr_patient_id, identifier_system, identifier_value, patient_id, actor, now
    )
    try:
        with session_transaction(engine) as session:
            if session.get(Patient, patient_id) is None:
                raise NotFoundError(f"no isotrack patient {patient_id!r} to link")
            if session.get(EhrLinkRow, (base, ehr_patient_id)) is not None:
                raise _already_linked(base, ehr_patient_id)
            add_link(session, link)
    except IntegrityError:  # a link made between the check and the insert
        raise _already_linked(base, ehr_patient_id) from None
    return link


def add_link(session: Session, link: EhrLink) -> None:
    """Store ``link`` and its audit row in the caller's transaction."""
    session.add(
        EhrLinkRow(
            fhir_base=link.fhir_base,
            ehr_patient_id=link.ehr_patient_id,
            identifier_system=link.identifier_system,
            identifier_value=link.identifier_value,
            patient_id=link.patient_id,
            linked_by=link.linked_by,
            linked_at=link.linked_at,
        )
    )
    session.flush()
    _audit(session, "create", link, link.linked_by, link.linked_at)


def unlink_patient(
    engine: Engine, *, fhir_base: str, ehr_patient_id: str, actor: str, now: datetime
) -> str | None:
    """Remove the EHR patient's link (audited): the isotrack patient it linked to, None
    when there was none. What was read from the EHR stays in the record, with its
    provenance."""
    base = normalised_base(fhir_base)
    with session_transaction(engine) as session:
        row = session.get(EhrLinkRow, (base, ehr_patient_id))
        if row is None:
            return None
        link = _link(row)
        session.execute(
            delete(EhrLinkRow).where(
                EhrLinkRow.fhir_base == base, EhrLinkRow.ehr_patient_id == ehr_patient_id
            )
        )
        _audit(session, "remove", link, actor, now)
    return link.patient_id


def find_link(engine: Engine, fhir_base: str, ehr_patient_id: str) -> EhrLink | None:
    """The link of the EHR's patient, or None."""
    base = normalised_base(fhir_base)
    with storage_errors(engine), Session(engine) as session:
        row = session.get(EhrLinkRow, (base, ehr_patient_id))
        return None if row is None else _link(row)


def links_of(engine: Engine, patient_id: str) -> list[EhrLink]:
    """Every EHR patient linked to the isotrack patient."""
    query = select(EhrLinkRow).where(EhrLinkRow.patient_id == patient_id)
    with storage_errors(engine), Session(engine) as session:
        return [_link(row) for row in session.scalars(query.order_by(EhrLinkRow.fhir_base))]


def read_resources(engine: Engine, fhir_base: str, patient_id: str) -> dict[str, ReadResource]:
    """The EHR resources already read into the patient's record, by ``Type/id``."""
    query = select(EhrResourceRow).where(
        EhrResourceRow.fhir_base == normalised_base(fhir_base),
        EhrResourceRow.patient_id == patient_id,
    )
    with storage_errors(engine), Session(engine) as session:
        found = (
            ReadResource(r.resource_type, r.resource_id, r.version_id, r.last_updated)
            for r in session.scalars(query)
        )
        return {r.label: r for r in found}


def command_sources(engine: Engine, patient_id: str) -> dict[int, str]:
    """``seq`` → the EHR resource(s) the command was read from, e.g. ``Observation/7``
    (several joined by ", "); the versions read are in :func:`read_resources`."""
    query = select(EhrCommandSourceRow).where(EhrCommandSourceRow.patient_id == patient_id)
    with storage_errors(engine), Session(engine) as session:
        return {row.seq: row.resources for row in session.scalars(query)}


def save_provenance(
    session: Session,
    *,
    fhir_base: str,
    patient_id: str,
    first_seq: int,
    sources: Iterable[str],
    resources: Iterable[ReadResource],
    actor: str,
    now: datetime,
) -> None:
    """In the transaction that stored the commands from ``first_seq`` on: each one's
    provenance (``sources``, in order) and the resources read (a resource read before
    is kept at the version first read)."""
    base = normalised_base(fhir_base)
    for seq, resources_text in enumerate(sources, start=first_seq):
        session.add(
            EhrCommandSourceRow(
                patient_id=patient_id, seq=seq, fhir_base=base, resources=resources_text
            )
        )
    for resource in resources:
        key = (base, resource.resource_type, resource.resource_id)
        if session.get(EhrResourceRow, key) is not None:
            continue
        session.add(
            EhrResourceRow(
                fhir_base=base,
                resource_type=resource.resource_type,
                resource_id=resource.resource_id,
                version_id=resource.version_id,
                last_updated=resource.last_updated,
                patient_id=patient_id,
                read_by=actor,
                read_at=now,
            )
        )
    session.flush()


def _require(field: str, value: str, longest: int) -> None:
    if not value.strip() or len(value) > longest or not value.isprintable():
        raise InvalidInputError(field, f"must be 1–{longest} printable characters")


def _already_linked(base: str, ehr_patient_id: str) -> ConflictError:
    return ConflictError(
        f"the EHR patient Patient/{ehr_patient_id} of {base} is already linked to an isotrack "
        "record: unlink it first to link it to another"
    )


def _link(row: EhrLinkRow) -> EhrLink:
    return EhrLink(
        row.fhir_base,
        row.ehr_patient_id,
        row.identifier_system,
        row.identifier_value,
        row.patient_id,
        row.linked_by,
        row.linked_at,
    )


def _audit(session: Session, action: str, link: EhrLink, actor: str, now: datetime) -> None:
    AuditTrail(session).append(
        at=now,
        actor=actor,
        action=ACTION_PREFIX + action,
        patient_id=link.patient_id,
        detail={
            "fhir_base": link.fhir_base,
            "ehr_patient_id": link.ehr_patient_id,
            "identifier_system": link.identifier_system,
            "identifier_value": link.identifier_value,
        },
    )

"""The use cases of reading the record from the EHR: preview, enrol, sync.

- :func:`preview_from_ehr`: what enrolling the EHR's patient would store (nothing is
  stored; the enrol page shows it);
- :func:`enrol_from_ehr`: a new isotrack patient from the EHR's data, linked to the
  EHR patient, with the first read, in ONE transaction;
- :func:`sync_from_ehr`: read the EHR again into the linked record; a second read of
  the same EHR data adds nothing.

Every command stored from the EHR keeps its provenance (the EHR resource it was read
from), stored in the same transaction as the command (:mod:`isotrack.store.ehr`), and
is recorded by ``actor`` on ``now``'s day. The record's own checks still run: a
command the record refuses is a finding, not a failure of the whole read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isotrack.clinical.record import replay
from isotrack.ehr.client import EhrClient
from isotrack.ehr.identifiers import link_identifier
from isotrack.ehr.plan import ProvenanceItem, SyncPlan, plan_sync, resource_labels
from isotrack.ehr.reading import EhrRecord, read_patient_record
from isotrack.errors import ConflictError
from isotrack.knowledge import default_knowledge
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import PendingCommand, execute_many, read_history
from isotrack.store.ehr import (
    EhrLink,
    add_link,
    find_link,
    normalised_base,
    read_resources,
    save_provenance,
)
from isotrack.store.ehr import link_patient as store_link
from isotrack.store.ehr import unlink_patient as store_unlink


@dataclass(frozen=True)
class EhrSyncResult:
    """What a read of the EHR did."""

    patient_id: str | None
    """The linked isotrack patient; None when the EHR patient is not linked yet."""
    added: int
    """Commands stored."""
    already_present: int
    """EHR resources read before at the same version."""
    provenance: list[ProvenanceItem]
    findings: list[str] = field(default_factory=list)
    """What could not be read or stored, and what changed in the EHR."""
    notes: list[str] = field(default_factory=list)
    """What the reader skipped or assumed (facts the record cannot hold)."""


@dataclass(frozen=True, slots=True)
class EhrPreview:
    """The EHR's patient and what enrolling them would store."""

    record: EhrRecord
    plan: SyncPlan
    provenance: list[ProvenanceItem]
    identifier: tuple[str, str]
    """(system, value) of the identifier a link would be made by."""


def link_patient(
    engine: Engine,
    *,
    fhir_base_url: str,
    ehr_patient_id: str,
    identifier_system: str,
    identifier_value: str,
    patient_id: str,
    actor: str,
    now: datetime,
) -> EhrLink:
    """Link the EHR's patient to the isotrack record ``patient_id`` by the identifier
    (audited). ConflictError when the EHR patient is linked already; NotFoundError
    when there is no such isotrack patient."""
    return store_link(
        engine,
        fhir_base=fhir_base_url,
        ehr_patient_id=ehr_patient_id,
        identifier_system=identifier_system,
        identifier_value=identifier_value,
        patient_id=patient_id,
        actor=actor,
        now=now,
    )


def unlink_patient(
    engine: Engine, *, fhir_base_url: str, ehr_patient_id: str, actor: str, now: datetime
) -> str | None:
    """Remove the EHR patient's link (audited): the isotrack patient it linked to, None
    when there was none."""
    return store_unlink(
        engine, fhir_base=fhir_base_url, ehr_patient_id=ehr_patient_id, actor=actor, now=now
    )


def find_linked_patient(engine: Engine, fhir_base_url: str, ehr_patient_id: str) -> str | None:
    """The isotrack patient linked to the EHR's patient, or None."""
    link = find_link(engine, fhir_base_url, ehr_patient_id)
    return None if link is None else link.patient_id


def preview_from_ehr(
    *,
    fhir_base_url: str,
    access_token: str,
    ehr_patient_id: str,
    now: datetime,
    http: httpx.Client | None = None,
    kb: KnowledgeBase | None = None,
) -> EhrPreview:
    """Read the EHR's patient and plan their enrolment; nothing is stored."""
    kb = kb or default_knowledge()
    base = normalised_base(fhir_base_url)
    with EhrClient(base, access_token, http) as client:
        record = read_patient_record(client, ehr_patient_id)
    plan = plan_sync(record, kb=kb, on=now.date(), patient_id="new", existing=None, read_before={})
    return EhrPreview(record, plan, plan.provenance(kb), link_identifier(record))


def enrol_from_ehr(
    engine: Engine,
    *,
    fhir_base_url: str,
    access_token: str,
    ehr_patient_id: str,
    actor: str,
    now: datetime,
    http: httpx.Client | None = None,
    kb: KnowledgeBase | None = None,
    patient_id: str | None = None,
) -> EhrSyncResult:
    """Enrol the EHR's patient as a new isotrack patient (``patient_id``, default a new
    UUID), link them and store the first read, all in one transaction. ConflictError
    when the EHR patient is linked already."""
    kb = kb or default_knowledge()
    base = normalised_base(fhir_base_url)
    if find_link(engine, base, ehr_patient_id) is not None:
        raise _linked_already(base, ehr_patient_id)
    target = patient_id or str(uuid.uuid4())
    with EhrClient(base, access_token, http) as client:
        record = read_patient_record(client, ehr_patient_id)
    plan = plan_sync(record, kb=kb, on=now.date(), patient_id=target, existing=None, read_before={})
    system, value = link_identifier(record)
    link = EhrLink(base, ehr_patient_id, system, value, plan.patient_id, actor, now)
    return _store(engine, plan, base, actor=actor, now=now, kb=kb, version=0, link=link)


def sync_from_ehr(
    engine: Engine,
    *,
    fhir_base_url: str,
    access_token: str,
    ehr_patient_id: str,
    actor: str,
    now: datetime,
    http: httpx.Client | None = None,
    kb: KnowledgeBase | None = None,
) -> EhrSyncResult:
    """Read the EHR's record into the linked isotrack record (an audited read and, when
    there is something new, one transaction). Not linked: nothing is read or stored,
    and the result's ``patient_id`` is None. EhrReadError when the EHR's Patient
    cannot be read."""
    kb = kb or default_knowledge()
    base = normalised_base(fhir_base_url)
    link = find_link(engine, base, ehr_patient_id)
    if link is None:
        return EhrSyncResult(None, 0, 0, [], findings=[_not_linked(base, ehr_patient_id)])
    with EhrClient(base, access_token, http) as client:
        record = read_patient_record(client, ehr_patient_id)
    history = read_history(engine, link.patient_id, actor=actor, now=now)
    existing = replay(((s.command, s.recorded_on) for s in history), kb=kb)
    plan = plan_sync(
        record,
        kb=kb,
        on=now.date(),
        patient_id=link.patient_id,
        existing=existing,
        read_before=read_resources(engine, base, link.patient_id),
    )
    return _store(engine, plan, base, actor=actor, now=now, kb=kb, version=len(history))


def _store(
    engine: Engine,
    plan: SyncPlan,
    base: str,
    *,
    actor: str,
    now: datetime,
    kb: KnowledgeBase,
    version: int,
    link: EhrLink | None = None,
) -> EhrSyncResult:
    """Store the plan's commands with their provenance (and the new link) at once."""
    first: list[int] = []

    def also(session: Session, first_seq: int) -> None:
        first.append(first_seq)
        if link is not None:
            add_link(session, link)
        save_provenance(
            session,
            fhir_base=base,
            patient_id=plan.patient_id,
            first_seq=first_seq,
            sources=(", ".join(_labels(s)) for s in plan.sources),
            resources=plan.read,
            actor=actor,
            now=now,
        )

    pending = [PendingCommand(c, recorded_on=now.date()) for c in plan.commands]
    try:
        execute_many(
            engine, plan.patient_id, pending, actor=actor, now=now, kb=kb,
            expected_version=version, also=also,
        )  # fmt: skip
    except IntegrityError:  # linked by someone else since the check: nothing was stored
        if link is None:
            raise
        raise _linked_already(base, link.ehr_patient_id) from None
    return EhrSyncResult(
        plan.patient_id,
        len(plan.commands),
        plan.already_present,
        plan.provenance(kb, first[0] if first else None),
        list(plan.findings),
        list(plan.notes),
    )


def _labels(source: str) -> list[str]:
    return resource_labels(source) or [source or "the EHR"]


def _linked_already(base: str, ehr_patient_id: str) -> ConflictError:
    return ConflictError(
        f"the EHR patient Patient/{ehr_patient_id} of {base} is already linked to an isotrack "
        "record: read the EHR into that record instead"
    )


def _not_linked(base: str, ehr_patient_id: str) -> str:
    return (
        f"the EHR patient Patient/{ehr_patient_id} of {base} is linked to no isotrack record: "
        "enrol them from the EHR first"
    )

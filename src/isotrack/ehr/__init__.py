"""The record read from the EHR, and the course summary written back to it.

A service, like ``fhir/`` and ``store/``: it reads the EHR's FHIR R4 server over HTTP
with the access token the EHR granted (a SMART launch gets it), turns what it reads
into commands with the FHIR reader (:mod:`isotrack.fhir.import_record`), and stores
them with their provenance (:mod:`isotrack.store.ehr`).

Public API::

    find_linked_patient(engine, fhir_base_url, ehr_patient_id) -> str | None
    link_patient(engine, *, fhir_base_url, ehr_patient_id, identifier_system,
                 identifier_value, patient_id, actor, now) -> EhrLink
    unlink_patient(engine, *, fhir_base_url, ehr_patient_id, actor, now) -> str | None
    preview_from_ehr(*, fhir_base_url, access_token, ehr_patient_id, now, http=None)
        -> EhrPreview                     what enrolling would store; nothing stored
    enrol_from_ehr(engine, *, fhir_base_url, access_token, ehr_patient_id, actor, now,
                   http=None) -> EhrSyncResult     new patient + link + first read
    sync_from_ehr(engine, *, fhir_base_url, access_token, ehr_patient_id, actor, now,
                  http=None) -> EhrSyncResult      read again into the linked record
    may_create_documents(scopes) -> (bool, why)
    write_course_summary(engine, *, fhir_base_url, access_token, granted_scopes,
                         ehr_patient_id, patient_id, actor, now, http=None) -> WriteBack

Where to look: the HTTP client and its errors in ``client.py``; what is searched in
``reading.py``; the commands, provenance and the rule for a changed EHR resource in
``plan.py``; the use cases in ``sync.py``; the identifier a link is made by in
``identifiers.py``; the DocumentReference in ``writeback.py`` and its text in
``summary.py``.

Errors: :class:`EhrReadError` (the EHR refused or did not answer: its
OperationOutcome's words), ConflictError (the EHR patient is linked already),
NotFoundError (no such isotrack patient), InvalidInputError (a bad FHIR base or id),
CommandRejected (the record refuses the enrolment itself).
"""

from __future__ import annotations

from isotrack.ehr.client import EhrReadError
from isotrack.ehr.plan import ProvenanceItem
from isotrack.ehr.sync import (
    EhrPreview,
    EhrSyncResult,
    enrol_from_ehr,
    find_linked_patient,
    link_patient,
    preview_from_ehr,
    sync_from_ehr,
    unlink_patient,
)
from isotrack.ehr.writeback import WriteBack, may_create_documents, write_course_summary
from isotrack.store.ehr import EhrLink

__all__ = [
    "EhrLink",
    "EhrPreview",
    "EhrReadError",
    "EhrSyncResult",
    "ProvenanceItem",
    "WriteBack",
    "enrol_from_ehr",
    "find_linked_patient",
    "link_patient",
    "may_create_documents",
    "preview_from_ehr",
    "sync_from_ehr",
    "unlink_patient",
    "write_course_summary",
]

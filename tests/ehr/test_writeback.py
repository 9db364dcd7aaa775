"""The course summary written back to a real FHIR R4 server as a DocumentReference,
only when the granted scopes allow it."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import Engine

from isotrack import SAFETY_LINE
from isotrack.ehr import enrol_from_ehr, may_create_documents, write_course_summary
from isotrack.knowledge import KnowledgeBase
from isotrack.store import UnitOfWork
from tests.ehr.conftest import NOW
from tests.fhir_server.harness import TOKEN, FhirServer


def enrolled(engine: Engine, server: FhirServer, ehr_id: str, kb: KnowledgeBase) -> str:
    result = enrol_from_ehr(
        engine, fhir_base_url=server.url, access_token=TOKEN, ehr_patient_id=ehr_id,
        actor="dr-lee", now=NOW, kb=kb,
    )  # fmt: skip
    assert result.patient_id is not None
    return result.patient_id


def documents_of(server: FhirServer, ehr_id: str) -> int:
    return int(server.read(f"DocumentReference?subject=Patient/{ehr_id}&_count=1")["total"])


def test_the_course_summary_arrives_in_the_ehr_when_the_scopes_allow_it(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    ehr_id = fhir_server.patient_id("Elvina")
    patient_id = enrolled(engine, fhir_server, ehr_id, kb)

    written = write_course_summary(
        engine,
        fhir_base_url=fhir_server.url,
        access_token=TOKEN,
        granted_scopes="launch openid patient/Observation.rs patient/DocumentReference.c",
        ehr_patient_id=ehr_id,
        patient_id=patient_id,
        actor="dr-lee",
        now=NOW,
        kb=kb,
    )

    assert written.written
    assert written.document_id
    document = fhir_server.read(f"DocumentReference/{written.document_id}")
    assert document["subject"] == {"reference": f"Patient/{ehr_id}"}
    assert document["type"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "11506-3",
        "display": "Progress note",
    }
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"] == "text/plain; charset=utf-8"
    text = base64.b64decode(attachment["data"]).decode("utf-8")
    assert "Patient: Elvina Lemke, born 1953-06-02" in text
    assert "Latest weight: " in text
    assert SAFETY_LINE in text
    with UnitOfWork(engine) as uow:
        audited = [e for e in uow.audit.entries(patient_id) if e.action == "ehr:document-reference"]
    assert [e.detail["document_id"] for e in audited] == [written.document_id]


def test_without_a_scope_to_create_documents_nothing_is_sent_and_the_reason_is_given(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    ehr_id = fhir_server.patient_id("Ammie")
    patient_id = enrolled(engine, fhir_server, ehr_id, kb)
    before = documents_of(fhir_server, ehr_id)

    written = write_course_summary(
        engine,
        fhir_base_url=fhir_server.url,
        access_token=TOKEN,
        granted_scopes="launch openid patient/*.rs patient/DocumentReference.r",
        ehr_patient_id=ehr_id,
        patient_id=patient_id,
        actor="dr-lee",
        now=NOW,
        kb=kb,
    )

    assert not written.written
    assert written.document_id is None
    assert "did not grant isotrack the right to create DocumentReferences" in written.reason
    assert documents_of(fhir_server, ehr_id) == before


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [
        ("patient/DocumentReference.c", True),
        ("user/DocumentReference.cruds", True),
        ("system/DocumentReference.cu", True),
        ("patient/*.cruds", True),
        ("patient/DocumentReference.write", True),
        ("patient/*.*", True),
        ("patient/DocumentReference.read", False),
        ("patient/DocumentReference.rs", False),
        ("patient/DocumentReference.rc", False),  # not SMART v2 order: not a permission
        ("patient/Observation.c", False),
        ("patient/DocumentReference.c?category=clinical-note", False),
        ("", False),
    ],
)
def test_which_scopes_allow_creating_a_document(scopes: str, allowed: bool) -> None:
    assert may_create_documents(scopes)[0] is allowed

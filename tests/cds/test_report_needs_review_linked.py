"""patient-view finds the isotrack record of the EHR's patient through its link
(issue 17): REPORT-NEEDS-REVIEW when the linked record has a report to review, even
though the EHR's patient id is not the record's id."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from isotrack.clinical.state import EnrolPatient, RecordSymptoms
from isotrack.ehr import link_patient
from isotrack.knowledge import KnowledgeBase
from isotrack.store import execute
from tests.cds.conftest import CDS_NOW
from tests.cds.hooks import PATIENT_VIEW, hook_request
from tests.cds.test_hooks import active_order, male_prefetch, post, rules
from tests.fhir.builders import PATIENT_ID

TODAY = CDS_NOW.date()
EHR = "https://ehr.example/fhir/R4"
RECORD_ID = "isotrack-record-7"


def ask(client: TestClient, **extra: str) -> list[str]:
    prefetch = male_prefetch(medications=[active_order(TODAY.replace(day=1).isoformat())])
    request = hook_request(PATIENT_VIEW, PATIENT_ID, prefetch=prefetch, **extra)
    return rules(post(client, PATIENT_VIEW, request))


def test_the_report_of_the_linked_record_is_a_card(
    cds_client: TestClient, cds_engine: Engine, kb: KnowledgeBase
) -> None:
    for command in (
        EnrolPatient(
            on=TODAY,
            patient_id=RECORD_ID,
            name="Sam Moreau",
            birth_date=date(1998, 5, 4),
            sex="male",
        ),
        RecordSymptoms(on=TODAY, symptoms=("severe-headache",)),
    ):
        execute(cds_engine, RECORD_ID, command, actor="test", now=CDS_NOW, kb=kb)
    assert "REPORT-NEEDS-REVIEW" not in ask(cds_client, fhirServer=EHR)  # not linked yet

    link_patient(
        cds_engine,
        fhir_base_url=EHR,
        ehr_patient_id=PATIENT_ID,
        identifier_system="https://hospital.example/mrn",
        identifier_value="MRN-7",
        patient_id=RECORD_ID,
        actor="dr-lee",
        now=CDS_NOW,
    )

    assert "REPORT-NEEDS-REVIEW" in ask(cds_client, fhirServer=EHR)
    assert "REPORT-NEEDS-REVIEW" not in ask(cds_client, fhirServer="https://other-ehr.example/fhir")

"""patient-view answers REPORT-NEEDS-REVIEW when the EHR's patient is also an
isotrack record with a "stop" report no clinician has acknowledged (issue 13)."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from isotrack.clinical.state import (
    AcknowledgeWorkItem,
    AnyCommand,
    EnrolPatient,
    RecordSymptoms,
)
from isotrack.knowledge import KnowledgeBase
from isotrack.store import execute
from tests.cds.conftest import CDS_NOW
from tests.cds.hooks import PATIENT_VIEW, hook_request
from tests.cds.test_hooks import active_order, male_prefetch, post, rules
from tests.fhir.builders import PATIENT_ID

TODAY = CDS_NOW.date()


def record(engine: Engine, kb: KnowledgeBase, *commands: AnyCommand) -> None:
    for command in commands:
        execute(engine, PATIENT_ID, command, actor="test", now=CDS_NOW, kb=kb)


def ask(client: TestClient) -> list[str]:
    prefetch = male_prefetch(medications=[active_order(TODAY.replace(day=1).isoformat())])
    return rules(
        post(client, PATIENT_VIEW, hook_request(PATIENT_VIEW, PATIENT_ID, prefetch=prefetch))
    )


def test_an_unacknowledged_stop_report_is_a_card_until_acknowledged(
    cds_client: TestClient, cds_engine: Engine, kb: KnowledgeBase
) -> None:
    assert "REPORT-NEEDS-REVIEW" not in ask(cds_client)
    record(
        cds_engine,
        kb,
        EnrolPatient(
            on=TODAY,
            patient_id=PATIENT_ID,
            name="Sam Moreau",
            birth_date=date(1998, 5, 4),
            sex="male",
        ),
        RecordSymptoms(on=TODAY, symptoms=("severe-headache",)),
    )
    assert "REPORT-NEEDS-REVIEW" in ask(cds_client)
    record(cds_engine, kb, AcknowledgeWorkItem(on=TODAY, item="symptoms-1"))
    assert "REPORT-NEEDS-REVIEW" not in ask(cds_client)

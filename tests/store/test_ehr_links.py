"""Links between EHR patients and isotrack records: one record per EHR patient,
audited, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isotrack.errors import ConflictError, InvalidInputError, NotFoundError
from isotrack.knowledge import KnowledgeBase
from isotrack.store import UnitOfWork, create_engine_for, execute, export_tables, import_tables
from isotrack.store.ehr import find_link, link_patient, links_of, unlink_patient
from isotrack.store.models import EhrLinkRow
from tests.store.helpers import NOW, enrol

EHR = "https://ehr.example/fhir/R4"
OTHER_EHR = "https://other-ehr.example/fhir"
MRN = "https://hospital.example/mrn"


def two_patients(engine: Engine, kb: KnowledgeBase) -> None:
    for patient_id in ("P-001", "P-002"):
        execute(engine, patient_id, enrol(patient_id), actor="dr-lee", now=NOW, kb=kb)


def link(engine: Engine, ehr_id: str, patient_id: str, base: str = EHR) -> None:
    link_patient(
        engine,
        fhir_base=base,
        ehr_patient_id=ehr_id,
        identifier_system=MRN,
        identifier_value=f"MRN-{ehr_id}",
        patient_id=patient_id,
        actor="dr-lee",
        now=NOW,
    )


def test_an_ehr_patient_is_linked_to_one_record_only(database: Engine, kb: KnowledgeBase) -> None:
    two_patients(database, kb)
    link(database, "e-1", "P-001")

    with pytest.raises(ConflictError, match="already linked"):
        link(database, "e-1", "P-002")
    with pytest.raises(ConflictError, match="already linked"):
        link(database, "e-1", "P-001")

    found = find_link(database, EHR + "/", "e-1")  # the same base with a trailing slash
    assert found is not None
    assert (found.patient_id, found.identifier_system, found.identifier_value) == (
        "P-001",
        MRN,
        "MRN-e-1",
    )


def test_the_same_ehr_id_at_another_ehr_is_another_patient(
    database: Engine, kb: KnowledgeBase
) -> None:
    two_patients(database, kb)
    link(database, "e-1", "P-001")
    link(database, "e-1", "P-002", base=OTHER_EHR)

    assert [x.fhir_base for x in links_of(database, "P-002")] == [OTHER_EHR]


def test_the_database_itself_refuses_a_second_link_of_an_ehr_patient(
    database: Engine, kb: KnowledgeBase
) -> None:
    two_patients(database, kb)
    link(database, "e-1", "P-001")
    row = EhrLinkRow(
        fhir_base=EHR,
        ehr_patient_id="e-1",
        identifier_system=MRN,
        identifier_value="other",
        patient_id="P-002",
        linked_by="someone",
        linked_at=NOW,
    )
    with pytest.raises(IntegrityError), Session(database) as session, session.begin():
        session.add(row)


def test_linking_and_unlinking_are_audited(database: Engine, kb: KnowledgeBase) -> None:
    two_patients(database, kb)
    link(database, "e-1", "P-001")
    assert unlink_patient(database, fhir_base=EHR, ehr_patient_id="e-1", actor="dr-ng", now=NOW)
    assert not unlink_patient(database, fhir_base=EHR, ehr_patient_id="e-1", actor="dr-ng", now=NOW)
    link(database, "e-1", "P-002")  # unlinked: it may be linked again

    with UnitOfWork(database) as uow:
        rows = [e for e in uow.audit.entries() if e.action.startswith("ehr-link:")]
    assert [(e.action, e.actor, e.patient_id) for e in rows] == [
        ("ehr-link:create", "dr-lee", "P-001"),
        ("ehr-link:remove", "dr-ng", "P-001"),
        ("ehr-link:create", "dr-lee", "P-002"),
    ]
    assert rows[0].detail == {
        "fhir_base": EHR,
        "ehr_patient_id": "e-1",
        "identifier_system": MRN,
        "identifier_value": "MRN-e-1",
    }


def test_a_link_needs_an_isotrack_patient_and_a_usable_ehr(database: Engine) -> None:
    with pytest.raises(NotFoundError):
        link(database, "e-1", "P-404")
    with pytest.raises(InvalidInputError, match="fhir_base"):
        link(database, "e-1", "P-404", base="ftp://ehr.example")
    assert find_link(database, EHR, "e-1") is None


def test_a_backup_keeps_the_links_and_a_replacing_restore_clears_them_first(
    database: Engine, kb: KnowledgeBase, tmp_path: Path
) -> None:
    two_patients(database, kb)
    link(database, "e-1", "P-001")
    document = export_tables(database)

    copy = create_engine_for(f"sqlite:///{tmp_path / 'copy.db'}")
    import_tables(document, copy)
    copied = find_link(copy, EHR, "e-1")
    copy.dispose()
    assert copied is not None
    assert copied.patient_id == "P-001"

    import_tables(document, database, replace=True)  # the links are deleted before patients
    assert [x.ehr_patient_id for x in links_of(database, "P-001")] == ["e-1"]

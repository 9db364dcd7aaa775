"""Reading the record from a real FHIR R4 server (Medplum's FHIR router, loaded with
Synthea patients): what comes in, with which EHR resource, and what a second read,
a changed resource, an unreadable resource and an EHR error do."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from isotrack.clinical.record import replay
from isotrack.clinical.state import RecordWeight
from isotrack.ehr import (
    EhrReadError,
    enrol_from_ehr,
    find_linked_patient,
    sync_from_ehr,
)
from isotrack.ehr.client import PAGE_SIZE
from isotrack.ehr.sync import EhrSyncResult
from isotrack.knowledge import KnowledgeBase
from isotrack.store import patient_ids, read_history
from isotrack.store.ehr import command_sources, read_resources
from tests.ehr.conftest import NOW
from tests.fhir_server.harness import NARROW_TOKEN, TOKEN, FhirServer

LOINC = "http://loinc.org"
BODY_WEIGHT = "29463-7"


def enrol(engine: Engine, server: FhirServer, ehr_id: str, kb: KnowledgeBase) -> EhrSyncResult:
    return enrol_from_ehr(
        engine,
        fhir_base_url=server.url,
        access_token=TOKEN,
        ehr_patient_id=ehr_id,
        actor="dr-lee",
        now=NOW,
        kb=kb,
    )


def sync(engine: Engine, server: FhirServer, ehr_id: str, kb: KnowledgeBase) -> EhrSyncResult:
    return sync_from_ehr(
        engine,
        fhir_base_url=server.url,
        access_token=TOKEN,
        ehr_patient_id=ehr_id,
        actor="dr-lee",
        now=NOW,
        kb=kb,
    )


def new_patient(server: FhirServer, family: str) -> str:
    patient = server.post(
        {
            "resourceType": "Patient",
            "name": [{"given": ["Test"], "family": family}],
            "gender": "female",
            "birthDate": "1998-05-04",
        }
    )
    return str(patient["id"])


def weight(patient_id: str, kg: Any, on: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": BODY_WEIGHT, "display": "Body Weight"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": on,
        "valueQuantity": {"value": kg, "unit": "kg", "system": "http://unitsofmeasure.org"},
    }


def test_enrolling_reads_weights_and_labs_each_with_the_ehr_resource_it_came_from(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    ehr_id = fhir_server.patient_id("Elvina")
    result = enrol(engine, fhir_server, ehr_id, kb)

    assert result.patient_id is not None
    assert find_linked_patient(engine, fhir_server.url, ehr_id) == result.patient_id
    weights = [p for p in result.provenance if p.command == "RecordWeight"]
    labs = [p for p in result.provenance if p.command == "RecordLabResult"]
    assert len(weights) >= 5
    assert len(labs) >= 5
    assert result.added == len(read_history(engine, result.patient_id, actor="t", now=NOW))
    stored = command_sources(engine, result.patient_id)
    history = read_history(engine, result.patient_id, actor="t", now=NOW)
    for item in weights:
        observation = fhir_server.read(item.resource)
        assert observation["code"]["coding"][0]["code"] == BODY_WEIGHT
        assert observation["meta"]["versionId"] == item.version_id
        assert item.seq is not None
        assert stored[item.seq] == item.resource
        command = history[item.seq - 1].command
        assert isinstance(command, RecordWeight)
        assert command.value == pytest.approx(observation["valueQuantity"]["value"])
    for item in labs:
        assert item.resource.startswith("Observation/")
        assert fhir_server.read(item.resource)["meta"]["versionId"] == item.version_id


def test_a_second_read_of_the_same_ehr_data_adds_nothing(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    ehr_id = fhir_server.patient_id("Carin")
    first = enrol(engine, fhir_server, ehr_id, kb)
    assert first.patient_id is not None
    assert any(p.resource.startswith("MedicationRequest/") for p in first.provenance)
    version = len(read_history(engine, first.patient_id, actor="t", now=NOW))

    again = sync(engine, fhir_server, ehr_id, kb)

    assert (again.patient_id, again.added, again.provenance) == (first.patient_id, 0, [])
    assert again.already_present == len(read_resources(engine, fhir_server.url, first.patient_id))
    assert again.already_present > 50
    assert len(read_history(engine, first.patient_id, actor="t", now=NOW)) == version


def test_every_page_of_a_search_is_read(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    ehr_id = fhir_server.patient_id("Alfonso")
    total = fhir_server.read(f"Observation?patient=Patient/{ehr_id}&_count=1")["total"]
    assert total > PAGE_SIZE  # the server sends more than one page

    result = enrol(engine, fhir_server, ehr_id, kb)

    assert result.patient_id is not None
    read = read_resources(engine, fhir_server.url, result.patient_id)
    assert sum(1 for label in read if label.startswith("Observation/")) == total


def test_a_resource_changed_in_the_ehr_is_reported_and_not_stored_again(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    ehr_id = new_patient(fhir_server, "Changed")
    observation = fhir_server.post(weight(ehr_id, 61.0, "2026-02-20"))
    first = enrol(engine, fhir_server, ehr_id, kb)
    assert [p.command for p in first.provenance] == ["EnrolPatient", "RecordWeight"]
    fhir_server.put({**observation, "valueQuantity": {**observation["valueQuantity"], "value": 63}})

    again = sync(engine, fhir_server, ehr_id, kb)

    assert again.added == 0
    label = f"Observation/{observation['id']}"
    changed = f"{label} changed in the EHR since it was read"
    assert any(f.startswith(changed) for f in again.findings)
    assert again.patient_id is not None
    history = read_history(engine, again.patient_id, actor="t", now=NOW)
    record = replay(((s.command, s.recorded_on) for s in history), kb=kb)
    assert [w.kg for w in record.weights] == [61.0]


def test_a_resource_the_reader_cannot_decode_is_a_finding_and_the_rest_comes_in(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    ehr_id = new_patient(fhir_server, "Unreadable")
    bad = fhir_server.post(weight(ehr_id, "heavy", "2026-02-18"))
    fhir_server.post(weight(ehr_id, 58.5, "2026-02-19"))

    result = enrol(engine, fhir_server, ehr_id, kb)

    assert [p.command for p in result.provenance] == ["EnrolPatient", "RecordWeight"]
    unreadable = f"not read: Observation/{bad['id']} cannot be decoded"
    assert any(f.startswith(unreadable) for f in result.findings)


def test_an_ehr_error_is_reported_with_its_operation_outcome_and_nothing_is_stored(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    with pytest.raises(EhrReadError) as raised:
        enrol(engine, fhir_server, "no-such-patient", kb)

    assert raised.value.status == 404
    assert raised.value.message == (
        "GET Patient/no-such-patient: the EHR answered 404: error not-found: Not found"
    )
    assert patient_ids(engine) == []


def test_a_token_the_ehr_refuses_is_reported_and_nothing_is_stored(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    with pytest.raises(EhrReadError, match="answered 401: error login: a valid bearer token"):
        enrol_from_ehr(
            engine,
            fhir_base_url=fhir_server.url,
            access_token="a-token-the-ehr-never-granted",  # noqa: S106  # a made-up token
            ehr_patient_id=fhir_server.patient_id("Ammie"),
            actor="dr-lee",
            now=NOW,
            kb=kb,
        )
    assert patient_ids(engine) == []


def test_an_ehr_patient_not_linked_yet_is_neither_read_nor_stored(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    result = sync(engine, fhir_server, fhir_server.patient_id("Ammie"), kb)

    assert (result.patient_id, result.added, result.provenance) == (None, 0, [])
    assert "enrol them from the EHR first" in result.findings[0]
    assert patient_ids(engine) == []


def test_a_search_the_ehr_refuses_is_a_finding_and_the_rest_comes_in(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    result = enrol_from_ehr(
        engine,
        fhir_base_url=fhir_server.url,
        access_token=NARROW_TOKEN,
        ehr_patient_id=fhir_server.patient_id("Carin"),
        actor="dr-lee",
        now=NOW,
        kb=kb,
    )

    assert {p.command for p in result.provenance} == {"EnrolPatient", "RecordWeight"}
    refused = [f for f in result.findings if f.startswith("not read from the EHR: GET ")]
    assert [f.split("?")[0] for f in refused] == [
        "not read from the EHR: GET Condition",
        "not read from the EHR: GET MedicationRequest",
        "not read from the EHR: GET MedicationStatement",
        "not read from the EHR: GET Procedure",
    ]
    assert refused[0].endswith(
        "the EHR answered 403: error forbidden: this token may not use Condition"
    )


def test_a_quantitative_hcg_result_comes_in_as_a_pregnancy_test_with_its_source(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    ehr_id = new_patient(fhir_server, "Hcg")
    hcg = fhir_server.post(
        {
            "resourceType": "Observation",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "laboratory",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": LOINC, "code": "21198-7"}]},
            "subject": {"reference": f"Patient/{ehr_id}"},
            "effectiveDateTime": "2026-02-25",
            "valueQuantity": {"value": 1.2, "unit": "mIU/mL", "code": "m[IU]/mL"},
        }
    )

    result = enrol(engine, fhir_server, ehr_id, kb)

    tests = [p for p in result.provenance if p.command == "RecordPregnancyTest"]
    assert [t.resource for t in tests] == [f"Observation/{hcg['id']}"]
    assert "negative" in tests[0].description


def test_an_iud_insertion_procedure_comes_in_as_contraception_with_its_source(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    ehr_id = new_patient(fhir_server, "Iud")
    insertion = fhir_server.post(
        {
            "resourceType": "Procedure",
            "status": "completed",
            "code": {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "65200003",
                        "display": "Insertion of intrauterine contraceptive device",
                    }
                ]
            },
            "subject": {"reference": f"Patient/{ehr_id}"},
            "performedPeriod": {"start": "2025-06-10", "end": "2025-06-10"},
        }
    )

    result = enrol(engine, fhir_server, ehr_id, kb)

    started = [p for p in result.provenance if p.command == "StartContraception"]
    assert [p.resource for p in started] == [f"Procedure/{insertion['id']}"]
    assert started[0].description == "Contraception started: IUD (type not recorded)"


def test_a_resource_the_reader_refuses_as_impossible_is_a_finding_and_the_rest_comes_in(
    engine: Engine, fhir_server: FhirServer, kb: KnowledgeBase
) -> None:
    ehr_id = new_patient(fhir_server, "Impossible")
    bad = fhir_server.post(weight(ehr_id, 60.0, "2026-13-45"))
    fhir_server.post(weight(ehr_id, 58.5, "2026-02-19"))

    result = enrol(engine, fhir_server, ehr_id, kb)

    assert [p.command for p in result.provenance] == ["EnrolPatient", "RecordWeight"]
    assert any(f"Observation/{bad['id']}" in f for f in result.findings)

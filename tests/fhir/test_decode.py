from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from isotrack.errors import FhirDecodeError, InvalidInputError
from isotrack.fhir import decode_bundle, decode_resources, load_bundle_file
from isotrack.fhir.resources import Medication, MedicationRequest, Observation, Patient
from tests.fhir.builders import (
    PATIENT_ID,
    PATIENT_URL,
    bundle,
    medication_request,
    patient,
    read,
    weight,
)


def test_a_bundle_groups_the_resources_isotrack_reads_and_keeps_the_others_raw() -> None:
    claim = {"resourceType": "Claim", "id": "c1", "total": {"value": 12}}
    decoded = read(bundle(weight(70, "kg"), claim))
    assert [p.id for p in decoded.of_type(Patient)] == [PATIENT_ID]
    assert len(decoded.of_type(Observation)) == 1
    raw_claim = next(e for e in decoded.entries if e.resource_type == "Claim")
    assert raw_claim.resource is None
    assert json.loads(bytes(raw_claim.raw)) == claim
    assert decoded.bundle_type == "collection"


def test_unknown_fields_extensions_and_primitive_extensions_are_ignored() -> None:
    person = patient(
        extension=[{"url": "http://example.org/x", "valueString": "y"}],
        _birthDate={"extension": [{"url": "http://example.org/t", "valueTime": "10:00:00"}]},
        unknownElement={"nested": [1, 2, 3]},
    )
    decoded = read(bundle(person, with_patient=False))
    assert decoded.of_type(Patient)[0].birth_date == "1998-05-04"


def test_codes_units_and_dates_are_kept_exactly_as_written() -> None:
    decoded = read(bundle(weight(154.0, "lbs", "[lb_av]")))
    observation = decoded.of_type(Observation)[0]
    assert observation.effective_date_time == "2026-02-20T09:30:00+01:00"
    assert observation.value_quantity is not None
    assert (observation.value_quantity.unit, observation.value_quantity.code) == ("lbs", "[lb_av]")
    assert observation.code is not None
    assert observation.code.coding[0].code == "29463-7"


def test_references_resolve_by_full_url_and_by_relative_type_and_id() -> None:
    decoded = read(bundle())
    by_url = decoded.resolve(PATIENT_URL)
    assert by_url is not None
    assert decoded.resolve(f"Patient/{PATIENT_ID}") is by_url
    assert decoded.resolve(f"https://ehr.example.org/fhir/Patient/{PATIENT_ID}") is by_url
    assert decoded.resolve(f"Patient/{PATIENT_ID}/_history/3") is by_url
    assert decoded.resolve("Patient/someone-else") is None


def test_a_searchset_with_absolute_full_urls_resolves_relative_references() -> None:
    medication = {
        "resourceType": "Medication",
        "id": "med-1",
        "code": {"text": "Absorica 40 MG"},
    }
    request = medication_request(None, medicationReference={"reference": "Medication/med-1"})
    searchset = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": "https://ehr.example.org/fhir/Medication/med-1", "resource": medication},
            {"fullUrl": "https://ehr.example.org/fhir/MedicationRequest/mr-1", "resource": request},
        ],
    }
    decoded = read(searchset)
    mr = decoded.of_type(MedicationRequest)[0]
    assert isinstance(decoded.resolve(mr.medication_reference), Medication)


def test_a_single_resource_decodes_as_a_one_entry_bundle() -> None:
    decoded = decode_bundle(json.dumps(patient()).encode())
    assert decoded.bundle_type is None
    assert [p.id for p in decoded.of_type(Patient)] == [PATIENT_ID]


def test_text_and_parsed_json_decode_like_bytes() -> None:
    document = bundle(weight(70, "kg"))
    assert len(decode_bundle(json.dumps(document)).of_type(Observation)) == 1
    assert len(decode_bundle(document).of_type(Observation)) == 1


def test_resource_type_need_not_be_the_first_key() -> None:
    document = {"id": "p9", "gender": "male", "resourceType": "Patient"}
    assert decode_bundle(document).of_type(Patient)[0].gender == "male"


def test_several_documents_decode_as_one_bundle() -> None:
    combined = decode_resources([patient(), bundle(weight(70, "kg"), with_patient=False)])
    assert len(combined.of_type(Patient)) == 1
    assert len(combined.of_type(Observation)) == 1


def test_an_entry_without_a_resource_is_skipped_with_a_note() -> None:
    document = bundle()
    document["entry"].append({"request": {"method": "DELETE", "url": "Patient/x"}})
    decoded = read(document)
    assert "Bundle.entry[1] has no resource; skipped" in decoded.notes


def test_malformed_json_is_refused() -> None:
    with pytest.raises(FhirDecodeError, match="not valid JSON"):
        decode_bundle(b'{"resourceType": "Bundle", "entry": [{"resource": {"a": [1,}}]}')
    with pytest.raises(FhirDecodeError, match="not valid JSON"):
        decode_bundle(b'{"resourceType": "Patient", "id": ')


def test_a_document_that_is_not_a_resource_is_refused() -> None:
    with pytest.raises(FhirDecodeError, match="not a FHIR resource"):
        decode_bundle(b"[1, 2]")
    with pytest.raises(FhirDecodeError, match=r"resourceType: missing"):
        decode_bundle(b'{"id": "x"}')


def test_an_entry_without_resource_type_names_the_entry() -> None:
    document = bundle()
    document["entry"].append({"resource": {"id": "x", "status": "final"}})
    with pytest.raises(FhirDecodeError) as caught:
        read(document)
    assert caught.value.field == "Bundle.entry[1].resource.resourceType"


def test_a_wrong_type_names_the_element_the_resource_and_the_entry() -> None:
    document = bundle(weight(70, "kg"))
    document["entry"][1]["resource"]["valueQuantity"]["value"] = "seventy"
    with pytest.raises(FhirDecodeError) as caught:
        read(document)
    assert caught.value.field == "Observation.valueQuantity.value"
    assert "Observation/obs-1" in str(caught.value)
    assert "Bundle.entry[1]" in str(caught.value)


def test_a_wrong_type_in_a_nested_list_names_its_position() -> None:
    person = patient()
    person["birthDate"] = 19980504
    with pytest.raises(FhirDecodeError) as caught:
        decode_bundle(person)
    assert caught.value.field == "Patient.birthDate"
    document = bundle(weight(70, "kg"))
    document["entry"][1]["resource"]["code"]["coding"][0]["code"] = 294637
    with pytest.raises(FhirDecodeError) as caught:
        read(document)
    assert caught.value.field == "Observation.code.coding[0].code"


def test_a_bundle_whose_entry_is_not_a_list_is_refused() -> None:
    with pytest.raises(FhirDecodeError) as caught:
        decode_bundle(b'{"resourceType": "Bundle", "entry": {"resource": {}}}')
    assert caught.value.field == "Bundle.entry"


def test_gzipped_and_plain_files_load_alike(tmp_path: Path) -> None:
    raw = json.dumps(bundle(weight(70, "kg"))).encode()
    (tmp_path / "p.json").write_bytes(raw)
    (tmp_path / "p.json.gz").write_bytes(gzip.compress(raw))
    for name in ("p.json", "p.json.gz"):
        assert len(load_bundle_file(tmp_path / name).of_type(Observation)) == 1


def test_a_bad_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        load_bundle_file(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_bytes(b'{"resourceType": "Patient", "gender": 1}')
    with pytest.raises(FhirDecodeError) as caught:
        load_bundle_file(tmp_path / "bad.json")
    assert caught.value.field == "bad.json: Patient.gender"

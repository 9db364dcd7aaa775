"""A Bundle to import whose elements have the wrong JSON type, or a number JSON can
write and no lab can have: read as unreadable (a clear error or nothing read), never
a crash and never a value."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from isotrack.clinical.state.commands import EnrolPatient, RecordLabResult
from isotrack.errors import FhirDecodeError, InvalidInputError
from isotrack.fhir import decode_bundle
from isotrack.fhir.import_record import plan_import
from isotrack.knowledge import KnowledgeBase
from isotrack.store import create_engine_for, row_counts
from tests.cli.storage_cli import invoke, one_error_line, sqlite_url
from tests.fhir.builders import PATIENT_ID, bundle, observation, patient, quantity, read

TODAY = date(2026, 3, 2)
WRONG_TYPES = [True, 1, 1.5, "text", {"system": "x"}]


NAMED = [{"text": "Ana Ruiz"}]


@pytest.mark.parametrize("value", WRONG_TYPES, ids=repr)
@pytest.mark.parametrize("element", ["identifier"])
def test_a_wrongly_typed_patient_element_is_read_as_absent(
    kb: KnowledgeBase, element: str, value: Any
) -> None:
    document = bundle(patient(name=NAMED, **{element: value}), with_patient=False)
    enrol = plan_import(read(document), kb=kb, on=TODAY).commands[0]
    assert isinstance(enrol, EnrolPatient)
    assert enrol.patient_id == PATIENT_ID  # the Patient's own id, as with no identifier


@pytest.mark.parametrize("value", WRONG_TYPES, ids=repr)
def test_a_wrongly_typed_name_is_a_missing_name(kb: KnowledgeBase, value: Any) -> None:
    document = bundle(patient(name=value), with_patient=False)
    with pytest.raises(InvalidInputError, match=r"Patient\.name"):
        plan_import(read(document), kb=kb, on=TODAY)


@pytest.mark.parametrize("value", WRONG_TYPES, ids=repr)
def test_wrongly_typed_given_names_are_read_as_absent(kb: KnowledgeBase, value: Any) -> None:
    document = bundle(patient(name=[{"given": value, "family": "Ruiz"}]), with_patient=False)
    enrol = plan_import(read(document), kb=kb, on=TODAY).commands[0]
    assert isinstance(enrol, EnrolPatient)
    assert enrol.name == "Ruiz"


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1E400"])
def test_a_lab_value_beyond_a_double_is_refused_naming_it_never_read_as_infinity(
    number: str,
) -> None:
    """JSON allows any number of digits; msgspec refuses one no float holds, so the
    Bundle is refused with the element named (the import changes nothing)."""
    tg = observation("14927-8", "TG", id="tg", valueQuantity=quantity(0, "mg/dL"))
    text = json.dumps(bundle(tg)).replace('"value": 0', f'"value": {number}')
    with pytest.raises(FhirDecodeError, match=r"valueQuantity\.value"):
        decode_bundle(text.encode())


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan")])
def test_a_non_finite_lab_value_in_parsed_json_is_not_a_result(
    kb: KnowledgeBase, number: float
) -> None:
    """A caller's own parsed JSON (Python's json module reads NaN and Infinity) is read
    with the value missing: a note, no lab result."""
    tg = observation("14927-8", "TG", id="tg", valueQuantity=quantity(number, "mg/dL"))
    document = bundle(patient(name=NAMED), tg, with_patient=False)
    plan = plan_import(decode_bundle(document), kb=kb, on=TODAY)
    assert not [c for c in plan.commands if isinstance(c, RecordLabResult)]
    assert any("Observation/tg" in note for note in plan.notes), plan.notes


def test_isotrack_import_refuses_a_lab_value_beyond_a_double_and_writes_nothing(
    tmp_path: Path,
) -> None:
    tg = observation("14927-8", "TG", id="tg", valueQuantity=quantity(0, "mg/dL"))
    document = bundle(patient(name=NAMED), tg, with_patient=False)
    path = tmp_path / "ehr.json"
    path.write_text(json.dumps(document).replace('"value": 0', '"value": 1e999'))
    url = sqlite_url(tmp_path / "clinic.db")
    assert invoke("db", "upgrade", "--database", url).exit_code == 0
    result = invoke("import", str(path), "--date", TODAY.isoformat(), "--database", url)
    assert result.exit_code == 1, result.output
    assert "valueQuantity.value" in one_error_line(result)
    engine = create_engine_for(url)
    counts = row_counts(engine)
    engine.dispose()
    assert counts["patients"] == counts["commands"] == 0, counts

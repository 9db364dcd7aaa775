"""`isotrack import` keeps an EHR's pregnancy statuses (US Core, IPS), with their dates;
export and import again lose nothing; what the record cannot hold is said."""

from __future__ import annotations

import json
from pathlib import Path

from isotrack.clinical.codes import SNOMED
from tests.cli.storage_cli import invoke, sqlite_url
from tests.fhir.builders import bundle, concept, patient
from tests.fhir.builders_pregnancy import STATUS_VALUES, pregnancy_status

STATUSES = [
    ("2022-03-01", "Pregnancy status: pregnant", STATUS_VALUES["pregnant"][0]),
    ("2026-01-10", "Pregnancy status: unknown (Possible pregnancy)", STATUS_VALUES["unknown"][2]),
    ("2026-02-20", "Pregnancy status: not pregnant", STATUS_VALUES["not-pregnant"][1]),
]


def ehr_bundle(path: Path) -> Path:
    named = patient(name=[{"given": ["Mia"], "family": "Lopez"}])
    condition = {
        "resourceType": "Condition",
        "id": "preg-1",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": concept(SNOMED, "72892002", "Normal pregnancy"),
        "onsetDateTime": "2022-01-15",
    }
    document = bundle(*[pregnancy_status(value, day) for day, _, value in STATUSES], condition)
    document["entry"][0]["resource"] = named
    path.write_text(json.dumps(document))
    return path


def timeline(url: str, patient_id: str) -> list[tuple[str, str]]:
    shown = invoke(
        "course", "show", patient_id, "--json", "--date", "2026-03-02", "--database", url
    )
    assert shown.exit_code == 0, shown.output
    return [(e["date"], e["what"]) for e in json.loads(shown.stdout)["timeline"]]


def new_database(path: Path) -> str:
    url = sqlite_url(path)
    assert invoke("db", "upgrade", "--database", url).exit_code == 0
    return url


def test_pregnancy_statuses_survive_import_export_import(tmp_path: Path) -> None:
    first = new_database(tmp_path / "first.db")
    source = ehr_bundle(tmp_path / "ehr.json")
    imported = invoke("import", str(source), "--date", "2026-03-02", "--database", first)
    assert imported.exit_code == 0, imported.output
    patient_id = "11111111-1111-1111-1111-111111111111"
    statuses = [(day, what) for day, what, _ in STATUSES]
    assert [
        e for e in timeline(first, patient_id) if e[1].startswith("Pregnancy status")
    ] == statuses
    said = " ".join(imported.stderr.split())  # the notes, unwrapped
    assert "Condition/preg-1 (Normal pregnancy, onset 2022-01-15, active)" in said
    assert "which the isotrack record does not hold: it is not imported" in said

    again = invoke("import", str(source), "--update", "--date", "2026-03-02", "--database", first)
    assert again.exit_code == 0, again.output
    assert timeline(first, patient_id).count(statuses[0]) == 1

    exported = tmp_path / "export.json"
    out = invoke("export", patient_id, "--out", str(exported), "--database", first)
    assert out.exit_code == 0, out.output
    second = new_database(tmp_path / "second.db")
    back = invoke("import", str(exported), "--database", second)
    assert back.exit_code == 0, back.output
    assert timeline(second, patient_id) == timeline(first, patient_id)


def test_isotrack_record_takes_a_pregnancy_status(tmp_path: Path) -> None:
    url = new_database(tmp_path / "db.db")
    source = ehr_bundle(tmp_path / "ehr.json")
    assert invoke("import", str(source), "--date", "2026-03-02", "--database", url).exit_code == 0
    command = '{"type": "RecordPregnancyStatus", "on": "2026-03-01", "status": "pregnant"}'
    recorded = invoke(
        "record", "11111111-1111-1111-1111-111111111111", "-", "--database", url, stdin=command
    )
    assert recorded.exit_code == 0, recorded.output
    assert "Pregnancy status: pregnant" in recorded.stdout
    wrong = '{"type": "RecordPregnancyStatus", "on": "2026-03-01", "status": "maybe"}'
    refused = invoke(
        "record", "11111111-1111-1111-1111-111111111111", "-", "--database", url, stdin=wrong
    )
    assert refused.exit_code != 0

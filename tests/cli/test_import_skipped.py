"""`isotrack import` of an EHR's Bundle says, one line each, what the record cannot hold."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.storage_cli import invoke, sqlite_url
from tests.fhir.builders import bundle, observation, patient, quantity


def test_import_names_each_fact_it_cannot_hold_and_stores_the_rest(tmp_path: Path) -> None:
    document = bundle(
        patient(name=[{"text": "Ana Ruiz"}]),
        observation("29463-7", "Weight", id="heavy", valueQuantity=quantity(2000, "kg")),
        observation("2345-7", "Glucose", id="glu", valueQuantity=quantity(5.5, "mmol/L")),
        with_patient=False,
    )
    path = tmp_path / "ehr.json"
    path.write_text(json.dumps(document))
    url = sqlite_url(tmp_path / "x.db")
    assert invoke("db", "upgrade", "--database", url).exit_code == 0
    result = invoke("import", str(path), "--date", "2026-03-02", "--database", url)
    assert result.exit_code == 0, result.output
    assert "2 command(s) recorded" in result.stdout  # the enrolment and the glucose
    assert "note: not imported: Observation/heavy: weight 2000 kg on 2026-02-20" in result.stderr

"""`isotrack screen` through the real CLI (Typer's runner), on small FHIR files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import isotrack.cli.screen_cmd  # noqa: F401  # registers `isotrack screen`
from isotrack import SAFETY_LINE
from isotrack.cli.app import app
from tests.fhir.builders import (
    PATIENT_ID,
    Json,
    bundle,
    concept,
    isotretinoin_order,
    medication_request,
    weight,
)

runner = CliRunner()
DOXYCYCLINE = concept(
    "http://www.nlm.nih.gov/research/umls/rxnorm", "1652673", "Doxycycline 50 MG Oral Tablet"
)
TODAY = "2026-03-02"


def write(path: Path, document: Json) -> Path:
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def record(tmp_path: Path) -> Path:
    """A woman of 27 with a weight, an active doxycycline and a draft isotretinoin order."""
    return write(
        tmp_path / "patient.json",
        bundle(weight(70, "kg"), medication_request(DOXYCYCLINE), isotretinoin_order()),
    )


def test_screen_prints_findings_most_severe_first_with_the_safety_line(record: Path) -> None:
    result = runner.invoke(app, ["screen", str(record), "--date", TODAY], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "TETRACYCLINE" in result.stdout
    assert "Assumptions and notes" in result.stdout
    assert SAFETY_LINE in " ".join(result.stdout.split())


def test_screen_json_is_a_stable_document(record: Path) -> None:
    result = runner.invoke(app, ["screen", str(record), "--date", TODAY, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == [
        "evaluated_on",
        "patient",
        "order",
        "findings",
        "assumptions",
        "context",
        "safety",
    ]
    assert document["evaluated_on"] == TODAY
    assert document["patient"] == {"id": PATIENT_ID, "birth_date": "1998-05-04", "sex": "female"}
    assert document["order"]["daily_dose_mg"] == 80
    finding = next(f for f in document["findings"] if f["rule_id"] == "TETRACYCLINE")
    assert set(finding) == {
        "rule_id",
        "severity",
        "summary",
        "detail",
        "action",
        "basis",
        "policy",
        "sources",
        "data",
    }
    assert finding["severity"] == "critical"
    assert all(set(s) == {"id", "title"} for s in finding["sources"])
    severities = [f["severity"] for f in document["findings"]]
    order = {"critical": 0, "warning": 1, "info": 2}
    assert severities == sorted(severities, key=order.__getitem__)
    again = runner.invoke(app, ["screen", str(record), "--date", TODAY, "--json"])
    assert again.stdout == result.stdout


def test_screen_reads_gzipped_bundles_and_a_separate_order(tmp_path: Path) -> None:
    patient = tmp_path / "patient.json.gz"
    patient.write_bytes(gzip.compress(json.dumps(bundle(weight(70, "kg"))).encode()))
    order = write(tmp_path / "order.json", isotretinoin_order())
    result = runner.invoke(
        app, ["screen", str(patient), "--order", str(order), "--date", TODAY, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["order"]["source"] == "MedicationRequest/order-1"


def test_an_order_file_may_be_a_bundle(tmp_path: Path) -> None:
    patient = write(tmp_path / "patient.json", bundle(weight(70, "kg")))
    order = write(tmp_path / "order.json", bundle(isotretinoin_order(), with_patient=False))
    result = runner.invoke(app, ["screen", str(patient), "--order", str(order), "--date", TODAY])
    assert result.exit_code == 0, result.output


def test_no_order_anywhere_is_bad_input_on_one_line(tmp_path: Path) -> None:
    patient = write(tmp_path / "patient.json", bundle(weight(70, "kg")))
    result = runner.invoke(app, ["screen", str(patient), "--date", TODAY])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: no isotretinoin order in patient.json; pass --order ORDER.json"
    )


def test_an_order_file_that_is_not_isotretinoin_is_refused(tmp_path: Path) -> None:
    patient = write(tmp_path / "patient.json", bundle(weight(70, "kg")))
    order = write(tmp_path / "order.json", medication_request(DOXYCYCLINE))
    result = runner.invoke(app, ["screen", str(patient), "--order", str(order)])
    assert result.exit_code == 1
    assert "not for isotretinoin" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"resourceType": "Bundle", "entry": [', "not valid JSON"),
        (b'{"resourceType": "Patient", "birthDate": 1998}', "patient.json: Patient.birthDate"),
    ],
)
def test_an_unreadable_record_is_bad_input(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "patient.json").write_bytes(content)
    result = runner.invoke(app, ["screen", str(tmp_path / "patient.json"), "--date", TODAY])
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.startswith("error: ")


def test_a_missing_file_and_a_bad_date_are_bad_input(record: Path, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["screen", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1
    assert "cannot read" in missing.stderr
    bad_date = runner.invoke(app, ["screen", str(record), "--date", "02/03/2026"])
    assert bad_date.exit_code == 1
    assert "--date" in bad_date.stderr


def test_a_policy_file_is_applied(record: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[parameters]\n"course.prescription_gap_days" = 60\n')
    result = runner.invoke(app, ["screen", str(record), "--date", TODAY, "--policy", str(policy)])
    assert result.exit_code == 0, result.output


def test_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["screen"]).exit_code == 2
    assert runner.invoke(app, ["screen", "x.json", "--bogus"]).exit_code == 2


def test_help_shows_an_example() -> None:
    result = runner.invoke(app, ["screen", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "isotrack screen patient.json.gz --order order.json" in result.stdout


def test_brackets_in_record_names_are_printed_as_written(tmp_path: Path) -> None:
    brand = {"text": "Doxycycline 100 MG Oral Capsule [vibramycin]"}
    patient = write(
        tmp_path / "patient.json",
        bundle(weight(70, "kg"), medication_request(brand), isotretinoin_order()),
    )
    result = runner.invoke(app, ["screen", str(patient), "--date", TODAY])
    assert result.exit_code == 0, result.output
    assert "[vibramycin]" in result.stdout

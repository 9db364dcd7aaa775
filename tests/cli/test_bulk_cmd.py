"""`isotrack screen-bulk` refuses bad input in one line and carries on past bad patients."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from isotrack.cli.app import _register_commands, app
from tests.population.exports import isotretinoin_order, patient, read_lines, weight, write_export

_register_commands()
runner = CliRunner()
ON = "2024-08-06"


def refusal(*args: str) -> str:
    result = runner.invoke(app, ["screen-bulk", *args], terminal_width=200)
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith("error: ")
    return result.output


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_export(
        tmp_path / "export",
        [
            patient("a"),
            weight("a", 60, "2024-08-01", id="w-a"),
            patient("b", gender="male"),
            isotretinoin_order("b", "2024-08-01", id="o-b"),
            patient("c") | {"birthDate": "03/04/1990"},
        ],
    )


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    output = refusal(str(tmp_path / "absent"), "--date", ON, "--out", str(tmp_path / "o"))
    assert "no such folder" in output


def test_an_empty_folder_is_refused_for_want_of_patients(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    output = refusal(str(tmp_path / "empty"), "--date", ON, "--out", str(tmp_path / "o"))
    assert "no Patient file" in output


def test_a_bad_date_is_refused(export: Path, tmp_path: Path) -> None:
    output = refusal(str(export), "--date", "6/8/2024", "--out", str(tmp_path / "o"))
    assert "--date" in output
    assert "2026-03-02" in output


def test_an_output_in_a_missing_folder_is_refused(export: Path, tmp_path: Path) -> None:
    output = refusal(str(export), "--date", ON, "--out", str(tmp_path / "nowhere" / "o"))
    assert "--out" in output


def test_an_unreadable_patient_gets_an_error_line_and_the_run_goes_on(
    export: Path, tmp_path: Path
) -> None:
    with (export / "Condition.000.ndjson").open("w") as extra:
        extra.write("not json at all\n")
        extra.write(json.dumps({"resourceType": "Condition", "id": "x"}) + "\n")
    out = tmp_path / "findings.ndjson"
    result = runner.invoke(
        app,
        ["screen-bulk", str(export), "--date", ON, "--out", str(out), "--order-all", "--jobs", "1"],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    lines = {line["patient"]: line for line in read_lines(out)}
    assert set(lines) == {"a", "b", "c"}
    assert "03/04/1990" in lines["c"]["error"]
    assert "findings" in lines["a"]
    assert lines["b"]["on_isotretinoin"] is True
    assert "1 name no patient, 1 are not JSON objects" in result.stdout
    assert "Condition.000.ndjson:1" in result.stdout
    row = next(r for r in result.stdout.splitlines() if "errors" in r)
    assert row.split("│")[-2].strip() == "1"


def test_the_help_shows_an_example() -> None:
    result = runner.invoke(app, ["screen-bulk", "--help"], terminal_width=200)
    assert "Example" in result.stdout


@pytest.mark.parametrize("number", ["1e999", "-1e999"])
def test_a_weight_beyond_a_double_is_an_error_line_never_screened(
    tmp_path: Path, number: str
) -> None:
    export = write_export(tmp_path / "export", [patient("a"), weight("a", 60, ON, id="w-a")])
    observations = export / "Observation.000.ndjson"
    observations.write_text(observations.read_text().replace('"value": 60', f'"value": {number}'))
    out = tmp_path / "findings.ndjson"
    result = runner.invoke(
        app, ["screen-bulk", str(export), "--date", ON, "--out", str(out), "--jobs", "1"]
    )
    assert result.exit_code == 0, result.output
    (line,) = read_lines(out)
    assert "findings" not in line
    assert "valueQuantity.value" in line["error"]

"""The door from the command line (issue 14, point 2): ``isotrack record`` refuses a
lab value of 1e999 (NaN, Infinity) with one line and exit 1, and the record still
reads; before, the value was stored as null and the patient could not be read again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.storage_cli import DEMO_DAY, invoke, load_demo, one_error_line


@pytest.mark.parametrize("number", ["1e999", "NaN", "-Infinity"])
def test_record_refuses_a_number_that_is_not_finite(tmp_path: Path, number: str) -> None:
    url = load_demo(tmp_path / "clinic.db")
    command = (
        f'{{"type": "RecordLabResult", "on": "{DEMO_DAY.isoformat()}", "analyte": "alt", '
        f'"value": {number}, "unit": "U/L"}}'
    )
    result = invoke("record", "demo-ana", "-", "--database", url, stdin=command)
    assert result.exit_code == 1, result.output
    assert "not a finite number" in one_error_line(result)
    assert invoke("doctor", "--database", url).exit_code == 0
    shown = invoke("course", "show", "demo-ana", "--database", url, "--date", DEMO_DAY.isoformat())
    assert shown.exit_code == 0, shown.output

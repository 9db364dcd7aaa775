"""`isotrack demo`, the job of `make run`, shows a plan and screened orders."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from isotrack.cli.app import _register_commands, app

_register_commands()


def test_demo_plans_a_course_and_screens_both_demo_patients() -> None:
    result = CliRunner().invoke(app, ["demo"], terminal_width=160)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Label doses at this weight" in text
    # Dana: the critical findings her made-up record was written to show.
    for rule in (
        "PREG-TEST-REQUIRED",
        "CONTRACEPTION-REQUIRED",
        "TETRACYCLINE",
        "REFILLS-NOT-ALLOWED",
        "LIPIDS-HIGH",
        "DOSE-ABOVE-RANGE",
    ):
        assert rule in text, rule
    assert "etonogestrel implant (primary)" in text
    # Sam: pounds and mmol/L were converted, so no weight, dose or lipid finding.
    sam = text.split("isotrack screen sam.json", 1)[1]
    assert "AGE-ADOLESCENT-BONE" in sam
    for rule in ("WEIGHT-MISSING", "DOSE-ABOVE-RANGE", "LIPIDS-HIGH", "PREG-TEST-REQUIRED"):
        assert rule not in sam, rule
    assert "not a substitute for clinical judgment" in text


def test_demo_runs_as_an_installed_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "isotrack", "demo"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "isotrack screen dana.json" in result.stdout

"""``isotrack pk simulate``: tables, JSON, the plot and refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import isotrack.cli.pk_cmd  # noqa: F401  # registers the command
from isotrack.cli.app import app
from isotrack.clinical.pk import single_dose
from isotrack.knowledge import default_knowledge

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, ["pk", "simulate", *args], terminal_width=200)


def run_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def table_rows(result: Result) -> dict[str, str]:
    """measure → value of a one-column (typical patient) table."""
    assert result.exit_code == 0, result.output
    return {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in result.stdout.splitlines()
        if line.count("│") == 3
    }


def test_the_table_shows_both_species_and_the_washout() -> None:
    result = run("--dose", "40", "--times-per-day", "2", "--days", "30")
    assert result.exit_code == 0, result.output
    assert "4-oxo-isotretinoin" in result.stdout
    assert "below 10%" in result.stdout
    assert "days)" in result.stdout
    assert "not a substitute for clinical judgment" in result.stdout


def test_json_of_the_typical_patient_has_one_curve_per_species() -> None:
    document = run_json("--dose", "40", "--days", "10", "--follow-days", "20")
    parent = document["isotretinoin"]
    assert list(parent["curves_ng_ml"]) == ["typical"]
    assert len(parent["curves_ng_ml"]["typical"]) == len(document["times_h"])
    assert document["last_dose_h"] == 9 * 24 + 12
    assert (
        24 < parent["washout_h"]["typical"] < document["oxo_isotretinoin"]["washout_h"]["typical"]
    )


def test_one_day_of_one_dose_reports_a_last_day_peak_and_troughs_above_zero() -> None:
    """The issue's command printed a last-day peak of 0 and troughs of 0."""
    args = ("--dose", "80", "--times-per-day", "1", "--days", "1")
    rows = table_rows(run(*args))
    for species in ("isotretinoin", "4-oxo-isotretinoin"):
        assert float(rows[f"{species}: last-day peak ng/mL"]) > 100
        assert float(rows[f"{species}: last-day trough ng/mL"]) > 0
    document = run_json(*args)
    assert document["last_dosing_day"] == 1
    for species in ("isotretinoin", "oxo_isotretinoin"):
        day = document[species]["last_day"]["typical"]
        assert day["peak_ng_ml"] > day["trough_ng_ml"] > 0


def test_the_table_and_json_report_the_single_dose_cmax_tmax_and_auc() -> None:
    args = ("--dose", "80", "--days", "3", "--fasted", "--population", "50", "--seed", "3")
    reported = single_dose(default_knowledge(), 80, fed=False, population=50, seed=3)
    document = run_json(*args)
    assert document["single_dose"] == {
        "dose_mg": 80.0, "fed": False, "formulation": "conventional", "auc_interval": "0-inf",
    }  # fmt: skip
    for species, exposure in (
        ("isotretinoin", reported.parent),
        ("oxo_isotretinoin", reported.oxo),
    ):
        measures = document[species]["single_dose"]
        assert list(measures) == ["p5", "p50", "p95"]
        assert [m["cmax_ng_ml"] for m in measures.values()] == pytest.approx(exposure.cmax, abs=0.1)
        assert [m["tmax_h"] for m in measures.values()] == pytest.approx(exposure.tmax, abs=0.01)
        assert [m["auc_ng_h_ml"] for m in measures.values()] == pytest.approx(exposure.auc, abs=1)
    typical = single_dose(default_knowledge(), 80, fed=False).parent
    rows = table_rows(run("--dose", "80", "--days", "3", "--fasted"))
    assert rows["isotretinoin: single-dose Cmax ng/mL"] == f"{typical.cmax[0]:.0f}"
    assert rows["isotretinoin: single-dose Tmax h"] == f"{typical.tmax[0]:.1f}"
    assert rows["isotretinoin: single-dose AUC0–∞ ng·h/mL"] == f"{typical.auc[0]:,.0f}"
    assert "4-oxo-isotretinoin: single-dose AUC0–∞ ng·h/mL" in rows


def test_food_raises_the_steady_state_level_of_conventional_capsules() -> None:
    fed = run_json("--dose", "40", "--days", "10")
    fasted = run_json("--dose", "40", "--days", "10", "--fasted")
    level = fed["isotretinoin"]["steady_state_average_ng_ml"]["typical"]
    assert level / fasted["isotretinoin"]["steady_state_average_ng_ml"]["typical"] > 2.5


def test_a_population_gives_percentile_curves_reproducible_by_seed() -> None:
    args = ("--dose", "40", "--days", "7", "--population", "200", "--seed", "4")
    first, again = run_json(*args), run_json(*args)
    assert first["percentiles"] == [5, 50, 95]
    assert list(first["isotretinoin"]["curves_ng_ml"]) == ["p5", "p50", "p95"]
    assert first["isotretinoin"] == again["isotretinoin"]


def test_a_missed_day_and_a_short_follow_up_are_reported() -> None:
    document = run_json("--dose", "32", "--product", "absorica-ld", "--days", "10",
                        "--missed", "10", "--follow-days", "0.5")  # fmt: skip
    assert document["request"]["formulation"] == "absorica-ld"
    assert document["last_dose_h"] == 8 * 24 + 12
    assert document["isotretinoin"]["washout_h"]["typical"] is None


def test_the_plot_is_written_as_a_png(tmp_path: Path) -> None:
    target = tmp_path / "pk.png"
    result = run("--dose", "40", "--days", "5", "--population", "50", "--plot", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_topical_product_is_refused_in_one_line() -> None:
    result = run("--dose", "40", "--product", "isotrex-gel")
    assert result.exit_code == 1
    assert "no oral PK model" in result.stderr


def test_an_impossible_regimen_is_refused_naming_the_option() -> None:
    result = run("--dose", "40", "--times-per-day", "6")
    assert result.exit_code == 1
    assert "times per day" in result.stderr

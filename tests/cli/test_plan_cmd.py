from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

import isotrack.cli.plan_cmd  # noqa: F401  # registers the command
from isotrack.cli.app import app, local_today

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, ["plan", *args])


def run_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_json_lists_the_absorica_label_table_at_70_kg() -> None:
    document = run_json("--weight", "70", "--product", "absorica")
    levels = [(d["level"], d["mg_per_kg_day"], d["daily_mg"]) for d in document["label_doses"]]
    assert levels == [("usual_min", 0.5, 35), ("usual_max", 1.0, 70), ("absolute_max", 2.0, 140)]
    for dose in document["label_doses"]:
        capsules = [c for d in dose["doses"] for c in d["capsules_mg"]]
        assert sum(capsules) == dose["daily_mg"]
        assert set(capsules) <= set(document["product"]["strengths_mg"])


def test_json_of_absorica_ld_uses_its_own_label_doses() -> None:
    document = run_json("--weight", "70", "--product", "absorica-ld")
    assert [d["daily_mg"] for d in document["label_doses"]] == [28, 56, 112]
    assert document["plan"]["mg_per_kg_day"] == 0.8


def test_default_plan_is_the_top_of_the_usual_range_with_named_doses() -> None:
    plan = run_json("--weight", "70", "--product", "absorica", "--start", "2026-03-02")["plan"]
    assert plan["mg_per_kg_day"] == 1.0
    assert plan["mg_per_kg_day_source"] == "default"
    assert plan["daily_mg"] == 70
    assert plan["doses"] == [
        {"name": "morning", "capsules_mg": [35], "total_mg": 35},
        {"name": "evening", "capsules_mg": [35], "total_mg": 35},
    ]
    assert plan["target_mg_per_kg"] == 150


def test_target_gives_the_days_to_reach_it() -> None:
    plan = run_json(
        "--weight", "70", "--product", "absorica", "--mg-per-kg", "0.5",
        "--target", "120", "--start", "2026-03-02",
    )["plan"]  # fmt: skip
    assert plan["mg_per_kg_day_source"] == "option"
    assert plan["daily_mg"] == 35
    assert plan["dosing_days"] == 240
    assert plan["weeks"][-1]["cumulative_mg_per_kg"] == 120
    assert plan["weeks"][0] == {
        "week": 1,
        "date": "2026-03-08",
        "cumulative_mg": 245,
        "cumulative_mg_per_kg": 3.5,
        "daily_mg": 35,
    }


def test_missed_days_and_start_low_change_the_plan() -> None:
    plan = run_json(
        "--weight", "70", "--product", "absorica", "--start", "2026-03-02",
        "--start-low", "--missed", "2026-03-05", "--missed", "2026-03-06",
    )["plan"]  # fmt: skip
    assert plan["missed"] == ["2026-03-05", "2026-03-06"]
    assert [p["daily_mg"] for p in plan["periods"]] == [35, 70]
    assert plan["start_low"] is True


def test_without_start_the_plan_starts_today() -> None:
    plan = run_json("--weight", "70", "--product", "absorica")["plan"]
    assert plan["start"] == local_today().isoformat()


def test_human_output_shows_tables_notes_and_the_safety_line() -> None:
    result = run("--weight", "50", "--product", "absorica", "--mg-per-kg", "0.5")
    assert result.exit_code == 0, result.output
    assert "Label doses at this weight" in result.stdout
    assert "Week by week" in result.stdout
    assert "once daily 25 mg" in result.stdout
    assert "note:" in result.stdout
    assert "decision support" in result.stdout


def test_dose_above_the_absolute_maximum_is_refused_in_one_line() -> None:
    result = run("--weight", "70", "--product", "absorica", "--mg-per-kg", "2.5")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip().startswith("error: daily_mg_per_kg:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_topical_product_and_bad_date_are_refused() -> None:
    topical = run("--weight", "70", "--product", "isotrex-gel")
    assert topical.exit_code == 1
    assert "no oral dose" in topical.stderr
    bad_date = run("--weight", "70", "--product", "absorica", "--start", "03/02/2026")
    assert bad_date.exit_code == 1
    assert "--start" in bad_date.stderr


def test_help_shows_an_example() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "Example: isotrack plan --weight 70 --product absorica" in result.stdout

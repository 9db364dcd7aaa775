"""`isotrack course show`, `isotrack schedule` and `isotrack record`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.storage_cli import invoke, load_demo, one_error_line, sqlite_url


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return load_demo(tmp_path_factory.mktemp("demo") / "demo.db")


def audit_reads(url: str) -> int:
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM audit WHERE action = 'read'").fetchone()
    return int(count)


def test_course_show_json_has_the_dose_against_the_target(demo_db: str) -> None:
    result = invoke(
        "course", "show", "demo-carlos", "--date", "2026-03-02", "--json", "--database", demo_db
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    course = document["course"]
    assert course["course_id"] == "demo-carlos-c1"
    assert course["status"] == "active"
    assert course["cumulative_mg"] < 2 * 60 * 35  # two dispenses of 60 × 35 mg
    assert 0 < course["cumulative_mg_per_kg"] < course["target_mg_per_kg"]
    assert course["projected_end"] > "2026-03-02"
    assert any(e["what"].startswith("Missed doses reported: 6 days") for e in document["timeline"])
    assert {f["rule_id"] for f in document["findings"]} >= {"BLOOD-DONATION"}
    assert document["schedule"]["items"]
    assert document["safety"]


def test_course_show_on_an_earlier_day_leaves_out_what_came_later(demo_db: str) -> None:
    result = invoke(
        "course", "show", "demo-eva", "--date", "2025-10-01", "--json", "--database", demo_db
    )
    document = json.loads(result.stdout)
    assert all(e["date"] <= "2025-10-01" for e in document["timeline"])
    assert document["course"]["status"] == "ended"  # as recorded; the view is of that day
    assert "MON-POST-COURSE-TEST" not in {f["rule_id"] for f in document["findings"]}


def test_every_course_show_is_an_audited_read(demo_db: str) -> None:
    before = audit_reads(demo_db)
    assert invoke("course", "show", "demo-ana", "--database", demo_db).exit_code == 0
    assert audit_reads(demo_db) == before + 1


def test_an_unknown_patient_is_one_line_and_exit_1(demo_db: str) -> None:
    result = invoke("course", "show", "nobody", "--database", demo_db)
    assert result.exit_code == 1
    assert "nobody" in one_error_line(result)


def test_a_bad_date_is_one_line_and_exit_1(demo_db: str) -> None:
    result = invoke("course", "show", "demo-ana", "--date", "2026-13-01", "--database", demo_db)
    assert result.exit_code == 1
    assert "--date" in one_error_line(result)


def test_a_database_never_migrated_says_to_run_db_upgrade(tmp_path: Path) -> None:
    result = invoke("course", "show", "demo-ana", "--database", sqlite_url(tmp_path / "new.db"))
    assert result.exit_code == 1
    assert "isotrack db upgrade" in one_error_line(result)


def test_course_show_without_a_patient_is_a_usage_error() -> None:
    assert invoke("course", "show").exit_code == 2


def test_schedule_writes_an_ical_file(demo_db: str, tmp_path: Path) -> None:
    ics = tmp_path / "ana.ics"
    result = invoke(
        "schedule", "demo-ana", "--date", "2026-03-02", "--ics", str(ics), "--database", demo_db
    )
    assert result.exit_code == 0, result.output
    text = ics.read_text()
    assert text.startswith("BEGIN:VCALENDAR")
    assert "BEGIN:VEVENT" in text
    assert "Calendar written" in result.stdout


def test_schedule_json_lists_windows_no_longer_than_the_programme(demo_db: str) -> None:
    result = invoke(
        "schedule", "demo-kara", "--date", "2026-03-02", "--json", "--database", demo_db
    )
    document = json.loads(result.stdout)
    tests = [i for i in document["items"] if "pregnancy-test" in i["kind"]]
    assert tests
    assert {i["status"] for i in tests} <= {"done", "due", "overdue", "upcoming"}
    month3 = next(i for i in tests if i["end"] == "2026-03-03")
    assert month3["status"] == "done"


def test_record_adds_one_command_through_the_store(tmp_path: Path) -> None:
    url = load_demo(tmp_path / "demo.db")
    command = tmp_path / "weight.json"
    command.write_text(json.dumps({"type": "RecordWeight", "on": "2026-03-01", "value": 61.5}))
    result = invoke("record", "demo-ana", str(command), "--database", url)
    assert result.exit_code == 0, result.output
    assert "Weight 61.5 kg" in result.stdout
    shown = invoke(
        "course", "show", "demo-ana", "--json", "--date", "2026-03-02", "--database", url
    )
    assert any(e["what"] == "Weight 61.5 kg" for e in json.loads(shown.stdout)["timeline"])
    assert invoke("audit", "verify", "--database", url).exit_code == 0


def test_record_reads_the_command_from_stdin_and_checks_the_version(tmp_path: Path) -> None:
    url = load_demo(tmp_path / "demo.db")
    text = json.dumps({"type": "RecordPHQ9", "on": "2026-03-02", "total": 4, "item9": 0})
    stale = invoke(
        "record", "demo-dev", "-", "--expect-version", "1", "--database", url, stdin=text
    )
    assert stale.exit_code == 1
    assert "demo-dev" in one_error_line(stale)
    fresh = invoke("record", "demo-dev", "-", "--database", url, stdin=text)
    assert fresh.exit_code == 0, fresh.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ('{"type": "RecordWeight", "on": "2026-03-01"}', "not a valid command"),
        ('{"type": "RecordWeight", "on": "2099-03-01", "value": 60}', "future"),
        ('{"type": "Dispense", "on": "2026-03-01", "prescription_id": "x", "quantity": 1}', "x"),
    ],
)
def test_record_refuses_bad_input_with_one_line(
    demo_db: str, tmp_path: Path, content: str, expected: str
) -> None:
    command = tmp_path / "command.json"
    command.write_text(content)
    result = invoke("record", "demo-grace", str(command), "--database", demo_db)
    assert result.exit_code == 1
    assert expected in one_error_line(result)

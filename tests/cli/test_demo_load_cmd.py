"""ACCEPTANCE: `isotrack demo load && isotrack course show <id>` shows a readable
timeline with the findings of that day; `isotrack audit verify` passes, and
fails after a row of the audit table is changed with sqlite3."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from isotrack.demo.clinic import demo_clinic
from tests.cli.storage_cli import DEMO_DAY, invoke, load_demo, one_error_line, sqlite_url
from tests.store.conftest import POSTGRESQL_ADMIN_URL, postgresql_unreachable


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return load_demo(tmp_path_factory.mktemp("demo") / "demo.db")


def test_demo_load_lists_every_patient_with_its_story(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "demo.db")
    result = invoke("demo", "load", "--today", "2026-03-02", "--database", url)
    assert result.exit_code == 0, result.output
    words = " ".join(result.stdout.replace("│", " ").split())
    for patient in demo_clinic(DEMO_DAY):
        assert patient.patient_id in words
        assert patient.name in words
        assert patient.story.split()[0] in words


def test_course_show_after_demo_load_has_a_timeline_and_the_findings_of_the_day(
    demo_db: str,
) -> None:
    result = invoke("course", "show", "demo-jonas", "--date", "2026-03-02", "--database", demo_db)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Jonas Weber (demo-jonas) on 2026-03-02" in text
    assert "Timeline" in text
    for words in (
        "Course demo-jonas-c1 started",
        "Prescription demo-jonas-rx1: 35 mg twice a day",
        "Dispensed 60 capsules of demo-jonas-rx1",
        "PHQ-9 mood screen 15 (item 9: 1)",
        "Course paused: PHQ-9 item 9 = 1",
    ):
        assert words in text, words
    assert "Findings on 2026-03-02" in text
    assert "MOOD-PHQ9-POSITIVE" in text
    assert "critical" in text
    assert "cumulative dose" in text
    assert "mg/kg" in text
    assert "Monitoring schedule" in text
    assert "not a substitute for clinical judgment" in text


def test_course_show_screens_the_prescription_that_is_due(demo_db: str) -> None:
    ben = invoke("course", "show", "demo-ben", "--date", "2026-03-17", "--database", demo_db)
    assert ben.exit_code == 0, ben.output
    assert "Next prescription due 2026-03-22" in ben.stdout
    assert "LIPIDS-HIGH" in ben.stdout
    iris = invoke("course", "show", "demo-iris", "--date", "2026-03-02", "--database", demo_db)
    assert "planned first prescription" in iris.stdout
    assert "BASELINE-LABS-MISSING" in iris.stdout
    assert "PPP-START-TESTS" in iris.stdout


def test_audit_verify_passes_after_demo_load(demo_db: str) -> None:
    result = invoke("audit", "verify", "--database", demo_db)
    assert result.exit_code == 0, result.output
    assert "Audit trail intact" in result.stdout


def test_audit_verify_fails_after_a_row_is_changed_with_sqlite3(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    url = load_demo(path)
    assert invoke("audit", "verify", "--database", url).exit_code == 0
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE audit SET actor = 'mallory' WHERE id = 7")
    result = invoke("audit", "verify", "--database", url)
    assert result.exit_code == 1
    assert "row 7" in one_error_line(result)


def test_audit_verify_fails_after_a_row_is_deleted(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    url = load_demo(path)
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM audit WHERE id = 12")
    result = invoke("audit", "verify", "--database", url, "--json")
    assert result.exit_code == 1
    assert '"ok": false' in result.stdout
    assert "row 13" in one_error_line(result)


def test_demo_load_refuses_a_database_that_holds_the_demo_already(tmp_path: Path) -> None:
    url = load_demo(tmp_path / "demo.db")
    again = invoke("demo", "load", "--today", "2026-03-02", "--database", url)
    assert again.exit_code == 1
    assert "--replace" in one_error_line(again)
    replaced = invoke("demo", "load", "--today", "2026-03-02", "--replace", "--database", url)
    assert replaced.exit_code == 0, replaced.output
    assert invoke("audit", "verify", "--database", url).exit_code == 0


def test_demo_load_refuses_a_day_in_the_future(tmp_path: Path) -> None:
    result = invoke(
        "demo", "load", "--today", "2999-01-01", "--database", sqlite_url(tmp_path / "x.db")
    )
    assert result.exit_code == 1
    assert "--today" in one_error_line(result)


def test_demo_without_a_subcommand_still_shows_the_plan_and_screening() -> None:
    result = invoke("demo")
    assert result.exit_code == 0
    assert "isotrack screen dana.json" in result.stdout


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    """A new PostgreSQL database for this test (skipped when the server does not answer)."""
    reason = postgresql_unreachable()
    if reason is not None:
        pytest.skip(reason)
    name = f"isotrack_cli_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    admin = POSTGRESQL_ADMIN_URL.set(drivername="postgresql").render_as_string(hide_password=False)

    def run(statement: sql.Composable) -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(statement)

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    run(drop)
    run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield POSTGRESQL_ADMIN_URL.set(database=name).render_as_string(hide_password=False)
    finally:
        run(drop)


def test_acceptance_on_postgresql(postgresql_url: str) -> None:
    loaded = invoke("demo", "load", "--today", "2026-03-02", "--database", postgresql_url)
    assert loaded.exit_code == 0, loaded.output
    shown = invoke(
        "course", "show", "demo-dev", "--date", "2026-03-02", "--database", postgresql_url
    )
    assert shown.exit_code == 0, shown.output
    assert "PHQ-9 mood screen 12" in shown.stdout
    assert "MOOD-PHQ9-POSITIVE" in shown.stdout
    assert invoke("audit", "verify", "--database", postgresql_url).exit_code == 0
    libpq = postgresql_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute("UPDATE audit SET action = 'read' WHERE id = 5")
    broken = invoke("audit", "verify", "--database", postgresql_url)
    assert broken.exit_code == 1
    assert "row 5" in one_error_line(broken)

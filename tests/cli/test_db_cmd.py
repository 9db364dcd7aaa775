"""`isotrack db upgrade` and `isotrack db downgrade`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from isotrack.store import current_revision, head_revision
from tests.cli.storage_cli import invoke, one_error_line, sqlite_url


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def test_upgrade_creates_the_tables_and_can_be_repeated(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    for _ in range(2):
        result = invoke("db", "upgrade", "--database", sqlite_url(path))
        assert result.exit_code == 0, result.output
    assert {"patients", "commands", "audit"} <= tables(path)
    assert current_revision(sqlite_url(path)) == head_revision()


def test_downgrade_to_base_removes_every_table(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "clinic.db")
    assert invoke("db", "upgrade", "--database", url).exit_code == 0
    result = invoke("db", "downgrade", "--revision", "base", "--database", url)
    assert result.exit_code == 0, result.output
    assert not {"patients", "commands", "audit"} & tables(tmp_path / "clinic.db")


def test_the_database_comes_from_the_settings_without_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "from-env.db"
    monkeypatch.setenv("ISOTRACK_DATABASE_URL", sqlite_url(path))
    assert invoke("db", "upgrade").exit_code == 0
    assert "audit" in tables(path)


def test_an_unusable_url_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = invoke("db", "upgrade", "--database", "mysql://nobody@nowhere/x")
    assert result.exit_code == 1
    assert "SQLite" in one_error_line(result)


def test_downgrade_needs_a_revision() -> None:
    assert invoke("db", "downgrade").exit_code == 2


@pytest.mark.parametrize("command", [["db", "upgrade"], ["db", "downgrade"]])
def test_help_shows_an_example(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout

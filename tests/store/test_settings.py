"""The settings: one typed class, the only reader of the environment."""

from __future__ import annotations

import pytest

from isotrack.settings import DEFAULT_DATABASE_URL, Settings, get_settings


def test_database_defaults_to_an_sqlite_file_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ISOTRACK_DATABASE_URL", raising=False)
    assert get_settings().database_url == DEFAULT_DATABASE_URL == "sqlite:///isotrack.db"


def test_database_url_comes_from_isotrack_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISOTRACK_DATABASE_URL", "sqlite:////var/lib/isotrack/clinic.db")
    assert get_settings().database_url == "sqlite:////var/lib/isotrack/clinic.db"


@pytest.mark.parametrize(
    "given",
    [
        "postgresql://postgres@127.0.0.1:5432/isotrack",
        "postgres://postgres@127.0.0.1:5432/isotrack",
    ],
)
def test_a_plain_postgresql_url_is_read_with_psycopg(
    monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    monkeypatch.setenv("ISOTRACK_DATABASE_URL", given)
    expected = "postgresql+psycopg://postgres@127.0.0.1:5432/isotrack"
    assert get_settings().database_url == expected
    assert Settings(database_url=given).database_url == expected

"""``isotrack serve`` refuses to start on an unusable production configuration, with
one line and exit code 1 (issue 14, point 1). Before, it started: a missing or weak
secret key, unsigned CDS Hooks or no public URL were found by clients, one request
at a time. Development (``make run``) still starts without any of them: see
test_serve_cmd.py, whose demo server runs with ISOTRACK_ENV=development."""

from __future__ import annotations

from pathlib import Path

import pytest

import isotrack.cli.serve_cmd  # noqa: F401  # registers `serve`
from isotrack.store import create_engine_for, upgrade
from tests.cli.storage_cli import invoke, one_error_line, sqlite_url

GOOD_KEY = "kq3V9pZ0uX2m7LwRr1tYb8NcF4sHj6AeQ2"
PUBLIC_URL = "https://isotrack.example.org"


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "ISOTRACK_SECRET_KEY",
        "ISOTRACK_CDS_ISSUERS",
        "ISOTRACK_CDS_ALLOW_UNSIGNED",
        "ISOTRACK_CDS_PUBLIC_URL",
        "ISOTRACK_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ISOTRACK_ENV", "production")
    return monkeypatch


@pytest.fixture
def migrated(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path / "isotrack.db")
    engine = create_engine_for(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.mark.parametrize(
    ("key", "why"),
    [
        (None, "is not set"),
        ("changeme", "is a placeholder"),
        ("s3cr3t-13byte", "is 13 bytes long"),
    ],
)
def test_serve_refuses_a_missing_or_weak_secret_key(
    production: pytest.MonkeyPatch, migrated: str, key: str | None, why: str
) -> None:
    production.setenv("ISOTRACK_CDS_PUBLIC_URL", PUBLIC_URL)
    if key is not None:
        production.setenv("ISOTRACK_SECRET_KEY", key)
    result = invoke("serve", "--database", migrated)
    assert result.exit_code == 1, result.output
    line = one_error_line(result)
    assert "ISOTRACK_SECRET_KEY" in line
    assert why in line


def test_serve_refuses_unsigned_cds_in_production(
    production: pytest.MonkeyPatch, migrated: str
) -> None:
    production.setenv("ISOTRACK_SECRET_KEY", GOOD_KEY)
    production.setenv("ISOTRACK_CDS_PUBLIC_URL", PUBLIC_URL)
    production.setenv("ISOTRACK_CDS_ALLOW_UNSIGNED", "true")
    result = invoke("serve", "--database", migrated)
    assert result.exit_code == 1, result.output
    assert "ISOTRACK_CDS_ALLOW_UNSIGNED" in one_error_line(result)


def test_serve_refuses_production_without_a_public_url(
    production: pytest.MonkeyPatch, migrated: str
) -> None:
    production.setenv("ISOTRACK_SECRET_KEY", GOOD_KEY)
    result = invoke("serve", "--database", migrated)
    assert result.exit_code == 1, result.output
    assert "ISOTRACK_CDS_PUBLIC_URL: is not set" in one_error_line(result)


def test_serve_refuses_an_unreachable_database(production: pytest.MonkeyPatch) -> None:
    production.setenv("ISOTRACK_SECRET_KEY", GOOD_KEY)
    production.setenv("ISOTRACK_CDS_PUBLIC_URL", PUBLIC_URL)
    result = invoke("serve", "--database", "postgresql://postgres@127.0.0.1:9/isotrack")
    assert result.exit_code == 1, result.output
    line = one_error_line(result)
    assert "cannot be used" in line


def test_serve_refuses_a_database_not_at_the_newest_schema(
    production: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    production.setenv("ISOTRACK_SECRET_KEY", GOOD_KEY)
    production.setenv("ISOTRACK_CDS_PUBLIC_URL", PUBLIC_URL)
    url = sqlite_url(tmp_path / "old.db")
    engine = create_engine_for(url)
    upgrade(engine, "0001")
    engine.dispose()
    result = invoke("serve", "--database", url)
    assert result.exit_code == 1, result.output
    assert "isotrack db upgrade" in one_error_line(result)

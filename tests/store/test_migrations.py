"""Alembic: from empty to the newest schema and back, on both databases, without drift."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import URL

from isotrack.errors import StorageError
from isotrack.store import (
    create_engine_for,
    current_revision,
    downgrade,
    head_revision,
    require_current_schema,
    upgrade,
)
from isotrack.store.models import TABLES_IN_DEPENDENCY_ORDER, Base


def test_upgrade_from_empty_to_head_then_downgrade_to_base(blank_database_url: URL) -> None:
    engine = create_engine_for(blank_database_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert set(TABLES_IN_DEPENDENCY_ORDER) <= set(inspect(engine).get_table_names())
        downgrade(engine)
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)  # and up again: the downgrade left nothing behind
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_upgrade_accepts_a_url_and_is_safe_to_repeat(blank_database_url: URL) -> None:
    url = blank_database_url.render_as_string(hide_password=False)
    upgrade(url)
    upgrade(url)
    assert current_revision(url) == head_revision()


def test_autogenerate_finds_no_drift_between_models_and_migrations(
    blank_database_url: URL,
) -> None:
    engine = create_engine_for(blank_database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_a_database_behind_the_code_is_refused_with_the_command_to_run(
    blank_database_url: URL,
) -> None:
    with pytest.raises(StorageError, match=r"has no isotrack tables.*isotrack db upgrade"):
        require_current_schema(blank_database_url)
    upgrade(blank_database_url)
    require_current_schema(blank_database_url)


def test_an_unknown_revision_is_a_storage_error(blank_database_url: URL) -> None:
    with pytest.raises(StorageError, match="cannot migrate"):
        upgrade(blank_database_url, "nonexistent")

"""Schema migrations, run from code: the packaged Alembic scripts, no alembic.ini.

>>> from isotrack.store.db import create_engine_for
>>> engine = create_engine_for("sqlite://")
>>> current_revision(engine) is None
True
>>> upgrade(engine)
>>> current_revision(engine) == head_revision()
True
>>> downgrade(engine)
>>> current_revision(engine) is None
True
>>> engine.dispose()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine

from isotrack.errors import StorageError
from isotrack.store.db import UrlOrEngine, describe, engine_from, storage_errors

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration for the packaged scripts, migrating ``engine``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if engine is not None:
        config.attributes["connectable"] = engine
    return config


def upgrade(url_or_engine: UrlOrEngine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (the newest schema by default)."""
    with engine_from(url_or_engine) as engine, _migration_errors(engine):
        command.upgrade(alembic_config(engine), revision)


def downgrade(url_or_engine: UrlOrEngine, revision: str = "base") -> None:
    """Migrate the database down to ``revision`` (no tables at all by default)."""
    with engine_from(url_or_engine) as engine, _migration_errors(engine):
        command.downgrade(alembic_config(engine), revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StorageError(f"no migration scripts found in {MIGRATIONS}")
    return head


def current_revision(url_or_engine: UrlOrEngine) -> str | None:
    """The schema revision the database is at; None when it was never migrated."""
    with (
        engine_from(url_or_engine) as engine,
        storage_errors(engine),
        engine.connect() as connection,
    ):
        return MigrationContext.configure(connection).get_current_revision()


def require_current_schema(url_or_engine: UrlOrEngine) -> None:
    """StorageError unless the database is at the newest schema."""
    with engine_from(url_or_engine) as engine:
        current, head = current_revision(engine), head_revision()
        if current != head:
            at = "has no isotrack tables" if current is None else f"is at schema {current}"
            raise StorageError(
                f"the database {describe(engine)} {at}; this isotrack needs schema {head}: "
                "run `isotrack db upgrade`"
            )


@contextmanager
def _migration_errors(engine: Engine) -> Iterator[None]:
    with storage_errors(engine):
        try:
            yield
        except CommandError as error:
            raise StorageError(f"cannot migrate {describe(engine)}: {error}") from error

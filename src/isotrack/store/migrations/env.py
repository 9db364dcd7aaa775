"""Alembic environment for isotrack.

:mod:`isotrack.store.migrate` runs it with the Engine to migrate in
``config.attributes["connectable"]``; the ``sqlalchemy.url`` option is the
fallback (for running Alembic by hand). Importing this module anywhere else
(a test collector, a documentation tool) does nothing.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from isotrack.store.db import create_engine_for
from isotrack.store.models import Base


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline(url: str) -> None:
    """Write the SQL instead of running it (``alembic upgrade --sql``)."""
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    config = context.config
    connectable = config.attributes.get("connectable")
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        if url is None:
            raise RuntimeError("offline migrations need the sqlalchemy.url option")
        run_offline(url)
    elif isinstance(connectable, Connection):
        run_migrations(connectable)
    elif isinstance(connectable, Engine):
        with connectable.connect() as connection:
            run_migrations(connection)
    elif url is not None:
        engine = create_engine_for(url)
        try:
            with engine.connect() as connection:
                run_migrations(connection)
        finally:
            engine.dispose()
    else:
        raise RuntimeError("no database to migrate: pass an engine or set sqlalchemy.url")


if getattr(context, "config", None) is not None:  # run by Alembic, not merely imported
    main()

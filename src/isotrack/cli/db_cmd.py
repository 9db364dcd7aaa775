"""``isotrack db``: migrate the database; and what every storage command shares.

Every command that reads or writes the record takes ``--database URL``; without
it the URL comes from the settings (``ISOTRACK_DATABASE_URL``, default
``sqlite:///isotrack.db``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from isotrack.cli.app import app, out, translate_errors
from isotrack.errors import InvalidInputError
from isotrack.settings import get_settings
from isotrack.store import create_engine_for, downgrade, upgrade
from isotrack.store.checkpoint import Checkpoint, load_verify_key, read_checkpoint

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        metavar="URL",
        help="Database URL, e.g. sqlite:///clinic.db or postgresql://user@host/isotrack "
        "(default: ISOTRACK_DATABASE_URL, else sqlite:///isotrack.db).",
    ),
]
CheckpointOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoint",
        metavar="FILE",
        help="A signed checkpoint (`isotrack audit checkpoint`): also detect a recomputed "
        "chain and deleted newest rows.",
    ),
]
CheckpointKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key",
        metavar="FILE",
        help="Public key (PEM, `isotrack audit keygen`) that checks the checkpoint's "
        "signature (needed with --checkpoint FILE).",
    ),
]


def read_anchor(checkpoint: Path | None, key: Path | None) -> Checkpoint | None:
    """The checkpoint in ``checkpoint``, its signature checked; None without one."""
    if checkpoint is None:
        return None
    if key is None:
        raise InvalidInputError(
            "key", "--checkpoint needs --key FILE.pub: the public key that checks its signature"
        )
    return read_checkpoint(checkpoint, load_verify_key(key))


CLI_ACTOR = "cli"
"""Who the audit trail says acted, for commands given on the command line."""

db_app = typer.Typer(
    name="db",
    help="The database: bring its schema to the version isotrack expects.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(db_app, name="db")


def database_url(database: str | None) -> str:
    return database if database is not None else get_settings().database_url


@contextmanager
def open_database(database: str | None) -> Iterator[Engine]:
    """An engine on the chosen database, closed when the command ends."""
    engine = create_engine_for(database_url(database))
    try:
        yield engine
    finally:
        engine.dispose()


def now() -> datetime:
    """This moment in the machine's time zone: its calendar day is the "today" a command
    is checked against (the CLI may read the clock; the engine may not)."""
    return datetime.now(UTC).astimezone()


@db_app.command("upgrade")
@translate_errors
def upgrade_command(
    revision: Annotated[
        str, typer.Option("--revision", help="Alembic revision to migrate to.")
    ] = "head",
    database: DatabaseOption = None,
) -> None:
    """Create the tables, or migrate them to a newer schema (safe to repeat).

    Example: [bold]isotrack db upgrade --database sqlite:///clinic.db[/bold]
    """
    with open_database(database) as engine:
        upgrade(engine, revision)
        out.print(f"Database at revision {revision}.", markup=False)


@db_app.command("downgrade")
@translate_errors
def downgrade_command(
    revision: Annotated[
        str,
        typer.Option("--revision", help="Alembic revision to go back to; base drops every table."),
    ],
    database: DatabaseOption = None,
) -> None:
    """Migrate the schema back; [bold]--revision base[/bold] removes every table and its data.

    Example: [bold]isotrack db downgrade --revision base --database sqlite:///clinic.db[/bold]
    """
    with open_database(database) as engine:
        downgrade(engine, revision)
        out.print(f"Database at revision {revision}.", markup=False)

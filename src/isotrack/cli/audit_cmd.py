"""``isotrack audit verify``: check the hash chain of the audit trail."""

from __future__ import annotations

from typing import Annotated

import typer

from isotrack.cli.app import app, out, print_json, translate_errors
from isotrack.cli.db_cmd import DatabaseOption, open_database
from isotrack.store import verify_audit

audit_app = typer.Typer(
    name="audit",
    help="The audit trail of every command and every read of a patient's record.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
@translate_errors
def verify_command(
    database: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check that no audit row was changed, deleted or inserted.

    Each row holds the SHA-256 of the previous row and of its own fields.
    Exit code 0 when the chain is intact, 1 when it is broken (the first
    broken row is named).

    Example: [bold]isotrack audit verify --database sqlite:///clinic.db[/bold]
    """
    with open_database(database) as engine:
        result = verify_audit(engine)
    if as_json:
        print_json(
            {
                "ok": result.ok,
                "rows": result.rows,
                "first_broken": result.first_broken,
                "reason": result.reason,
                "head_hash": result.head_hash,
            }
        )
    elif result.ok:
        out.print(
            f"Audit trail intact: {result.rows} row(s) checked; head hash {result.head_hash} "
            "(keep it elsewhere: deleting the newest rows leaves no gap).",
            markup=False,
        )
    if not result.ok:
        typer.echo(
            f"error: audit trail broken at row {result.first_broken}: {result.reason}", err=True
        )
        raise typer.Exit(1)

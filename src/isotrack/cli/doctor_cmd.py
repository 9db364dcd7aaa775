"""``isotrack doctor``: list the records that cannot be read back.

A record is unreadable when a command of its log no longer decodes (a number
stored as null), holds what the door refuses today (a NUL or a line break in a
name, a date out of range: stored before the door existed), or does not replay.
The clinic dashboard shows such a patient as an error row; this command names
each one, the command and the field, so that an administrator can repair it
from a backup or by hand. It prints no clinical value.
"""

from __future__ import annotations

from typing import Annotated

import typer

from isotrack.cli.app import PolicyOption, app, knowledge, out, print_json, translate_errors
from isotrack.cli.db_cmd import DatabaseOption, open_database
from isotrack.store import unreadable_records


@app.command("doctor")
@translate_errors
def doctor_command(
    database: DatabaseOption = None,
    policy: PolicyOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the patients whose record cannot be read back, and why.

    Exit code 0 when every record reads, 1 when one or more do not (each is named
    with the command and field at fault).

    Example: [bold]isotrack doctor --database sqlite:///clinic.db[/bold]
    """
    kb = knowledge(policy)
    with open_database(database) as engine:
        found = unreadable_records(engine, kb)
    if as_json:
        print_json(
            {
                "ok": not found,
                "unreadable": [
                    {"patient_id": record.patient_id, "reason": record.reason} for record in found
                ],
            }
        )
    elif not found:
        out.print("Every record reads back.", markup=False)
    for record in found if not as_json else ():
        out.print(f"{record.patient_id}: {record.reason}", markup=False, soft_wrap=True)
    if found:
        typer.echo(f"error: {len(found)} record(s) cannot be read back", err=True)
        raise typer.Exit(1)

"""``isotrack export`` / ``import`` (a patient's record as FHIR R4) and
``isotrack backup`` / ``restore`` (the whole database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from isotrack.cli.app import PolicyOption, app, err, knowledge, out, parse_day, translate_errors
from isotrack.cli.db_cmd import (
    CLI_ACTOR,
    CheckpointKeyOption,
    CheckpointOption,
    DatabaseOption,
    database_url,
    now,
    open_database,
    read_anchor,
)
from isotrack.clinical.record import describe_command
from isotrack.errors import InvalidInputError, StorageError
from isotrack.fhir import load_bundle_file
from isotrack.fhir.transfer import export_patient, import_bundle
from isotrack.store import backup, restore, row_counts


@app.command("export")
@translate_errors
def export_command(
    patient_id: Annotated[str, typer.Argument(metavar="PATIENT", help="The patient's id.")],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", metavar="FILE", help="Write the Bundle here (default: stdout)."),
    ] = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Export a patient's whole record as a FHIR R4 Bundle (JSON).

    Every command of the record: the patient, weights, labs, pregnancy tests,
    PHQ-9, lesion counts, symptoms, contraception, courses with their pauses,
    dose changes and end, prescriptions, dispenses, missed doses, overrides,
    comprehension answers, counselling and dispensing authorisations, each
    with who recorded it and when. `isotrack import` rebuilds the same record
    from it. The read is audited.

    Example: [bold]isotrack export demo-ana --out ana.json[/bold]
    """
    kb = knowledge(policy)
    moment = now()
    with open_database(database) as engine:
        bundle = export_patient(engine, patient_id, actor=CLI_ACTOR, now=moment, kb=kb)
    text = json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"
    if out_file is None:
        typer.echo(text, nl=False)
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InvalidInputError("--out", f"cannot write {out_file}: {error.strerror}") from None
    out.print(f"{len(bundle['entry'])} resources written to {out_file}.", markup=False)


@app.command("import")
@translate_errors
def import_command(
    bundle_file: Annotated[
        Path,
        typer.Argument(metavar="BUNDLE.json", help="A FHIR R4 Bundle (.json or .json.gz)."),
    ],
    patient_id: Annotated[
        str | None,
        typer.Option(
            "--patient",
            metavar="ID",
            help="The isotrack patient to create (default: the Bundle's patient id).",
        ),
    ] = None,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Add to a patient already in the database what the Bundle holds and the "
            "record does not (otherwise refused).",
        ),
    ] = False,
    on: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="YYYY-MM-DD",
            help="The import day: data dated after it is refused (default: today).",
        ),
    ] = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Create a patient (or, with --update, add to one) from a FHIR R4 Bundle.

    A Bundle from `isotrack export` brings back the whole record: every
    command, with who recorded it and when. From any other system, weights,
    labs, pregnancy tests, pregnancy statuses, contraception, PHQ-9 and lesion
    counts become commands; what the record cannot hold is said in a note.
    Everything is checked first and stored in one transaction: all
    of it or, when anything is refused, nothing.

    Example: [bold]isotrack import ana.json --patient demo-ana[/bold]
    """
    kb = knowledge(policy)
    moment = now()
    today = moment.date()
    day = parse_day("--date", on)
    if day > today:
        raise InvalidInputError("--date", f"{day} is after today ({today})")
    bundle = load_bundle_file(bundle_file)
    with open_database(database) as engine:
        result = import_bundle(
            engine, bundle, actor=CLI_ACTOR, now=moment, kb=kb, on=day, patient_id=patient_id,
            update=update,
        )  # fmt: skip
    plan = result.plan
    verb = "created" if result.created else "updated"
    out.print(
        f"Patient {plan.patient_id} {verb}: {len(plan.commands)} command(s) recorded "
        f"(version {result.version}).",
        markup=False,
    )
    for command in plan.commands:
        out.print(f"- {command.on} {describe_command(command, kb)}", markup=False)
    for note in plan.notes:
        err.print(f"note: {note}", markup=False)


@app.command("backup")
@translate_errors
def backup_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The backup file to write.")],
    file_format: Annotated[
        Literal["sqlite", "json"] | None,
        typer.Option(
            "--format",
            help="sqlite (SQLite online backup) or json (portable, every table); default: "
            "sqlite for SQLite, json for PostgreSQL.",
        ),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Back the whole database up while it stays in use.

    An SQLite copy (SQLite's online backup), or a portable JSON export of
    every table (PostgreSQL). The file holds patient data and is created
    readable by its owner only.

    Example: [bold]isotrack backup clinic-2026-03-02.db[/bold]
    """
    written = backup(database_url(database), file, format=file_format)
    out.print(f"Backup written to {file} ({written}).", markup=False)


@app.command("restore")
@translate_errors
def restore_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A backup made by isotrack backup.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace what the database holds (otherwise refused)."),
    ] = False,
    database: DatabaseOption = None,
    checkpoint: CheckpointOption = None,
    key: CheckpointKeyOption = None,
) -> None:
    """Restore a backup (either format) into the database.

    The backup's audit trail is verified first (with --checkpoint, against a
    signed checkpoint too): a backup that fails is refused and the database is
    not touched. The database is then migrated to the current schema. A
    database that holds data is refused (use --force to replace its contents).

    Example: [bold]isotrack restore clinic-2026-03-02.db --database sqlite:///new.db[/bold]
    """
    if not file.is_file():
        raise InvalidInputError("FILE", f"{file} is not a file")
    anchor = read_anchor(checkpoint, key)
    with open_database(database) as engine:
        counts = row_counts(engine)
        if any(counts.values()) and not force:
            held = ", ".join(f"{count} {table}" for table, count in counts.items())
            raise StorageError(
                f"the database already holds data ({held} rows): restore into an empty "
                "database, or pass --force to replace its contents"
            )
        kind = restore(file, engine, replace=force, checkpoint=anchor)
    out.print(f"Database restored from {file} ({kind}).", markup=False)

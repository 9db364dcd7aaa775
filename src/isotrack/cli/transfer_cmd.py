"""``isotrack export`` / ``import`` (a patient's record as FHIR R4) and
``isotrack backup`` / ``restore`` (the whole database)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import typer
from sqlalchemy import Engine

from isotrack.cli.app import PolicyOption, app, err, knowledge, out, parse_day, translate_errors
from isotrack.cli.course_cmd import load_record
from isotrack.cli.course_view import describe_command
from isotrack.cli.db_cmd import CLI_ACTOR, DatabaseOption, database_url, now, open_database
from isotrack.clinical.record import PatientRecord, apply, replay
from isotrack.errors import InvalidInputError, StorageError
from isotrack.fhir import load_bundle_file
from isotrack.fhir.export import record_to_bundle
from isotrack.fhir.import_record import plan_import, target_patient_id
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import backup, execute, patient_ids, read_history, restore, row_counts


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

    Patient, weights, labs, pregnancy tests, PHQ-9, lesion counts,
    contraception, prescriptions, dispenses and overrides. The read is audited.

    Example: [bold]isotrack export demo-ana --out ana.json[/bold]
    """
    kb = knowledge(policy)
    moment = now()
    record, _ = load_record(database, patient_id, kb, moment)
    bundle = record_to_bundle(record, kb=kb, on=moment.date())
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
            help="The isotrack patient to create or update (default: the Bundle's patient id).",
        ),
    ] = None,
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
    """Create or update a patient from a FHIR R4 Bundle.

    Weights, labs, pregnancy tests, contraception, PHQ-9 and lesion counts
    become commands. What the record already holds is skipped, so importing
    twice adds nothing. Every command is checked before any is stored.

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
        target = target_patient_id(bundle, patient_id)
        existing, version = _existing(engine, target, kb, moment)
        plan = plan_import(bundle, kb=kb, on=day, patient_id=target, existing=existing)
        record = existing
        for command in plan.commands:  # check them all before storing any
            record = apply(record, command, today=day, kb=kb)
        for command in plan.commands:
            _, version = execute(
                engine, plan.patient_id, command, actor=CLI_ACTOR, now=moment, kb=kb,
                expected_version=version,
            )  # fmt: skip
    verb = "updated" if existing is not None else "created"
    out.print(
        f"Patient {plan.patient_id} {verb}: {len(plan.commands)} command(s) recorded "
        f"(version {version}).",
        markup=False,
    )
    for command in plan.commands:
        out.print(f"- {command.on} {describe_command(command, kb)}", markup=False)
    for note in plan.notes:
        err.print(f"note: {note}", markup=False)


def _existing(
    engine: Engine, patient_id: str, kb: KnowledgeBase, moment: datetime
) -> tuple[PatientRecord | None, int]:
    """The patient's record and version if the patient is in the database (an audited
    read), else (None, 0)."""
    if patient_id not in patient_ids(engine):
        return None, 0
    history = read_history(engine, patient_id, actor=CLI_ACTOR, now=moment)
    return replay(((s.command, s.recorded_on) for s in history), kb=kb), len(history)


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
) -> None:
    """Restore a backup (either format) into the database.

    The database is then migrated to the current schema. A database that
    holds data is refused (use --force to replace its contents).

    Example: [bold]isotrack restore clinic-2026-03-02.db --database sqlite:///new.db[/bold]
    """
    if not file.is_file():
        raise InvalidInputError("FILE", f"{file} is not a file")
    with open_database(database) as engine:
        counts = row_counts(engine)
        if any(counts.values()) and not force:
            held = ", ".join(f"{count} {table}" for table, count in counts.items())
            raise StorageError(
                f"the database already holds data ({held} rows): restore into an empty "
                "database, or pass --force to replace its contents"
            )
        kind = restore(file, engine, replace=force)
    out.print(f"Database restored from {file} ({kind}).", markup=False)

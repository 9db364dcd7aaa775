"""``isotrack worklist``: what in a patient's record needs a clinician, and the
clinician's steps on it (assign, acknowledge, resolve), each recorded as a
command of the course record and audited (actor "cli")."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from isotrack import SAFETY_LINE
from isotrack.cli.app import (
    PolicyOption,
    app,
    knowledge,
    out,
    parse_day,
    print_json,
    translate_errors,
)
from isotrack.cli.course_cmd import DateOption, PatientArgument, load_record
from isotrack.cli.db_cmd import CLI_ACTOR, DatabaseOption, now, open_database
from isotrack.clinical.record import describe_command, patient_worklist
from isotrack.clinical.state import (
    AcknowledgeWorkItem,
    AnyCommand,
    AssignWorkItem,
    ResolveWorkItem,
)
from isotrack.clinical.worklist import WorkItem
from isotrack.store import execute

ItemArgument = Annotated[
    str, typer.Argument(metavar="ITEM", help="The item's id, as `isotrack worklist show` lists it.")
]
NoteOption = Annotated[str, typer.Option("--note", help="What was done (required to resolve).")]

worklist_app = typer.Typer(
    name="worklist",
    help="What needs a clinician: patient reports, test windows, blocked dispenses.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(worklist_app, name="worklist")


def item_json(item: WorkItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "severity": item.severity.label,
        "on": item.on.isoformat(),
        "summary": item.summary,
        "detail": item.detail,
        "patient_report": item.report,
        "told_to_stop": item.stop,
        "status": item.status.value,
        "assignee": item.assignee,
        "acknowledged_on": item.acknowledged_on.isoformat() if item.acknowledged_on else None,
        "resolved_on": item.resolved_on.isoformat() if item.resolved_on else None,
        "note": item.note,
    }


@worklist_app.command("show")
@translate_errors
def show_command(
    patient_id: PatientArgument,
    on: DateOption = None,
    show_all: Annotated[bool, typer.Option("--all", help="Include resolved items.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """List a patient's worklist on one day, most severe first (the read is audited).

    Example: [bold]isotrack worklist show demo-ana --json[/bold]
    """
    kb = knowledge(policy)
    day = parse_day("--date", on)
    record, _ = load_record(database, patient_id, kb, now())
    items = [i for i in patient_worklist(record, on=day, kb=kb) if show_all or i.is_open]
    if as_json:
        print_json({"patient_id": patient_id, "on": day.isoformat(),
                    "items": [item_json(i) for i in items]})  # fmt: skip
        return
    table = Table(title=f"Worklist of {record.name} on {day}")
    for column in ("item", "severity", "date", "what", "status"):
        table.add_column(column)
    for item in items:
        status = item.status.value + (f", {item.assignee}" if item.assignee else "")
        table.add_row(item.id, item.severity.label, str(item.on), item.summary, status)
    out.print(table if items else "Nothing needs a clinician.")
    out.print(SAFETY_LINE, markup=False)


def _record(patient_id: str, command: AnyCommand, database: str | None, policy: Any) -> None:
    kb = knowledge(policy)
    with open_database(database) as engine:
        _, version = execute(engine, patient_id, command, actor=CLI_ACTOR, now=now(), kb=kb)
    out.print(
        f"Recorded for {patient_id}: {describe_command(command, kb)} (version {version}).",
        markup=False,
    )


@worklist_app.command("ack")
@translate_errors
def acknowledge_command(
    patient_id: PatientArgument,
    item: ItemArgument,
    note: NoteOption = "",
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Acknowledge an item today: a patient report no longer raises REPORT-NEEDS-REVIEW.

    Example: [bold]isotrack worklist ack demo-ana symptoms-2 --note "called the patient"[/bold]
    """
    command = AcknowledgeWorkItem(on=now().date(), item=item, note=note)
    _record(patient_id, command, database, policy)


@worklist_app.command("resolve")
@translate_errors
def resolve_command(
    patient_id: PatientArgument,
    item: ItemArgument,
    note: NoteOption = "",
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Resolve an item today with a note saying how it was dealt with.

    Example: [bold]isotrack worklist resolve demo-ana symptoms-2 --note "seen; restarted"[/bold]
    """
    _record(patient_id, ResolveWorkItem(on=now().date(), item=item, note=note), database, policy)


@worklist_app.command("assign")
@translate_errors
def assign_command(
    patient_id: PatientArgument,
    item: ItemArgument,
    to: Annotated[str, typer.Option("--to", help="The clinician's user name.")] = "",
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Assign an item to a clinician.

    Example: [bold]isotrack worklist assign demo-ana symptoms-2 --to dr.lee[/bold]
    """
    command = AssignWorkItem(on=now().date(), item=item, assignee=to)
    _record(patient_id, command, database, policy)

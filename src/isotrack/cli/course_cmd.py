"""``isotrack course show``, ``isotrack schedule`` and ``isotrack record``: a
patient's course from the database, day by day, and adding to it."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

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
from isotrack.cli.course_json import schedule_json, view_json
from isotrack.cli.db_cmd import CLI_ACTOR, DatabaseOption, now, open_database
from isotrack.cli.screen_cmd import SEVERITY_STYLES
from isotrack.clinical.findings import Assessment
from isotrack.clinical.monitoring import ItemStatus, Schedule
from isotrack.clinical.record import (
    CourseView,
    PatientRecord,
    course_view,
    describe_command,
    record_schedule,
    replay,
    to_snapshot,
)
from isotrack.clinical.state import AnyCommand, command_from_dict
from isotrack.errors import InvalidInputError, IsotrackError, StorageError
from isotrack.ical import schedule_to_ics
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import StoredCommand, execute, read_history

STATUS_STYLES = {
    ItemStatus.OVERDUE: "bold red",
    ItemStatus.DUE: "yellow",
    ItemStatus.UPCOMING: "",
    ItemStatus.DONE: "green",
    ItemStatus.LATE: "magenta",
}
PatientArgument = Annotated[str, typer.Argument(metavar="PATIENT", help="The patient's id.")]
DateOption = Annotated[
    str | None,
    typer.Option("--date", metavar="YYYY-MM-DD", help="The day to look at (default: today)."),
]

course_app = typer.Typer(
    name="course",
    help="A patient's isotretinoin course as recorded: timeline, dose, schedule, findings.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(course_app, name="course")


def load_record(
    database: str | None, patient_id: str, kb: KnowledgeBase, moment: datetime
) -> tuple[PatientRecord, list[StoredCommand]]:
    """The patient's record and command log; the read is audited (actor "cli")."""
    with open_database(database) as engine:
        history = read_history(engine, patient_id, actor=CLI_ACTOR, now=moment)
    try:
        record = replay(((s.command, s.recorded_on) for s in history), kb=kb)
    except IsotrackError as error:
        raise StorageError(
            f"the stored record of patient {patient_id} cannot be rebuilt: {error}"
        ) from error
    return record, history


# --- isotrack course show -----------------------------------------------------------------
@course_app.command("show")
@translate_errors
def show_command(
    patient_id: PatientArgument,
    on: DateOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Show a patient's course on one day, with the findings of that day.

    The timeline of what was recorded, the cumulative dose against the
    target, the monitoring schedule, the findings of that day and, when a
    prescription is due, what screening the next one would say. The read is
    written to the audit trail.

    Example: [bold]isotrack course show demo-ana --database sqlite:///clinic.db[/bold]
    Example: [bold]isotrack course show demo-kara --date 2026-03-03 --json[/bold]
    """
    kb = knowledge(policy)
    moment = now()
    day = parse_day("--date", on)
    record, history = load_record(database, patient_id, kb, moment)
    entries = [(s.command, s.recorded_on, s.actor) for s in history]
    view = course_view(record, entries, on=day, kb=kb)
    if as_json:
        print_json(view_json(view, kb))
        return
    print_view(view)


def print_view(view: CourseView) -> None:
    record = view.record
    out.print(Rule(f"{record.name} ({record.patient_id}) on {view.on}"))
    context = dict(view.assessment.context)
    out.print(
        f"{record.sex.value}, born {record.birth_date}; "
        f"{context.get('pregnancy capability', '')}; programme {record.programme}",
        markup=False,
    )
    timeline = Table(title="Timeline")
    for column in ("date", "what was recorded"):
        timeline.add_column(column, overflow="fold")
    previous = None
    for entry in view.timeline:
        late = f" (recorded {entry.recorded_on})" if entry.recorded_on != entry.on else ""
        shown = "" if entry.on == previous else entry.on.isoformat()
        timeline.add_row(shown, Text(entry.what + late))
        previous = entry.on
    out.print(timeline)
    print_course(view)
    print_schedule(view.schedule)
    print_findings(view.assessment, f"Findings on {view.on} (during the course)")
    upcoming = view.next_prescription
    if upcoming is not None:
        out.print(
            f"\nNext prescription due {upcoming.due}: screening {upcoming.basis}.",
            markup=False,
        )
        print_findings(upcoming.assessment, "What screening that prescription says today")
    for label, value in view.assessment.context:
        out.print(f"- {label}: {value}", markup=False)
    for assumption in view.assessment.assumptions:
        out.print(f"- note: {assumption}", markup=False)
    out.print(f"\n{SAFETY_LINE}", markup=False)


def print_course(view: CourseView) -> None:
    course, cumulative = view.course, view.cumulative
    if course is None or cumulative is None:
        out.print("No isotretinoin course recorded yet.", markup=False)
        return
    summary = Table(title=f"Course {course.course_id}", show_header=False)
    summary.add_column("item")
    summary.add_column("value", overflow="fold")
    summary.add_row("product", course.product)
    ended = f", ended {course.end} ({course.end_reason})" if course.end else ""
    summary.add_row("status", f"{course.status}, started {course.start}{ended}")
    summary.add_row("prescriptions", str(sum(1 for p in course.prescriptions if p.on <= view.on)))
    dose = f"{cumulative.mg:g} mg"
    if view.target_mg is not None:
        dose += f" of {view.target_mg:g} mg"
    if cumulative.mg_per_kg is not None:
        percent = cumulative.mg_per_kg / course.target_mg_per_kg
        dose += (
            f" = {cumulative.mg_per_kg:.1f} of {course.target_mg_per_kg:g} mg/kg ({percent:.0%})"
        )
    summary.add_row("cumulative dose", dose)
    if cumulative.missed_mg:
        summary.add_row("missed", f"{cumulative.missed_mg:g} mg not taken on missed days")
    summary.add_row("on hand", f"{cumulative.on_hand_mg:g} mg dispensed, not yet taken")
    step = course.dose_on(view.on)
    if step is not None and (course.end is None or course.end > view.on):
        summary.add_row("dose in force", f"{float(step.daily_mg):g} mg/day ({step.source})")
    end = view.projected_end.isoformat() if view.projected_end else "—"
    summary.add_row("projected end", f"{end} {view.projection_note}".strip())
    out.print(summary)


def print_schedule(schedule: Schedule) -> None:
    if schedule.is_empty:
        out.print(schedule.reason, markup=False)
        return
    table = Table(title=f"Monitoring schedule on {schedule.on}")
    for column in ("status", "what", "window", "done"):
        table.add_column(column, overflow="fold")
    for item in schedule.items:
        window = f"{item.start} – {item.end}" if item.start != item.end else str(item.end)
        done = item.done_by or (str(item.done_on) if item.done_on else "")
        style = STATUS_STYLES[item.status]
        table.add_row(item.status.value, Text(item.title), window, Text(done), style=style)
    out.print(table)
    for note in schedule.notes:
        out.print(f"note: {note}", markup=False)


def print_findings(assessment: Assessment, title: str) -> None:
    if not assessment.findings:
        out.print(f"{title}: no findings.", markup=False, style="green")
        return
    table = Table(title=f"{title}: {len(assessment.findings)}, most severe first")
    for column in ("severity", "rule", "summary"):
        table.add_column(column, overflow="fold")
    for finding in assessment.findings:
        style = SEVERITY_STYLES[finding.severity]
        table.add_row(finding.severity.label, finding.rule_id, Text(finding.summary), style=style)
    out.print(table)
    for finding in assessment.findings:
        out.print(f"[bold]{finding.rule_id}[/bold]: ", end="")
        out.print(f"{finding.detail} Action: {finding.action}", markup=False)


# --- isotrack schedule -----------------------------------------------------------------------
@app.command("schedule")
@translate_errors
def schedule_command(
    patient_id: PatientArgument,
    on: DateOption = None,
    ics: Annotated[
        Path | None,
        typer.Option(
            "--ics", metavar="FILE", help="Also write the schedule as an iCalendar (.ics) file."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Show what is due, overdue, done and upcoming in a patient's course.

    Pregnancy tests and their windows, lipids and ALT, mood screens, visits;
    --ics also writes them as a calendar the patient can import.

    Example: [bold]isotrack schedule demo-ana --ics ana.ics[/bold]
    """
    kb = knowledge(policy)
    moment = now()
    day = parse_day("--date", on)
    record, _ = load_record(database, patient_id, kb, moment)
    schedule = record_schedule(record, to_snapshot(record, on=day, kb=kb), on=day, kb=kb)
    if ics is not None:
        try:
            ics.write_bytes(schedule_to_ics(schedule, patient_name=record.name, generated=moment))
        except OSError as error:
            raise InvalidInputError("--ics", f"cannot write {ics}: {error.strerror}") from None
    if as_json:
        print_json(schedule_json(schedule))
        return
    out.print(f"{record.name} ({record.patient_id})", markup=False)
    print_schedule(schedule)
    if ics is not None:
        out.print(f"Calendar written to {ics}.", markup=False)
    out.print(SAFETY_LINE, markup=False)


# --- isotrack record -------------------------------------------------------------------------
@app.command("record")
@translate_errors
def record_command(
    patient_id: PatientArgument,
    command_file: Annotated[
        str,
        typer.Argument(
            metavar="COMMAND.json", help='The command as JSON, {"type": ..., ...}; - reads stdin.'
        ),
    ],
    expect_version: Annotated[
        int | None,
        typer.Option(
            "--expect-version",
            help="The record version you saw; refused with a conflict if it has moved.",
        ),
    ] = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Add one command (JSON) to a patient's record.

    The command is checked against the record, then stored and audited in
    one transaction, or refused with the reason. Types: EnrolPatient,
    RecordWeight, RecordLabResult, RecordPregnancyTest, RecordPregnancyStatus,
    StartContraception,
    Prescribe, Dispense ... (docs/cli.md lists them all).

    Example: [bold]isotrack record demo-ana weight.json[/bold] with weight.json
    {"type": "RecordWeight", "on": "2026-03-02", "value": 64}
    """
    kb = knowledge(policy)
    command = read_command(command_file)
    with open_database(database) as engine:
        _, version = execute(
            engine, patient_id, command, actor=CLI_ACTOR, now=now(), kb=kb,
            expected_version=expect_version,
        )  # fmt: skip
    out.print(
        f"Recorded for {patient_id}: {describe_command(command, kb)} (version {version}).",
        markup=False,
    )


def read_command(source: str) -> AnyCommand:
    """A command from a JSON file, or stdin for ``-``."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInputError(source, f"cannot read: {error.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInputError(source, f"not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise InvalidInputError(source, 'must be one JSON object {"type": ..., ...}')
    try:
        return command_from_dict(data)
    except msgspec.ValidationError as error:
        raise InvalidInputError(source, f"not a valid command: {error}") from None

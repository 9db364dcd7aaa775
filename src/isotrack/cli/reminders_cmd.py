"""``isotrack worker``: send the reminders that are due, once each; and ``isotrack
reminders preview``: what a patient would be sent, and when (docs/reminders.md)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import Engine

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
from isotrack.cli.db_cmd import DatabaseOption, now, open_database
from isotrack.clinical.record import PatientRecord
from isotrack.clinical.reminders import Reminder, plan_reminders
from isotrack.delivery import Channel, OutgoingMessage
from isotrack.delivery.compose import ClinicContact
from isotrack.delivery.digest import digest_messages
from isotrack.delivery.preferences import ContactPreferences
from isotrack.delivery.sms import SmsChannel, sms_gateway
from isotrack.delivery.smtp import EmailChannel, mail_server
from isotrack.delivery.worker import (
    BATCH,
    LEASE,
    Contacts,
    DigestPlan,
    Outlook,
    WorkerReport,
    run_once,
)
from isotrack.errors import ConfigurationError, InvalidInputError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.settings import Settings, get_settings
from isotrack.store import read_clinic_settings
from isotrack.store.contact_preferences import read_contact_preferences
from isotrack.store.outbox import outbox_entries

KIND_WORDS = {
    "test-window-opens": "a test window opens",
    "test-window-closes": "a test window closes soon",
    "visit": "the monthly visit",
    "labs": "blood tests due",
    "comprehension": "this month's comprehension questions",
    "mood-check": "the monthly mood check",
    "post-course-test": "the test after the course",
    "contraception-continues": "contraception continues after the last dose",
}
"""The preview's words for each kind (staff read them; the messages never name it)."""

reminders_app = typer.Typer(
    name="reminders",
    help="Reminders to patients: what would be sent, and when.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(reminders_app, name="reminders")


def contacts_for(engine: Engine, settings: Settings) -> Contacts:
    def contacts(record: PatientRecord) -> ContactPreferences:
        return read_contact_preferences(
            engine, record.patient_id, default_time_zone=settings.time_zone
        )

    return contacts


def digests_for(engine: Engine, settings: Settings, kb: KnowledgeBase) -> DigestPlan:
    def make(moment: datetime) -> list[OutgoingMessage]:
        return digest_messages(
            engine,
            moment,
            kb=kb,
            base_url=settings.cds_public_url or "",
            time_zone=settings.time_zone,
            digest_hour=settings.digest_hour,
        )

    return DigestPlan(make, settings.digest_hour, settings.time_zone)


def parse_moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            "--now", f"must be a time like 2026-03-02T09:00:00+00:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInputError("--now", f"needs a time zone (e.g. +00:00), got {text!r}")
    return moment


@app.command("worker")
@translate_errors
def worker_command(
    once: Annotated[bool, typer.Option("--once", help="One run, then exit.")] = False,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=1000, help="Messages claimed at a time.")
    ] = BATCH,
    at: Annotated[
        str | None,
        typer.Option(
            "--now",
            metavar="TIME",
            help="Run as if it were TIME (ISO 8601 with a zone), with --once only.",
        ),
    ] = None,
    lease: Annotated[
        int,
        typer.Option("--lease", metavar="SECONDS", min=1, help="How long a claim holds a message."),
    ] = int(LEASE.total_seconds()),
    poll: Annotated[
        int, typer.Option("--poll", metavar="SECONDS", min=1, help="Pause between runs.")
    ] = 300,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Queue the reminders that are due and send them, each once (SMTP of the settings).

    Runs every --poll seconds until stopped; --once runs once. Safe to run several
    at a time and to kill: see docs/reminders.md.

    Example: [bold]isotrack worker --once[/bold]
    """
    moment = parse_moment(at)
    if moment is not None and not once:
        raise InvalidInputError("--now", "is for a single run: add --once")
    settings = get_settings()
    server = mail_server(settings)
    if server is None:
        raise ConfigurationError(
            "ISOTRACK_SMTP_HOST",
            "is not set: the worker sends reminders by email (docs/reminders.md)",
        )
    kb = knowledge(policy)
    with open_database(database) as engine:
        clinic = read_clinic_settings(engine)
        channels: dict[str, Channel] = {"email": EmailChannel(server)}
        gateway = sms_gateway(settings)
        if gateway is not None:
            channels["sms"] = SmsChannel(gateway)
        outlook = Outlook(
            clinic=ClinicContact(clinic.name, clinic.phone),
            portal_url=settings.cds_public_url,
            channels=channels,
            contacts=contacts_for(engine, settings),
            digests=digests_for(engine, settings, kb),
        )
        while True:
            report = run_once(
                engine,
                kb=kb,
                outlook=outlook,
                now=moment or now(),
                batch=batch,
                lease=timedelta(seconds=lease),
            )
            out.print(_summary(report), markup=False)
            if once:
                return
            time.sleep(poll)


def _summary(report: WorkerReport) -> str:
    text = (
        f"queued {report.queued}, sent {report.sent}, deferred {report.deferred}, "
        f"retried {report.retried}, given up {report.failed}"
    )
    if report.lost:
        text += f"; {report.lost} taken over by another worker (lease ran out)"
    if report.unreadable:
        text += f"; records that cannot be read: {', '.join(report.unreadable)}"
    return text


@reminders_app.command("preview")
@translate_errors
def preview_command(
    patient_id: PatientArgument,
    days: Annotated[int, typer.Option("--days", min=0, max=366, help="How far ahead.")] = 30,
    on: DateOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """List the reminders a patient would be sent in the coming days, and when.

    Reads the record as it is today: what gets done meanwhile is not sent. The read is
    audited (actor "cli").

    Example: [bold]isotrack reminders preview demo-kara --days 30[/bold]
    """
    kb = knowledge(policy)
    day = parse_day("--date", on)
    settings = get_settings()
    record, _ = load_record(database, patient_id, kb, now())
    with open_database(database) as engine:
        contact = read_contact_preferences(engine, patient_id, default_time_zone=settings.time_zone)
        queued = {
            e.idempotency_key.rsplit("/", 1)[0]: e for e in outbox_entries(engine, patient_id)
        }
    last = day + timedelta(days=days)
    planned = [r for r in plan_reminders(record, on=day, kb=kb) if r.send_on <= last]
    hour = int(kb.number("reminders.send_hour"))
    rows = [_row(r, contact, queued.get(r.key), hour) for r in planned]
    if as_json:
        print_json(
            {
                "patient_id": patient_id,
                "on": day.isoformat(),
                "days": days,
                "recipient": _recipient(contact),
                "reminders": rows,
            }
        )
        return
    table = Table(
        title=f"Reminders for {record.name}, {day} to {last}",
        caption=f"Sent from {hour:02d}:00 {contact.recipient.time_zone}, to: {_to(contact)}",
    )
    for column in ("send on", "do by"):
        table.add_column(column, no_wrap=True)
    table.add_column("about")
    table.add_column("status", no_wrap=True)
    for row in rows:
        table.add_row(row["send_on"], row["due"], KIND_WORDS[row["kind"]], row["status"])
    out.print(table if rows else f"No reminders for {record.name} in the next {days} days.")
    out.print(SAFETY_LINE, markup=False)


def _recipient(contact: ContactPreferences) -> dict[str, Any]:
    r = contact.recipient
    return {
        "kind": r.kind,
        "name": r.name,
        "email": r.email,
        "time_zone": r.time_zone,
        "channels": sorted(contact.channels),
        "opted_out": contact.opted_out,
    }


def _to(contact: ContactPreferences) -> str:
    if contact.opted_out:
        return "nobody (opted out)"
    return contact.recipient.email or "no address on record"


def _row(reminder: Reminder, contact: ContactPreferences, entry: Any, hour: int) -> dict[str, Any]:
    return {
        "key": reminder.key,
        "kind": reminder.kind,
        "send_on": reminder.send_on.isoformat(),
        "send_at": f"{reminder.send_on.isoformat()} {hour:02d}:00 {contact.recipient.time_zone}",
        "due": reminder.due.isoformat(),
        "to": _to(contact),
        "status": entry.status if entry is not None else "not queued",
    }

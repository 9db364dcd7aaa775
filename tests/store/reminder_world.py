"""What the worker tests share: a patient with a portal account, the clinic's name,
a real SMTP server's channel, and the day-by-day clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from email.message import Message

from sqlalchemy import Engine

from isotrack.clinical.record import PatientRecord
from isotrack.clinical.state import AnyCommand
from isotrack.delivery.compose import ClinicContact
from isotrack.delivery.preferences import ContactPreferences
from isotrack.delivery.smtp import EmailChannel, MailServer, message_id
from isotrack.delivery.worker import Outlook
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import ClinicSettings, execute, save_clinic_settings
from isotrack.store.contact_preferences import read_contact_preferences
from isotrack.store.outbox import outbox_entries
from isotrack.store.users import StoredUser, user_transaction
from tests.smtp_server import SmtpServer

CLINIC = "Northside Dermatology"
SENDER = "reminders@northside.example"
EMAIL = "kara@example.org"
AT = datetime(2026, 1, 1, tzinfo=UTC)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def set_up_clinic(engine: Engine, patient_id: str, email: str | None = EMAIL) -> None:
    save_clinic_settings(engine, ClinicSettings(CLINIC, "555 0100", "555 0199", "US"),
                         actor="admin", now=AT)  # fmt: skip
    with user_transaction(engine) as tx:
        tx.users.add(StoredUser.new(patient_id, "patient", "$argon2id$x", created_at=AT,
                                    patient_id=patient_id, email=email))  # fmt: skip


def outlook(engine: Engine, smtp: SmtpServer, time_zone: str = "UTC") -> Outlook:
    server = MailServer(smtp.host, smtp.port, "none", SENDER)

    def contacts(record: PatientRecord) -> ContactPreferences:
        return read_contact_preferences(engine, record.patient_id, default_time_zone=time_zone)

    return Outlook(
        clinic=ClinicContact(CLINIC, "555 0100"),
        portal_url="https://clinic.example",
        channels={"email": EmailChannel(server)},
        contacts=contacts,
    )


def prepare(
    engine: Engine, commands: list[tuple[AnyCommand, date]], kb: KnowledgeBase, *,
    first: date, until: date, email: str | None = EMAIL,
) -> None:  # fmt: skip
    """Record the days from ``first`` (the enrolment) up to ``until`` (excluded), and
    set up the clinic and the patient's portal account after the first."""
    patient_id = commands[0][0].patient_id  # type: ignore[attr-defined]  # EnrolPatient
    on = first
    while on < until:
        record_day(engine, patient_id, commands, on, kb)
        if on == first:
            set_up_clinic(engine, patient_id, email)
        on += timedelta(days=1)


def record_day(
    engine: Engine, patient_id: str, commands: list[tuple[AnyCommand, date]], on: date,
    kb: KnowledgeBase,
) -> None:  # fmt: skip
    """Store the commands of day ``on`` (recorded at 08:00 that day)."""
    for command, day in commands:
        if day == on:
            execute(engine, patient_id, command, actor="clinic", now=at(on, 8), kb=kb)


def kinds_by_message_id(engine: Engine) -> dict[str, str]:
    """Message-ID → the kind code of every queued message."""
    domain = SENDER.rpartition("@")[2]
    return {message_id(e.idempotency_key, domain): e.kind for e in outbox_entries(engine)}


def ids(messages: list[Message]) -> Iterator[str]:
    for message in messages:
        yield str(message["Message-ID"])

"""The reminders worker: due reminders into the outbox, then the outbox out.

:func:`run_once` at ``now`` (an argument, so a test can walk the calendar):

1. :func:`queue_due_reminders` reads every record (one ``read:summary`` audit row
   per run, purpose :data:`READ_PURPOSE`, actor :data:`WORKER_ACTOR`), asks
   :func:`~isotrack.clinical.reminders.reminders_due` for the recipient's today and
   queues one message per reminder and channel under the key
   '<reminder key>/<channel>' (:func:`isotrack.store.outbox.enqueue`; a key already
   queued is not queued again), once ``reminders.send_hour`` local time has come:
   a reminder is queued in the run that sends it, so what is done before then is
   never sent. Who receives them and on which channels is the patient's choice
   (:func:`isotrack.store.contact_preferences.read_contact_preferences`: the
   patient or a minor's guardian; email, SMS or both); the reminders of a
   recipient who opted out, chose no channel or has no address for the chosen ones
   are queued as suppressed (audited with the reason: ``opted-out``,
   ``no-channel``, ``no-address``; never sent); the portal shows the duties
   either way. A text message names nothing: it links to the patient page.
2. :func:`send_due` claims batches (:func:`isotrack.store.outbox.claim`) until none
   is due. For each message: in the recipient's quiet hours it is deferred to their
   end; else the channel sends it and the row is marked sent at once, in its own
   transaction, before the next message goes. A retryable failure is retried after
   ``RETRY_BASE * 2 ** (attempts - 1)``; after :data:`MAX_ATTEMPTS`, or at once for
   a permanent failure, the message is given up (audited ``message:failed``).

The one window where a message can go twice: the channel has taken it and the
worker dies before the mark commits; the lease then runs out and another run sends
it again, with the same Message-ID (docs/reminders.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from isotrack.clinical.record import PatientRecord, replay
from isotrack.clinical.reminders import Reminder, reminders_due
from isotrack.delivery import Channel, DeliveryFailed, OutgoingMessage, Recipient
from isotrack.delivery.compose import ClinicContact, reminder_email
from isotrack.delivery.preferences import ContactPreferences
from isotrack.delivery.quiet import QuietHours, local_day, local_time
from isotrack.delivery.sms import reminder_text
from isotrack.errors import IsotrackError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import read_histories_for_summary
from isotrack.store.outbox import (
    Claimed,
    Queued,
    claim,
    defer,
    enqueue,
    mark_sent,
    queued_like,
    record_failure,
)

WORKER_ACTOR = "reminders-worker"
"""Who the audit trail names for the worker's reads and messages."""
READ_PURPOSE = "reminders"
"""The purpose of the worker's one audited read of every record per run."""
LEASE = timedelta(minutes=5)
"""How long a claim holds a row: a worker that dies lets it go after this."""
BATCH = 20
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=5)
"""Back-off of a retryable failure: 5, 10, 20, 40 minutes, then given up."""

Contacts = Callable[[PatientRecord], ContactPreferences]
"""Who receives a patient's reminders (the patient's choices, else the default)."""
Digests = Callable[[datetime], list[OutgoingMessage]]
"""The staff's daily digests at a moment (:func:`isotrack.delivery.digest.digest_messages`)."""


@dataclass(frozen=True, slots=True)
class DigestPlan:
    """When the staff's digests are made: from ``hour`` in ``time_zone``, once a day."""

    make: Digests
    hour: int
    time_zone: str


@dataclass(frozen=True, slots=True)
class Outlook:
    """What the messages need besides the record: the clinic, the portal, the channels."""

    clinic: ClinicContact
    portal_url: str | None
    channels: Mapping[str, Channel]
    contacts: Contacts
    digests: DigestPlan | None = None


@dataclass(slots=True)
class WorkerReport:
    queued: int = 0
    sent: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0
    """Claims another worker took over (a lease ran out mid-send)."""
    unreadable: list[str] = field(default_factory=list)


def run_once(
    engine: Engine,
    *,
    kb: KnowledgeBase,
    outlook: Outlook,
    now: datetime,
    batch: int = BATCH,
    lease: timedelta = LEASE,
) -> WorkerReport:
    """Queue what is due at ``now``, then send everything due (see the module doc)."""
    report = WorkerReport()
    queue_due_reminders(engine, kb=kb, outlook=outlook, now=now, report=report)
    if outlook.digests is not None:
        queue_digests(engine, outlook.digests, now=now, report=report)
    send_due(
        engine, kb=kb, channels=outlook.channels, now=now, batch=batch, lease=lease, report=report
    )
    return report


def queue_due_reminders(
    engine: Engine, *, kb: KnowledgeBase, outlook: Outlook, now: datetime, report: WorkerReport
) -> None:
    items: list[Queued] = []
    hour = int(kb.number("reminders.send_hour"))
    histories = read_histories_for_summary(
        engine, actor=WORKER_ACTOR, now=now, purpose=READ_PURPOSE
    )
    for patient_id, history in sorted(histories.items()):
        try:
            record = replay(((s.command, s.recorded_on) for s in history), kb=kb)
        except IsotrackError:
            report.unreadable.append(patient_id)  # isotrack doctor says why
            continue
        contact = outlook.contacts(record)
        today = local_day(now, contact.recipient.time_zone)
        send_from = local_time(today, hour, contact.recipient.time_zone)
        if send_from > now:
            continue
        for reminder in reminders_due(record, on=today, kb=kb):
            items += _queued(reminder, contact, outlook, send_from)
    report.queued += enqueue(engine, items, actor=WORKER_ACTOR, now=now)


def _queued(
    reminder: Reminder, contact: ContactPreferences, outlook: Outlook, send_from: datetime
) -> list[Queued]:
    recipient: Recipient = contact.recipient
    subject, body = reminder_email(
        reminder,
        recipient_name=recipient.name,
        clinic=outlook.clinic,
        portal_url=outlook.portal_url,
    )

    def message(channel: str) -> OutgoingMessage:
        key = f"{reminder.key}/{channel}"
        text = body if channel != "sms" else _sms_text(recipient, outlook)
        return OutgoingMessage(key, channel, recipient, subject, text, send_from)

    if contact.opted_out:
        return [Queued(message("none"), reminder.kind, reminder.patient_id, "opted-out")]
    channels = contact.usable_channels()
    if not channels:
        why = "no-address" if contact.channels else "no-channel"
        return [Queued(message("none"), reminder.kind, reminder.patient_id, why)]
    return [
        Queued(message(channel), reminder.kind, reminder.patient_id) for channel in sorted(channels)
    ]


def _sms_text(recipient: Recipient, outlook: Outlook) -> str:
    """A text names nothing at all: the patient page says what is due."""
    link = f"{(outlook.portal_url or '').rstrip('/')}/me/reminders"
    return reminder_text(name=recipient.name, clinic=outlook.clinic.name, link=link)


def queue_digests(engine: Engine, plan: DigestPlan, *, now: datetime, report: WorkerReport) -> None:
    """The day's digests, made (one read of every record) in the first run from the
    digest hour that finds none queued for the day; a digest is keyed by clinician
    and day, so it goes once."""
    today = local_day(now, plan.time_zone)
    if now < local_time(today, plan.hour, plan.time_zone):
        return
    if queued_like(engine, f"digest:%:{today.isoformat()}"):
        return
    items = [Queued(message, "digest", None) for message in plan.make(now)]
    report.queued += enqueue(engine, items, actor=WORKER_ACTOR, now=now)


def send_due(
    engine: Engine,
    *,
    kb: KnowledgeBase,
    channels: Mapping[str, Channel],
    now: datetime,
    batch: int,
    lease: timedelta,
    report: WorkerReport,
) -> None:
    token = uuid.uuid4().hex
    quiet = QuietHours.of(kb)
    while claimed := claim(engine, now=now, batch=batch, lease=lease, token=token):
        for row in claimed:
            _send_one(engine, row, channels, quiet, now, report)


def _send_one(
    engine: Engine,
    row: Claimed,
    channels: Mapping[str, Channel],
    quiet: QuietHours,
    now: datetime,
    report: WorkerReport,
) -> None:
    until = quiet.until(now, row.message.recipient.time_zone)
    if until is not None:
        report.deferred += defer(engine, row, until=until)
        return
    channel = channels.get(row.message.channel)
    try:
        if channel is None:
            raise DeliveryFailed(retryable=False, reason=f"no {row.message.channel} channel")
        channel.send(row.message)
    except DeliveryFailed as failure:
        attempts = row.attempts + 1
        retry_at = None
        if failure.retryable and attempts < MAX_ATTEMPTS:
            retry_at = now + RETRY_BASE * 2 ** (attempts - 1)
        kept = record_failure(
            engine, row, reason=failure.reason, retry_at=retry_at, actor=WORKER_ACTOR, now=now
        )
        if not kept:
            report.lost += 1
        elif retry_at is None:
            report.failed += 1
        else:
            report.retried += 1
        return
    if mark_sent(engine, row, actor=WORKER_ACTOR, now=now):
        report.sent += 1
    else:
        report.lost += 1

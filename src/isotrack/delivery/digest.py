"""The staff's daily digest: one email a day to each clinician about their worklist.

:func:`digest_messages` builds, for each active prescriber and nurse with an
email address, an :class:`~isotrack.delivery.OutgoingMessage` on the ``email``
channel: the items assigned to them (counts by severity, then each item's
neutral title — "symptom report no. 3", "test window" — its severity and day),
the count of items nobody is assigned yet, and the link to ``/clinic/worklist``.
No patient's name or id is in it, and the subject says only how many items
there are (a mail client's preview shows it). Its idempotency key is
``digest:<user id>:<day>`` (the day in the clinic's time zone), so the worker
sends each clinician one digest a day however often it asks; it may go out from
``digest_hour`` (``ISOTRACK_DIGEST_HOUR``, 07:00 by default) that day.

A clinician with nothing assigned and nothing unassigned gets no email. A
clinician without an email address gets none either (their account needs one:
``isotrack users`` / the admin page). Records that cannot be read back are not
skipped in silence: the digest says how many there are.

Every record is read for it under one ``read:summary`` audit row (actor
``digest``), as the worklist count in the navigation is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from isotrack.clinical.findings import Severity
from isotrack.clinical.record import PatientRecord, patient_worklist, replay
from isotrack.clinical.worklist import WorkItem, item_words
from isotrack.delivery import OutgoingMessage, Recipient
from isotrack.delivery.quiet import local_day, local_time
from isotrack.errors import IsotrackError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store.service import read_histories_for_summary
from isotrack.store.users import StoredUser, user_transaction

DIGEST_ACTOR = "digest"
DIGEST_ROLES = frozenset({"prescriber", "nurse"})
"""The roles that work the worklist (``clinical.record``)."""
_SEVERITIES = (Severity.CRITICAL, Severity.WARNING, Severity.INFO)


@dataclass(frozen=True, slots=True)
class ClinicWork:
    """The open worklist items of the whole clinic on one day."""

    items: tuple[WorkItem, ...]
    unreadable: int
    """Records that could not be read back (their items are missing)."""


def digest_messages(
    engine: Engine,
    now: datetime,
    *,
    kb: KnowledgeBase,
    base_url: str,
    time_zone: str = "UTC",
    digest_hour: int = 7,
) -> list[OutgoingMessage]:
    """The day's digest of each clinician (see the module); ``now`` is an aware time."""
    day = local_day(now, time_zone)
    not_before = max(now, local_time(day, digest_hour, time_zone))
    work = clinic_work(engine, now, day=day, kb=kb)
    messages = []
    for user in _clinicians(engine):
        mine = tuple(i for i in work.items if i.assignee == user.username)
        unassigned = tuple(i for i in work.items if not i.assignee)
        if not (mine or unassigned or work.unreadable) or not user.email:
            continue
        subject, body = digest_text(user.username, day, mine, unassigned,
                                    unreadable=work.unreadable, base_url=base_url)  # fmt: skip
        recipient = Recipient("staff", user.username, user.email, None, time_zone)
        key = f"digest:{user.id}:{day.isoformat()}"
        messages.append(OutgoingMessage(key, "email", recipient, subject, body, not_before))
    return messages


def clinic_work(engine: Engine, now: datetime, *, day: date, kb: KnowledgeBase) -> ClinicWork:
    """Every open worklist item of every readable record on ``day`` (one audited read)."""
    histories = read_histories_for_summary(
        engine, actor=DIGEST_ACTOR, now=now, purpose="staff daily digest"
    )
    items: list[WorkItem] = []
    unreadable = 0
    for stored in histories.values():
        try:
            record = replay(((s.command, s.recorded_on) for s in stored), kb=kb)
        except IsotrackError:
            unreadable += 1
            continue
        items += _open_items(record, day, kb)
    return ClinicWork(tuple(sorted(items, key=lambda i: i.sort_key)), unreadable)


def _open_items(record: PatientRecord, day: date, kb: KnowledgeBase) -> list[WorkItem]:
    return [item for item in patient_worklist(record, on=day, kb=kb) if item.is_open]


def _clinicians(engine: Engine) -> list[StoredUser]:
    with user_transaction(engine) as tx:
        return [u for u in tx.users.all() if u.active and u.role in DIGEST_ROLES]


def digest_text(
    username: str,
    day: date,
    mine: tuple[WorkItem, ...],
    unassigned: tuple[WorkItem, ...],
    *,
    unreadable: int,
    base_url: str,
) -> tuple[str, str]:
    """(subject, body) of one clinician's digest: no patient, no clinical detail in
    the subject."""
    total = len(mine) + len(unassigned)
    subject = f"Your isotrack worklist for {day:%A} {day.day} {day:%B}: {_count(total, 'item')}"
    lines = [
        f"Hello {username},",
        "",
        f"Your worklist on {day:%A} {day.day} {day:%B %Y}:",
        "",
        f"Assigned to you: {len(mine)} ({_by_severity(mine)})",
        *(f"  - {_title(item)}" for item in mine),
        f"Not assigned to anyone yet: {len(unassigned)} ({_by_severity(unassigned)})",
    ]
    if unreadable:
        lines.append(
            f"{_count(unreadable, 'record')} could not be read back, so their items are "
            "missing here: see the clinic dashboard."
        )
    lines += [
        "",
        f"Open the worklist: {base_url.rstrip('/')}/clinic/worklist",
        "",
        "This email names no patient. isotrack sends it once a day.",
    ]
    return subject, "\n".join(lines) + "\n"


def _title(item: WorkItem) -> str:
    """'critical: symptom report no. 3, 1 March' (the item's neutral words, no patient)."""
    return f"{item.severity.label}: {item_words(item.id)}, {item.on.day} {item.on:%B}"


def _by_severity(items: tuple[WorkItem, ...]) -> str:
    counts = Counter(item.severity for item in items)
    return ", ".join(f"{severity.label} {counts[severity]}" for severity in _SEVERITIES)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"

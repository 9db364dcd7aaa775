"""The outbox: messages queued once, claimed by one worker at a time, marked once.

- :func:`enqueue` inserts each message under its idempotency key, or nothing when
  the key is already there (``ON CONFLICT DO NOTHING``): queueing the same reminder
  every day queues it once.
- :func:`claim` takes up to ``batch`` rows that are due (``pending`` and
  ``not_before`` passed, or ``sending`` with an expired lease: a worker that died)
  and marks them ``sending`` with a lease and a claim token, in one transaction.
  PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``, so workers never wait for or
  share a row; SQLite: the transaction begins with ``BEGIN IMMEDIATE``
  (:mod:`isotrack.store.db`), so one claimer at a time holds the write lock.
- :func:`mark_sent`, :func:`defer`, :func:`record_failure` end a claim; each checks
  the claim token, so a worker whose lease ran out cannot mark a row another worker
  has taken. Sent, given up and suppressed messages are audited (``message:*``)
  with the kind code, the channel and the row id: never the subject, the body or
  what the reminder is about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from isotrack.delivery import OutgoingMessage, Recipient
from isotrack.store.audit import AuditTrail
from isotrack.store.db import session_transaction, storage_errors
from isotrack.store.models import OutboxRow

SENT_ACTION = "message:sent"
RETRY_ACTION = "message:retry"
FAILED_ACTION = "message:failed"
SUPPRESSED_ACTION = "message:suppressed"
Status = str
"""pending, sending (claimed), sent, failed (given up) or suppressed (never to send)."""


@dataclass(frozen=True, slots=True)
class Queued:
    """A message to queue, with what the audit trail may say about it."""

    message: OutgoingMessage
    kind: str
    patient_id: str | None
    suppressed: str | None = None
    """Why it is not to be sent ('opted-out', 'no-channel'): kept and audited as
    ``suppressed``, never sent."""


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row this worker holds until ``lease_until``."""

    id: int
    claim: str
    kind: str
    patient_id: str | None
    attempts: int
    message: OutgoingMessage


def enqueue(engine: Engine, items: Sequence[Queued], *, actor: str, now: datetime) -> int:
    """Queue each new message in one transaction; how many were new."""
    new = 0
    with storage_errors(engine), Session(engine) as session, session.begin():
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        for item in items:
            m, r = item.message, item.message.recipient
            values = {
                "idempotency_key": m.idempotency_key,
                "patient_id": item.patient_id,
                "kind": item.kind,
                "channel": m.channel,
                "recipient_kind": r.kind,
                "recipient_name": r.name,
                "email": r.email,
                "phone": r.phone,
                "time_zone": r.time_zone,
                "subject": m.subject,
                "body": m.body,
                "status": "pending" if item.suppressed is None else "suppressed",
                "not_before": m.not_before,
                "attempts": 0,
                "last_error": "",
                "created_at": now,
            }
            statement = dialect.insert(OutboxRow).values(**values)
            statement = statement.on_conflict_do_nothing(index_elements=["idempotency_key"])
            statement = statement.returning(OutboxRow.id)
            row_id = session.execute(statement).scalar_one_or_none()
            if row_id is None:
                continue
            new += 1
            if item.suppressed is not None:
                _audit(
                    session,
                    SUPPRESSED_ACTION,
                    row_id,
                    item.kind,
                    m.channel,
                    item.patient_id,
                    actor=actor,
                    now=now,
                    reason=item.suppressed,
                )
    return new


def claim(
    engine: Engine, *, now: datetime, batch: int, lease: timedelta, token: str
) -> list[Claimed]:
    """Up to ``batch`` due rows, oldest first, now held by ``token`` until now + lease."""
    due = or_(
        and_(OutboxRow.status == "pending", OutboxRow.not_before <= now),
        and_(OutboxRow.status == "sending", OutboxRow.lease_until < now),
    )
    with session_transaction(engine) as session:
        query = select(OutboxRow.id).where(due).order_by(OutboxRow.not_before, OutboxRow.id)
        query = query.limit(batch)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if not ids:
            return []
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(ids))
            .values(status="sending", lease_until=now + lease, claim=token)
        )
        rows = session.scalars(
            select(OutboxRow)
            .where(OutboxRow.id.in_(ids))
            .order_by(OutboxRow.not_before, OutboxRow.id)
        ).all()
        return [_claimed(row) for row in rows]


def mark_sent(engine: Engine, claimed: Claimed, *, actor: str, now: datetime) -> bool:
    """The channel took it: ``sent`` and audited. False when the claim was lost."""
    with storage_errors(engine), Session(engine) as session, session.begin():
        if not _end_claim(
            session, claimed, status="sent", sent_at=now, attempts=claimed.attempts + 1
        ):
            return False
        _audit(
            session,
            SENT_ACTION,
            claimed.id,
            claimed.kind,
            claimed.message.channel,
            claimed.patient_id,
            actor=actor,
            now=now,
            attempts=claimed.attempts + 1,
        )
    return True


def defer(engine: Engine, claimed: Claimed, *, until: datetime) -> bool:
    """Back to ``pending`` until ``until`` (quiet hours), no attempt counted."""
    with storage_errors(engine), Session(engine) as session, session.begin():
        return _end_claim(session, claimed, status="pending", not_before=until)


def record_failure(
    engine: Engine,
    claimed: Claimed,
    *,
    reason: str,
    retry_at: datetime | None,
    actor: str,
    now: datetime,
) -> bool:
    """A failed attempt: ``pending`` again from ``retry_at``, or ``failed`` (given up)
    when it is None. Both audited, with the reason (a reply code, never the content)."""
    attempts = claimed.attempts + 1
    status = "pending" if retry_at is not None else "failed"
    with storage_errors(engine), Session(engine) as session, session.begin():
        changes: dict[str, object] = {"attempts": attempts, "last_error": reason[:300]}
        if retry_at is not None:
            changes["not_before"] = retry_at
        if not _end_claim(session, claimed, status=status, **changes):
            return False
        action = RETRY_ACTION if retry_at is not None else FAILED_ACTION
        _audit(
            session,
            action,
            claimed.id,
            claimed.kind,
            claimed.message.channel,
            claimed.patient_id,
            actor=actor,
            now=now,
            attempts=attempts,
            reason=reason[:300],
        )
    return True


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A queued message as the preview and the tests read it back."""

    idempotency_key: str
    kind: str
    channel: str
    status: Status
    not_before: datetime
    attempts: int
    sent_at: datetime | None


def outbox_entries(engine: Engine, patient_id: str | None = None) -> list[OutboxEntry]:
    """Every queued message (or one patient's), in queue order."""
    query = select(OutboxRow).order_by(OutboxRow.id)
    if patient_id is not None:
        query = query.where(OutboxRow.patient_id == patient_id)
    with storage_errors(engine), Session(engine) as session:
        return [
            OutboxEntry(
                row.idempotency_key,
                row.kind,
                row.channel,
                row.status,
                row.not_before,
                row.attempts,
                row.sent_at,
            )
            for row in session.scalars(query)
        ]


def queued_like(engine: Engine, pattern: str) -> bool:
    """Whether a message whose key matches the SQL LIKE ``pattern`` is queued."""
    query = select(OutboxRow.id).where(OutboxRow.idempotency_key.like(pattern)).limit(1)
    with storage_errors(engine), Session(engine) as session:
        return session.scalar(query) is not None


def _end_claim(session: Session, claimed: Claimed, *, status: Status, **values: object) -> bool:
    result = session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.id == claimed.id,
            OutboxRow.claim == claimed.claim,
            OutboxRow.status == "sending",
        )
        .values(status=status, claim=None, lease_until=None, **values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


def _audit(
    session: Session,
    action: str,
    row_id: int,
    kind: str,
    channel: str,
    patient_id: str | None,
    *,
    actor: str,
    now: datetime,
    attempts: int | None = None,
    reason: str | None = None,
) -> None:
    detail: dict[str, str | int] = {"message": row_id, "kind": kind, "channel": channel}
    if attempts is not None:
        detail["attempts"] = attempts
    if reason is not None:
        detail["reason"] = reason
    AuditTrail(session).append(
        at=now, actor=actor, action=action, patient_id=patient_id, detail=detail
    )


def _claimed(row: OutboxRow) -> Claimed:
    recipient = Recipient(
        kind=row.recipient_kind,  # type: ignore[arg-type]  # written from a RecipientKind
        name=row.recipient_name,
        email=row.email,
        phone=row.phone,
        time_zone=row.time_zone,
    )
    message = OutgoingMessage(
        row.idempotency_key, row.channel, recipient, row.subject, row.body, row.not_before
    )
    assert row.claim is not None
    return Claimed(row.id, row.claim, row.kind, row.patient_id, row.attempts, message)

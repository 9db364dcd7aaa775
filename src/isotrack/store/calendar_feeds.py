"""Patients' subscribed calendar links: make, replace, withdraw, look up.

A patient has at most one link. The database keeps the SHA-256 of its token
(:func:`feed_digest`), never the token: the link is shown once, when it is made,
and a copy of the database opens no calendar. Making a link again replaces the
old one (the old link stops working); withdrawing it deletes the row, so an old
or unknown token matches nothing. Making (with the titles chosen), replacing and
withdrawing are audited (``calendar-feed:create|rotate|revoke``), with
who did it and never the token.

>>> feed_digest("a-token") == feed_digest("a-token") != feed_digest("another")
True
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from isotrack.store.audit import AuditTrail
from isotrack.store.db import session_transaction, storage_errors
from isotrack.store.models import CalendarFeedRow

_DIGEST_PREFIX = "isotrack-calendar-feed:"
TOKEN_BYTES = 32
"""256 random bits per link (``secrets.token_urlsafe``)."""
ACTION_PREFIX = "calendar-feed:"


def feed_digest(token: str) -> str:
    """What the database keeps of a link's token (domain-separated SHA-256, hex)."""
    return hashlib.sha256((_DIGEST_PREFIX + token).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class CalendarFeed:
    """A patient's calendar link as stored (without its token)."""

    patient_id: str
    clinical_titles: bool
    created_by: str
    created_at: datetime


def issue_feed(
    engine: Engine, patient_id: str, *, actor: str, now: datetime, clinical_titles: bool = False
) -> str:
    """Make the patient's calendar link, or replace the one they have; the new token."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with session_transaction(engine) as session:
        row = session.get(CalendarFeedRow, patient_id)
        action = "create" if row is None else "rotate"
        if row is None:
            row = CalendarFeedRow(patient_id=patient_id)
            session.add(row)
        row.token_digest = feed_digest(token)
        row.clinical_titles = clinical_titles
        row.created_by = actor
        row.created_at = now
        session.flush()
        _audit(session, action, patient_id, actor, now, {"clinical_titles": clinical_titles})
    return token


def revoke_feed(engine: Engine, patient_id: str, *, actor: str, now: datetime) -> bool:
    """Withdraw the patient's calendar link; False when they had none (nothing audited)."""
    with session_transaction(engine) as session:
        result = session.execute(
            delete(CalendarFeedRow).where(CalendarFeedRow.patient_id == patient_id)
        )
        if int(getattr(result, "rowcount", 0)) == 0:
            return False
        _audit(session, "revoke", patient_id, actor, now, {})
    return True


def feed_of(engine: Engine, patient_id: str) -> CalendarFeed | None:
    """The patient's calendar link, or None."""
    with storage_errors(engine), Session(engine) as session:
        row = session.get(CalendarFeedRow, patient_id)
        return None if row is None else _feed(row)


def feed_for_token(engine: Engine, token: str) -> CalendarFeed | None:
    """The calendar link whose token this is, or None (unknown, replaced or withdrawn)."""
    query = select(CalendarFeedRow).where(CalendarFeedRow.token_digest == feed_digest(token))
    with storage_errors(engine), Session(engine) as session:
        row = session.scalars(query).one_or_none()
        return None if row is None else _feed(row)


def _feed(row: CalendarFeedRow) -> CalendarFeed:
    return CalendarFeed(row.patient_id, row.clinical_titles, row.created_by, row.created_at)


def _audit(
    session: Session,
    action: str,
    patient_id: str,
    actor: str,
    now: datetime,
    detail: dict[str, bool],
) -> None:
    AuditTrail(session).append(
        at=now, actor=actor, action=ACTION_PREFIX + action, patient_id=patient_id,
        detail=dict(detail),
    )  # fmt: skip

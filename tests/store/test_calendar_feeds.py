"""Calendar links on both backends: kept as digests, one per patient, replaced by a
new one, withdrawn for good, each change audited without the token."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from isotrack.store import UnitOfWork
from isotrack.store.calendar_feeds import (
    feed_digest,
    feed_for_token,
    feed_of,
    issue_feed,
    revoke_feed,
)
from isotrack.store.models import CalendarFeedRow

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_link_is_kept_as_its_digest_and_found_by_its_token(database: Engine) -> None:
    token = issue_feed(database, "p-1", actor="nurse", now=AT)
    assert len(token) >= 40
    with Session(database) as session:
        rows = session.scalars(select(CalendarFeedRow)).all()
        assert [(r.patient_id, r.token_digest) for r in rows] == [("p-1", feed_digest(token))]
    found = feed_for_token(database, token)
    assert found is not None
    assert (found.patient_id, found.clinical_titles, found.created_by) == ("p-1", False, "nurse")
    assert feed_for_token(database, token + "x") is None
    assert feed_of(database, "p-2") is None


def test_a_new_link_replaces_the_old_and_revoking_ends_it(database: Engine) -> None:
    first = issue_feed(database, "p-1", actor="patient", now=AT)
    second = issue_feed(database, "p-1", actor="patient", now=AT, clinical_titles=True)
    other = issue_feed(database, "p-2", actor="nurse", now=AT)
    assert feed_for_token(database, first) is None
    assert feed_of(database, "p-1") == feed_for_token(database, second)
    assert feed_of(database, "p-1").clinical_titles  # type: ignore[union-attr]
    assert revoke_feed(database, "p-1", actor="nurse", now=AT)
    assert not revoke_feed(database, "p-1", actor="nurse", now=AT)
    assert feed_for_token(database, second) is None
    assert feed_for_token(database, other) is not None
    with UnitOfWork(database) as uow:
        entries = [(e.action, e.actor, e.patient_id, dict(e.detail)) for e in uow.audit.entries()]
    assert entries == [
        ("calendar-feed:create", "patient", "p-1", {"clinical_titles": False}),
        ("calendar-feed:rotate", "patient", "p-1", {"clinical_titles": True}),
        ("calendar-feed:create", "nurse", "p-2", {"clinical_titles": False}),
        ("calendar-feed:revoke", "nurse", "p-1", {}),
    ]
    assert not any(t in repr(entries) for t in (first, second, other))

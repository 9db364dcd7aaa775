"""Single sign-on in the store: identities at the identity provider, sign-ins under way.

:class:`SsoRepository` is the ``sso`` of a :class:`~isotrack.store.users.UserTransaction`.
A sign-in under way (:class:`PendingSsoRequest`) is kept until its callback takes
it: :meth:`SsoRepository.take_request` deletes it, so a ``state`` works once.

>>> from datetime import UTC, datetime, timedelta
>>> from isotrack.store.db import create_engine_for
>>> from isotrack.store.migrate import upgrade
>>> from isotrack.store.users import user_transaction
>>> engine = create_engine_for("sqlite://")
>>> upgrade(engine)
>>> at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
>>> pending = PendingSsoRequest("s" * 64, "b" * 64, "n", "v", "/clinic", at + timedelta(minutes=10))
>>> with user_transaction(engine) as tx:
...     tx.sso.add_request(pending)
>>> with user_transaction(engine) as tx:
...     tx.sso.take_request("s" * 64, at) == pending, tx.sso.take_request("s" * 64, at)
(True, None)
>>> engine.dispose()
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from isotrack.store.models import SsoIdentityRow, SsoRequestRow, UserRow


@dataclass(frozen=True, slots=True)
class PendingSsoRequest:
    """A sign-in sent to the identity provider: digests of its state and browser cookie,
    its nonce and PKCE code verifier, where to go afterwards, and until when it holds."""

    state_digest: str
    browser_digest: str
    nonce: str
    code_verifier: str
    next_url: str
    expires_at: datetime


class SsoRepository:
    """Identities and sign-ins under way, as seen from one transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add_request(self, request: PendingSsoRequest) -> None:
        self._session.add(
            SsoRequestRow(
                id=request.state_digest,
                browser=request.browser_digest,
                nonce=request.nonce,
                code_verifier=request.code_verifier,
                next_url=request.next_url,
                expires_at=request.expires_at,
            )
        )
        self._session.flush()

    def take_request(self, state_digest: str, now: datetime) -> PendingSsoRequest | None:
        """The sign-in of a state, deleted as it is read: None when unknown, taken
        already (even by a transaction that committed a moment ago) or expired."""
        row = self._session.get(SsoRequestRow, state_digest)
        if row is None:
            return None
        taken = PendingSsoRequest(
            state_digest=row.id,
            browser_digest=row.browser,
            nonce=row.nonce,
            code_verifier=row.code_verifier,
            next_url=row.next_url,
            expires_at=row.expires_at,
        )
        result = self._session.execute(delete(SsoRequestRow).where(SsoRequestRow.id == row.id))
        if getattr(result, "rowcount", 0) != 1 or now >= taken.expires_at:
            return None
        return taken

    def purge_expired(self, now: datetime) -> int:
        """Delete the sign-ins whose time is up; returns how many."""
        result = self._session.execute(delete(SsoRequestRow).where(SsoRequestRow.expires_at <= now))
        return int(getattr(result, "rowcount", 0))

    def user_of(self, issuer: str, subject: str) -> str | None:
        """The id of the user linked to (issuer, subject), or None."""
        return self._session.scalar(
            select(SsoIdentityRow.user_id).where(
                SsoIdentityRow.issuer == issuer, SsoIdentityRow.subject == subject
            )
        )

    def link(self, issuer: str, subject: str, user_id: str, at: datetime) -> None:
        self._session.add(
            SsoIdentityRow(issuer=issuer, subject=subject, user_id=user_id, created_at=at)
        )
        self._session.flush()

    def set_role(self, user_id: str, role: str) -> None:
        """Give a linked user the role their groups map to now."""
        self._session.execute(update(UserRow).where(UserRow.id == user_id).values(role=role))

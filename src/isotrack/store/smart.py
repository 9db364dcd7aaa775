"""SMART App Launch in the store: launches under way, and the EHR side of a session.

:class:`SmartRepository` is the ``smart`` of a :class:`~isotrack.store.users.UserTransaction`.
A launch under way (:class:`PendingLaunch`) is kept until its callback takes it
(:meth:`SmartRepository.take_launch` deletes it, so a ``state`` works once). A
launched session (:class:`SmartSession`) holds the EHR's access token (sealed with
the server key by the caller: :mod:`isotrack.http.sealing`), server-side only, tied
to the web session (its row goes with the session's) and never used
after its own expiry.

>>> from datetime import UTC, datetime, timedelta
>>> from isotrack.store.db import create_engine_for
>>> from isotrack.store.migrate import upgrade
>>> from isotrack.store.users import user_transaction
>>> engine = create_engine_for("sqlite://")
>>> upgrade(engine)
>>> at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
>>> launch = PendingLaunch("s" * 64, "b" * 64, "https://ehr.test/fhir", True, "n", "v",
...                        "openid launch", at + timedelta(minutes=10))
>>> with user_transaction(engine) as tx:
...     tx.smart.add_launch(launch)
>>> with user_transaction(engine) as tx:
...     tx.smart.take_launch("s" * 64, at) == launch, tx.smart.take_launch("s" * 64, at)
(True, None)
>>> engine.dispose()
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from isotrack.store.models import SmartLaunchRow, SmartSessionRow


@dataclass(frozen=True, slots=True)
class PendingLaunch:
    """A launch sent to the EHR's authorization server: digests of its state and
    browser cookie, the EHR (``iss``), whether it came from inside the EHR, its
    nonce, PKCE verifier and the scopes asked for, and until when it holds."""

    state_digest: str
    browser_digest: str
    iss: str
    ehr_launch: bool
    nonce: str
    code_verifier: str
    scope: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SmartSession:
    """The EHR side of a launched web session (``session_id``: the session's digest)."""

    session_id: str
    iss: str
    patient: str
    access_token: str
    scope: str
    app_context: str
    embedded: bool
    created_at: datetime
    token_expires_at: datetime
    expires_at: datetime

    def token(self, now: datetime) -> str | None:
        """The (sealed) access token while it holds, else None (launch again for a new one)."""
        return self.access_token if now < self.token_expires_at else None

    def __repr__(self) -> str:  # the access token never reaches a log or a traceback
        return f"SmartSession(iss={self.iss!r}, patient={self.patient!r}, scope={self.scope!r})"


class SmartRepository:
    """Launches under way and launched sessions, as seen from one transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add_launch(self, launch: PendingLaunch) -> None:
        self._session.add(
            SmartLaunchRow(
                id=launch.state_digest,
                browser=launch.browser_digest,
                iss=launch.iss,
                ehr_launch=launch.ehr_launch,
                nonce=launch.nonce,
                code_verifier=launch.code_verifier,
                scope=launch.scope,
                expires_at=launch.expires_at,
            )
        )
        self._session.flush()

    def take_launch(self, state_digest: str, now: datetime) -> PendingLaunch | None:
        """The launch of a state, deleted as it is read: None when unknown, taken
        already or expired."""
        row = self._session.get(SmartLaunchRow, state_digest)
        if row is None:
            return None
        taken = PendingLaunch(
            state_digest=row.id,
            browser_digest=row.browser,
            iss=row.iss,
            ehr_launch=row.ehr_launch,
            nonce=row.nonce,
            code_verifier=row.code_verifier,
            scope=row.scope,
            expires_at=row.expires_at,
        )
        result = self._session.execute(delete(SmartLaunchRow).where(SmartLaunchRow.id == row.id))
        if getattr(result, "rowcount", 0) != 1 or now >= taken.expires_at:
            return None
        return taken

    def purge_expired(self, now: datetime) -> None:
        """Delete the launches and launched sessions whose time is up."""
        self._session.execute(delete(SmartLaunchRow).where(SmartLaunchRow.expires_at <= now))
        self._session.execute(delete(SmartSessionRow).where(SmartSessionRow.expires_at <= now))

    def add_session(self, smart: SmartSession) -> None:
        self._session.add(
            SmartSessionRow(
                session_id=smart.session_id,
                iss=smart.iss,
                patient=smart.patient,
                access_token=smart.access_token,
                scope=smart.scope,
                app_context=smart.app_context,
                embedded=smart.embedded,
                created_at=smart.created_at,
                token_expires_at=smart.token_expires_at,
                expires_at=smart.expires_at,
            )
        )
        self._session.flush()

    def session(self, session_id: str, now: datetime) -> SmartSession | None:
        """The launched session of a web session, None when there is none or it has
        ended (its access token may have expired before: :meth:`SmartSession.token`)."""
        row = self._session.get(SmartSessionRow, session_id)
        if row is None or now >= row.expires_at:
            return None
        return SmartSession(
            session_id=row.session_id,
            iss=row.iss,
            patient=row.patient,
            access_token=row.access_token,
            scope=row.scope,
            app_context=row.app_context,
            embedded=row.embedded,
            created_at=row.created_at,
            token_expires_at=row.token_expires_at,
            expires_at=row.expires_at,
        )

"""The API's users, their refresh tokens and their sign-in attempts.

:func:`user_transaction` opens one transaction with a :class:`UserRepository`
and the :class:`~isotrack.store.audit.AuditTrail`, so a sign-in, its attempt
row and its audit row commit together (or not at all).

The store keeps what it is given: password hashes (the API hashes with Argon2,
see :mod:`isotrack.http.passwords`), refresh-token digests (never the tokens).

>>> from datetime import UTC, datetime
>>> from isotrack.store.db import create_engine_for
>>> from isotrack.store.migrate import upgrade
>>> engine = create_engine_for("sqlite://")
>>> upgrade(engine)
>>> at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
>>> with user_transaction(engine) as tx:
...     tx.users.add(StoredUser.new("nurse.kim", "nurse", "$argon2id$...", created_at=at))
>>> with user_transaction(engine) as tx:
...     tx.users.by_username("nurse.kim").role
'nurse'
>>> engine.dispose()
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, or_, select, text, update
from sqlalchemy.orm import Session

from isotrack.errors import ConflictError, NotFoundError
from isotrack.store.account_tokens import AccountTokenRepository
from isotrack.store.audit import AuditTrail
from isotrack.store.db import storage_errors
from isotrack.store.models import LoginAttemptRow, Patient, RefreshTokenRow, UserRow
from isotrack.store.smart import SmartRepository
from isotrack.store.sso import SsoRepository

SIGN_IN_LOCK_KEY = 0x15071A0D51
"""PostgreSQL advisory lock key held while a sign-in is admitted ("isotrack sign-in")."""


@dataclass(frozen=True, slots=True)
class StoredUser:
    """A user as stored: the password only as its hash."""

    id: str
    username: str
    role: str
    password_hash: str
    totp_secret: str | None
    patient_id: str | None
    active: bool
    created_at: datetime
    email: str | None = None
    """Where password-reset links go; None: no email for this account."""

    @classmethod
    def new(
        cls,
        username: str,
        role: str,
        password_hash: str,
        *,
        created_at: datetime,
        totp_secret: str | None = None,
        patient_id: str | None = None,
        email: str | None = None,
    ) -> StoredUser:
        """A new active user with a fresh UUID."""
        return cls(
            id=str(uuid.uuid4()),
            username=username,
            role=role,
            password_hash=password_hash,
            totp_secret=totp_secret,
            patient_id=patient_id,
            active=True,
            created_at=created_at,
            email=email,
        )


@dataclass(frozen=True, slots=True)
class StoredRefreshToken:
    """A refresh token as stored: ``id`` is the SHA-256 of the token."""

    id: str
    user_id: str
    family_id: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class UserRepository:
    """Users, refresh tokens and sign-in attempts, as seen from one transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    # users

    def add(self, user: StoredUser) -> None:
        """Store a new user: ConflictError when the username is taken, NotFoundError
        when ``patient_id`` names no patient."""
        if self.by_username(user.username) is not None:
            raise ConflictError(f"a user named {user.username!r} exists already")
        if user.patient_id is not None and self._session.get(Patient, user.patient_id) is None:
            raise NotFoundError(f"no patient {user.patient_id!r}: create the patient first")
        self._session.add(
            UserRow(
                id=user.id,
                username=user.username,
                role=user.role,
                password_hash=user.password_hash,
                totp_secret=user.totp_secret,
                patient_id=user.patient_id,
                active=user.active,
                created_at=user.created_at,
                email=user.email,
            )
        )
        self._session.flush()

    def by_username(self, username: str) -> StoredUser | None:
        row = self._session.scalars(select(UserRow).where(UserRow.username == username)).first()
        return None if row is None else _user(row)

    def by_email(self, email: str) -> list[StoredUser]:
        """The users with this address (compared without regard to case)."""
        rows = self._session.scalars(
            select(UserRow).where(func.lower(UserRow.email) == email.strip().lower())
        )
        return [_user(row) for row in rows]

    def by_patient(self, patient_id: str) -> StoredUser | None:
        """The account that holds the patient's record, if any (locked or not)."""
        row = self._session.scalars(select(UserRow).where(UserRow.patient_id == patient_id)).first()
        return None if row is None else _user(row)

    def patient_exists(self, patient_id: str) -> bool:
        return self._session.get(Patient, patient_id) is not None

    def by_id(self, user_id: str) -> StoredUser | None:
        row = self._session.get(UserRow, user_id)
        return None if row is None else _user(row)

    def all(self) -> list[StoredUser]:
        return [
            _user(row) for row in self._session.scalars(select(UserRow).order_by(UserRow.username))
        ]

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Replace a hash (e.g. rehashed with newer Argon2 parameters)."""
        self._session.execute(
            update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash)
        )

    def set_active(self, user_id: str, active: bool) -> bool:
        """Lock (False) or unlock (True) the user; False when no such user."""
        result = self._session.execute(
            update(UserRow).where(UserRow.id == user_id).values(active=active)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def set_totp_secret(self, user_id: str, secret: str | None) -> None:
        """Replace the user's second factor (None: none)."""
        self._session.execute(
            update(UserRow).where(UserRow.id == user_id).values(totp_secret=secret)
        )

    def deactivate(self, user_id: str) -> bool:
        """Disable the user (kept, for the audit trail); False when no such user.
        The user's refresh tokens are revoked with :meth:`revoke_user_tokens`."""
        result = self._session.execute(
            update(UserRow).where(UserRow.id == user_id).values(active=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    # refresh tokens

    def add_refresh_token(self, token: StoredRefreshToken) -> None:
        self._session.add(
            RefreshTokenRow(
                id=token.id,
                user_id=token.user_id,
                family_id=token.family_id,
                issued_at=token.issued_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
                revoked_at=token.revoked_at,
            )
        )
        self._session.flush()

    def refresh_token(self, token_id: str) -> StoredRefreshToken | None:
        row = self._session.get(RefreshTokenRow, token_id)
        if row is None:
            return None
        return StoredRefreshToken(
            id=row.id,
            user_id=row.user_id,
            family_id=row.family_id,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            used_at=row.used_at,
            revoked_at=row.revoked_at,
        )

    def use_refresh_token(self, token_id: str, at: datetime) -> bool:
        """Mark the token used; False when it was used (or revoked) already, even by a
        transaction that committed a moment ago."""
        result = self._session.execute(
            update(RefreshTokenRow)
            .where(
                RefreshTokenRow.id == token_id,
                RefreshTokenRow.used_at.is_(None),
                RefreshTokenRow.revoked_at.is_(None),
            )
            .values(used_at=at)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def revoke_family(self, family_id: str, at: datetime) -> int:
        """Revoke every token of the family not revoked yet; returns how many."""
        result = self._session.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.family_id == family_id, RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(getattr(result, "rowcount", 0))

    def revoke_user_tokens(self, user_id: str, at: datetime) -> int:
        """Revoke every refresh token of the user not revoked yet; returns how many."""
        result = self._session.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.user_id == user_id, RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(getattr(result, "rowcount", 0))

    def consume_totp_step(self, user_id: str, step: int) -> bool:
        """Mark the TOTP time step ``step`` used; False when a code of that step or a
        later one was accepted already (RFC 6238 section 5.2: each code is used once),
        even by a transaction that committed a moment ago."""
        result = self._session.execute(
            update(UserRow)
            .where(
                UserRow.id == user_id,
                or_(UserRow.totp_last_step.is_(None), UserRow.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    # sign-in attempts

    def serialise_sign_ins(self) -> None:
        """Hold the sign-in lock until the transaction ends, so that counting the
        recent failures and recording the next attempt is one atomic step. On
        PostgreSQL a transaction-level advisory lock; SQLite's write lock, taken
        when the transaction begins, serialises them already."""
        if self._session.get_bind().dialect.name == "postgresql":
            self._session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": SIGN_IN_LOCK_KEY}
            )

    def record_attempt(self, *, at: datetime, username: str, address: str, success: bool) -> str:
        """Store one attempt; returns its id."""
        attempt_id = str(uuid.uuid4())
        self._session.add(
            LoginAttemptRow(
                id=attempt_id, at=at, username=username, address=address, success=success
            )
        )
        self._session.flush()
        return attempt_id

    def mark_attempt_succeeded(self, attempt_id: str) -> None:
        """An attempt counted as failed while its password was checked proved right."""
        self._session.execute(
            update(LoginAttemptRow).where(LoginAttemptRow.id == attempt_id).values(success=True)
        )

    def recent_failures(self, *, username: str, address: str, since: datetime) -> RecentFailures:
        """When the failed attempts after ``since`` happened, for the account and for
        the address, newest first."""
        rows = self._session.execute(
            select(LoginAttemptRow.at, LoginAttemptRow.username, LoginAttemptRow.address)
            .where(
                LoginAttemptRow.success.is_(False),
                LoginAttemptRow.at > since,
                or_(LoginAttemptRow.username == username, LoginAttemptRow.address == address),
            )
            .order_by(LoginAttemptRow.at.desc())
        ).all()
        return RecentFailures(
            account=tuple(at for at, name, _ in rows if name == username),
            address=tuple(at for at, _, where in rows if where == address),
        )


@dataclass(frozen=True, slots=True)
class RecentFailures:
    """Times of recent failed sign-ins, newest first."""

    account: tuple[datetime, ...]
    address: tuple[datetime, ...]


@dataclass(frozen=True, slots=True)
class UserTransaction:
    users: UserRepository
    audit: AuditTrail
    sso: SsoRepository
    tokens: AccountTokenRepository
    smart: SmartRepository


@contextmanager
def user_transaction(engine: Engine) -> Iterator[UserTransaction]:
    """One transaction: commits when the block ends normally, rolls back when it
    raises; database failures come out as StorageError."""
    with (
        storage_errors(engine),
        Session(engine, expire_on_commit=False, autoflush=False) as session,
        session.begin(),
    ):
        yield UserTransaction(
            users=UserRepository(session),
            audit=AuditTrail(session),
            sso=SsoRepository(session),
            tokens=AccountTokenRepository(session),
            smart=SmartRepository(session),
        )


def _user(row: UserRow) -> StoredUser:
    return StoredUser(
        id=row.id,
        username=row.username,
        role=row.role,
        password_hash=row.password_hash,
        totp_secret=row.totp_secret,
        patient_id=row.patient_id,
        active=row.active,
        created_at=row.created_at,
        email=row.email,
    )

"""One-time links as stored: patient portal invitations and password resets.

The database keeps the SHA-256 of a link's token (:func:`token_digest`), never
the token: a copy of the database opens no account. A token is good once
(:meth:`AccountTokenRepository.use` marks it, atomically, so two tabs cannot both
use it) and only before it expires; issuing a new link of the same purpose for
the same patient or user withdraws the older ones.

>>> token_digest("a-token") == token_digest("a-token") != token_digest("another")
True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import update
from sqlalchemy.orm import Session

from isotrack.store.models import AccountTokenRow

Purpose = Literal["invitation", "password-reset"]
_DIGEST_PREFIX = "isotrack-account-link:"


def token_digest(token: str) -> str:
    """What the database keeps of a link's token (domain-separated SHA-256, hex)."""
    return hashlib.sha256((_DIGEST_PREFIX + token).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredAccountToken:
    """A one-time link as stored: ``id`` is the digest of its token."""

    id: str
    purpose: Purpose
    created_by: str
    created_at: datetime
    expires_at: datetime
    user_id: str | None = None
    patient_id: str | None = None
    email: str | None = None
    used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


class AccountTokenRepository:
    """One-time links, as seen from one transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, token: StoredAccountToken) -> None:
        self._session.add(
            AccountTokenRow(
                id=token.id,
                purpose=token.purpose,
                user_id=token.user_id,
                patient_id=token.patient_id,
                email=token.email,
                created_by=token.created_by,
                created_at=token.created_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
            )
        )
        self._session.flush()

    def get(self, token_id: str, purpose: Purpose) -> StoredAccountToken | None:
        row = self._session.get(AccountTokenRow, token_id)
        if row is None or row.purpose != purpose:
            return None
        return StoredAccountToken(
            id=row.id,
            purpose=purpose,
            created_by=row.created_by,
            created_at=row.created_at,
            expires_at=row.expires_at,
            user_id=row.user_id,
            patient_id=row.patient_id,
            email=row.email,
            used_at=row.used_at,
        )

    def use(self, token_id: str, at: datetime) -> bool:
        """Mark the token used; False when it was used, withdrawn or expired already
        (even by a transaction that committed a moment ago)."""
        result = self._session.execute(
            update(AccountTokenRow)
            .where(
                AccountTokenRow.id == token_id,
                AccountTokenRow.used_at.is_(None),
                AccountTokenRow.expires_at > at,
            )
            .values(used_at=at)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def withdraw(
        self, purpose: Purpose, at: datetime, *, user_id: str | None = None,
        patient_id: str | None = None,
    ) -> int:  # fmt: skip
        """Withdraw the unused links of ``purpose`` for the user or the patient; how many."""
        match = (
            AccountTokenRow.user_id == user_id
            if user_id is not None
            else AccountTokenRow.patient_id == patient_id
        )
        result = self._session.execute(
            update(AccountTokenRow)
            .where(AccountTokenRow.purpose == purpose, match, AccountTokenRow.used_at.is_(None))
            .values(used_at=at)
        )
        return int(getattr(result, "rowcount", 0))

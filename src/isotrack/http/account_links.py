"""One-time links that open an account: patient portal invitations and password resets.

- :func:`invite_patient` (staff): a link for a patient to make their own portal
  account (username and password of their choosing), valid
  :data:`INVITATION_LIFETIME`; a new invitation withdraws the older ones.
  Audited ``invitation:issue``; accepting is ``invitation:accept``.
- :func:`request_password_reset` (anyone, by username or email): a link valid
  :data:`RESET_LIFETIME`, made only for an unlocked account with an email
  address; the caller answers the same whatever happened (no account
  enumeration). Audited ``password-reset:request`` (with the outcome, for the
  clinic's eyes only); :func:`reset_password` is ``password-reset:done`` and
  ends every session of the account.

A link's token is 256 random bits; the database keeps its digest
(:mod:`isotrack.store.account_tokens`). Using a link is one transaction: the
token is marked used and the account changed together, or neither.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from isotrack.errors import ConflictError, InvalidInputError, NotFoundError
from isotrack.http.authz import Role
from isotrack.http.passwords import USERNAME_PATTERN, hash_password
from isotrack.store.account_tokens import StoredAccountToken, token_digest
from isotrack.store.models import EMAIL_LENGTH
from isotrack.store.users import StoredUser, user_transaction

INVITATION_LIFETIME = timedelta(days=7)
RESET_LIFETIME = timedelta(hours=1)
LINK_TOKEN_BYTES = 32
MIN_PASSWORD_LENGTH = 12
"""A chosen password's fewest characters (NIST SP 800-63B asks at least 8)."""
MAX_PASSWORD_LENGTH = 1000
ANONYMOUS = "anonymous"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A link just made: its token (shown or sent once, never stored) and expiry."""

    token: str
    expires_at: datetime
    email: str | None


def clean_email(value: str) -> str | None:
    """The address without surrounding blanks, None when empty; InvalidInputError
    when it is not an address.

    >>> clean_email("  ana@example.org "), clean_email("")
    ('ana@example.org', None)
    """
    text = value.strip()
    if not text:
        return None
    if len(text) > EMAIL_LENGTH or not _EMAIL.match(text):
        raise InvalidInputError("email", f"{text[:60]!r} is not an email address")
    return text


def password_problems(password: str, confirm: str) -> dict[str, str]:
    """What is wrong with a chosen password, by form field; empty when it will do."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return {"password": f"Use at least {MIN_PASSWORD_LENGTH} characters."}
    if len(password) > MAX_PASSWORD_LENGTH:
        return {"password": f"Use at most {MAX_PASSWORD_LENGTH} characters."}
    if password != confirm:
        return {"confirm": "The two passwords are not the same."}
    return {}


def _new_token() -> tuple[str, str]:
    """A link's token and the digest the database keeps of it."""
    token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
    return token, token_digest(token)


# --- invitations ---------------------------------------------------------------------------------
def invite_patient(
    engine: Engine, patient_id: str, *, email: str | None, actor: str, now: datetime
) -> IssuedLink:
    """A portal invitation for the patient (NotFoundError without such a patient,
    ConflictError when they have an account already)."""
    with user_transaction(engine) as tx:
        if not tx.users.patient_exists(patient_id):
            raise NotFoundError(f"no patient {patient_id!r}")
        holder = tx.users.by_patient(patient_id)
        if holder is not None:
            raise ConflictError(
                f"the patient has a portal account already ({holder.username}); "
                "they can reset its password from the sign-in page"
            )
        token, digest = _new_token()
        expires_at = now + INVITATION_LIFETIME
        withdrawn = tx.tokens.withdraw("invitation", now, patient_id=patient_id)
        tx.tokens.add(
            StoredAccountToken(
                id=digest, purpose="invitation", created_by=actor, created_at=now,
                expires_at=expires_at, patient_id=patient_id, email=email,
            )
        )  # fmt: skip
        tx.audit.append(
            at=now,
            actor=actor,
            action="invitation:issue",
            patient_id=patient_id,
            detail={"email": email is not None, "withdrawn": withdrawn},
        )
    return IssuedLink(token, expires_at, email)


def open_invitation(engine: Engine, token: str, now: datetime) -> StoredAccountToken | None:
    """The invitation of a link when it can still be used, else None."""
    with user_transaction(engine) as tx:
        stored = tx.tokens.get(token_digest(token), "invitation")
    return stored if stored is not None and stored.usable(now) else None


def accept_invitation(
    engine: Engine, token: str, username: str, password: str, *, now: datetime
) -> StoredUser:
    """Make the patient's account from an invitation: NotFoundError when the link is
    unknown, used or expired; InvalidInputError / ConflictError for the username."""
    if not USERNAME_PATTERN.match(username):
        raise InvalidInputError(
            "username",
            "use 1 to 200 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
        )
    with user_transaction(engine) as tx:
        stored = tx.tokens.get(token_digest(token), "invitation")
        if stored is None or stored.patient_id is None or not tx.tokens.use(stored.id, now):
            raise NotFoundError("this invitation link is used, expired or unknown")
        if tx.users.by_patient(stored.patient_id) is not None:
            raise ConflictError("the patient has a portal account already: sign in with it")
        if tx.users.by_username(username) is not None:
            raise ConflictError(f"the username {username!r} is taken: choose another")
        user = StoredUser.new(
            username, str(Role.PATIENT), hash_password(password), created_at=now,
            patient_id=stored.patient_id, email=stored.email,
        )  # fmt: skip
        tx.users.add(user)
        tx.audit.append(
            at=now,
            actor=user.id,
            action="invitation:accept",
            patient_id=stored.patient_id,
            detail={"user_id": user.id, "username": username, "invited_by": stored.created_by},
        )
    return user


# --- password resets -----------------------------------------------------------------------------
def request_password_reset(
    engine: Engine, identifier: str, *, now: datetime, address: str
) -> tuple[IssuedLink, StoredUser] | None:
    """A reset link for the account named by username or email, when there is one
    that may have it (unlocked, with an address); None otherwise. Audited either way."""
    name = identifier.strip()[:EMAIL_LENGTH]
    with user_transaction(engine) as tx:
        user = tx.users.by_username(name)
        if user is None and "@" in name:
            matches = tx.users.by_email(name)
            user = matches[0] if len(matches) == 1 else None
        outcome = (
            "no such account" if user is None
            else "account locked" if not user.active
            else "no email address" if not user.email
            else "link sent"
        )  # fmt: skip
        tx.audit.append(
            at=now,
            actor=user.id if user is not None else ANONYMOUS,
            action="password-reset:request",
            detail={"identifier": name, "address": address, "outcome": outcome},
        )
        if user is None or outcome != "link sent":
            return None
        token, digest = _new_token()
        expires_at = now + RESET_LIFETIME
        tx.tokens.withdraw("password-reset", now, user_id=user.id)
        tx.tokens.add(
            StoredAccountToken(
                id=digest, purpose="password-reset", created_by=ANONYMOUS, created_at=now,
                expires_at=expires_at, user_id=user.id, email=user.email,
            )
        )  # fmt: skip
    return IssuedLink(token, expires_at, user.email), user


def open_reset(engine: Engine, token: str, now: datetime) -> StoredAccountToken | None:
    """The reset of a link when it can still be used, else None."""
    with user_transaction(engine) as tx:
        stored = tx.tokens.get(token_digest(token), "password-reset")
    return stored if stored is not None and stored.usable(now) else None


def reset_password(engine: Engine, token: str, password: str, *, now: datetime) -> StoredUser:
    """Set the new password and end every session of the account; NotFoundError when
    the link is used, expired or unknown, or the account is locked."""
    with user_transaction(engine) as tx:
        stored = tx.tokens.get(token_digest(token), "password-reset")
        user = tx.users.by_id(stored.user_id) if stored and stored.user_id else None
        if stored is None or user is None or not user.active or not tx.tokens.use(stored.id, now):
            raise NotFoundError("this reset link is used, expired or unknown")
        tx.users.set_password_hash(user.id, hash_password(password))
        revoked = tx.users.revoke_user_tokens(user.id, now)
        tx.audit.append(
            at=now,
            actor=user.id,
            action="password-reset:done",
            patient_id=user.patient_id,
            detail={"revoked_sessions": revoked},
        )
    return user

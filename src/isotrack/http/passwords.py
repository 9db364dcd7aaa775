"""Credentials: Argon2id password hashes, generated passwords, TOTP second factors,
and creating users with fresh credentials (``isotrack user add``, the demo users).

A password is never stored or logged: the store keeps its Argon2id hash
(argon2-cffi's :class:`~argon2.PasswordHasher` defaults, RFC 9106 low-memory
profile). Generated passwords are shown once, to whoever created the user.

>>> hashed = hash_password("correct horse battery staple")
>>> hashed.startswith("$argon2id$")
True
>>> verify_password(hashed, "correct horse battery staple"), verify_password(hashed, "guess")
(True, False)
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine

from isotrack.errors import InvalidInputError
from isotrack.http.authz import Role
from isotrack.store.users import StoredUser, user_transaction

GENERATED_PASSWORD_BYTES = 18
"""A generated password: 144 random bits, 24 URL-safe characters."""
TOTP_ISSUER = "isotrack"
TOTP_VALID_WINDOW = 1
"""Codes of the previous and next 30-second step are accepted too (clock drift)."""
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$")

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("isotrack: no such user")
"""Checked against when the user does not exist, so both cases take as long."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def burn_verification_time(password: str) -> None:
    """Spend the time a real check takes (for an unknown username)."""
    verify_password(_DUMMY_HASH, password)


def new_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads (usually from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def totp_code(secret: str, at: datetime) -> str:
    """The code an authenticator shows at ``at`` (for tests and demos)."""
    return pyotp.TOTP(secret).at(at)


def verify_totp(secret: str, code: str, at: datetime) -> bool:
    """Whether ``code`` is a code of ``at``'s time step or a neighbour (not whether it
    was used before: :func:`totp_step` gives the step to spend)."""
    return totp_step(secret, code, at) is not None


def totp_step(secret: str, code: str, at: datetime) -> int | None:
    """The RFC 6238 time step whose code ``code`` is (``at``'s step or a neighbour
    within :data:`TOTP_VALID_WINDOW`), or None when it is none of them.

    The caller spends the step (``UserRepository.consume_totp_step``) so that a code
    is accepted once (RFC 6238 section 5.2).
    """
    cleaned = code.strip().replace(" ", "")
    if not cleaned.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(at)
    for step in range(now_step - TOTP_VALID_WINDOW, now_step + TOTP_VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), cleaned):
            return step
    return None


@dataclass(frozen=True, slots=True)
class NewUser:
    """A user just created, with the credentials to hand over once."""

    user_id: str
    username: str
    role: Role
    password: str
    totp_secret: str | None
    patient_id: str | None

    @property
    def totp_uri(self) -> str | None:
        return None if self.totp_secret is None else totp_uri(self.totp_secret, self.username)


def create_user(
    engine: Engine,
    username: str,
    role: Role | str,
    *,
    now: datetime,
    actor: str,
    patient_id: str | None = None,
    with_totp: bool = False,
    password: str | None = None,
    email: str | None = None,
) -> NewUser:
    """Create a user with a generated password (unless given); audited as ``user:add``.

    Patients must name their record (``patient_id``); staff must not. Admins
    must have a TOTP second factor. ``email``: where password-reset links go.
    """
    chosen_role = _role(role)
    if not USERNAME_PATTERN.match(username):
        raise InvalidInputError(
            "username",
            "use 1 to 200 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
        )
    if chosen_role is Role.PATIENT and patient_id is None:
        raise InvalidInputError("patient", "a patient user needs --patient ID (their record)")
    if chosen_role is not Role.PATIENT and patient_id is not None:
        raise InvalidInputError("patient", f"only patient users have a record; not {chosen_role}")
    if chosen_role is Role.ADMIN and not with_totp:
        raise InvalidInputError("totp", "admin users must have a TOTP second factor: add --totp")
    secret = new_totp_secret() if with_totp else None
    given = password if password is not None else new_password()
    user = StoredUser.new(
        username,
        str(chosen_role),
        hash_password(given),
        created_at=now,
        totp_secret=secret,
        patient_id=patient_id,
        email=email,
    )
    with user_transaction(engine) as tx:
        tx.users.add(user)
        tx.audit.append(
            at=now,
            actor=actor,
            action="user:add",
            patient_id=patient_id,
            detail={
                "user_id": user.id,
                "username": username,
                "role": str(chosen_role),
                "totp": with_totp,
            },
        )
    return NewUser(user.id, username, chosen_role, given, secret, patient_id)


DEMO_PATIENT_ID = "demo-ana"
"""The demo patient whose account the demo patient user holds."""
DEMO_ACTOR = "demo"


def create_demo_users(engine: Engine, *, now: datetime | None = None) -> list[tuple[str, str, str]]:
    """One demo user per role, each with a generated password: (username, role,
    password). The admin has a TOTP second factor (see :func:`demo_user_lines`);
    the patient user holds the record of ``demo-ana``, which must exist."""
    at = now if now is not None else datetime.now(UTC)
    created = [
        create_user(
            engine,
            f"demo-{role}",
            role,
            now=at,
            actor=DEMO_ACTOR,
            patient_id=DEMO_PATIENT_ID if role is Role.PATIENT else None,
            with_totp=role is Role.ADMIN,
        )
        for role in Role
    ]
    return [(user.username, str(user.role), user.password) for user in created]


def demo_user_lines(engine: Engine, users: list[tuple[str, str, str]]) -> list[str]:
    """One line per demo user to print once, with the admin's TOTP URI."""
    lines = []
    with user_transaction(engine) as tx:
        for username, role, password in users:
            stored = tx.users.by_username(username)
            line = f"{role:<10} {username:<16} password {password}"
            if stored is not None and stored.totp_secret is not None:
                line += f"  TOTP {totp_uri(stored.totp_secret, username)}"
            lines.append(line)
    return lines


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        names = ", ".join(str(member) for member in Role)
        raise InvalidInputError("role", f"{role!r} is not a role; use one of {names}") from None

"""What an admin does to an account (``user.manage``): lock, unlock, and reset the
second factor. Each is one transaction with its audit row.

- :func:`lock_user`: the user cannot sign in; every session and refresh token
  of theirs is revoked at once (audited ``user:lock``). An admin cannot lock
  their own account (someone must be left to unlock it).
- :func:`unlock_user`: the user may sign in again (``user:unlock``).
- :func:`reset_second_factor`: a new TOTP secret replaces the old one, shown
  once to hand over (``user:totp-reset``); the old authenticator stops working
  and the user's sessions end.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from isotrack.errors import InvalidInputError, NotFoundError
from isotrack.http.passwords import new_totp_secret, totp_uri
from isotrack.store.users import StoredUser, UserTransaction, user_transaction


def _user(tx: UserTransaction, user_id: str) -> StoredUser:
    user = tx.users.by_id(user_id)
    if user is None:
        raise NotFoundError(f"no user {user_id!r}")
    return user


def _audit(
    tx: UserTransaction, action: str, user: StoredUser, *, actor_id: str, now: datetime,
    revoked: int | None = None,
) -> None:  # fmt: skip
    detail: dict[str, str | int] = {"user_id": user.id, "username": user.username}
    if revoked is not None:
        detail["revoked_tokens"] = revoked
    tx.audit.append(
        at=now, actor=actor_id, action=action, patient_id=user.patient_id, detail=dict(detail)
    )


def lock_user(engine: Engine, user_id: str, *, actor_id: str, now: datetime) -> StoredUser:
    if user_id == actor_id:
        raise InvalidInputError("user", "you cannot lock your own account")
    with user_transaction(engine) as tx:
        user = _user(tx, user_id)
        tx.users.set_active(user_id, False)
        revoked = tx.users.revoke_user_tokens(user_id, now)
        _audit(tx, "user:lock", user, actor_id=actor_id, now=now, revoked=revoked)
        return _user(tx, user_id)


def unlock_user(engine: Engine, user_id: str, *, actor_id: str, now: datetime) -> StoredUser:
    with user_transaction(engine) as tx:
        user = _user(tx, user_id)
        tx.users.set_active(user_id, True)
        _audit(tx, "user:unlock", user, actor_id=actor_id, now=now)
        return _user(tx, user_id)


def reset_second_factor(
    engine: Engine, user_id: str, *, actor_id: str, now: datetime
) -> tuple[StoredUser, str]:
    """The user and the otpauth:// URI of their new secret (to show once)."""
    secret = new_totp_secret()
    with user_transaction(engine) as tx:
        user = _user(tx, user_id)
        tx.users.set_totp_secret(user_id, secret)
        revoked = tx.users.revoke_user_tokens(user_id, now)
        _audit(tx, "user:totp-reset", user, actor_id=actor_id, now=now, revoked=revoked)
    return user, totp_uri(secret, user.username)

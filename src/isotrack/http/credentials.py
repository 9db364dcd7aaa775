"""The credential check of a sign-in (API and web), in three steps so that no slow
work runs inside a write transaction.

1. *Admit* (one short transaction): count the recent failures for the username and
   for the address under the sign-in lock (:meth:`UserRepository.serialise_sign_ins`)
   and, unless throttled, record this attempt as failed before its password is
   checked. Counting and recording are one atomic step on both databases, so twenty
   parallel guesses get :data:`FAILURE_LIMIT` checks, not twenty.
2. *Check* (no transaction): the Argon2id hash (about 180 ms) and the TOTP code.
   Other users' reads and writes go on meanwhile.
3. *Conclude* (one short transaction): spend the TOTP code's time step (a code is
   accepted once, RFC 6238 section 5.2), mark the attempt succeeded, store a
   rehashed password (hashed before the transaction), write the audit row and
   issue what the caller issues (tokens, a web session).

An attempt cut short between 1 and 3 (a crash) stays counted as a failure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Engine

from isotrack.http.authz import Role
from isotrack.http.passwords import (
    burn_verification_time,
    hash_password,
    needs_rehash,
    totp_step,
    verify_password,
)
from isotrack.http.problems import ProblemError
from isotrack.store.users import StoredUser, UserTransaction, user_transaction

FAILURE_LIMIT = 5
FAILURE_WINDOW = timedelta(minutes=15)
ANONYMOUS_ACTOR = "anonymous"


@dataclass(frozen=True, slots=True)
class _Admitted:
    user: StoredUser | None
    attempt_id: str


@dataclass(frozen=True, slots=True)
class _Checked:
    """What step 2 found: ``failure`` is None when the credentials are right."""

    failure: str | None
    totp_step: int | None = None
    rehashed: str | None = None


T = TypeVar("T")

_NO_TOTP = "no TOTP"
_TOTP_MISSING = "TOTP code missing"


def check_credentials(
    engine: Engine,
    username: str,
    password: str,
    code: str | None,
    address: str,
    now: datetime,
    *,
    on_success: Callable[[UserTransaction, StoredUser], T],
) -> T | ProblemError:
    """``on_success(tx, user)`` (run in the concluding transaction) when the
    credentials are right; else the problem to answer. The attempt and its audit
    row are written either way."""
    admitted = _admit(engine, username, address, now)
    if isinstance(admitted, ProblemError):
        return admitted
    checked = _check(admitted.user, password, code, now)
    with user_transaction(engine) as tx:
        outcome = _conclude(tx, admitted, checked, username, address, now)
        if isinstance(outcome, StoredUser):
            return on_success(tx, outcome)
    return outcome


def _admit(engine: Engine, username: str, address: str, now: datetime) -> _Admitted | ProblemError:
    with user_transaction(engine) as tx:
        tx.users.serialise_sign_ins()
        failures = tx.users.recent_failures(
            username=username, address=address, since=now - FAILURE_WINDOW
        )
        wait = max(seconds_blocked(failures.account, now), seconds_blocked(failures.address, now))
        if wait > 0:
            tx.audit.append(
                at=now,
                actor=ANONYMOUS_ACTOR,
                action="auth:throttled",
                detail={"username": username, "address": address, "retry_after": wait},
            )
            return ProblemError(
                429,
                "too-many-sign-in-failures",
                f"too many failed sign-ins for this account or address; try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        user = tx.users.by_username(username)
        attempt = tx.users.record_attempt(at=now, username=username, address=address, success=False)
    return _Admitted(user, attempt)


def _check(user: StoredUser | None, password: str, code: str | None, now: datetime) -> _Checked:
    """The slow part, outside any transaction."""
    if user is None:
        burn_verification_time(password)
        return _Checked("unknown user")
    if not verify_password(user.password_hash, password):
        return _Checked("wrong password")
    if not user.active:
        return _Checked("account disabled")
    if user.role == Role.ADMIN and user.totp_secret is None:
        return _Checked(_NO_TOTP)
    step = None
    if user.totp_secret is not None:
        if not code:
            return _Checked(_TOTP_MISSING)
        step = totp_step(user.totp_secret, code, now)
        if step is None:
            return _Checked("wrong TOTP code")
    rehashed = hash_password(password) if needs_rehash(user.password_hash) else None
    return _Checked(None, step, rehashed)


def _conclude(
    tx: UserTransaction,
    admitted: _Admitted,
    checked: _Checked,
    username: str,
    address: str,
    now: datetime,
) -> StoredUser | ProblemError:
    checked_user = admitted.user
    if checked_user is None or checked.failure is not None:
        return _refused(tx, admitted, checked.failure or "unknown user", username, address, now)
    user = tx.users.by_id(checked_user.id)
    if user is None or user.password_hash != checked_user.password_hash or not user.active:
        reason = "account changed during sign-in"
        return _refused(tx, admitted, reason, username, address, now)
    if checked.totp_step is not None and not tx.users.consume_totp_step(user.id, checked.totp_step):
        reason = "TOTP code already used"
        return _refused(tx, admitted, reason, username, address, now)
    tx.users.mark_attempt_succeeded(admitted.attempt_id)
    if checked.rehashed is not None:
        tx.users.set_password_hash(user.id, checked.rehashed)
    tx.audit.append(at=now, actor=user.id, action="auth:login", detail={"address": address})
    return user


def _refused(
    tx: UserTransaction,
    admitted: _Admitted,
    reason: str,
    username: str,
    address: str,
    now: datetime,
) -> ProblemError:
    user = admitted.user
    if reason == _NO_TOTP and user is not None:
        # The password was right: not a guess, so not counted against the limit.
        tx.users.mark_attempt_succeeded(admitted.attempt_id)
        tx.audit.append(
            at=now, actor=user.id, action="auth:login-refused", detail={"reason": reason}
        )
        return ProblemError(
            403,
            "totp-not-set-up",
            "admin accounts must have a TOTP second factor; recreate the account with "
            "`isotrack user add NAME --role admin --totp`",
        )
    tx.audit.append(
        at=now,
        actor=user.id if user is not None else ANONYMOUS_ACTOR,
        action="auth:login-failed",
        detail={"username": username, "address": address, "reason": reason},
    )
    if reason == _TOTP_MISSING:
        return unauthenticated(
            "totp-required",
            "this account has a second factor: send the current TOTP code in `totp`",
        )
    return unauthenticated("invalid-credentials", "wrong username, password or TOTP code")


def seconds_blocked(failures: tuple[datetime, ...], now: datetime) -> int:
    """Seconds until fewer than FAILURE_LIMIT of ``failures`` (newest first) are recent."""
    if len(failures) < FAILURE_LIMIT:
        return 0
    frees_at = failures[FAILURE_LIMIT - 1] + FAILURE_WINDOW
    return max(1, math.ceil((frees_at - now).total_seconds()))


def unauthenticated(code: str, detail: str) -> ProblemError:
    return ProblemError(401, code, detail, headers={"WWW-Authenticate": "Bearer"})

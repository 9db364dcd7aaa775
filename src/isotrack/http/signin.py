"""``/api/v1/auth``: sign in (OAuth2 password flow), refresh, sign out.

- ``POST /api/v1/auth/token`` — form fields ``username``, ``password`` and, for
  an account with a second factor, the current TOTP code in ``totp`` (or in
  ``client_secret``, which is the field the /docs "Authorize" dialog can send).
  Admin accounts must have TOTP: without one set up the sign-in is refused (403,
  ``totp-not-set-up``). Answers an access token (JWT, 15 minutes) and a refresh
  token.
- ``POST /api/v1/auth/refresh`` — form field ``refresh_token``: the token is
  used up and a new pair is issued in the same family. A token used a second
  time revokes its whole family (every later refresh of that sign-in fails, 401).
- ``POST /api/v1/auth/logout`` — form field ``refresh_token``: revokes the family.

Throttling: after :data:`FAILURE_LIMIT` failed sign-ins within
:data:`FAILURE_WINDOW` for a username or from an address, further attempts get
429 with ``Retry-After`` (the seconds until the oldest of those failures ages
out) without the password being checked. The audit trail records
``auth:login``, ``auth:login-failed``, ``auth:throttled``, ``auth:refresh``,
``auth:refresh-reused``, ``auth:logout`` (never a password or a token).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from isotrack.http.credentials import (
    ANONYMOUS_ACTOR,
    FAILURE_LIMIT,
    FAILURE_WINDOW,
    check_credentials,
    unauthenticated,
)
from isotrack.http.deps import EngineDep, NowDep, SettingsDep
from isotrack.http.passwords import create_demo_users, demo_user_lines
from isotrack.http.problems import Problem, ProblemError
from isotrack.http.tokens import (
    ACCESS_TOKEN_LIFETIME,
    REFRESH_TOKEN_LIFETIME,
    issue_access_token,
    new_refresh_token,
    refresh_token_id,
)
from isotrack.settings import signing_key
from isotrack.store.users import StoredRefreshToken, StoredUser, UserTransaction, user_transaction

__all__ = [
    "ANONYMOUS_ACTOR",
    "FAILURE_LIMIT",
    "FAILURE_WINDOW",
    "check_credentials",
    "create_demo_users",
    "demo_user_lines",
    "router",
]

USERNAME_STORED_LENGTH = 200
ADDRESS_STORED_LENGTH = 64
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_PROBLEM = {"model": Problem, "content": {"application/problem+json": {}}}

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenResponse(BaseModel):
    access_token: str = Field(description="JWT (HS256), sent as Authorization: Bearer")
    refresh_token: str = Field(description="Opaque; single use; exchange at /auth/refresh")
    token_type: str = Field(default="bearer")
    expires_in: int = Field(description="Seconds the access token is valid")


RefreshTokenForm = Annotated[str, Form(min_length=1, max_length=200)]


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={401: _PROBLEM, 403: _PROBLEM, 429: _PROBLEM},
    summary="Sign in: username, password (and TOTP code) for an access and a refresh token",
)
def sign_in(
    request: Request,
    response: Response,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    settings: SettingsDep,
    engine: EngineDep,
    now: NowDep,
    totp: Annotated[
        str | None, Form(max_length=16, description="TOTP code (or send it in client_secret)")
    ] = None,
) -> TokenResponse:
    address = (request.client.host if request.client else "unknown")[:ADDRESS_STORED_LENGTH]
    username = form.username[:USERNAME_STORED_LENGTH]
    code = totp if totp else form.client_secret
    key = signing_key(settings)
    outcome = check_credentials(
        engine, username, form.password, code, address, now,
        on_success=lambda tx, user: _issue(tx, user, key=key, now=now, family_id=str(uuid.uuid4())),
    )  # fmt: skip
    if isinstance(outcome, ProblemError):
        raise outcome
    response.headers.update(_NO_STORE)
    return outcome


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses={401: _PROBLEM},
    summary="Exchange a refresh token for a new pair (the old one is used up)",
)
def refresh(
    response: Response,
    refresh_token: RefreshTokenForm,
    settings: SettingsDep,
    engine: EngineDep,
    now: NowDep,
) -> TokenResponse:
    key = signing_key(settings)
    with user_transaction(engine) as tx:
        outcome = _rotate(tx, refresh_token, key=key, now=now)
    if isinstance(outcome, ProblemError):
        raise outcome
    response.headers.update(_NO_STORE)
    return outcome


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out: revoke the refresh token and every token of its sign-in",
)
def sign_out(refresh_token: RefreshTokenForm, engine: EngineDep, now: NowDep) -> Response:
    with user_transaction(engine) as tx:
        stored = tx.users.refresh_token(refresh_token_id(refresh_token))
        if stored is not None:
            revoked = tx.users.revoke_family(stored.family_id, now)
            tx.audit.append(
                at=now, actor=stored.user_id, action="auth:logout", detail={"revoked": revoked}
            )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _issue(
    tx: UserTransaction, user: StoredUser, *, key: bytes, now: datetime, family_id: str
) -> TokenResponse:
    refresh_token = new_refresh_token()
    tx.users.add_refresh_token(
        StoredRefreshToken(
            id=refresh_token_id(refresh_token),
            user_id=user.id,
            family_id=family_id,
            issued_at=now,
            expires_at=now + REFRESH_TOKEN_LIFETIME,
        )
    )
    return TokenResponse(
        access_token=issue_access_token(key=key, user_id=user.id, role=user.role, now=now),
        refresh_token=refresh_token,
        expires_in=int(ACCESS_TOKEN_LIFETIME.total_seconds()),
    )


def _rotate(
    tx: UserTransaction, refresh_token: str, *, key: bytes, now: datetime
) -> TokenResponse | ProblemError:
    invalid = unauthenticated(
        "invalid-refresh-token", "the refresh token is unknown, used, revoked or expired; sign in"
    )
    stored = tx.users.refresh_token(refresh_token_id(refresh_token))
    if stored is None or stored.revoked_at is not None or now >= stored.expires_at:
        return invalid
    if stored.used_at is not None or not tx.users.use_refresh_token(stored.id, now):
        revoked = tx.users.revoke_family(stored.family_id, now)
        tx.audit.append(
            at=now,
            actor=stored.user_id,
            action="auth:refresh-reused",
            detail={"family_id": stored.family_id, "revoked": revoked},
        )
        return invalid
    user = tx.users.by_id(stored.user_id)
    if user is None or not user.active:
        return invalid
    tx.audit.append(
        at=now, actor=user.id, action="auth:refresh", detail={"family_id": stored.family_id}
    )
    return _issue(tx, user, key=key, now=now, family_id=stored.family_id)

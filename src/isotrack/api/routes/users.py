"""``/api/v1/users``: the API's accounts, managed by admins (``user.manage``).

A new user's password is generated and returned once, with the TOTP URI when
the account has a second factor (admins must). The list never carries a
secret. A user is deactivated, not deleted (the audit trail names them); their
refresh tokens are revoked at once and their access tokens stop working at the
next request. Every change is audited (``user:add``, ``user:deactivate``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, status
from pydantic import BaseModel, ConfigDict, Field

from isotrack.errors import NotFoundError
from isotrack.http.account_links import clean_email
from isotrack.http.authz import Action, Principal, require
from isotrack.http.deps import EngineDep, NowDep
from isotrack.http.passwords import create_user
from isotrack.store.users import StoredUser, user_transaction

router = APIRouter(prefix="/api/v1/users", tags=["users"])

RoleName = Literal["admin", "prescriber", "nurse", "pharmacist", "patient"]
UserIdPath = Annotated[str, Path(description="The user's UUID", pattern=r"^[0-9a-fA-F-]{36}$")]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(
        min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$"
    )
    role: RoleName
    patient_id: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Patients only: the one record the account reaches",
    )
    totp: bool = Field(default=False, description="A TOTP second factor (required for admins)")
    email: str | None = Field(
        default=None, max_length=254, description="Where password-reset links are sent"
    )


class UserOut(BaseModel):
    id: str
    username: str
    role: str
    patient_id: str | None
    active: bool
    totp: bool = Field(description="Has a TOTP second factor")
    created_at: datetime


class CreatedUser(BaseModel):
    id: str
    username: str
    role: str
    patient_id: str | None
    password: str = Field(description="Generated; shown this once only")
    totp_uri: str | None = Field(description="otpauth:// URI for an authenticator app, once")


def user_out(user: StoredUser) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        role=user.role,
        patient_id=user.patient_id,
        active=user.active,
        totp=user.totp_secret is not None,
        created_at=user.created_at,
    )


@router.post(
    "",
    response_model=CreatedUser,
    status_code=status.HTTP_201_CREATED,
    summary="Create a user; the generated password is returned once",
)
def add_user(
    body: UserCreate,
    engine: EngineDep,
    now: NowDep,
    principal: Annotated[Principal, Depends(require(Action.USER_MANAGE))],
) -> CreatedUser:
    user = create_user(
        engine,
        body.username,
        body.role,
        now=now,
        actor=principal.user_id,
        patient_id=body.patient_id,
        with_totp=body.totp,
        email=clean_email(body.email or ""),
    )
    return CreatedUser(
        id=user.user_id,
        username=user.username,
        role=str(user.role),
        patient_id=user.patient_id,
        password=user.password,
        totp_uri=user.totp_uri,
    )


@router.get("", response_model=list[UserOut], summary="The users, without secrets")
def list_users(
    engine: EngineDep,
    _: Annotated[Principal, Depends(require(Action.USER_MANAGE))],
) -> list[UserOut]:
    with user_transaction(engine) as tx:
        return [user_out(user) for user in tx.users.all()]


@router.post(
    "/{user_id}/deactivate",
    response_model=UserOut,
    summary="Deactivate a user and revoke their refresh tokens",
)
def deactivate_user(
    user_id: UserIdPath,
    engine: EngineDep,
    now: NowDep,
    principal: Annotated[Principal, Depends(require(Action.USER_MANAGE))],
) -> UserOut:
    with user_transaction(engine) as tx:
        if not tx.users.deactivate(user_id):
            raise NotFoundError(f"no user {user_id!r}")
        revoked = tx.users.revoke_user_tokens(user_id, now)
        user = tx.users.by_id(user_id)
        assert user is not None
        tx.audit.append(
            at=now,
            actor=principal.user_id,
            action="user:deactivate",
            patient_id=user.patient_id,
            detail={"user_id": user_id, "username": user.username, "revoked_tokens": revoked},
        )
    return user_out(user)

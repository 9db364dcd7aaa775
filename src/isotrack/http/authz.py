"""Who may do what: the roles, the actions, and the one matrix between them.

:data:`MATRIX` is the only place the rights are written; ``docs/api.md``
renders it (a test keeps the two in step). Routes ask for a right with the
dependency ``require(action)``, which answers:

- 401 (problem+json, ``WWW-Authenticate: Bearer``) without a valid access token
  (missing, expired, tampered, wrong audience or issuer, user gone or disabled);
- 403 when the caller's role lacks the action; the refusal is audited as
  ``denied:<action>`` with the caller's user id.

A patient reaches only their own record: :func:`ensure_patient_access` (403,
audited as ``denied:patient-access``) guards every route with a patient id.
``knowledge.read`` is public: its routes need no token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Engine

from isotrack.http.deps import EngineDep, NowDep, SettingsDep
from isotrack.http.problems import ProblemError
from isotrack.http.tokens import InvalidTokenError, read_access_token
from isotrack.settings import signing_key
from isotrack.store.users import user_transaction


class Role(StrEnum):
    ADMIN = "admin"
    PRESCRIBER = "prescriber"
    NURSE = "nurse"
    PHARMACIST = "pharmacist"
    PATIENT = "patient"


class Action(StrEnum):
    PATIENT_CREATE = "patient.create"
    PATIENT_LIST = "patient.list"
    PATIENT_READ = "patient.read"
    CLINICAL_RECORD = "clinical.record"
    COURSE_MANAGE = "course.manage"
    PRESCRIBE = "prescribe"
    DISPENSE = "dispense"
    FINDINGS_READ = "findings.read"
    FINDING_OVERRIDE = "finding.override"
    PROGRAMME_READ = "programme.read"
    AUTHORIZATION_CREATE = "authorization.create"
    AUTHORIZATION_VERIFY = "authorization.verify"
    SELF_REPORT = "self.report"
    PLAN = "plan"
    SCREEN = "screen"
    KNOWLEDGE_READ = "knowledge.read"
    AUDIT_READ = "audit.read"
    USER_MANAGE = "user.manage"


PUBLIC_ACTIONS: frozenset[Action] = frozenset({Action.KNOWLEDGE_READ})
"""Actions anyone may take without a token."""

_A = Action
MATRIX: Mapping[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset({_A.USER_MANAGE, _A.AUDIT_READ, _A.KNOWLEDGE_READ}),
    Role.PRESCRIBER: frozenset(
        {
            _A.PATIENT_CREATE,
            _A.PATIENT_LIST,
            _A.PATIENT_READ,
            _A.CLINICAL_RECORD,
            _A.COURSE_MANAGE,
            _A.PRESCRIBE,
            _A.FINDINGS_READ,
            _A.FINDING_OVERRIDE,
            _A.PROGRAMME_READ,
            _A.AUTHORIZATION_CREATE,
            _A.AUTHORIZATION_VERIFY,
            _A.SELF_REPORT,
            _A.PLAN,
            _A.SCREEN,
            _A.KNOWLEDGE_READ,
        }
    ),
    Role.NURSE: frozenset(
        {
            _A.PATIENT_CREATE,
            _A.PATIENT_LIST,
            _A.PATIENT_READ,
            _A.CLINICAL_RECORD,
            _A.FINDINGS_READ,
            _A.PROGRAMME_READ,
            _A.SELF_REPORT,
            _A.SCREEN,
            _A.KNOWLEDGE_READ,
        }
    ),
    Role.PHARMACIST: frozenset(
        {
            _A.PATIENT_LIST,
            _A.PROGRAMME_READ,
            _A.AUTHORIZATION_CREATE,
            _A.AUTHORIZATION_VERIFY,
            _A.DISPENSE,
            _A.KNOWLEDGE_READ,
        }
    ),
    Role.PATIENT: frozenset(
        {_A.PATIENT_READ, _A.PROGRAMME_READ, _A.SELF_REPORT, _A.KNOWLEDGE_READ}
    ),
}
"""The rights of each role (the patient's only on their own record)."""

STAFF_ROLES: frozenset[Role] = frozenset(MATRIX) - {Role.PATIENT}

DenialRecorder = Callable[[str, str | None], None]
"""Audits a refusal: (action written in the trail, patient id or None)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in caller, as the database knows them now."""

    user_id: str
    username: str
    role: Role
    patient_id: str | None = None
    """For the patient role: the one record this user may reach."""
    record_denial: DenialRecorder | None = field(default=None, compare=False, repr=False)
    """Audits a refusal made after authentication (set by :func:`require`)."""

    def may(self, action: Action) -> bool:
        return action in MATRIX[self.role]


def allowed(role: Role, action: Action) -> bool:
    return action in MATRIX[role]


def ensure_action(principal: Principal, actions: frozenset[Action] | set[Action]) -> None:
    """403 (audited) unless the caller's role has at least one of ``actions``."""
    if any(principal.may(action) for action in actions):
        return
    names = "|".join(sorted(actions))
    _deny(principal, f"denied:{names}", None, f"the {principal.role} role may not {names}")


def ensure_patient_access(principal: Principal, patient_id: str) -> None:
    """403 (audited) unless the caller is staff or this is the patient's own record."""
    if principal.role in STAFF_ROLES or principal.patient_id == patient_id:
        return
    _deny(
        principal,
        "denied:patient-access",
        patient_id,
        "a patient account reaches only its own record",
    )


def _deny(principal: Principal, audit_action: str, patient_id: str | None, detail: str) -> None:
    if principal.record_denial is not None:
        principal.record_denial(audit_action, patient_id)
    raise ProblemError(403, "forbidden", detail)


bearer_token = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    scheme_name="OAuth2",
    description="Password flow; send the TOTP code in `client_secret` when the account has one.",
)
"""Reads ``Authorization: Bearer <token>``; declares the scheme in OpenAPI."""


def unauthenticated(detail: str) -> ProblemError:
    return ProblemError(401, "unauthenticated", detail, headers={"WWW-Authenticate": "Bearer"})


def require(action: Action | None) -> Callable[..., Principal]:
    """A dependency: the caller, checked to hold ``action`` (None: any signed-in user)."""

    def dependency(
        request: Request,
        settings: SettingsDep,
        engine: EngineDep,
        now: NowDep,
        token: Annotated[str | None, Depends(bearer_token)],
    ) -> Principal:
        principal = authenticate_bearer(token, engine=engine, key=signing_key(settings), now=now)
        request.state.principal = principal
        if action is not None and not principal.may(action):
            _deny(
                principal, f"denied:{action}", None, f"the {principal.role} role may not {action}"
            )
        return principal

    dependency.__name__ = f"require_{action or 'user'}".replace(".", "_")
    return dependency


def authenticate_bearer(
    token: str | None, *, engine: Engine, key: bytes, now: datetime
) -> Principal:
    """The principal of a bearer access token, or a 401 problem."""
    if not token:
        raise unauthenticated("sign in: send an access token (Authorization: Bearer ...)")
    try:
        claims = read_access_token(token, key=key, now=now)
    except InvalidTokenError as error:
        raise unauthenticated(f"the access token is not valid ({error}); sign in again") from None
    with user_transaction(engine) as tx:
        user = tx.users.by_id(claims.subject)
    if user is None or not user.active:
        raise unauthenticated("the account of this token is unknown or disabled")
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        patient_id=user.patient_id,
        record_denial=_denial_recorder(engine, user.id, now),
    )


def _denial_recorder(engine: Engine, user_id: str, now: datetime) -> DenialRecorder:
    def record(action: str, patient_id: str | None) -> None:
        with user_transaction(engine) as tx:
            tx.audit.append(at=now, actor=user_id, action=action, patient_id=patient_id)

    return record

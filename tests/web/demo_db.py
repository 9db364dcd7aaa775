"""A database holding the demo clinic and one user per role with known passwords.

Used by the page tests (``tests/web/conftest.py``) and the browser tests
(``tests/e2e/conftest.py``). The passwords are made up for tests; the admin
has a TOTP second factor whose secret is returned, so a test can compute the
current code (:func:`isotrack.http.passwords.totp_code`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from isotrack.demo.clinic import demo_clinic
from isotrack.demo.story import DemoPatient
from isotrack.http.authz import Role
from isotrack.http.passwords import DEMO_PATIENT_ID, create_user
from isotrack.knowledge import KnowledgeBase
from isotrack.store import execute, upgrade

DEMO_ACTOR = "demo"


@dataclass(frozen=True)
class Account:
    """A demo user's credentials."""

    username: str
    role: Role
    password: str
    totp_secret: str | None
    patient_id: str | None


def password_for(role: Role) -> str:
    """The made-up password of the demo user of ``role`` in test databases."""
    return f"{role}-test-passphrase-42"


def load_demo_clinic(engine: Engine, now: datetime, kb: KnowledgeBase) -> list[DemoPatient]:
    """Migrate ``engine`` and load the demo clinic as of ``now`` (as ``serve --demo`` does)."""
    upgrade(engine)
    clinic = demo_clinic(now.date(), kb)
    for patient in clinic:
        for command, recorded in patient.commands:
            at = datetime.combine(recorded, now.timetz())
            execute(engine, patient.patient_id, command, actor=DEMO_ACTOR, now=at, kb=kb)
    return clinic


def create_accounts(engine: Engine, now: datetime) -> dict[Role, Account]:
    """One user per role, ``demo-<role>``, with :func:`password_for`."""
    accounts = {}
    for role in Role:
        user = create_user(
            engine,
            f"demo-{role}",
            role,
            now=now,
            actor=DEMO_ACTOR,
            patient_id=DEMO_PATIENT_ID if role is Role.PATIENT else None,
            with_totp=role is Role.ADMIN,
            password=password_for(role),
        )
        accounts[role] = Account(
            user.username, role, user.password, user.totp_secret, user.patient_id
        )
    return accounts

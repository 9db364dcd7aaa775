"""Sign-in under contention, on SQLite and PostgreSQL (issue 14, point 3).

- the password check (Argon2id) runs outside every write transaction: another
  writer commits while it runs;
- counting recent failures and recording the attempt is atomic: twenty parallel
  wrong passwords get FAILURE_LIMIT checks, the rest are throttled;
- a TOTP code is accepted once (RFC 6238 section 5.2).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from tests.api.conftest import API_NOW
from tests.api.test_auth import TOKEN_URL, audit_actions, make_user, sign_in_form

from isotrack.http.authz import Role
from isotrack.http.credentials import FAILURE_LIMIT, check_credentials
from isotrack.http.passwords import create_user, totp_code
from isotrack.http.problems import ProblemError
from isotrack.store import UnitOfWork
from isotrack.store.models import LoginAttemptRow
from isotrack.store.users import StoredUser, user_transaction

PARALLEL_GUESSES = 20
SLOW_HASHER = PasswordHasher(time_cost=12)
"""A hash that takes seconds to check, so the test can act while it is checked."""
WAIT_S = 60


def _attempts(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(LoginAttemptRow)) or 0)


def _failure_reasons(engine: Engine) -> list[str]:
    with UnitOfWork(engine) as uow:
        return [
            str(entry.detail["reason"])
            for entry in uow.audit.entries()
            if entry.action == "auth:login-failed"
        ]


def test_twenty_parallel_wrong_passwords_get_only_the_limit_checked(api_engine: Engine) -> None:
    nurse = make_user(api_engine, Role.NURSE)
    start = threading.Barrier(PARALLEL_GUESSES)

    def guess(n: int) -> int:
        start.wait()
        outcome = check_credentials(
            api_engine, nurse.username, f"wrong-{n}", None, f"10.0.0.{n}", API_NOW,
            on_success=lambda tx, user: user,
        )  # fmt: skip
        assert isinstance(outcome, ProblemError)
        return outcome.status

    with ThreadPoolExecutor(max_workers=PARALLEL_GUESSES) as pool:
        statuses = list(pool.map(guess, range(PARALLEL_GUESSES)))
    assert sorted(statuses) == [401] * FAILURE_LIMIT + [429] * (PARALLEL_GUESSES - FAILURE_LIMIT)
    assert _failure_reasons(api_engine) == ["wrong password"] * FAILURE_LIMIT
    assert audit_actions(api_engine).count("auth:throttled") == PARALLEL_GUESSES - FAILURE_LIMIT


def test_the_password_is_checked_outside_any_write_transaction(api_engine: Engine) -> None:
    user = StoredUser.new(
        "slow.hash", "nurse", SLOW_HASHER.hash("right password"), created_at=API_NOW
    )
    with user_transaction(api_engine) as tx:
        tx.users.add(user)
    signing_in = threading.Thread(
        target=check_credentials,
        args=(api_engine, "slow.hash", "wrong password", None, "10.0.0.1", API_NOW),
        kwargs={"on_success": lambda tx, user: user},
    )
    signing_in.start()
    try:
        deadline = time.monotonic() + WAIT_S
        # The attempt is committed before its password is checked ...
        while _attempts(api_engine) == 0 and signing_in.is_alive():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        # ... so another writer gets the write lock while the hash is being checked.
        with UnitOfWork(api_engine) as uow:
            uow.audit.append(at=API_NOW, actor="probe", action="test:probe")
    finally:
        signing_in.join(WAIT_S)
    actions = audit_actions(api_engine)
    assert actions.index("test:probe") < actions.index("auth:login-failed"), actions


def test_a_totp_code_is_accepted_once(client: TestClient, api_engine: Engine) -> None:
    admin = make_user(api_engine, Role.ADMIN)
    assert client.post(TOKEN_URL, data=sign_in_form(admin)).status_code == 200
    replayed = client.post(TOKEN_URL, data=sign_in_form(admin))
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "invalid-credentials"
    assert _failure_reasons(api_engine) == ["TOTP code already used"]


def test_a_code_older_than_the_last_one_accepted_is_refused(
    client: TestClient, api_engine: Engine
) -> None:
    admin = make_user(api_engine, Role.ADMIN)
    assert admin.totp_secret is not None
    password = {"username": admin.username, "password": admin.password}
    later = totp_code(admin.totp_secret, API_NOW + timedelta(seconds=30))
    earlier = totp_code(admin.totp_secret, API_NOW)
    assert client.post(TOKEN_URL, data=password | {"totp": later}).status_code == 200
    assert client.post(TOKEN_URL, data=password | {"totp": earlier}).status_code == 401


def test_parallel_sign_ins_with_one_code_let_one_in(api_engine: Engine) -> None:
    admin = create_user(
        api_engine, "admin.par", Role.ADMIN, now=API_NOW, actor="test", with_totp=True
    )
    assert admin.totp_secret is not None
    code = totp_code(admin.totp_secret, API_NOW)
    start = threading.Barrier(4)

    def sign_in(_: int) -> bool:
        start.wait()
        outcome = check_credentials(
            api_engine, admin.username, admin.password, code, "10.0.0.9", API_NOW,
            on_success=lambda tx, user: user,
        )  # fmt: skip
        return isinstance(outcome, StoredUser)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sorted(pool.map(sign_in, range(4))) == [False, False, False, True]

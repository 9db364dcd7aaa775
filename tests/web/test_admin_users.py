"""The admin's users page: list every account, lock and unlock one (signed out at
once, refused at sign-in while locked), reset a second factor (shown once); every
change audited; other roles get the 403 page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from isotrack.http.authz import Role
from isotrack.http.passwords import totp_code, verify_totp
from isotrack.store.models import AuditRow
from isotrack.store.users import user_transaction
from tests.web.conftest import WEB_NOW, SignIn, TestClient, csrf_token, page_client
from tests.web.demo_db import Account


def user_id(engine: Engine, username: str) -> str:
    with user_transaction(engine) as tx:
        user = tx.users.by_username(username)
    assert user is not None
    return user.id


def audited(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditRow.action)))


def try_sign_in(client: TestClient, account: Account) -> int:
    form = {"username": account.username, "password": account.password}
    if account.totp_secret is not None:
        form["totp"] = totp_code(account.totp_secret, WEB_NOW)
    form["csrf_token"] = csrf_token(client)
    return client.post("/login", data=form).status_code


def test_the_admin_lands_on_the_users_page_which_lists_every_account(sign_in: SignIn) -> None:
    admin = sign_in(Role.ADMIN)
    assert admin.get("/").headers["location"] == "/admin/users"
    page = admin.get("/admin/users")
    assert page.status_code == 200
    for role in Role:
        assert f"demo-{role}" in page.text
    assert "JBSWY" not in page.text
    assert "$argon2" not in page.text  # no secret on the page


def test_a_locked_user_is_signed_out_and_refused_until_unlocked(
    sign_in: SignIn, accounts: dict[Role, Account], web_engine: Engine
) -> None:
    admin = sign_in(Role.ADMIN)
    nurse = sign_in(Role.NURSE)
    assert nurse.get("/clinic").status_code == 200
    target = user_id(web_engine, "demo-nurse")
    token = csrf_token(admin, "/admin/users")

    locked = admin.post(f"/admin/users/{target}/lock", data={"csrf_token": token})
    assert locked.status_code == 303
    assert "locked" in admin.get("/admin/users").text
    assert nurse.get("/clinic").status_code == 303  # the session ended
    with page_client(admin.app) as fresh:
        assert try_sign_in(fresh, accounts[Role.NURSE]) == 401

    unlocked = admin.post(f"/admin/users/{target}/unlock", data={"csrf_token": token})
    assert unlocked.status_code == 303
    with page_client(admin.app) as fresh:
        assert try_sign_in(fresh, accounts[Role.NURSE]) == 303
    assert {"user:lock", "user:unlock"} <= set(audited(web_engine))


def test_an_admin_cannot_lock_their_own_account(sign_in: SignIn, web_engine: Engine) -> None:
    admin = sign_in(Role.ADMIN)
    own = user_id(web_engine, "demo-admin")
    response = admin.post(
        f"/admin/users/{own}/lock", data={"csrf_token": csrf_token(admin, "/admin/users")}
    )
    assert response.status_code == 303
    assert "cannot lock your own account" in admin.get("/admin/users").text
    assert admin.get("/admin/users").status_code == 200


def test_a_second_factor_reset_shows_the_new_secret_once(
    sign_in: SignIn, web_engine: Engine
) -> None:
    admin = sign_in(Role.ADMIN)
    pharmacist = sign_in(Role.PHARMACIST)
    target = user_id(web_engine, "demo-pharmacist")
    token = csrf_token(admin, "/admin/users")
    response = admin.post(f"/admin/users/{target}/totp", data={"csrf_token": token})
    assert response.status_code == 200
    match = re.search(r"otpauth://totp/[^<\s]*secret=([A-Z2-7]+)", response.text)
    assert match is not None
    secret = match.group(1)
    with user_transaction(web_engine) as tx:
        stored = tx.users.by_id(target)
    assert stored is not None
    assert stored.totp_secret == secret
    assert verify_totp(secret, totp_code(secret, WEB_NOW), WEB_NOW)
    assert secret not in admin.get("/admin/users").text  # shown once
    assert pharmacist.get("/pharmacy").status_code == 303  # signed out
    assert "user:totp-reset" in audited(web_engine)


@pytest.mark.parametrize("role", [Role.PRESCRIBER, Role.NURSE, Role.PHARMACIST, Role.PATIENT])
def test_only_admins_open_the_users_page(sign_in: SignIn, role: Role) -> None:
    assert sign_in(role).get("/admin/users").status_code == 403

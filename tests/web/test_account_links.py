"""Portal invitations and password resets through the pages, with the email read
from a real SMTP server (aiosmtpd) the test starts: one-time, expiring, stored as
digests, audited, and the same answer whether or not an account exists."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from isotrack.http.account_links import RESET_LIFETIME
from isotrack.http.authz import Role
from isotrack.http.deps import current_time
from isotrack.http.passwords import create_user
from isotrack.settings import Settings
from isotrack.store.models import AccountTokenRow, AuditRow
from isotrack.web.sessions import SESSION_COOKIE
from tests.smtp_server import SmtpServer, running_smtp_server
from tests.web.conftest import (
    UNTRIPPABLE_RATE,
    WEB_NOW,
    SignIn,
    TestClient,
    csrf_token,
    page_client,
)

PATIENT = "demo-ben"  # no portal account in the demo clinic
EMAIL = "ben.patient@example.org"
NEW_PASSWORD = "seven green apples on a tray"  # noqa: S105  # made up for the test


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def web_settings(web_engine: Engine, smtp: SmtpServer) -> Settings:
    return Settings(
        env="test",
        database_url=web_engine.url.render_as_string(hide_password=False),
        rate_limit_per_minute=UNTRIPPABLE_RATE,
        rate_limit_burst=UNTRIPPABLE_RATE,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_security="none",
        mail_from="clinic@example.org",
    )


def actions(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditRow.action).order_by(AuditRow.id)))


def path_of(link: str) -> str:
    return urlsplit(link).path


def invite(client: TestClient, email: str = EMAIL) -> str:
    path = f"/clinic/patients/{PATIENT}/invitation"
    response = client.post(path, data={"email": email, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 201, response.text
    assert 'id="invitation-link"' in response.text
    return response.text


def accept(client: TestClient, link: str, username: str = "ben.w") -> int:
    form = {
        "username": username,
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "csrf_token": csrf_token(client),  # the sign-in page's: a link may be gone
    }
    return client.post(path_of(link), data=form).status_code


def test_an_emailed_invitation_makes_the_patients_account_once(
    sign_in: SignIn, anonymous: TestClient, smtp: SmtpServer, web_engine: Engine
) -> None:
    page = invite(sign_in(Role.NURSE))
    message = smtp.wait_for(EMAIL)
    assert message["From"] == "clinic@example.org"
    link = smtp.link_in(message, "/invitation/")
    assert link in page  # the same link is shown to staff to hand over
    token = path_of(link).rsplit("/", 1)[1]
    with Session(web_engine) as session:
        stored = set(session.scalars(select(AccountTokenRow.id)))
    assert token not in stored  # only its digest is kept

    assert anonymous.get(path_of(link)).status_code == 200
    assert accept(anonymous, link) == 303
    assert SESSION_COOKIE in anonymous.cookies  # signed in straight away
    home = anonymous.get("/me")
    assert home.status_code == 200
    assert "Your account ben.w is ready" in home.text

    with page_client(anonymous.app) as other:
        assert other.get(path_of(link)).status_code == 410  # single use
        assert accept(other, link, "ben.again") == 410
    assert {"invitation:issue", "invitation:accept"} <= set(actions(web_engine))


def test_an_invitation_refuses_a_short_password_and_keeps_the_link_usable(
    sign_in: SignIn, anonymous: TestClient, smtp: SmtpServer
) -> None:
    invite(sign_in(Role.PRESCRIBER))
    link = smtp.link_in(smtp.wait_for(EMAIL), "/invitation/")
    form = {
        "username": "ben.w",
        "password": "short",
        "confirm": "short",
        "csrf_token": csrf_token(anonymous, path_of(link)),
    }
    response = anonymous.post(path_of(link), data=form)
    assert response.status_code == 422
    assert "at least 12 characters" in response.text
    assert accept(anonymous, link) == 303


def test_an_invitation_link_expires_and_a_new_one_withdraws_the_old(
    sign_in: SignIn, anonymous: TestClient, smtp: SmtpServer, web_app: FastAPI
) -> None:
    nurse = sign_in(Role.NURSE)
    invite(nurse)
    invite(nurse)
    first = smtp.link_in(smtp.wait_for(EMAIL, count=1), "/invitation/")
    second = smtp.link_in(smtp.wait_for(EMAIL, count=2), "/invitation/")
    assert anonymous.get(path_of(first)).status_code == 410
    assert anonymous.get(path_of(second)).status_code == 200
    web_app.dependency_overrides[current_time] = lambda: WEB_NOW + timedelta(days=8)
    assert anonymous.get(path_of(second)).status_code == 410


def test_a_patient_with_an_account_is_not_invited_again(sign_in: SignIn) -> None:
    nurse = sign_in(Role.NURSE)
    path = "/clinic/patients/demo-ana/invitation"  # demo-patient holds her record
    response = nurse.post(path, data={"email": "", "csrf_token": csrf_token(nurse, path)})
    assert response.status_code == 409
    assert "portal account already" in response.text


def test_a_password_reset_by_email_changes_the_password_and_ends_every_session(
    sign_in: SignIn, anonymous: TestClient, smtp: SmtpServer, web_engine: Engine
) -> None:
    created = create_user(
        web_engine, "kim.nurse", "nurse", now=WEB_NOW, actor="test",
        password="the-old-password-1", email="kim@example.org",  # noqa: S106  # made up
    )  # fmt: skip
    with page_client(anonymous.app) as elsewhere:
        form = {"username": "kim.nurse", "password": created.password}
        elsewhere.post("/login", data=form | {"csrf_token": csrf_token(elsewhere)})
        assert elsewhere.get("/clinic").status_code == 200

        form = {"identifier": "KIM@example.org", "csrf_token": csrf_token(anonymous)}
        answer = anonymous.post("/password/forgot", data=form)
        assert answer.status_code == 200
        assert "If an account with an email address matches" in answer.text
        link = smtp.link_in(smtp.wait_for("kim@example.org"), "/password/reset/")

        mismatch = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"}
        mismatch["csrf_token"] = csrf_token(anonymous, path_of(link))
        assert anonymous.post(path_of(link), data=mismatch).status_code == 422
        form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        form["csrf_token"] = csrf_token(anonymous, path_of(link))
        done = anonymous.post(path_of(link), data=form)
        assert done.status_code == 303
        assert done.headers["location"] == "/login"
        assert elsewhere.get("/clinic").status_code == 303  # signed out everywhere
    assert anonymous.get(path_of(link)).status_code == 410  # single use

    old = {"username": "kim.nurse", "password": "the-old-password-1"}
    assert anonymous.post("/login", data=old | {"csrf_token": csrf_token(anonymous)}).status_code
    new = {"username": "kim.nurse", "password": NEW_PASSWORD}
    response = anonymous.post("/login", data=new | {"csrf_token": csrf_token(anonymous)})
    assert response.status_code == 303
    assert {"password-reset:request", "password-reset:done"} <= set(actions(web_engine))


def test_a_reset_link_expires_after_an_hour(
    anonymous: TestClient, smtp: SmtpServer, web_engine: Engine, web_app: FastAPI
) -> None:
    create_user(web_engine, "lee", "pharmacist", now=WEB_NOW, actor="test", email="lee@example.org")
    form = {"identifier": "lee", "csrf_token": csrf_token(anonymous)}
    anonymous.post("/password/forgot", data=form)
    link = smtp.link_in(smtp.wait_for("lee@example.org"), "/password/reset/")
    web_app.dependency_overrides[current_time] = lambda: WEB_NOW + RESET_LIFETIME
    assert anonymous.get(path_of(link)).status_code == 410


@pytest.mark.parametrize("identifier", ["nobody-here", "nobody@example.org", "demo-nurse"])
def test_the_reset_answer_does_not_tell_who_has_an_account(
    anonymous: TestClient, smtp: SmtpServer, web_engine: Engine, identifier: str
) -> None:
    """An unknown name, an unknown address and an account without email all get the
    same page; no email goes out; the audit trail says what happened."""
    form = {"identifier": identifier, "csrf_token": csrf_token(anonymous)}
    answer = anonymous.post("/password/forgot", data=form)
    known = {"identifier": "x", "csrf_token": csrf_token(anonymous)}
    reference = anonymous.post("/password/forgot", data=known)
    assert answer.status_code == reference.status_code == 200
    assert answer.text.replace(identifier, "x") == reference.text
    assert smtp.messages == []
    with Session(web_engine) as session:
        rows = session.scalars(
            select(AuditRow.detail).where(AuditRow.action == "password-reset:request")
        ).all()
    assert any(identifier in row for row in rows)

"""Browser tests of the whole path (issue 13, point 7): a new patient from enrolment
to a first dispense with no command line; a forgotten password reset by email; the
admin locking and unlocking an account. The emails are read from the real SMTP
server the live server sends to. axe-core on every new page; screenshots
``visit-phq9``, ``visit-questions``, ``portal-invitation``, ``invitation-accept``,
``password-forgot``, ``password-reset`` and ``admin-users``."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from isotrack.http.authz import Role
from isotrack.http.passwords import create_user
from isotrack.knowledge import default_knowledge
from isotrack.store import create_engine_for
from isotrack.web.routes.patient_view import PHQ9_ANSWERS, PHQ9_QUESTIONS
from tests.e2e.conftest import (
    LiveServer,
    assert_accessible,
    assert_visible,
    login,
    logout,
    screenshot,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.e2e

PASSWORD = "a calm river under seven bridges"  # noqa: S105  # made up for the test


def path_of(link: str) -> str:
    return urlsplit(link).path


def enrol(page: Page, name: str) -> str:
    """Enrol a man of 26 with counselling; the new patient's id."""
    page.goto("/clinic")
    with page.expect_navigation():
        page.get_by_role("link", name="Enrol a new patient").click()
    page.fill("#field-name", name)
    page.fill("#field-birth_date", "2000-04-05")
    page.select_option("#field-sex", "male")
    page.check("#field-counselled")
    with page.expect_navigation():
        page.get_by_role("button", name="Enrol").click()
    assert page.get_by_role("heading", level=1).inner_text() == name
    match = re.search(r"/clinic/patients/([^/?#]+)$", page.url)
    assert match is not None, page.url
    return match.group(1)


def record_form(page: Page, summary: str, fields: dict[str, str], button: str) -> None:
    page.locator("details.record-form > summary", has_text=re.compile(f"^{summary}$")).click()
    for selector, value in fields.items():
        if selector.endswith("analyte"):
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def give_phq9(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("link", name="Give the PHQ-9 now").click()
    assert_accessible(page, context="PHQ-9 at the visit")
    for number, question in enumerate(PHQ9_QUESTIONS, 1):
        group = page.get_by_role("group", name=f"{number}. {question}")
        group.get_by_label(PHQ9_ANSWERS[0], exact=True).check()
    screenshot(page, "visit-phq9")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the answers").click()
    assert_visible(page.get_by_text("PHQ-9 recorded (given in clinic): total 0."))


def ask_questions(page: Page) -> None:
    kb = default_knowledge()
    with page.expect_navigation():
        page.get_by_role("link", name="Ask the comprehension questions").click()
    assert_accessible(page, context="comprehension questions at the visit")
    bank = [
        question
        for programme in ("us-ipledge-2024", "eu-ppp-2018")
        for question in kb.questions(programme)
        if page.locator(f'input[name="answer-{question.id}"]').count()
    ]
    assert bank, "the page asks the programme's questions"
    for question in bank:
        page.locator(f'input[id="answer-{question.id}-{question.correct}"]').check()
    screenshot(page, "visit-questions")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the answers").click()
    assert_visible(page.get_by_text(f"All {len(bank)} answers are right."))
    assert_visible(page.get_by_text("given in clinic by demo-prescriber"))
    assert_accessible(page, context="comprehension answers")


def invite(page: Page, live_server: LiveServer, patient_id: str, email: str) -> str:
    page.goto(f"/clinic/patients/{patient_id}")
    with page.expect_navigation():
        page.get_by_role("link", name="Invite to the patient portal").click()
    assert_accessible(page, context="invitation form")
    page.get_by_label("Patient's email address").fill(email)
    with page.expect_navigation():
        page.get_by_role("button", name="Create the invitation link").click()
    shown = page.locator("#invitation-link").inner_text()
    assert_visible(page.get_by_text(f"It was emailed to {email}."))
    assert_accessible(page, context="invitation link")
    screenshot(page, "portal-invitation")
    emailed = live_server.smtp.link_in(live_server.smtp.wait_for(email), "/invitation/")
    assert emailed == shown
    return emailed


def test_a_new_patient_goes_from_enrolment_to_a_first_dispense_in_the_browser(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    name = f"Omar Test {secrets.token_hex(2)}"
    email = f"omar.{secrets.token_hex(3)}@example.org"
    login(page, live_server, Role.PRESCRIBER)
    patient_id = enrol(page, name)
    record_form(page, "Weight", {"#weight-value": "72"}, "Save weight")
    record_form(page, "Lab result", {"#lab-analyte": "triglycerides", "#lab-value": "110"},
                "Save lab result")  # fmt: skip
    record_form(page, "Lab result", {"#lab-analyte": "alt", "#lab-value": "24"},
                "Save lab result")  # fmt: skip
    give_phq9(page)
    ask_questions(page)
    link = invite(page, live_server, patient_id, email)

    # The patient accepts the invitation in their own browser.
    patient_context = browser.new_context(base_url=live_server.url)
    patient = patient_context.new_page()
    try:
        patient.goto(path_of(link))
        assert_accessible(patient, context="invitation acceptance")
        screenshot(patient, "invitation-accept")
        patient.get_by_label("Username").fill(f"omar-{secrets.token_hex(2)}")
        patient.locator("#field-password").fill(PASSWORD)
        patient.get_by_label("The same password again").fill(PASSWORD)
        with patient.expect_navigation():
            patient.get_by_role("button", name="Create my account").click()
        assert urlsplit(patient.url).path == "/me"
        assert_visible(patient.get_by_text("is ready. Welcome."))
        assert_visible(patient.get_by_role("heading", name="Hello, Omar"))
        patient.goto(path_of(link))
        assert_visible(patient.get_by_role("heading", name="This link no longer works"))
    finally:
        patient_context.close()

    # The prescriber plans and prescribes; the pharmacist authorises and dispenses.
    page.goto(f"/clinic/patients/{patient_id}")
    with page.expect_navigation():
        page.get_by_role("link", name="Plan and prescribe").click()
    page.select_option("#field-product", "absorica")
    with page.expect_navigation():
        page.get_by_role("button", name="Plan the dose").click()
    assert page.locator("article.finding--critical").count() == 0, page.locator(
        "#screening"
    ).inner_text()
    for warning in page.locator("article.finding--warning").all():
        warning.get_by_label("Already addressed", exact=False).check()
    page.locator("details.confirm > summary", has_text="Prescribe").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, prescribe").click()
    assert_visible(page.get_by_text(re.compile(r"Prescription rx-[0-9a-f]+ stored")))
    logout(page)

    login(page, live_server, Role.PHARMACIST)
    page.get_by_label("Patient name, record number or authorisation id").fill(name)
    page.get_by_role("button", name="Look up").click()
    page.get_by_role("link", name=name).click()
    verdict = page.locator("#verdict")
    assert "every requirement is met" in verdict.inner_text(), verdict.inner_text()
    page.get_by_text("Create the authorisation", exact=True).click()
    page.get_by_role("button", name="Yes, create it").click()
    page.wait_for_url(re.compile(rf"/pharmacy/patients/{patient_id}$"))
    allowed = re.search(r"dispense up to (\d+) capsules", verdict.inner_text())
    assert allowed is not None, verdict.inner_text()
    page.get_by_label("Capsules handed out").fill(allowed.group(1))
    page.get_by_text("Record the dispense", exact=True).click()
    page.get_by_role("button", name="Yes, record it").click()
    page.wait_for_url(re.compile(rf"/pharmacy/patients/{patient_id}$"))
    assert_visible(page.get_by_text(f"Dispense recorded: {allowed.group(1)} capsules"))


def test_a_forgotten_password_is_reset_from_an_emailed_link(
    page: Page, live_server: LiveServer
) -> None:
    username = f"nurse-{secrets.token_hex(3)}"
    email = f"{username}@example.org"
    engine = create_engine_for(live_server.database_url)
    try:
        create_user(engine, username, "nurse", now=datetime.now(UTC), actor="e2e", email=email)
    finally:
        engine.dispose()

    page.goto("/login")
    with page.expect_navigation():
        page.get_by_role("link", name="Forgot your password?").click()
    assert_accessible(page, context="forgotten password")
    screenshot(page, "password-forgot")
    page.get_by_label("Username or email address").fill(email)
    with page.expect_navigation():
        page.get_by_role("button", name="Email me a link").click()
    assert_visible(page.get_by_text("If an account with an email address matches"))

    link = live_server.smtp.link_in(live_server.smtp.wait_for(email), "/password/reset/")
    page.goto(path_of(link))
    assert_accessible(page, context="choose a new password")
    screenshot(page, "password-reset")
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("The same password again").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Change my password").click()
    assert_visible(page.get_by_text("Your password is changed."))

    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert urlsplit(page.url).path == "/clinic"


def test_the_admin_locks_and_unlocks_an_account(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    username = f"locked-{secrets.token_hex(3)}"
    engine = create_engine_for(live_server.database_url)
    try:
        created = create_user(engine, username, "pharmacist", now=datetime.now(UTC), actor="e2e")
    finally:
        engine.dispose()

    login(page, live_server, Role.ADMIN)
    assert urlsplit(page.url).path == "/admin/users"
    row = page.locator("#users tbody tr", has=page.get_by_role("rowheader", name=username))
    assert "active" in row.inner_text().lower()
    assert_accessible(page, context="users page")
    screenshot(page, "admin-users")
    row.get_by_text(f"Lock {username}", exact=True).click()
    with page.expect_navigation():
        row.get_by_role("button", name="Yes, lock").click()
    assert_visible(page.get_by_text(f"{username} is locked"))
    assert "locked" in row.inner_text().lower()
    assert_accessible(page, context="users page after a lock")

    other = browser.new_context(base_url=live_server.url)
    try:
        them = other.new_page()
        them.goto("/login")
        them.get_by_label("Username").fill(username)
        them.get_by_label("Password").fill(created.password)
        with them.expect_navigation():
            them.get_by_role("button", name="Sign in").click()
        assert "/login" in them.url  # refused while locked

        with page.expect_navigation():
            row.get_by_role("button", name=f"Unlock {username}").click()
        assert_visible(page.get_by_text(f"{username} is unlocked"))

        them.get_by_label("Username").fill(username)
        them.get_by_label("Password").fill(created.password)
        with them.expect_navigation():
            them.get_by_role("button", name="Sign in").click()
        assert urlsplit(them.url).path == "/pharmacy"
    finally:
        other.close()

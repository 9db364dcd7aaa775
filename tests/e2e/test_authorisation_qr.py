"""Browser test of the authorisation a patient carries to the pharmacy (issue 15):
the prescriber authorises on the clinic's patient page (a confirmation step) and
opens the printable card; the patient's home page shows the same card with a QR
code; the QR code is
decoded from the screenshot (OpenCV) and verified offline with the public keys
fetched from /.well-known/jwks.json, by the function ``isotrack ppp verify``
uses; the pharmacist pastes the code, compares name and date of birth, and records
the dispense; a second attempt is refused saying when and by whom; the card is gone
once used; axe-core on each page. Screenshots ``prescriber-authorise.png``,
``patient-authorisation.png`` and ``pharmacist-scan.png``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import httpx
import numpy as np
import pytest

from isotrack.cli.ppp_keys_cmd import offline_check
from isotrack.clinical.state.commands import (
    AnyCommand,
    EnrolPatient,
    Prescribe,
    RecordCounselling,
    RecordWeight,
    StartCourse,
)
from isotrack.http.authz import Role
from isotrack.http.passwords import create_user
from isotrack.knowledge import default_knowledge
from isotrack.store import create_engine_for, execute
from tests.e2e.conftest import SCREENSHOTS, LiveServer, assert_accessible, login, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

PATIENT = "e2e-qr-sam"
WAITING = "e2e-qr-ria"
"""A patient with a course but no prescription yet: nothing to authorise."""
PATIENT_LOGIN = "sam.qr"
PATIENT_PASSWORD = "sam-qr-test-passphrase-42"  # noqa: S105  # a test account's password


def server_now() -> datetime:
    return datetime.now(UTC).astimezone()


def story(today: date) -> list[AnyCommand]:
    """Sam cannot get pregnant: counselled at enrolment, prescribed today."""
    return [
        EnrolPatient(
            on=today, patient_id=PATIENT, name="Sam Quinlan", birth_date=date(1997, 11, 23),
            sex="male",
        ),
        RecordCounselling(on=today, topic="enrolment"),
        RecordWeight(on=today, value=70),
        StartCourse(on=today, course_id="c1", product="conventional"),
        Prescribe(
            on=today, prescription_id="rx1", dose_mg=35, times_per_day=2, strength_mg=35,
            quantity=60, supply_days=30,
        ),
    ]  # fmt: skip


def waiting_story(today: date) -> list[AnyCommand]:
    """Ria: enrolled, counselled, a course started, not prescribed yet."""
    return [
        EnrolPatient(
            on=today, patient_id=WAITING, name="Ria Waite", birth_date=date(1999, 2, 14),
            sex="male",
        ),
        RecordCounselling(on=today, topic="enrolment"),
        RecordWeight(on=today, value=64),
        StartCourse(on=today, course_id="c1", product="conventional"),
    ]  # fmt: skip


def set_up(live_server: LiveServer) -> None:
    kb = default_knowledge()
    engine = create_engine_for(live_server.database_url)
    try:
        now = server_now()
        prescriber = live_server.account(Role.PRESCRIBER).username
        for command in story(now.date()):
            execute(engine, PATIENT, command, actor=prescriber, now=now, kb=kb)
        for command in waiting_story(now.date()):
            execute(engine, WAITING, command, actor=prescriber, now=now, kb=kb)
        create_user(
            engine, PATIENT_LOGIN, "patient", now=now, actor="e2e-setup", patient_id=PATIENT,
            password=PATIENT_PASSWORD,
        )  # fmt: skip
    finally:
        engine.dispose()


def prescriber_authorises(page: Page, live_server: LiveServer) -> str:
    """The prescriber authorises on the patient page, after confirming; the new id. The
    printable card opens from the page, and its QR code decodes."""
    from playwright.sync_api import expect

    login(page, live_server, Role.PRESCRIBER)
    page.goto(f"/clinic/patients/{WAITING}")  # no prescription: what is missing, no button
    waiting = page.locator("#authorise")
    expect(waiting).to_contain_text("A dispense cannot be authorised today. What is missing:")
    expect(waiting).to_contain_text("Not met: a prescription")
    expect(waiting.get_by_text("Authorise a dispense", exact=True)).to_have_count(0)
    assert_accessible(page, context="clinic patient page, nothing to authorise")

    page.goto(f"/clinic/patients/{PATIENT}")
    section = page.locator("#authorise")
    expect(section).to_contain_text("Every requirement of the programme is met today")
    section.get_by_text("Authorise a dispense", exact=True).click()  # opens the confirmation
    assert_accessible(page, context="clinic patient page, authorise confirmation")
    section.screenshot(path=str(SCREENSHOTS / "prescriber-authorise.png"), animations="disabled")
    with page.expect_navigation():
        section.get_by_role("button", name="Yes, authorise it").click()
    flashed = page.locator(".flashes")
    expect(flashed).to_contain_text("created: up to 60 capsules of prescription rx1")
    found = re.search(r"Authorisation (PA-[A-Z0-9]+) created", flashed.inner_text())
    assert found is not None
    issued = found.group(1)
    expect(section).to_contain_text(f"Authorisation {issued} is in force")
    assert_accessible(page, context="clinic patient page, authorised")

    page.get_by_role("link", name="Print the authorisation for the patient").click()
    card = page.locator("section.authorisation-card")
    expect(card).to_contain_text("Sam Quinlan")
    expect(card).to_contain_text(issued)
    assert_accessible(page, context="clinic printable authorisation")
    assert decode_qr(card.locator("svg").screenshot(animations="disabled")).startswith("eyJ")
    page.emulate_media(media="print")  # the print stylesheet keeps the card alone
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".breadcrumb")).to_be_hidden()
    expect(card.locator("svg")).to_be_visible()
    page.emulate_media(media="screen")
    page.context.clear_cookies()
    return issued


def decode_qr(png: bytes) -> str:
    import cv2  # OpenCV from PyPI (opencv-python-headless): a real QR decoder

    image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    # The ArUco-based detector: the classic one misses codes above version ~10
    text, points, _ = cv2.QRCodeDetectorAruco().detectAndDecode(image)
    assert points is not None, "no QR code found in the screenshot"
    return str(text)


def sign_in_as_patient(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(PATIENT_LOGIN)
    page.get_by_label("Password").fill(PATIENT_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_the_patient_carries_a_qr_code_that_verifies_offline_and_is_dispensed_once(
    page: Page, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    set_up(live_server)
    issued = prescriber_authorises(page, live_server)

    # The patient's home page: the printable authorisation with its QR code.
    sign_in_as_patient(page)
    card = page.locator("section.authorisation-card")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Sam Quinlan")
    expect(card).to_contain_text("23 November 1997")
    expect(card).to_contain_text("60 capsules of 35 mg")
    expect(card).to_contain_text(issued)
    assert_accessible(page, context="patient home with the authorisation")
    screenshot(page, "patient-authorisation")
    token = decode_qr(card.locator("svg").screenshot(animations="disabled"))
    assert token.startswith("eyJ")
    page.emulate_media(media="print")  # the print stylesheet keeps the card alone
    expect(page.locator(".site-header")).to_be_hidden()
    expect(card.locator("svg")).to_be_visible()
    page.emulate_media(media="screen")

    # Offline: the public keys, fetched once, and the CLI's own check.
    jwks = httpx.get(f"{live_server.url}/.well-known/jwks.json")
    assert jwks.status_code == 200
    offline = offline_check(token, jwks.text)
    assert (offline.id, offline.patient_name, offline.birth_date) == (
        issued,
        "Sam Quinlan",
        date(1997, 11, 23),
    )
    assert offline.capsules == ((35.0, 60),)
    assert offline.prescriber == live_server.account(Role.PRESCRIBER).username

    # The pharmacist pastes the code, compares, records the dispense.
    page.context.clear_cookies()
    login(page, live_server, Role.PHARMACIST)
    page.goto("/pharmacy/scan")
    assert_accessible(page, context="pharmacy scan, empty")
    page.get_by_label("The code (starts with eyJ)").fill(token)
    page.get_by_role("button", name="Check the code").click()
    verified = page.locator("#verified")
    expect(verified).to_contain_text(f"Signature valid: authorisation {issued}")
    expect(verified).to_contain_text("Sam Quinlan")
    expect(verified).to_contain_text("23 November 1997")
    assert_accessible(page, context="pharmacy scan, verified")
    screenshot(page, "pharmacist-scan")
    page.get_by_role("button", name=re.compile("^Record the dispense")).click()
    expect(page.locator("#field-checked-error")).to_be_visible()  # nothing pre-ticked
    page.get_by_label("I checked the name and date of birth against the person present").check()
    page.get_by_role("button", name=re.compile("^Record the dispense")).click()
    page.wait_for_url(re.compile(rf"/pharmacy/patients/{PATIENT}$"))
    expect(page.get_by_role("status").first).to_contain_text(
        f"Dispense recorded under authorisation {issued}: 60 capsules of 35 mg"
    )

    # A second attempt with the same code is refused, saying when and by whom.
    page.goto("/pharmacy/scan")
    page.get_by_label("The code (starts with eyJ)").fill(token)
    page.get_by_role("button", name="Check the code").click()
    expect(verified).to_contain_text("Already dispensed: do not dispense again")
    pharmacist = live_server.account(Role.PHARMACIST).username
    expect(verified).to_contain_text(f"(60 capsules, by {pharmacist})")
    expect(page.get_by_role("button", name=re.compile("^Record the dispense"))).to_have_count(0)
    assert_accessible(page, context="pharmacy scan, already dispensed")

    # The patient's page no longer offers a used authorisation.
    page.context.clear_cookies()
    sign_in_as_patient(page)
    expect(page.locator("section.authorisation-card")).to_have_count(0)

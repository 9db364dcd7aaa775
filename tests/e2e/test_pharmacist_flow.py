"""Browser test of the pharmacist's main task: a dispense refused without a
pregnancy test in the window, then authorised and recorded once the test (and
the prescription it qualifies) are in the record; axe-core on each page; the
screenshot ``pharmacist-check.png``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest

from isotrack.clinical.state.commands import (
    AnyCommand,
    RecordComprehensionAnswers,
    RecordPregnancyTest,
)
from isotrack.http.authz import Role
from isotrack.knowledge import default_knowledge
from isotrack.store import create_engine_for, execute
from tests.e2e.conftest import LiveServer, assert_accessible, assert_visible, login, screenshot
from tests.web.test_pharmacy_view import answers, lapsed_window_story, prescribe

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

PATIENT = "e2e-pia"


def server_now() -> datetime:
    """The server's clock and zone (it runs on this machine, from this environment)."""
    return datetime.now(UTC).astimezone()


def record(live_server: LiveServer, *commands: AnyCommand) -> None:
    """Store commands as the clinic would have (each on its clinical date)."""
    kb = default_knowledge()
    engine = create_engine_for(live_server.database_url)
    try:
        now = server_now()
        for command in commands:
            at = datetime.combine(command.on, now.timetz())
            execute(engine, PATIENT, command, actor="e2e-setup", now=at, kb=kb)
    finally:
        engine.dispose()


def test_pharmacist_refuses_without_a_test_in_the_window_then_authorises_and_dispenses(
    page: Page, live_server: LiveServer
) -> None:
    kb = default_knowledge()
    today: date = server_now().date()
    record(live_server, *lapsed_window_story(kb, today, PATIENT))

    login(page, live_server, Role.PHARMACIST)
    assert_accessible(page, context="pharmacy search, empty")
    page.get_by_label("Patient name, record number or authorisation id").fill("Lund")
    page.get_by_role("button", name="Look up").click()
    page.get_by_role("link", name="Pia Lund").click()

    verdict = page.locator("#verdict")
    assert "No: do not dispense today" in verdict.inner_text()
    why = page.get_by_role("list", name="Unmet requirements").inner_text()
    assert "a new negative pregnancy test and a new prescription" in why
    assert page.get_by_text("Create the authorisation", exact=True).count() == 0
    assert_accessible(page, context="pharmacy check, refused")
    screenshot(page, "pharmacist-check")

    # The clinic records today's negative test, the month's answers and a new prescription.
    record(
        live_server,
        RecordPregnancyTest(on=today, result="negative"),
        RecordComprehensionAnswers(on=today, answers=answers(kb)),
        prescribe(0, "rx3", today),
    )
    page.reload()
    assert "every requirement is met" in verdict.inner_text()
    page.get_by_text("Create the authorisation", exact=True).click()  # opens the confirmation step
    assert_accessible(page, context="pharmacy check, confirming the authorisation")
    page.get_by_role("button", name="Yes, create it").click()
    page.wait_for_url(re.compile(rf"/pharmacy/patients/{PATIENT}$"))
    created = page.get_by_role("status").first.inner_text()
    assert re.search(r"Authorisation PA-[A-Z0-9]{10} created: up to 60 capsules", created)
    assert "Yes: dispense up to 60 capsules" in verdict.inner_text()

    page.get_by_label("Capsules handed out").fill("60")
    page.get_by_text("Record the dispense", exact=True).click()
    page.get_by_role("button", name="Yes, record it").click()
    page.wait_for_url(re.compile(rf"/pharmacy/patients/{PATIENT}$"))
    assert_visible(page.get_by_text("Dispense recorded: 60 capsules of prescription rx3"))
    assert "No: do not dispense today" in verdict.inner_text()
    assert_accessible(page, context="pharmacy check, after the dispense")


def test_an_authorisation_id_from_the_patient_opens_the_check(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.PHARMACIST)
    page.get_by_label("Patient name, record number or authorisation id").fill("demo-kara-rx2-pa")
    page.get_by_role("button", name="Look up").click()
    assert_visible(page.get_by_role("heading", name="Authorisation demo-kara-rx2-pa"))
    assert "Kara Singh" in page.get_by_role("heading", level=1).inner_text()

"""Browser test of reminder choices (the demo patient is Ana Moreau): nothing ticked
at first; text messages with a mistyped number get the error summary and keep what
was typed; a good number saves; stopping all reminders says the page still shows
every iPLEDGE step; a nurse sees the choice on the clinic page. axe-core on each
page; a screenshot of the patient's page (``reminders-patient.png``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from isotrack.http.authz import Role
from tests.e2e.conftest import LiveServer, assert_accessible, login, logout, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e


def test_the_patient_chooses_text_messages_then_stops_all_reminders(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.PATIENT)
    page.get_by_role("link", name="Choose my reminders").click()
    page.wait_for_url("**/me/reminders")
    assert page.get_by_role("heading", name="Reminders", exact=True).is_visible()
    for box in ("By email", "By text message", "Stop all reminders"):
        assert not page.get_by_label(box).is_checked()
    assert_accessible(page, context="reminder choices, nothing chosen yet")

    page.get_by_label("By text message").check()
    page.get_by_label("Your mobile number, for text messages").fill("555-0123")
    page.get_by_role("button", name="Save my choices").click()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert "international form" in summary.inner_text()
    assert page.get_by_label("Your mobile number, for text messages").input_value() == "555-0123"
    assert page.get_by_label("By text message").is_checked()
    assert_accessible(page, context="reminder choices with a refused number")

    page.get_by_label("Your mobile number, for text messages").fill("+1 555 555 0123")
    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_url("**/me/reminders")
    assert page.get_by_text("Your reminder choices are saved.").is_visible()
    assert "text message to +15555550123" in page.locator("#reminders-now").inner_text()
    assert page.get_by_label("By text message").is_checked()
    screenshot(page, "reminders-patient")

    page.get_by_label("Stop all reminders").check()
    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_url("**/me/reminders")
    assert "You stopped all reminders" in page.locator("#reminders-now").inner_text()
    assert page.get_by_text("still shows every iPLEDGE step").is_visible()
    assert_accessible(page, context="reminder choices after opting out")
    page.goto(f"{live_server.url}/me")
    assert page.get_by_role("heading", name="Coming up").is_visible()  # the duties stay

    logout(page)
    login(page, live_server, Role.NURSE)
    page.goto(f"{live_server.url}/clinic/patients/demo-ana")
    page.get_by_role("link", name="Reminders and guardian").click()
    page.wait_for_url("**/clinic/patients/demo-ana/reminders")
    assert page.locator("#reminders-choice").inner_text() == "stopped all reminders"
    assert_accessible(page, context="the clinic's reminders page of an adult")

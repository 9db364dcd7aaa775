"""Browser tests of the subscribed calendar (the demo patient is Ana Moreau): the
patient makes the link on their page, the link serves a valid calendar with neutral
titles, stopping it makes it a 404; staff see and make it from the patient page.
Screenshots of the two new pages (``calendar-link-patient.png``,
``calendar-link-staff.png``); axe-core on each page."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from icalendar import Calendar

from isotrack.http.authz import Role
from isotrack.ical import NEUTRAL_TITLES
from tests.e2e.conftest import LiveServer, assert_accessible, assert_visible, login, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

ANA = "demo-ana"


def test_the_patient_makes_the_link_and_it_serves_a_valid_calendar(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.PATIENT)
    section = page.get_by_role("region", name="Keep my calendar up to date")
    assert_visible(section)
    assert_accessible(page, context="patient home with the calendar link section")
    page.get_by_role("button", name="Make my calendar link").click()
    page.wait_for_url("**/me/calendar-feed")
    assert_visible(page.get_by_role("heading", name="Your calendar link is ready"))
    subscribe = page.get_by_role("link", name="Subscribe in my calendar app")
    assert (subscribe.get_attribute("href") or "").startswith("webcal://")
    assert_accessible(page, context="the new calendar link")
    screenshot(page, "calendar-link-patient")

    url = page.locator("#calendar-link").inner_text().strip()
    feed = page.request.get(url)
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.body())
    summaries = {str(e["SUMMARY"]).removeprefix("Overdue: ") for e in calendar.walk("VEVENT")}
    assert summaries
    assert summaries <= set(NEUTRAL_TITLES.values())

    page.goto(f"{live_server.url}/me")
    page.get_by_role("button", name="Stop my calendar link").click()
    page.wait_for_url("**/me")
    assert_visible(page.get_by_text("Your calendar link is stopped."))
    assert page.request.get(url).status == 404


def test_staff_see_and_make_the_link_from_the_patient_page(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.NURSE)
    page.goto(f"{live_server.url}/clinic/patients/{ANA}")
    page.get_by_role("link", name="Calendar link").click()
    page.wait_for_url(f"**/clinic/patients/{ANA}/calendar-feed")
    assert_accessible(page, context="staff calendar link page")
    page.get_by_role("button", name="Make a calendar link").click()
    link = page.locator("#calendar-link")
    assert_visible(link)
    assert_accessible(page, context="staff calendar link made")
    screenshot(page, "calendar-link-staff")
    assert page.request.get(link.inner_text().strip()).status == 200
    page.get_by_role("button", name="Stop the calendar link").click()
    assert_visible(page.get_by_text("has no calendar link"))

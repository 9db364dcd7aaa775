"""Browser test of issue 13 point 3, as the clinic would live it: a patient reports
a "stop and call today" symptom; their home page leads with the stop instruction
and the clinic's numbers and shows no daily dose; a prescriber sees the report in
the navigation's count and on the worklist, acknowledges it, then resolves it with
a note; the patient's dose comes back. axe-core on each page; screenshots
``worklist.png``, ``patient-home-stop.png`` and ``patient-home-stop-390.png``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from isotrack.http.authz import Role
from isotrack.knowledge import default_knowledge
from isotrack.store import ClinicSettings, create_engine_for, save_clinic_settings
from tests.e2e.conftest import (
    LiveServer,
    assert_accessible,
    assert_visible,
    login,
    logout,
    screenshot,
)
from tests.e2e.fresh_patients import DOSE, fresh_patient

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

PHONE = 390
NAME = "Noah Petit"


def sign_in_as(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/login" not in page.url


def worklist_count(page: Page) -> int:
    text = page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("Worklist")
    )
    match = re.search(r"(\d+)", text.inner_text())
    assert match is not None
    return int(match.group(1))


def test_a_stop_report_reaches_the_clinic_and_is_resolved_with_a_note(
    page: Page, live_server: LiveServer
) -> None:
    kb = default_knowledge()
    username, password = fresh_patient(live_server.database_url, "e2e-noah", NAME)
    engine = create_engine_for(live_server.database_url)
    settings = ClinicSettings("Riverside Skin Clinic", "+1 555 0142", "+1 555 0143", "US")
    save_clinic_settings(engine, settings, actor="e2e", now=datetime.now(UTC))
    engine.dispose()

    login(page, live_server, Role.PRESCRIBER)
    before = worklist_count(page)
    logout(page)

    sign_in_as(page, username, password)
    assert_visible(page.get_by_text(DOSE))
    page.get_by_role("link", name="Report a side effect").click()
    page.get_by_label(kb.symptom("severe-headache").text).check()
    page.get_by_role("button", name="Send and see what to do").click()
    page.wait_for_url("**/me/symptoms/advice")
    assert_visible(page.get_by_role("alert"))
    assert_visible(page.get_by_role("link", name="+1 555 0142"))
    assert_accessible(page, context="advice after a stop symptom")

    page.goto("/me")
    first = page.locator("main h1").first
    assert first.inner_text() == "Stop taking isotretinoin and call your clinic today"
    assert_visible(page.get_by_role("link", name="+1 555 0142"))
    assert_visible(page.get_by_role("link", name="+1 555 0143"))
    assert_visible(page.get_by_text("988 Suicide & Crisis Lifeline"))
    assert page.get_by_text(DOSE).count() == 0
    assert_accessible(page, context="patient home after a stop report")
    screenshot(page, "patient-home-stop")
    page.set_viewport_size({"width": PHONE, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
    assert_accessible(page, context="patient home after a stop report, 390 px")
    screenshot(page, "patient-home-stop-390", width=PHONE)
    page.set_viewport_size({"width": 1280, "height": 800})
    logout(page)

    login(page, live_server, Role.PRESCRIBER)
    assert worklist_count(page) == before + 1
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("Worklist")
    ).click()
    page.wait_for_url("**/clinic/worklist")
    item = page.locator("ol.worklist > li", has_text=NAME)
    assert "Told to stop and call today" in item.inner_text()
    assert "not yet acknowledged" in item.inner_text()
    assert_accessible(page, context="the worklist")
    screenshot(page, "worklist")

    item.get_by_role("button", name=re.compile("^Acknowledge")).click()
    page.wait_for_url("**/clinic/worklist")
    item = page.locator("ol.worklist > li", has_text=NAME)
    assert "acknowledged on" in item.inner_text()

    item.get_by_role("button", name=re.compile("^Resolve")).click()  # no note: refused
    summary = page.locator(".error-summary")
    assert_visible(summary)
    assert "say how the item was dealt with" in summary.inner_text()
    assert_accessible(page, context="the worklist with an error")
    item = page.locator("ol.worklist > li", has_text=NAME)
    item.get_by_label("How it was dealt with").fill("Called: headache gone, eyes fine; restart")
    item.get_by_role("button", name=re.compile("^Resolve")).click()
    page.wait_for_url("**/clinic/worklist")
    assert page.locator("ol.worklist > li", has_text=NAME).count() == 0
    assert worklist_count(page) == before
    page.goto("/clinic/worklist?resolved=true")
    assert "headache gone" in page.locator("ol.worklist > li", has_text=NAME).inner_text()
    logout(page)

    sign_in_as(page, username, password)
    assert_visible(page.get_by_text(DOSE))
    assert page.get_by_role("heading", name=re.compile("^Stop taking")).count() == 0

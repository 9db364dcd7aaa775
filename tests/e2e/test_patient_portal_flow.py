"""Browser tests of the patient's main tasks (the demo patient is Ana Moreau):
the home page at desktop and phone width (screenshots ``patient-home.png`` and
``patient-home-390.png``), a red-flag symptom report that shows the stop message
at once, and the PHQ-9 with its live total; axe-core on each page."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from isotrack.http.authz import Role
from isotrack.knowledge import default_knowledge
from isotrack.web.routes.patient_view import PHQ9_ANSWERS, PHQ9_QUESTIONS
from tests.e2e.conftest import LiveServer, assert_accessible, assert_visible, login, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

PHONE = 390


def test_patient_home_shows_the_schedule_and_dose_on_desktop_and_phone(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.PATIENT)
    assert_visible(page.get_by_role("heading", name="Hello, Ana"))
    assert_visible(page.get_by_role("heading", name="Next test"))
    assert_visible(page.get_by_role("heading", name="Next visit"))
    assert_visible(page.get_by_text("30 mg twice a day (60 mg a day)"))
    assert_accessible(page, context="patient home, desktop")
    screenshot(page, "patient-home")

    page.set_viewport_size({"width": PHONE, "height": 844})
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= PHONE, f"the page is {scroll_width} px wide at {PHONE} px"
    assert_accessible(page, context="patient home, 390 px")
    screenshot(page, "patient-home-390", width=PHONE)

    with page.expect_download() as download:
        page.get_by_role("link", name="Add to my calendar (.ics file)").click()
    assert download.value.suggested_filename == "isotrack-schedule.ics"


def test_a_red_flag_symptom_shows_the_stop_message_at_once(
    page: Page, live_server: LiveServer
) -> None:
    kb = default_knowledge()
    login(page, live_server, Role.PATIENT)
    page.get_by_role("link", name="Report a side effect").click()
    assert_accessible(page, context="symptom form")
    page.get_by_label(kb.symptom("severe-stomach-pain").text).check()
    page.get_by_label(kb.symptom("dry-lips").text).check()
    page.get_by_role("button", name="Send and see what to do").click()
    page.wait_for_url("**/me/symptoms/advice")

    alert = page.get_by_role("alert")
    assert_visible(alert)
    assert "Stop isotretinoin and get emergency care now." in alert.inner_text()
    top = alert.bounding_box()
    assert top is not None
    assert top["y"] < 300, "the stop message is the first thing on the page"
    assert_visible(page.get_by_text(kb.symptom("dry-lips").advice))
    assert_accessible(page, context="symptom advice, red flag")


def test_the_patient_fills_the_phq9_with_a_live_total(page: Page, live_server: LiveServer) -> None:
    login(page, live_server, Role.PATIENT)
    page.get_by_role("link", name="Mood questions (PHQ-9)").click()
    assert_accessible(page, context="PHQ-9 form")
    answers = [1, 1, 0, 2, 0, 0, 1, 0, 0]
    assert len(answers) == len(PHQ9_QUESTIONS)
    for number, (question, answer) in enumerate(zip(PHQ9_QUESTIONS, answers, strict=True), 1):
        group = page.get_by_role("group", name=f"{number}. {question}")
        group.get_by_label(PHQ9_ANSWERS[answer], exact=True).check()
    total = page.locator("#phq9-total")
    page.wait_for_function(
        "() => document.querySelector('#phq9-total').textContent.includes('9 of 9')"
    )
    assert f"Total: {sum(answers)} out of 27" in total.inner_text()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url("**/me/mood/result")
    assert page.get_by_role("heading", name="Thank you.").count() == 1
    assert page.get_by_role("alert").count() == 0
    assert_accessible(page, context="PHQ-9 result")


@pytest.mark.parametrize(
    ("link", "heading"),
    [
        ("Confirm your contraception", "Confirm your contraception"),
        ("This month's questions", "This month's questions"),
    ],
)
def test_the_other_patient_pages_are_accessible(
    page: Page, live_server: LiveServer, link: str, heading: str
) -> None:
    login(page, live_server, Role.PATIENT)
    page.get_by_role("link", name=link).click()
    assert_visible(page.get_by_role("heading", name=heading, level=1))
    assert_accessible(page, context=heading)
    page.set_viewport_size({"width": PHONE, "height": 844})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE

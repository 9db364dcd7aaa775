"""Browser tests of the prescriber's work (issue 7's acceptance): plan and
prescribe for a new patient end to end, see a critical finding block the order,
override a warning with a reason; axe-core on the dashboard, the patient page and
the prescribe form; the dashboard and patient-page screenshots."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

import pytest

from isotrack.http.authz import Role
from tests.e2e.conftest import LiveServer, assert_accessible, assert_visible, login, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

PHONE = 390


def open_patient(page: Page, name: str) -> None:
    page.goto("/clinic")
    with page.expect_navigation():
        page.get_by_role("link", name=name, exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == name


def test_the_dashboard_shows_what_needs_action_and_filters_in_place(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.PRESCRIBER)
    page.goto("/clinic")
    table = page.locator("#patient-table")
    assert "positive mood screen" in table.inner_text().lower()  # badges are upper case
    assert_accessible(page, context="the clinic dashboard")
    screenshot(page, "dashboard")
    screenshot(page, "dashboard-phone", width=PHONE)
    page.select_option("#field-need", "mood")  # htmx swaps the table in place
    page.wait_for_function(
        "() => document.querySelector('#patient-table').innerText.includes('Showing 2 of')"
    )
    assert "need=mood" in page.url
    names = table.locator("tbody th").all_inner_texts()
    assert sorted(names) == ["Dev Sharma", "Jonas Weber"]
    page.set_viewport_size({"width": PHONE, "height": 844})
    assert_accessible(page, context="the dashboard at 390 px")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE


def test_the_patient_page_draws_the_charts_against_their_thresholds(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.PRESCRIBER)
    open_patient(page, "Luca Costa")
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".every(c => c.dataset.chartDrawn === 'yes')"
    )
    charts = page.locator("canvas[data-chart]")
    # cumulative, triglycerides, ALT, weight, lesion counts, modelled drug levels
    assert charts.count() == 6
    assert_visible(page.locator("figcaption", has_text="Projected to reach the target on"))
    assert_visible(page.locator("figcaption", has_text="warning (LIPIDS-HIGH): 500 mg/dL"))
    assert_accessible(page, context="the patient page")
    screenshot(page, "patient-page")
    screenshot(page, "patient-page-phone", width=PHONE)
    page.set_viewport_size({"width": PHONE, "height": 844})
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert_accessible(page, context="the patient page at 390 px, every section open")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE


def test_a_new_patient_is_planned_and_prescribed_end_to_end(
    page: Page, live_server: LiveServer
) -> None:
    name = f"Noor Test {secrets.token_hex(2)}"
    login(page, live_server, Role.PRESCRIBER)
    page.goto("/clinic")
    with page.expect_navigation():
        page.get_by_role("link", name="Enrol a new patient").click()
    assert_accessible(page, context="the enrol form")
    page.fill("#field-name", name)
    page.fill("#field-birth_date", "2001-04-05")
    page.select_option("#field-sex", "male")
    assert not page.is_checked("#field-counselled")  # an attestation is an act (issue 13)
    page.check("#field-counselled")
    with page.expect_navigation():
        page.get_by_role("button", name="Enrol").click()
    assert page.get_by_role("heading", level=1).inner_text() == name

    page.locator("details.record-form > summary", has_text=re.compile("^Weight$")).click()
    page.fill("#weight-value", "72")
    with page.expect_navigation():
        page.get_by_role("button", name="Save weight").click()
    assert_visible(page.get_by_text("Weight recorded."))

    with page.expect_navigation():
        page.get_by_role("link", name="Plan and prescribe").click()
    page.select_option("#field-product", "absorica")
    with page.expect_navigation():
        page.get_by_role("button", name="Plan the dose").click()
    planner = page.locator(".planner")
    assert "The planner suggests" in planner.inner_text()
    assert page.input_value("#field-morning_mg") == "35"  # 70 mg/day at 72 kg: 35 mg twice
    assert page.input_value("#field-evening_mg") == "35"
    warning = page.locator("article.finding--warning", has_text="no triglycerides and ALT")
    assert_visible(warning)
    assert_accessible(page, context="the prescribe form")

    # The warning needs a reason: override it in the form, then confirm.
    warning.get_by_label("Already addressed", exact=False).check()
    page.fill("#override-note-BASELINE-LABS-MISSING", "fasting labs drawn this morning")
    page.locator("details.confirm > summary", has_text="Prescribe").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, prescribe").click()
    assert_visible(page.get_by_text(re.compile(r"Prescription rx-[0-9a-f]+ stored")))
    timeline = page.locator("ol.timeline").inner_text()
    assert "Course rx-" in timeline
    assert "Finding BASELINE-LABS-MISSING overridden: Already addressed" in timeline
    assert "Prescription rx-" in timeline


def test_a_critical_finding_blocks_the_order(page: Page, live_server: LiveServer) -> None:
    login(page, live_server, Role.PRESCRIBER)
    open_patient(page, "Iris Novak")
    with page.expect_navigation():
        page.get_by_role("link", name="Prescribe", exact=True).click()
    blocked = page.get_by_text("Blocked:")
    assert_visible(blocked)  # her start tests are not documented (PPP-START-TESTS)
    assert page.locator("article.finding--critical").count() >= 1
    assert page.get_by_role("button", name="Yes, prescribe").count() == 0

    # Live screening: a dose above the absolute maximum blocks another patient's order.
    open_patient(page, "Grace Kim")
    with page.expect_navigation():
        page.get_by_role("link", name="Prescribe", exact=True).click()
    assert page.get_by_text("Blocked:").count() == 0
    page.fill("#field-morning_mg", "100")
    page.fill("#field-evening_mg", "100")
    page.locator("#field-supply_days").focus()  # the change is screened via htmx
    page.get_by_text("Blocked:").wait_for()
    assert "DOSE-ABOVE-RANGE" in (
        page.locator("#screening article.finding--critical").text_content() or ""
    )
    assert page.get_by_role("button", name="Yes, prescribe").count() == 0


def test_a_warning_is_overridden_with_a_reason_on_the_patient_page(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.PRESCRIBER)
    open_patient(page, "Dev Sharma")
    card = page.locator("article.finding", has_text="PHQ-9 12")
    card.get_by_text("Override with a reason").click()
    card.get_by_label("Already addressed", exact=False).check()
    card.locator("textarea").fill("Seen today; referred to the mood clinic")
    card.locator("details.confirm > summary").click()
    with page.expect_navigation():
        card.get_by_role("button", name="Yes, override").click()
    assert_visible(page.locator(".flash", has_text="MOOD-PHQ9-POSITIVE overridden"))
    card = page.locator("article.finding", has_text="PHQ-9 12")
    assert "referred to the mood clinic" in card.locator(".override-note").inner_text()


def test_a_nurse_records_a_lab_result_and_sees_no_prescribing(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.NURSE)
    open_patient(page, "Carlos Mendes")
    assert page.get_by_role("link", name="Prescribe").count() == 0
    assert page.get_by_text("Override with a reason").count() == 0
    page.locator("details.record-form > summary", has_text="Lab result").click()
    page.select_option("#lab-analyte", "alt")
    page.fill("#lab-value", "-3")
    with page.expect_navigation():
        page.get_by_role("button", name="Save lab result").click()
    error = page.locator("#lab-value-error")
    assert_visible(error)  # refused next to its field; the form stays open
    page.fill("#lab-value", "31")
    with page.expect_navigation():
        page.get_by_role("button", name="Save lab result").click()
    assert_visible(page.locator(".flash", has_text="Lab result recorded."))
    assert "ALT 31 U/L" in page.locator("ol.timeline").inner_text()

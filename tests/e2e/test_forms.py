"""Browser tests of the forms every page shares (issue 13, points 5 and 6).

- Every attestation is an explicit act: on every form of every role, nothing is
  ticked or chosen for the user (no checked checkbox or radio button that can be
  changed, no pregnancy-test result, setting or contraception start/stop chosen).
- A refused value (a weight of −5) gives an error summary at the top, focused,
  linking to the field; the address stays the page's; what was typed is kept.
  No error is shown before the user acts (a new patient's prescribe page).

axe-core on each state; the screenshots ``form-error-summary.png`` and
``enrol-error-summary.png``.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

import pytest

from isotrack.http.authz import Role
from tests.e2e.conftest import (
    LiveServer,
    assert_accessible,
    assert_visible,
    login,
    logout,
    screenshot,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

PRE_TICKED = (
    "input[type=checkbox]:checked:not([disabled]), input[type=radio]:checked:not([disabled])"
)
ATTESTING_SELECTS = ("result", "setting", "action")
"""Selects whose choice states a clinical fact: none may start on an answer."""


def chosen_for_the_user(page: Page) -> list[str]:
    """What a form on the page has ticked or chosen before the user acted."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    found = [
        f"{page.url}: {element.get_attribute('id') or element.get_attribute('name')} ticked"
        for element in page.locator(f"form :is({PRE_TICKED})").all()
    ]
    for name in ATTESTING_SELECTS:
        for select in page.locator(f"form select[name={name}]").all():
            if select.input_value():
                found.append(f"{page.url}: {select.get_attribute('id')} starts on an answer")
    return found


def patient_pages(page: Page) -> list[str]:
    page.goto("/clinic")
    hrefs = page.locator("#patient-table tbody a").evaluate_all("links => links.map(a => a.href)")
    return sorted({h for h in hrefs if "/clinic/patients/" in h})


def test_no_form_ticks_or_chooses_anything_for_the_user(
    page: Page, live_server: LiveServer
) -> None:
    found: list[str] = []
    login(page, live_server, Role.PRESCRIBER)
    patients = patient_pages(page)
    assert len(patients) >= 13
    for url in ["/clinic/patients/new", *patients, *(p + "/prescribe" for p in patients[:4])]:
        page.goto(url)
        found += chosen_for_the_user(page)
    logout(page)
    login(page, live_server, Role.PHARMACIST)
    for url in patients:
        page.goto(url.replace("/clinic/", "/pharmacy/"))
        found += chosen_for_the_user(page)
    logout(page)
    login(page, live_server, Role.PATIENT)
    for url in ("/me", "/me/contraception", "/me/symptoms", "/me/mood", "/me/questions"):
        page.goto(url)
        found += chosen_for_the_user(page)
    logout(page)
    page.goto("/login")
    found += chosen_for_the_user(page)
    assert not found, "\n".join(found)


def test_a_refused_weight_is_summarised_at_the_top_and_kept(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.PRESCRIBER)
    patient = next(p for p in patient_pages(page) if p.endswith("/demo-ben"))
    page.goto(patient)
    address = page.url
    page.locator("details.record-form > summary", has_text="Weight").first.click()
    page.fill("#weight-value", "-5")
    with page.expect_navigation():
        page.get_by_role("button", name="Save weight").click()

    summary = page.locator("[data-error-summary]")
    assert_visible(summary)
    assert "nothing was saved" in summary.inner_text()
    page.wait_for_function("() => document.activeElement?.id === 'error-summary'")
    assert page.url == address  # the address of the page, not of the form's target
    assert page.input_value("#weight-value") == "-5"
    assert page.locator("#weight-value").get_attribute("aria-invalid") == "true"
    assert_accessible(page, context="patient page with a refused weight")
    screenshot(page, "form-error-summary")
    summary.get_by_role("link").first.click()
    page.wait_for_function("() => document.activeElement?.id === 'weight-value'")
    assert "Weight recorded" not in page.content()


def test_no_error_before_the_user_acts_and_a_summary_after(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.PRESCRIBER)
    page.goto("/clinic/patients/new")
    assert page.locator("[data-error-summary], .field-error").count() == 0
    name = f"Noor Forms {secrets.token_hex(2)}"
    page.fill("#field-name", name)
    with page.expect_navigation():
        page.get_by_role("button", name="Enrol").click()
    assert page.url.endswith("/clinic/patients/new")
    summary = page.locator("[data-error-summary]")
    assert "Enter the date of birth" in summary.inner_text()
    page.wait_for_function("() => document.activeElement?.id === 'error-summary'")
    assert page.input_value("#field-name") == name
    assert_accessible(page, context="enrol form with errors")
    screenshot(page, "enrol-error-summary")
    summary.get_by_role("link", name="Enter the date of birth.").click()
    page.wait_for_function("() => document.activeElement?.id === 'field-birth_date'")

    page.fill("#field-birth_date", "2002-06-01")
    page.select_option("#field-sex", "female")
    page.check("#field-counselled")
    with page.expect_navigation():
        page.get_by_role("button", name="Enrol").click()
    assert page.get_by_role("heading", level=1).inner_text() == name
    # No weight yet, so no planned dose: the prescribe page opens without any error.
    with page.expect_navigation():
        page.get_by_role("link", name="Plan and prescribe").click()
    assert page.locator("[data-error-summary], .field-error").count() == 0
    assert "Not ready" not in page.locator("#screening").inner_text()
    assert_accessible(page, context="prescribe form, just opened")
